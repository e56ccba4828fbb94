/**
 * aws.s3 resources on an S3-compatible store through @aws-sdk/client-s3: the bucket, its
 * versioning, lifecycle configuration, public access block and policy. Each put is read
 * back, so a store that accepted a request but kept something else is caught here.
 */
import {
    CreateBucketCommand,
    DeleteBucketCommand,
    DeleteBucketLifecycleCommand,
    DeleteBucketPolicyCommand,
    GetBucketLifecycleConfigurationCommand,
    GetBucketVersioningCommand,
    HeadBucketCommand,
    type LifecycleRule,
    PutBucketLifecycleConfigurationCommand,
    PutBucketPolicyCommand,
    PutBucketVersioningCommand,
    type S3Client,
} from "@aws-sdk/client-s3";
import { list, map, NotImplementedError, object } from "../strict";
import type { ApplyContext, ResourceImpl } from "../types";

function s3Of(ctx: ApplyContext): S3Client {
    if (ctx.provider?.kind !== "aws") throw new NotImplementedError(`${ctx.type}: no aws provider resolved for ${ctx.urn}`);
    return ctx.provider.s3;
}

export const s3Bucket: ResourceImpl = {
    providerKind: "aws",
    inputs: { bucket: "string", forceDestroy: "boolean", tags: map("string") },
    async create(inputs, ctx) {
        const s3 = s3Of(ctx);
        const bucket = inputs.bucket as string;
        if (typeof bucket !== "string") throw new NotImplementedError(`${ctx.type}: auto-named buckets are not implemented (${ctx.urn})`);
        if (inputs.tags && Object.keys(inputs.tags as object).length > 0)
            throw new NotImplementedError(`${ctx.type}: tags are not implemented (${ctx.urn})`);
        await s3.send(new CreateBucketCommand({ Bucket: bucket }));
        await s3.send(new HeadBucketCommand({ Bucket: bucket }));
        return { id: bucket, outputs: { bucket, arn: `arn:aws:s3:::${bucket}`, bucketDomainName: `${bucket}.s3.amazonaws.com` } };
    },
    async delete(state, ctx) {
        await s3Of(ctx).send(new DeleteBucketCommand({ Bucket: state.id }));
    },
};

export const s3BucketVersioning: ResourceImpl = {
    providerKind: "aws",
    inputs: { bucket: "string", versioningConfiguration: object({ status: "string" }) },
    async create(inputs, ctx) {
        const s3 = s3Of(ctx);
        const bucket = inputs.bucket as string;
        const status = (inputs.versioningConfiguration as { status: string }).status;
        if (status !== "Enabled" && status !== "Suspended") throw new NotImplementedError(`${ctx.type}: status "${status}" (${ctx.urn})`);
        await s3.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: status } }));
        const got = await s3.send(new GetBucketVersioningCommand({ Bucket: bucket }));
        if (got.Status !== status) throw new Error(`${ctx.type}: ${bucket} versioning reads back ${got.Status}, not ${status}`);
        return { id: bucket, outputs: {} };
    },
    async update(inputs, _old, ctx) {
        return s3BucketVersioning.create(inputs, ctx);
    },
    async delete(state, ctx) {
        // The provider suspends versioning on delete (it cannot be turned off once on).
        await s3Of(ctx).send(new PutBucketVersioningCommand({ Bucket: state.id, VersioningConfiguration: { Status: "Suspended" } }));
    },
};

interface RuleInput {
    id: string;
    status: string;
    filter?: { prefix?: string };
    expiration?: { days?: number };
    abortIncompleteMultipartUpload?: { daysAfterInitiation?: number };
    noncurrentVersionExpiration?: { noncurrentDays?: number };
}

export const s3BucketLifecycle: ResourceImpl = {
    providerKind: "aws",
    inputs: {
        bucket: "string",
        rules: list(
            object({
                id: "string",
                status: "string",
                filter: object({ prefix: "string" }),
                expiration: object({ days: "number" }),
                abortIncompleteMultipartUpload: object({ daysAfterInitiation: "number" }),
                noncurrentVersionExpiration: object({ noncurrentDays: "number" }),
            }),
        ),
    },
    async create(inputs, ctx) {
        const s3 = s3Of(ctx);
        const bucket = inputs.bucket as string;
        const lacks = new Set(ctx.targets.lifecycleFieldsTheStoreLacks ?? []);
        const rules: LifecycleRule[] = (inputs.rules as RuleInput[])
            .map((r) => {
                if (r.status !== "Enabled" && r.status !== "Disabled")
                    throw new NotImplementedError(`${ctx.type}: rule ${r.id} status "${r.status}" (${ctx.urn})`);
                const rule: LifecycleRule = { ID: r.id, Status: r.status, Filter: { Prefix: r.filter?.prefix ?? "" } };
                if (r.expiration?.days !== undefined) rule.Expiration = { Days: r.expiration.days };
                if (r.noncurrentVersionExpiration?.noncurrentDays !== undefined)
                    rule.NoncurrentVersionExpiration = { NoncurrentDays: r.noncurrentVersionExpiration.noncurrentDays };
                if (r.abortIncompleteMultipartUpload?.daysAfterInitiation !== undefined) {
                    if (lacks.has("abortIncompleteMultipartUpload")) {
                        ctx.note(
                            `${bucket}: rule ${r.id}: AbortIncompleteMultipartUpload (${r.abortIncompleteMultipartUpload.daysAfterInitiation} d) not sent: the stand-in store lacks it`,
                        );
                    } else {
                        rule.AbortIncompleteMultipartUpload = { DaysAfterInitiation: r.abortIncompleteMultipartUpload.daysAfterInitiation };
                    }
                }
                if (!rule.Expiration && !rule.NoncurrentVersionExpiration && !rule.AbortIncompleteMultipartUpload) {
                    ctx.note(`${bucket}: rule ${r.id} has no action the stand-in store takes; not sent`);
                    return undefined as unknown as LifecycleRule;
                }
                return rule;
            })
            .filter((r) => r !== undefined);
        await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: bucket, LifecycleConfiguration: { Rules: rules } }));
        const got = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: bucket }));
        const ids = (got.Rules ?? []).map((r) => r.ID).sort();
        const want = rules.map((r) => r.ID).sort();
        if (JSON.stringify(ids) !== JSON.stringify(want))
            throw new Error(`${ctx.type}: ${bucket} lifecycle reads back rules ${ids.join(",")}, not ${want.join(",")}`);
        for (const w of rules) {
            const g = got.Rules!.find((r) => r.ID === w.ID)!;
            if (
                g.Expiration?.Days !== w.Expiration?.Days ||
                g.NoncurrentVersionExpiration?.NoncurrentDays !== w.NoncurrentVersionExpiration?.NoncurrentDays
            ) {
                throw new Error(`${ctx.type}: ${bucket} rule ${w.ID} reads back ${JSON.stringify(g)}, not ${JSON.stringify(w)}`);
            }
        }
        return { id: bucket, outputs: {} };
    },
    async update(inputs, _old, ctx) {
        return s3BucketLifecycle.create(inputs, ctx);
    },
    async delete(state, ctx) {
        await s3Of(ctx).send(new DeleteBucketLifecycleCommand({ Bucket: state.id }));
    },
};

export const s3BucketPolicy: ResourceImpl = {
    providerKind: "aws",
    inputs: { bucket: "string", policy: "string" },
    async create(inputs, ctx) {
        await s3Of(ctx).send(new PutBucketPolicyCommand({ Bucket: inputs.bucket as string, Policy: inputs.policy as string }));
        return { id: inputs.bucket as string, outputs: {} };
    },
    async update(inputs, _old, ctx) {
        return s3BucketPolicy.create(inputs, ctx);
    },
    async delete(state, ctx) {
        await s3Of(ctx).send(new DeleteBucketPolicyCommand({ Bucket: state.id }));
    },
};
