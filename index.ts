/**
 * The stack program: read the `db-tier` config through the one schema, build the tier,
 * export DSNs (secrets) and the backup encryption keys (secrets, for escrow). Nothing else.
 */
import * as pulumi from "@pulumi/pulumi";
import { readStackConfig } from "./config/stack-config";
import { deployStack } from "./components/stack";

const { values, secrets } = readStackConfig();
const stack = deployStack(values, secrets);

const tiers = Object.entries(stack.tiers);
const [, primary] = tiers[0];

/** DSNs of every cluster, by cluster name. */
export const clusters = Object.fromEntries(tiers.map(([name, tier]) => [name, tier.dsns]));
/** WAL-G encryption key of every cluster. Without it the backups cannot be read: escrow it. */
export const backupEncryptionKeys = Object.fromEntries(tiers.map(([name, tier]) => [name, tier.backupEncryptionKey]));
/** The first cluster's DSNs, for the common one-cluster stack. */
export const DATABASE_URL = primary.dsns.DATABASE_URL;
export const DATABASE_SERVICE_URL = primary.dsns.DATABASE_SERVICE_URL;
export const DATABASE_MIGRATE_URL = primary.dsns.DATABASE_MIGRATE_URL;
export const DATABASE_ROOT_URL = primary.dsns.DATABASE_ROOT_URL;
pulumi.log.info(`db-tier: ${tiers.length} cluster(s) in ${stack.config.environment}, backups in bucket ${stack.config.storage.bucket}`);
