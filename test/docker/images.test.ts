/**
 * The images scripts/docker-images.sh builds, each checked on the test engine before a stack
 * runs them: what its Dockerfile promises and the components rely on (versions, uid 999,
 * paths, the entrypoint's initdb contract), run the way the components run them (uploaded
 * files owned by the image's user, no secret in the environment), and that no build left a
 * secret or the build-only CA in an image's history.
 */
import { execFile, execFileSync } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { CreateBucketCommand, ListBucketsCommand, S3Client } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePorts } from "../../local/net";
import { renderPgbouncerAuthFile, renderPgbouncerIni } from "../../render/pgbouncer";
import { scramVerifier } from "../../render/scram";
import { CONTAINER_PATHS, PGBOUNCER_PORT } from "../../vocabulary";
import { checkImageInputs, expectedImageInputs } from "./harness";

const ROOT = path.resolve(__dirname, "..", "..");
const IMAGES = {
    postgres: process.env.DBTIER_POSTGRES_IMAGE ?? "db-tier/postgres:local",
    pgbouncer: process.env.DBTIER_PGBOUNCER_IMAGE ?? "db-tier/pgbouncer:local",
    minio: process.env.DBTIER_MINIO_IMAGE ?? "db-tier/minio:local",
    base: "debian:bookworm-slim",
};
const PREFIX = `images-test-${randomBytes(3).toString("hex")}`;

function engineHost(): string {
    const host = process.env.DBTIER_DOCKER_HOST ?? process.env.DOCKER_HOST;
    if (host) return host;
    // Fails (and so fails the file) when the engine is not running: never a skip.
    return execFileSync("bash", [path.join(ROOT, "scripts", "dockerd.sh"), "status"], {
        encoding: "utf8",
        stdio: ["ignore", "pipe", "ignore"],
    })
        .trim()
        .split("\n")
        .pop()!;
}

interface Run {
    readonly code: number;
    readonly stdout: string;
    readonly stderr: string;
}

let host = "";
function docker(args: readonly string[], timeoutMs = 120_000, input?: Buffer): Promise<Run> {
    return new Promise((resolve) => {
        const child = execFile(
            "docker",
            args,
            { env: { ...process.env, DOCKER_HOST: host }, timeout: timeoutMs, maxBuffer: 16 * 1024 * 1024 },
            (err, stdout, stderr) => resolve({ code: err ? ((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
        );
        child.stdin?.end(input);
    });
}
async function ok(args: readonly string[], timeoutMs?: number, input?: Buffer): Promise<string> {
    const r = await docker(args, timeoutMs, input);
    if (r.code !== 0) throw new Error(`docker ${args.join(" ")} failed (${r.code}): ${r.stderr || r.stdout}`);
    return r.stdout.trim();
}

const scratch = fs.mkdtempSync(path.join(os.tmpdir(), "images-test-"));
/**
 * Uploads a file into a created container owned and moded as a component's upload is: a tar
 * stream whose headers carry the numeric owner (`docker cp -a` cannot be used: dockerd 20.10
 * looks the container's USER up on the host, moby/moby#34142, and fails for any USER).
 */
async function upload(container: string, file: string, content: string, uid: number, mode: string): Promise<void> {
    const dir = fs.mkdtempSync(path.join(scratch, "up-"));
    fs.writeFileSync(path.join(dir, path.basename(file)), content);
    const tarball = path.join(dir, "upload.tar");
    execFileSync("tar", [
        "--numeric-owner",
        `--owner=${uid}`,
        `--group=${uid}`,
        `--mode=${mode}`,
        "-C",
        dir,
        "-cf",
        tarball,
        path.basename(file),
    ]);
    await ok(["cp", "-", `${container}:${path.dirname(file)}`], 60_000, fs.readFileSync(tarball));
}
const created: string[] = [];
const volumes: string[] = [];
async function create(name: string, args: readonly string[]): Promise<string> {
    const full = `${PREFIX}-${name}`;
    await ok(["create", "--name", full, "--label", "db-tier.test=images", ...args]);
    created.push(full);
    return full;
}
async function waitFor(what: string, probe: () => Promise<boolean>, seconds = 60): Promise<void> {
    for (let i = 0; i < seconds * 2; i++) {
        if (await probe()) return;
        await new Promise((r) => setTimeout(r, 500));
    }
    throw new Error(`timed out waiting for ${what}`);
}
function dockerfileArg(image: string, name: string): string {
    const m = new RegExp(`^ARG ${name}=(\\S+)$`, "m").exec(fs.readFileSync(path.join(ROOT, "images", image, "Dockerfile"), "utf8"));
    if (!m) throw new Error(`images/${image}/Dockerfile has no ARG ${name}=`);
    return m[1];
}
function toolsBin(): string {
    return process.env.DBTIER_TOOLS_BIN ?? path.join(process.env.DBTIER_TOOLS ?? path.join(os.homedir(), ".cache", "db-tier-tools"), "bin");
}

beforeAll(async () => {
    host = engineHost();
    for (const image of Object.values(IMAGES)) await ok(["image", "inspect", "--format", "{{.Id}}", image]);
}, 60_000);

afterAll(async () => {
    for (const c of created) await docker(["rm", "-f", "-v", c]);
    for (const v of volumes) await docker(["volume", "rm", "-f", v]);
    fs.rmSync(scratch, { recursive: true, force: true });
}, 120_000);

describe("the tier's images", () => {
    it("are the ones their inputs describe now: each db-tier.inputs label is this run's hash, and another label is refused (control)", async () => {
        for (const image of [IMAGES.postgres, IMAGES.pgbouncer, IMAGES.minio]) {
            const label = (
                await docker(["image", "inspect", "--format", '{{index .Config.Labels "db-tier.inputs"}}', image])
            ).stdout.trim();
            expect(label, image).toMatch(/^[0-9a-f]{64}$/);
            expect(label, image).toBe(expectedImageInputs(image));
            expect(() => checkImageInputs(image, { "db-tier.inputs": label })).not.toThrow();
            const stale = `${label.slice(0, 63)}${label.endsWith("0") ? "1" : "0"}`;
            expect(() => checkImageInputs(image, { "db-tier.inputs": stale })).toThrow(/built from other inputs/);
            expect(() => checkImageInputs(image, {})).toThrow(/db-tier.inputs absent/);
        }
    });
});

describe("debian:bookworm-slim", () => {
    it("is Debian bookworm, without the host's resolv.conf or apt lists baked in", async () => {
        const out = await ok([
            "run",
            "--rm",
            IMAGES.base,
            "sh",
            "-c",
            ". /etc/os-release; echo $VERSION_CODENAME; ls /var/lib/apt/lists | grep -c _ || true",
        ]);
        expect(out.split("\n")).toEqual(["bookworm", "0"]);
    });
});

describe("postgres image", () => {
    it("runs the WAL-G binary the tests run (same bytes as the tools cache's, version v3.0.9)", async () => {
        const version = await ok(["run", "--rm", "--entrypoint", "wal-g", IMAGES.postgres, "--version"]);
        expect(version).toMatch(new RegExp(`^wal-g version ${dockerfileArg("postgres", "WALG_VERSION")}\\s`));
        const inImage = (await ok(["run", "--rm", "--entrypoint", "sha256sum", IMAGES.postgres, CONTAINER_PATHS.walg])).split(/\s+/)[0];
        const host = createHash("sha256")
            .update(fs.readFileSync(path.join(toolsBin(), "wal-g")))
            .digest("hex");
        expect(inImage).toBe(host);
    });

    it("has PostgreSQL 15 from Debian in /usr/lib/postgresql/15/bin, postgres as uid/gid 999, timeout and libsodium", async () => {
        const out = await ok([
            "run",
            "--rm",
            "--entrypoint",
            "sh",
            IMAGES.postgres,
            "-c",
            "command -v postgres; postgres --version; id -u postgres; id -g postgres; timeout 5 true && echo timeout-ok; ldd /usr/local/bin/wal-g | grep -c libsodium",
        ]);
        expect(out.split("\n")).toEqual([
            "/usr/lib/postgresql/15/bin/postgres",
            expect.stringMatching(/^postgres \(PostgreSQL\) 15\.\d+ \(Debian 15\./),
            "999",
            "999",
            "timeout-ok",
            "1",
        ]);
    });

    it("runs the job runner on the pinned Node with @aws-sdk/client-s3", async () => {
        const node = dockerfileArg("postgres", "NODE_VERSION");
        const out = await ok([
            "run",
            "--rm",
            "--user",
            "postgres",
            "--entrypoint",
            "node",
            IMAGES.postgres,
            "-e",
            "const s = require('/opt/db-tier/node_modules/@aws-sdk/client-s3'); console.log(process.version, typeof s.S3Client)",
        ]);
        expect(out).toBe(`v${node} function`);
        const usage = await docker(["run", "--rm", "--user", "postgres", IMAGES.postgres, "node", "/opt/db-tier/bin/jobs/scheduler.js"]);
        expect(usage.code).not.toBe(0);
        expect(usage.stderr + usage.stdout).toMatch(/usage: scheduler backup\|drill/);
    });

    it("installs the job runner's npm packages exactly as images/postgres/job-runner/package-lock.json pins them", async () => {
        const lock = JSON.parse(fs.readFileSync(path.join(ROOT, "images", "postgres", "job-runner", "package-lock.json"), "utf8")) as {
            packages: Record<string, { version?: string }>;
        };
        const pinned = Object.entries(lock.packages)
            .filter(([p]) => p !== "")
            .map(([p, e]) => `${p}@${e.version}`)
            .sort();
        expect(pinned.length).toBeGreaterThan(10);
        const out = await ok([
            "run",
            "--rm",
            "--user",
            "postgres",
            "--entrypoint",
            "node",
            IMAGES.postgres,
            "-e",
            // Every package directory under node_modules (nested ones too) with its version.
            "const fs = require('fs'); const out = []; const walk = (d) => { for (const n of fs.readdirSync(d)) { if (n.startsWith('.')) continue; if (n.startsWith('@')) { for (const m of fs.readdirSync(d + '/' + n)) visit(d + '/' + n + '/' + m); } else visit(d + '/' + n); } }; const visit = (p) => { out.push(p.replace('/opt/db-tier/', '') + '@' + require(p + '/package.json').version); if (fs.existsSync(p + '/node_modules')) walk(p + '/node_modules'); }; walk('/opt/db-tier/node_modules'); console.log(out.sort().join('\\n'))",
        ]);
        expect(out.split("\n").sort()).toEqual(pinned);
        // The committed lock is the closure of the root package-lock.json (what the tests ran).
        execFileSync("node", [path.join(ROOT, "images", "postgres", "job-runner-lock.cjs"), "--check"], { stdio: "pipe" });
    });

    // dpkg-query's own placeholders, not a template string.
    // biome-ignore lint/suspicious/noTemplateCurlyInString: dpkg-query's format, not a JavaScript template
    const DPKG_FORMAT = "${Package}=${Version}\\n";
    it("lists every Debian package with its version in /usr/share/db-tier/debian-packages.txt (pgbouncer's too)", async () => {
        const listed = async (image: string) =>
            (await ok(["run", "--rm", "--entrypoint", "cat", image, "/usr/share/db-tier/debian-packages.txt"])).split("\n");
        const pg = await listed(IMAGES.postgres);
        expect(pg).toEqual(
            expect.arrayContaining([expect.stringMatching(/^postgresql-15=15\.\d+-/), expect.stringMatching(/^libsodium23=/)]),
        );
        // The manifest is the image's dpkg database, not a list written beside it.
        const dpkg = (await ok(["run", "--rm", "--entrypoint", "dpkg-query", IMAGES.postgres, "-W", "-f", DPKG_FORMAT])).split("\n").sort();
        expect(pg).toEqual(dpkg);
        expect(await listed(IMAGES.pgbouncer)).toEqual(expect.arrayContaining([expect.stringMatching(/^pgbouncer=1\.18\./)]));
        expect(await listed(IMAGES.minio)).toEqual(expect.arrayContaining([expect.stringMatching(/^curl=/)]));
    });

    it("initdb's from the password file as the entrypoint contract says, SCRAM only, and keeps the cluster across kill -9", async () => {
        const password = randomBytes(18).toString("base64url");
        const data = `${PREFIX}-pgdata`;
        await ok(["volume", "create", data]);
        volumes.push(data);
        const name = await create("postgres", [
            "-e",
            "POSTGRES_USER=tierroot",
            "-e",
            `POSTGRES_PASSWORD_FILE=${CONTAINER_PATHS.rootPasswordFile}`,
            "-e",
            `PGDATA=${CONTAINER_PATHS.pgData}/pgdata`,
            "-e",
            "POSTGRES_INITDB_ARGS=--auth-host=scram-sha-256 --auth-local=peer --data-checksums",
            "-v",
            `${data}:${CONTAINER_PATHS.pgData}`,
            "--stop-signal",
            "SIGINT",
            IMAGES.postgres,
            "postgres",
            "-c",
            "listen_addresses=127.0.0.1",
        ]);
        // Uploaded as components/postgres-server.ts does: owned by 999, mode 0400.
        await upload(name, CONTAINER_PATHS.rootPasswordFile, `${password}\n`, 999, "0400");
        await ok(["start", name]);
        const ready = async () =>
            (await docker(["exec", name, "pg_isready", "-q", "-h", "127.0.0.1", "-U", "tierroot", "-d", "postgres"])).code === 0;
        await waitFor("postgres to accept connections", ready);

        const sql =
            "select current_user, current_setting('data_checksums'), pg_encoding_to_char(encoding) from pg_database where datname = 'postgres'";
        const good = await ok([
            "exec",
            "-u",
            "postgres",
            "-e",
            `PGPASSWORD=${password}`,
            name,
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "tierroot",
            "-d",
            "postgres",
            "-XAtc",
            sql,
        ]);
        expect(good).toBe("tierroot|on|UTF8");
        const wrong = await docker([
            "exec",
            "-u",
            "postgres",
            "-e",
            "PGPASSWORD=not-the-password",
            name,
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "tierroot",
            "-d",
            "postgres",
            "-XAtc",
            "select 1",
        ]);
        expect(wrong.code).not.toBe(0);
        expect(wrong.stderr).toMatch(/password authentication failed/);
        // The server runs as postgres, not root; PGDATA is the cluster's, mode 0700.
        const who = await ok([
            "exec",
            name,
            "sh",
            "-c",
            `stat -c '%u %a' ${CONTAINER_PATHS.pgData}/pgdata; cat /proc/1/status | awk '/^Uid:/ {print $2}'`,
        ]);
        expect(who.split("\n")).toEqual(["999 700", "999"]);

        await ok([
            "exec",
            "-u",
            "postgres",
            "-e",
            `PGPASSWORD=${password}`,
            name,
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "tierroot",
            "-d",
            "postgres",
            "-XAtc",
            "create table kept as select 42 as v",
        ]);
        await ok(["kill", "-s", "KILL", name]);
        await ok(["start", name]);
        await waitFor("postgres to come back", ready);
        const kept = await ok([
            "exec",
            "-u",
            "postgres",
            "-e",
            `PGPASSWORD=${password}`,
            name,
            "psql",
            "-h",
            "127.0.0.1",
            "-U",
            "tierroot",
            "-d",
            "postgres",
            "-XAtc",
            "select v from kept",
        ]);
        expect(kept).toBe("42");
        const logs = await docker(["logs", name]);
        expect((logs.stdout + logs.stderr).match(/initdb done/g)).toHaveLength(1);

        const inspect = await ok(["inspect", name]);
        expect(inspect).not.toContain(password);
    }, 240_000);
});

describe("pgbouncer image", () => {
    it("is pgBouncer 1.18 serving a rendered ini as uid 999, SCRAM users from the auth file", async () => {
        const ini = renderPgbouncerIni({
            listenAddr: "*",
            listenPort: PGBOUNCER_PORT,
            postgresHost: "postgres",
            postgresPort: 5432,
            databases: ["app"],
            authFile: CONTAINER_PATHS.pgbouncerAuthFile,
            defaultPoolSize: 5,
            maxClientConn: 50,
            maxDbConnections: 10,
        });
        const password = randomBytes(18).toString("base64url");
        const verifier = scramVerifier(password, randomBytes(16).toString("base64"));
        // As components/pgbouncer.ts runs it: user postgres (uid 999 in the image).
        const name = await create("pgbouncer", ["--user", "postgres", IMAGES.pgbouncer, "pgbouncer", CONTAINER_PATHS.pgbouncerIni]);
        await upload(name, CONTAINER_PATHS.pgbouncerIni, ini, 0, "0644");
        await upload(name, CONTAINER_PATHS.pgbouncerAuthFile, renderPgbouncerAuthFile([{ user: "app_user", verifier }]), 999, "0400");
        await ok(["start", name]);
        await waitFor(
            "pgbouncer to listen",
            async () => (await docker(["exec", name, "pg_isready", "-q", "-h", "127.0.0.1", "-p", String(PGBOUNCER_PORT)])).code === 0,
            30,
        );
        const out = await ok([
            "exec",
            name,
            "sh",
            "-c",
            `pgbouncer --version | head -n1; awk '/^Uid:/ {print $2}' /proc/1/status; stat -c '%u %a' ${CONTAINER_PATHS.pgbouncerAuthFile}`,
        ]);
        expect(out.split("\n")).toEqual([expect.stringMatching(/^PgBouncer 1\.18\./), "999", "999 400"]);
        const login = (user: string, pw: string) =>
            docker([
                "exec",
                "-e",
                `PGPASSWORD=${pw}`,
                "-e",
                "PGCONNECT_TIMEOUT=10",
                name,
                "psql",
                "-h",
                "127.0.0.1",
                "-p",
                String(PGBOUNCER_PORT),
                "-U",
                user,
                "-d",
                "app",
                "-XAtc",
                "select 1",
            ]);
        // A wrong password and an unknown user fail pgBouncer's own SCRAM check...
        const wrong = await login("app_user", `${password}x`);
        expect(wrong.code).not.toBe(0);
        expect(wrong.stderr).toMatch(/SASL authentication failed|password authentication failed/);
        const stranger = await login("nobody", password);
        expect(stranger.code).not.toBe(0);
        expect(stranger.stderr).toMatch(/SASL authentication failed|password authentication failed/);
        // ...the right one passes it (the auth file was read) and fails only for want of a server.
        const right = await login("app_user", password);
        expect(right.code).not.toBe(0);
        expect(right.stderr).not.toMatch(/authentication failed/);
        const logs = await docker(["logs", name]);
        expect(logs.stdout + logs.stderr).toMatch(/process up: PgBouncer 1\.18/);
        expect(logs.stdout + logs.stderr).not.toContain(password);
    }, 120_000);
});

describe("minio image", () => {
    it("runs the MinIO binary the tests run (same bytes as the tools cache's)", async () => {
        const inImage = (await ok(["run", "--rm", "--entrypoint", "sha256sum", IMAGES.minio, "/usr/local/bin/minio"])).split(/\s+/)[0];
        const host = createHash("sha256")
            .update(fs.readFileSync(path.join(toolsBin(), "minio")))
            .digest("hex");
        expect(inImage).toBe(host);
    });

    it("serves S3 with the credentials from its uploaded files, refuses others, and is healthy by the components' check", async () => {
        const [port] = await freePorts(1);
        const user = randomBytes(16).toString("hex");
        const secret = randomBytes(20).toString("hex");
        const name = await create("minio", [
            "-e",
            "MINIO_ROOT_USER_FILE=/run/secrets/minio-root-user",
            "-e",
            "MINIO_ROOT_PASSWORD_FILE=/run/secrets/minio-root-password",
            "-p",
            `127.0.0.1:${port}:9000`,
            "--health-cmd",
            "curl -fsS -o /dev/null http://127.0.0.1:9000/minio/health/live",
            "--health-interval",
            "2s",
            IMAGES.minio,
            "server",
            "/data",
            "--address",
            ":9000",
            "--console-address",
            "127.0.0.1:9001",
        ]);
        // Owned by the image's minio user (1000), as components/object-store.ts uploads them.
        await upload(name, "/run/secrets/minio-root-user", user, 1000, "0400");
        await upload(name, "/run/secrets/minio-root-password", secret, 1000, "0400");
        await ok(["start", name]);
        await waitFor(
            "minio to be healthy",
            async () => (await ok(["inspect", "--format", "{{.State.Health.Status}}", name])) === "healthy",
            60,
        );

        const endpoint = `http://127.0.0.1:${port}`;
        const s3 = new S3Client({
            endpoint,
            region: "us-east-1",
            forcePathStyle: true,
            credentials: { accessKeyId: user, secretAccessKey: secret },
        });
        await s3.send(new CreateBucketCommand({ Bucket: "images-test" }));
        const listed = await s3.send(new ListBucketsCommand({}));
        expect(listed.Buckets?.map((b) => b.Name)).toEqual(["images-test"]);
        const intruder = new S3Client({
            endpoint,
            region: "us-east-1",
            forcePathStyle: true,
            credentials: { accessKeyId: user, secretAccessKey: `${secret}x` },
        });
        await expect(intruder.send(new ListBucketsCommand({}))).rejects.toThrow(/signature|denied|forbidden/i);
        s3.destroy();
        intruder.destroy();

        const uid = await ok(["exec", name, "awk", "/^Uid:/ {print $2}", "/proc/1/status"]);
        expect(uid).toBe("1000");
        const inspect = await ok(["inspect", name]);
        expect(inspect).not.toContain(secret);
    }, 120_000);
});

describe("image history", () => {
    it("of every image holds no secret-looking build argument, no key and not the build-only CA", async () => {
        const ca = fs.existsSync("/usr/local/share/ca-certificates")
            ? fs
                  .readdirSync("/usr/local/share/ca-certificates")
                  .filter((f) => f.endsWith(".crt"))
                  .map((f) => fs.readFileSync(path.join("/usr/local/share/ca-certificates", f), "utf8").split("\n")[1])
            : [];
        for (const image of Object.values(IMAGES)) {
            const history = await ok(["history", "--no-trunc", "--format", "{{.CreatedBy}}", image]);
            expect(history, image).not.toMatch(/PASSWORD=|SECRET[A-Z_]*=|TOKEN=|PRIVATE KEY|BEGIN CERTIFICATE|EXTRA_CA_CERTS=/i);
            for (const line of ca) if (line) expect(history, image).not.toContain(line);
            const env = await ok(["image", "inspect", "--format", "{{json .Config.Env}}", image]);
            expect(env, image).not.toMatch(/PASSWORD|SECRET|KEY=/i);
        }
    });
});
