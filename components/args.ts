/**
 * The arguments of DatabaseTier as documented interfaces (not zod aliases, so the component
 * can later be offered to other languages). config/component-args.ts validates them.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { StorageProvider } from "../render/lifecycle";

export interface ClusterArgs {
    /** Cluster name (DNS label); part of container, network and volume names and the backup prefix. */
    readonly name: string;
    /** Databases to create; the first is the application database. Default `["app"]`. */
    readonly databases?: string[];
    /** Root (superuser) role, provisioning only. Default `postgres`. */
    readonly rootUser?: string;
}

export interface RetentionArgs {
    /** Newest daily base backups kept. Default 7. */
    readonly daily?: number;
    /** Newest weekly base backups kept. Default 4. */
    readonly weekly?: number;
    /** Days of point-in-time recovery. Default 30. */
    readonly walDays?: number;
}

export interface BackupArgs {
    /** Base-backup schedule, 5-field cron in UTC. Default `0 2 * * *`. */
    readonly schedule?: string;
    /** RPO in seconds (archive_timeout), 1-300. Default 60. */
    readonly rpoSeconds?: number;
    /** Bound on one wal-push in seconds. Default 120. */
    readonly archivePushTimeoutSeconds?: number;
    /** zstd (default), lz4 or lzma: the codecs of the pinned WAL-G v3.0.9 build (figures: docs/benchmarks.md). */
    readonly compression?: "lz4" | "zstd" | "lzma";
    /**
     * Stream WAL with `wal-g wal-receive` (its own container, replication role and slot) on top
     * of archive_command: RPO of seconds instead of archive_timeout. Default false.
     */
    readonly walStreaming?: boolean;
    readonly uploadConcurrency?: number;
    readonly downloadConcurrency?: number;
    readonly retention?: RetentionArgs;
    /** Lifecycle safety net for backup objects, days; beyond the retention window. Default 90. */
    readonly safetyNetDays?: number;
    /** Days restore-drill evidence is kept. Default 400. */
    readonly evidenceDays?: number;
}

export interface DrillArgs {
    /** Restore-drill schedule, 5-field cron in UTC, at least monthly. Default `0 4 1 * *`. */
    readonly schedule?: string;
    /** RTO budget in seconds. Default 3600. */
    readonly rtoSeconds?: number;
    /** Database the checks run in. Default: the cluster's first database. */
    readonly database?: string;
    /** Schema-version query. Default: Drizzle's migrations table when it exists. */
    readonly schemaQuery?: string;
    /** Tables whose row counts the evidence records. */
    readonly tables?: string[];
    /** Lower bounds on row counts. */
    readonly minRows?: Record<string, number>;
    /** pg_amcheck over the restored copy: `off`, `heap-and-btree` or `heapallindexed`. Default `heapallindexed`. */
    readonly amcheck?: string;
    /** Schedule of the drill that restores the oldest promised point, 5-field cron in UTC. Default `0 5 15 * *`. */
    readonly oldestPointSchedule?: string;
}

export interface PgbouncerArgs {
    /** Server connections per database and user. Default 20. */
    readonly defaultPoolSize?: number;
    /** Client connections accepted. Default 1000. */
    readonly maxClientConn?: number;
    /** Publish 6432 on the host at hostBindAddress with this port. Off by default. */
    readonly publishPort?: number;
    /** Image reference instead of building images/pgbouncer. */
    readonly image?: string;
}

export interface PostgresArgs {
    /** Image reference instead of building images/postgres. */
    readonly image?: string;
    /** Default 200; must hold every pgBouncer pool plus 10 (config/rules/pool-budget.ts). */
    readonly maxConnections?: number;
    /** Default `128MB`. */
    readonly sharedBuffers?: string;
}

export interface TierStorageArgs {
    /** `minio`, `r2` or `b2`. */
    readonly provider: StorageProvider;
    /** The bucket (see BackupBucket). */
    readonly bucketName: string;
    /** S3 endpoint as reached from the containers. */
    readonly endpoint: string;
    /** Region (`auto` on R2). */
    readonly region: string;
    /** Storage credentials (secrets). */
    readonly accessKeyId: pulumi.Input<string>;
    readonly secretAccessKey: pulumi.Input<string>;
}

export interface TierImageArgs {
    /** Postgres 15 + WAL-G + job runner image reference. */
    readonly postgres: pulumi.Input<string>;
    /** pgBouncer 1.18 image reference. */
    readonly pgbouncer: pulumi.Input<string>;
}

export interface TlsArgs {
    /** PEM certificate pgBouncer presents to clients. */
    readonly certPem: pulumi.Input<string>;
    /** PEM private key (secret). */
    readonly keyPem: pulumi.Input<string>;
}
