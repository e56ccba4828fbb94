/**
 * Readable previews. The engine marks a whole list input secret when any element holds a
 * secret, so a container whose `uploads` mixed postgresql.conf with the WAL-G config showed
 * every config change as `[secret]`. Now configuration files travel as plain `content`
 * (readable in every diff) and secret files as a `source` the program writes for the Docker
 * provider during `up` (see components/tier-container.ts): the container's inputs carry their
 * path and hash, never their text, and no secret marker at all.
 *
 * Under the mock runtime, on the production stack (TLS on, two clusters): the inputs of every
 * container, as the SDK serialized them for the engine.
 */
import * as pulumi from "@pulumi/pulumi";
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { deployStack, type DeployedStack } from "../../components";
import { SECRET_FILES_DIR, uploadText } from "../../components/tier-container";
import { readStackConfig } from "../../config/stack-config";
import { run as runChild } from "../../jobs/proc";
import { CONTAINER_PATHS, ROLE_LABEL } from "../../vocabulary";
import {
    installMocks,
    labelOf,
    loadStackConfig,
    type RecordedResource,
    REPO_ROOT,
    settle,
    uploadAt,
    outputValue,
} from "../support/mock-runtime";

const SECRET_SIG = "1b47061264138c4ac30d75fd1eb44270";
const STORAGE_SECRET = "test-secret-access-key-0123456789abcdef";
const TLS_KEY = "-----BEGIN PRIVATE KEY-----\npreviews-test-key\n-----END PRIVATE KEY-----\n";
const TLS_CERT = "-----BEGIN CERTIFICATE-----\npreviews-test-cert\n-----END CERTIFICATE-----\n";

/** The secret files of each role, by container path. */
const SECRET_FILES: Record<string, string[]> = {
    postgres: [CONTAINER_PATHS.walgEnv, CONTAINER_PATHS.rootPasswordFile, "/etc/postgresql/tls.key"],
    pgbouncer: [CONTAINER_PATHS.pgbouncerAuthFile, "/etc/pgbouncer/tls.key"],
    provisioner: [CONTAINER_PATHS.provisionSql],
    backup: [CONTAINER_PATHS.walgEnv, CONTAINER_PATHS.pgpass],
    "restore-drill": [CONTAINER_PATHS.walgEnv],
};

interface Upload {
    file: string;
    content?: string;
    source?: string;
    sourceHash?: string;
    owner?: string;
    group?: string;
    permissions?: string;
}

let stack: DeployedStack;
let resources: RecordedResource[];
let work: string;

beforeAll(async () => {
    // Secret files are written relative to the working directory (the project directory under
    // the CLI); keep this run's out of the repository.
    work = fs.mkdtempSync(path.join(os.tmpdir(), "previews-"));
    process.chdir(work);
    resources = await installMocks("production");
    loadStackConfig(
        "production",
        {},
        {
            "db-tier:storageAccessKeyId": "test-access-key-id-0123456789",
            "db-tier:storageSecretAccessKey": STORAGE_SECRET,
            "db-tier:tlsCertPem": TLS_CERT,
            "db-tier:tlsKeyPem": TLS_KEY,
        },
    );
    const { values, secrets } = readStackConfig();
    stack = deployStack(values, secrets);
    await settle();
}, 180_000);

const containers = () => resources.filter((r) => r.type === "docker:index/container:Container");
const uploadsOf = (c: RecordedResource) => (c.inputs.uploads ?? []) as Upload[];
const role = (c: RecordedResource) => labelOf(c, ROLE_LABEL)!;

/** The recorded inputs of a container the stack built. */
async function recorded(c: pulumi.CustomResource): Promise<RecordedResource> {
    const name = (await outputValue(c.urn)).split("::").pop();
    const hits = containers().filter((r) => r.name === name);
    expect(hits.length, name).toBe(1);
    return hits[0];
}

/** The five containers of every cluster whose files these tests know, with their roles. */
async function tierContainers(): Promise<RecordedResource[]> {
    const out: RecordedResource[] = [];
    for (const tier of Object.values(stack.tiers)) {
        for (const c of [
            tier.postgres.container,
            tier.pgbouncer.container,
            tier.provisioner.container,
            tier.backupJob.container,
            tier.restoreDrill.container,
        ])
            out.push(await recorded(c));
    }
    return out;
}

describe("previews: configuration readable, secrets secret", () => {
    it("covers the five tier containers of both clusters", async () => {
        expect(Object.keys(stack.tiers).length).toBe(2);
        const roles = (await tierContainers()).map(role).sort();
        expect(roles).toEqual(
            Object.keys(SECRET_FILES)
                .flatMap((r) => [r, r])
                .sort(),
        );
    });

    it("no container with a configuration file carries a secret marker in its uploads, so the engine keeps the list readable", async () => {
        for (const c of await tierContainers()) expect(JSON.stringify(c.inputs.uploads), c.name).not.toContain(SECRET_SIG);
        // Any other container too (a list of secret files only has nothing readable to lose).
        for (const c of containers().filter((c) => uploadsOf(c).some((u) => typeof u.content === "string"))) {
            expect(JSON.stringify(c.inputs.uploads), c.name).not.toContain(SECRET_SIG);
        }
        for (const tier of Object.values(stack.tiers)) {
            for (const c of [
                tier.postgres.container,
                tier.pgbouncer.container,
                tier.provisioner.container,
                tier.backupJob.container,
                tier.restoreDrill.container,
            ]) {
                expect(await pulumi.isSecret(c.uploads), c.urn.toString()).toBe(false);
            }
        }
    });

    it("configuration files are plain content: postgresql.conf, pg_hba.conf, pgbouncer.ini, the job configs, the certificate", async () => {
        for (const c of await tierContainers()) {
            const r = role(c);
            if (r === "postgres") {
                expect(uploadAt(c, CONTAINER_PATHS.postgresConf)).toMatch(/^archive_mode = on$/m);
                expect(uploadAt(c, CONTAINER_PATHS.pgHba)).toContain("scram-sha-256");
                expect(uploadAt(c, "/etc/postgresql/tls.crt")).toBe(TLS_CERT);
            }
            if (r === "pgbouncer") {
                expect(uploadAt(c, CONTAINER_PATHS.pgbouncerIni)).toMatch(/^auth_type = scram-sha-256$/m);
                expect(uploadAt(c, "/etc/pgbouncer/tls.crt")).toBe(TLS_CERT);
            }
            if (r === "backup") expect(JSON.parse(uploadAt(c, CONTAINER_PATHS.backupConfig)!)).toBeTypeOf("object");
            if (r === "restore-drill") expect(JSON.parse(uploadAt(c, CONTAINER_PATHS.drillConfig)!)).toBeTypeOf("object");
            for (const u of uploadsOf(c).filter((u) => !SECRET_FILES[r].includes(u.file))) {
                expect(typeof u.content, `${c.name} ${u.file}`).toBe("string");
                expect(u.source, `${c.name} ${u.file}`).toBeUndefined();
            }
        }
    });

    it("secret files carry no text: a 0600 file the provider reads, named by its hash; in the container 0400 for postgres where it starts as root, else root's 0444 with no owner", async () => {
        for (const c of await tierContainers()) {
            for (const file of SECRET_FILES[role(c)]) {
                const u = uploadsOf(c).find((x) => x.file === file);
                expect(u, `${c.name} ${file}`).toBeDefined();
                expect(u!.content, `${c.name} ${file}`).toBeUndefined();
                expect(u!.source).toMatch(new RegExp(`^${SECRET_FILES_DIR}/[0-9a-f]{64}$`));
                expect(u!.source!.endsWith(u!.sourceHash!)).toBe(true);
                // An owner makes the provider copy with copyUIDGID, which looks the container's user
                // up on the host (moby/moby#34142): only the Postgres container, which has no user, may name one.
                if (role(c) === "postgres") expect([c.inputs.user, u!.owner, u!.permissions]).toEqual([undefined, "999", "0400"]);
                else expect([c.inputs.user, u!.owner, u!.group, u!.permissions]).toEqual(["postgres", undefined, undefined, "0444"]);
                const st = fs.statSync(path.join(work, u!.source!));
                expect(st.mode & 0o777, `${c.name} ${file}`).toBe(0o600);
                expect(fs.statSync(path.join(work, SECRET_FILES_DIR)).mode & 0o777).toBe(0o700);
            }
        }
    });

    it("the files hold exactly the secrets the containers need", async () => {
        const text = (c: RecordedResource, file: string) => uploadText(uploadsOf(c).find((u) => u.file === file)!);
        for (const tier of Object.values(stack.tiers)) {
            const pg = await recorded(tier.postgres.container);
            expect(text(pg, CONTAINER_PATHS.rootPasswordFile)).toBe(await outputValue(tier.secrets.root.password));
            expect(text(pg, CONTAINER_PATHS.walgEnv)).toContain(STORAGE_SECRET);
            expect(text(pg, CONTAINER_PATHS.walgEnv)).toContain(await outputValue(tier.secrets.walgLibsodiumKeyHex));
            expect(text(pg, "/etc/postgresql/tls.key")).toBe(TLS_KEY);
            const bouncer = await recorded(tier.pgbouncer.container);
            expect(text(bouncer, CONTAINER_PATHS.pgbouncerAuthFile)).toContain(
                `"app_user" "${await outputValue(tier.secrets.appUser.verifier)}"`,
            );
            expect(text(bouncer, "/etc/pgbouncer/tls.key")).toBe(TLS_KEY);
            const backup = await recorded(tier.backupJob.container);
            expect(text(backup, CONTAINER_PATHS.pgpass)).toContain(`:${await outputValue(tier.secrets.root.password)}`);
            const provisioner = await recorded(tier.provisioner.container);
            expect(text(provisioner, CONTAINER_PATHS.provisionSql)).toContain(await outputValue(tier.secrets.appService.verifier));
        }
    });

    it("no secret value appears anywhere in the tier containers' inputs, plain or wrapped", async () => {
        const values: string[] = [STORAGE_SECRET, "previews-test-key"];
        for (const tier of Object.values(stack.tiers)) {
            for (const r of [tier.secrets.root, tier.secrets.appUser, tier.secrets.appService])
                values.push(await outputValue(r.password), await outputValue(r.verifier));
            values.push(await outputValue(tier.secrets.walgLibsodiumKeyHex));
        }
        for (const c of await tierContainers()) {
            const inputs = JSON.stringify(c.inputs);
            for (const v of values) expect(inputs.includes(v), `${c.name} carries a secret value`).toBe(false);
        }
    });
});

describe("secret files on the deploying machine", () => {
    // Asynchronous, so the test worker keeps answering vitest while the child runs.
    const run = async (preview: boolean) => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "previews-child-"));
        const child = path.join(__dirname, "support", "secret-files-child.ts");
        const r = await runChild(
            process.execPath,
            [path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs"), child, preview ? "preview" : "up"],
            {
                cwd: dir,
                env: process.env,
            },
        );
        expect(r.code, r.stderr).toBe(0);
        return { dir, report: JSON.parse(r.stdout.trim().split("\n").pop()!) as { sources: string[]; existing: string[] } };
    };

    it("during up they exist while the program runs and are gone when it exits", async () => {
        const { dir, report } = await run(false);
        expect(report.sources.length).toBeGreaterThan(4);
        expect(report.existing.sort()).toEqual([...report.sources].sort());
        for (const s of report.sources) expect(fs.existsSync(path.join(dir, s)), s).toBe(false);
    }, 180_000);

    it("a run cut short by SIGTERM or SIGINT removes them too, and still dies of that signal", async () => {
        for (const signal of ["SIGTERM", "SIGINT"] as const) {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "previews-signal-"));
            const p = spawn(
                process.execPath,
                [
                    path.join(REPO_ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
                    path.join(__dirname, "support", "secret-files-child.ts"),
                    "up",
                    "wait",
                ],
                { cwd: dir },
            );
            let stdout = "";
            const report = await new Promise<{ sources: string[]; existing: string[] }>((resolve, reject) => {
                p.stdout.on("data", (d) => {
                    stdout += d;
                    if (stdout.includes("\n")) resolve(JSON.parse(stdout.trim().split("\n").pop()!));
                });
                p.on("error", reject);
                p.on("close", (code) => reject(new Error(`child exited ${code} before reporting`)));
            });
            expect(report.existing.length, signal).toBeGreaterThan(4);
            for (const s of report.existing) expect(fs.existsSync(path.join(dir, s)), s).toBe(true);
            // tsx forwards the signal to the program's process and exits as it does.
            const ended = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) =>
                p.on("exit", (code, sig) => resolve({ code, signal: sig })),
            );
            p.kill(signal);
            const how = await ended;
            expect(how.signal === signal || how.code === 128 + (signal === "SIGTERM" ? 15 : 2), `${signal}: ${JSON.stringify(how)}`).toBe(
                true,
            );
            for (const s of report.existing) expect(fs.existsSync(path.join(dir, s)), `${signal} left ${s}`).toBe(false);
        }
    }, 300_000);

    it("a preview writes none (the provider reads them only to create or update)", async () => {
        const { dir, report } = await run(true);
        expect(report.existing).toEqual([]);
        expect(fs.existsSync(path.join(dir, SECRET_FILES_DIR))).toBe(false);
    }, 180_000);
});
