/**
 * db-tier: a self-hosted PostgreSQL 15 tier for Pulumi. The one entry point for engineers
 * who import the library.
 */
export { DatabaseTier, DatabaseTierArgs, TierDsnOutputs } from "./database-tier";
export { BackupBucket, BackupBucketArgs } from "./backup-bucket";
export { TierNetworks, TierNetworksArgs } from "./tier-networks";
export { RoleSecrets, RoleSecretsArgs, RoleSecret } from "./role-secrets";
export { PostgresServer, PostgresServerArgs } from "./postgres-server";
export { PgBouncer, PgBouncerArgs } from "./pgbouncer";
export { Provisioner, ProvisionerArgs } from "./provisioner";
export { BackupJob, BackupJobArgs } from "./backup-job";
export { RestoreDrill, RestoreDrillArgs } from "./restore-drill";
export { ObjectStore, ObjectStoreArgs } from "./object-store";
export { TierImages, TierImagesArgs } from "./tier-images";
export { deployStack, DeployedStack, storageRegion } from "./stack";
export * from "./args";
export { StackSecrets } from "../config/stack-config";
export { ConfigError } from "../config/errors";
export { TierConfigInput } from "../config/schema";
