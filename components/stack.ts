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

export function deployStack(input: TierConfigInput, secrets: StackSecrets, opts?: pulumi.ComponentResourceOptions): DeployedStack {
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
              },
              withDocker,
          )
        : undefined;
    const accessKeyId = objectStore?.accessKeyId ?? (secrets.storageAccessKeyId as pulumi.Input<string>);
    const secretAccessKey = objectStore?.secretAccessKey ?? (secrets.storageSecretAccessKey as pulumi.Input<string>);
    const region = storageRegion(s);
    const bucket = new BackupBucket(
        `${config.environment}-backups`,
        {
            provider: s.provider,
            bucketName: s.bucket,
            apiEndpoint: s.apiEndpoint ?? objectStore?.apiEndpoint ?? (s.endpoint as string),
            region,
            accessKeyId,
            secretAccessKey,
            backupPrefixes: config.clusters.map((c) => `${config.environment}/${c.name}/`),
            evidenceDays: config.backup.evidenceDays,
        },
        { ...opts, dependsOn: objectStore ? [objectStore] : [] },
    );

    const tiers: Record<string, DatabaseTier> = {};
    for (const c of config.clusters) {
        tiers[c.name] = new DatabaseTier(
            `${config.environment}-${c.name}`,
            {
                environment: config.environment,
                cluster: c,
                storage: {
                    provider: s.provider,
                    bucketName: s.bucket,
                    endpoint: objectStore?.endpoint ?? (s.endpoint as string),
                    region,
                    accessKeyId,
                    secretAccessKey,
                },
                images: { postgres: images.postgres, pgbouncer: images.pgbouncer },
                backup: config.backup,
                drill: config.drill,
                pgbouncer: config.pgbouncer,
                postgres: config.postgres,
                sslmode: config.sslmode,
                passwordLength: config.passwordLength,
                hostBindAddress: config.hostBindAddress,
                networks: networks[c.name],
                tls: secrets.tlsCertPem && secrets.tlsKeyPem ? { certPem: secrets.tlsCertPem, keyPem: secrets.tlsKeyPem } : undefined,
                dockerProvider: provider,
            },
            { ...opts, dependsOn: [bucket] },
        );
    }
    return { config, tiers, bucket, objectStore, images };
}
