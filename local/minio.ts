/** MinIO on 127.0.0.1 (a detached process with a pid file) and the bucket with its lifecycle rules. */
import { spawn } from "node:child_process";
import { closeSync, openSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
    BucketAlreadyOwnedByYou,
    CreateBucketCommand,
    PutBucketVersioningCommand,
    GetBucketLifecycleConfigurationCommand,
    PutBucketLifecycleConfigurationCommand,
    S3Client,
} from "@aws-sdk/client-s3";
import type { BucketPlan } from "../plan/bucket";
import { minimalEnv } from "../jobs/proc";
import { ensureDir, pidAlive, readPid, stopPid, waitFor, writePrivate } from "./fsutil";
import type { Secrets } from "./secrets";
import type { Layout, Tools } from "./settings";

export const MINIO_REGION = "us-east-1";

export function endpoint(port: number): string {
    return `http://127.0.0.1:${port}`;
}

async function ready(port: number): Promise<boolean> {
    try {
        const r = await fetch(`${endpoint(port)}/minio/health/ready`, { signal: AbortSignal.timeout(2000) });
        return r.ok;
    } catch {
        return false;
    }
}

export async function minioRunning(l: Layout, port: number): Promise<boolean> {
    return pidAlive(readPid(l.minioPid)) && (await ready(port));
}

/** MinIO's root credentials as files (0600, in a 0700 dir): MinIO reads them via MINIO_ROOT_*_FILE. */
export function writeMinioCredentials(l: Layout, s: Secrets): { userFile: string; passwordFile: string } {
    const dir = join(l.state, "minio-credentials");
    ensureDir(dir, { mode: 0o700 });
    const userFile = join(dir, "root-user");
    const passwordFile = join(dir, "root-password");
    writePrivate(userFile, s.minio.user);
    writePrivate(passwordFile, s.minio.password);
    return { userFile, passwordFile };
}

export async function startMinio(l: Layout, t: Tools, s: Secrets, port: number): Promise<boolean> {
    if (await minioRunning(l, port)) return false;
    ensureDir(l.minioData, { mode: 0o700 });
    const creds = writeMinioCredentials(l, s);
    const log = openSync(l.minioLog, "a");
    const child = spawn(t.minio, ["server", l.minioData, "--address", `127.0.0.1:${port}`, "--quiet"], {
        detached: true,
        stdio: ["ignore", log, log],
        // Credentials by file, not value: nothing secret in /proc/<pid>/environ, and nothing
        // of the caller's environment either.
        env: minimalEnv({
            HOME: l.minioData,
            MINIO_ROOT_USER_FILE: creds.userFile,
            MINIO_ROOT_PASSWORD_FILE: creds.passwordFile,
            MINIO_BROWSER: "off",
            MINIO_UPDATE: "off",
        }),
    });
    closeSync(log);
    child.unref();
    writeFileSync(l.minioPid, `${child.pid}\n`);
    await waitFor(
        `MinIO on 127.0.0.1:${port} (see ${l.minioLog})`,
        async () => {
            if (!pidAlive(child.pid)) throw new Error(`MinIO exited at start; see ${l.minioLog}`);
            return ready(port);
        },
        60_000,
    );
    return true;
}

export async function stopMinio(l: Layout): Promise<void> {
    await stopPid(readPid(l.minioPid));
}

export function s3Client(s: Secrets, port: number): S3Client {
    return new S3Client({
        endpoint: endpoint(port),
        region: MINIO_REGION,
        forcePathStyle: true,
        credentials: { accessKeyId: s.minio.user, secretAccessKey: s.minio.password },
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
    });
}

/**
 * The plan's rules MinIO can carry. MinIO refuses the R2/B2 whole-bucket rules (abort
 * incomplete multipart uploads, expire noncurrent versions: "The XML you provided was not
 * well-formed") that those providers need; the stand-in leaves them out and `up` says so.
 */
export function standInRules(bucket: BucketPlan): BucketPlan["rules"] {
    return bucket.rules.filter((r) => r.expirationDays !== undefined);
}

/**
 * The stack's bucket, by its name, with the plan's lifecycle rules (every prefix of the
 * stack's clusters) on the embedded MinIO standing in for its R2/B2/MinIO. Idempotent.
 */
export async function ensureBucket(s: Secrets, port: number, bucket: BucketPlan): Promise<void> {
    const name = bucket.bucketName;
    const s3 = s3Client(s, port);
    try {
        await s3.send(new CreateBucketCommand({ Bucket: name }));
    } catch (e) {
        if (!(e instanceof BucketAlreadyOwnedByYou)) throw e;
    }
    // B2 applies lifecycle rules to versioned buckets only; the stand-in is versioned like it.
    if (bucket.versioning) await s3.send(new PutBucketVersioningCommand({ Bucket: name, VersioningConfiguration: { Status: "Enabled" } }));
    const rules = standInRules(bucket);
    await s3.send(
        new PutBucketLifecycleConfigurationCommand({
            Bucket: name,
            LifecycleConfiguration: {
                Rules: rules.map((r) => ({
                    ID: r.id,
                    Status: "Enabled",
                    Filter: { Prefix: r.prefix },
                    ...(r.expirationDays !== undefined ? { Expiration: { Days: r.expirationDays } } : {}),
                    ...(r.abortIncompleteMultipartUploadDays !== undefined
                        ? { AbortIncompleteMultipartUpload: { DaysAfterInitiation: r.abortIncompleteMultipartUploadDays } }
                        : {}),
                    ...(r.noncurrentVersionExpirationDays !== undefined
                        ? { NoncurrentVersionExpiration: { NoncurrentDays: r.noncurrentVersionExpirationDays } }
                        : {}),
                })),
            },
        }),
    );
    const back = await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: name }));
    if ((back.Rules ?? []).length !== rules.length)
        throw new Error(`bucket ${name}: lifecycle has ${(back.Rules ?? []).length} rules, expected ${rules.length}`);
    s3.destroy();
}
