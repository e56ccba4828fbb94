/**
 * The BackupBucket per provider: lifecycle rules shaped for R2, B2 and MinIO, versioning on
 * B2 only, no ACL or policy, and a bucket Pulumi never deletes.
 */
import { describe, expect, it } from "vitest";
import { BackupBucket } from "../../components";
import { installMocks, type RecordedResource, settle } from "../support/mock-runtime";

async function bucketFor(provider: "minio" | "r2" | "b2", endpoint: string, region: string): Promise<RecordedResource[]> {
    const recorded = await installMocks(`bucket-${provider}`);
    new BackupBucket(`b-${provider}`, {
        provider,
        bucketName: `db-tier-${provider}`,
        apiEndpoint: endpoint,
        region,
        accessKeyId: "AKIA-test",
        secretAccessKey: "secret-test-0123456789",
        backupPrefixes: ["production/app/", "production/temporal/"],
        evidenceDays: 400,
    });
    await settle();
    return recorded;
}

function rulesOf(r: RecordedResource[]): Record<string, unknown>[] {
    return r.find((x) => x.type === "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")!.inputs.rules;
}

describe("BackupBucket", () => {
    it("on MinIO: evidence expiry only (no age-based expiry of backup data, no multipart rule), no versioning", async () => {
        const r = await bucketFor("minio", "http://127.0.0.1:19000", "us-east-1");
        expect(rulesOf(r)).toEqual([
            { id: "restore-evidence-expiry", status: "Enabled", filter: { prefix: "restore-tests/" }, expiration: { days: 400 } },
        ]);
        expect(r.some((x) => x.type === "aws:s3/bucketVersioning:BucketVersioning")).toBe(false);
    });

    it("on R2: adds the abort-incomplete-multipart rule and uses region auto", async () => {
        const r = await bucketFor("r2", "https://acc.r2.cloudflarestorage.com", "auto");
        expect(rulesOf(r)).toContainEqual({
            id: "abort-incomplete-multipart",
            status: "Enabled",
            filter: { prefix: "" },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        });
        expect(r.find((x) => x.type === "pulumi:providers:aws")!.inputs.region).toBe("auto");
    });

    for (const [provider, endpoint, region] of [
        ["minio", "http://127.0.0.1:19000", "us-east-1"],
        ["r2", "https://acc.r2.cloudflarestorage.com", "auto"],
        ["b2", "https://s3.us-west-004.backblazeb2.com", "us-west-004"],
    ] as const) {
        it(`on ${provider}: no rule expires anything under a backup prefix, where permanent backups live`, async () => {
            const rules = rulesOf(await bucketFor(provider, endpoint, region)) as { filter: { prefix: string }; expiration?: unknown }[];
            const reaching = rules.filter(
                (x) =>
                    x.expiration !== undefined &&
                    ["production/app/", "production/temporal/"].some((p) => p.startsWith(x.filter.prefix) || x.filter.prefix.startsWith(p)),
            );
            expect(reaching).toEqual([]);
            expect(rules.filter((x) => x.expiration !== undefined).map((x) => x.filter.prefix)).toEqual(["restore-tests/"]);
        });
    }

    it("on B2: enables versioning and removes noncurrent (hidden) versions", async () => {
        const r = await bucketFor("b2", "https://s3.us-west-004.backblazeb2.com", "us-west-004");
        expect(r.find((x) => x.type === "aws:s3/bucketVersioning:BucketVersioning")!.inputs.versioningConfiguration).toEqual({
            status: "Enabled",
        });
        expect(rulesOf(r)).toContainEqual({
            id: "remove-noncurrent-versions",
            status: "Enabled",
            filter: { prefix: "" },
            noncurrentVersionExpiration: { noncurrentDays: 1 },
        });
        expect(rulesOf(r)).toContainEqual({
            id: "abort-incomplete-multipart",
            status: "Enabled",
            filter: { prefix: "" },
            abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
        });
    });

    it("opens nothing: no ACL, no bucket policy, and forceDestroy off", async () => {
        const r = await bucketFor("r2", "https://acc.r2.cloudflarestorage.com", "auto");
        const bucket = r.find((x) => x.type === "aws:s3/bucket:Bucket")!;
        expect(bucket.inputs.acl).toBeUndefined();
        expect(bucket.inputs.forceDestroy).toBe(false);
        expect(r.some((x) => /bucketPolicy|bucketAcl/.test(x.type))).toBe(false);
    });

    it("rejects bad arguments before creating any child", async () => {
        const recorded = await installMocks("bucket-bad");
        expect(
            () =>
                new BackupBucket("bad", {
                    provider: "r2",
                    bucketName: "db-tier",
                    apiEndpoint: "https://acc.r2.cloudflarestorage.com",
                    region: "us-east-1",
                    accessKeyId: "a",
                    secretAccessKey: "b",
                    backupPrefixes: ["production/app/"],
                    evidenceDays: 400,
                }),
        ).toThrow("region: must be auto for provider r2");
        await settle();
        expect(recorded).toEqual([]);
    });
});
