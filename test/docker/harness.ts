/**
 * The end-to-end harness: one stack applied to the test engine by the applier (cli.ts, a
 * process per update, like `pulumi up`), the stand-ins a stack needs on this machine, and
 * the probes the tests run (throwaway containers, psql, TCP connects, S3 listings).
 *
 * Everything a stand-in changes is explicit here:
 * - docker hosts: the production stack's `ssh://deploy@db-1.internal` is the test engine;
 * - object storage: production's Backblaze B2 is a MinIO container (`b2-standin`) the
 *   harness starts, serving TLS on 443 under B2's own host name (a network alias on every
 *   backup-egress network) with a certificate from a per-run CA; the stack's endpoint stays
 *   `https://s3.us-west-004.backblazeb2.com`; the containers on backup-egress get that CA as
 *   one more file in /etc/ssl/certs (the real B2's public CA is in the images' bundle), and
 *   the aws.Provider's endpoint is mapped to the stand-in's port published on 127.0.0.1;
 * - secrets the offline check has placeholders for (storage keys, TLS certificate and key)
 *   get real values: the stand-in's generated credentials, a throwaway self-signed pair;
 * - host ports the dev stack publishes (19000, 16432) are set to free ones, so a tier that
 *   another test or a developer runs on this machine cannot collide with this one.
 */
import { execFile, execFileSync } from "node:child_process";
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import { Agent as HttpsAgent } from "node:https";
import * as os from "node:os";
import * as path from "node:path";
import { ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { freePorts } from "../../local/net";
import { scramVerifier } from "../../render/scram";
import { Engine, runCli } from "./apply/engine";
import type { ResourceState, StackState, Targets } from "./apply/types";
import { pemLines, secretForms } from "../support/secret-scan";

export const ROOT = path.resolve(__dirname, "..", "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
export const PGBOUNCER_IMAGE = process.env.DBTIER_PGBOUNCER_IMAGE ?? "db-tier/pgbouncer:local";
export const POSTGRES_IMAGE = process.env.DBTIER_POSTGRES_IMAGE ?? "db-tier/postgres:local";
export const MINIO_IMAGE = process.env.DBTIER_MINIO_IMAGE ?? "db-tier/minio:local";

/**
 * The inputs hash scripts/docker-images.sh computed for one of the tier's images this run
 * (DBTIER_<NAME>_IMAGE_INPUTS), or undefined for an image it does not build.
 */
export function expectedImageInputs(image: string): string | undefined {
    const name = { [POSTGRES_IMAGE]: "POSTGRES", [PGBOUNCER_IMAGE]: "PGBOUNCER", [MINIO_IMAGE]: "MINIO" }[image];
    if (!name) return undefined;
    const hash = process.env[`DBTIER_${name}_IMAGE_INPUTS`];
    if (!hash)
        throw new Error(
            `DBTIER_${name}_IMAGE_INPUTS is not set: run the suite through npm run test:docker (or eval "$(bash scripts/docker-images.sh)")`,
        );
    return hash;
}

/**
 * Throws unless `image` on the engine is the one its inputs describe now: its db-tier.inputs
 * label equals the hash docker-images.sh computed from the current Dockerfile, context and
 * base (a tag left from another checkout or an edited Dockerfile would otherwise pass).
 */
export function checkImageInputs(image: string, labels: Record<string, string> | null | undefined): void {
    const want = expectedImageInputs(image);
    if (want === undefined) return;
    const have = labels?.["db-tier.inputs"];
    if (have !== want)
        throw new Error(
            `image ${image} on the test engine was built from other inputs (db-tier.inputs ${have?.slice(0, 12) ?? "absent"}, now ${want.slice(0, 12)}): run scripts/docker-images.sh`,
        );
}

/** The test engine, which must be up with the images built from the current inputs: the suite fails otherwise. */
export async function requireEngine(images: readonly string[] = [POSTGRES_IMAGE, PGBOUNCER_IMAGE, MINIO_IMAGE]): Promise<Engine> {
    let host = process.env.DBTIER_DOCKER_HOST ?? process.env.DOCKER_HOST;
    if (!host) {
        try {
            host = execFileSync("bash", [path.join(ROOT, "scripts", "dockerd.sh"), "status"], {
                encoding: "utf8",
                stdio: ["ignore", "pipe", "ignore"],
            })
                .trim()
                .split("\n")
                .pop();
        } catch {
            throw new Error('the test engine is not running: run `npm run test:docker` (or eval "$(bash scripts/docker-images.sh)")');
        }
    }
    const engine = new Engine(host!);
    await engine.ping();
    for (const image of images) {
        if (!(await engine.exists("images", image)))
            throw new Error(`image ${image} is not on the test engine: run scripts/docker-images.sh`);
        const inspected = await engine.json<{ Config?: { Labels?: Record<string, string> } }>(
            "GET",
            `/images/${encodeURIComponent(image)}/json`,
        );
        checkImageInputs(image, inspected.Config?.Labels);
    }
    return engine;
}

export interface ApplyReport {
    readonly steps: { urn: string; type: string; kind: string }[];
    readonly notes: string[];
    readonly error?: string;
}

/** The dockerfiles scripts/docker-images.sh builds (see test/docker/README.md). */
export function prebuiltImages(): Targets["prebuiltImages"] {
    const out: Record<string, { dockerfile: string; context: string }> = {};
    for (const n of ["postgres", "pgbouncer", "minio"])
        out[`db-tier/${n}:local`] = { dockerfile: path.join(ROOT, "images", n, "Dockerfile"), context: ROOT };
    return out;
}

/**
 * What the tests read from a stack's state, whoever applied it: the applier (StackRun) or
 * the real Pulumi engine (engine-stack.ts).
 */
export abstract class StackView {
    abstract state(): StackState;
    /** The stack's config as the harness set it (secrets it handed in are searched for). */
    abstract readonly config: Record<string, unknown>;

    resources(type: string): ResourceState[] {
        return this.state().resources.filter((r) => r.type === type);
    }

    containers(): ResourceState[] {
        return this.resources("docker:index/container:Container");
    }

    container(role: string, cluster?: string): ResourceState {
        const found = this.containers().filter((c) => {
            const labels = c.inputs.labels as { label: string; value: string }[];
            const l = (k: string) => labels.find((x) => x.label === k)?.value;
            return l("db-tier.role") === role && (cluster === undefined || l("db-tier.cluster") === cluster);
        });
        if (found.length !== 1) throw new Error(`${found.length} ${role} containers${cluster ? ` in ${cluster}` : ""}`);
        return found[0];
    }

    /** The DSNs of one cluster from the stack outputs (`clusters.<name>`). */
    dsns(cluster: string): Record<"DATABASE_URL" | "DATABASE_SERVICE_URL" | "DATABASE_MIGRATE_URL" | "DATABASE_ROOT_URL", string> {
        const c = (this.state().outputs.clusters as Record<string, Record<string, string>>)[cluster];
        if (!c) throw new Error(`no cluster ${cluster} in the outputs`);
        return c as never;
    }

    /** Every generated secret value and every secret the harness handed in. */
    secretValues(): string[] {
        const out: string[] = [];
        for (const r of this.state().resources) {
            if (r.type === "random:index/randomPassword:RandomPassword") out.push(String(r.outputs.result));
            if (r.type === "random:index/randomBytes:RandomBytes" && /walg-key/.test(r.name))
                out.push(String(r.outputs.hex), String(r.outputs.base64));
        }
        // The SCRAM verifiers Postgres and pgBouncer hold: each from its role's password and salt.
        for (const r of this.state().resources) {
            const m = r.type === "random:index/randomPassword:RandomPassword" ? /^(.*)-password$/.exec(r.name) : null;
            const salt = m && this.state().resources.find((x) => x.name === `${m[1]}-salt`);
            if (salt) out.push(scramVerifier(String(r.outputs.result), String(salt.outputs.base64)));
        }
        for (const [k, v] of Object.entries(this.config)) {
            if (/storageAccessKeyId|storageSecretAccessKey/.test(k)) out.push(String(v));
            if (/tlsKeyPem/.test(k)) out.push(...pemLines(String(v)));
        }
        return out.filter((s) => s.length >= 16);
    }
}

export class StackRun extends StackView {
    readonly dir: string;
    private readonly stateFile: string;
    private readonly targetsFile: string;
    private readonly configFile: string;

    constructor(
        readonly stack: string,
        readonly engine: Engine,
        readonly targets: Targets,
        readonly config: Record<string, unknown>,
    ) {
        super();
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `docker-${stack}-`));
        fs.chmodSync(this.dir, 0o700);
        this.stateFile = path.join(this.dir, "state.json");
        this.targetsFile = path.join(this.dir, "targets.json");
        this.configFile = path.join(this.dir, "config.json");
        fs.writeFileSync(this.targetsFile, JSON.stringify(targets), { mode: 0o600 });
        fs.writeFileSync(this.configFile, JSON.stringify(config), { mode: 0o600 });
    }

    /** Changes the stack's config for the next apply, as `pulumi config set` between two `up`s. */
    reconfigure(patch: Record<string, unknown>): void {
        Object.assign(this.config, patch);
        fs.writeFileSync(this.configFile, JSON.stringify(this.config), { mode: 0o600 });
    }

    /** One `pulumi up`; `replace` as `--replace URN`. Rejects with the applier's error. */
    async apply(replace: string[] = []): Promise<ApplyReport> {
        const args = [
            path.join(__dirname, "apply", "cli.ts"),
            "--stack",
            this.stack,
            "--state",
            this.stateFile,
            "--targets",
            this.targetsFile,
            "--config",
            this.configFile,
        ];
        for (const u of replace) args.push("--replace", u);
        const r = await new Promise<{ code: number; stdout: string; stderr: string }>((resolve) => {
            execFile(TSX, args, { cwd: ROOT, maxBuffer: 64 * 1024 * 1024, timeout: 40 * 60_000 }, (err, stdout, stderr) =>
                resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
            );
        });
        fs.writeFileSync(path.join(this.dir, `apply-${Date.now()}.log`), r.stderr);
        const last = r.stdout.trim().split("\n").pop() ?? "{}";
        let report: ApplyReport;
        try {
            report = JSON.parse(last) as ApplyReport;
        } catch {
            throw new Error(`apply of ${this.stack} printed no report (exit ${r.code}):\n${r.stderr.slice(-3000)}`);
        }
        if (r.code !== 0 || report.error) throw new Error(`apply of ${this.stack} failed: ${report.error ?? r.stderr.slice(-3000)}`);
        return report;
    }

    async destroy(): Promise<void> {
        if (!fs.existsSync(this.stateFile)) return;
        const r = await runCli(this.engine.host, ["version"]).catch(() => undefined);
        if (!r) return;
        await new Promise<void>((resolve) =>
            execFile(
                TSX,
                [
                    path.join(__dirname, "apply", "cli.ts"),
                    "--stack",
                    this.stack,
                    "--state",
                    this.stateFile,
                    "--targets",
                    this.targetsFile,
                    "--destroy",
                    "--include-retained",
                ],
                { cwd: ROOT },
                () => resolve(),
            ),
        );
    }

    state(): StackState {
        return JSON.parse(fs.readFileSync(this.stateFile, "utf8")) as StackState;
    }
}

export function docker(
    engine: Engine,
    args: string[],
    input?: string,
    timeoutMs = 120_000,
): Promise<{ code: number; stdout: string; stderr: string }> {
    return runCli(engine.host, args, { input, timeoutMs });
}

/**
 * A throwaway application container (no label, like a container an engineer adds) on the
 * given network (none given: the default bridge, i.e. on no tier network), running `script` in
 * sh with `stdin` on its standard input: DSNs travel on stdin, never in env or argv.
 */
export async function throwaway(
    engine: Engine,
    opts: { networks: string[]; script: string; stdin?: string; image?: string; timeoutMs?: number },
): Promise<{ code: number; stdout: string; stderr: string }> {
    if (opts.networks.length > 1) throw new Error("throwaway: one network at most (docker run joins one)");
    const name = `throwaway-${randomBytes(4).toString("hex")}`;
    const args = ["run", "--rm", "-i", "--name", name, "--entrypoint", "sh", "--user", "postgres"];
    if (opts.networks.length > 0) args.push("--network", opts.networks[0]);
    args.push(opts.image ?? PGBOUNCER_IMAGE, "-c", opts.script);
    return docker(engine, args, opts.stdin, opts.timeoutMs);
}

/** psql with the DSN read from stdin, in a throwaway container on `networks`. */
export function psqlIn(
    engine: Engine,
    networks: string[],
    dsn: string,
    sql: string | string[],
): Promise<{ code: number; stdout: string; stderr: string }> {
    const statements = Array.isArray(sql) ? sql : [sql];
    const flags = statements.map((s) => `-c ${shellQuote(s)}`).join(" ");
    return throwaway(engine, {
        networks,
        stdin: `${dsn}\n`,
        script: `read -r url; PGCONNECT_TIMEOUT=10 exec psql "$url" -X -q -At -v ON_ERROR_STOP=1 ${flags}`,
    });
}

/** TCP connects from one throwaway container, all at once: "open" or "closed" per host:port (3 s each). */
export async function tcpProbe(engine: Engine, networks: string[], targets: string[]): Promise<Record<string, "open" | "closed">> {
    const probes = targets.map((t) => {
        const [host, port] = t.split(":");
        return `(if timeout 3 bash -c 'exec 3<>/dev/tcp/${host}/${port}' 2>/dev/null; then echo "${t} open"; else echo "${t} closed"; fi) &`;
    });
    const script = [...probes, "wait"].join("\n");
    const r = await throwaway(engine, { networks, script, timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(`tcp probe failed: ${r.stderr}`);
    const out: Record<string, "open" | "closed"> = {};
    for (const line of r.stdout.trim().split("\n")) {
        const [t, s] = line.split(" ");
        out[t] = s as "open" | "closed";
    }
    for (const t of targets) if (!out[t]) throw new Error(`tcp probe: no answer for ${t}`);
    return out;
}

export function shellQuote(s: string): string {
    return `'${s.replace(/'/g, `'\\''`)}'`;
}

/** Every IPv4 address a container has, by network name. */
export async function addresses(engine: Engine, container: string): Promise<Record<string, string>> {
    const s = await engine.inspectContainer(container);
    return Object.fromEntries(
        Object.entries(s.NetworkSettings.Networks as Record<string, { IPAddress: string }>).map(([n, v]) => [n, v.IPAddress]),
    );
}

export async function waitFor<T>(what: string, timeoutMs: number, probe: () => Promise<T | undefined>): Promise<T> {
    const started = Date.now();
    let last: unknown;
    for (;;) {
        try {
            const v = await probe();
            if (v !== undefined) return v;
        } catch (e) {
            last = e;
        }
        if (Date.now() - started > timeoutMs)
            throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}${last ? `: ${(last as Error).message}` : ""}`);
        await new Promise((r) => setTimeout(r, 2000));
    }
}

/** An S3 client for a store; `caPem` for a TLS stand-in (trusted by this client only). */
export function s3Client(endpoint: string, accessKeyId: string, secretAccessKey: string, caPem?: string): S3Client {
    return new S3Client({
        ...(caPem ? { requestHandler: { httpsAgent: new HttpsAgent({ ca: caPem }) } } : {}),
        endpoint,
        region: "us-east-1",
        forcePathStyle: true,
        credentials: { accessKeyId, secretAccessKey },
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
    });
}

export async function listKeys(s3: S3Client, bucket: string, prefix: string): Promise<string[]> {
    const keys: string[] = [];
    let token: string | undefined;
    do {
        const r = await s3.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of r.Contents ?? []) keys.push(o.Key!);
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return keys;
}

/** A throwaway self-signed certificate and key for production's TLS (CN pgbouncer). */
export function selfSignedPair(dir: string): { certPem: string; keyPem: string } {
    const key = path.join(dir, "tls.key");
    const crt = path.join(dir, "tls.crt");
    execFileSync(
        "openssl",
        [
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-subj",
            "/CN=pgbouncer",
            "-addext",
            "subjectAltName=DNS:pgbouncer,DNS:postgres",
            "-days",
            "2",
            "-keyout",
            key,
            "-out",
            crt,
        ],
        { stdio: "ignore" },
    );
    const pair = { certPem: fs.readFileSync(crt, "utf8"), keyPem: fs.readFileSync(key, "utf8") };
    fs.rmSync(key);
    return pair;
}

export { freePorts, pemLines, secretForms };
