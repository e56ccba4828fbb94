/**
 * The memory and process limits each of a cluster's containers gets, from the validated
 * `limits` and Postgres settings (config/rules/container-limits.ts: the defaults and how the
 * limits apply). Containers only: the loopback tier runs its processes without them.
 */
import type { z } from "zod";
import { postgresDefaultMemoryMB } from "../config/rules/container-limits";
import type { PostgresConfig, tierLimitsSchema } from "../config/schema";

export interface ContainerLimits {
    /** Memory limit in MB; the container's memorySwap is the same (no swap). */
    readonly memoryMB: number;
    /** RLIMIT_NPROC of the container's processes. */
    readonly pids: number;
}

export interface ClusterContainerLimits {
    readonly postgres: ContainerLimits;
    readonly pgbouncer: ContainerLimits;
    /** Each of the backup job, restore drill, provisioner and WAL receiver. */
    readonly jobs: ContainerLimits;
}

export function planContainerLimits(limits: z.output<typeof tierLimitsSchema>, postgres: PostgresConfig): ClusterContainerLimits {
    return {
        postgres: {
            memoryMB: limits.postgres.memoryMB ?? postgresDefaultMemoryMB(postgres.sharedBuffers, postgres.maxConnections),
            pids: limits.postgres.pids,
        },
        pgbouncer: limits.pgbouncer,
        jobs: limits.jobs,
    };
}
