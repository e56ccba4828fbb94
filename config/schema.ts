/**
 * The one place a value is validated. The stack program, the components and the local tier
 * all parse their input through these schemas, so a bad value fails before any resource or
 * process exists, with a message that names the key and what is allowed.
 */
import { z } from "zod";
import { CronError, longestGapDays, parseCron } from "../render/cron";
import { MAX_RPO_SECONDS, MIN_SECRET_LENGTH } from "../vocabulary";

export const STORAGE_PROVIDERS = ["minio", "r2", "b2"] as const;
/** What the pinned WAL-G (v1.1.1, see scripts/install-tools.sh) can compress with. */
export const COMPRESSION_METHODS = ["lz4", "lzma"] as const;
export const SSL_MODES = ["disable", "prefer", "require", "verify-ca", "verify-full"] as const;

/** A lowercase DNS label: safe in container, network, volume and object-key names. */
export const dnsLabel = z
    .string({ required_error: "is required", invalid_type_error: "must be a string" })
    .regex(/^[a-z][a-z0-9-]{0,30}[a-z0-9]$|^[a-z]$/, {
        message: "must be 1-32 characters of a-z, 0-9 and '-', starting with a letter and not ending with '-'",
    });

/** A PostgreSQL identifier we never need to quote (database and role names). */
export const sqlName = z
    .string({ required_error: "is required", invalid_type_error: "must be a string" })
    .regex(/^[a-z_][a-z0-9_]{0,62}$/, {
        message: "must be 1-63 characters of a-z, 0-9 and '_', not starting with a digit",
    });

export const port = z
    .number({ invalid_type_error: "must be a number" })
    .int("must be an integer")
    .min(1, "must be a port between 1 and 65535")
    .max(65535, "must be a port between 1 and 65535");

export const cron = z.string({ invalid_type_error: "must be a cron string" }).superRefine((value, ctx) => {
    try {
        parseCron(value);
    } catch (e) {
        if (!(e instanceof CronError)) throw e;
        ctx.addIssue({ code: z.ZodIssueCode.custom, message: `is not a valid UTC cron schedule: ${e.message}` });
    }
});

export const httpUrl = z
    .string({ invalid_type_error: "must be a URL string" })
    .superRefine((value, ctx) => {
        let url: URL;
        try {
            url = new URL(value);
        } catch {
            ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be an http(s) URL like https://host[:port] (got "${value}")` });
            return;
        }
        if (!["http:", "https:"].includes(url.protocol) || !url.hostname || url.pathname.replace(/\/$/, "") !== "" || url.search) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, message: `must be an http(s) URL like https://host[:port] with no path (got "${value}")` });
        }
    });

/** S3 bucket naming rules, which R2, B2 and MinIO all enforce. */
export const bucketName = z
    .string({ required_error: "is required", invalid_type_error: "must be a string" })
    .regex(/^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/, {
        message: "must be 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit",
    })
    .refine((v) => !/\.\.|^\d+\.\d+\.\d+\.\d+$/.test(v), { message: "must not contain '..' or look like an IP address" });

export const retentionSchema = z
    .object({
        /** Newest daily base backups kept. */
        daily: z.number().int().min(1, "must keep at least 1 daily backup").max(90).default(7),
        /** Newest weekly base backups kept (the oldest backup of each ISO week). */
        weekly: z.number().int().min(0).max(52).default(4),
        /** Days of point-in-time recovery: WAL and a base backup at or before this age are kept. */
        walDays: z.number().int().min(1, "must be at least 1 day").max(3650).default(30),
    })
    .strict()
    .default({});

export const backupSchema = z
    .object({
        /** When base backups run (5-field cron, UTC). */
        schedule: cron.default("0 2 * * *"),
        /** Recovery point objective in seconds: becomes archive_timeout. */
        rpoSeconds: z
            .number({ invalid_type_error: "must be a number of seconds" })
            .int("must be an integer")
            .min(1, `must be between 1 and ${MAX_RPO_SECONDS} seconds`)
            .max(MAX_RPO_SECONDS, `must be between 1 and ${MAX_RPO_SECONDS} seconds`)
            .default(60),
        /** Bound on one wal-push; a hung push (wal-g issue 2550) is killed and retried by Postgres. */
        archivePushTimeoutSeconds: z.number().int().min(5).max(3600).default(120),
        compression: z.enum(COMPRESSION_METHODS).default("lz4"),
        uploadConcurrency: z.number().int().min(1).max(64).default(4),
        downloadConcurrency: z.number().int().min(1).max(64).default(4),
        retention: retentionSchema,
        /**
         * Days after which the bucket's lifecycle rule removes backup objects that WAL-G's own
         * retention failed to delete. Must lie well beyond what retention needs.
         */
        safetyNetDays: z.number().int().min(1).max(3650).default(90),
        /** Days restore-drill evidence is kept. */
        evidenceDays: z.number().int().min(1).max(3650).default(400),
    })
    .strict()
    .default({});

export const drillSchema = z
    .object({
        /** When the restore drill runs (5-field cron, UTC); at least monthly. */
        schedule: cron.default("0 4 1 * *"),
        /** RTO budget: a restore that takes longer fails the drill. */
        rtoSeconds: z.number().int().min(60).max(86_400).default(3600),
        /** Database the checks run in (default: the cluster's first database). */
        database: sqlName.optional(),
        /** Schema-version query; by default Drizzle's migrations table when it exists. */
        schemaQuery: z.string().min(1).optional(),
        /** Tables whose row counts the evidence records (schema.table or table). */
        tables: z.array(z.string().regex(/^[a-z_][a-z0-9_]*(\.[a-z_][a-z0-9_]*)?$/, "must be table or schema.table in lowercase")).default([]),
        /** Optional lower bounds on row counts, table name to minimum. */
        minRows: z.record(z.number().int().min(0)).default({}),
    })
    .strict()
    .default({});

export const pgbouncerSchema = z
    .object({
        /** Server connections per (database, user) pair. */
        defaultPoolSize: z.number().int().min(1).max(1000).default(20),
        /** Client connections pgBouncer accepts. */
        maxClientConn: z.number().int().min(1).max(100_000).default(1000),
        /** Publish 6432 on the host at hostBindAddress (for apps outside Docker); off by default. */
        publishPort: port.optional(),
        /** Image reference; by default the Debian-built image of images/pgbouncer. */
        image: z.string().min(1).optional(),
    })
    .strict()
    .default({});

export const postgresSchema = z
    .object({
        /** Image reference; by default the image built from images/postgres. */
        image: z.string().min(1).optional(),
        maxConnections: z.number().int().min(10).max(10_000).default(100),
        sharedBuffers: z.string().regex(/^\d+(kB|MB|GB)$/, "must be like 128MB").default("128MB"),
    })
    .strict()
    .default({});

export const clusterSchema = z
    .object({
        /** Cluster name; part of every container, volume, network name and backup prefix. */
        name: dnsLabel,
        /** Databases to create; the first is the application database. */
        databases: z.array(sqlName).min(1, "must name at least one database").default(["app"]),
        /** Root (superuser) role name; provisioning only, never in an application DSN. */
        rootUser: sqlName.default("postgres"),
    })
    .strict();

export const storageSchema = z
    .object({
        provider: z.enum(STORAGE_PROVIDERS, {
            errorMap: () => ({ message: `must be one of ${STORAGE_PROVIDERS.join(", ")}` }),
        }),
        bucket: bucketName,
        /** S3 endpoint WAL-G uses (for the embedded MinIO: its in-network address). */
        endpoint: httpUrl.optional(),
        /** S3 endpoint Pulumi uses to manage the bucket, when it differs from `endpoint`. */
        apiEndpoint: httpUrl.optional(),
        region: z.string().regex(/^[a-z0-9-]+$/, "must be a region like auto, us-east-1 or us-west-004").optional(),
        /** minio only: run MinIO as the tier's object-store container. */
        embedded: z.boolean().default(false),
        /** Host port of the embedded MinIO's S3 API, bound to hostBindAddress. */
        embeddedPort: port.default(19000),
    })
    .strict()
    .superRefine((s, ctx) => {
        if (s.provider !== "minio" && s.embedded) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["embedded"], message: "is only allowed with provider minio" });
        }
        if (!s.embedded && !s.endpoint) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["endpoint"], message: `is required for provider ${s.provider} unless embedded` });
        }
        if (s.provider === "r2" && s.endpoint && !/\.r2\.cloudflarestorage\.com$/.test(new URL(s.endpoint).hostname)) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["endpoint"], message: "must be https://<account>.r2.cloudflarestorage.com for provider r2" });
        }
        if (s.provider === "b2" && s.endpoint && !/^s3\.[a-z0-9-]+\.backblazeb2\.com$/.test(new URL(s.endpoint).hostname)) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["endpoint"], message: "must be https://s3.<region>.backblazeb2.com for provider b2" });
        }
        if (s.provider === "r2" && s.region !== undefined && s.region !== "auto") {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["region"], message: "must be auto for provider r2" });
        }
    });

export const tierConfigSchema = z
    .object({
        /** Environment name: part of names and of the backup prefix. */
        environment: dnsLabel,
        /** Docker host: unix:///var/run/docker.sock locally, ssh://user@host for remote stacks. */
        dockerHost: z
            .string()
            .regex(/^(unix:\/\/\/\S+|ssh:\/\/[A-Za-z0-9._-]+@[A-Za-z0-9.-]+(:\d+)?|tcp:\/\/[A-Za-z0-9.-]+:\d+)$/, {
                message: "must be unix:///path, ssh://user@host[:port] or tcp://host:port",
            })
            .optional(),
        /** The only host address a published port may bind to. */
        hostBindAddress: z.string().ip({ message: "must be an IP address such as 127.0.0.1" }).default("127.0.0.1"),
        sslmode: z.enum(SSL_MODES, { errorMap: () => ({ message: `must be one of ${SSL_MODES.join(", ")}` }) }).default("disable"),
        storage: storageSchema,
        clusters: z
            .array(clusterSchema)
            .min(1, "must contain at least one cluster")
            .default([{ name: "app", databases: ["app"], rootUser: "postgres" }]),
        backup: backupSchema,
        drill: drillSchema,
        pgbouncer: pgbouncerSchema,
        postgres: postgresSchema,
        /** Length of generated role passwords. */
        passwordLength: z.number().int().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH}`).max(128).default(40),
    })
    .strict()
    .superRefine((c, ctx) => {
        const names = c.clusters.map((k) => k.name);
        names.forEach((n, i) => {
            if (names.indexOf(n) !== i) {
                ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["clusters", i, "name"], message: `"${n}" is used by two clusters; names must be unique` });
            }
        });
        c.clusters.forEach((k, i) => {
            k.databases.forEach((d, j) => {
                if (k.databases.indexOf(d) !== j) {
                    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["clusters", i, "databases", j], message: `"${d}" is listed twice` });
                }
                if (d.endsWith("_migrate") || d === "pgbouncer") {
                    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["clusters", i, "databases", j], message: `"${d}" is reserved (pgbouncer, *_migrate)` });
                }
            });
            if (["app_user", "app_service"].includes(k.rootUser)) {
                ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["clusters", i, "rootUser"], message: "must differ from app_user and app_service" });
            }
        });
        const { retention, safetyNetDays, evidenceDays, schedule } = c.backup;
        // The oldest kept backup can be a week older than the WAL window (weekly cadence).
        const needed = Math.max(retention.walDays + 7, retention.weekly * 7 + 7, retention.daily + 1);
        if (safetyNetDays <= needed) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["backup", "safetyNetDays"], message: `must be more than ${needed} days, or the lifecycle rule would expire backups the retention policy still needs` });
        }
        const drillGap = longestGapDaysSafe(c.drill.schedule);
        if (drillGap !== undefined && drillGap > 31) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["drill", "schedule"], message: `must run at least monthly (longest gap would be ${Math.round(drillGap)} days)` });
        }
        if (evidenceDays < retention.walDays) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["backup", "evidenceDays"], message: `must be at least backup.retention.walDays (${retention.walDays}): evidence of the restores must outlive the backups it vouches for` });
        } else if (drillGap !== undefined && evidenceDays < drillGap) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["backup", "evidenceDays"], message: `must be at least the drill period (${Math.round(drillGap)} days), or no evidence would exist between drills` });
        }
        const backupGap = longestGapDaysSafe(schedule);
        if (backupGap !== undefined && backupGap > 1) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["backup", "schedule"], message: `must run at least daily to keep ${retention.daily} daily backups (longest gap would be ${Math.round(backupGap)} days)` });
        }
        if (c.pgbouncer.publishPort !== undefined && c.hostBindAddress === "0.0.0.0") {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["hostBindAddress"], message: "must not be 0.0.0.0 when a port is published; name one host address" });
        }
    });

function longestGapDaysSafe(schedule: string): number | undefined {
    try {
        return longestGapDays(parseCron(schedule));
    } catch {
        return undefined; // the field's own check reports the bad expression
    }
}

export type TierConfigInput = z.input<typeof tierConfigSchema>;
export type TierConfig = z.output<typeof tierConfigSchema>;
export type ClusterConfig = z.output<typeof clusterSchema>;
export type BackupConfig = z.output<typeof backupSchema>;
export type DrillConfig = z.output<typeof drillSchema>;
export type StorageConfig = z.output<typeof storageSchema>;
export type PgbouncerConfig = z.output<typeof pgbouncerSchema>;
export type PostgresConfig = z.output<typeof postgresSchema>;
export type RetentionConfig = z.output<typeof retentionSchema>;
