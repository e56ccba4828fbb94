/**
 * The one place a value is validated. The stack program, the components and the local tier
 * all parse their input through these schemas, so a bad value fails before any resource or
 * process exists, with a message that names the key and what is allowed.
 */
import { z } from "zod";
import { CronError, longestGapDays, parseCron } from "./cron";
import { MAX_RPO_SECONDS, MIN_SECRET_LENGTH } from "../vocabulary";
import { bucketNameProblem } from "./rules/bucket-name";
import { bindAddressProblem, isWildcardAddress, normaliseBindAddress } from "./rules/bind-address";
import { dockerHostProblem } from "./rules/docker-host";
import { b2EndpointRegion, endpointProviderProblem, endpointShapeProblem } from "./rules/endpoint";
import { poolBudget } from "./rules/pool-budget";
import { postgresImageProblem } from "./rules/postgres-image";
import { databaseNameProblem, identifierProblem, roleNameProblem, tableNameProblem } from "./rules/postgres-names";
import { sharedBuffersProblem } from "./rules/memory";
import {
    DEFAULT_LIMITS,
    postgresDefaultMemoryMB,
    postgresMinimumMemoryMB,
    postgresMinimumPids,
    POSTGRES_DEFAULT_PIDS,
} from "./rules/container-limits";
import { MIN_BACKUP_GAP_MINUTES, shortestGapMinutes } from "./rules/schedule";
import { MIN_RPO_SECONDS } from "./rules/rpo";
import { isProductionEnvironment, productionSslmodeProblem } from "./rules/production";

export const STORAGE_PROVIDERS = ["minio", "r2", "b2"] as const;
/**
 * What the pinned WAL-G (v3.0.9, see scripts/install-tools.sh) is built to compress with
 * (brotli needs a build tag the tier does not set). Figures: docs/benchmarks.md.
 */
export const COMPRESSION_METHODS = ["lz4", "zstd", "lzma"] as const;
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
    .superRefine(refineWith(identifierProblem));

/** An application database (config/rules/postgres-names.ts: reserved names, alias length). */
export const databaseName = z
    .string({ required_error: "is required", invalid_type_error: "must be a string" })
    .superRefine(refineWith(databaseNameProblem));

/** A role the tier creates (config/rules/postgres-names.ts: pg_ prefix, reserved words). */
export const roleName = z
    .string({ required_error: "is required", invalid_type_error: "must be a string" })
    .superRefine(refineWith(roleNameProblem));

/** A zod refinement from a rule that returns its problem (or undefined). */
export function refineWith(rule: (value: string) => string | undefined): (value: string, ctx: z.RefinementCtx) => void {
    return (value, ctx) => {
        const problem = rule(value);
        if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, message: problem });
    };
}

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

/**
 * A key the tier no longer reads. Refused rather than ignored: a stack file that sets it
 * expects an effect it no longer has, and only an error tells its owner.
 */
export function removedKey(reason: string) {
    return z
        .unknown()
        .superRefine((value, ctx) => {
            if (value !== undefined) ctx.addIssue({ code: z.ZodIssueCode.custom, message: `is no longer used: ${reason}; remove it` });
        })
        .transform(() => undefined)
        .optional();
}

/** Why backup.safetyNetDays went (render/lifecycle.ts has the whole argument). */
export const REMOVED_SAFETY_NET =
    "no lifecycle rule expires backup data by age any more, because such a rule also expires permanent backups (wal-g backup-mark) and their WAL; WAL-G's retention alone deletes backups";

/** Fields the stack config and the component arguments share (config/component-args.ts): one rule each. */
export const storageProvider = z.enum(STORAGE_PROVIDERS, {
    errorMap: () => ({ message: `must be one of ${STORAGE_PROVIDERS.join(", ")}` }),
});
export const storageRegion = z.string().regex(/^[a-z0-9-]+$/, "must be a region like auto, us-east-1 or us-west-004");
export const sslmode = z.enum(SSL_MODES, { errorMap: () => ({ message: `must be one of ${SSL_MODES.join(", ")}` }) }).default("disable");
export const passwordLength = z.number().int().min(MIN_SECRET_LENGTH, `must be at least ${MIN_SECRET_LENGTH}`).max(128).default(40);
export const hostBindAddress = z
    .preprocess(
        normaliseBindAddress,
        z.string({ invalid_type_error: "must be an IP address string such as 127.0.0.1" }).superRefine(refineWith(bindAddressProblem)),
    )
    .default("127.0.0.1");

/** Shape only (config/rules/endpoint.ts); provider and transport rules need the provider. */
export const httpUrl = z.string({ invalid_type_error: "must be a URL string" }).superRefine(refineWith(endpointShapeProblem));

/**
 * A bucket name; the naming rules differ per provider (config/rules/bucket-name.ts), so the
 * object that knows the provider applies them with checkBucketName.
 */
export const bucketName = z.string({ required_error: "is required", invalid_type_error: "must be a string" });

export function checkBucketName(ctx: z.RefinementCtx, provider: string, name: string, path: (string | number)[]): void {
    const known = (STORAGE_PROVIDERS as readonly string[]).includes(provider) ? (provider as (typeof STORAGE_PROVIDERS)[number]) : "minio";
    const problem = bucketNameProblem(known, name);
    if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: problem });
}

/** Region against provider and endpoint: R2 is always auto, B2 is the endpoint's region. */
export function checkRegion(
    ctx: z.RefinementCtx,
    provider: string,
    region: string | undefined,
    endpoint: string | undefined,
    path: (string | number)[],
): void {
    if (region === undefined) return;
    if (provider === "r2" && region !== "auto")
        ctx.addIssue({ code: z.ZodIssueCode.custom, path, message: `must be auto for provider r2 (got "${region}")` });
    const b2Region = provider === "b2" && endpoint ? b2EndpointRegion(endpoint) : undefined;
    if (b2Region !== undefined && region !== b2Region) {
        ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path,
            message: `is "${region}" but the endpoint is in ${b2Region}; for provider b2 the region is the endpoint's (write ${b2Region}, or leave region out)`,
        });
    }
}

export const retentionSchema = z
    .object({
        daily: z.number().int().min(1, "must keep at least 1 daily backup").max(90).default(7).describe("newest daily base backups kept"),
        weekly: z.number().int().min(0).max(52).default(4).describe("newest weekly base backups kept (the oldest backup of each ISO week)"),
        walDays: z
            .number()
            .int()
            .min(1, "must be at least 1 day")
            .max(3650)
            .default(30)
            .describe("days of point-in-time recovery: a base backup at or before this age and all WAL after it are kept"),
    })
    .strict()
    .default({});

export const backupSchema = z
    .object({
        schedule: cron.default("0 2 * * *").describe("when base backups run; at least daily"),
        rpoSeconds: z
            .number({ invalid_type_error: "must be a number of seconds" })
            .int("must be an integer")
            .min(
                MIN_RPO_SECONDS,
                `must be between ${MIN_RPO_SECONDS} and ${MAX_RPO_SECONDS} seconds: below ${MIN_RPO_SECONDS} s every forced WAL switch ships a mostly empty 16 MB segment for little less loss; for an RPO of seconds set backup.walStreaming: true`,
            )
            .max(MAX_RPO_SECONDS, `must be between ${MIN_RPO_SECONDS} and ${MAX_RPO_SECONDS} seconds`)
            .default(60)
            .describe("recovery point objective, seconds: becomes archive_timeout, the most a quiet server can lose"),
        // A hung push (wal-g issue 2550) is killed and retried by Postgres.
        archivePushTimeoutSeconds: z
            .number()
            .int()
            .min(5)
            .max(3600)
            .default(120)
            .describe("seconds after which one wal-push is killed (Postgres retries it)"),
        /**
         * zstd: 2.4x smaller than lz4 on the same backup and as fast to fetch, for a backup-push
         * of about 1.6x lz4's time and CPU (docs/benchmarks.md, codecs).
         */
        compression: z
            .enum(COMPRESSION_METHODS)
            .default("zstd")
            .describe("WAL-G's codec; zstd stores 2.4x less than lz4 and restores as fast, but backs up slower (docs/benchmarks.md)"),
        /**
         * Stream WAL to storage as it is written (`wal-g wal-receive` in its own container, a
         * replication role and slot), on top of archive_command: RPO of seconds instead of
         * archive_timeout. Off by default. See docs/benchmarks.md (RPO options).
         */
        walStreaming: z
            .boolean({ invalid_type_error: "must be true or false" })
            .default(false)
            .describe("also stream WAL with wal-g wal-receive (own container, replication role and slot): RPO of seconds"),
        uploadConcurrency: z.number().int().min(1).max(64).default(4).describe("WAL-G upload concurrency"),
        downloadConcurrency: z.number().int().min(1).max(64).default(4).describe("WAL-G download concurrency"),
        retention: retentionSchema,
        /**
         * Days after which the bucket's lifecycle rule removes backup objects that WAL-G's own
         * retention failed to delete. Must lie well beyond what retention needs.
         */
        safetyNetDays: removedKey(REMOVED_SAFETY_NET).describe(
            "removed: the bucket no longer has an age-based expiry of backup objects (render/lifecycle.ts); setting it is an error",
        ),
        evidenceDays: z
            .number()
            .int()
            .min(1)
            .max(3650)
            .default(400)
            .describe("days restore-drill evidence is kept; at least the drill period and retention.walDays"),
    })
    .strict()
    .default({});

export const drillSchema = z
    .object({
        schedule: cron.default("0 4 1 * *").describe("when the restore drill runs; at least monthly"),
        rtoSeconds: z.number().int().min(60).max(86_400).default(3600).describe("RTO budget, seconds: a slower restore fails the drill"),
        database: sqlName.optional().describe("database the drill's checks run in (default: the cluster's first database)"),
        schemaQuery: z.string().min(1).optional().describe("schema-version query (default: Drizzle's __drizzle_migrations when present)"),
        tables: z
            .array(z.string({ invalid_type_error: "must be a table name such as public.orders" }).superRefine(refineWith(tableNameProblem)))
            .default([])
            .describe("tables (table or schema.table) whose row counts the evidence records"),
        minRows: z
            .record(
                z
                    .number({ invalid_type_error: "must be a number of rows" })
                    .int("must be a whole number of rows")
                    .min(0, "must be at least 0 rows"),
            )
            .default({})
            .describe("lower bounds on row counts (table to minimum rows) that fail the drill"),
        amcheck: z
            .enum(["off", "heap-and-btree", "heapallindexed"])
            .default("heapallindexed")
            .describe("pg_amcheck over the restored copy; heapallindexed also proves every row is in its indexes"),
        oldestPointSchedule: cron
            .default("0 5 15 * *")
            .describe("when the drill that restores the oldest point backup.retention.walDays promises runs"),
    })
    .strict()
    .superRefine((d, ctx) => {
        d.tables.forEach((t, i) => {
            if (d.tables.indexOf(t) !== i)
                ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["tables", i], message: `"${t}" is listed twice` });
        });
        // A bound on a table the drill does not list is almost always a typo or a case slip
        // (`Orders`, `order`, `orders` for `public.orders`): the drill would count a table
        // that does not exist and fail every night.
        for (const key of Object.keys(d.minRows)) {
            const shape = tableNameProblem(key);
            if (shape) {
                ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["minRows", key], message: `key ${shape}` });
            } else if (d.tables.length > 0 && !d.tables.includes(key)) {
                const near = d.tables.find(
                    (t) => t.toLowerCase() === key.toLowerCase() || t.split(".").pop() === key || key.split(".").pop() === t,
                );
                ctx.addIssue({
                    code: z.ZodIssueCode.custom,
                    path: ["minRows", key],
                    message: `names a table that drill.tables does not list${near ? `; did you mean ${near}?` : ""} (tables: ${d.tables.join(", ")})`,
                });
            }
        }
    })
    .default({});

export const pgbouncerSchema = z
    .object({
        defaultPoolSize: z.number().int().min(1).max(1000).default(20).describe("server connections per (database, user) pair"),
        maxClientConn: z.number().int().min(1).max(100_000).default(1000).describe("client connections pgBouncer accepts"),
        /**
         * Reset every server connection after each transaction (DISCARD ALL), so no client
         * inherits another's session state (SET, temp tables, advisory locks). Turning it off
         * saves one round trip per transaction and lets a session-level SET leak between
         * tenants: see docs/SECURITY.md.
         */
        resetSessionState: z
            .boolean({ invalid_type_error: "must be true or false" })
            .default(true)
            .describe("DISCARD ALL after each transaction, so no client inherits another's SET, temp tables or advisory locks"),
        publishPort: port
            .optional()
            .describe("publish 6432 on the host at hostBindAddress, for apps outside Docker (default: not published)"),
        image: z.string().min(1).optional().describe("pgBouncer image reference (default: built from images/pgbouncer)"),
    })
    .strict()
    .default({});

export const postgresSchema = z
    .object({
        image: z
            .string({ invalid_type_error: "must be an image reference string" })
            .superRefine(refineWith(postgresImageProblem))
            .optional()
            .describe("Postgres 15 image reference (default: built from images/postgres)"),
        /**
         * 200 by default: two pooled users x (<db> + <db>_migrate) x default_pool_size 20 for
         * two databases is 160 server connections, plus the tier's headroom (rules/pool-budget.ts).
         */
        maxConnections: z
            .number()
            .int()
            .min(10)
            .max(10_000)
            .default(200)
            .describe("max_connections; must hold every pgBouncer pool plus 10"),
        sharedBuffers: z
            .string({ invalid_type_error: "must be a memory size string such as 128MB" })
            .superRefine(refineWith(sharedBuffersProblem))
            .default("128MB")
            .describe("shared_buffers, PostgreSQL memory syntax (128MB, 2GB; at least 128kB)"),
    })
    .strict()
    .default({});

const memoryMB = z
    .number({ invalid_type_error: "must be a number of megabytes" })
    .int("must be a whole number of megabytes")
    .min(64, "must be at least 64 (megabytes)")
    .max(1_048_576, "must be at most 1048576 (megabytes, 1 TB)");
const pids = z
    .number({ invalid_type_error: "must be a number of processes" })
    .int("must be a whole number of processes")
    .min(64, "must be at least 64 (processes)")
    .max(4_194_304, "must be at most 4194304 (the kernel's pid_max)");

/** The limits of one kind of container (config/rules/container-limits.ts: how they apply). */
function containerLimits(defaults: { readonly memoryMB: number; readonly pids: number }, what: string) {
    return z
        .object({
            memoryMB: memoryMB.default(defaults.memoryMB).describe(`memory limit of ${what}, MB (no swap)`),
            pids: pids.default(defaults.pids).describe(`process limit of ${what} (RLIMIT_NPROC, counted per uid on the host)`),
        })
        .strict()
        .default({});
}

/** What the tier's own containers may use; the embedded MinIO's limits are the stack's (limitsSchema). */
const tierLimitsShape = z.object({
    postgres: z
        .object({
            memoryMB: memoryMB
                .optional()
                .describe("memory limit of Postgres, MB (no swap; default: shared_buffers + 6MB per max_connections + 256MB)"),
            pids: pids
                .default(POSTGRES_DEFAULT_PIDS)
                .describe("process limit of Postgres (RLIMIT_NPROC per uid; the highest, so it can always start a backend)"),
        })
        .strict()
        .default({}),
    pgbouncer: containerLimits(DEFAULT_LIMITS.pgbouncer, "pgBouncer"),
    jobs: containerLimits(DEFAULT_LIMITS.jobs, "each job container (backup, restore drill, provisioner, WAL receiver)"),
});
export const tierLimitsSchema = tierLimitsShape.strict().default({});

export const limitsSchema = tierLimitsShape
    .extend({
        objectStore: containerLimits(DEFAULT_LIMITS.objectStore, "the embedded MinIO (used with storage.embedded only)"),
    })
    .strict();

/** Postgres' limits against its settings: enough memory for shared_buffers, processes for max_connections. */
export function checkPostgresLimits(
    ctx: z.RefinementCtx,
    limits: { readonly memoryMB?: number; readonly pids: number },
    postgres: { readonly sharedBuffers: string; readonly maxConnections: number },
    path: (string | number)[],
): void {
    const minMemory = postgresMinimumMemoryMB(postgres.sharedBuffers);
    if (limits.memoryMB !== undefined && limits.memoryMB < minMemory) {
        ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: [...path, "memoryMB"],
            message: `${limits.memoryMB} MB does not hold postgres.sharedBuffers ${postgres.sharedBuffers} and the server's own memory: set at least ${minMemory}, or leave it out (default for these settings: ${postgresDefaultMemoryMB(postgres.sharedBuffers, postgres.maxConnections)})`,
        });
    }
    const minPids = postgresMinimumPids(postgres.maxConnections);
    if (limits.pids < minPids) {
        ctx.addIssue({
            code: z.ZodIssueCode.custom,
            path: [...path, "pids"],
            message: `${limits.pids} processes is fewer than postgres.maxConnections ${postgres.maxConnections} backends and the server's own 64: set at least ${minPids} (default ${POSTGRES_DEFAULT_PIDS})`,
        });
    }
}

export const clusterSchema = z
    .object({
        name: dnsLabel.describe(
            "cluster name (e.g. app, temporal): part of every container, volume and network name and of the backup prefix",
        ),
        databases: z
            .array(databaseName, { invalid_type_error: "must be a list of database names, e.g. [app]" })
            .min(1, "must name at least one database")
            .default(["app"])
            .describe("databases to create; the first is the application database"),
        rootUser: roleName.default("postgres").describe("root (superuser) role: provisioning only, never in an application DSN"),
    })
    .strict();

export const storageSchema = z
    .object({
        provider: storageProvider.describe("where backups go"),
        bucket: bucketName.describe("the bucket (one per environment is typical; clusters use their own prefixes)"),
        endpoint: httpUrl
            .optional()
            .describe("S3 endpoint WAL-G uses; required unless embedded (the tier sets the embedded MinIO's in-network address)"),
        apiEndpoint: httpUrl.optional().describe("S3 endpoint Pulumi manages the bucket through, when it differs (default: endpoint)"),
        region: storageRegion.optional().describe("region (default: auto on R2, the endpoint's on B2, us-east-1 on MinIO)"),
        embedded: z.boolean().default(false).describe("minio only: run MinIO as the tier's object-store container (local development)"),
        embeddedPort: port.default(19000).describe("host port of the embedded MinIO's S3 API, bound to hostBindAddress"),
        embeddedImage: z
            .string({ invalid_type_error: "must be an image reference string" })
            .min(1)
            .optional()
            .describe("image of the embedded MinIO (default: built from images/minio)"),
    })
    .strict()
    .superRefine((s, ctx) => {
        if (s.provider !== "minio" && s.embedded) {
            ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["embedded"], message: "is only allowed with provider minio" });
        }
        if (!s.embedded && !s.endpoint) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["endpoint"],
                message: `is required for provider ${s.provider} unless embedded`,
            });
        }
        if (!s.embedded && s.embeddedImage !== undefined) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["embeddedImage"],
                message: "is the image of the embedded MinIO; remove it, or set embedded: true",
            });
        }
        if (s.embedded && s.endpoint) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["endpoint"],
                message: "is set by the tier for the embedded MinIO; remove it, or set embedded: false to use your own MinIO",
            });
        }
        for (const key of ["endpoint", "apiEndpoint"] as const) {
            const value = s[key];
            if (value === undefined || endpointShapeProblem(value)) continue; // the field reported it
            const problem = endpointProviderProblem(s.provider, value);
            if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: [key], message: problem });
        }
        checkBucketName(ctx, s.provider, s.bucket, ["bucket"]);
        checkRegion(ctx, s.provider, s.region, s.endpoint, ["region"]);
        // Pulumi manages a B2 bucket through apiEndpoint with the region of endpoint: both must agree.
        const apiRegion = s.provider === "b2" && s.apiEndpoint ? b2EndpointRegion(s.apiEndpoint) : undefined;
        const region = s.region ?? (s.endpoint ? b2EndpointRegion(s.endpoint) : undefined);
        if (apiRegion !== undefined && region !== undefined && apiRegion !== region) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["apiEndpoint"],
                message: `is in ${apiRegion} but the bucket's region is ${region}; a B2 bucket has one region: use https://s3.${region}.backblazeb2.com`,
            });
        }
    });

export const tierConfigSchema = z
    .object({
        environment: dnsLabel.describe("the stack's name: part of every container, network and volume name, and of the backup prefix"),
        dockerHost: z
            .string({ invalid_type_error: "must be a URL string such as ssh://deploy@db-1.internal" })
            .optional()
            .describe("Docker host the tier deploys to: unix:///…, ssh://user@host[:port], tcp://host:port (default: the local engine)"),
        dockerCertPath: z
            .string({ invalid_type_error: "must be a directory path" })
            .min(1, "must be a directory path")
            .optional()
            .describe("directory with ca.pem, cert.pem and key.pem for a tcp:// dockerHost"),
        hostBindAddress: hostBindAddress.describe("the only host address a published port binds to (IPv4 or IPv6; [::1] is read as ::1)"),
        sslmode: sslmode.describe(
            "sslmode of every DSN; anything but disable needs the TLS secrets and turns TLS on in pgBouncer and Postgres",
        ),
        storage: storageSchema,
        clusters: z
            .array(clusterSchema)
            .min(1, "must contain at least one cluster")
            .default([{ name: "app", databases: ["app"], rootUser: "postgres" }]),
        backup: backupSchema,
        drill: drillSchema,
        pgbouncer: pgbouncerSchema,
        postgres: postgresSchema,
        limits: limitsSchema.default({}).describe("memory and process limits of the containers"),
        passwordLength: passwordLength.describe("length of generated role passwords"),
    })
    .strict()
    .superRefine((c, ctx) => {
        checkPostgresLimits(ctx, c.limits.postgres, c.postgres, ["limits", "postgres"]);
        const names = c.clusters.map((k) => k.name);
        names.forEach((n, i) => {
            if (names.indexOf(n) !== i) {
                ctx.addIssue({
                    code: z.ZodIssueCode.custom,
                    path: ["clusters", i, "name"],
                    message: `"${n}" is used by two clusters; names must be unique`,
                });
            }
        });
        c.clusters.forEach((k, i) => {
            k.databases.forEach((d, j) => {
                if (k.databases.indexOf(d) !== j) {
                    ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["clusters", i, "databases", j], message: `"${d}" is listed twice` });
                }
            });
            // One drill setting serves every cluster, so its database must exist in each.
            if (c.drill.database !== undefined && !k.databases.includes(c.drill.database)) {
                ctx.addIssue({
                    code: z.ZodIssueCode.custom,
                    path: ["drill", "database"],
                    message: `"${c.drill.database}" is not a database of cluster ${k.name} (${k.databases.join(", ")}); drill.database applies to every cluster, so name one they all have or leave it out (default: each cluster's first database)`,
                });
            }
            const budget = poolBudget(k.databases.length, c.pgbouncer.defaultPoolSize, c.postgres.maxConnections);
            if (budget.wanted > budget.available) {
                ctx.addIssue({
                    code: z.ZodIssueCode.custom,
                    path: ["pgbouncer", "defaultPoolSize"],
                    message:
                        `${c.pgbouncer.defaultPoolSize} per pool lets pgBouncer open ${budget.wanted} server connections in cluster ${k.name} ` +
                        `(2 users x ${k.databases.length * 2} pgBouncer databases: ${k.databases.flatMap((d) => [d, `${d}_migrate`]).join(", ")}), ` +
                        `but postgres.maxConnections ${c.postgres.maxConnections} leaves ${budget.available} after 10 for root, provisioning and backups: ` +
                        `set defaultPoolSize to at most ${Math.max(1, budget.maxPoolSize)} or postgres.maxConnections to at least ${budget.minMaxConnections}`,
                });
            }
        });
        if (c.dockerHost !== undefined) {
            const problem = dockerHostProblem(c.dockerHost, c.dockerCertPath);
            if (problem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["dockerHost"], message: problem });
        }
        if (c.dockerCertPath !== undefined && !c.dockerHost?.toLowerCase().startsWith("tcp://")) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["dockerCertPath"],
                message: "is only used with a tcp:// dockerHost; remove it",
            });
        }
        const tlsProblem = productionSslmodeProblem(c.environment, c.sslmode);
        if (tlsProblem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["sslmode"], message: tlsProblem });
        // The embedded MinIO keeps the backups on the database's own Docker host: losing that
        // host loses both. It exists for local development only.
        const remoteHost = c.dockerHost !== undefined && !c.dockerHost.toLowerCase().startsWith("unix://");
        if (c.storage.embedded && (isProductionEnvironment(c.environment) || remoteHost)) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["storage", "embedded"],
                message: `keeps the backups on the database's own Docker host, so losing it loses both; it is for local development only (${remoteHost ? `not with the remote dockerHost ${(c.dockerHost ?? "").replace(/\/\/[^/@]*@/, "//***@")}` : `not in environment ${c.environment}`}): use provider r2 or b2, or a MinIO on another host with an https endpoint`,
            });
        }
        const published: [string, number][] = [];
        if (c.pgbouncer.publishPort !== undefined) published.push(["pgbouncer.publishPort", c.pgbouncer.publishPort]);
        if (c.storage.embedded) published.push(["storage.embeddedPort", c.storage.embeddedPort]);
        if (c.pgbouncer.publishPort !== undefined && c.clusters.length > 1) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["pgbouncer", "publishPort"],
                message: `would be published by the pgBouncer of each of the ${c.clusters.length} clusters (${names.join(", ")}), and one host port ${c.hostBindAddress}:${c.pgbouncer.publishPort} holds one; remove it (apps on the app network need no published port) or use one cluster per stack`,
            });
        }
        if (c.pgbouncer.publishPort !== undefined && c.storage.embedded && c.pgbouncer.publishPort === c.storage.embeddedPort) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["pgbouncer", "publishPort"],
                message: `is ${c.pgbouncer.publishPort}, the host port storage.embeddedPort already publishes for the embedded MinIO; choose another (e.g. 16432)`,
            });
        }
        const { retention, evidenceDays, schedule } = c.backup;
        const drillGap = longestGapDaysSafe(c.drill.schedule);
        if (drillGap !== undefined && drillGap > 31) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["drill", "schedule"],
                message: `must run at least monthly (longest gap would be ${Math.round(drillGap)} days)`,
            });
        }
        // The oldest point the WAL window promises is only known to restore once it has been
        // restored; a gap longer than a month would leave that promise unproven for as long.
        const oldestGap = longestGapDaysSafe(c.drill.oldestPointSchedule);
        if (oldestGap !== undefined && oldestGap > 31) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["drill", "oldestPointSchedule"],
                message: `must run at least monthly (longest gap would be ${Math.round(oldestGap)} days), so the oldest point of the ${retention.walDays}-day window is proven restorable every month; e.g. "0 5 15 * *"`,
            });
        }
        if (evidenceDays < retention.walDays) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["backup", "evidenceDays"],
                message: `must be at least backup.retention.walDays (${retention.walDays}): evidence of the restores must outlive the backups it vouches for`,
            });
        } else if (drillGap !== undefined && evidenceDays < drillGap) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["backup", "evidenceDays"],
                message: `must be at least the drill period (${Math.round(drillGap)} days), or no evidence would exist between drills`,
            });
        }
        const backupGap = longestGapDaysSafe(schedule);
        if (backupGap !== undefined && backupGap > 1) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["backup", "schedule"],
                message: `must run at least daily to keep ${retention.daily} daily backups (longest gap would be ${Math.round(backupGap)} days)`,
            });
        }
        if (published.length > 0 && isWildcardAddress(c.hostBindAddress)) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["hostBindAddress"],
                message: `must not be ${c.hostBindAddress} (every interface) while ${published.map(([k, p]) => `${k} ${p}`).join(" and ")} is published; name one host address (e.g. 127.0.0.1, ::1 or a private address)`,
            });
        }
        const backupCadence = shortestGapMinutesSafe(schedule);
        if (backupCadence !== undefined && backupCadence < MIN_BACKUP_GAP_MINUTES) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["backup", "schedule"],
                message: `runs a base backup every ${backupCadence} minute(s); at most hourly (WAL archiving already covers the minutes between), e.g. "0 2 * * *"`,
            });
        }
        const drillCadence = shortestGapMinutesSafe(c.drill.schedule);
        if (drillCadence !== undefined && drillCadence * 60 < Math.max(3600, c.drill.rtoSeconds)) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["drill", "schedule"],
                message: `starts a restore drill every ${drillCadence} minute(s), before one may have finished (drill.rtoSeconds ${c.drill.rtoSeconds}); run it at most every ${Math.ceil(Math.max(3600, c.drill.rtoSeconds) / 60)} minutes, e.g. "0 4 * * 0"`,
            });
        }
    });

/** Environment names that mean production: no embedded object store there, TLS required. */
export { PRODUCTION_ENVIRONMENTS } from "./rules/production";

function shortestGapMinutesSafe(schedule: string): number | undefined {
    try {
        return shortestGapMinutes(parseCron(schedule));
    } catch {
        return undefined;
    }
}

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
