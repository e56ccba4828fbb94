/**
 * A backup bucket has lifecycle rules that never expire what restores need, and that do the
 * chores its store needs (R2 and B2: abort stale multipart uploads; B2: remove the hidden
 * versions its deletes leave behind, on a versioned bucket). The BackupBucket component
 * renders no age-based expiry of backup data at all (render/lifecycle.ts: it would expire
 * permanent backups); a hand-written rule beyond the window plus a week is still accepted
 * here, as the contract names only rules inside the window.
 */
import type { PolicyResource } from "@pulumi/policy";
import { CONTAINER_PATHS, RESTORE_EVIDENCE_PREFIX } from "../shared/vocabulary";
import { CONTAINER_TYPE, containerRole, findUpload } from "../lib/docker";
import { stackPolicy } from "../lib/kit";
import {
    backupBuckets,
    configurationRules,
    inlineRules,
    LIFECYCLE_TYPES,
    type RuleView,
    storeKind,
    targetsBucket,
    versioningEnabled,
} from "../lib/s3";
import { asNumber, asObject, propsOf } from "../lib/values";

export interface BackupBucketLifecycleConfig {
    /** Days of point-in-time recovery the backups must cover (the retention window). */
    readonly retentionDays: number;
}

/** A base backup can be up to a week older than the window it anchors (weekly cadence). */
const ANCHOR_SLACK_DAYS = 7;

/** What the deployed backup jobs keep (their uploaded backup.json), as days that must survive. */
function deployedNeeds(resources: readonly PolicyResource[]): { days: number; window: number } {
    let days = 0;
    let window = 0;
    for (const r of resources) {
        if (r.type !== CONTAINER_TYPE) continue;
        const props = propsOf(r);
        const role = containerRole(props);
        if (role.state !== "role" || role.role !== "backup") continue;
        const u = findUpload(props, CONTAINER_PATHS.backupConfig);
        if (u.state !== "found" || u.upload.content === undefined) continue;
        try {
            const retention = asObject(asObject(JSON.parse(u.upload.content))?.retention);
            const walDays = asNumber(retention?.walDays) ?? 0;
            const weekly = asNumber(retention?.weekly) ?? 0;
            const daily = asNumber(retention?.daily) ?? 0;
            window = Math.max(window, walDays);
            days = Math.max(days, walDays + ANCHOR_SLACK_DAYS, weekly * 7 + ANCHOR_SLACK_DAYS, daily + 1);
        } catch {
            // Not JSON: the backup job's own checks report it; the configured window still applies.
        }
    }
    return { days, window };
}

function covers(rulePrefix: string, keyPrefix: string): boolean {
    return keyPrefix.startsWith(rulePrefix) || rulePrefix.startsWith(keyPrefix);
}

export const backupBucketLifecycle = stackPolicy<BackupBucketLifecycleConfig>(
    {
        name: "backup-bucket-lifecycle",
        description:
            "A backup bucket (an aws.s3 bucket whose parent is a db-tier BackupBucket) has a lifecycle configuration; no rule " +
            "expires WAL or base backups within the retention window plus a week, nor restore-drill evidence within the " +
            "window; on R2 and B2 a whole-bucket rule aborts incomplete multipart uploads; on B2 a whole-bucket rule removes " +
            "noncurrent versions and versioning is enabled. The store is read from the bucket's aws provider endpoint.",
        remediationSteps:
            "Use the BackupBucket component, which renders the rules with render/lifecycle.ts: `restore-tests/` expiry " +
            "(evidenceDays), abort-multipart on R2/B2, noncurrent-version removal and versioning on B2, and no age-based expiry " +
            "of backup data at all (it would expire permanent backups, whose objects keep their push date). WAL-G's retention, " +
            "run by the backup job, is what deletes backups and WAL.",
        severity: "high",
        configSchema: {
            properties: {
                retentionDays: {
                    type: "integer",
                    minimum: 1,
                    default: 30,
                    description: "Days of point-in-time recovery the backups must cover. Deployed backup jobs that keep more raise it.",
                },
            },
        },
        defaults: { retentionDays: 30 },
    },
    (resources: readonly PolicyResource[], ctx) => {
        const deployed = deployedNeeds(resources);
        const window = Math.max(ctx.config.retentionDays, deployed.window);
        const backupFloor = Math.max(window + ANCHOR_SLACK_DAYS, deployed.days);
        for (const b of backupBuckets(resources)) {
            const urn = b.resource.urn;
            const rules: RuleView[] = [];
            let configs = 0;
            let maybeConfigs = 0;
            let unknown = false;
            const inline = inlineRules(b.props);
            rules.push(...inline.rules);
            if (inline.unknown) unknown = true;
            for (const r of resources) {
                if (!LIFECYCLE_TYPES.includes(r.type)) continue;
                const t = targetsBucket(r, b);
                if (t === "no") continue;
                if (t === "unknown") {
                    ctx.defer(`which bucket lifecycle configuration "${r.name}" targets`, r.urn);
                    maybeConfigs++;
                    continue;
                }
                configs++;
                const c = configurationRules(r);
                rules.push(...c.rules);
                if (c.unknown) unknown = true;
            }
            if (unknown) ctx.defer(`the lifecycle rules of backup bucket ${b.label}`, urn);
            if (configs === 0 && inline.rules.length === 0 && !unknown && maybeConfigs === 0) {
                ctx.report(`Backup bucket ${b.label} has no lifecycle configuration.`, urn);
                continue;
            }
            const active = rules.filter((r) => r.enabled !== false);
            for (const rule of active) {
                if (rule.enabled === "unknown" || rule.prefix === "unknown" || rule.expirationUnknown) {
                    ctx.defer(`lifecycle rule "${rule.id}" of backup bucket ${b.label}`, urn);
                    continue;
                }
                const expires = rule.expirationDays !== undefined || rule.expirationDate !== undefined;
                if (!expires) continue;
                const days = rule.expirationDays;
                const when = rule.expirationDate !== undefined ? `on ${rule.expirationDate}` : `after ${rule.expirationDays} days`;
                const hitsBackups = !rule.prefix.startsWith(RESTORE_EVIDENCE_PREFIX);
                const hitsEvidence = covers(rule.prefix, RESTORE_EVIDENCE_PREFIX);
                const where = rule.prefix === "" ? "the whole bucket" : `prefix "${rule.prefix}"`;
                if (hitsBackups && (rule.expirationDate !== undefined || (days !== undefined && days <= backupFloor))) {
                    ctx.report(
                        `Backup bucket ${b.label}: rule "${rule.id}" expires ${where} ${when}, which deletes WAL or base backups that ` +
                            `restores within the ${window}-day retention window still need (keep them more than ${backupFloor} days).`,
                        urn,
                    );
                }
                if (hitsEvidence && (rule.expirationDate !== undefined || (days !== undefined && days < window))) {
                    ctx.report(
                        `Backup bucket ${b.label}: rule "${rule.id}" expires restore-drill evidence (${where}) ${when}, inside the ${window}-day retention window.`,
                        urn,
                    );
                }
            }
            const store = storeKind(b.resource);
            if (store.kind === "unknown") {
                ctx.defer(`the storage endpoint of backup bucket ${b.label}`, urn);
                continue;
            }
            const wholeBucket = (r: RuleView) => r.enabled === true && r.prefix === "";
            // While some rule is not fully known, a missing chore may still be there: defer, never report.
            const uncertain =
                unknown || maybeConfigs > 0 || active.some((r) => r.enabled === "unknown" || r.prefix === "unknown" || r.choresUnknown);
            const storeName = store.kind === "r2" ? "Cloudflare R2" : "Backblaze B2";
            const missing = (what: string, message: string) => {
                if (uncertain) ctx.defer(`whether backup bucket ${b.label} has a rule that ${what}`, urn);
                else ctx.report(message, urn);
            };
            if ((store.kind === "r2" || store.kind === "b2") && !active.some((r) => wholeBucket(r) && r.abortDays !== undefined)) {
                missing(
                    "aborts incomplete multipart uploads",
                    `Backup bucket ${b.label} is on ${storeName} but no whole-bucket rule aborts incomplete multipart uploads.`,
                );
            }
            if (store.kind === "b2") {
                if (!active.some((r) => wholeBucket(r) && r.noncurrentDays !== undefined)) {
                    missing(
                        "removes noncurrent versions",
                        `Backup bucket ${b.label} is on Backblaze B2 but no whole-bucket rule removes noncurrent versions, so deleted backups linger as hidden versions.`,
                    );
                }
                const versioning = versioningEnabled(b, resources);
                if (versioning === "unknown") ctx.defer(`the versioning of backup bucket ${b.label}`, urn);
                else if (!versioning)
                    ctx.report(`Backup bucket ${b.label} is on Backblaze B2 without versioning, where lifecycle rules do not apply.`, urn);
            }
        }
    },
);
