/** The backup bucket of an environment: the prefixes it serves, its lifecycle rules, versioning. */
import { type LifecycleRule, needsVersioning, renderLifecycleRules, type StorageProvider } from "../render/lifecycle";

export interface BucketSettings {
    readonly provider: StorageProvider;
    readonly bucketName: string;
    /** `<environment>/<cluster>/`, one per cluster the bucket serves. */
    readonly backupPrefixes: readonly string[];
    readonly evidenceDays: number;
}

export interface BucketPlan {
    readonly bucketName: string;
    readonly rules: readonly LifecycleRule[];
    /** B2 applies lifecycle rules to versioned buckets only. */
    readonly versioning: boolean;
}

/** `<environment>/<cluster>/`: the object-key prefix of one cluster's backups. */
export function backupPrefix(environment: string, cluster: string): string {
    return `${environment}/${cluster}/`;
}

export function planBucket(b: BucketSettings): BucketPlan {
    return {
        bucketName: b.bucketName,
        rules: renderLifecycleRules({
            provider: b.provider,
            backupPrefixes: b.backupPrefixes,
            evidenceDays: b.evidenceDays,
        }),
        versioning: needsVersioning(b.provider),
    };
}
