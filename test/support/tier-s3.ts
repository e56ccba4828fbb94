/**
 * The bucket of a loopback tier, seen from outside: one S3 client on its embedded MinIO (the
 * tier's own MinIO credentials) and where the WAL-G env file says the backups go, read from
 * that file rather than assumed, so a change of bucket or prefix in local/ is followed here.
 */
import { readFileSync } from "node:fs";
import { GetObjectCommand, ListObjectsV2Command, S3Client, type _Object } from "@aws-sdk/client-s3";
import type { Layout } from "../../local/settings";

/** What of a tier an S3 client needs (a Tier has it). */
export interface TierStore {
    readonly l: Layout;
    readonly ports: { readonly minio: number };
    secrets(): { minio: { user: string; password: string } };
}

/** An S3 client on the tier's MinIO; destroy() it when done. */
export function tierS3Client(t: TierStore): S3Client {
    const s = t.secrets();
    return new S3Client({
        endpoint: `http://127.0.0.1:${t.ports.minio}`,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId: s.minio.user, secretAccessKey: s.minio.password },
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
    });
}

/** Bucket and key prefix of the tier's backups: WALG_S3_PREFIX=s3://bucket/prefix of its WAL-G env file. */
export function tierStorage(t: Pick<TierStore, "l">): { bucket: string; prefix: string } {
    const line = readFileSync(t.l.walgEnv, "utf8")
        .split("\n")
        .find((l) => l.startsWith("WALG_S3_PREFIX="));
    if (!line) throw new Error(`${t.l.walgEnv} has no WALG_S3_PREFIX`);
    const raw = line.slice("WALG_S3_PREFIX=".length);
    const value = raw.startsWith("'") ? raw.slice(1, -1).replace(/'\\''/g, "'") : raw;
    const m = /^s3:\/\/([^/]+)\/?(.*)$/.exec(value);
    if (!m) throw new Error(`WALG_S3_PREFIX=${value} is not s3://bucket/prefix`);
    return { bucket: m[1], prefix: m[2].replace(/\/$/, "") };
}

/** Every object under a key prefix of the tier's bucket, sorted by key. */
export async function listObjects(t: TierStore, prefix: string): Promise<_Object[]> {
    const c = tierS3Client(t);
    const { bucket } = tierStorage(t);
    const out: _Object[] = [];
    let token: string | undefined;
    try {
        do {
            const r = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
            out.push(...(r.Contents ?? []));
            token = r.NextContinuationToken;
        } while (token);
    } finally {
        c.destroy();
    }
    return out.sort((a, b) => (a.Key! < b.Key! ? -1 : a.Key! > b.Key! ? 1 : 0));
}

/** An object's bytes, or undefined when there is no such key. */
export async function getObject(t: TierStore, key: string): Promise<Buffer | undefined> {
    const c = tierS3Client(t);
    try {
        const r = await c.send(new GetObjectCommand({ Bucket: tierStorage(t).bucket, Key: key }));
        return Buffer.from(await r.Body!.transformToByteArray());
    } catch (e) {
        if ((e as { name?: string }).name === "NoSuchKey") return undefined;
        throw e;
    } finally {
        c.destroy();
    }
}

/** The WAL archive of the tier: `<prefix>/wal_005/` objects. */
export async function walObjects(t: TierStore): Promise<_Object[]> {
    return listObjects(t, `${tierStorage(t).prefix}/wal_005/`);
}
