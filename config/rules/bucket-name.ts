/**
 * Bucket naming rules per storage provider, encoded from each provider's published rules.
 * The bucket is created by Pulumi (BackupBucket) and then addressed path-style by WAL-G; a
 * name the provider refuses fails in the middle of `pulumi up`, after other resources exist,
 * so the tier refuses it at validation instead.
 *
 * - S3 general-purpose buckets (the baseline every S3-compatible store is measured against):
 *   https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html
 *   3-63 characters of a-z, 0-9, '.' and '-'; begin and end with a letter or digit; no two
 *   adjacent periods; not formatted as an IP address; no prefix xn--, sthree-,
 *   amzn-s3-demo-; no suffix -s3alias, --ol-s3, .mrap, --x-s3, --table-s3.
 * - MinIO: the server checks names with minio-go's s3utils.CheckValidBucketNameStrict
 *   (github.com/minio/minio-go pkg/s3utils/utils.go): ^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$,
 *   no "..", ".-" or "-.", not an IP address. The S3 reserved affixes are applied too, so a
 *   name that works on MinIO also works when the backups move to another S3 store.
 * - Cloudflare R2 (https://developers.cloudflare.com/r2/buckets/create-buckets/): only
 *   lowercase letters, digits and hyphens, 3-63 characters, not beginning or ending with a
 *   hyphen. No dots.
 * - Backblaze B2 (https://www.backblaze.com/docs/cloud-storage-buckets, b2_create_bucket):
 *   6-63 characters of letters, digits and '-'; names starting with "b2-" are reserved for
 *   Backblaze. B2 names are case-insensitive; the S3-compatible API (which WAL-G and Pulumi
 *   use) takes them in lowercase, so lowercase is required here.
 */
import { isIP } from "node:net";
import type { StorageProvider } from "../../render/lifecycle";

/** Reserved by AWS S3 for its own names (access point aliases, directory buckets, ...). */
export const S3_RESERVED_PREFIXES = ["xn--", "sthree-", "amzn-s3-demo-"] as const;
export const S3_RESERVED_SUFFIXES = ["-s3alias", "--ol-s3", ".mrap", "--x-s3", "--table-s3"] as const;

interface ProviderRule {
    readonly min: number;
    readonly max: number;
    readonly dots: boolean;
    /** One line for messages and docs. */
    readonly summary: string;
    readonly example: string;
}

export const BUCKET_RULES: Record<StorageProvider, ProviderRule> = {
    minio: {
        min: 3,
        max: 63,
        dots: true,
        summary: `3-63 characters of a-z, 0-9, '.' and '-', starting and ending with a letter or digit; no "..", ".-" or "-."; not an IP address; not starting with ${S3_RESERVED_PREFIXES.join(", ")}; not ending with ${S3_RESERVED_SUFFIXES.join(", ")}`,
        example: "db-tier-dev-backups",
    },
    r2: {
        min: 3,
        max: 63,
        dots: false,
        summary: `3-63 characters of a-z, 0-9 and '-' (no dots), starting and ending with a letter or digit; not starting with ${S3_RESERVED_PREFIXES.join(", ")}; not ending with ${S3_RESERVED_SUFFIXES.join(", ")}`,
        example: "db-tier-backups",
    },
    b2: {
        min: 6,
        max: 63,
        dots: false,
        summary: `6-63 characters of a-z, 0-9 and '-' (no dots), starting and ending with a letter or digit; not starting with b2-, ${S3_RESERVED_PREFIXES.join(", ")}; not ending with ${S3_RESERVED_SUFFIXES.join(", ")}`,
        example: "db-tier-production-backups",
    },
};

/** Looks like a dotted-quad IPv4 address (S3 and MinIO refuse these even when out of range). */
function ipLike(name: string): boolean {
    return /^\d+\.\d+\.\d+\.\d+$/.test(name) || isIP(name) !== 0;
}

/** What is wrong with `name` on `provider`, or undefined when the provider accepts it. */
export function bucketNameProblem(provider: StorageProvider, name: string): string | undefined {
    const rule = BUCKET_RULES[provider];
    const fix = `(${provider} bucket names: ${rule.summary}; e.g. ${rule.example})`;
    const wrong = (what: string) => `"${name}" ${what} ${fix}`;
    if (name.length < rule.min || name.length > rule.max) return wrong(`is ${name.length} characters long`);
    if (/[A-Z]/.test(name) && /^[A-Za-z0-9.-]+$/.test(name)) return wrong(`has capital letters; write "${name.toLowerCase()}"`);
    if (name.includes("_")) return wrong("contains '_'");
    if (!rule.dots && name.includes(".")) return wrong(`contains '.'; ${provider} allows no dots`);
    if (!/^[a-z0-9.-]+$/.test(name)) return wrong("contains a character other than a-z, 0-9, '.' and '-'");
    if (!/^[a-z0-9]/.test(name) || !/[a-z0-9]$/.test(name)) return wrong("must start and end with a letter or digit");
    if (ipLike(name)) return wrong("is formatted as an IP address");
    for (const seq of ["..", ".-", "-."]) if (name.includes(seq)) return wrong(`contains "${seq}"`);
    if (provider === "b2" && name.startsWith("b2-")) return wrong('starts with "b2-", which Backblaze reserves');
    const prefix = S3_RESERVED_PREFIXES.find((p) => name.startsWith(p));
    if (prefix) return wrong(`starts with the reserved prefix "${prefix}"`);
    const suffix = S3_RESERVED_SUFFIXES.find((s) => name.endsWith(s));
    if (suffix) return wrong(`ends with the reserved suffix "${suffix}"`);
    return undefined;
}
