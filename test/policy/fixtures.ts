/**
 * Policy fixtures: a compliant tier as plain resource records (the shapes the components
 * deploy, with the text the renderers produce), which each test then breaks in one place.
 * URNs, parents and providers are built the way the engine builds them.
 */
import type { EnforcementLevel } from "@pulumi/policy";
import { evaluatePolicies, type ResourceRecord, ROOT_STACK_TYPE, type Violation } from "../../policy/lib/evaluate";
import type { PackConfig } from "../../policy/lib/pack-config";
import { policies } from "../../policy/policies";
import { renderJobConfig } from "../../render/job-config";
import { renderLifecycleRules, type StorageProvider } from "../../render/lifecycle";
import { renderPgbouncerIni } from "../../render/pgbouncer";
import { renderPostgresqlConf } from "../../render/postgresql-conf";
import { hardening } from "../../components/container-hardening";
import { CONTAINER_PATHS, type ContainerRole, NETWORK_LABEL, ROLE_LABEL, SCHEDULE_ENV, typeToken } from "../../vocabulary";

export type Props = Record<string, any>;

export interface Rec extends ResourceRecord {
    inputs: Props;
    outputs?: Props;
}

export const T = {
    container: "docker:index/container:Container",
    network: "docker:index/network:Network",
    volume: "docker:index/volume:Volume",
    password: "random:index/randomPassword:RandomPassword",
    bucket: "aws:s3/bucket:Bucket",
    lifecycle: "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    versioning: "aws:s3/bucketVersioning:BucketVersioning",
    bucketPolicy: "aws:s3/bucketPolicy:BucketPolicy",
    bucketAcl: "aws:s3/bucketAcl:BucketAcl",
    bucketObject: "aws:s3/bucketObject:BucketObject",
    awsProvider: "pulumi:providers:aws",
} as const;

/** A stack of records with engine-style URNs. */
export class FixtureStack {
    readonly records: Rec[] = [];
    readonly root: string;

    constructor(
        readonly stack = "test",
        readonly project = "db-tier",
    ) {
        this.root = this.add(ROOT_STACK_TYPE, `${project}-${stack}`, {});
    }

    add(type: string, name: string, inputs: Props, opts: { parent?: string; provider?: string } = {}): string {
        const parent = opts.parent ?? (type === ROOT_STACK_TYPE ? undefined : this.root);
        const parentRec = parent ? this.records.find((r) => r.urn === parent) : undefined;
        const qualified = parentRec && parentRec.type !== ROOT_STACK_TYPE ? `${parentRec.urn.split("::")[2]}$${type}` : type;
        const urn = `urn:pulumi:${this.stack}::${this.project}::${qualified}::${name}`;
        if (this.records.some((r) => r.urn === urn)) throw new Error(`duplicate URN ${urn}`);
        this.records.push({ type, name, urn, inputs, parent, provider: opts.provider, custom: !type.startsWith("db-tier:") });
        return urn;
    }

    get(urn: string): Rec {
        const r = this.records.find((x) => x.urn === urn);
        if (!r) throw new Error(`no record ${urn}`);
        return r;
    }

    remove(urn: string): void {
        const i = this.records.findIndex((x) => x.urn === urn);
        if (i >= 0) this.records.splice(i, 1);
    }
}

/** The hardening inputs a tier container of `role` gets from its component. */
export const hardened = (role: ContainerRole) => hardening(role, { memoryMB: 512, pids: 1024 });

export const labels = (entries: Record<string, string>) => Object.entries(entries).map(([label, value]) => ({ label, value }));
export const roleLabels = (role: string, cluster = "app") => labels({ [ROLE_LABEL]: role, "db-tier.cluster": cluster });

export const ENDPOINTS: Record<StorageProvider, string> = {
    minio: "http://127.0.0.1:19000",
    r2: "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com",
    b2: "https://s3.us-west-004.backblazeb2.com",
};

export interface TierUrns {
    tier: string;
    dbOnly: string;
    app: string;
    backupEgress: string;
    postgres: string;
    pgbouncer: string;
    backup: string;
    drill: string;
    provisioner: string;
    appContainer: string;
    rootPassword: string;
}

export interface BucketUrns {
    component: string;
    provider: string;
    bucket: string;
    lifecycle: string;
    versioning?: string;
}

export interface Fixture {
    s: FixtureStack;
    tier: TierUrns;
    bucket: BucketUrns;
    objectStore?: string;
}

export const BUCKET = "db-tier-test-backups";

export function postgresConf(rpoSeconds = 60): string {
    return renderPostgresqlConf({
        listenAddresses: "*",
        port: 5432,
        maxConnections: 100,
        sharedBuffers: "128MB",
        hbaFile: CONTAINER_PATHS.pgHba,
        unixSocketDirectories: "/var/run/postgresql",
        archive: {
            walgBinary: CONTAINER_PATHS.walg,
            walgEnvFile: CONTAINER_PATHS.walgEnv,
            rpoSeconds,
            pushTimeoutSeconds: 120,
            fetchTimeoutSeconds: 120,
        },
    });
}

export function pgbouncerIni(): string {
    return renderPgbouncerIni({
        listenAddr: "*",
        listenPort: 6432,
        postgresHost: "postgres",
        postgresPort: 5432,
        databases: ["app"],
        authFile: CONTAINER_PATHS.pgbouncerAuthFile,
        defaultPoolSize: 20,
        maxClientConn: 1000,
        maxDbConnections: 90,
    });
}

export function backupJobConfig(retention = { daily: 7, weekly: 4, walDays: 30 }): string {
    return renderJobConfig({
        environment: "test",
        cluster: "app",
        schedule: "0 2 * * *",
        walgBinary: CONTAINER_PATHS.walg,
        walgEnvFile: CONTAINER_PATHS.walgEnv,
        pgData: `${CONTAINER_PATHS.pgData}/pgdata`,
        postgres: { host: "postgres", port: 5432, user: "postgres", passfile: CONTAINER_PATHS.pgpass, database: "postgres" },
        retention,
        pushTimeoutSeconds: 21600,
    });
}

const SECRET_TEXT = "SCRAM-SHA-256$4096:c2FsdA==$c3RvcmVk:c2VydmVy";

/** One cluster the way DatabaseTier deploys it. */
export function addTier(s: FixtureStack, cluster = "app", env = "test"): TierUrns {
    const p = `${env}-${cluster}`;
    const tier = s.add(typeToken("DatabaseTier"), p, {});
    const nets = s.add(typeToken("TierNetworks"), `${p}-networks`, {}, { parent: tier });
    const network = (kind: string, internal: boolean) =>
        s.add(
            T.network,
            `${p}-networks-${kind}`,
            { name: `${p}-${kind}`, driver: "bridge", internal, labels: labels({ [NETWORK_LABEL]: kind, "db-tier.cluster": cluster }) },
            { parent: nets },
        );
    const dbOnly = network("db-only", true);
    const app = network("app", false);
    const backupEgress = network("backup-egress", false);

    const secrets = s.add(typeToken("RoleSecrets"), `${p}-secrets`, {}, { parent: tier });
    const rootPassword = s.add(T.password, `${p}-secrets-root-password`, { length: 40, special: false }, { parent: secrets });
    s.add(T.password, `${p}-secrets-app-user-password`, { length: 40, special: false }, { parent: secrets });

    const secretFile = (file: string) => ({ file, content: "not-shown", permissions: "0400" });
    const pgComp = s.add(typeToken("PostgresServer"), `${p}-postgres`, {}, { parent: tier });
    s.add(T.volume, `${p}-postgres-data`, { name: `${p}-postgres-data`, labels: roleLabels("postgres", cluster) }, { parent: pgComp });
    const postgres = s.add(
        T.container,
        `${p}-postgres-container`,
        {
            name: `${p}-postgres`,
            image: "db-tier/postgres:local",
            command: ["postgres", "-c", `config_file=${CONTAINER_PATHS.postgresConf}`],
            envs: [
                "POSTGRES_USER=postgres",
                `POSTGRES_PASSWORD_FILE=${CONTAINER_PATHS.rootPasswordFile}`,
                `PGDATA=${CONTAINER_PATHS.pgData}/pgdata`,
            ],
            uploads: [
                { file: CONTAINER_PATHS.postgresConf, content: postgresConf() },
                { file: CONTAINER_PATHS.pgHba, content: "local all all peer\nhost all all 0.0.0.0/0 scram-sha-256\n" },
                secretFile(CONTAINER_PATHS.walgEnv),
                secretFile(CONTAINER_PATHS.rootPasswordFile),
            ],
            volumes: [{ volumeName: `${p}-postgres-data`, containerPath: CONTAINER_PATHS.pgData }],
            networksAdvanced: [{ name: `${p}-db-only`, aliases: ["postgres"] }, { name: `${p}-backup-egress` }],
            restart: "unless-stopped",
            ...hardened("postgres"),
            labels: roleLabels("postgres", cluster),
        },
        { parent: pgComp },
    );
    const bouncerComp = s.add(typeToken("PgBouncer"), `${p}-pgbouncer`, {}, { parent: tier });
    const pgbouncer = s.add(
        T.container,
        `${p}-pgbouncer-container`,
        {
            name: `${p}-pgbouncer`,
            image: "db-tier/pgbouncer:local",
            command: ["pgbouncer", CONTAINER_PATHS.pgbouncerIni],
            user: "postgres",
            uploads: [
                { file: CONTAINER_PATHS.pgbouncerIni, content: pgbouncerIni() },
                { file: CONTAINER_PATHS.pgbouncerAuthFile, content: `"app_user" "${SECRET_TEXT}"\n` },
            ],
            networksAdvanced: [
                { name: `${p}-app`, aliases: ["pgbouncer"] },
                { name: `${p}-db-only`, aliases: ["pgbouncer"] },
            ],
            ports: [{ internal: 6432, external: 16432, ip: "127.0.0.1", protocol: "tcp" }],
            ...hardened("pgbouncer"),
            labels: roleLabels("pgbouncer", cluster),
        },
        { parent: bouncerComp },
    );
    const provComp = s.add(typeToken("Provisioner"), `${p}-provisioner`, {}, { parent: tier });
    const provisioner = s.add(
        T.container,
        `${p}-provisioner-container`,
        {
            name: `${p}-provisioner`,
            image: "db-tier/postgres:local",
            command: ["psql", "-f", CONTAINER_PATHS.provisionSql],
            envs: [`PGPASSFILE=${CONTAINER_PATHS.pgpass}`, "DBTIER_CONVERGE_AT=2026-01-01T00:00:00.000Z"],
            uploads: [secretFile(CONTAINER_PATHS.pgpass), secretFile(CONTAINER_PATHS.provisionSql)],
            networksAdvanced: [{ name: `${p}-db-only` }],
            ...hardened("provisioner"),
            labels: roleLabels("provisioner", cluster),
        },
        { parent: provComp },
    );
    const backupComp = s.add(typeToken("BackupJob"), `${p}-backup`, {}, { parent: tier });
    const backup = s.add(
        T.container,
        `${p}-backup-container`,
        {
            name: `${p}-backup`,
            image: "db-tier/postgres:local",
            command: ["node", "/opt/db-tier/bin/jobs/scheduler.js", "backup", CONTAINER_PATHS.backupConfig],
            envs: [`${SCHEDULE_ENV.backup}=0 2 * * *`],
            uploads: [
                { file: CONTAINER_PATHS.backupConfig, content: backupJobConfig() },
                secretFile(CONTAINER_PATHS.walgEnv),
                secretFile(CONTAINER_PATHS.pgpass),
            ],
            volumes: [{ volumeName: `${p}-postgres-data`, containerPath: CONTAINER_PATHS.pgData, readOnly: true }],
            networksAdvanced: [{ name: `${p}-db-only` }, { name: `${p}-backup-egress` }],
            ...hardened("backup"),
            labels: roleLabels("backup", cluster),
        },
        { parent: backupComp },
    );
    const drillComp = s.add(typeToken("RestoreDrill"), `${p}-restore-drill`, {}, { parent: tier });
    const drill = s.add(
        T.container,
        `${p}-restore-drill-container`,
        {
            name: `${p}-restore-drill`,
            image: "db-tier/postgres:local",
            command: ["node", "/opt/db-tier/bin/jobs/scheduler.js", "drill", CONTAINER_PATHS.drillConfig],
            envs: [`${SCHEDULE_ENV.drill}=0 4 1 * *`],
            uploads: [{ file: CONTAINER_PATHS.drillConfig, content: "{}\n" }, secretFile(CONTAINER_PATHS.walgEnv)],
            volumes: [{ volumeName: `${p}-restore-drill-scratch`, containerPath: "/var/lib/db-tier/drill" }],
            networksAdvanced: [{ name: `${p}-backup-egress` }],
            ...hardened("restore-drill"),
            labels: roleLabels("restore-drill", cluster),
        },
        { parent: drillComp },
    );
    const appContainer = s.add(T.container, `${p}-web`, {
        name: `${p}-web`,
        image: "example/web:1",
        envs: ["DATABASE_URL_FILE=/run/secrets/database-url", "PORT=8080"],
        uploads: [{ file: "/run/secrets/database-url", content: "postgres://..." }],
        networksAdvanced: [{ name: `${p}-app` }],
        ports: [{ internal: 8080, external: 8080 }],
    });
    return { tier, dbOnly, app, backupEgress, postgres, pgbouncer, backup, drill, provisioner, appContainer, rootPassword };
}

/** The backup bucket the way BackupBucket deploys it on the given store. */
export function addBucket(s: FixtureStack, provider: StorageProvider, prefixes: string[] = ["test/app/"]): BucketUrns {
    const component = s.add(typeToken("BackupBucket"), "test-backups", {});
    const prov = s.add(
        T.awsProvider,
        "test-backups-provider",
        {
            region: "us-east-1",
            endpoints: JSON.stringify([{ s3: ENDPOINTS[provider] }]),
            s3UsePathStyle: "true",
            skipCredentialsValidation: "true",
        },
        { parent: component },
    );
    const child = { parent: component, provider: prov };
    const bucket = s.add(T.bucket, "test-backups-bucket", { bucket: BUCKET, forceDestroy: false }, child);
    let versioning: string | undefined;
    if (provider === "b2")
        versioning = s.add(
            T.versioning,
            "test-backups-versioning",
            { bucket: BUCKET, versioningConfiguration: { status: "Enabled" } },
            child,
        );
    const rules = renderLifecycleRules({ provider, backupPrefixes: prefixes, safetyNetDays: 90, evidenceDays: 400 });
    const lifecycle = s.add(
        T.lifecycle,
        "test-backups-lifecycle",
        {
            bucket: BUCKET,
            rules: rules.map((r) => ({
                id: r.id,
                status: "Enabled",
                filter: { prefix: r.prefix },
                ...(r.expirationDays !== undefined ? { expiration: { days: r.expirationDays } } : {}),
                ...(r.abortIncompleteMultipartUploadDays !== undefined
                    ? { abortIncompleteMultipartUpload: { daysAfterInitiation: r.abortIncompleteMultipartUploadDays } }
                    : {}),
                ...(r.noncurrentVersionExpirationDays !== undefined
                    ? { noncurrentVersionExpiration: { noncurrentDays: r.noncurrentVersionExpirationDays } }
                    : {}),
            })),
        },
        child,
    );
    return { component, provider: prov, bucket, lifecycle, versioning };
}

/** The embedded MinIO of a dev stack. */
export function addObjectStore(s: FixtureStack, networks: string[]): string {
    const comp = s.add(typeToken("ObjectStore"), "test-object-store", {});
    s.add(T.password, "test-object-store-access-key", { length: 32, special: false }, { parent: comp });
    return s.add(
        T.container,
        "test-object-store-container",
        {
            name: "test-object-store",
            image: "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z",
            command: ["server", "/data", "--address", ":9000"],
            envs: ["MINIO_ROOT_USER_FILE=/run/secrets/minio-root-user", "MINIO_ROOT_PASSWORD_FILE=/run/secrets/minio-root-password"],
            uploads: [
                { file: "/run/secrets/minio-root-user", content: "x", permissions: "0400" },
                { file: "/run/secrets/minio-root-password", content: "x", permissions: "0400" },
            ],
            volumes: [{ volumeName: "test-object-store-data", containerPath: "/data" }],
            networksAdvanced: networks.map((name) => ({ name, aliases: ["object-store"] })),
            ports: [{ internal: 9000, external: 19000, ip: "127.0.0.1" }],
            ...hardened("object-store"),
            labels: roleLabels("object-store", ""),
        },
        { parent: comp },
    );
}

/** A compliant stack: one tier, its bucket on `provider`, and on minio the embedded object store. */
export function compliant(provider: StorageProvider = "minio"): Fixture {
    const s = new FixtureStack();
    const tier = addTier(s);
    const objectStore = provider === "minio" ? addObjectStore(s, ["test-app-backup-egress"]) : undefined;
    const bucket = addBucket(s, provider);
    return { s, tier, bucket, objectStore };
}

/** Replaces the content of one uploaded file of a container record. */
export function editUpload(r: Rec, file: string, edit: (text: string) => string): void {
    r.inputs.uploads = (r.inputs.uploads as Props[]).map((u) => (u.file === file ? { ...u, content: edit(u.content) } : u));
}

export function setEnv(r: Rec, name: string, value: string | undefined): void {
    const envs = ((r.inputs.envs as string[]) ?? []).filter((e) => !e.startsWith(`${name}=`));
    if (value !== undefined) envs.push(`${name}=${value}`);
    r.inputs.envs = envs;
}

export async function check(records: readonly ResourceRecord[], packConfig?: PackConfig): Promise<Violation[]> {
    return evaluatePolicies(policies, records, { packConfig });
}

export const mandatory = (v: readonly Violation[]) => v.filter((x) => x.level === "mandatory");
export const advisory = (v: readonly Violation[]) => v.filter((x) => x.level === "advisory");
export const names = (v: readonly Violation[]) => [...new Set(v.map((x) => x.policy))].sort();

export function levelConfig(level: EnforcementLevel): PackConfig {
    return { all: level };
}
