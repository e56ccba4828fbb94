/**
 * Memory and process limits of the tier's containers (config key `limits`), with the defaults
 * a stack gets when it sets none.
 *
 * Memory: the container's `memory` and `memorySwap` (the same value: no swap, so a leak ends in
 * the kernel's OOM killer inside the container instead of a host that swaps itself to a halt).
 * Postgres' default follows its own settings: shared_buffers, plus per allowed connection
 * work_mem (PostgreSQL's default 4MB) and about 2MB of a backend's own memory, plus 256MB for
 * the postmaster, autovacuum (maintenance_work_mem 64MB per worker) and the page cache a
 * checkpoint needs, rounded up to 64MB.
 *
 * Processes: the Docker provider has no pids limit (terraform-provider-docker's container has
 * no pids_limit), so the limit is RLIMIT_NPROC (`ulimit nproc`). The kernel counts it per user
 * id on the whole host, not per container: every task of uid 999 (postgres, pgBouncer and the
 * jobs of every cluster on that Docker host) counts against the limit of whichever container
 * forks. So the limits are ordered: Postgres, which must always be able to start a backend,
 * has the highest; pgBouncer, which never forks, the lowest. A fork bomb in pgBouncer or a job
 * then stops at its own limit while Postgres can still fork (test/docker: the fork bomb).
 */
import { memoryBytes } from "./memory";

const MB = 1024 * 1024;

/** Defaults of the containers whose limits do not depend on other settings. */
export const DEFAULT_LIMITS = {
    pgbouncer: { memoryMB: 256, pids: 1024 },
    jobs: { memoryMB: 1024, pids: 2048 },
    objectStore: { memoryMB: 1024, pids: 1024 },
} as const;

/** Postgres' process limit: above every other container's, so their forks never starve it. */
export const POSTGRES_DEFAULT_PIDS = 4096;

/** shared_buffers in MB (a bare number counts 8 kB blocks, as PostgreSQL reads it). */
function sharedBuffersMB(sharedBuffers: string): number {
    return Math.ceil((memoryBytes(sharedBuffers, 8192) ?? 128 * MB) / MB);
}

/** The default memory limit of a Postgres container, in MB. */
export function postgresDefaultMemoryMB(sharedBuffers: string, maxConnections: number): number {
    const mb = sharedBuffersMB(sharedBuffers) + maxConnections * 6 + 256;
    return Math.ceil(mb / 64) * 64;
}

/** The least memory Postgres is given: shared_buffers and 128MB for everything else. */
export function postgresMinimumMemoryMB(sharedBuffers: string): number {
    return sharedBuffersMB(sharedBuffers) + 128;
}

/** Postgres' least process limit: every allowed connection and the server's own 64 processes. */
export function postgresMinimumPids(maxConnections: number): number {
    return maxConnections + 64;
}
