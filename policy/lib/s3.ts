/**
 * Backup buckets as deployed: which aws.s3 buckets are backup buckets (by parentage: their
 * parent is a db-tier BackupBucket component), which store they live on (by the endpoint
 * of the aws provider they use, not by any tag), and the lifecycle rules, versioning, ACLs
 * and bucket policies that really target them (by bucket name, or by sharing the
 * component while the name is not known yet).
 */
import type { PolicyResource } from "@pulumi/policy";
import { typeToken } from "../shared/vocabulary";
import { asArray, asBoolean, asNumber, asObject, asString, isUnknown, type Plain, plain, propsOf } from "./values";

export const BACKUP_BUCKET_COMPONENT = typeToken("BackupBucket");
export const BUCKET_TYPES = ["aws:s3/bucket:Bucket", "aws:s3/bucketV2:BucketV2"];
export const LIFECYCLE_TYPES = [
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2",
];
export const VERSIONING_TYPES = ["aws:s3/bucketVersioning:BucketVersioning", "aws:s3/bucketVersioningV2:BucketVersioningV2"];
export const ACL_TYPES = ["aws:s3/bucketAcl:BucketAcl", "aws:s3/bucketAclV2:BucketAclV2"];
export const BUCKET_POLICY_TYPES = ["aws:s3/bucketPolicy:BucketPolicy"];
export const OBJECT_TYPES = ["aws:s3/bucketObject:BucketObject", "aws:s3/bucketObjectv2:BucketObjectv2"];

export interface BackupBucketInfo {
    readonly resource: PolicyResource;
    readonly props: Plain;
    /** The bucket's name; undefined while unknown. */
    readonly name?: string;
    readonly label: string;
    /** The BackupBucket component that owns it. */
    readonly component: PolicyResource;
}

export function backupBuckets(resources: readonly PolicyResource[]): BackupBucketInfo[] {
    return resources.flatMap((r) => {
        const component = r.parent;
        if (!BUCKET_TYPES.includes(r.type) || component?.type !== BACKUP_BUCKET_COMPONENT) return [];
        const props = propsOf(r);
        const name = asString(props.bucket);
        return [{ resource: r, props, name, label: name ? `"${name}"` : `"${r.name}"`, component }];
    });
}

/** Whether a resource's `bucket` property targets this backup bucket. */
export function targetsBucket(r: PolicyResource, b: BackupBucketInfo): "yes" | "no" | "unknown" {
    const target = plain(propsOf(r).bucket);
    if (typeof target === "string" && !isUnknown(target) && b.name !== undefined) return target === b.name ? "yes" : "no";
    // A name is not known yet: the component's own children still belong to it.
    if (r.parent?.urn === b.component.urn) return "yes";
    return "unknown";
}

export type StoreKind = "r2" | "b2" | "other";

/** The store a bucket lives on, from the S3 endpoint of the aws provider it is managed with. */
export function storeKind(bucket: PolicyResource): { kind: StoreKind; endpoint?: string } | { kind: "unknown" } {
    const provider = bucket.provider;
    if (!provider) return { kind: "other" };
    let endpoints: unknown = propsOf(provider).endpoints;
    if (isUnknown(endpoints)) return { kind: "unknown" };
    // Providers receive complex config JSON-encoded.
    if (typeof endpoints === "string") {
        try {
            endpoints = JSON.parse(endpoints);
        } catch {
            return { kind: "other" };
        }
    }
    for (const e of asArray(endpoints) ?? []) {
        const o = asObject(e);
        if (!o) continue;
        if (isUnknown(o.s3)) return { kind: "unknown" };
        const url = asString(o.s3);
        if (!url) continue;
        let host: string;
        try {
            host = new URL(url).hostname.toLowerCase();
        } catch {
            host = url.toLowerCase();
        }
        if (host === "r2.cloudflarestorage.com" || host.endsWith(".r2.cloudflarestorage.com")) return { kind: "r2", endpoint: url };
        if (host === "backblazeb2.com" || host.endsWith(".backblazeb2.com")) return { kind: "b2", endpoint: url };
        return { kind: "other", endpoint: url };
    }
    return { kind: "other" };
}

/** One lifecycle rule, whatever resource shape it came from. */
export interface RuleView {
    readonly id: string;
    readonly enabled: boolean | "unknown";
    /** Key prefix the rule applies to ("" is the whole bucket); "unknown" while not known. */
    readonly prefix: string | "unknown";
    readonly expirationDays?: number;
    readonly expirationDate?: string;
    readonly expirationUnknown: boolean;
    readonly abortDays?: number;
    readonly noncurrentDays?: number;
    /** The abort-multipart or noncurrent-version setting is not known yet. */
    readonly choresUnknown: boolean;
}

function one(v: unknown): Plain | undefined {
    const p = plain(v);
    const list = asArray(p);
    return list ? asObject(list[0]) : asObject(p);
}

function prefixOf(...candidates: unknown[]): string | "unknown" {
    for (const c of candidates) {
        if (isUnknown(c)) return "unknown";
        if (typeof c === "string") return c;
    }
    return "";
}

function expirationOf(e: Plain | undefined): Pick<RuleView, "expirationDays" | "expirationDate" | "expirationUnknown"> {
    if (!e) return { expirationUnknown: false };
    const days = asNumber(e.days);
    return {
        expirationDays: days !== undefined && days > 0 ? days : undefined,
        expirationDate: asString(e.date) || undefined,
        expirationUnknown: isUnknown(e.days) || isUnknown(e.date),
    };
}

/** Rules of an aws.s3.BucketLifecycleConfiguration. */
export function configurationRules(r: PolicyResource): { rules: RuleView[]; unknown: boolean } {
    const raw = plain(propsOf(r).rules);
    if (isUnknown(raw)) return { rules: [], unknown: true };
    const rules: RuleView[] = [];
    let unknown = false;
    for (const [i, entry] of (asArray(raw) ?? []).entries()) {
        const o = asObject(entry);
        if (!o) {
            unknown = true;
            continue;
        }
        const filter = one(o.filter);
        const and = filter ? one(filter.and) : undefined;
        const status = plain(o.status);
        const abort = plain(o.abortIncompleteMultipartUpload);
        const noncurrent = plain(o.noncurrentVersionExpiration);
        rules.push({
            id: asString(o.id) ?? `rule ${i + 1}`,
            enabled: isUnknown(status) ? "unknown" : status === "Enabled",
            prefix: prefixOf(filter?.prefix, and?.prefix, o.prefix),
            ...expirationOf(one(o.expiration)),
            abortDays: asNumber(one(abort)?.daysAfterInitiation),
            noncurrentDays: asNumber(one(noncurrent)?.noncurrentDays),
            choresUnknown:
                isUnknown(abort) ||
                isUnknown(noncurrent) ||
                isUnknown(one(abort)?.daysAfterInitiation) ||
                isUnknown(one(noncurrent)?.noncurrentDays),
        });
    }
    return { rules, unknown };
}

/** Inline (deprecated) lifecycleRules of an aws.s3.Bucket. */
export function inlineRules(bucketProps: Plain): { rules: RuleView[]; unknown: boolean } {
    const raw = plain(bucketProps.lifecycleRules);
    if (isUnknown(raw)) return { rules: [], unknown: true };
    const rules: RuleView[] = [];
    for (const [i, entry] of (asArray(raw) ?? []).entries()) {
        const o = asObject(entry);
        if (!o) continue;
        const enabled = plain(o.enabled);
        rules.push({
            id: asString(o.id) ?? `inline rule ${i + 1}`,
            enabled: isUnknown(enabled) ? "unknown" : asBoolean(enabled) === true,
            prefix: prefixOf(o.prefix),
            ...expirationOf(one(o.expiration) ?? one(o.expirations)),
            abortDays: asNumber(o.abortIncompleteMultipartUploadDays),
            noncurrentDays: asNumber((one(o.noncurrentVersionExpiration) ?? one(o.noncurrentVersionExpirations))?.days),
            choresUnknown: isUnknown(o.abortIncompleteMultipartUploadDays) || isUnknown(o.noncurrentVersionExpiration),
        });
    }
    return { rules, unknown: false };
}

/** Versioning of a bucket: enabled by an aws.s3.BucketVersioning or inline. */
export function versioningEnabled(b: BackupBucketInfo, resources: readonly PolicyResource[]): boolean | "unknown" {
    const inline = one(b.props.versioning);
    if (inline && asBoolean(inline.enabled) === true) return true;
    let unknown = isUnknown(plain(b.props.versioning)) || (inline ? isUnknown(inline.enabled) : false);
    for (const r of resources) {
        if (!VERSIONING_TYPES.includes(r.type)) continue;
        const t = targetsBucket(r, b);
        if (t === "no") continue;
        const raw = plain(propsOf(r).versioningConfiguration);
        const cfg = one(raw);
        const status = cfg ? plain(cfg.status) : undefined;
        if (t === "yes" && status === "Enabled") return true;
        if (isUnknown(raw) || isUnknown(status) || t === "unknown") unknown = true;
    }
    return unknown ? "unknown" : false;
}

const PUBLIC_CANNED_ACLS = ["public-read", "public-read-write", "authenticated-read"];
const PUBLIC_GRANTEE_URIS = [
    "http://acs.amazonaws.com/groups/global/AllUsers",
    "http://acs.amazonaws.com/groups/global/AuthenticatedUsers",
];

export function isPublicCannedAcl(acl: unknown): boolean {
    return typeof acl === "string" && PUBLIC_CANNED_ACLS.includes(acl);
}

export function isPublicGranteeUri(uri: unknown): boolean {
    return typeof uri === "string" && PUBLIC_GRANTEE_URIS.includes(uri);
}

/**
 * Statements of a bucket policy that allow everyone: Principal "*", {"AWS": "*"} (or a list
 * holding "*"), or an Allow with NotPrincipal. Returns their Sids (or positions).
 */
export function publicStatements(policy: unknown): { open: string[]; unknown: boolean; unparsable: boolean } {
    let doc: unknown = plain(policy);
    if (isUnknown(doc)) return { open: [], unknown: true, unparsable: false };
    if (typeof doc === "string") {
        try {
            doc = JSON.parse(doc);
        } catch {
            return { open: [], unknown: false, unparsable: true };
        }
    }
    const o = asObject(doc);
    if (!o) return { open: [], unknown: false, unparsable: doc !== undefined && doc !== null && doc !== "" };
    const statements = asArray(o.Statement) ?? (asObject(o.Statement) ? [o.Statement] : []);
    const open: string[] = [];
    const everyone = (p: unknown): boolean => {
        if (p === "*") return true;
        const list = asArray(p);
        if (list) return list.some(everyone);
        const obj = asObject(p);
        return obj ? Object.values(obj).some(everyone) : false;
    };
    statements.forEach((s, i) => {
        const st = asObject(s);
        if (st?.Effect !== "Allow") return;
        if (everyone(st.Principal) || st.NotPrincipal !== undefined) open.push(asString(st.Sid) ?? `statement ${i + 1}`);
    });
    return { open, unknown: false, unparsable: false };
}
