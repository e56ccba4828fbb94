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
import { type ClusterPlan, planCluster } from "../plan/cluster-plan";
import { planContainerLimits } from "../plan/container-limits";
import { containerPlacement } from "../plan/placement";
import { MIGRATE_ALIAS_SUFFIX, typeToken } from "../vocabulary";
import type {
    BackupArgs,
    ClusterArgs,
    DrillArgs,
    LimitsArgs,
    PgbouncerArgs,
    PostgresArgs,
    TierImageArgs,
    TierStorageArgs,
    TlsArgs,
} from "./args";
import { BackupJob } from "./backup-job";
import { PgBouncer } from "./pgbouncer";
import { PostgresServer } from "./postgres-server";
import { Provisioner } from "./provisioner";
import { RestoreDrill } from "./restore-drill";
import { RoleSecrets } from "./role-secrets";
import { TierNetworks } from "./tier-networks";
import { WalReceiver } from "./wal-receiver";

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
    /** Memory and process limits of Postgres, pgBouncer and the jobs (defaults: config/rules/container-limits.ts). */
    readonly limits?: LimitsArgs;
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
    /** Everything this cluster's containers run (plan/): the parity test compares it with the loopback tier's. */
    public readonly plan: ClusterPlan;

    constructor(name: string, args: DatabaseTierArgs, opts?: pulumi.ComponentResourceOptions) {
        const { dockerProvider, ...rest } = args;
        // Validate everything before the first child exists.
        const a = parseOrThrow(databaseTierArgsSchema, rest, `DatabaseTier ${name}`);
        super(typeToken("DatabaseTier"), name, args, {
            ...opts,
            providers: dockerProvider
                ? { ...(opts?.providers as Record<string, pulumi.ProviderResource>), docker: dockerProvider }
                : opts?.providers,
        });
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
        const placement = containerPlacement({ endpoint: a.storage.endpoint, region: a.storage.region });
        const plan = planCluster(
            {
                environment: a.environment,
                cluster: a.cluster,
                storage: { provider: a.storage.provider, bucketName: a.storage.bucketName },
                backup: a.backup,
                drill: a.drill,
                pgbouncer: a.pgbouncer,
                postgres: a.postgres,
                sslmode: a.sslmode,
                tls: args.tls !== undefined,
            },
            placement,
        );
        this.plan = plan;
        const limits = planContainerLimits(a.limits, a.postgres);
        this.backupPrefix = plan.walg.prefix;
        const walgEnv = pulumi.secret(
            pulumi
                .all([args.storage.accessKeyId, args.storage.secretAccessKey, this.secrets.walgLibsodiumKeyHex])
                .apply(([accessKeyId, secretAccessKey, libsodiumKeyHex]) =>
                    plan.walg.env({ accessKeyId, secretAccessKey, libsodiumKeyHex }),
                ),
        );
        const image = args.images.postgres;
        const networks = this.networks;

        this.postgres = new PostgresServer(
            `${name}-postgres`,
            {
                containerName: `${prefix}-postgres`,
                cluster,
                image,
                networks,
                limits: limits.postgres,
                rootUser: a.cluster.rootUser,
                rootPassword: this.secrets.root.password,
                walgEnv,
                plan: plan.postgres,
                placement: placement.postgres,
                tls: args.tls,
            },
            child,
        );

        this.provisioner = new Provisioner(
            `${name}-provisioner`,
            {
                containerName: `${prefix}-provisioner`,
                cluster,
                image,
                networks,
                limits: limits.jobs,
                plan: plan.provision,
                placement: placement.postgres,
                verifiers: {
                    root: this.secrets.root.verifier,
                    appUser: this.secrets.appUser.verifier,
                    appService: this.secrets.appService.verifier,
                    walReceiver: this.secrets.walReceiver?.verifier,
                },
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
                networks,
                limits: limits.pgbouncer,
                plan: plan.pgbouncer,
                placement: placement.pgbouncer,
                verifiers: { appUser: this.secrets.appUser.verifier, appService: this.secrets.appService.verifier },
                publish: a.pgbouncer.publishPort !== undefined ? { ip: a.hostBindAddress, port: a.pgbouncer.publishPort } : undefined,
                tls: args.tls ? { certPem: args.tls.certPem, keyPem: args.tls.keyPem } : undefined,
                postgres: this.provisioner,
            },
            child,
        );

        this.backupJob = new BackupJob(
            `${name}-backup`,
            {
                containerName: `${prefix}-backup`,
                cluster,
                image,
                networks,
                limits: limits.jobs,
                config: plan.jobs.backup,
                rootPassword: this.secrets.root.password,
                walgEnv,
                dataVolume: this.postgres.dataVolume,
                postgres: this.postgres.container,
            },
            child,
        );

        if (plan.walReceiver.enabled && this.secrets.walReceiver) {
            this.walReceiver = new WalReceiver(
                `${name}-wal-receiver`,
                {
                    containerName: `${prefix}-wal-receiver`,
                    cluster,
                    image,
                    networks,
                    limits: limits.jobs,
                    password: this.secrets.walReceiver.password,
                    walgEnv,
                    plan: plan.walReceiver,
                    placement: placement.postgres,
                    dependsOn: [this.provisioner],
                },
                child,
            );
        }

        this.restoreDrill = new RestoreDrill(
            `${name}-restore-drill`,
            {
                containerName: `${prefix}-restore-drill`,
                cluster,
                image,
                networks,
                limits: limits.jobs,
                config: plan.jobs.drill,
                walgEnv,
            },
            child,
        );

        this.dsns = this.buildDsns(a.cluster.rootUser, db[0], a.sslmode);
        this.registerOutputs({
            networks: this.networks,
            secrets: this.secrets,
            postgres: this.postgres,
            pgbouncer: this.pgbouncer,
            provisioner: this.provisioner,
            backupJob: this.backupJob,
            restoreDrill: this.restoreDrill,
            walReceiver: this.walReceiver,
            dsns: this.dsns,
            backupEncryptionKey: this.backupEncryptionKey,
            backupPrefix: this.backupPrefix,
        });
    }

    private buildDsns(rootUser: string, database: string, sslmode: string): TierDsnOutputs {
        const s = this.secrets;
        const all = pulumi.all([s.appUser.password, s.appService.password, s.root.password]).apply(([appUser, appService, root]) => {
            const pooled = { host: this.pgbouncer.host, port: this.pgbouncer.port, sslmode };
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
                    port: this.postgres.port,
                    sslmode,
                    user: rootUser,
                    password: root,
                    database,
                }),
            };
            assertDsnInvariants(dsns, { rootUser, poolerHost: this.pgbouncer.host, poolerPort: this.pgbouncer.port, sslmode });
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
