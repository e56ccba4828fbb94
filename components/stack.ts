/**
 * A whole environment from one validated config: per cluster its networks and DatabaseTier,
 * one BackupBucket they share (each under its own prefix), and on dev the embedded MinIO.
 * index.ts calls this with the stack's config; engineers may call it from their own stacks.
 */
import * as docker from "@pulumi/docker";
import type * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseOrThrow } from "../config/errors";
import { type TierConfig, type TierConfigInput, tierConfigSchema } from "../config/schema";
import type { StackSecrets } from "../config/stack-config";
import { BackupBucket } from "./backup-bucket";
import { DatabaseTier } from "./database-tier";
import { ObjectStore } from "./object-store";
import { TierImages } from "./tier-images";
import { TierNetworks } from "./tier-networks";

export interface DeployedStack {
    readonly config: TierConfig;
    readonly tiers: Record<string, DatabaseTier>;
    readonly bucket: BackupBucket;
    readonly objectStore?: ObjectStore;
    readonly images: TierImages;
}

/** Region each provider expects: R2 `auto`, B2 the endpoint's region, MinIO any. */
export function storageRegion(c: TierConfig["storage"]): string {
    if (c.region) return c.region;
    if (c.provider === "r2") return "auto";
    if (c.provider === "b2" && c.endpoint) return new URL(c.endpoint).hostname.split(".")[1];
    return "us-east-1";
}

/** The stack config, validated, with the secrets its settings require checked present. */
export function validateStack(input: TierConfigInput, secrets: StackSecrets): TierConfig {
    const config = parseOrThrow(tierConfigSchema, input, "db-tier stack config", "db-tier");
    const s = config.storage;
    if (!s.embedded && (secrets.storageAccessKeyId === undefined || secrets.storageSecretAccessKey === undefined)) {
        throw new ConfigError("db-tier stack config", [
            `db-tier:storageAccessKeyId and db-tier:storageSecretAccessKey: are required for provider ${s.provider} (set them with pulumi config set --secret)`,
        ]);
    }
    if (config.sslmode !== "disable" && (secrets.tlsCertPem === undefined || secrets.tlsKeyPem === undefined)) {
        throw new ConfigError("db-tier stack config", [
            `db-tier:tlsCertPem and db-tier:tlsKeyPem: are required when sslmode is ${config.sslmode}`,
        ]);
    }
    return config;
}

/** What the clusters stand on: the Docker provider, the images, each cluster's networks, the embedded MinIO. */
export interface StackFoundation {
    readonly provider?: docker.Provider;
    readonly images: TierImages;
    readonly networks: Record<string, TierNetworks>;
    readonly objectStore?: ObjectStore;
    /** Object storage as the containers (`endpoint`) and Pulumi (`apiEndpoint`) reach it. */
    readonly storage: {
        readonly endpoint: string;
        readonly apiEndpoint: string;
        readonly region: string;
        readonly accessKeyId: pulumi.Input<string>;
        readonly secretAccessKey: pulumi.Input<string>;
    };
}

export function deployFoundation(config: TierConfig, secrets: StackSecrets, opts?: pulumi.ComponentResourceOptions): StackFoundation {
    const s = config.storage;
    const provider = config.dockerHost
        ? new docker.Provider("docker", { host: config.dockerHost, certPath: config.dockerCertPath })
        : undefined;
    const withDocker: pulumi.ComponentResourceOptions = { ...opts, providers: provider ? { docker: provider } : undefined };

    const images = new TierImages(
        `${config.environment}-images`,
        { postgresImage: config.postgres.image, pgbouncerImage: config.pgbouncer.image },
        withDocker,
    );
    const networks = Object.fromEntries(
        config.clusters.map((c) => [
            c.name,
            new TierNetworks(
                `${config.environment}-${c.name}-networks`,
                { namePrefix: `${config.environment}-${c.name}`, cluster: c.name },
                withDocker,
            ),
        ]),
    );
    const objectStore = s.embedded
        ? new ObjectStore(
              `${config.environment}-object-store`,
              {
                  containerName: `${config.environment}-object-store`,
                  networks: Object.values(networks).map((n) => n.backupEgress),
                  hostBindAddress: config.hostBindAddress,
                  hostPort: s.embeddedPort,
                  image: s.embeddedImage,
                  limits: config.limits.objectStore,
              },
              withDocker,
          )
        : undefined;
    return {
        provider,
        images,
        networks,
        objectStore,
        storage: {
            endpoint: objectStore?.endpoint ?? (s.endpoint as string),
            apiEndpoint: s.apiEndpoint ?? objectStore?.apiEndpoint ?? (s.endpoint as string),
            region: storageRegion(s),
            accessKeyId: objectStore?.accessKeyId ?? (secrets.storageAccessKeyId as pulumi.Input<string>),
            secretAccessKey: objectStore?.secretAccessKey ?? (secrets.storageSecretAccessKey as pulumi.Input<string>),
        },
    };
}

/** One DatabaseTier per cluster, on the foundation, each after `dependsOn` (the bucket). */
export function deployTiers(
    config: TierConfig,
    secrets: StackSecrets,
    foundation: StackFoundation,
    dependsOn: pulumi.Input<pulumi.Resource>[],
    opts?: pulumi.ComponentResourceOptions,
): Record<string, DatabaseTier> {
    const tiers: Record<string, DatabaseTier> = {};
    const f = foundation;
    for (const c of config.clusters) {
        tiers[c.name] = new DatabaseTier(
            `${config.environment}-${c.name}`,
            {
                environment: config.environment,
                cluster: c,
                storage: {
                    provider: config.storage.provider,
                    bucketName: config.storage.bucket,
                    endpoint: f.storage.endpoint,
                    region: f.storage.region,
                    accessKeyId: f.storage.accessKeyId,
                    secretAccessKey: f.storage.secretAccessKey,
                },
                images: { postgres: f.images.postgres, pgbouncer: f.images.pgbouncer },
                backup: config.backup,
                drill: config.drill,
                pgbouncer: config.pgbouncer,
                postgres: config.postgres,
                limits: { postgres: config.limits.postgres, pgbouncer: config.limits.pgbouncer, jobs: config.limits.jobs },
                sslmode: config.sslmode,
                passwordLength: config.passwordLength,
                hostBindAddress: config.hostBindAddress,
                networks: f.networks[c.name],
                tls: secrets.tlsCertPem && secrets.tlsKeyPem ? { certPem: secrets.tlsCertPem, keyPem: secrets.tlsKeyPem } : undefined,
                dockerProvider: f.provider,
            },
            { ...opts, dependsOn },
        );
    }
    return tiers;
}

/**
 * The whole stack: foundation, then the shared bucket (after MinIO when embedded), then the
 * tiers (after the bucket: WAL-G's first push needs it).
 */
export function deployStack(input: TierConfigInput, secrets: StackSecrets, opts?: pulumi.ComponentResourceOptions): DeployedStack {
    const config = validateStack(input, secrets);
    const foundation = deployFoundation(config, secrets, opts);
    const { objectStore, storage } = foundation;
    const bucket = new BackupBucket(
        `${config.environment}-backups`,
        {
            provider: config.storage.provider,
            bucketName: config.storage.bucket,
            apiEndpoint: storage.apiEndpoint,
            region: storage.region,
            accessKeyId: storage.accessKeyId,
            secretAccessKey: storage.secretAccessKey,
            backupPrefixes: config.clusters.map((c) => `${config.environment}/${c.name}/`),
            evidenceDays: config.backup.evidenceDays,
        },
        { ...opts, dependsOn: objectStore ? [objectStore] : [] },
    );
    const tiers = deployTiers(config, secrets, foundation, [bucket], opts);
    return { config, tiers, bucket, objectStore, images: foundation.images };
}
