/**
 * The two stacks as the tests apply them, with every stand-in spelled out (see harness.ts):
 * the dev stack on its own free host ports; the production stack with the test engine for
 * its ssh host and a MinIO container serving TLS under B2's host name for Backblaze B2.
 */
import { execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as https from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { readExternalSecrets, readStackConfig } from "../../policy/offline/stack-config";
import type { Engine } from "./apply/engine";
import { tarOf } from "./apply/tar";
import { docker, freePorts, MINIO_IMAGE, prebuiltImages, ROOT, selfSignedPair, StackRun, waitFor } from "./harness";

/** The stack file's value of `key`, parsed (objects arrive as JSON strings). */
export function stackValue(stack: string, key: string): Record<string, unknown> {
    const c = readStackConfig(ROOT, stack, readExternalSecrets(path.join(ROOT, "policy", "offline", "external-secrets.json"), stack));
    const v = c.config[key];
    return v === undefined ? {} : (JSON.parse(v) as Record<string, unknown>);
}

export interface DevStack {
    readonly run: StackRun;
    readonly s3Endpoint: string;
    readonly pgbouncerPort: number;
}

/** The dev stack; `backup` is merged over its `db-tier:backup` (a variant, e.g. walStreaming). */
export async function devStack(engine: Engine, backup?: Record<string, unknown>): Promise<DevStack> {
    const [s3Port, pgbouncerPort] = await freePorts(2);
    const s3Endpoint = `http://127.0.0.1:${s3Port}`;
    const config = {
        "db-tier:storage": { ...stackValue("dev", "db-tier:storage"), embeddedPort: s3Port },
        "db-tier:pgbouncer": { ...stackValue("dev", "db-tier:pgbouncer"), publishPort: pgbouncerPort },
        ...(backup ? { "db-tier:backup": { ...stackValue("dev", "db-tier:backup"), ...backup } } : {}),
    };
    const run = new StackRun(
        "dev",
        engine,
        { engineHost: engine.host, dockerHosts: {}, s3Endpoints: { [s3Endpoint]: s3Endpoint }, prebuiltImages: prebuiltImages() },
        config,
    );
    return { run, s3Endpoint, pgbouncerPort };
}

/**
 * The production stack's storage endpoint, unchanged (config/rules/endpoint.ts admits only
 * `https://s3.<region>.backblazeb2.com` for b2): the stand-in answers under this very name.
 */
export const B2_ENDPOINT = "https://s3.us-west-004.backblazeb2.com";
export const B2_HOST = new URL(B2_ENDPOINT).hostname;
export const B2_STANDIN_NAME = "production-b2-standin";
/** Where the containers find the stand-in's CA (Go's crypto/x509 reads every file in /etc/ssl/certs). */
export const STANDIN_CA_FILE = "/etc/ssl/certs/db-tier-b2-standin-ca.pem";

export interface ProductionStack {
    readonly run: StackRun;
    readonly s3Endpoint: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    /** The per-run CA that signed the stand-in's certificate. */
    readonly caPem: string;
    readonly stopStandIn: () => Promise<void>;
}

/**
 * A throwaway CA and a server certificate it signs for B2's host name (and 127.0.0.1, where
 * the applier reaches the stand-in). The CA key is deleted at once: nothing else is signed.
 */
export function standInCertificates(dir: string): { caPem: string; certPem: string; keyPem: string } {
    const f = (n: string) => path.join(dir, n);
    const ossl = (args: string[]) => execFileSync("openssl", args, { stdio: ["ignore", "ignore", "pipe"] });
    ossl(
        ["req", "-x509", "-newkey", "rsa:2048", "-nodes", "-subj", "/CN=db-tier test B2 stand-in CA", "-days", "2"].concat([
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-addext",
            "keyUsage=critical,keyCertSign",
            "-keyout",
            f("ca.key"),
            "-out",
            f("ca.crt"),
        ]),
    );
    ossl(["req", "-newkey", "rsa:2048", "-nodes", "-subj", `/CN=${B2_HOST}`, "-keyout", f("server.key"), "-out", f("server.csr")]);
    fs.writeFileSync(f("ext.cnf"), `subjectAltName=DNS:${B2_HOST},IP:127.0.0.1\nextendedKeyUsage=serverAuth\n`);
    ossl(
        ["x509", "-req", "-in", f("server.csr"), "-CA", f("ca.crt"), "-CAkey", f("ca.key"), "-CAcreateserial"].concat([
            "-days",
            "2",
            "-extfile",
            f("ext.cnf"),
            "-out",
            f("server.crt"),
        ]),
    );
    const out = {
        caPem: fs.readFileSync(f("ca.crt"), "utf8"),
        certPem: fs.readFileSync(f("server.crt"), "utf8"),
        keyPem: fs.readFileSync(f("server.key"), "utf8"),
    };
    fs.rmSync(dir, { recursive: true, force: true });
    return out;
}

/** GET over https trusting only `caPem`: the status code, or undefined when the connection fails. */
export function httpsStatus(url: string, caPem: string): Promise<number | undefined> {
    return new Promise((resolve) => {
        const req = https.get(url, { ca: caPem, timeout: 3000 }, (res) => {
            res.resume();
            resolve(res.statusCode);
        });
        req.on("timeout", () => req.destroy());
        req.on("error", () => resolve(undefined));
    });
}

/**
 * The MinIO standing in for B2, with MinIO's own TLS on 443 and a certificate for B2's host
 * name from a per-run CA: started before the apply, credentials and key copied in as files
 * (never env), its API published on 127.0.0.1 for the applier's aws provider; it joins each
 * backup-egress network the apply creates under the alias s3.us-west-004.backblazeb2.com
 * (targets.standIns), and every container on backup-egress gets the CA (targets.trustedCa).
 */
export async function productionStack(engine: Engine): Promise<ProductionStack> {
    const [port] = await freePorts(1);
    const accessKeyId = randomBytes(12).toString("hex");
    const secretAccessKey = randomBytes(24).toString("base64url");
    const pki = standInCertificates(fs.mkdtempSync(path.join(os.tmpdir(), "b2-standin-pki-")));
    await docker(engine, ["rm", "-f", "-v", B2_STANDIN_NAME]);
    await docker(engine, ["network", "rm", B2_STANDIN_NAME]);
    // Its own bridge for the published port, not the default one: a container on no tier
    // network (the default bridge) must reach nothing of the tier, the store included.
    const net = await docker(engine, ["network", "create", "--label", "db-tier.test=b2-standin", B2_STANDIN_NAME]);
    if (net.code !== 0) throw new Error(`creating the B2 stand-in's network failed: ${net.stderr}`);
    const created = await docker(engine, [
        "create",
        "--name",
        B2_STANDIN_NAME,
        "--network",
        B2_STANDIN_NAME,
        "--label",
        "db-tier.test=b2-standin",
        "-e",
        "MINIO_ROOT_USER_FILE=/run/secrets/minio-root-user",
        "-e",
        "MINIO_ROOT_PASSWORD_FILE=/run/secrets/minio-root-password",
        "-p",
        `127.0.0.1:${port}:443`,
        MINIO_IMAGE,
        "server",
        "/data",
        "--address",
        ":443",
        "--certs-dir",
        "/run/minio-certs",
    ]);
    if (created.code !== 0) throw new Error(`creating the B2 stand-in failed: ${created.stderr}`);
    const own = { uid: 1000, gid: 1000 };
    await engine.putArchive(
        B2_STANDIN_NAME,
        "/",
        tarOf([
            { path: "/run/secrets/minio-root-user", content: Buffer.from(accessKeyId), mode: 0o400, ...own },
            { path: "/run/secrets/minio-root-password", content: Buffer.from(secretAccessKey), mode: 0o400, ...own },
            { path: "/run/minio-certs/public.crt", content: Buffer.from(pki.certPem), mode: 0o444, ...own },
            { path: "/run/minio-certs/private.key", content: Buffer.from(pki.keyPem), mode: 0o400, ...own },
        ]),
    );
    const started = await docker(engine, ["start", B2_STANDIN_NAME]);
    if (started.code !== 0) throw new Error(`starting the B2 stand-in failed: ${started.stderr}`);
    const s3Endpoint = `https://127.0.0.1:${port}`;
    try {
        await waitFor("the B2 stand-in (TLS)", 60_000, async () =>
            (await httpsStatus(`${s3Endpoint}/minio/health/live`, pki.caPem)) === 200 ? true : undefined,
        );
    } catch (e) {
        throw new Error(`${(e as Error).message}; logs:\n${(await docker(engine, ["logs", B2_STANDIN_NAME])).stderr.slice(-2000)}`);
    }
    process.stderr.write(`stacks: B2 stand-in ${B2_STANDIN_NAME} up on ${s3Endpoint} (TLS, CN ${B2_HOST})\n`);
    const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "production-tls-"));
    const tls = selfSignedPair(tlsDir);
    fs.rmSync(tlsDir, { recursive: true, force: true });
    const config = {
        "db-tier:storageAccessKeyId": accessKeyId,
        "db-tier:storageSecretAccessKey": secretAccessKey,
        "db-tier:tlsCertPem": tls.certPem,
        "db-tier:tlsKeyPem": tls.keyPem,
    };
    const run = new StackRun(
        "production",
        engine,
        {
            engineHost: engine.host,
            dockerHosts: { "ssh://deploy@db-1.internal": engine.host },
            s3Endpoints: { [B2_ENDPOINT]: s3Endpoint },
            s3CaPem: pki.caPem,
            trustedCa: { pem: pki.caPem, file: STANDIN_CA_FILE, networkLabel: "backup-egress" },
            // MinIO rejects a rule whose only action is AbortIncompleteMultipartUpload and drops
            // it from one with others (B2 takes it): sent without it, each omission noted.
            lifecycleFieldsTheStoreLacks: ["abortIncompleteMultipartUpload"],
            standIns: [{ container: B2_STANDIN_NAME, networkLabel: "backup-egress", aliases: [B2_HOST] }],
            prebuiltImages: prebuiltImages(),
        },
        config,
    );
    return {
        run,
        s3Endpoint,
        accessKeyId,
        secretAccessKey,
        caPem: pki.caPem,
        stopStandIn: async () => {
            await docker(engine, ["rm", "-f", "-v", B2_STANDIN_NAME]);
            await docker(engine, ["network", "rm", B2_STANDIN_NAME]);
        },
    };
}
