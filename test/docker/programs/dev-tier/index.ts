/**
 * The dev stack's tier as the real Pulumi engine deploys it (test/docker/dev-stack.test.ts),
 * through the pieces components/stack.ts composes, from the same `db-tier:*` config: the
 * networks, the embedded MinIO and one DatabaseTier per cluster, on images the suite built
 * (the docker plugin built here has no docker.Image: tools/providers/README.md).
 *
 * Left out: BackupBucket. Its aws.s3 resources need the AWS plugin, which this machine cannot
 * build in any reasonable time (tools/providers/README.md). The test creates the bucket, with
 * the rules BackupBucket renders (plan/bucket.ts), between two runs of this program:
 *   `phase: store` registers the foundation only (networks, MinIO); `phase: tier` everything.
 * `rogue: true` adds what an engineer might add by hand: a container without a db-tier role
 * on the db-only network (only ever previewed, with the policy pack, which must refuse it).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { deployFoundation, deployTiers, validateStack } from "../../../../components/stack";
import { readStackConfig } from "../../../../config/stack-config";

const own = new pulumi.Config();
const phase = own.require("phase");
if (phase !== "store" && phase !== "tier") throw new Error(`phase: must be store or tier (got ${phase})`);

const { values, secrets } = readStackConfig();
const config = validateStack(values, secrets);
const foundation = deployFoundation(config, secrets);
const tiers = phase === "tier" ? deployTiers(config, secrets, foundation, []) : {};
if (own.getBoolean("rogue")) {
    const first = Object.values(foundation.networks)[0];
    new docker.Container("rogue", { name: "rogue", image: foundation.images.postgres, networksAdvanced: [{ name: first.dbOnly.name }] });
}

/** DSNs of every cluster, by cluster name (secrets), as index.ts exports them. */
export const clusters = Object.fromEntries(Object.entries(tiers).map(([name, tier]) => [name, tier.dsns]));
export const backupEncryptionKeys = Object.fromEntries(Object.entries(tiers).map(([name, tier]) => [name, tier.backupEncryptionKey]));
/** The S3 API on the host, and MinIO's credentials (secrets), for the test to create the bucket. */
export const storeApiEndpoint = foundation.storage.apiEndpoint;
export const storeAccessKeyId = foundation.storage.accessKeyId;
export const storeSecretAccessKey = foundation.storage.secretAccessKey;
