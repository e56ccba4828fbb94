/**
 * One PostgreSQL cluster and everything around it: networks, role secrets, Postgres with
 * WAL-G archiving, pgBouncer, the provisioner, the backup job and the restore drill. It
 * only composes; each piece is its own component. Applications get DSNs, nothing else.
 */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { databaseTierArgsSchema } from "../config/component-args";
import { parseOrThrow } from "../config/errors";
import { assertDsnInvariants, buildDsn } from "../render/dsn";
import { renderWalgEnv, walgPrefix } from "../render/walg-env";
import { MIGRATE_ALIAS_SUFFIX, PGBOUNCER_PORT, POSTGRES_PORT, typeToken } from "../vocabulary";
import type { BackupArgs, ClusterArgs, DrillArgs, PgbouncerArgs, PostgresArgs, TierImageArgs, TierStorageArgs, TlsArgs } from "./args";
import { BackupJob } from "./backup-job";
import { PgBouncer } from "./pgbouncer";
import { PostgresServer } from "./postgres-server";
import { Provisioner } from "./provisioner";
import { RestoreDrill } from "./restore-drill";
import { RoleSecrets } from "./role-secrets";
import { TierNetworks } from "./tier-networks";
import { WalReceiver } from "./wal-receiver";
import { WAL_RECEIVER_ROLE } from "../render/wal-receive";

export interface DatabaseTierArgs {
    /** Environment name (`dev`, `preview`, `production`): part of every name and the backup prefix. */
    readonly environment: string;
    /** The cluster: name, databases, root role. */
    readonly cluster: ClusterArgs;
    /** Where backups go and the credentials to reach it. */
    readonly storage: TierStorageArgs;
    /** Images to run (see TierImages). */
    readonly images: TierImageArgs;
    readonly backup?: BackupArgs;
    readonly drill?: DrillArgs;
    readonly pgbouncer?: PgbouncerArgs;
    readonly postgres?: PostgresArgs;
    /** sslmode in every DSN; anything but `disable` needs `tls`. Default `disable`. */
    readonly sslmode?: "disable" | "prefer" | "require" | "verify-ca" | "verify-full";
    /** Generated password length, at least 32. Default 40. */
    readonly passwordLength?: number;
    /** The only host address a published port binds to. Default 127.0.0.1. */
    readonly hostBindAddress?: string;
    /** Networks to use; created when absent. */
    readonly networks?: TierNetworks;
    /** pgBouncer's client TLS certificate and key. */
    readonly tls?: TlsArgs;
    /** Re-run provisioning on every `pulumi up` (the plan's convergence evidence). Default true. */
    readonly convergeEveryUp?: boolean;
    /** Docker host to deploy to (e.g. `ssh://deploy@db-1`); the default provider otherwise. */
    readonly dockerProvider?: docker.Provider;
}

/** The DSNs handed to applications, all Pulumi secrets. */
export interface TierDsnOutputs {
    /** app_user (RLS enforced) through pgbouncer:6432, transaction pooling. */
    readonly DATABASE_URL: pulumi.Output<string>;
    /** app_service (BYPASSRLS) through pgbouncer:6432, transaction pooling. */
    readonly DATABASE_SERVICE_URL: pulumi.Output<string>;
    /** app_user through pgbouncer:6432 in session mode (`<db>_migrate`), for migrations. */
    readonly DATABASE_MIGRATE_URL: pulumi.Output<string>;
    /** Root, directly to postgres:5432; reachable only on `db-only`; provisioning only. */
    readonly DATABASE_ROOT_URL: pulumi.Output<string>;
}

export class DatabaseTier extends pulumi.ComponentResource {
    public readonly networks: TierNetworks;
    public readonly secrets: RoleSecrets;
    public readonly postgres: PostgresServer;
    public readonly pgbouncer: PgBouncer;
    public readonly provisioner: Provisioner;
    public readonly backupJob: BackupJob;
    public readonly restoreDrill: RestoreDrill;
    /** The streaming WAL receiver, with backup.walStreaming. */
    public readonly walReceiver?: WalReceiver;
    public readonly dsns: TierDsnOutputs;
    /** WAL-G libsodium key, hex (secret). Without it no backup can be read: escrow it. */
    public readonly backupEncryptionKey: pulumi.Output<string>;
    /** `s3://bucket/<environment>/<cluster>`. */
    public readonly backupPrefix: string;

    constructor(name: string, args: DatabaseTierArgs, opts?: pulumi.ComponentResourceOptions) {
        const { dockerProvider, ...rest } = args;
        // Validate everything before the first child exists.
        const a = parseOrThrow(databaseTierArgsSchema, rest, `DatabaseTier ${name}`);
        super(
            typeToken("DatabaseTier"),
            name,
            {},
            {
                ...opts,
                providers: dockerProvider
                    ? { ...(opts?.providers as Record<string, pulumi.ProviderResource>), docker: dockerProvider }
                    : opts?.providers,
            },
        );
        const child = { parent: this };
        const cluster = a.cluster.name;
        const prefix = `${a.environment}-${cluster}`;
        const db = a.cluster.databases;

        this.networks = args.networks ?? new TierNetworks(`${name}-networks`, { namePrefix: prefix, cluster }, child);
        this.secrets = new RoleSecrets(
            `${name}-secrets`,
            { rootUser: a.cluster.rootUser, passwordLength: a.passwordLength, walReceiver: a.backup.walStreaming },
            child,
        );
        this.backupEncryptionKey = this.secrets.walgLibsodiumKeyHex;
        this.backupPrefix = walgPrefix(a.storage.bucketName, a.environment, cluster);
        const walgEnv = pulumi.secret(
            pulumi
                .all([args.storage.accessKeyId, args.storage.secretAccessKey, this.secrets.walgLibsodiumKeyHex])
                .apply(([accessKeyId, secretAccessKey, key]) =>
                    renderWalgEnv({
                        s3Prefix: this.backupPrefix,
                        endpoint: a.storage.endpoint,
                        region: a.storage.region,
                        accessKeyId,
                        secretAccessKey,
                        compression: a.backup.compression,
                        libsodiumKeyHex: key,
                        uploadConcurrency: a.backup.uploadConcurrency,
                        downloadConcurrency: a.backup.downloadConcurrency,
                    }),
                ),
        );

        this.postgres = new PostgresServer(
            `${name}-postgres`,
            {
                containerName: `${prefix}-postgres`,
                cluster,
                image: args.images.postgres,
                networks: this.networks,
                rootUser: a.cluster.rootUser,
                rootPassword: this.secrets.root.password,
                walgEnv,
                rpoSeconds: a.backup.rpoSeconds,
                archivePushTimeoutSeconds: a.backup.archivePushTimeoutSeconds,
                maxConnections: a.postgres.maxConnections,
                sharedBuffers: a.postgres.sharedBuffers,
                ...(a.backup.walStreaming ? { replicationRole: WAL_RECEIVER_ROLE } : {}),
                tls: args.tls,
            },
            child,
        );

        this.provisioner = new Provisioner(
            `${name}-provisioner`,
            {
                containerName: `${prefix}-provisioner`,
                cluster,
                image: args.images.postgres,
                networks: this.networks,
                rootUser: a.cluster.rootUser,
                rootVerifier: this.secrets.root.verifier,
                appUserVerifier: this.secrets.appUser.verifier,
                appServiceVerifier: this.secrets.appService.verifier,
                walReceiverVerifier: this.secrets.walReceiver?.verifier,
                databases: db,
                postgres: this.postgres.container,
                socketVolume: this.postgres.socketVolume,
                convergeEveryUp: a.convergeEveryUp,
            },
            child,
        );

        this.pgbouncer = new PgBouncer(
            `${name}-pgbouncer`,
            {
                containerName: `${prefix}-pgbouncer`,
                cluster,
                image: args.images.pgbouncer,
                networks: this.networks,
                databases: db,
                users: [this.secrets.appUser, this.secrets.appService],
                defaultPoolSize: a.pgbouncer.defaultPoolSize,
                maxClientConn: a.pgbouncer.maxClientConn,
                resetSessionState: a.pgbouncer.resetSessionState,
                postgresMaxConnections: a.postgres.maxConnections,
                publish: a.pgbouncer.publishPort !== undefined ? { ip: a.hostBindAddress, port: a.pgbouncer.publishPort } : undefined,
                tls: args.tls ? { sslmode: a.sslmode, certPem: args.tls.certPem, keyPem: args.tls.keyPem } : undefined,
                postgres: this.provisioner,
            },
            child,
        );

        this.backupJob = new BackupJob(
            `${name}-backup`,
            {
                containerName: `${prefix}-backup`,
                environment: a.environment,
                cluster,
                image: args.images.postgres,
                networks: this.networks,
                schedule: a.backup.schedule,
                retention: a.backup.retention,
                pushTimeoutSeconds: 6 * 3600,
                rootUser: a.cluster.rootUser,
                rootPassword: this.secrets.root.password,
                walgEnv,
                dataVolume: this.postgres.dataVolume,
                postgres: this.postgres.container,
            },
            child,
        );

        if (a.backup.walStreaming && this.secrets.walReceiver) {
            this.walReceiver = new WalReceiver(
                `${name}-wal-receiver`,
                {
                    containerName: `${prefix}-wal-receiver`,
                    cluster,
                    image: args.images.postgres,
                    networks: this.networks,
                    password: this.secrets.walReceiver.password,
                    walgEnv,
                    postgresHost: this.postgres.host,
                    dependsOn: [this.provisioner],
                },
                child,
            );
        }

        this.restoreDrill = new RestoreDrill(
            `${name}-restore-drill`,
            {
                containerName: `${prefix}-restore-drill`,
                environment: a.environment,
                cluster,
                image: args.images.postgres,
                networks: this.networks,
                schedule: a.drill.schedule,
                rtoSeconds: a.drill.rtoSeconds,
                database: a.drill.database ?? db[0],
                schemaQuery: a.drill.schemaQuery,
                tables: a.drill.tables,
                minRows: a.drill.minRows,
                amcheck: a.drill.amcheck,
                oldestSchedule: a.drill.oldestPointSchedule,
                windowSeconds: a.backup.retention.walDays * 86_400,
                bucketName: a.storage.bucketName,
                superuser: a.cluster.rootUser,
                walgEnv,
            },
            child,
        );

        this.dsns = this.buildDsns(a.cluster.rootUser, db[0], a.sslmode);
        this.registerOutputs({ dsns: this.dsns, backupPrefix: this.backupPrefix });
    }

    private buildDsns(rootUser: string, database: string, sslmode: string): TierDsnOutputs {
        const s = this.secrets;
        const all = pulumi.all([s.appUser.password, s.appService.password, s.root.password]).apply(([appUser, appService, root]) => {
            const pooled = { host: this.pgbouncer.host, port: PGBOUNCER_PORT, sslmode };
            const dsns = {
                DATABASE_URL: buildDsn({ ...pooled, user: s.appUser.user, password: appUser, database }),
                DATABASE_SERVICE_URL: buildDsn({ ...pooled, user: s.appService.user, password: appService, database }),
                DATABASE_MIGRATE_URL: buildDsn({
                    ...pooled,
                    user: s.appUser.user,
                    password: appUser,
                    database: `${database}${MIGRATE_ALIAS_SUFFIX}`,
                }),
                DATABASE_ROOT_URL: buildDsn({
                    host: this.postgres.host,
                    port: POSTGRES_PORT,
                    sslmode,
                    user: rootUser,
                    password: root,
                    database,
                }),
            };
            assertDsnInvariants(dsns, { rootUser, poolerHost: this.pgbouncer.host, poolerPort: PGBOUNCER_PORT, sslmode });
            return dsns;
        });
        return {
            DATABASE_URL: pulumi.secret(all.apply((d) => d.DATABASE_URL)),
            DATABASE_SERVICE_URL: pulumi.secret(all.apply((d) => d.DATABASE_SERVICE_URL)),
            DATABASE_MIGRATE_URL: pulumi.secret(all.apply((d) => d.DATABASE_MIGRATE_URL)),
            DATABASE_ROOT_URL: pulumi.secret(all.apply((d) => d.DATABASE_ROOT_URL)),
        };
    }
}
