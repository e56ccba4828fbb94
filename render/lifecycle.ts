/**
 * The backup bucket's lifecycle rules, shaped per provider. WAL-G's retention, run by the
 * backup job from the pure planner (render/retention-plan.ts), is the only thing that
 * deletes backups and WAL. The rules do the chores each store needs: restore-drill evidence
 * expiry, R2 and B2 abort stale multipart uploads (MinIO rejects that action), B2 removes
 * the hidden versions its deletes leave behind.
 *
 * No rule expires backup data by age, on any provider (issue 15, case 4). A permanent
 * backup (`wal-g backup-mark`) is one WAL-G rewrites only the metadata.json of: its tar
 * partitions, its sentinel and its WAL segments keep their push date, so any age-based
 * rule over the cluster prefix expires them and the backup silently drops out of
 * `backup-list`. A rule cannot leave them out:
 * - MinIO filters rules by prefix, tags and object size, but WAL-G tags nothing and
 *   permanent backups share `basebackups_005/` and `wal_005/` with the rest;
 * - Cloudflare R2 filters lifecycle rules by prefix only;
 * - Backblaze B2 maps S3 lifecycle rules onto its own, which select by file-name prefix only.
 * S3 filters only ever include (prefix AND tags AND size); none can exclude a set of keys.
 * The same rule would also expire the newest backups of a cluster whose backup job stopped
 * running, which is exactly when they are the only ones left. An unbounded bucket is a
 * cost, visible on the bill and in the failing job; an expired window is lost data.
 */
import { RESTORE_EVIDENCE_PREFIX } from "../vocabulary";

export type StorageProvider = "minio" | "r2" | "b2";

export interface LifecycleInput {
    readonly provider: StorageProvider;
    /** One per cluster and environment, e.g. "dev/app/": no rule expires anything under them. */
    readonly backupPrefixes: readonly string[];
    /**
     * No longer rendered: an age-based rule over backup data expires permanent backups (see
     * above). Accepted so that existing configurations keep validating.
     */
    readonly safetyNetDays?: number;
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
    for (const prefix of l.backupPrefixes) {
        if (prefix.startsWith(RESTORE_EVIDENCE_PREFIX) || RESTORE_EVIDENCE_PREFIX.startsWith(prefix)) {
            throw new Error(
                `renderLifecycleRules: backup prefix "${prefix}" overlaps the evidence prefix ${RESTORE_EVIDENCE_PREFIX}, whose expiry would reach backups`,
            );
        }
    }
    const rules: LifecycleRule[] = [];
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
