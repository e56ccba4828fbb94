/**
 * The arguments of DatabaseTier, derived from the zod schemas that validate them
 * (config/schema.ts, config/component-args.ts), so a field, its type and its optionality are
 * written once. What each field means, its default, limits and the error a mistake gets:
 * the `.describe()` of the field in config/schema.ts, printed in docs/configuration.md.
 * Values that are Pulumi inputs (secrets, image references, certificates) are not validated
 * by zod and keep hand-written types here.
 */
import type * as pulumi from "@pulumi/pulumi";
import type { z } from "zod";
import type { tierStorageSchema } from "../config/component-args";
import type {
    backupSchema,
    clusterSchema,
    drillSchema,
    pgbouncerSchema,
    postgresSchema,
    retentionSchema,
    tierLimitsSchema,
} from "../config/schema";

/** Plain values as the component accepts them: read-only at every level (lists stay plain arrays). */
export type ReadonlyArgs<T> = T extends readonly unknown[] ? T : T extends object ? { readonly [K in keyof T]: ReadonlyArgs<T[K]> } : T;

/** What a user may write for a schema with defaults (`z.input`), minus the `undefined` of an omitted section. */
type ArgsOf<S extends z.ZodTypeAny> = ReadonlyArgs<NonNullable<z.input<S>>>;

/** One Postgres cluster: `name` (DNS label), `databases` (default `[app]`, the first is the application's), `rootUser`. */
export type ClusterArgs = ArgsOf<typeof clusterSchema>;

/** Base backups kept and the point-in-time window: `daily` (7), `weekly` (4), `walDays` (30). */
export type RetentionArgs = ArgsOf<typeof retentionSchema>;

/** Backups: schedule, RPO (archive_timeout), codec, WAL streaming, concurrency, retention, lifecycle expiries. */
export type BackupArgs = ArgsOf<typeof backupSchema>;

/** The restore drill: schedules (at least monthly), RTO budget, the checks on the restored copy. */
export type DrillArgs = ArgsOf<typeof drillSchema>;

/** pgBouncer: pool sizes, session reset, an optional published port, the image. */
export type PgbouncerArgs = ArgsOf<typeof pgbouncerSchema>;

/** Postgres: max_connections (must hold every pgBouncer pool plus 10), shared_buffers, the image. */
export type PostgresArgs = ArgsOf<typeof postgresSchema>;

/** Memory (MB, no swap) and process limits of `postgres`, `pgbouncer` and the `jobs` containers. */
export type LimitsArgs = ArgsOf<typeof tierLimitsSchema>;

/** Object storage as the containers reach it; the credentials are secrets (Pulumi inputs). */
export type TierStorageArgs = Omit<ArgsOf<typeof tierStorageSchema>, "accessKeyId" | "secretAccessKey"> & {
    /** Storage credentials (secrets). */
    readonly accessKeyId: pulumi.Input<string>;
    readonly secretAccessKey: pulumi.Input<string>;
};

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
