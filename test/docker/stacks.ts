/**
 * The two stacks as the tests apply them, with every stand-in spelled out (see harness.ts):
 * the dev stack on its own free host ports; the production stack with the test engine for
 * its ssh host and a MinIO container for Backblaze B2.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { readExternalSecrets, readStackConfig } from "../../policy/offline/stack-config";
import type { Engine } from "./apply/engine";
import { tarOf } from "./apply/tar";
import { docker, freePorts, MINIO_IMAGE, prebuiltImages, ROOT, selfSignedPair, StackRun, waitFor } from "./harness";

/** The stack file's value of `key`, parsed (objects arrive as JSON strings). */
function stackValue(stack: string, key: string): Record<string, unknown> {
    const c = readStackConfig(ROOT, stack, readExternalSecrets(path.join(ROOT, "policy", "offline", "external-secrets.json"), stack));
    const v = c.config[key];
    return v === undefined ? {} : (JSON.parse(v) as Record<string, unknown>);
}

export interface DevStack {
    readonly run: StackRun;
    readonly s3Endpoint: string;
    readonly pgbouncerPort: number;
}

export async function devStack(engine: Engine): Promise<DevStack> {
    const [s3Port, pgbouncerPort] = await freePorts(2);
    const s3Endpoint = `http://127.0.0.1:${s3Port}`;
    const config = {
        "db-tier:storage": { ...stackValue("dev", "db-tier:storage"), embeddedPort: s3Port },
        "db-tier:pgbouncer": { ...stackValue("dev", "db-tier:pgbouncer"), publishPort: pgbouncerPort },
    };
    const run = new StackRun(
        "dev",
        engine,
        { engineHost: engine.host, dockerHosts: {}, s3Endpoints: { [s3Endpoint]: s3Endpoint }, prebuiltImages: prebuiltImages() },
        config,
    );
    return { run, s3Endpoint, pgbouncerPort };
}

/** Where the containers reach the B2 stand-in: B2's host name shape, so the region label stays `us-west-004`. */
export const B2_STANDIN_ENDPOINT = "http://s3.us-west-004.b2-standin.internal:9000";
export const B2_STANDIN_NAME = "production-b2-standin";

export interface ProductionStack {
    readonly run: StackRun;
    readonly s3Endpoint: string;
    readonly accessKeyId: string;
    readonly secretAccessKey: string;
    readonly stopStandIn: () => Promise<void>;
}

/**
 * The MinIO standing in for B2: started before the apply, credentials copied in as files
 * (never env), its API published on 127.0.0.1 for the applier's aws provider; it joins each
 * backup-egress network the apply creates (targets.standIns).
 */
export async function productionStack(engine: Engine): Promise<ProductionStack> {
    const [port] = await freePorts(1);
    const accessKeyId = randomBytes(12).toString("hex");
    const secretAccessKey = randomBytes(24).toString("base64url");
    await docker(engine, ["rm", "-f", B2_STANDIN_NAME]);
    const created = await docker(engine, [
        "create",
        "--name",
        B2_STANDIN_NAME,
        "--label",
        "db-tier.test=b2-standin",
        "-e",
        "MINIO_ROOT_USER_FILE=/run/secrets/minio-root-user",
        "-e",
        "MINIO_ROOT_PASSWORD_FILE=/run/secrets/minio-root-password",
        "-p",
        `127.0.0.1:${port}:9000`,
        MINIO_IMAGE,
        "server",
        "/data",
        "--address",
        ":9000",
    ]);
    if (created.code !== 0) throw new Error(`creating the B2 stand-in failed: ${created.stderr}`);
    await engine.putArchive(
        B2_STANDIN_NAME,
        "/",
        tarOf([
            { path: "/run/secrets/minio-root-user", content: Buffer.from(accessKeyId), mode: 0o400, uid: 1000, gid: 1000 },
            { path: "/run/secrets/minio-root-password", content: Buffer.from(secretAccessKey), mode: 0o400, uid: 1000, gid: 1000 },
        ]),
    );
    const started = await docker(engine, ["start", B2_STANDIN_NAME]);
    if (started.code !== 0) throw new Error(`starting the B2 stand-in failed: ${started.stderr}`);
    const s3Endpoint = `http://127.0.0.1:${port}`;
    await waitFor("the B2 stand-in", 60_000, async () =>
        (await fetch(`${s3Endpoint}/minio/health/live`, { signal: AbortSignal.timeout(3000) }).catch(() => undefined))?.ok
            ? true
            : undefined,
    );
    process.stderr.write(`stacks: B2 stand-in ${B2_STANDIN_NAME} up on ${s3Endpoint}\n`);
    const tlsDir = fs.mkdtempSync(path.join(os.tmpdir(), "production-tls-"));
    const tls = selfSignedPair(tlsDir);
    fs.rmSync(tlsDir, { recursive: true, force: true });
    process.stderr.write("stacks: TLS pair made\n");
    const config = {
        "db-tier:storage": { ...stackValue("production", "db-tier:storage"), endpoint: B2_STANDIN_ENDPOINT },
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
            s3Endpoints: { [B2_STANDIN_ENDPOINT]: s3Endpoint },
            // MinIO rejects a rule whose only action is AbortIncompleteMultipartUpload and drops
            // it from one with others (B2 takes it): sent without it, each omission noted.
            lifecycleFieldsTheStoreLacks: ["abortIncompleteMultipartUpload"],
            standIns: [{ container: B2_STANDIN_NAME, networkLabel: "backup-egress", aliases: [new URL(B2_STANDIN_ENDPOINT).hostname] }],
            prebuiltImages: prebuiltImages(),
        },
        config,
    );
    return {
        run,
        s3Endpoint,
        accessKeyId,
        secretAccessKey,
        stopStandIn: async () => void (await docker(engine, ["rm", "-f", "-v", B2_STANDIN_NAME])),
    };
}
