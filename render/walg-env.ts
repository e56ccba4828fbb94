/**
 * The WAL-G env file: where backups go and the keys that open them. Sourced by the
 * archive/restore commands and the backup and drill jobs; never put in a container's
 * environment. It holds secrets, so the components upload it as a Pulumi secret.
 */
import { shellQuote } from "./quote";

export interface WalgEnvInput {
    /** s3://bucket/<environment>/<cluster>: one prefix per cluster and environment. */
    readonly s3Prefix: string;
    readonly endpoint: string;
    readonly region: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    /** WALG_COMPRESSION_METHOD: the codecs the pinned WAL-G v3.0.9 build carries. */
    readonly compression: "lz4" | "zstd" | "lzma";
    /** 32-byte libsodium key as 64 hex characters: without it no backup can be read. */
    readonly libsodiumKeyHex: string;
    readonly uploadConcurrency: number;
    readonly downloadConcurrency: number;
}

/** The suffix WAL-G gives every object it compressed with `method` (wal_005/<segment><suffix>). */
export function walgFileExtension(method: WalgEnvInput["compression"]): string {
    return { lz4: ".lz4", zstd: ".zst", lzma: ".lzma" }[method];
}

/** The backup prefix of one cluster in one environment. */
export function walgPrefix(bucket: string, environment: string, cluster: string): string {
    return `s3://${bucket}/${environment}/${cluster}`;
}

export function renderWalgEnv(w: WalgEnvInput): string {
    if (!/^[0-9a-f]{64}$/.test(w.libsodiumKeyHex)) {
        throw new Error("renderWalgEnv: libsodiumKeyHex must be 64 lowercase hex characters (32 bytes)");
    }
    if (!/^s3:\/\/[a-z0-9][a-z0-9.-]+[a-z0-9](\/[a-z0-9._-]+)*$/.test(w.s3Prefix)) {
        throw new Error(`renderWalgEnv: s3Prefix "${w.s3Prefix}" must look like s3://bucket/path`);
    }
    const entries: [string, string][] = [
        ["WALG_S3_PREFIX", w.s3Prefix],
        ["AWS_ENDPOINT", w.endpoint],
        ["AWS_REGION", w.region],
        // R2, B2 and MinIO all want path-style requests against a custom endpoint.
        ["AWS_S3_FORCE_PATH_STYLE", "true"],
        ["AWS_ACCESS_KEY_ID", w.accessKeyId],
        ["AWS_SECRET_ACCESS_KEY", w.secretAccessKey],
        ["WALG_COMPRESSION_METHOD", w.compression],
        ["WALG_LIBSODIUM_KEY", w.libsodiumKeyHex],
        ["WALG_LIBSODIUM_KEY_TRANSFORM", "hex"],
        // A segment that exists in storage is never overwritten by a different one.
        ["WALG_PREVENT_WAL_OVERWRITE", "true"],
        ["WALG_UPLOAD_CONCURRENCY", String(w.uploadConcurrency)],
        ["WALG_DOWNLOAD_CONCURRENCY", String(w.downloadConcurrency)],
    ];
    return `# Rendered by db-tier: WAL-G storage settings and keys. Secret: mode 0600.\n${entries
        .map(([k, v]) => `${k}=${shellQuote(v)}`)
        .join("\n")}\n`;
}
