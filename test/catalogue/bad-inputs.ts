/**
 * The bad-input catalogue: invalid stack configs and component arguments, each with the
 * exact error it must produce. test/unit/bad-inputs.test.ts asserts every one, and
 * scripts/config-docs.ts lists them in docs/configuration.md.
 */
import { parseOrThrow } from "../../config/errors";
import { backupBucketArgsSchema, databaseTierArgsSchema } from "../../config/component-args";
import { TierConfigInput, tierConfigSchema } from "../../config/schema";

export interface BadInput {
    /** What is wrong, in a few words. */
    readonly title: string;
    /** The offending value, as a user would write it. */
    readonly shown: string;
    /** Runs the validation that must reject it. */
    readonly run: () => unknown;
    /** The exact problem line(s) of the ConfigError. */
    readonly problems: readonly string[];
}

const valid: TierConfigInput = {
    environment: "dev",
    storage: { provider: "minio", bucket: "db-tier-dev-backups", embedded: true },
};

function stack(patch: (c: any) => void): () => unknown {
    return () => {
        const c = structuredClone(valid) as any;
        patch(c);
        return parseOrThrow(tierConfigSchema, c, "db-tier stack config", "db-tier");
    };
}

const tierArgs = {
    environment: "dev",
    cluster: { name: "app", databases: ["app"] },
    storage: { provider: "minio", bucketName: "db-tier-dev-backups", endpoint: "http://object-store:9000", region: "us-east-1", accessKeyId: "k", secretAccessKey: "s" },
    images: { postgres: "postgres-image", pgbouncer: "pgbouncer-image" },
};

function component(patch: (c: any) => void): () => unknown {
    return () => {
        const c = structuredClone(tierArgs) as any;
        patch(c);
        return parseOrThrow(databaseTierArgsSchema, c, "DatabaseTier app");
    };
}

export const BAD_INPUTS: readonly BadInput[] = [
    { title: "environment missing", shown: "(no db-tier:environment)", run: stack((c) => delete c.environment), problems: ["db-tier:environment: is required"] },
    { title: "environment not a DNS label", shown: "environment: Prod_1", run: stack((c) => (c.environment = "Prod_1")), problems: ["db-tier:environment: must be 1-32 characters of a-z, 0-9 and '-', starting with a letter and not ending with '-'"] },
    { title: "storage missing", shown: "(no db-tier:storage)", run: stack((c) => delete c.storage), problems: ["db-tier:storage: is required"] },
    { title: "unknown storage provider", shown: "storage.provider: s3", run: stack((c) => (c.storage.provider = "s3")), problems: ['db-tier:storage.provider: must be one of minio, r2, b2 (got "s3")'] },
    { title: "bucket name with capitals and underscore", shown: "storage.bucket: My_Backups", run: stack((c) => (c.storage.bucket = "My_Backups")), problems: ["db-tier:storage.bucket: must be 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit"] },
    { title: "bucket name too short", shown: "storage.bucket: ab", run: stack((c) => (c.storage.bucket = "ab")), problems: ["db-tier:storage.bucket: must be 3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit"] },
    { title: "bucket name shaped like an IP address", shown: "storage.bucket: 192.168.1.10", run: stack((c) => (c.storage.bucket = "192.168.1.10")), problems: ["db-tier:storage.bucket: must not contain '..' or look like an IP address"] },
    { title: "endpoint not a URL", shown: "storage.endpoint: minio:9000", run: stack((c) => Object.assign(c.storage, { embedded: false, endpoint: "minio 9000" })), problems: ['db-tier:storage.endpoint: must be an http(s) URL like https://host[:port] (got "minio 9000")'] },
    { title: "endpoint with a non-HTTP scheme", shown: "storage.endpoint: ftp://minio:9000", run: stack((c) => Object.assign(c.storage, { embedded: false, endpoint: "ftp://minio:9000" })), problems: ['db-tier:storage.endpoint: must be an http(s) URL like https://host[:port] with no path (got "ftp://minio:9000")'] },
    { title: "endpoint with a path (the bucket belongs in storage.bucket)", shown: "storage.endpoint: https://acc.r2.cloudflarestorage.com/backups", run: stack((c) => Object.assign(c.storage, { provider: "r2", embedded: false, endpoint: "https://acc.r2.cloudflarestorage.com/backups" })), problems: ['db-tier:storage.endpoint: must be an http(s) URL like https://host[:port] with no path (got "https://acc.r2.cloudflarestorage.com/backups")'] },
    { title: "R2 provider with a non-R2 endpoint", shown: "provider: r2, endpoint: https://s3.amazonaws.com", run: stack((c) => Object.assign(c.storage, { provider: "r2", embedded: false, endpoint: "https://s3.amazonaws.com" })), problems: ["db-tier:storage.endpoint: must be https://<account>.r2.cloudflarestorage.com for provider r2"] },
    { title: "B2 provider with a non-B2 endpoint", shown: "provider: b2, endpoint: https://b2.example.com", run: stack((c) => Object.assign(c.storage, { provider: "b2", embedded: false, endpoint: "https://b2.example.com" })), problems: ["db-tier:storage.endpoint: must be https://s3.<region>.backblazeb2.com for provider b2"] },
    { title: "R2 with a region other than auto", shown: "provider: r2, region: us-east-1", run: stack((c) => Object.assign(c.storage, { provider: "r2", embedded: false, endpoint: "https://acc.r2.cloudflarestorage.com", region: "us-east-1" })), problems: ["db-tier:storage.region: must be auto for provider r2"] },
    { title: "embedded object store with a cloud provider", shown: "provider: b2, embedded: true", run: stack((c) => Object.assign(c.storage, { provider: "b2", endpoint: "https://s3.us-west-004.backblazeb2.com" })), problems: ["db-tier:storage.embedded: is only allowed with provider minio"] },
    { title: "external MinIO without an endpoint", shown: "provider: minio, embedded: false", run: stack((c) => (c.storage.embedded = false)), problems: ["db-tier:storage.endpoint: is required for provider minio unless embedded"] },
    { title: "Docker host with an unsupported scheme", shown: "dockerHost: http://db-1:2375", run: stack((c) => (c.dockerHost = "http://db-1:2375")), problems: ["db-tier:dockerHost: must be unix:///path, ssh://user@host[:port] or tcp://host:port"] },
    { title: "host bind address not an IP", shown: "hostBindAddress: localhost", run: stack((c) => (c.hostBindAddress = "localhost")), problems: ["db-tier:hostBindAddress: must be an IP address such as 127.0.0.1"] },
    { title: "publishing on every interface", shown: "hostBindAddress: 0.0.0.0, pgbouncer.publishPort: 6432", run: stack((c) => Object.assign(c, { hostBindAddress: "0.0.0.0", pgbouncer: { publishPort: 6432 } })), problems: ["db-tier:hostBindAddress: must not be 0.0.0.0 when a port is published; name one host address"] },
    { title: "unknown sslmode", shown: "sslmode: on", run: stack((c) => (c.sslmode = "on")), problems: ['db-tier:sslmode: must be one of disable, prefer, require, verify-ca, verify-full (got "on")'] },
    { title: "no clusters", shown: "clusters: []", run: stack((c) => (c.clusters = [])), problems: ["db-tier:clusters: must contain at least one cluster"] },
    { title: "two clusters with one name (their containers would collide)", shown: "clusters: [{name: app}, {name: app}]", run: stack((c) => (c.clusters = [{ name: "app" }, { name: "app" }])), problems: ['db-tier:clusters[1].name: "app" is used by two clusters; names must be unique'] },
    { title: "cluster name with punctuation", shown: "clusters[0].name: App!", run: stack((c) => (c.clusters = [{ name: "App!" }])), problems: ["db-tier:clusters[0].name: must be 1-32 characters of a-z, 0-9 and '-', starting with a letter and not ending with '-'"] },
    { title: "database name that would need quoting", shown: "databases: [App-DB]", run: stack((c) => (c.clusters = [{ name: "app", databases: ["App-DB"] }])), problems: ["db-tier:clusters[0].databases[0]: must be 1-63 characters of a-z, 0-9 and '_', not starting with a digit"] },
    { title: "database listed twice", shown: "databases: [app, app]", run: stack((c) => (c.clusters = [{ name: "app", databases: ["app", "app"] }])), problems: ['db-tier:clusters[0].databases[1]: "app" is listed twice'] },
    { title: "database name reserved by the pooler", shown: "databases: [app, app_migrate]", run: stack((c) => (c.clusters = [{ name: "app", databases: ["app", "app_migrate"] }])), problems: ['db-tier:clusters[0].databases[1]: "app_migrate" is reserved (pgbouncer, *_migrate)'] },
    { title: "root role named like an application role", shown: "rootUser: app_user", run: stack((c) => (c.clusters = [{ name: "app", rootUser: "app_user" }])), problems: ["db-tier:clusters[0].rootUser: must differ from app_user and app_service"] },
    { title: "cron hour out of range", shown: 'backup.schedule: "0 25 * * *"', run: stack((c) => (c.backup = { schedule: "0 25 * * *" })), problems: ['db-tier:backup.schedule: is not a valid UTC cron schedule: hour "25" is outside 0-23'] },
    { title: "cron date that never happens", shown: 'backup.schedule: "0 0 30 2 *"', run: stack((c) => (c.backup = { schedule: "0 0 30 2 *" })), problems: ['db-tier:backup.schedule: is not a valid UTC cron schedule: "0 0 30 2 *" never runs (no such date)'] },
    { title: "cron with six fields", shown: 'backup.schedule: "0 0 2 * * *"', run: stack((c) => (c.backup = { schedule: "0 0 2 * * *" })), problems: ['db-tier:backup.schedule: is not a valid UTC cron schedule: "0 0 2 * * *" must have 5 fields (minute hour day-of-month month day-of-week)'] },
    { title: "base backups less than daily", shown: 'backup.schedule: "0 2 * * 0"', run: stack((c) => (c.backup = { schedule: "0 2 * * 0" })), problems: ["db-tier:backup.schedule: must run at least daily to keep 7 daily backups (longest gap would be 7 days)"] },
    { title: "RPO above the 300 s ceiling", shown: "backup.rpoSeconds: 600", run: stack((c) => (c.backup = { rpoSeconds: 600 })), problems: ["db-tier:backup.rpoSeconds: must be between 1 and 300 seconds"] },
    { title: "RPO as a string", shown: 'backup.rpoSeconds: "60"', run: stack((c) => (c.backup = { rpoSeconds: "60" })), problems: ["db-tier:backup.rpoSeconds: must be a number (got string)"] },
    { title: "unknown compression", shown: "backup.compression: gzip", run: stack((c) => (c.backup = { compression: "gzip" })), problems: ['db-tier:backup.compression: must be one of lz4, lzma (got "gzip")'] },
    { title: "lifecycle safety net inside the retention window", shown: "backup.safetyNetDays: 30", run: stack((c) => (c.backup = { safetyNetDays: 30 })), problems: ["db-tier:backup.safetyNetDays: must be more than 37 days, or the lifecycle rule would expire backups the retention policy still needs"] },
    { title: "no daily backups kept", shown: "backup.retention.daily: 0", run: stack((c) => (c.backup = { retention: { daily: 0 } })), problems: ["db-tier:backup.retention.daily: must keep at least 1 daily backup"] },
    { title: "restore drill less than monthly", shown: 'drill.schedule: "0 4 1 */2 *"', run: stack((c) => (c.drill = { schedule: "0 4 1 */2 *" })), problems: ["db-tier:drill.schedule: must run at least monthly (longest gap would be 62 days)"] },
    { title: "evidence kept for less than the drill period", shown: "backup.evidenceDays: 10, walDays: 7, drill every 2 weeks", run: stack((c) => Object.assign(c, { backup: { evidenceDays: 10, retention: { walDays: 7 } }, drill: { schedule: "0 4 1,15 * *" } })), problems: ["db-tier:backup.evidenceDays: must be at least the drill period (17 days), or no evidence would exist between drills"] },
    { title: "evidence kept for less than the WAL window", shown: "backup.evidenceDays: 31, backup.retention.walDays: 60", run: stack((c) => (c.backup = { evidenceDays: 31, retention: { walDays: 60 } })), problems: ["db-tier:backup.evidenceDays: must be at least backup.retention.walDays (60): evidence of the restores must outlive the backups it vouches for"] },
    { title: "weak generated passwords", shown: "passwordLength: 16", run: stack((c) => (c.passwordLength = 16)), problems: ["db-tier:passwordLength: must be at least 32"] },
    { title: "port out of range", shown: "pgbouncer.publishPort: 70000", run: stack((c) => (c.pgbouncer = { publishPort: 70000 })), problems: ["db-tier:pgbouncer.publishPort: must be a port between 1 and 65535"] },
    { title: "empty pool", shown: "pgbouncer.defaultPoolSize: 0", run: stack((c) => (c.pgbouncer = { defaultPoolSize: 0 })), problems: ["db-tier:pgbouncer.defaultPoolSize: must be at least 1"] },
    { title: "misspelt key", shown: "db-tier:postgress: {...}", run: stack((c) => (c.postgress = {})), problems: ["db-tier:postgress: unknown key; allowed keys are environment, dockerHost, hostBindAddress, sslmode, storage, clusters, backup, drill, pgbouncer, postgres, passwordLength"] },
    { title: "drill database not in the cluster (component)", shown: "new DatabaseTier(..., {drill: {database: analytics}})", run: component((c) => (c.drill = { database: "analytics" })), problems: ["drill.database: must be one of the cluster's databases: app"] },
    { title: "TLS sslmode without a certificate (component)", shown: "new DatabaseTier(..., {sslmode: require})", run: component((c) => (c.sslmode = "require")), problems: ["tls: is required (certPem and keyPem) when sslmode is require"] },
    { title: "two clusters sharing a backup prefix (component)", shown: "new BackupBucket(..., {backupPrefixes: [dev/app/, dev/app/]})", run: () => parseOrThrow(backupBucketArgsSchema, { provider: "minio", bucketName: "b-1", apiEndpoint: "http://127.0.0.1:9000", region: "us-east-1", backupPrefixes: ["dev/app/", "dev/app/"], safetyNetDays: 90, evidenceDays: 400 }, "BackupBucket b"), problems: ['backupPrefixes[1]: "dev/app/" is listed twice; clusters would share a backup prefix'] },
];
