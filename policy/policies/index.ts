/** Every policy of the pack, in contract order. The pack (../index.ts), the offline check and the tests use this list. */
import type { Policies } from "@pulumi/policy";
import { appReachesOnlyPooler } from "./app-reaches-only-pooler";
import { backupBucketLifecycle } from "./backup-bucket-lifecycle";
import { backupBucketPrivate } from "./backup-bucket-private";
import { dbOnlyNetworkMembers } from "./db-only-network-members";
import { generatedSecretStrength } from "./generated-secret-strength";
import { noInlineSecrets } from "./no-inline-secrets";
import { pgbouncerAdminConsoleClosed } from "./pgbouncer-admin-console-closed";
import { pgbouncerScramOnly } from "./pgbouncer-scram-only";
import { postgresNetworkIsolation } from "./postgres-network-isolation";
import { postgresNoPublishedPorts } from "./postgres-no-published-ports";
import { restoreDrillScheduled } from "./restore-drill-scheduled";
import { tierContainerHardened } from "./tier-container-hardened";
import { walArchivingEnabled } from "./wal-archiving-enabled";

export {
    appReachesOnlyPooler,
    backupBucketLifecycle,
    backupBucketPrivate,
    dbOnlyNetworkMembers,
    generatedSecretStrength,
    noInlineSecrets,
    pgbouncerAdminConsoleClosed,
    pgbouncerScramOnly,
    postgresNetworkIsolation,
    postgresNoPublishedPorts,
    restoreDrillScheduled,
    tierContainerHardened,
    walArchivingEnabled,
};

export const policies: Policies = [
    postgresNoPublishedPorts,
    postgresNetworkIsolation,
    dbOnlyNetworkMembers,
    appReachesOnlyPooler,
    pgbouncerScramOnly,
    pgbouncerAdminConsoleClosed,
    walArchivingEnabled,
    backupBucketLifecycle,
    backupBucketPrivate,
    noInlineSecrets,
    generatedSecretStrength,
    restoreDrillScheduled,
    tierContainerHardened,
];
