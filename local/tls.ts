/**
 * The loopback tier's stand-in for the stack's TLS certificate and key (db-tier:tlsCertPem /
 * tlsKeyPem are `pulumi config set --secret` values it cannot read): a self-signed pair made
 * once with openssl, kept in the state dir (key 0600).
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { describeFailure, minimalEnv, run } from "../jobs/proc";
import { ensureDir } from "./fsutil";
import type { Layout } from "./settings";

export interface TlsPair {
    readonly certPem: string;
    readonly keyPem: string;
}

export async function standInTls(l: Layout): Promise<TlsPair> {
    const dir = join(l.state, "tls");
    const cert = join(dir, "tier.crt");
    const key = join(dir, "tier.key");
    if (!existsSync(cert) || !existsSync(key)) {
        ensureDir(dir, { mode: 0o700 });
        const r = await run(
            "openssl",
            [
                "req",
                "-x509",
                "-newkey",
                "rsa:2048",
                "-nodes",
                "-keyout",
                key,
                "-out",
                cert,
                "-days",
                "3650",
                "-subj",
                "/CN=127.0.0.1",
                "-addext",
                "subjectAltName=IP:127.0.0.1",
            ],
            { env: minimalEnv(), timeoutMs: 60_000 },
        );
        if (r.code !== 0) throw new Error(describeFailure("openssl req (stand-in TLS certificate)", r));
    }
    return { certPem: readFileSync(cert, "utf8"), keyPem: readFileSync(key, "utf8") };
}
