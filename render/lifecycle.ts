/**
 * The backup bucket's lifecycle rules, shaped per provider. WAL-G's own retention is the
 * garbage collector; these rules are a safety net set well beyond the retention window (a
 * rule inside it would break `wal-verify integrity`, wal-g issue 1869), plus the chores each
 * store needs: R2 and B2 abort stale multipart uploads (MinIO rejects that action), B2
 * removes the hidden versions its deletes leave behind.
 */
import { RESTORE_EVIDENCE_PREFIX } from "../vocabulary";

export type StorageProvider = "minio" | "r2" | "b2";

export interface LifecycleInput {
    readonly provider: StorageProvider;
    /** One per cluster and environment, e.g. "dev/app/". */
    readonly backupPrefixes: readonly string[];
    readonly safetyNetDays: number;
    readonly evidenceDays: number;
}

export interface LifecycleRule {
    readonly id: string;
    /** Object-key prefix the rule applies to; "" is the whole bucket. */
    readonly prefix: string;
    readonly expirationDays?: number;
    readonly abortIncompleteMultipartUploadDays?: number;
    readonly noncurrentVersionExpirationDays?: number;
}

/** Days after which B2's hidden (noncurrent) versions are really deleted. */
export const B2_NONCURRENT_DAYS = 1;
/** Days after which an unfinished multipart upload is aborted. */
export const ABORT_MULTIPART_DAYS = 1;

export function renderLifecycleRules(l: LifecycleInput): LifecycleRule[] {
    const rules: LifecycleRule[] = l.backupPrefixes.map((prefix) => ({
        id: `backup-safety-net-${prefix.replace(/\/$/, "").replace(/[^a-z0-9]+/g, "-")}`,
        prefix,
        expirationDays: l.safetyNetDays,
    }));
    rules.push({ id: "restore-evidence-expiry", prefix: RESTORE_EVIDENCE_PREFIX, expirationDays: l.evidenceDays });
    if (l.provider === "r2" || l.provider === "b2") {
        rules.push({ id: "abort-incomplete-multipart", prefix: "", abortIncompleteMultipartUploadDays: ABORT_MULTIPART_DAYS });
    }
    if (l.provider === "b2") {
        rules.push({ id: "remove-noncurrent-versions", prefix: "", noncurrentVersionExpirationDays: B2_NONCURRENT_DAYS });
    }
    return rules;
}

/** B2 applies S3 lifecycle rules only to versioned buckets. */
export function needsVersioning(provider: StorageProvider): boolean {
    return provider === "b2";
}
