/**
 * The bad-input catalogue: invalid stack configs and component arguments, each with the
 * exact error it must produce, and the valid edge cases next to them that must keep passing.
 * test/unit/bad-inputs.test.ts asserts every entry, test/unit/config-*.test.ts run each class
 * with its own unit checks, and scripts/config-docs.ts lists them in docs/configuration.md.
 *
 * Stack cases run through validateStack (config/stack-config.ts): the same namespace, key,
 * environment and schema checks `pulumi up` and `npm run policy:check` apply before any
 * resource is registered. `shown` is the mistake as a user would write it in the stack file.
 */
import { backupBucketArgsSchema, databaseTierArgsSchema } from "../../config/component-args";
import { parseOrThrow } from "../../config/errors";
import { COMPRESSION_METHODS, pgbouncerSchema, retentionSchema, storageSchema, tierConfigSchema } from "../../config/schema";
import { validateStack } from "../../config/stack-config";
import { z } from "zod";

export type CaseClass =
    | "basics"
    | "storage-names"
    | "postgres-names"
    | "contradictions"
    | "keys"
    | "production-safety"
    | "copied-stack"
    | "shapes"
    | "addresses"
    | "schedules";

export interface BadInput {
    readonly class: CaseClass;
    /** What is wrong, in a few words. */
    readonly title: string;
    /** The offending value, as a user would write it. */
    readonly shown: string;
    /** Runs the validation that must reject it. */
    readonly run: () => unknown;
    /** The exact problem line(s) of the ConfigError. */
    readonly problems: readonly string[];
}

export interface GoodInput {
    readonly class: CaseClass;
    readonly title: string;
    readonly shown: string;
    /** Runs the validation that must accept it; returns the parsed value. */
    readonly run: () => unknown;
}

type Values = Record<string, any>;

/** The dev stack's plain values, as `db-tier:<key>` entries. */
const DEV: Values = {
    environment: "dev",
    storage: { provider: "minio", bucket: "db-tier-dev-backups", embedded: true },
};
const R2_ENDPOINT = "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com";
const B2_ENDPOINT = "https://s3.us-west-004.backblazeb2.com";
const R2: Values = {
    environment: "preview",
    dockerHost: "ssh://deploy@preview-db.internal",
    storage: { provider: "r2", bucket: "db-tier-backups", endpoint: R2_ENDPOINT, region: "auto" },
};
const B2: Values = {
    environment: "production",
    sslmode: "require",
    dockerHost: "ssh://deploy@db-1.internal",
    storage: { provider: "b2", bucket: "db-tier-production-backups", endpoint: B2_ENDPOINT },
};

/** The engine's view of a stack file: `db-tier:<key>` to a string (objects as JSON). */
function engineConfig(values: Values, extra: Record<string, unknown> = {}): Record<string, string> {
    const all: Record<string, string> = {};
    for (const [k, v] of Object.entries(values)) all[k.includes(":") ? k : `db-tier:${k}`] = typeof v === "string" ? v : JSON.stringify(v);
    for (const [k, v] of Object.entries(extra)) all[k] = typeof v === "string" ? v : JSON.stringify(v);
    return all;
}

/** A stack named `stack` whose file holds `base` changed by `patch`. */
function stackCase(
    base: Values,
    patch: (c: any) => void = () => undefined,
    stack = base.environment as string,
    extra: Record<string, unknown> = {},
): () => unknown {
    return () => {
        const c = structuredClone(base);
        patch(c);
        return validateStack(engineConfig(c, extra), stack);
    };
}
const dev = (patch: (c: any) => void) => stackCase(DEV, patch);
const r2 = (patch: (c: any) => void) => stackCase(R2, patch);
const b2 = (patch: (c: any) => void) => stackCase(B2, patch);

const tierArgs = {
    environment: "dev",
    cluster: { name: "app", databases: ["app"] },
    storage: {
        provider: "minio",
        bucketName: "db-tier-dev-backups",
        endpoint: "http://object-store:9000",
        region: "us-east-1",
        accessKeyId: "k",
        secretAccessKey: "s",
    },
    images: { postgres: "postgres-image", pgbouncer: "pgbouncer-image" },
};

function component(patch: (c: any) => void): () => unknown {
    return () => {
        const c = structuredClone(tierArgs) as any;
        patch(c);
        return parseOrThrow(databaseTierArgsSchema, c, "DatabaseTier app");
    };
}

const bucketArgs = {
    provider: "minio",
    bucketName: "b-1",
    apiEndpoint: "http://127.0.0.1:9000",
    region: "us-east-1",
    backupPrefixes: ["dev/app/"],
    evidenceDays: 400,
};
function bucket(patch: (c: any) => void): () => unknown {
    return () => {
        const c = structuredClone(bucketArgs) as any;
        patch(c);
        return parseOrThrow(backupBucketArgsSchema, c, "BackupBucket b");
    };
}

const S3_AFFIXES = "not starting with xn--, sthree-, amzn-s3-demo-; not ending with -s3alias, --ol-s3, .mrap, --x-s3, --table-s3";
const MINIO_RULE = `(minio bucket names: 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit; no "..", ".-" or "-."; not an IP address; ${S3_AFFIXES}; e.g. db-tier-dev-backups)`;
const R2_RULE = `(r2 bucket names: 3-63 characters of a-z, 0-9 and '-' (no dots), starting and ending with a letter or digit; ${S3_AFFIXES}; e.g. db-tier-backups)`;
const B2_RULE = `(b2 bucket names: 6-63 characters of a-z, 0-9 and '-' (no dots), starting and ending with a letter or digit; not starting with b2-, xn--, sthree-, amzn-s3-demo-; not ending with -s3alias, --ol-s3, .mrap, --x-s3, --table-s3; e.g. db-tier-production-backups)`;
const minioBucket = (name: string) => dev((c) => (c.storage.bucket = name));
/**
 * The keys an object schema allows, as the unknown-key message lists them. Read from the
 * schema so that a key another change adds does not break the cases about unknown keys.
 */
function keysOf(schema: z.ZodTypeAny): string {
    let s = schema;
    while (!(s instanceof z.ZodObject)) s = s instanceof z.ZodEffects ? s.innerType() : (s as z.ZodDefault<z.ZodTypeAny>)._def.innerType;
    return Object.keys(s.shape).join(", ");
}
const TOP_KEYS = keysOf(tierConfigSchema);
const STORAGE_KEYS = keysOf(storageSchema);
const D55 = "d".repeat(55);
const R63 = "r".repeat(63);

export const BAD_INPUTS: readonly BadInput[] = [
    // ---- basics -------------------------------------------------------------------------
    {
        class: "basics",
        title: "environment missing",
        shown: "(no db-tier:environment)",
        run: dev((c) => delete c.environment),
        problems: ["db-tier:environment: is required"],
    },
    {
        class: "basics",
        title: "environment not a DNS label",
        shown: "environment: Prod_1",
        run: stackCase(DEV, (c) => (c.environment = "Prod_1"), "Prod_1"),
        problems: ["db-tier:environment: must be 1-32 characters of a-z, 0-9 and '-', starting with a letter and not ending with '-'"],
    },
    {
        class: "basics",
        title: "storage missing",
        shown: "(no db-tier:storage)",
        run: dev((c) => delete c.storage),
        problems: ["db-tier:storage: is required"],
    },
    {
        class: "basics",
        title: "unknown storage provider",
        shown: "storage.provider: s3",
        run: dev((c) => (c.storage.provider = "s3")),
        problems: ['db-tier:storage.provider: must be one of minio, r2, b2 (got "s3")'],
    },
    {
        class: "basics",
        title: "storage provider in capitals",
        shown: "storage.provider: R2",
        run: r2((c) => (c.storage.provider = "R2")),
        problems: ['db-tier:storage.provider: must be one of minio, r2, b2 (got "R2"; write r2)'],
    },
    {
        class: "basics",
        title: "sslmode in capitals",
        shown: "sslmode: Require",
        run: dev((c) => (c.sslmode = "Require")),
        problems: ['db-tier:sslmode: must be one of disable, prefer, require, verify-ca, verify-full (got "Require"; write require)'],
    },
    {
        class: "basics",
        title: "endpoint not a URL",
        shown: "storage.endpoint: minio 9000",
        run: dev((c) => Object.assign(c.storage, { embedded: false, endpoint: "minio 9000" })),
        problems: ['db-tier:storage.endpoint: must be an http(s) URL like https://host[:port] (got "minio 9000")'],
    },
    {
        class: "basics",
        title: "endpoint with a non-HTTP scheme",
        shown: "storage.endpoint: ftp://minio:9000",
        run: dev((c) => Object.assign(c.storage, { embedded: false, endpoint: "ftp://minio:9000" })),
        problems: ['db-tier:storage.endpoint: must be an http(s) URL like https://host[:port] with no path (got "ftp://minio:9000")'],
    },
    {
        class: "basics",
        title: "endpoint with a path (the bucket belongs in storage.bucket)",
        shown: `storage.endpoint: ${R2_ENDPOINT}/backups`,
        run: r2((c) => (c.storage.endpoint = `${R2_ENDPOINT}/backups`)),
        problems: [`db-tier:storage.endpoint: must be an http(s) URL like https://host[:port] with no path (got "${R2_ENDPOINT}/backups")`],
    },
    {
        class: "basics",
        title: "embedded object store with a cloud provider",
        shown: "provider: b2, embedded: true",
        run: stackCase(DEV, (c) => Object.assign(c.storage, { provider: "b2", bucket: "db-tier-dev-backups" })),
        problems: ["db-tier:storage.embedded: is only allowed with provider minio"],
    },
    {
        class: "basics",
        title: "external MinIO without an endpoint",
        shown: "provider: minio, embedded: false",
        run: dev((c) => (c.storage.embedded = false)),
        problems: ["db-tier:storage.endpoint: is required for provider minio unless embedded"],
    },
    {
        class: "basics",
        title: "unknown sslmode",
        shown: "sslmode: on",
        run: dev((c) => (c.sslmode = "on")),
        problems: ['db-tier:sslmode: must be one of disable, prefer, require, verify-ca, verify-full (got "on")'],
    },
    {
        class: "basics",
        title: "no clusters",
        shown: "clusters: []",
        run: dev((c) => (c.clusters = [])),
        problems: ["db-tier:clusters: must contain at least one cluster"],
    },
    {
        class: "basics",
        title: "two clusters with one name (their containers would collide)",
        shown: "clusters: [{name: app}, {name: app}]",
        run: dev((c) => (c.clusters = [{ name: "app" }, { name: "app" }])),
        problems: ['db-tier:clusters[1].name: "app" is used by two clusters; names must be unique'],
    },
    {
        class: "basics",
        title: "cluster name with punctuation",
        shown: "clusters[0].name: App!",
        run: dev((c) => (c.clusters = [{ name: "App!" }])),
        problems: ["db-tier:clusters[0].name: must be 1-32 characters of a-z, 0-9 and '-', starting with a letter and not ending with '-'"],
    },
    {
        class: "basics",
        title: "database listed twice",
        shown: "databases: [app, app]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["app", "app"] }])),
        problems: ['db-tier:clusters[0].databases[1]: "app" is listed twice'],
    },
    {
        class: "basics",
        title: "RPO above the 300 s ceiling",
        shown: "backup.rpoSeconds: 600",
        run: dev((c) => (c.backup = { rpoSeconds: 600 })),
        problems: ["db-tier:backup.rpoSeconds: must be between 10 and 300 seconds"],
    },
    {
        class: "basics",
        title: "RPO as a string",
        shown: 'backup.rpoSeconds: "60"',
        run: dev((c) => (c.backup = { rpoSeconds: "60" })),
        problems: ["db-tier:backup.rpoSeconds: must be a number of seconds (got a string)"],
    },
    {
        class: "basics",
        title: "RPO as a fraction",
        shown: "backup.rpoSeconds: 30.5",
        run: dev((c) => (c.backup = { rpoSeconds: 30.5 })),
        problems: ["db-tier:backup.rpoSeconds: must be a whole number"],
    },
    {
        class: "basics",
        title: "unknown compression",
        shown: "backup.compression: gzip",
        run: dev((c) => (c.backup = { compression: "gzip" })),
        problems: [`db-tier:backup.compression: must be one of ${COMPRESSION_METHODS.join(", ")} (got "gzip")`],
    },
    {
        class: "basics",
        title: "lifecycle safety net, a removed key",
        shown: "backup.safetyNetDays: 90",
        run: dev((c) => (c.backup = { safetyNetDays: 90 })),
        problems: [
            "db-tier:backup.safetyNetDays: is no longer used: no lifecycle rule expires backup data by age any more, because such a rule also expires permanent backups (wal-g backup-mark) and their WAL; WAL-G's retention alone deletes backups; remove it",
        ],
    },
    {
        class: "basics",
        title: "no daily backups kept",
        shown: "backup.retention.daily: 0",
        run: dev((c) => (c.backup = { retention: { daily: 0 } })),
        problems: ["db-tier:backup.retention.daily: must keep at least 1 daily backup"],
    },
    {
        class: "basics",
        title: "evidence kept for less than the drill period",
        shown: "backup.evidenceDays: 10, walDays: 7, drill every 2 weeks",
        run: dev((c) => Object.assign(c, { backup: { evidenceDays: 10, retention: { walDays: 7 } }, drill: { schedule: "0 4 1,15 * *" } })),
        problems: ["db-tier:backup.evidenceDays: must be at least the drill period (17 days), or no evidence would exist between drills"],
    },
    {
        class: "basics",
        title: "evidence kept for less than the WAL window",
        shown: "backup.evidenceDays: 31, backup.retention.walDays: 60",
        run: dev((c) => (c.backup = { evidenceDays: 31, retention: { walDays: 60 } })),
        problems: [
            "db-tier:backup.evidenceDays: must be at least backup.retention.walDays (60): evidence of the restores must outlive the backups it vouches for",
        ],
    },
    {
        class: "basics",
        title: "weak generated passwords",
        shown: "passwordLength: 16",
        run: dev((c) => (c.passwordLength = 16)),
        problems: ["db-tier:passwordLength: must be at least 32"],
    },
    {
        class: "basics",
        title: "port out of range",
        shown: "pgbouncer.publishPort: 70000",
        run: dev((c) => (c.pgbouncer = { publishPort: 70000 })),
        problems: ["db-tier:pgbouncer.publishPort: must be a port between 1 and 65535"],
    },
    {
        class: "basics",
        title: "empty pool",
        shown: "pgbouncer.defaultPoolSize: 0",
        run: dev((c) => (c.pgbouncer = { defaultPoolSize: 0 })),
        problems: ["db-tier:pgbouncer.defaultPoolSize: must be at least 1"],
    },
    {
        class: "basics",
        title: "drill database not in the cluster (component)",
        shown: "new DatabaseTier(..., {drill: {database: analytics}})",
        run: component((c) => (c.drill = { database: "analytics" })),
        problems: ["drill.database: must be one of the cluster's databases: app"],
    },
    {
        class: "basics",
        title: "TLS sslmode without a certificate (component)",
        shown: "new DatabaseTier(..., {sslmode: require})",
        run: component((c) => (c.sslmode = "require")),
        problems: ["tls: is required (certPem and keyPem) when sslmode is require"],
    },
    {
        class: "basics",
        title: "two clusters sharing a backup prefix (component)",
        shown: "new BackupBucket(..., {backupPrefixes: [dev/app/, dev/app/]})",
        run: bucket((c) => (c.backupPrefixes = ["dev/app/", "dev/app/"])),
        problems: ['backupPrefixes[1]: "dev/app/" is listed twice; clusters would share a backup prefix'],
    },

    // ---- names the storage rejects ------------------------------------------------------
    {
        class: "storage-names",
        title: "bucket name with capitals and underscore",
        shown: "storage.bucket: My_Backups",
        run: minioBucket("My_Backups"),
        problems: [`db-tier:storage.bucket: "My_Backups" contains '_' ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name with capitals",
        shown: "storage.bucket: DbBackups",
        run: minioBucket("DbBackups"),
        problems: [`db-tier:storage.bucket: "DbBackups" has capital letters; write "dbbackups" ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name too short",
        shown: "storage.bucket: ab",
        run: minioBucket("ab"),
        problems: [`db-tier:storage.bucket: "ab" is 2 characters long ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name too long (64)",
        shown: `storage.bucket: ${"b".repeat(64)}`,
        run: minioBucket("b".repeat(64)),
        problems: [`db-tier:storage.bucket: "${"b".repeat(64)}" is 64 characters long ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name shaped like an IP address",
        shown: "storage.bucket: 192.168.1.10",
        run: minioBucket("192.168.1.10"),
        problems: [`db-tier:storage.bucket: "192.168.1.10" is formatted as an IP address ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name with two adjacent dots",
        shown: "storage.bucket: db..backups",
        run: minioBucket("db..backups"),
        problems: [`db-tier:storage.bucket: "db..backups" contains ".." ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name with a dash next to a dot (MinIO)",
        shown: "storage.bucket: db-.backups",
        run: minioBucket("db-.backups"),
        problems: [`db-tier:storage.bucket: "db-.backups" contains "-." ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name ending with a dash",
        shown: "storage.bucket: backups-",
        run: minioBucket("backups-"),
        problems: [`db-tier:storage.bucket: "backups-" must start and end with a letter or digit ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name with the reserved prefix xn--",
        shown: "storage.bucket: xn--backups",
        run: minioBucket("xn--backups"),
        problems: [`db-tier:storage.bucket: "xn--backups" starts with the reserved prefix "xn--" ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name with the reserved prefix sthree-",
        shown: "storage.bucket: sthree-backups",
        run: minioBucket("sthree-backups"),
        problems: [`db-tier:storage.bucket: "sthree-backups" starts with the reserved prefix "sthree-" ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name with the reserved prefix amzn-s3-demo-",
        shown: "storage.bucket: amzn-s3-demo-backups",
        run: minioBucket("amzn-s3-demo-backups"),
        problems: [`db-tier:storage.bucket: "amzn-s3-demo-backups" starts with the reserved prefix "amzn-s3-demo-" ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name with the reserved suffix -s3alias",
        shown: "storage.bucket: backups-s3alias",
        run: minioBucket("backups-s3alias"),
        problems: [`db-tier:storage.bucket: "backups-s3alias" ends with the reserved suffix "-s3alias" ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name with the reserved suffix --ol-s3",
        shown: "storage.bucket: backups--ol-s3",
        run: minioBucket("backups--ol-s3"),
        problems: [`db-tier:storage.bucket: "backups--ol-s3" ends with the reserved suffix "--ol-s3" ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name with the reserved suffix .mrap",
        shown: "storage.bucket: backups.mrap",
        run: minioBucket("backups.mrap"),
        problems: [`db-tier:storage.bucket: "backups.mrap" ends with the reserved suffix ".mrap" ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "bucket name with the reserved suffix --x-s3",
        shown: "storage.bucket: backups--x-s3",
        run: minioBucket("backups--x-s3"),
        problems: [`db-tier:storage.bucket: "backups--x-s3" ends with the reserved suffix "--x-s3" ${MINIO_RULE}`],
    },
    {
        class: "storage-names",
        title: "R2 bucket name with dots",
        shown: "provider: r2, bucket: db.tier.backups",
        run: r2((c) => (c.storage.bucket = "db.tier.backups")),
        problems: [`db-tier:storage.bucket: "db.tier.backups" contains '.'; r2 allows no dots ${R2_RULE}`],
    },
    {
        class: "storage-names",
        title: "R2 bucket name starting with a dash",
        shown: "provider: r2, bucket: -backups",
        run: r2((c) => (c.storage.bucket = "-backups")),
        problems: [`db-tier:storage.bucket: "-backups" must start and end with a letter or digit ${R2_RULE}`],
    },
    {
        class: "storage-names",
        title: "B2 bucket name with Backblaze's reserved prefix",
        shown: "provider: b2, bucket: b2-db-backups",
        run: b2((c) => (c.storage.bucket = "b2-db-backups")),
        problems: [`db-tier:storage.bucket: "b2-db-backups" starts with "b2-", which Backblaze reserves ${B2_RULE}`],
    },
    {
        class: "storage-names",
        title: "B2 bucket name below B2's 6 characters",
        shown: "provider: b2, bucket: backs",
        run: b2((c) => (c.storage.bucket = "backs")),
        problems: [`db-tier:storage.bucket: "backs" is 5 characters long ${B2_RULE}`],
    },
    {
        class: "storage-names",
        title: "B2 bucket name with dots",
        shown: "provider: b2, bucket: db.backups",
        run: b2((c) => (c.storage.bucket = "db.backups")),
        problems: [`db-tier:storage.bucket: "db.backups" contains '.'; b2 allows no dots ${B2_RULE}`],
    },
    {
        class: "storage-names",
        title: "B2 bucket name with capitals (component)",
        shown: "new BackupBucket(..., {provider: b2, bucketName: DB-Backups})",
        run: bucket((c) => Object.assign(c, { provider: "b2", bucketName: "DB-Backups", apiEndpoint: B2_ENDPOINT, region: "us-west-004" })),
        problems: [`bucketName: "DB-Backups" has capital letters; write "db-backups" ${B2_RULE}`],
    },

    // ---- names PostgreSQL or pgBouncer reserve or cannot hold ----------------------------
    {
        class: "postgres-names",
        title: "the maintenance database as an application database",
        shown: "databases: [postgres]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["postgres"] }])),
        problems: [
            'db-tier:clusters[0].databases[0]: "postgres" is the maintenance database every cluster already has; name your own database (e.g. app)',
        ],
    },
    {
        class: "postgres-names",
        title: "a template database as an application database",
        shown: "databases: [app, template1]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["app", "template1"] }])),
        problems: [
            'db-tier:clusters[0].databases[1]: "template1" is the template database every cluster already has (CREATE DATABASE copies it); name your own database (e.g. app)',
        ],
    },
    {
        class: "postgres-names",
        title: "template0 as an application database",
        shown: "databases: [template0]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["template0"] }])),
        problems: [
            'db-tier:clusters[0].databases[0]: "template0" is the template database every cluster already has; name your own database (e.g. app)',
        ],
    },
    {
        class: "postgres-names",
        title: "pgBouncer's admin database as an application database",
        shown: "databases: [app, pgbouncer]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["app", "pgbouncer"] }])),
        problems: [
            'db-tier:clusters[0].databases[1]: "pgbouncer" is pgBouncer\'s admin console database, which the tier keeps closed; name your own database (e.g. app)',
        ],
    },
    {
        class: "postgres-names",
        title: "database name reserved by the pooler's alias",
        shown: "databases: [app, app_migrate]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["app", "app_migrate"] }])),
        problems: [
            'db-tier:clusters[0].databases[1]: "app_migrate" ends with _migrate, which the tier reserves for the session-mode alias of each database',
        ],
    },
    {
        class: "postgres-names",
        title: "database name whose _migrate alias exceeds 63 bytes",
        shown: `databases: [${"d".repeat(56)}]`,
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["d".repeat(56)] }])),
        problems: [
            `db-tier:clusters[0].databases[0]: "${"d".repeat(56)}" is 56 bytes; at most 55 fit, because its pgBouncer alias ${"d".repeat(56)}_migrate must stay within PostgreSQL's 63`,
        ],
    },
    {
        class: "postgres-names",
        title: "database name above NAMEDATALEN",
        shown: `databases: [${"d".repeat(64)}]`,
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["d".repeat(64)] }])),
        problems: [`db-tier:clusters[0].databases[0]: "${"d".repeat(64)}" is 64 bytes; at most 63 fit`],
    },
    {
        class: "postgres-names",
        title: "database name with capitals (PostgreSQL folds them)",
        shown: "databases: [MyDb]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["MyDb"] }])),
        problems: [
            'db-tier:clusters[0].databases[0]: "MyDb" has capital letters; PostgreSQL folds unquoted names to lowercase, so write "mydb"',
        ],
    },
    {
        class: "postgres-names",
        title: "two databases that are one after case folding",
        shown: "databases: [mydb, MyDB]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["mydb", "MyDB"] }])),
        problems: [
            'db-tier:clusters[0].databases[1]: "MyDB" has capital letters; PostgreSQL folds unquoted names to lowercase, so write "mydb"',
        ],
    },
    {
        class: "postgres-names",
        title: "database name that would need quoting",
        shown: "databases: [App-DB]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["App-DB"] }])),
        problems: ["db-tier:clusters[0].databases[0]: \"App-DB\" must be a-z, 0-9 and '_', not starting with a digit (e.g. app_db)"],
    },
    {
        class: "postgres-names",
        title: "database name starting with a digit",
        shown: "databases: [2fa]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["2fa"] }])),
        problems: ["db-tier:clusters[0].databases[0]: \"2fa\" must be a-z, 0-9 and '_', not starting with a digit (e.g. _2fa)"],
    },
    {
        class: "postgres-names",
        title: "root role in PostgreSQL's reserved pg_ namespace",
        shown: "rootUser: pg_admin",
        run: dev((c) => (c.clusters = [{ name: "app", rootUser: "pg_admin" }])),
        problems: [
            'db-tier:clusters[0].rootUser: "pg_admin" starts with pg_, which PostgreSQL reserves for its predefined roles (e.g. postgres or dbtier_root)',
        ],
    },
    {
        class: "postgres-names",
        title: "root role named public",
        shown: "rootUser: public",
        run: dev((c) => (c.clusters = [{ name: "app", rootUser: "public" }])),
        problems: [
            'db-tier:clusters[0].rootUser: "public" is reserved by PostgreSQL (PUBLIC means every role); choose another name (e.g. postgres)',
        ],
    },
    {
        class: "postgres-names",
        title: "root role named current_user",
        shown: "rootUser: current_user",
        run: dev((c) => (c.clusters = [{ name: "app", rootUser: "current_user" }])),
        problems: [
            'db-tier:clusters[0].rootUser: "current_user" means the calling role in GRANT and ALTER ROLE; choose another name (e.g. postgres)',
        ],
    },
    {
        class: "postgres-names",
        title: "root role named like an application role",
        shown: "rootUser: app_user",
        run: dev((c) => (c.clusters = [{ name: "app", rootUser: "app_user" }])),
        problems: ['db-tier:clusters[0].rootUser: "app_user" is the tier\'s application role; choose another name (e.g. postgres)'],
    },
    {
        class: "postgres-names",
        title: "root role with capitals",
        shown: "rootUser: Admin",
        run: dev((c) => (c.clusters = [{ name: "app", rootUser: "Admin" }])),
        problems: [
            'db-tier:clusters[0].rootUser: "Admin" has capital letters; PostgreSQL folds unquoted names to lowercase, so write "admin"',
        ],
    },
    {
        class: "postgres-names",
        title: "root role above NAMEDATALEN",
        shown: `rootUser: ${"r".repeat(64)}`,
        run: dev((c) => (c.clusters = [{ name: "app", rootUser: "r".repeat(64) }])),
        problems: [`db-tier:clusters[0].rootUser: "${"r".repeat(64)}" is 64 bytes; at most 63 fit`],
    },
    {
        class: "postgres-names",
        title: "drill database that one of the clusters lacks",
        shown: "drill.database: app, clusters app [app] and temporal [temporal]",
        run: dev((c) =>
            Object.assign(c, {
                drill: { database: "app" },
                clusters: [
                    { name: "app", databases: ["app"] },
                    { name: "temporal", databases: ["temporal"] },
                ],
            }),
        ),
        problems: [
            'db-tier:drill.database: "app" is not a database of cluster temporal (temporal); drill.database applies to every cluster, so name one they all have or leave it out (default: each cluster\'s first database)',
        ],
    },

    // ---- settings that contradict each other ---------------------------------------------
    {
        class: "contradictions",
        title: "pools larger than max_connections",
        shown: "pgbouncer.defaultPoolSize: 30, databases: [app, litellm]",
        run: dev((c) =>
            Object.assign(c, { pgbouncer: { defaultPoolSize: 30 }, clusters: [{ name: "app", databases: ["app", "litellm"] }] }),
        ),
        problems: [
            "db-tier:pgbouncer.defaultPoolSize: 30 per pool lets pgBouncer open 240 server connections in cluster app (2 users x 4 pgBouncer databases: app, app_migrate, litellm, litellm_migrate), but postgres.maxConnections 200 leaves 190 after 10 for root, provisioning and backups: set defaultPoolSize to at most 23 or postgres.maxConnections to at least 250",
        ],
    },
    {
        class: "contradictions",
        title: "three databases at the default pool size",
        shown: "databases: [app, litellm, analytics]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["app", "litellm", "analytics"] }])),
        problems: [
            "db-tier:pgbouncer.defaultPoolSize: 20 per pool lets pgBouncer open 240 server connections in cluster app (2 users x 6 pgBouncer databases: app, app_migrate, litellm, litellm_migrate, analytics, analytics_migrate), but postgres.maxConnections 200 leaves 190 after 10 for root, provisioning and backups: set defaultPoolSize to at most 15 or postgres.maxConnections to at least 250",
        ],
    },
    {
        class: "contradictions",
        title: "max_connections below the default pools",
        shown: "postgres.maxConnections: 50",
        run: dev((c) => (c.postgres = { maxConnections: 50 })),
        problems: [
            "db-tier:pgbouncer.defaultPoolSize: 20 per pool lets pgBouncer open 80 server connections in cluster app (2 users x 2 pgBouncer databases: app, app_migrate), but postgres.maxConnections 50 leaves 40 after 10 for root, provisioning and backups: set defaultPoolSize to at most 10 or postgres.maxConnections to at least 90",
        ],
    },
    {
        class: "contradictions",
        title: "max_connections one below what the pools need",
        shown: "postgres.maxConnections: 89 (pools need 90)",
        run: dev((c) => (c.postgres = { maxConnections: 89 })),
        problems: [
            "db-tier:pgbouncer.defaultPoolSize: 20 per pool lets pgBouncer open 80 server connections in cluster app (2 users x 2 pgBouncer databases: app, app_migrate), but postgres.maxConnections 89 leaves 79 after 10 for root, provisioning and backups: set defaultPoolSize to at most 19 or postgres.maxConnections to at least 90",
        ],
    },
    {
        class: "contradictions",
        title: "one published port for the pgBouncers of two clusters",
        shown: "pgbouncer.publishPort: 16432, clusters: [app, temporal]",
        run: dev((c) =>
            Object.assign(c, {
                pgbouncer: { publishPort: 16432 },
                clusters: [{ name: "app" }, { name: "temporal", databases: ["temporal"] }],
            }),
        ),
        problems: [
            "db-tier:pgbouncer.publishPort: would be published by the pgBouncer of each of the 2 clusters (app, temporal), and one host port 127.0.0.1:16432 holds one; remove it (apps on the app network need no published port) or use one cluster per stack",
        ],
    },
    {
        class: "contradictions",
        title: "pgBouncer published on the embedded MinIO's port",
        shown: "pgbouncer.publishPort: 19000, storage.embeddedPort: 19000",
        run: dev((c) => (c.pgbouncer = { publishPort: 19000 })),
        problems: [
            "db-tier:pgbouncer.publishPort: is 19000, the host port storage.embeddedPort already publishes for the embedded MinIO; choose another (e.g. 16432)",
        ],
    },
    {
        class: "contradictions",
        title: "zero shared_buffers",
        shown: "postgres.sharedBuffers: 0MB",
        run: dev((c) => (c.postgres = { sharedBuffers: "0MB" })),
        problems: ['db-tier:postgres.sharedBuffers: "0MB" is below PostgreSQL\'s minimum of 128kB (16 blocks of 8kB); e.g. 128MB'],
    },
    {
        class: "contradictions",
        title: "shared_buffers below PostgreSQL's floor",
        shown: "postgres.sharedBuffers: 64kB",
        run: dev((c) => (c.postgres = { sharedBuffers: "64kB" })),
        problems: ['db-tier:postgres.sharedBuffers: "64kB" is below PostgreSQL\'s minimum of 128kB (16 blocks of 8kB); e.g. 128MB'],
    },
    {
        class: "contradictions",
        title: "shared_buffers with a lowercase unit",
        shown: "postgres.sharedBuffers: 128mb",
        run: dev((c) => (c.postgres = { sharedBuffers: "128mb" })),
        problems: [
            'db-tier:postgres.sharedBuffers: "128mb" has unit "mb"; PostgreSQL units are B, kB, MB, GB, TB and case-sensitive: write 128MB',
        ],
    },
    {
        class: "contradictions",
        title: "shared_buffers with a one-letter unit",
        shown: "postgres.sharedBuffers: 1G",
        run: dev((c) => (c.postgres = { sharedBuffers: "1G" })),
        problems: [
            'db-tier:postgres.sharedBuffers: "1G" has unit "G"; PostgreSQL units are B, kB, MB, GB, TB and case-sensitive: write 1GB',
        ],
    },
    {
        class: "contradictions",
        title: "shared_buffers that is not a size",
        shown: "postgres.sharedBuffers: 25%",
        run: dev((c) => (c.postgres = { sharedBuffers: "25%" })),
        problems: ['db-tier:postgres.sharedBuffers: "25%" is not a memory size; write a whole number and a unit, e.g. 128MB or 2GB'],
    },

    // ---- keys under a misspelled namespace, unknown keys --------------------------------
    {
        class: "keys",
        title: "namespace misspelt (letters swapped)",
        shown: "db-teir:environment: dev",
        run: stackCase(DEV, () => undefined, "dev", { "db-teir:backup": { rpoSeconds: 30 } }),
        problems: ['db-teir:backup: "db-teir" is not the tier\'s namespace, so this key would be ignored; write db-tier:backup'],
    },
    {
        class: "keys",
        title: "namespace without its dash",
        shown: "dbtier:sslmode: require",
        run: stackCase(DEV, () => undefined, "dev", { "dbtier:sslmode": "require" }),
        problems: ['dbtier:sslmode: "dbtier" is not the tier\'s namespace, so this key would be ignored; write db-tier:sslmode'],
    },
    {
        class: "keys",
        title: "namespace with an underscore",
        shown: "db_tier:passwordLength: 64",
        run: stackCase(DEV, () => undefined, "dev", { "db_tier:passwordLength": 64 }),
        problems: [
            'db_tier:passwordLength: "db_tier" is not the tier\'s namespace, so this key would be ignored; write db-tier:passwordLength',
        ],
    },
    {
        class: "keys",
        title: "a dotted key instead of a nested one",
        shown: "db-tier:storage.bucket: my-backups",
        run: stackCase(DEV, () => undefined, "dev", { "db-tier:storage.bucket": "my-backups" }),
        problems: [
            "db-tier:storage.bucket: is a dotted key, not a path; nest it instead: db-tier:storage: {bucket: ...} (or pulumi config set --path 'db-tier:storage.bucket' VALUE)",
        ],
    },
    {
        class: "keys",
        title: "misspelt top-level key",
        shown: "db-tier:postgress: {...}",
        run: dev((c) => (c.postgress = {})),
        problems: [`db-tier:postgress: "postgress" is not a key in the db-tier namespace; did you mean postgres? (allowed: ${TOP_KEYS})`],
    },
    {
        class: "keys",
        title: "the component's key name in the stack file",
        shown: "storage.bucketName: my-backups",
        run: dev((c) => Object.assign(c.storage, { bucketName: "my-backups" })),
        problems: [
            `db-tier:storage.bucketName: "bucketName" is not a key under db-tier:storage; did you mean bucket? (allowed: ${STORAGE_KEYS})`,
        ],
    },
    {
        class: "keys",
        title: "pgBouncer's own setting name",
        shown: "pgbouncer.default_pool_size: 10",
        run: dev((c) => (c.pgbouncer = { default_pool_size: 10 })),
        problems: [
            `db-tier:pgbouncer.default_pool_size: "default_pool_size" is not a key under db-tier:pgbouncer; did you mean defaultPoolSize? (allowed: ${keysOf(pgbouncerSchema)})`,
        ],
    },
    {
        class: "keys",
        title: "unknown key with no near match",
        shown: "backup.retention.days: 7",
        run: dev((c) => (c.backup = { retention: { days: 7 } })),
        problems: [
            `db-tier:backup.retention.days: "days" is not a key under db-tier:backup.retention (allowed: ${keysOf(retentionSchema)})`,
        ],
    },
    {
        class: "keys",
        title: "a secret key in plain text",
        shown: "db-tier:storageSecretAccessKey: abc (not --secret)",
        run: () =>
            validateStack(
                engineConfig(DEV, { "db-tier:storageSecretAccessKey": "committed-in-plain-text" }),
                "dev",
                (k) => k !== "db-tier:storageSecretAccessKey",
            ),
        problems: ["db-tier:storageSecretAccessKey: must be set with pulumi config set --secret"],
    },

    // ---- production safety ----------------------------------------------------------------
    {
        class: "production-safety",
        title: "embedded MinIO in production",
        shown: "environment: production, storage: {provider: minio, embedded: true}",
        run: stackCase(DEV, (c) => (c.environment = "production"), "production"),
        problems: [
            "db-tier:sslmode: must be one of require, verify-ca, verify-full in environment production (got disable): production connections are encrypted, and the TLS secrets (tlsCertPem, tlsKeyPem) are required there",
            "db-tier:storage.embedded: keeps the backups on the database's own Docker host, so losing it loses both; it is for local development only (not in environment production): use provider r2 or b2, or a MinIO on another host with an https endpoint",
        ],
    },
    {
        class: "production-safety",
        title: "production without TLS (sslmode disable)",
        shown: "environment: production, sslmode: disable",
        run: b2((c) => (c.sslmode = "disable")),
        problems: [
            "db-tier:sslmode: must be one of require, verify-ca, verify-full in environment production (got disable): production connections are encrypted, and the TLS secrets (tlsCertPem, tlsKeyPem) are required there",
        ],
    },
    {
        class: "production-safety",
        title: "a production-like environment with sslmode prefer",
        shown: "environment: prod-eu, sslmode: prefer",
        run: stackCase(
            B2,
            (c) => {
                c.environment = "prod-eu";
                c.sslmode = "prefer";
            },
            "prod-eu",
        ),
        problems: [
            "db-tier:sslmode: must be one of require, verify-ca, verify-full in environment prod-eu (got prefer): production connections are encrypted, and the TLS secrets (tlsCertPem, tlsKeyPem) are required there",
        ],
    },
    {
        class: "production-safety",
        title: "a production DatabaseTier component without TLS",
        shown: "new DatabaseTier(..., {environment: production})",
        run: component((c) => {
            c.environment = "production";
            c.storage = { ...c.storage, endpoint: "https://minio.internal:9000" };
        }),
        problems: [
            "sslmode: must be one of require, verify-ca, verify-full in environment production (got disable): production connections are encrypted, and the TLS secrets (tlsCertPem, tlsKeyPem) are required there",
        ],
    },
    {
        class: "production-safety",
        title: "embedded MinIO on a remote Docker host",
        shown: "dockerHost: ssh://deploy@db-1.internal, storage.embedded: true",
        run: dev((c) => (c.dockerHost = "ssh://deploy@db-1.internal")),
        problems: [
            "db-tier:storage.embedded: keeps the backups on the database's own Docker host, so losing it loses both; it is for local development only (not with the remote dockerHost ssh://***@db-1.internal): use provider r2 or b2, or a MinIO on another host with an https endpoint",
        ],
    },
    {
        class: "production-safety",
        title: "plain tcp:// Docker host (no TLS)",
        shown: "dockerHost: tcp://db-1.internal:2375",
        run: b2((c) => (c.dockerHost = "tcp://db-1.internal:2375")),
        problems: [
            "db-tier:dockerHost: tcp:// sends the Docker API (root on that host) without TLS; use ssh://user@host, or set db-tier:dockerCertPath to a directory with ca.pem, cert.pem and key.pem",
        ],
    },
    {
        class: "production-safety",
        title: "Docker host URL with a password",
        shown: "dockerHost: ssh://deploy:hunter2@db-1.internal",
        run: b2((c) => (c.dockerHost = "ssh://deploy:hunter2@db-1.internal")),
        problems: ["db-tier:dockerHost: must not carry a password (ssh://user:password@...); use ssh://user@host with a key in ssh-agent"],
    },
    {
        class: "production-safety",
        title: "Docker host with an unsupported scheme",
        shown: "dockerHost: http://db-1:2375",
        run: b2((c) => (c.dockerHost = "http://db-1:2375")),
        problems: [
            "db-tier:dockerHost: must use unix://, ssh:// or tcp:// (got http://), e.g. unix:///var/run/docker.sock, ssh://deploy@db-1.internal or tcp://db-1.internal:2376 with dockerCertPath",
        ],
    },
    {
        class: "production-safety",
        title: "Docker host without a scheme",
        shown: "dockerHost: db-1.internal",
        run: b2((c) => (c.dockerHost = "db-1.internal")),
        problems: [
            'db-tier:dockerHost: must be a URL such as unix:///var/run/docker.sock, ssh://deploy@db-1.internal or tcp://db-1.internal:2376 with dockerCertPath (got "db-1.internal")',
        ],
    },
    {
        class: "production-safety",
        title: "http:// to a cloud store",
        shown: "provider: b2, endpoint: http://s3.us-west-004.backblazeb2.com",
        run: b2((c) => (c.storage.endpoint = "http://s3.us-west-004.backblazeb2.com")),
        problems: [
            'db-tier:storage.endpoint: must use https:// (http:// sends the storage keys in plain text; it is allowed only for a loopback MinIO such as http://127.0.0.1:9000), got "http://s3.us-west-004.backblazeb2.com"',
        ],
    },
    {
        class: "production-safety",
        title: "http:// to a MinIO on another host",
        shown: "storage: {provider: minio, endpoint: http://minio.internal:9000}",
        run: dev((c) => Object.assign(c.storage, { embedded: false, endpoint: "http://minio.internal:9000" })),
        problems: [
            'db-tier:storage.endpoint: must use https:// (http:// sends the storage keys in plain text; it is allowed only for a loopback MinIO such as http://127.0.0.1:9000), got "http://minio.internal:9000"',
        ],
    },
    {
        class: "production-safety",
        title: "credentials inside the endpoint URL (never echoed)",
        shown: "storage.endpoint: https://KEYID:SECRET@s3.us-west-004.backblazeb2.com",
        run: b2((c) => (c.storage.endpoint = "https://KEYID:SECRET@s3.us-west-004.backblazeb2.com")),
        problems: [
            "db-tier:storage.endpoint: must not carry credentials (user:secret@); set them with pulumi config set --secret db-tier:storageAccessKeyId and db-tier:storageSecretAccessKey",
        ],
    },
    {
        class: "production-safety",
        title: "credentials inside the API endpoint URL",
        shown: "storage.apiEndpoint: https://admin:minio123@127.0.0.1:19000",
        run: dev((c) => (c.storage.apiEndpoint = "https://admin:minio123@127.0.0.1:19000")),
        problems: [
            "db-tier:storage.apiEndpoint: must not carry credentials (user:secret@); set them with pulumi config set --secret db-tier:storageAccessKeyId and db-tier:storageSecretAccessKey",
        ],
    },
    {
        class: "production-safety",
        title: "an endpoint that would be ignored next to the embedded MinIO",
        shown: "storage: {embedded: true, endpoint: http://127.0.0.1:9000}",
        run: dev((c) => (c.storage.endpoint = "http://127.0.0.1:9000")),
        problems: [
            "db-tier:storage.endpoint: is set by the tier for the embedded MinIO; remove it, or set embedded: false to use your own MinIO",
        ],
    },
    {
        class: "production-safety",
        title: "R2 with a region other than auto",
        shown: "provider: r2, region: us-east-1",
        run: r2((c) => (c.storage.region = "us-east-1")),
        problems: ['db-tier:storage.region: must be auto for provider r2 (got "us-east-1")'],
    },
    {
        class: "production-safety",
        title: "B2 region that contradicts the endpoint",
        shown: "provider: b2, endpoint: https://s3.us-west-004.backblazeb2.com, region: us-east-005",
        run: b2((c) => (c.storage.region = "us-east-005")),
        problems: [
            'db-tier:storage.region: is "us-east-005" but the endpoint is in us-west-004; for provider b2 the region is the endpoint\'s (write us-west-004, or leave region out)',
        ],
    },
    {
        class: "production-safety",
        title: "B2 region that contradicts the endpoint (component)",
        shown: "new BackupBucket(..., {provider: b2, apiEndpoint: ...us-west-004..., region: eu-central-003})",
        run: bucket((c) =>
            Object.assign(c, { provider: "b2", bucketName: "db-backups", apiEndpoint: B2_ENDPOINT, region: "eu-central-003" }),
        ),
        problems: [
            'region: is "eu-central-003" but the endpoint is in us-west-004; for provider b2 the region is the endpoint\'s (write us-west-004, or leave region out)',
        ],
    },
    {
        class: "production-safety",
        title: "B2 API endpoint in another region than the endpoint",
        shown: "endpoint: https://s3.us-west-004.backblazeb2.com, apiEndpoint: https://s3.eu-central-003.backblazeb2.com",
        run: b2((c) => (c.storage.apiEndpoint = "https://s3.eu-central-003.backblazeb2.com")),
        problems: [
            "db-tier:storage.apiEndpoint: is in eu-central-003 but the bucket's region is us-west-004; a B2 bucket has one region: use https://s3.us-west-004.backblazeb2.com",
        ],
    },
    {
        class: "production-safety",
        title: "R2 provider with a non-R2 endpoint",
        shown: "provider: r2, endpoint: https://s3.amazonaws.com",
        run: r2((c) => (c.storage.endpoint = "https://s3.amazonaws.com")),
        problems: [
            `db-tier:storage.endpoint: must be the R2 S3 API endpoint https://<32-hex account id>.r2.cloudflarestorage.com (e.g. ${R2_ENDPOINT}; got host s3.amazonaws.com)`,
        ],
    },
    {
        class: "production-safety",
        title: "R2 public r2.dev URL instead of the S3 API endpoint",
        shown: "provider: r2, endpoint: https://pub-0123.r2.dev",
        run: r2((c) => (c.storage.endpoint = "https://pub-0123.r2.dev")),
        problems: [
            `db-tier:storage.endpoint: must be the R2 S3 API endpoint https://<32-hex account id>.r2.cloudflarestorage.com (e.g. ${R2_ENDPOINT}; got host pub-0123.r2.dev)`,
        ],
    },
    {
        class: "production-safety",
        title: "R2 endpoint without the account id",
        shown: "provider: r2, endpoint: https://r2.cloudflarestorage.com",
        run: r2((c) => (c.storage.endpoint = "https://r2.cloudflarestorage.com")),
        problems: [
            `db-tier:storage.endpoint: must be the R2 S3 API endpoint https://<32-hex account id>.r2.cloudflarestorage.com (e.g. ${R2_ENDPOINT}; got host r2.cloudflarestorage.com)`,
        ],
    },
    {
        class: "production-safety",
        title: "B2 provider with a non-B2 endpoint",
        shown: "provider: b2, endpoint: https://b2.example.com",
        run: b2((c) => (c.storage.endpoint = "https://b2.example.com")),
        problems: [
            `db-tier:storage.endpoint: must be https://s3.<region>.backblazeb2.com for provider b2 (e.g. ${B2_ENDPOINT}; got host b2.example.com)`,
        ],
    },
    {
        class: "production-safety",
        title: "publishing on every interface",
        shown: "hostBindAddress: 0.0.0.0, pgbouncer.publishPort: 6432",
        run: dev((c) => Object.assign(c, { hostBindAddress: "0.0.0.0", pgbouncer: { publishPort: 6432 } })),
        problems: [
            "db-tier:hostBindAddress: must not be 0.0.0.0 (every interface) while pgbouncer.publishPort 6432 and storage.embeddedPort 19000 is published; name one host address (e.g. 127.0.0.1, ::1 or a private address)",
        ],
    },
    {
        class: "production-safety",
        title: "the embedded MinIO on every IPv6 interface",
        shown: "hostBindAddress: '::'",
        run: dev((c) => (c.hostBindAddress = "::")),
        problems: [
            "db-tier:hostBindAddress: must not be :: (every interface) while storage.embeddedPort 19000 is published; name one host address (e.g. 127.0.0.1, ::1 or a private address)",
        ],
    },
    {
        class: "production-safety",
        title: "dockerCertPath without a tcp:// host",
        shown: "dockerHost: ssh://deploy@db-1.internal, dockerCertPath: ~/.docker",
        run: b2((c) => (c.dockerCertPath = "/home/deploy/.docker")),
        problems: ["db-tier:dockerCertPath: is only used with a tcp:// dockerHost; remove it"],
    },

    // ---- a copied stack file ------------------------------------------------------------
    {
        class: "copied-stack",
        title: "stack file copied from preview into staging",
        shown: "stack staging, environment: preview",
        run: stackCase(R2, () => undefined, "staging"),
        problems: [
            'db-tier:environment: is "preview" in stack "staging": the environment must be the stack\'s name (write staging), or this stack would share the backup prefix s3://<bucket>/preview/ and the Docker names of stack preview, and either one\'s retention would delete the other\'s backups',
        ],
    },
    {
        class: "copied-stack",
        title: "stack file copied from dev into a second dev",
        shown: "stack dev2, environment: dev",
        run: stackCase(DEV, () => undefined, "dev2"),
        problems: [
            'db-tier:environment: is "dev" in stack "dev2": the environment must be the stack\'s name (write dev2), or this stack would share the backup prefix s3://<bucket>/dev/ and the Docker names of stack dev, and either one\'s retention would delete the other\'s backups',
        ],
    },
    {
        class: "copied-stack",
        title: "a stack whose name cannot be an environment",
        shown: "stack Prod_EU, environment: production",
        run: stackCase(B2, () => undefined, "Prod_EU"),
        problems: [
            'db-tier:environment: is "production" in stack "Prod_EU": the environment must be the stack\'s name, and "Prod_EU" is not a DNS label (a-z, 0-9, \'-\'); rename the stack (e.g. pulumi stack rename prod-eu)',
        ],
    },

    // ---- shape and case mistakes ----------------------------------------------------------
    {
        class: "shapes",
        title: "drill minRows key in the wrong case",
        shown: "drill: {tables: [public.orders], minRows: {Orders: 10}}",
        run: dev((c) => (c.drill = { tables: ["public.orders"], minRows: { Orders: 10 } })),
        problems: [
            'db-tier:drill.minRows.Orders: key "Orders" has capital letters; PostgreSQL folds unquoted names to lowercase, so write "orders"',
        ],
    },
    {
        class: "shapes",
        title: "drill minRows key naming a table that is not listed",
        shown: "drill: {tables: [public.orders], minRows: {orders: 10}}",
        run: dev((c) => (c.drill = { tables: ["public.orders"], minRows: { orders: 10 } })),
        problems: [
            "db-tier:drill.minRows.orders: names a table that drill.tables does not list; did you mean public.orders? (tables: public.orders)",
        ],
    },
    {
        class: "shapes",
        title: "drill minRows key with a typo",
        shown: "drill: {tables: [orders, users], minRows: {order: 10}}",
        run: dev((c) => (c.drill = { tables: ["orders", "users"], minRows: { order: 10 } })),
        problems: ["db-tier:drill.minRows.order: names a table that drill.tables does not list (tables: orders, users)"],
    },
    {
        class: "shapes",
        title: "drill minRows below zero",
        shown: "drill.minRows: {orders: -1}",
        run: dev((c) => (c.drill = { minRows: { orders: -1 } })),
        problems: ["db-tier:drill.minRows.orders: must be at least 0 rows"],
    },
    {
        class: "shapes",
        title: "drill minRows as text",
        shown: 'drill.minRows: {orders: "10"}',
        run: dev((c) => (c.drill = { minRows: { orders: "10" } })),
        problems: ["db-tier:drill.minRows.orders: must be a number of rows (got a string)"],
    },
    {
        class: "shapes",
        title: "drill table with three parts",
        shown: "drill.tables: [app.public.orders]",
        run: dev((c) => (c.drill = { tables: ["app.public.orders"] })),
        problems: ['db-tier:drill.tables[0]: "app.public.orders" must be table or schema.table (e.g. public.orders)'],
    },
    {
        class: "shapes",
        title: "drill table in the wrong case",
        shown: "drill.tables: [public.Orders]",
        run: dev((c) => (c.drill = { tables: ["public.Orders"] })),
        problems: [
            'db-tier:drill.tables[0]: "Orders" has capital letters; PostgreSQL folds unquoted names to lowercase, so write "orders" (in "public.Orders")',
        ],
    },
    {
        class: "shapes",
        title: "drill table listed twice",
        shown: "drill.tables: [orders, orders]",
        run: dev((c) => (c.drill = { tables: ["orders", "orders"] })),
        problems: ['db-tier:drill.tables[1]: "orders" is listed twice'],
    },
    {
        class: "shapes",
        title: "drill tables as one string",
        shown: "drill.tables: orders",
        run: dev((c) => (c.drill = { tables: "orders" })),
        problems: ["db-tier:drill.tables: must be a list (got a string)"],
    },
    {
        class: "shapes",
        title: "clusters as a mapping",
        shown: "clusters: {app: {databases: [app]}}",
        run: dev((c) => (c.clusters = { app: { databases: ["app"] } })),
        problems: ["db-tier:clusters: must be a list (got a mapping)"],
    },
    {
        class: "shapes",
        title: "databases as one string",
        shown: "clusters: [{name: app, databases: app}]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: "app" }])),
        problems: ["db-tier:clusters[0].databases: must be a list of database names, e.g. [app] (got a string)"],
    },
    {
        class: "shapes",
        title: "an empty YAML value",
        shown: "db-tier:sslmode: (nothing)",
        run: dev((c) => (c.sslmode = null)),
        problems: [
            "db-tier:sslmode: is empty (a YAML key with no value, or ~/null); must be one of disable, prefer, require, verify-ca, verify-full",
        ],
    },
    {
        class: "shapes",
        title: "postgres image of another major version",
        shown: "postgres.image: postgres:16",
        run: dev((c) => (c.postgres = { image: "postgres:16" })),
        problems: [
            'db-tier:postgres.image: "postgres:16" is PostgreSQL 16; the tier runs PostgreSQL 15 (data directories do not cross majors): use a 15 image, e.g. …/db-tier-postgres built from images/postgres',
        ],
    },
    {
        class: "shapes",
        title: "postgres image whose tag says 14",
        shown: "postgres.image: postgres:14.11-alpine",
        run: dev((c) => (c.postgres = { image: "postgres:14.11-alpine" })),
        problems: [
            'db-tier:postgres.image: "postgres:14.11-alpine" is PostgreSQL 14; the tier runs PostgreSQL 15 (data directories do not cross majors): use a 15 image, e.g. …/db-tier-postgres built from images/postgres',
        ],
    },
    {
        class: "shapes",
        title: "own image tagged for another major",
        shown: "postgres.image: registry.internal:5000/db-tier-postgres:pg16-1.2",
        run: dev((c) => (c.postgres = { image: "registry.internal:5000/db-tier-postgres:pg16-1.2" })),
        problems: [
            'db-tier:postgres.image: "registry.internal:5000/db-tier-postgres:pg16-1.2" is PostgreSQL 16; the tier runs PostgreSQL 15 (data directories do not cross majors): use a 15 image, e.g. …/db-tier-postgres built from images/postgres',
        ],
    },
    {
        class: "shapes",
        title: "official postgres image without a version",
        shown: "postgres.image: postgres",
        run: dev((c) => (c.postgres = { image: "postgres" })),
        problems: [
            'db-tier:postgres.image: "postgres" floats to the newest PostgreSQL major; the tier runs PostgreSQL 15 with WAL-G (e.g. the image built from images/postgres, or postgres:15 plus WAL-G)',
        ],
    },

    // ---- valid inputs that crashed; addresses ---------------------------------------------
    {
        class: "addresses",
        title: "host bind address not an IP",
        shown: "hostBindAddress: localhost",
        run: dev((c) => (c.hostBindAddress = "localhost")),
        problems: [
            'db-tier:hostBindAddress: "localhost" is not an IP address; write one such as 127.0.0.1 or ::1 (a host name is not resolved here)',
        ],
    },
    {
        class: "addresses",
        title: "host bind address with a port",
        shown: "hostBindAddress: 127.0.0.1:6432",
        run: dev((c) => (c.hostBindAddress = "127.0.0.1:6432")),
        problems: [
            'db-tier:hostBindAddress: "127.0.0.1:6432" is not an IP address; write one such as 127.0.0.1 or ::1 (a host name is not resolved here)',
        ],
    },
    {
        class: "addresses",
        title: "IPv6 bind address with a zone index",
        shown: "hostBindAddress: fe80::1%eth0",
        run: dev((c) => (c.hostBindAddress = "fe80::1%eth0")),
        problems: [
            'db-tier:hostBindAddress: "fe80::1%eth0" carries an IPv6 zone index; name an address without one (e.g. ::1 or 127.0.0.1)',
        ],
    },
    {
        class: "addresses",
        title: "an IPv4 address out of range",
        shown: "hostBindAddress: 127.0.0.256",
        run: dev((c) => (c.hostBindAddress = "127.0.0.256")),
        problems: [
            'db-tier:hostBindAddress: "127.0.0.256" is not an IP address; write one such as 127.0.0.1 or ::1 (a host name is not resolved here)',
        ],
    },

    // ---- schedules ------------------------------------------------------------------------
    {
        class: "schedules",
        title: "cron hour out of range",
        shown: 'backup.schedule: "0 25 * * *"',
        run: dev((c) => (c.backup = { schedule: "0 25 * * *" })),
        problems: ['db-tier:backup.schedule: is not a valid UTC cron schedule: hour "25" is outside 0-23'],
    },
    {
        class: "schedules",
        title: "cron date that never happens",
        shown: 'backup.schedule: "0 0 30 2 *"',
        run: dev((c) => (c.backup = { schedule: "0 0 30 2 *" })),
        problems: ['db-tier:backup.schedule: is not a valid UTC cron schedule: "0 0 30 2 *" never runs (no such date)'],
    },
    {
        class: "schedules",
        title: "cron with six fields",
        shown: 'backup.schedule: "0 0 2 * * *"',
        run: dev((c) => (c.backup = { schedule: "0 0 2 * * *" })),
        problems: [
            'db-tier:backup.schedule: is not a valid UTC cron schedule: "0 0 2 * * *" must have 5 fields (minute hour day-of-month month day-of-week)',
        ],
    },
    {
        class: "schedules",
        title: "base backups less than daily",
        shown: 'backup.schedule: "0 2 * * 0"',
        run: dev((c) => (c.backup = { schedule: "0 2 * * 0" })),
        problems: ["db-tier:backup.schedule: must run at least daily to keep 7 daily backups (longest gap would be 7 days)"],
    },
    {
        class: "schedules",
        title: "base backups every 15 minutes",
        shown: 'backup.schedule: "*/15 * * * *"',
        run: dev((c) => (c.backup = { schedule: "*/15 * * * *" })),
        problems: [
            'db-tier:backup.schedule: runs a base backup every 15 minute(s); at most hourly (WAL archiving already covers the minutes between), e.g. "0 2 * * *"',
        ],
    },
    {
        class: "schedules",
        title: "two base backups half an hour apart",
        shown: 'backup.schedule: "0,30 2 * * *"',
        run: dev((c) => (c.backup = { schedule: "0,30 2 * * *" })),
        problems: [
            'db-tier:backup.schedule: runs a base backup every 30 minute(s); at most hourly (WAL archiving already covers the minutes between), e.g. "0 2 * * *"',
        ],
    },
    {
        class: "schedules",
        title: "restore drill every five minutes",
        shown: 'drill.schedule: "*/5 * * * *"',
        run: dev((c) => (c.drill = { schedule: "*/5 * * * *" })),
        problems: [
            'db-tier:drill.schedule: starts a restore drill every 5 minute(s), before one may have finished (drill.rtoSeconds 3600); run it at most every 60 minutes, e.g. "0 4 * * 0"',
        ],
    },
    {
        class: "schedules",
        title: "hourly drill with a two-hour RTO",
        shown: 'drill: {schedule: "0 * * * *", rtoSeconds: 7200}',
        run: dev((c) => (c.drill = { schedule: "0 * * * *", rtoSeconds: 7200 })),
        problems: [
            'db-tier:drill.schedule: starts a restore drill every 60 minute(s), before one may have finished (drill.rtoSeconds 7200); run it at most every 120 minutes, e.g. "0 4 * * 0"',
        ],
    },
    {
        class: "schedules",
        title: "restore drill less than monthly",
        shown: 'drill.schedule: "0 4 1 */2 *"',
        run: dev((c) => (c.drill = { schedule: "0 4 1 */2 *" })),
        problems: ["db-tier:drill.schedule: must run at least monthly (longest gap would be 62 days)"],
    },
    {
        class: "basics",
        title: "lifecycle safety net passed to BackupBucket (component), a removed argument",
        shown: "new BackupBucket(..., {safetyNetDays: 90})",
        run: bucket((c) => (c.safetyNetDays = 90)),
        problems: [
            "safetyNetDays: is no longer used: no lifecycle rule expires backup data by age any more, because such a rule also expires permanent backups (wal-g backup-mark) and their WAL; WAL-G's retention alone deletes backups; remove it",
        ],
    },
    {
        class: "schedules",
        title: "RPO of one second (archive_timeout below the 10 s floor)",
        shown: "backup.rpoSeconds: 1",
        run: dev((c) => (c.backup = { rpoSeconds: 1 })),
        problems: [
            "db-tier:backup.rpoSeconds: must be between 10 and 300 seconds: below 10 s every forced WAL switch ships a mostly empty 16 MB segment for little less loss; for an RPO of seconds set backup.walStreaming: true",
        ],
    },
    {
        class: "schedules",
        title: "oldest-point drill only every other month",
        shown: 'drill.oldestPointSchedule: "0 5 15 */2 *"',
        run: dev((c) => (c.drill = { oldestPointSchedule: "0 5 15 */2 *" })),
        problems: [
            'db-tier:drill.oldestPointSchedule: must run at least monthly (longest gap would be 62 days), so the oldest point of the 30-day window is proven restorable every month; e.g. "0 5 15 * *"',
        ],
    },
    {
        class: "basics",
        title: "an embedded MinIO image without the embedded MinIO",
        shown: "provider: minio, embedded: false, embeddedImage: db-tier/minio:local",
        run: dev((c) =>
            Object.assign(c.storage, { embedded: false, endpoint: "http://127.0.0.1:9000", embeddedImage: "db-tier/minio:local" }),
        ),
        problems: ["db-tier:storage.embeddedImage: is the image of the embedded MinIO; remove it, or set embedded: true"],
    },
    {
        class: "contradictions",
        title: "a Postgres memory limit below its shared_buffers",
        shown: "postgres.sharedBuffers: 1GB, limits.postgres.memoryMB: 512",
        run: dev((c) => {
            c.postgres = { sharedBuffers: "1GB" };
            c.limits = { postgres: { memoryMB: 512 } };
        }),
        problems: [
            "db-tier:limits.postgres.memoryMB: 512 MB does not hold postgres.sharedBuffers 1GB and the server's own memory: set at least 1152, or leave it out (default for these settings: 2496)",
        ],
    },
    {
        class: "contradictions",
        title: "a Postgres process limit below max_connections",
        shown: "postgres.maxConnections: 500, limits.postgres.pids: 256",
        run: dev((c) => {
            c.postgres = { maxConnections: 500 };
            c.limits = { postgres: { pids: 256 } };
        }),
        problems: [
            "db-tier:limits.postgres.pids: 256 processes is fewer than postgres.maxConnections 500 backends and the server's own 64: set at least 564 (default 4096)",
        ],
    },
];

export const GOOD_INPUTS: readonly GoodInput[] = [
    { class: "basics", title: "the dev stack's values", shown: "Pulumi.dev.yaml", run: stackCase(DEV) },
    {
        class: "basics",
        title: "the preview stack's values",
        shown: "Pulumi.preview.yaml",
        run: stackCase(
            R2,
            (c) =>
                (c.clusters = [
                    { name: "app", databases: ["app", "litellm"] },
                    { name: "temporal", databases: ["temporal", "temporal_visibility"] },
                ]),
        ),
    },
    {
        class: "basics",
        title: "the production stack's values",
        shown: "Pulumi.production.yaml",
        run: stackCase(B2, (c) =>
            Object.assign(c, {
                sslmode: "require",
                drill: { schedule: "0 4 * * 0" },
                pgbouncer: { defaultPoolSize: 20, maxClientConn: 1000 },
                clusters: [
                    { name: "app", databases: ["app", "litellm"] },
                    { name: "temporal", databases: ["temporal", "temporal_visibility"] },
                ],
            }),
        ),
    },

    {
        class: "storage-names",
        title: "MinIO bucket with dots (path-style)",
        shown: "storage.bucket: db.tier.backups",
        run: minioBucket("db.tier.backups"),
    },
    { class: "storage-names", title: "MinIO bucket of the minimum 3 characters", shown: "storage.bucket: abc", run: minioBucket("abc") },
    {
        class: "storage-names",
        title: "MinIO bucket of exactly 63 characters",
        shown: `storage.bucket: ${"b".repeat(63)}`,
        run: minioBucket("b".repeat(63)),
    },
    { class: "storage-names", title: "bucket of digits only", shown: "storage.bucket: 2026", run: minioBucket("2026") },
    {
        class: "storage-names",
        title: "R2 bucket with a double dash inside",
        shown: "provider: r2, bucket: db--backups",
        run: r2((c) => (c.storage.bucket = "db--backups")),
    },
    {
        class: "storage-names",
        title: "R2 bucket of exactly 63 characters",
        shown: `provider: r2, bucket: ${"r".repeat(63)}`,
        run: r2((c) => (c.storage.bucket = "r".repeat(63))),
    },
    {
        class: "storage-names",
        title: "B2 bucket of the minimum 6 characters",
        shown: "provider: b2, bucket: abcdef",
        run: b2((c) => (c.storage.bucket = "abcdef")),
    },
    {
        class: "storage-names",
        title: "B2 bucket containing b2 but not starting with b2-",
        shown: "provider: b2, bucket: my-b2-backups",
        run: b2((c) => (c.storage.bucket = "my-b2-backups")),
    },

    {
        class: "postgres-names",
        title: "database name of exactly 55 bytes (alias 63)",
        shown: `databases: [${D55}]`,
        run: dev((c) => (c.clusters = [{ name: "app", databases: [D55] }])),
    },
    {
        class: "postgres-names",
        title: "root role of exactly 63 bytes",
        shown: `rootUser: ${R63}`,
        run: dev((c) => (c.clusters = [{ name: "app", rootUser: R63 }])),
    },
    {
        class: "postgres-names",
        title: "names that only resemble reserved ones",
        shown: "databases: [postgres_app, app_migrations, template], rootUser: pgadmin",
        run: dev((c) =>
            Object.assign(c, {
                clusters: [{ name: "app", databases: ["postgres_app", "app_migrations", "template"], rootUser: "pgadmin" }],
                postgres: { maxConnections: 250 },
            }),
        ),
    },
    {
        class: "postgres-names",
        title: "a database name starting with an underscore",
        shown: "databases: [_app]",
        run: dev((c) => (c.clusters = [{ name: "app", databases: ["_app"] }])),
    },
    {
        class: "postgres-names",
        title: "drill database every cluster has",
        shown: "drill.database: shared, both clusters list shared",
        run: dev((c) =>
            Object.assign(c, {
                drill: { database: "shared" },
                clusters: [
                    { name: "app", databases: ["app", "shared"] },
                    { name: "temporal", databases: ["temporal", "shared"] },
                ],
            }),
        ),
    },

    {
        class: "contradictions",
        title: "pools exactly at the max_connections budget",
        shown: "postgres.maxConnections: 90 (pools 80 + 10)",
        run: dev((c) => (c.postgres = { maxConnections: 90 })),
    },
    {
        class: "contradictions",
        title: "the smallest consistent pool",
        shown: "pgbouncer.defaultPoolSize: 1, postgres.maxConnections: 14",
        run: dev((c) => Object.assign(c, { pgbouncer: { defaultPoolSize: 1 }, postgres: { maxConnections: 14 } })),
    },
    {
        class: "contradictions",
        title: "shared_buffers at PostgreSQL's minimum",
        shown: "postgres.sharedBuffers: 128kB",
        run: dev((c) => (c.postgres = { sharedBuffers: "128kB" })),
    },
    {
        class: "contradictions",
        title: "shared_buffers as 8kB blocks",
        shown: "postgres.sharedBuffers: 16",
        run: dev((c) => (c.postgres = { sharedBuffers: "16" })),
    },
    {
        class: "contradictions",
        title: "shared_buffers in GB",
        shown: "postgres.sharedBuffers: 2GB",
        run: dev((c) => (c.postgres = { sharedBuffers: "2GB" })),
    },
    {
        class: "contradictions",
        title: "one cluster publishing pgBouncer beside the embedded MinIO",
        shown: "pgbouncer.publishPort: 16432",
        run: dev((c) => (c.pgbouncer = { publishPort: 16432 })),
    },

    {
        class: "keys",
        title: "other providers' namespaces are left alone",
        shown: "docker:host, aws:region, myapp:featureFlag",
        run: stackCase(DEV, () => undefined, "dev", {
            "docker:host": "unix:///var/run/docker.sock",
            "aws:region": "us-east-1",
            "myapp:featureFlag": "true",
            "pulumi:tags": { team: "db" },
        }),
    },
    {
        class: "keys",
        title: "a secret key set with --secret",
        shown: "db-tier:storageSecretAccessKey: {secure: ...}",
        run: () => validateStack(engineConfig(DEV, { "db-tier:storageSecretAccessKey": "v" }), "dev", () => true),
    },

    {
        class: "production-safety",
        title: "an external MinIO on loopback over http",
        shown: "storage: {provider: minio, endpoint: http://127.0.0.1:9000}",
        run: dev((c) => Object.assign(c.storage, { embedded: false, endpoint: "http://127.0.0.1:9000" })),
    },
    {
        class: "production-safety",
        title: "an external MinIO on IPv6 loopback over http",
        shown: "storage: {provider: minio, endpoint: http://[::1]:9000}",
        run: dev((c) => Object.assign(c.storage, { embedded: false, endpoint: "http://[::1]:9000" })),
    },
    {
        class: "production-safety",
        title: "an external MinIO over https",
        shown: "storage: {provider: minio, endpoint: https://minio.internal:9000}",
        run: dev((c) => Object.assign(c.storage, { embedded: false, endpoint: "https://minio.internal:9000" })),
    },
    {
        class: "production-safety",
        title: "tcp:// with client TLS certificates",
        shown: "dockerHost: tcp://db-1.internal:2376, dockerCertPath: /home/deploy/.docker",
        run: b2((c) => Object.assign(c, { dockerHost: "tcp://db-1.internal:2376", dockerCertPath: "/home/deploy/.docker" })),
    },
    {
        class: "production-safety",
        title: "ssh:// without a user (from ~/.ssh/config)",
        shown: "dockerHost: ssh://db-1.internal:2222",
        run: b2((c) => (c.dockerHost = "ssh://db-1.internal:2222")),
    },
    {
        class: "production-safety",
        title: "the local engine's socket with the embedded MinIO",
        shown: "dockerHost: unix:///var/run/docker.sock",
        run: dev((c) => (c.dockerHost = "unix:///var/run/docker.sock")),
    },
    {
        class: "production-safety",
        title: "an R2 jurisdiction endpoint",
        shown: "endpoint: https://<account>.eu.r2.cloudflarestorage.com",
        run: r2((c) => (c.storage.endpoint = "https://0123456789abcdef0123456789abcdef.eu.r2.cloudflarestorage.com")),
    },
    {
        class: "production-safety",
        title: "a B2 region that matches the endpoint",
        shown: "region: us-west-004",
        run: b2((c) => (c.storage.region = "us-west-004")),
    },

    {
        class: "copied-stack",
        title: "a new stack with its own environment",
        shown: "stack staging, environment: staging",
        run: stackCase(R2, (c) => (c.environment = "staging"), "staging"),
    },

    {
        class: "shapes",
        title: "minRows naming listed tables",
        shown: "drill: {tables: [public.orders, users], minRows: {public.orders: 1, users: 0}}",
        run: dev((c) => (c.drill = { tables: ["public.orders", "users"], minRows: { "public.orders": 1, users: 0 } })),
    },
    {
        class: "shapes",
        title: "minRows without tables (counted anyway)",
        shown: "drill.minRows: {orders: 1}",
        run: dev((c) => (c.drill = { minRows: { orders: 1 } })),
    },
    {
        class: "shapes",
        title: "a PostgreSQL 15 image with a registry port",
        shown: "postgres.image: registry.internal:5000/db-tier-postgres:0.1.0",
        run: dev((c) => (c.postgres = { image: "registry.internal:5000/db-tier-postgres:0.1.0" })),
    },
    {
        class: "shapes",
        title: "the official 15 image",
        shown: "postgres.image: postgres:15.8-bookworm",
        run: dev((c) => (c.postgres = { image: "postgres:15.8-bookworm" })),
    },
    {
        class: "shapes",
        title: "an image pinned by digest",
        shown: "postgres.image: postgres@sha256:…",
        run: dev((c) => (c.postgres = { image: `postgres@sha256:${"a".repeat(64)}` })),
    },

    {
        class: "addresses",
        title: "IPv6 loopback as the bind address",
        shown: "hostBindAddress: ::1",
        run: dev((c) => Object.assign(c, { hostBindAddress: "::1", pgbouncer: { publishPort: 16432 } })),
    },
    {
        class: "addresses",
        title: "IPv6 loopback in brackets",
        shown: "hostBindAddress: '[::1]'",
        run: dev((c) => (c.hostBindAddress = "[::1]")),
    },
    {
        class: "addresses",
        title: "a private IPv6 address",
        shown: "hostBindAddress: fd00::10",
        run: dev((c) => (c.hostBindAddress = "fd00::10")),
    },
    {
        class: "addresses",
        title: "a private IPv4 address",
        shown: "hostBindAddress: 10.0.0.5",
        run: dev((c) => (c.hostBindAddress = "10.0.0.5")),
    },

    {
        class: "schedules",
        title: "hourly base backups (the most frequent allowed)",
        shown: 'backup.schedule: "0 * * * *"',
        run: dev((c) => (c.backup = { schedule: "0 * * * *" })),
    },
    {
        class: "schedules",
        title: "an hourly drill with the default RTO",
        shown: 'drill.schedule: "0 * * * *"',
        run: dev((c) => (c.drill = { schedule: "0 * * * *" })),
    },
    {
        class: "schedules",
        title: "a weekly drill",
        shown: 'drill.schedule: "0 4 * * 0"',
        run: dev((c) => (c.drill = { schedule: "0 4 * * 0" })),
    },
    {
        class: "schedules",
        title: "RPO at the 10 s floor (the measured archive_timeout option)",
        shown: "backup.rpoSeconds: 10",
        run: dev((c) => (c.backup = { rpoSeconds: 10 })),
    },
    {
        class: "schedules",
        title: "a monthly oldest-point drill on the last possible day",
        shown: 'drill.oldestPointSchedule: "0 5 28 * *"',
        run: dev((c) => (c.drill = { oldestPointSchedule: "0 5 28 * *" })),
    },
    {
        class: "basics",
        title: "limits for every container, the embedded MinIO's included",
        shown: "limits: {postgres: {memoryMB: 2048}, pgbouncer: {pids: 512}, jobs: {memoryMB: 768}, objectStore: {memoryMB: 512}}",
        run: dev(
            (c) =>
                (c.limits = {
                    postgres: { memoryMB: 2048 },
                    pgbouncer: { pids: 512 },
                    jobs: { memoryMB: 768 },
                    objectStore: { memoryMB: 512 },
                }),
        ),
    },
];
