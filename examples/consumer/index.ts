/**
 * An engineer's own stack that imports db-tier from its npm package: one backup bucket on
 * R2 and one Postgres tier for an "orders" service, deployed to a remote Docker host.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { BackupBucket, DatabaseTier } from "db-tier";

const config = new pulumi.Config("orders");
const accessKeyId = config.requireSecret("r2AccessKeyId");
const secretAccessKey = config.requireSecret("r2SecretAccessKey");
const endpoint = "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com";

const bucket = new BackupBucket("orders-backups", {
    provider: "r2",
    bucketName: "orders-db-backups",
    apiEndpoint: endpoint,
    region: "auto",
    accessKeyId,
    secretAccessKey,
    backupPrefixes: ["staging/orders/"],
    evidenceDays: 400,
});

// The images a db-tier release published, pinned by tag AND digest: a tag can be moved, a
// digest cannot. Each GitHub release of db-tier lists both for every image (its notes and
// images.txt, written by .github/workflows/release.yml): replace the owner, the version and
// the all-zero placeholder digests with those lines. The package and the images of one
// release belong together: pin the same version as the db-tier dependency.
const DB_TIER_IMAGES = {
    postgres: "ghcr.io/example/db-tier-postgres:0.1.0@sha256:0000000000000000000000000000000000000000000000000000000000000000",
    pgbouncer: "ghcr.io/example/db-tier-pgbouncer:0.1.0@sha256:0000000000000000000000000000000000000000000000000000000000000000",
};

const tier = new DatabaseTier(
    "orders",
    {
        environment: "staging",
        cluster: { name: "orders", databases: ["orders"] },
        storage: { provider: "r2", bucketName: "orders-db-backups", endpoint, region: "auto", accessKeyId, secretAccessKey },
        images: DB_TIER_IMAGES,
        drill: { tables: ["orders"], minRows: { orders: 1 } },
        dockerProvider: new docker.Provider("db-host", { host: "ssh://deploy@orders-db.example" }),
    },
    { dependsOn: [bucket] },
);

export const DATABASE_URL = tier.dsns.DATABASE_URL;
export const DATABASE_SERVICE_URL = tier.dsns.DATABASE_SERVICE_URL;
export const backupEncryptionKey = tier.backupEncryptionKey;
