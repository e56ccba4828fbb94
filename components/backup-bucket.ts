/**
 * The object-storage bucket that holds every backup: on Cloudflare R2, Backblaze B2 or
 * MinIO, through an aws.Provider pointed at that endpoint. Its lifecycle rules come from
 * render/lifecycle.ts; the bucket is private (no ACL, no policy) and survives `pulumi
 * destroy`, because deleting it would delete the backups.
 */
import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { parseOrThrow } from "../config/errors";
import { backupBucketArgsSchema } from "../config/component-args";
import { planBucket } from "../plan/bucket";
import type { StorageProvider } from "../render/lifecycle";
import { typeToken } from "../vocabulary";

export interface BackupBucketArgs {
    /** Where the bucket lives: `minio`, `r2` or `b2`. */
    readonly provider: StorageProvider;
    /** Bucket name (S3 naming rules). */
    readonly bucketName: string;
    /** S3 endpoint Pulumi manages the bucket through, e.g. https://<account>.r2.cloudflarestorage.com. */
    readonly apiEndpoint: string;
    /** Region: `auto` on R2, the endpoint's region on B2, any on MinIO. */
    readonly region: string;
    /** Storage credentials (secrets). */
    readonly accessKeyId: pulumi.Input<string>;
    readonly secretAccessKey: pulumi.Input<string>;
    /** One prefix per cluster and environment the bucket serves, e.g. `production/app/`. */
    readonly backupPrefixes: readonly string[];
    /** Days restore-drill evidence is kept. */
    readonly evidenceDays: number;
}

export class BackupBucket extends pulumi.ComponentResource {
    public readonly bucket: aws.s3.Bucket;
    public readonly bucketName: pulumi.Output<string>;
    public readonly lifecycle: aws.s3.BucketLifecycleConfiguration;
    public readonly awsProvider: aws.Provider;

    constructor(name: string, args: BackupBucketArgs, opts?: pulumi.ComponentResourceOptions) {
        // Validate before registering anything; secrets (Inputs) are not validated here.
        const a = parseOrThrow(
            backupBucketArgsSchema,
            { ...args, accessKeyId: undefined, secretAccessKey: undefined },
            `BackupBucket ${name}`,
        );
        super(typeToken("BackupBucket"), name, args, opts);
        const plan = planBucket(a);
        this.awsProvider = new aws.Provider(
            `${name}-provider`,
            {
                region: a.region as aws.Region,
                accessKey: args.accessKeyId,
                secretKey: args.secretAccessKey,
                endpoints: [{ s3: a.apiEndpoint }],
                s3UsePathStyle: true,
                // Non-AWS stores cannot answer STS, IMDS or region lookups.
                skipCredentialsValidation: true,
                skipRegionValidation: true,
                skipRequestingAccountId: true,
                skipMetadataApiCheck: true,
            },
            { parent: this },
        );
        const child = { parent: this, provider: this.awsProvider };
        this.bucket = new aws.s3.Bucket(
            `${name}-bucket`,
            {
                bucket: a.bucketName,
                forceDestroy: false,
            },
            { ...child, retainOnDelete: true },
        );
        this.bucketName = this.bucket.bucket;

        const dependsOn: pulumi.Resource[] = [];
        if (plan.versioning) {
            dependsOn.push(
                new aws.s3.BucketVersioning(
                    `${name}-versioning`,
                    {
                        bucket: this.bucket.bucket,
                        versioningConfiguration: { status: "Enabled" },
                    },
                    child,
                ),
            );
        }
        const rules = plan.rules;
        this.lifecycle = new aws.s3.BucketLifecycleConfiguration(
            `${name}-lifecycle`,
            {
                bucket: this.bucket.bucket,
                rules: rules.map((r) => ({
                    id: r.id,
                    status: "Enabled",
                    filter: { prefix: r.prefix },
                    expiration: r.expirationDays !== undefined ? { days: r.expirationDays } : undefined,
                    abortIncompleteMultipartUpload:
                        r.abortIncompleteMultipartUploadDays !== undefined
                            ? { daysAfterInitiation: r.abortIncompleteMultipartUploadDays }
                            : undefined,
                    noncurrentVersionExpiration:
                        r.noncurrentVersionExpirationDays !== undefined ? { noncurrentDays: r.noncurrentVersionExpirationDays } : undefined,
                })),
            },
            { ...child, dependsOn },
        );
        this.registerOutputs({
            bucket: this.bucket,
            bucketName: this.bucketName,
            lifecycle: this.lifecycle,
            awsProvider: this.awsProvider,
        });
    }
}
