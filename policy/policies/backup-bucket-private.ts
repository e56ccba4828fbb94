/** No public ACL or bucket policy opens a backup bucket. */
import type { PolicyResource } from "@pulumi/policy";
import { stackPolicy } from "../lib/kit";
import {
    ACL_TYPES,
    backupBuckets,
    BUCKET_POLICY_TYPES,
    isPublicCannedAcl,
    isPublicGranteeUri,
    OBJECT_TYPES,
    publicStatements,
    targetsBucket,
} from "../lib/s3";
import { asArray, asObject, isUnknown, plain, propsOf } from "../lib/values";

function publicGrants(grants: unknown): { open: boolean; unknown: boolean } {
    const g = plain(grants);
    if (isUnknown(g)) return { open: false, unknown: true };
    let unknown = false;
    for (const entry of asArray(g) ?? []) {
        const o = asObject(entry);
        if (!o) continue;
        const grantee = asObject(o.grantee) ?? o;
        if (isUnknown(grantee.uri)) unknown = true;
        if (isPublicGranteeUri(grantee.uri)) return { open: true, unknown: false };
    }
    return { open: false, unknown };
}

export const backupBucketPrivate = stackPolicy(
    {
        name: "backup-bucket-private",
        description:
            "No public ACL (public-read, public-read-write, authenticated-read, or a grant to AllUsers/AuthenticatedUsers) and " +
            'no bucket policy that allows Principal "*" opens a backup bucket (an aws.s3 bucket whose parent is a db-tier ' +
            "BackupBucket), on the bucket itself, through BucketAcl/BucketPolicy resources, or on objects in it.",
        remediationSteps:
            "Remove the ACL, grant or policy statement. Backups are read with the storage credentials from the WAL-G env file; " +
            "nothing else needs access. Share restore-drill evidence through a copy, not by opening the bucket.",
        severity: "critical",
    },
    (resources: readonly PolicyResource[], ctx) => {
        for (const b of backupBuckets(resources)) {
            const urn = b.resource.urn;
            if (isUnknown(b.props.acl)) ctx.defer(`the ACL of backup bucket ${b.label}`, urn);
            else if (isPublicCannedAcl(b.props.acl)) ctx.report(`Backup bucket ${b.label} has the public ACL ${b.props.acl}.`, urn);
            const inlineGrants = publicGrants(b.props.grants);
            if (inlineGrants.open) ctx.report(`Backup bucket ${b.label} grants access to everyone (AllUsers/AuthenticatedUsers).`, urn);
            if (inlineGrants.unknown) ctx.defer(`the grants of backup bucket ${b.label}`, urn);
            const inlinePolicy = publicStatements(b.props.policy);
            if (inlinePolicy.open.length > 0)
                ctx.report(`Backup bucket ${b.label}'s policy allows everyone (${inlinePolicy.open.join(", ")}).`, urn);
            if (inlinePolicy.unknown) ctx.defer(`the policy of backup bucket ${b.label}`, urn);
            if (inlinePolicy.unparsable)
                ctx.report(`Backup bucket ${b.label}'s policy is not valid JSON, so it cannot be shown to be private.`, urn);

            for (const r of resources) {
                const isAcl = ACL_TYPES.includes(r.type);
                const isPolicy = BUCKET_POLICY_TYPES.includes(r.type);
                const isObject = OBJECT_TYPES.includes(r.type);
                if (!isAcl && !isPolicy && !isObject) continue;
                const t = targetsBucket(r, b);
                if (t === "no") continue;
                if (t === "unknown") {
                    ctx.defer(`which bucket ${r.type.split(":").pop()} "${r.name}" targets`, r.urn);
                    continue;
                }
                const p = propsOf(r);
                if (isAcl || isObject) {
                    const what = isAcl ? `BucketAcl "${r.name}"` : `object "${r.name}"`;
                    if (isUnknown(p.acl)) ctx.defer(`the ACL of ${what}`, r.urn);
                    else if (isPublicCannedAcl(p.acl)) ctx.report(`${what} gives backup bucket ${b.label} the public ACL ${p.acl}.`, r.urn);
                    const acp = asObject(p.accessControlPolicy);
                    const grants = publicGrants(acp ? acp.grants : undefined);
                    if (grants.open)
                        ctx.report(`${what} grants everyone (AllUsers/AuthenticatedUsers) access to backup bucket ${b.label}.`, r.urn);
                    if (grants.unknown || isUnknown(p.accessControlPolicy)) ctx.defer(`the grants of ${what}`, r.urn);
                }
                if (isPolicy) {
                    const s = publicStatements(p.policy);
                    if (s.open.length > 0)
                        ctx.report(`BucketPolicy "${r.name}" opens backup bucket ${b.label} to everyone (${s.open.join(", ")}).`, r.urn);
                    if (s.unknown) ctx.defer(`the policy document of BucketPolicy "${r.name}"`, r.urn);
                    if (s.unparsable)
                        ctx.report(
                            `BucketPolicy "${r.name}" on backup bucket ${b.label} is not valid JSON, so it cannot be shown to be private.`,
                            r.urn,
                        );
                }
            }
        }
    },
);
