/**
 * Where a tier runs: the paths, hosts and ports its processes use. A placement is the only
 * thing the containers (components/) and the loopback tier (local/) do not share; every
 * parameter besides it comes from the plan. The parity test substitutes exactly these values.
 */
import { CONTAINER_PATHS, PGBOUNCER_PORT, POSTGRES_PORT } from "../vocabulary";

/** Postgres: where it listens, where its files are, how the other processes reach it. */
export interface PostgresPlacement {
    /**
     * listen_addresses. In a container: its `db-only` name (the alias only that network gives
     * it, so Postgres binds to its db-only address alone) and 127.0.0.1 for the health check;
     * never `*`, which would also listen on its backup-egress address, where the object store
     * and the drill could try passwords. On loopback: 127.0.0.1.
     */
    readonly listenAddresses: string;
    /** The port Postgres listens on and the others connect to. */
    readonly port: number;
    /**
     * CIDRs the tier's TCP clients connect from, where the placement knows them (loopback:
     * 127.0.0.1/32). Absent in containers: there it is the db-only network's subnet, which
     * exists only once the engine created the network (components/postgres-server.ts).
     */
    readonly clientNetworks?: readonly string[];
    /** Host name or address the pooler, the backup job and the WAL receiver connect to. */
    readonly host: string;
    readonly hbaFile: string;
    readonly identFile: string;
    /** Unix socket directory; `""` turns the socket off (the loopback tier has none). */
    readonly socketDir: string;
    /** PGDATA. */
    readonly dataDir: string;
    readonly walgBinary: string;
    readonly walgEnvFile: string;
    /** Server certificate and key, used when the stack's sslmode is not `disable`. */
    readonly tlsCertFile: string;
    readonly tlsKeyFile: string;
}

export interface PgbouncerPlacement {
    readonly listenAddr: string;
    readonly port: number;
    readonly authFile: string;
    /** pgBouncer's own log and pid file: loopback only (a container logs to stderr). */
    readonly logFile?: string;
    readonly pidFile?: string;
    readonly tlsCertFile: string;
    readonly tlsKeyFile: string;
}

export interface JobsPlacement {
    /** The backup job's pgpass file (root's password; never the password itself in the config). */
    readonly pgpassFile: string;
    /** Directory of postgres, pg_ctl, psql, pg_amcheck for the drill's throwaway instance. */
    readonly pgBinDir: string;
    readonly drillScratch: string;
    /** OS user the drill's throwaway instance runs as (loopback tier run as root). */
    readonly drillRunAsUser?: string;
    /** psql as the WAL receiver loop calls it. */
    readonly psqlBinary: string;
    /** The WAL receiver's libpq password file. */
    readonly walReceiverPassfile: string;
}

/** The S3 endpoint as the tier's processes reach it, and the region they sign with. */
export interface StoragePlacement {
    readonly endpoint: string;
    readonly region: string;
}

export interface Placement {
    readonly postgres: PostgresPlacement;
    readonly pgbouncer: PgbouncerPlacement;
    readonly jobs: JobsPlacement;
    readonly storage: StoragePlacement;
}

/** Where the containers keep the compiled job runner (the images build it there). */
export const CONTAINER_JOB_RUNNER = "/opt/db-tier/bin/jobs/scheduler.js";
/** The drill's scratch volume inside its container. */
export const CONTAINER_DRILL_SCRATCH = "/var/lib/db-tier-drill";
/** Where the WAL receiver's libpq password file is uploaded. */
export const CONTAINER_WAL_RECEIVER_PGPASS = "/run/db-tier/wal-receiver.pgpass";

/** Postgres' name on its cluster's db-only network (an alias only that network gives it). */
export const CONTAINER_POSTGRES_HOST = "postgres";

/** The containers' placement: fixed paths (CONTAINER_PATHS), Docker host names, the standard ports. */
export function containerPlacement(storage: StoragePlacement): Placement {
    return {
        postgres: {
            listenAddresses: `${CONTAINER_POSTGRES_HOST},127.0.0.1`,
            port: POSTGRES_PORT,
            host: CONTAINER_POSTGRES_HOST,
            hbaFile: CONTAINER_PATHS.pgHba,
            identFile: CONTAINER_PATHS.pgIdent,
            socketDir: CONTAINER_PATHS.socketDir,
            dataDir: `${CONTAINER_PATHS.pgData}/pgdata`,
            walgBinary: CONTAINER_PATHS.walg,
            walgEnvFile: CONTAINER_PATHS.walgEnv,
            tlsCertFile: "/etc/postgresql/tls.crt",
            tlsKeyFile: "/etc/postgresql/tls.key",
        },
        pgbouncer: {
            listenAddr: "*",
            port: PGBOUNCER_PORT,
            authFile: CONTAINER_PATHS.pgbouncerAuthFile,
            tlsCertFile: "/etc/pgbouncer/tls.crt",
            tlsKeyFile: "/etc/pgbouncer/tls.key",
        },
        jobs: {
            pgpassFile: CONTAINER_PATHS.pgpass,
            pgBinDir: "/usr/lib/postgresql/15/bin",
            drillScratch: CONTAINER_DRILL_SCRATCH,
            psqlBinary: "psql",
            walReceiverPassfile: CONTAINER_WAL_RECEIVER_PGPASS,
        },
        storage,
    };
}
