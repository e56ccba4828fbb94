/**
 * The dev stack's tier through the REAL Pulumi engine (no applier): the CLI and language host
 * built by scripts/install-pulumi.sh, the docker and random plugins built from
 * terraform-provider-docker and terraform-provider-random by scripts/install-providers.sh,
 * against the test engine. The program (programs/dev-tier) is the dev stack's composition
 * from components/stack.ts with the dev stack's own config, minus BackupBucket (its aws.s3
 * resources need the AWS plugin, which cannot be built here: tools/providers/README.md); the
 * test creates that bucket with BackupBucket's own rules between a first `up` of the
 * foundation and the `up` of the tier. Stand-ins: free host ports, images the suite built.
 *
 * Tests run in order; each needs the ones before it.
 */
import { CreateBucketCommand, GetObjectCommand, type LifecycleRule, PutBucketLifecycleConfigurationCommand } from "@aws-sdk/client-s3";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { validateStack } from "../../components/stack";
import type { TierConfigInput } from "../../config/schema";
import { parseValue } from "../../config/stack-config";
import { backupPrefix, planBucket } from "../../plan/bucket";
import { readExternalSecrets, readStackConfig } from "../../policy/offline/stack-config";
import { installPolicyPackCopy } from "../support/policy-pack-copy";
import type { Engine } from "./apply/engine";
import { EngineStack, installedEngine, SECRET_SIG } from "./engine-stack";
import {
    freePorts,
    listKeys,
    MINIO_IMAGE,
    PGBOUNCER_IMAGE,
    POSTGRES_IMAGE,
    psqlIn,
    requireEngine,
    ROOT,
    s3Client,
    secretForms,
    waitFor,
} from "./harness";
import { setupOnce } from "./setup-once";
import * as hardening from "./hardening-checks";
import * as checks from "./tier-checks";

const STACK = "dev";
const PROGRAM = path.join(__dirname, "programs", "dev-tier");

let engine: Engine;
let stack: EngineStack;
let c: checks.ClusterUnderTest;
let storeSteps: string[];
let tierSteps: string[];
const oldSecrets: string[] = [];

/** The last part of a URN: the resource's logical name. */
const nameOf = (urn: string) => urn.split("::").at(-1) as string;

/** Containers, networks and volumes on the engine whose name starts with `dev-`. */
async function devObjects(): Promise<{ containers: string[]; networks: string[]; volumes: string[] }> {
    const mine = (names: string[]) => names.filter((n) => n.startsWith(`${STACK}-`)).sort();
    const containers: { Names: string[] }[] = await engine.json("GET", "/containers/json?all=1");
    const networks: { Name: string }[] = await engine.json("GET", "/networks");
    const volumes: { Volumes: { Name: string }[] | null } = await engine.json("GET", "/volumes");
    return {
        containers: mine(containers.map((x) => x.Names[0].replace(/^\//, ""))),
        networks: mine(networks.map((n) => n.Name)),
        volumes: mine((volumes.Volumes ?? []).map((v) => v.Name)),
    };
}

/** Pulumi.dev.yaml's `db-tier:*` values with the stand-ins: free ports, the suite's images. */
function devConfig(s3Port: number, pgbouncerPort: number): Record<string, unknown> {
    const file = readStackConfig(ROOT, STACK, readExternalSecrets(path.join(ROOT, "policy", "offline", "external-secrets.json"), STACK));
    const values = Object.fromEntries(Object.entries(file.config).map(([k, v]) => [k, parseValue(v)])) as Record<
        string,
        Record<string, unknown>
    >;
    return {
        ...values,
        "db-tier:storage": { ...values["db-tier:storage"], embeddedPort: s3Port, embeddedImage: MINIO_IMAGE },
        "db-tier:pgbouncer": { ...values["db-tier:pgbouncer"], publishPort: pgbouncerPort, image: PGBOUNCER_IMAGE },
        "db-tier:postgres": { ...values["db-tier:postgres"], image: POSTGRES_IMAGE },
    };
}

/** The bucket BackupBucket would create: its lifecycle rules from plan/bucket.ts. */
async function createBucket(config: Record<string, unknown>): Promise<void> {
    const values = Object.fromEntries(Object.entries(config).map(([k, v]) => [k.replace(/^db-tier:/, ""), v]));
    const tier = validateStack(values as TierConfigInput, {});
    const plan = planBucket({
        provider: tier.storage.provider,
        bucketName: tier.storage.bucket,
        backupPrefixes: tier.clusters.map((x) => backupPrefix(tier.environment, x.name)),
        evidenceDays: tier.backup.evidenceDays,
    });
    expect(plan.versioning).toBe(false); // MinIO: no versioning resource to stand in for
    const out = stack.state().outputs;
    const s3 = s3Client(String(out.storeApiEndpoint), String(out.storeAccessKeyId), String(out.storeSecretAccessKey));
    await s3.send(new CreateBucketCommand({ Bucket: plan.bucketName }));
    const rules: LifecycleRule[] = plan.rules.map((r) => ({
        ID: r.id,
        Status: "Enabled",
        Filter: { Prefix: r.prefix },
        Expiration: r.expirationDays !== undefined ? { Days: r.expirationDays } : undefined,
        AbortIncompleteMultipartUpload:
            r.abortIncompleteMultipartUploadDays !== undefined ? { DaysAfterInitiation: r.abortIncompleteMultipartUploadDays } : undefined,
        NoncurrentVersionExpiration:
            r.noncurrentVersionExpirationDays !== undefined ? { NoncurrentDays: r.noncurrentVersionExpirationDays } : undefined,
    }));
    await s3.send(new PutBucketLifecycleConfigurationCommand({ Bucket: plan.bucketName, LifecycleConfiguration: { Rules: rules } }));
}

setupOnce(async () => {
    engine = await requireEngine();
    const before = await devObjects();
    if ([...before.containers, ...before.networks, ...before.volumes].length > 0)
        throw new Error(`dev-* objects on the test engine before the run (another dev stack?): ${JSON.stringify(before)}`);
    stack = new EngineStack(STACK, PROGRAM, await installedEngine(), engine.host);
    await stack.init();
    const [s3Port, pgbouncerPort] = await freePorts(2);
    const config = devConfig(s3Port, pgbouncerPort);
    await stack.configure({ ...config, phase: "store" });
    storeSteps = (await stack.plan()).map((s) => `${s.op} ${nameOf(s.urn)}`);
    await stack.up();
    await createBucket(config);
    await stack.configure({ phase: "tier" });
    tierSteps = (await stack.plan()).map((s) => `${s.op} ${nameOf(s.urn)}`);
    await stack.up();
    const out = stack.state().outputs;
    c = {
        run: stack,
        engine,
        environment: STACK,
        cluster: "app",
        bucket: "db-tier-dev-backups",
        s3: s3Client(String(out.storeApiEndpoint), String(out.storeAccessKeyId), String(out.storeSecretAccessKey)),
        storageInside: "object-store:9000",
        storageNameIsTierOnly: true,
        storageContainers: ["dev-object-store"],
    };
}, 2_400_000);

afterAll(async () => {
    if (process.env.DBTIER_DOCKER_KEEP || !stack) return;
    // After a failure: take down whatever the engine created, and the volumes it kept.
    await stack.pulumi(["destroy", "--yes", "--skip-preview"]);
    for (const v of (await devObjects()).volumes) await engine.json("DELETE", `/volumes/${v}`, undefined, [404]);
    stack.remove();
}, 1_200_000);

const tierContainers = () => stack.containers().map((x) => String(x.inputs.name));

describe("the dev stack's tier through the real Pulumi engine and the docker and random plugins built here", () => {
    it("pulumi up creates the foundation, then the tier: every step a create, every container running (healthy where it has a check)", async () => {
        expect(storeSteps.every((s) => s.startsWith("create "))).toBe(true);
        expect(storeSteps).toContain("create dev-object-store-container");
        expect(
            tierSteps.every((s) => s.startsWith("create ")),
            tierSteps.join("\n"),
        ).toBe(true);
        expect(tierSteps).toContain("create dev-app-postgres-container");
        expect(tierContainers().sort()).toEqual([
            "dev-app-backup",
            "dev-app-pgbouncer",
            "dev-app-postgres",
            "dev-app-provisioner",
            "dev-app-restore-drill",
            "dev-object-store",
        ]);
        const objects = await devObjects();
        expect(objects.networks).toEqual(["dev-app-app", "dev-app-backup-egress", "dev-app-db-only"]);
        for (const n of stack.resources("docker:index/network:Network")) {
            const inspected = await engine.json("GET", `/networks/${n.id}`);
            expect(inspected.Internal, String(n.inputs.name)).toBe(n.inputs.internal === true);
        }
        expect((await engine.inspectContainer("dev-object-store")).State.Health.Status).toBe("healthy");
        await checks.expectHealthy(c);
    });

    it("plans nothing on an immediate preview but the provisioner's re-run (convergeEveryUp: ALTER ROLE on every up)", async () => {
        const steps = (await stack.plan()).map((s) => `${s.op} ${nameOf(s.urn)}`);
        expect(steps.filter((s) => !s.endsWith(" dev-app-provisioner-container"))).toEqual([]);
        expect(steps.some((s) => s.startsWith("replace "))).toBe(true);
    });

    it("archives WAL to MinIO over backup-egress, and serves the three DSNs through pgbouncer:6432 with RLS", async () => {
        const keys = await checks.expectWalArchived(c);
        expect(keys.some((k) => /wal_005\/0000000100000000000000[0-9A-F]{2}/.test(k))).toBe(true);
        await checks.expectDsnsWork(c, "notes");
    });

    it("keeps the trust boundary: app reaches only pgBouncer, backup-egress cannot reach Postgres, db-only has no way out", async () => {
        await checks.expectAppBoundary(c);
        await checks.expectNoTierNetworkReachesNothing(c);
        await checks.expectBackupEgressBoundary(c);
        await checks.expectDbOnlyHasNoWayOut(c);
    });

    it("runs every container hardened: no capability but the documented ones, no new privileges, limits; a setuid binary and a fork bomb gain nothing, a pooled load stays within them", async () => {
        const containers = await hardening.expectHardenedSettings(c);
        expect(containers.map(([, role]) => role).sort()).toEqual(
            ["backup", "object-store", "pgbouncer", "postgres", "provisioner", "restore-drill"].sort(),
        );
        await hardening.expectNoPrivilegesInside(c);
        await hardening.expectSetuidDoesNotRaise(c, POSTGRES_IMAGE);
        await hardening.expectForkBombContained(c);
        await hardening.expectSurvivesPooledLoad(c, POSTGRES_IMAGE);
        await checks.expectHealthy(c);
    });

    it("takes a base backup and restores it in the drill with exactly the rows written", async () => {
        await checks.expectBaseBackup(c);
        await checks.expectDrillRestoresExactly(c, "notes");
    });

    it("brings Postgres back after kill -9 with every committed row", async () => {
        await checks.expectSurvivesKill9(c, "notes");
    });

    it("loses no acknowledged commit to kill -9 during writes, and archives WAL again after the restart", async () => {
        await checks.expectSurvivesKill9UnderLoad(c, "notes");
    });

    it("prints every DSN as [secret], and the state holds no generated secret in any plain form", async () => {
        const shown = JSON.parse(await stack.ok(["stack", "output", "--json"])) as Record<string, unknown>;
        expect(shown.clusters).toEqual({
            app: {
                DATABASE_URL: "[secret]",
                DATABASE_SERVICE_URL: "[secret]",
                DATABASE_MIGRATE_URL: "[secret]",
                DATABASE_ROOT_URL: "[secret]",
            },
        });
        expect(shown.backupEncryptionKeys).toEqual({ app: "[secret]" });
        const secrets = stack.secretValues();
        const dsns = Object.values(stack.dsns("app"));
        // Controls: the engine holds the values (so a grep could find them), encrypted.
        expect(secrets.length).toBeGreaterThanOrEqual(8);
        expect(new URL(dsns[0]).password.length).toBeGreaterThanOrEqual(32);
        const state = stack.stateText();
        expect(state).toContain(SECRET_SIG);
        // Named by the resource whose outputs hold the value (never the value itself).
        const holder = (v: string) =>
            stack
                .state()
                .resources.filter((r) => JSON.stringify(r.outputs).includes(v))
                .map((r) => r.name)
                .join(",") || "(derived: a SCRAM verifier or a DSN)";
        const leaks = [...secrets, ...dsns].flatMap((v) =>
            secretForms(v)
                .map((form, k) => ({ form, k }))
                .filter(({ form }) => state.includes(form))
                .map(({ k }) => `${holder(v)} (form ${k})`),
        );
        // KNOWN DEFECT (README, Known limitations): a random.RandomBytes' ID is its base64 value
        // (pulumi-random's computeRandomBytesID does the same: an ID cannot be secret), so the
        // WAL-G key is in the state in plain text, as that ID. Replacing the resource changes the
        // key of every existing stack (a new backup chain), so it waits for a migration. Asserted
        // exactly: any other secret in plain text fails this, and so does the fix.
        const key = stack.resources("random:index/randomBytes:RandomBytes").find((r) => r.name === "dev-app-secrets-walg-key");
        expect(key?.id).toBe(String(key?.outputs.base64));
        expect(leaks, "secrets in the state in plain text").toEqual(["dev-app-secrets-walg-key (form 0)"]);
        const exported = await stack.ok(["stack", "export"]);
        const knownLeak = String(key?.outputs.base64);
        expect(exported.includes(knownLeak), "the WAL-G key as RandomBytes' ID").toBe(true);
        for (const s of secrets.filter((x) => x !== knownLeak)) expect(exported.includes(s), "a secret in stack export").toBe(false);
        oldSecrets.push(...secrets);
        await checks.expectNoSecretsOnEngine(engine, tierContainers(), [POSTGRES_IMAGE, PGBOUNCER_IMAGE, MINIO_IMAGE], oldSecrets);
    });

    it("the secret scan finds a secret where there is one (control)", async () => {
        const planted = oldSecrets[0];
        const r = await engine.json("POST", "/containers/create?name=dev-secret-scan-control", {
            Image: PGBOUNCER_IMAGE,
            Env: [`LEAK=${planted}`],
            Cmd: ["true"],
        });
        try {
            await expect(checks.expectNoSecretsOnEngine(engine, ["dev-secret-scan-control"], [], [planted])).rejects.toThrow(/a secret/);
        } finally {
            await engine.json("DELETE", `/containers/${r.Id}?force=1`);
        }
    });

    it("rotates by --replace of the role passwords: the plan replaces exactly what holds them; old DSNs fail, new ones work, no row lost", async () => {
        const before = stack.dsns("app");
        const rows = await checks.rootSql(c, "SELECT count(*) FROM notes", new URL(before.DATABASE_URL).pathname.slice(1));
        const passwords = stack
            .resources("random:index/randomPassword:RandomPassword")
            .filter((r) => /-(root|app-user|app-service)-password$/.test(r.name))
            .map((r) => r.urn);
        expect(passwords).toHaveLength(3);
        const plan = await stack.plan(passwords);
        const changed = [...new Set(plan.filter((s) => s.op !== "delete-replaced").map((s) => `${s.op} ${nameOf(s.urn)}`))].sort();
        process.stderr.write(`dev stack rotation plan:\n  ${changed.join("\n  ")}\n`);
        const replaced = changed.filter((s) => /^(replace|create-replacement) /.test(s)).map((s) => s.split(" ")[1]);
        for (const n of [
            "dev-app-secrets-root-password",
            "dev-app-secrets-app-user-password",
            "dev-app-secrets-app-service-password",
            "dev-app-postgres-container",
            "dev-app-pgbouncer-container",
            "dev-app-provisioner-container",
        ])
            expect(replaced, `${n} replaced`).toContain(n);
        expect(
            changed.filter((s) => /Volume|-data$|-socket$/.test(s)),
            "no volume changes",
        ).toEqual([]);
        expect(
            changed.filter((s) => s.includes("object-store")),
            "MinIO untouched",
        ).toEqual([]);

        await stack.up(passwords);
        const after = stack.dsns("app");
        expect(after.DATABASE_URL).not.toBe(before.DATABASE_URL);
        await checks.expectHealthy(c);
        const started = await engine.logs("dev-app-postgres");
        expect(started).toMatch(/database system was shut down at /);
        const app = [checks.net(c, "app")];
        for (const key of ["DATABASE_URL", "DATABASE_SERVICE_URL", "DATABASE_MIGRATE_URL"] as const) {
            const old = await psqlIn(engine, app, before[key], "SELECT 1");
            expect(old.code, `old ${key}`).not.toBe(0);
            expect(old.stderr).toMatch(/SASL authentication failed|password authentication failed/);
            const now = await psqlIn(engine, app, after[key], "SELECT 1");
            expect(now.code, `new ${key}: ${now.stderr}`).toBe(0);
        }
        const now = await psqlIn(engine, app, after.DATABASE_SERVICE_URL, "SELECT count(*) FROM notes");
        expect(now.stdout.trim()).toBe(rows);
        await checks.expectNoSecretsOnEngine(engine, tierContainers(), [], [...oldSecrets, ...stack.secretValues()]);
    });

    it("runs the backup, the newest-point and the oldest-point drill by itself at the scheduled minute, and reports a failed run without stopping", async () => {
        const sentinels = async () =>
            (await listKeys(c.s3, c.bucket, "dev/app/basebackups_005/")).filter((k) => k.endsWith("_backup_stop_sentinel.json"));
        const backupsBefore = await sentinels();
        // A minute at least 50 s away, so that the replaced containers' schedulers start before
        // it; an apply slower than that (a loaded machine) is simply done again for a later minute.
        let at = new Date(0);
        for (let attempt = 1; ; attempt++) {
            at = new Date(Math.ceil((Date.now() + 50_000) / 60_000) * 60_000);
            const cron = `${at.getUTCMinutes()} ${at.getUTCHours()} * * *`;
            // The oldest-point drill restores the first backup (3 rows in notes): a floor of 100
            // rows fails it, while the newest-point drill (every row since) passes.
            await stack.configure({
                "db-tier:backup": { ...(stack.config["db-tier:backup"] as object), schedule: cron },
                "db-tier:drill": {
                    ...(stack.config["db-tier:drill"] as object),
                    schedule: cron,
                    oldestPointSchedule: cron,
                    tables: ["notes"],
                    minRows: { notes: 100 },
                },
            });
            const out = await stack.up();
            // The two scheduled containers, and the provisioner, which converges the roles on every up.
            const replaced = [...new Set([...out.matchAll(/^ \+- +docker:index:Container (\S+) /gm)].map((m) => m[1]))].sort();
            expect(replaced, out.slice(-3000)).toEqual([
                "dev-app-backup-container",
                "dev-app-provisioner-container",
                "dev-app-restore-drill-container",
            ]);
            expect(out, "nothing else created, updated or deleted").not.toMatch(/^ [~+-] +(docker|random):index:/m);
            if (Date.now() < at.getTime() - 2000) break;
            expect(attempt, "three applies each slower than 50 s").toBeLessThan(3);
            process.stderr.write(`scheduler test: the apply ended after ${at.toISOString()}; again for a later minute\n`);
        }

        type Line = Record<string, unknown>;
        const lines = async (container: string): Promise<Line[]> =>
            (await engine.logs(container))
                .split("\n")
                .filter((l) => l.startsWith("{"))
                .map((l) => JSON.parse(l) as Line);
        const ran = (ls: Line[], job: string) => ls.find((l) => l.event === "db-tier.scheduler" && l.job === job && "ok" in l);
        const backup = await waitFor("the scheduled backup", 300_000, async () => {
            const ls = await lines("dev-app-backup");
            return ran(ls, "backup") ? ls : undefined;
        });
        const drill = await waitFor("both scheduled drills", 600_000, async () => {
            const ls = await lines("dev-app-restore-drill");
            return ran(ls, "drill") && ran(ls, "drill-oldest") ? ls : undefined;
        });
        for (const [ls, job] of [
            [backup, "backup"],
            [drill, "drill"],
            [drill, "drill-oldest"],
        ] as const) {
            expect(ls.find((l) => l.job === job && "next_run" in l)?.next_run, `${job} planned for its minute`).toBe(at.toISOString());
            expect(new Date(String(ran(ls, job)?.run_started_at)).getTime(), `${job} started at its minute`).toBeGreaterThanOrEqual(
                at.getTime(),
            );
        }
        expect(ran(backup, "backup")?.ok).toBe(true);
        expect((await sentinels()).length).toBeGreaterThan(backupsBefore.length);
        expect(ran(drill, "drill")?.ok).toBe(true);
        expect(ran(drill, "drill-oldest")?.ok).toBe(false);
        // Reported as designed: the drill's own line and its evidence in the bucket say why; no retry
        // until the next slot, which each scheduler has planned (a day later), still running.
        const oldest = drill.find((l) => l.event === "db-tier.restore-drill" && l.point === "oldest")!;
        expect(oldest.status).toBe("failed");
        expect(oldest.uploaded).toBe(true);
        const key = `${String(oldest.evidence).replace(`s3://${c.bucket}/`, "")}evidence.json`;
        const evidence = JSON.parse(
            await (await c.s3.send(new GetObjectCommand({ Bucket: c.bucket, Key: key }))).Body!.transformToString(),
        ) as { status: string; checks: { name: string; status: string; detail: string }[] };
        expect(evidence.status).toBe("failed");
        expect(evidence.checks.find((x) => x.name === "rows:notes")).toMatchObject({
            status: "failed",
            detail: expect.stringMatching(/^\d{1,2} rows, at least 100 required$/),
        });
        expect(drill.find((l) => l.event === "db-tier.restore-drill" && l.point === "newest")?.status).toBe("passed");
        const tomorrow = new Date(at.getTime() + 86_400_000).toISOString();
        await waitFor("the next slot planned", 30_000, async () => {
            const [b, d] = [await lines("dev-app-backup"), await lines("dev-app-restore-drill")];
            return b.some((l) => l.next_run === tomorrow) && d.some((l) => l.next_run === tomorrow) ? true : undefined;
        });
        for (const n of ["dev-app-backup", "dev-app-restore-drill"]) expect((await engine.inspectContainer(n)).State.Running, n).toBe(true);
    });

    it("runs the policy pack in the engine: pulumi preview --policy-pack passes on the tier, and fails naming the policies on a rogue container", async () => {
        const pack = await installPolicyPackCopy(stack.dir, 600_000);
        const clean = await stack.pulumi(["preview", "--policy-pack", pack]);
        expect(clean.code, `${clean.stdout}\n${clean.stderr}`).toBe(0);
        expect(clean.stdout).toMatch(/Policies:[\s\S]*db-tier/);
        expect(clean.stdout, "every check decided in the preview").not.toMatch(/can.t run policy/);
        await stack.configure({ rogue: "true" });
        try {
            const rogue = await stack.pulumi(["preview", "--policy-pack", pack]);
            expect(rogue.code, rogue.stdout).not.toBe(0);
            const out = `${rogue.stdout}\n${rogue.stderr}`;
            expect(out).toMatch(/\[mandatory\][^\n]*db-only-network-members/);
            expect(out).toMatch(/\[mandatory\][^\n]*app-reaches-only-pooler/);
            expect(out).not.toMatch(/can.t run policy/);
        } finally {
            await stack.ok(["config", "rm", "rogue"]);
        }
        expect((await devObjects()).containers, "a preview creates nothing").not.toContain("rogue");
    });

    it("pulumi destroy leaves no container or network of the stack, and keeps exactly the data volumes (retainOnDelete)", async () => {
        await stack.destroy();
        expect(stack.state().resources).toEqual([]);
        const left = await devObjects();
        expect(left.containers).toEqual([]);
        expect(left.networks).toEqual([]);
        // Postgres' data and MinIO's (the backups): kept on destroy by design (components/postgres-server.ts, object-store.ts).
        expect(left.volumes).toEqual(["dev-app-postgres-data", "dev-object-store-data"]);
        for (const v of left.volumes) await engine.json("DELETE", `/volumes/${v}`);
        expect(fs.existsSync(path.join(PROGRAM, `Pulumi.${STACK}.yaml`)), "the program directory stays clean").toBe(false);
    });
});
