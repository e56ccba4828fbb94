/** The WAL-G env file of one cluster, as a function of the storage keys and the libsodium key. */
import { renderWalgEnv, walgPrefix } from "../render/walg-env";
import type { StoragePlacement } from "./placement";
import type { ClusterSettings } from "./settings";

export interface WalgSecrets {
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly libsodiumKeyHex: string;
}

/** Keys of the env file whose values are secrets (the parity test masks them). */
export const WALG_SECRET_KEYS = ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "WALG_LIBSODIUM_KEY"] as const;

export interface WalgPlan {
    /** `s3://<bucket>/<environment>/<cluster>` (CONTRACT.md). */
    readonly prefix: string;
    env(secrets: WalgSecrets): string;
}

export function planWalg(s: ClusterSettings, storage: StoragePlacement): WalgPlan {
    const prefix = walgPrefix(s.storage.bucketName, s.environment, s.cluster.name);
    return {
        prefix,
        env: (k) =>
            renderWalgEnv({
                s3Prefix: prefix,
                endpoint: storage.endpoint,
                region: storage.region,
                accessKeyId: k.accessKeyId,
                secretAccessKey: k.secretAccessKey,
                compression: s.backup.compression,
                libsodiumKeyHex: k.libsodiumKeyHex,
                uploadConcurrency: s.backup.uploadConcurrency,
                downloadConcurrency: s.backup.downloadConcurrency,
            }),
    };
}
