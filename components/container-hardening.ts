/**
 * What every tier container sets so that code running in it (a compromised pgBouncer, an
 * extension gone wrong, a job's dependency) gets as little as possible: all capabilities
 * dropped and only the documented ones added back (vocabulary.ts ADDED_CAPABILITIES, the
 * reasons in docs/SECURITY.md), no new privileges through setuid binaries or file
 * capabilities, and memory and process limits (plan/container-limits.ts).
 *
 * Not yet: a read-only root filesystem. The Docker provider uploads every file with one copy
 * to the container's `/` (terraform-provider-docker, resourceDockerContainerCreate), and the
 * engine refuses any copy into a container with a read-only rootfs unless the destination is
 * inside a volume ("container rootfs is marked read-only", moby daemon/archive.go); `/` never is.
 */
import type * as docker from "@pulumi/docker";
import type { ContainerLimits } from "../plan/container-limits";
import { ADDED_CAPABILITIES, type ContainerRole, NO_NEW_PRIVILEGES } from "../vocabulary";

export type HardeningArgs = Pick<docker.ContainerArgs, "capabilities" | "securityOpts" | "memory" | "memorySwap" | "ulimits">;

/**
 * The hardening inputs of a container of `role`, to spread into its arguments. `ulimits` are
 * the container's own (e.g. pgBouncer's nofile); the process limit is added to them.
 */
export function hardening(role: ContainerRole, limits: ContainerLimits, ulimits: docker.types.input.ContainerUlimit[] = []): HardeningArgs {
    const adds = ADDED_CAPABILITIES[role];
    return {
        capabilities: adds.length > 0 ? { drops: ["ALL"], adds: [...adds] } : { drops: ["ALL"] },
        securityOpts: [NO_NEW_PRIVILEGES],
        memory: limits.memoryMB,
        memorySwap: limits.memoryMB,
        ulimits: [...ulimits, { name: "nproc", soft: limits.pids, hard: limits.pids }],
    };
}
