/**
 * The restore drill: a drill with no backup fails; point-in-time restore to a target time
 * keeps exactly the rows committed before it; the evidence (every contract field) and
 * restore.log land in the bucket; failed checks (minRows, a bad schema query) fail the drill
 * with evidence uploaded; Drizzle's migrations table gives the schema version by default.
 */
import { walgFileExtension } from "../../render/walg-env";
import { compression } from "../../local/postgres";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { evidenceKeyPrefix } from "../../render/job-config";
import { freePort, lastLine, psqlWith, sleep, startTier, switchAndWaitArchived, type Tier, toolsMissing } from "../support/tier-harness";

const CONTRACT_FIELDS = [
    "status",
    "backup_name",
    "backup_start_time",
    "target_time",
    "recovered_to",
    "restore_started_at",
    "restore_finished_at",
    "duration_seconds",
    "schema_version",
    "row_counts",
] as const;

interface DrillRun {
    code: number | null;
    evidence: Record<string, unknown>;
    path: string;
    stderr: string;
}

describe.skipIf(toolsMissing().length > 0)("restore drill", () => {
    let t: Tier;
    let v: Record<string, string>;
    let keptPort: number | undefined;

    const checks = (o: object): void => writeFileSync(t.l.drillChecks, JSON.stringify(o));
    let last: DrillRun | undefined;
    const drill = async (...args: string[]): Promise<DrillRun> => {
        const r = await t.cli(["drill", ...args]);
        const path = lastLine(r.stdout);
        expect(existsSync(path), `drill printed ${path}; stderr: ${r.stderr}`).toBe(true);
        last = { code: r.code, evidence: JSON.parse(readFileSync(path, "utf8")), path, stderr: r.stderr };
        return last;
    };
    /** An object of the last drill's evidence folder, which its evidence names. */
    const uploaded = async (name: string): Promise<string> => {
        const started = new Date(String(last?.evidence.restore_started_at));
        const prefix = evidenceKeyPrefix(started, "dev", "app", last?.evidence.point === "oldest" ? "oldest" : "newest");
        expect(String(last?.evidence.evidence_location)).toMatch(new RegExp(`^s3://[^/]+/${prefix}$`));
        const body = await t.getObject(`${prefix}${name}`);
        expect(body, `${name} in the bucket`).toBeDefined();
        return body!.toString("utf8");
    };

    beforeAll(async () => {
        t = await startTier("drill");
        v = await t.vars();
    });
    afterAll(async () => {
        await t?.down();
    });

    it("fails, with evidence uploaded and a non-zero exit, when no backup exists", async () => {
        const d = await drill();
        expect(d.code).not.toBe(0);
        expect(d.evidence).toMatchObject({ status: "failed", backup_name: null, error: "no backup exists" });
        const remote = JSON.parse(await uploaded("evidence.json"));
        expect(remote.status).toBe("failed");
        expect(remote.restore_started_at).toBe(d.evidence.restore_started_at);
        expect(await uploaded("restore.log")).toContain("no backup exists");
    });

    it("does not pass when every data check is skipped (no user table, amcheck off, no schema)", async () => {
        const b = await t.cli(["backup"]);
        expect(b.code, b.stderr).toBe(0);
        checks({ amcheck: "off" });
        const d = await drill();
        expect(d.code).not.toBe(0);
        expect(d.evidence.status).toBe("failed");
        const byName = Object.fromEntries(
            (d.evidence.checks as { name: string; status: string; detail: string }[]).map((c) => [c.name, c]),
        );
        expect(byName["row-counts"]).toMatchObject({ status: "skipped", role: "dbtier_drill" });
        expect(byName.amcheck).toMatchObject({ status: "skipped", detail: "disabled by drill.amcheck = off" });
        expect(byName.schema).toMatchObject({ status: "skipped" });
        expect(byName["data-verified"]).toMatchObject({ status: "failed" });
        expect(String(d.evidence.error)).toMatch(/no data check passed/);
        expect(d.evidence.row_counts).toEqual({});
    });

    it("restores to a point in time: exactly the rows committed before the target are there", async () => {
        const root = v.DATABASE_ROOT_URL;
        const ok = async (sql: string | string[]): Promise<void> => {
            const r = await t.psql(root, sql);
            expect(r.code, r.stderr).toBe(0);
        };
        await ok("CREATE TABLE items (id serial PRIMARY KEY, phase text NOT NULL)");
        await ok("INSERT INTO items (phase) SELECT 'before-backup' FROM generate_series(1, 5)");
        const b = await t.cli(["backup"]);
        expect(b.code, b.stderr).toBe(0);
        await ok("INSERT INTO items (phase) SELECT 'before-target' FROM generate_series(1, 7)");
        await sleep(1100);
        const target = new Date();
        await sleep(1100);
        await ok("INSERT INTO items (phase) SELECT 'after-target' FROM generate_series(1, 11)");
        await switchAndWaitArchived(t, root);

        checks({ tables: ["public.items"], minRows: { "public.items": 12 } });
        keptPort = await freePort();
        const d = await drill("--target-time", target.toISOString(), "--keep-port", String(keptPort));
        expect(d.code, JSON.stringify(d.evidence)).toBe(0);
        expect(d.evidence).toMatchObject({
            status: "passed",
            target_time: target.toISOString(),
            row_counts: { "public.items": 12 },
            error: null,
        });
        expect(Date.parse(d.evidence.recovered_to as string)).toBeLessThanOrEqual(target.getTime());
        expect(Date.parse(d.evidence.recovered_to as string)).toBeGreaterThan(Date.parse(d.evidence.backup_start_time as string));

        // The kept instance: SCRAM on 127.0.0.1:<keepPort> with the primary's root password.
        const restored = root.replace(`:${t.ports.postgres}/`, `:${keptPort}/`);
        const rows = await psqlWith(restored, "SELECT phase || '=' || count(*) FROM items GROUP BY phase ORDER BY phase");
        expect(rows.code, rows.stderr).toBe(0);
        expect(rows.stdout.trim().split("\n")).toEqual(["before-backup=5", "before-target=7"]);
        const inRecovery = await psqlWith(restored, "SELECT pg_is_in_recovery()");
        expect(inRecovery.stdout.trim()).toBe("f");
    });

    it("uploads evidence.json with every contract field and the whole restore.log, free of secrets", async () => {
        const remote = JSON.parse(await uploaded("evidence.json"));
        for (const f of CONTRACT_FIELDS) expect(remote, f).toHaveProperty(f);
        expect(remote.status).toBe("passed");
        expect(remote.backup_name).toMatch(/^base_/);
        expect(typeof remote.duration_seconds).toBe("number");
        // Every user table of every database, counted by default; only items exists so far.
        expect(remote.row_counts).toEqual({ "public.items": 12 });
        expect(remote.schema_version).toBeNull();
        expect(remote.point).toBe("newest");
        expect(remote.drill_role).toBe("dbtier_drill");
        for (const c of remote.checks) {
            expect(Object.keys(c).sort()).toEqual(["detail", "duration_seconds", "name", "role", "status"]);
            expect(["passed", "failed", "skipped"]).toContain(c.status);
            expect(typeof c.duration_seconds).toBe("number");
        }
        const byName = Object.fromEntries(remote.checks.map((c: { name: string }) => [c.name, c]));
        expect(byName["drill-role-setup"]).toMatchObject({ status: "passed", role: "postgres" });
        for (const n of ["row-counts", "amcheck", "rows:public.items", "target-time"])
            expect(byName[n], n).toMatchObject({ status: "passed", role: "dbtier_drill" });
        expect(byName.schema).toMatchObject({ status: "skipped", role: "dbtier_drill" });
        expect(byName["data-verified"]).toMatchObject({ status: "passed", detail: "data verified by row-counts, amcheck" });
        const log = await uploaded("restore.log");
        for (const phrase of ["restoring base_", "recovery finished and promoted", "[postgres]", "row counts", "uploading evidence"]) {
            expect(log).toContain(phrase);
        }
        const secrets = JSON.parse(readFileSync(t.l.secrets, "utf8"));
        for (const s of [
            secrets.minio.password,
            secrets.libsodiumKeyHex,
            ...Object.values(secrets.roles).map((r) => (r as { password: string }).password),
        ]) {
            expect(log.includes(s)).toBe(false);
        }
    });

    it("fails, with evidence uploaded, when a table has fewer rows than minRows", async () => {
        checks({ tables: ["public.items"], minRows: { "public.items": 1_000_000 } });
        const d = await drill();
        expect(d.code).not.toBe(0);
        expect(d.evidence.status).toBe("failed");
        expect(d.evidence.error).toContain("rows:public.items");
        expect(JSON.parse(await uploaded("evidence.json")).status).toBe("failed");
    });

    it("fails when the schema query fails", async () => {
        checks({ tables: ["public.items"], schemaQuery: "SELECT version FROM no_such_table" });
        const d = await drill();
        expect(d.code).not.toBe(0);
        expect(d.evidence.status).toBe("failed");
        expect(d.evidence.error).toMatch(/schema: .*no_such_table/);
        expect(d.evidence.schema_version).toBeNull();
    });

    it("fails when the restore takes longer than the RTO", async () => {
        checks({ tables: ["public.items"], rtoSeconds: 1 });
        const d = await drill();
        expect(d.code).not.toBe(0);
        expect(d.evidence.status).toBe("failed");
        expect(d.evidence.rto_seconds).toBe(1);
        expect(String(d.evidence.error)).toMatch(/RTO|rto: |timed out/);
        expect(JSON.parse(await uploaded("evidence.json")).status).toBe("failed");
    });

    it("reads the schema version from drizzle.__drizzle_migrations when no query is configured", async () => {
        rmSync(t.l.drillChecks);
        const r = await t.psql(v.DATABASE_ROOT_URL, [
            "CREATE SCHEMA drizzle",
            "CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint)",
            "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('aaa', 1), ('bbb', 2)",
        ]);
        expect(r.code, r.stderr).toBe(0);
        const b = await t.cli(["backup"]);
        expect(b.code, b.stderr).toBe(0);
        const d = await drill();
        expect(d.code, JSON.stringify(d.evidence)).toBe(0);
        expect(d.evidence.schema_version).toEqual({ id: 2, hash: "bbb", created_at: 2 });
        // Without target or writes after the backup, the data is the backup's own state.
        expect(d.evidence.recovered_to).not.toBeNull();
        // No checks configured, and still every table is counted and amcheck ran.
        expect(d.evidence.row_counts).toEqual({ "public.items": 23, "drizzle.__drizzle_migrations": 2 });
        const byName = Object.fromEntries(
            (d.evidence.checks as { name: string; status: string; detail: string }[]).map((c) => [c.name, c]),
        );
        expect(byName.amcheck).toMatchObject({ status: "passed", role: "dbtier_drill" });
        expect(byName["data-verified"]).toMatchObject({ status: "passed", detail: "data verified by row-counts, schema, amcheck" });
    }, 600_000); // a backup and a drill: over 3 minutes when the 2-core machine is shared

    it("--point oldest restores the oldest backup: to its own end while the cluster is younger than the window", async () => {
        const list = await t.walg(["backup-list", "--json"]);
        const oldest = (JSON.parse(list.stdout) as { backup_name: string; time: string }[]).sort(
            (a, b) => Date.parse(a.time) - Date.parse(b.time),
        )[0];
        const d = await drill("--point", "oldest");
        expect(d.code, JSON.stringify(d.evidence.checks)).toBe(0);
        expect(d.evidence).toMatchObject({ point: "oldest", backup_name: oldest.backup_name, target_time: null, status: "passed" });
        // The first backup was taken on the empty cluster: no user table yet, amcheck verifies it.
        expect(d.evidence.row_counts).toEqual({});
        const byName = Object.fromEntries(
            (d.evidence.checks as { name: string; status: string; detail: string }[]).map((c) => [c.name, c]),
        );
        expect(byName.window).toMatchObject({ status: "skipped" });
        expect(byName.window.detail).toMatch(/cluster was initialized \d+s ago, less than the 2592000s window/);
        expect(byName["data-verified"]).toMatchObject({ status: "passed", detail: "data verified by amcheck" });
        expect(await uploaded("restore.log")).toMatch(/the oldest backup on the history of timeline 1/);
    });

    it("--point oldest replays the oldest backup to the window's start when the backup is older than the window", async () => {
        const list = await t.walg(["backup-list", "--json"]);
        const sorted = (JSON.parse(list.stdout) as { backup_name: string; time: string }[]).sort(
            (a, b) => Date.parse(a.time) - Date.parse(b.time),
        );
        // A window that starts after the second backup: WAL from the oldest one must carry the restore there.
        const windowSeconds = Math.floor((Date.now() - Date.parse(sorted[1].time)) / 1000) - 2;
        checks({ windowSeconds });
        const d = await drill("--point", "oldest");
        expect(d.code, JSON.stringify(d.evidence.checks)).toBe(0);
        expect(d.evidence).toMatchObject({ point: "oldest", backup_name: sorted[0].backup_name, status: "passed" });
        const target = Date.parse(String(d.evidence.target_time));
        expect(Math.abs(target - (Date.parse(d.evidence.restore_started_at as string) - windowSeconds * 1000))).toBeLessThan(1000);
        expect(Date.parse(String(d.evidence.recovered_to))).toBeLessThanOrEqual(target);
        const byName = Object.fromEntries(
            (d.evidence.checks as { name: string; status: string; detail: string }[]).map((c) => [c.name, c]),
        );
        expect(byName.window).toMatchObject({ status: "passed" });
        expect(byName["target-time"]).toMatchObject({ status: "passed" });
        // Replayed past the PITR test's backup: its rows are there.
        expect((d.evidence.row_counts as Record<string, number>)["public.items"]).toBeGreaterThanOrEqual(5);
        rmSync(t.l.drillChecks);
    });

    it("with a WAL segment missing, restores to the last consistent point before the gap; a target beyond it fails", async () => {
        const root = v.DATABASE_ROOT_URL;
        const sql = async (q: string): Promise<void> => {
            const r = await t.psql(root, q);
            expect(r.code, r.stderr).toBe(0);
        };
        await sql("CREATE TABLE gap (id serial PRIMARY KEY, phase text NOT NULL)");
        const b = await t.cli(["backup"]);
        expect(b.code, b.stderr).toBe(0);
        await sql("INSERT INTO gap (phase) SELECT 'kept' FROM generate_series(1, 3)");
        await switchAndWaitArchived(t, root);
        await sql("INSERT INTO gap (phase) SELECT 'lost' FROM generate_series(1, 4)");
        const lostSegment = await switchAndWaitArchived(t, root);
        await sql("INSERT INTO gap (phase) SELECT 'after-gap' FROM generate_series(1, 5)");
        await switchAndWaitArchived(t, root);
        const beyond = new Date();
        await sleep(1100);
        await sql("INSERT INTO gap (phase) VALUES ('last')");
        await switchAndWaitArchived(t, root);

        const c = t.s3();
        const { DeleteObjectCommand } = await import("@aws-sdk/client-s3");
        await c.send(
            new DeleteObjectCommand({
                Bucket: "db-tier-dev-backups",
                Key: `dev/app/wal_005/${lostSegment}${walgFileExtension(compression())}`,
            }),
        );
        c.destroy();

        const show = await t.walg(["wal-show", "--detailed-json"]);
        expect(show.code, show.stderr).toBe(0);
        expect(JSON.stringify(JSON.parse(show.stdout)[0].missing_segments)).toContain(lostSegment);

        checks({ tables: ["public.gap"] });
        const d = await drill();
        expect(d.code, JSON.stringify(d.evidence)).toBe(0);
        expect(d.evidence.row_counts).toMatchObject({ "public.gap": 3, "public.items": 23 });

        const past = await drill("--target-time", beyond.toISOString());
        expect(past.code).not.toBe(0);
        expect(past.evidence.status).toBe("failed");
        expect(String(past.evidence.error)).toMatch(/recovery ended before configured recovery target was reached/);

        // The backup job's wal-verify sees the hole and fails the run, once the hole is further
        // behind the current segment than WAL-G's "maybe still uploading" window.
        for (let i = 0; i < 6; i++) {
            await sql(`INSERT INTO gap (phase) VALUES ('filler-${i}')`);
            await switchAndWaitArchived(t, root);
        }
        const job = await t.cli(["backup"]);
        expect(job.code).not.toBe(0);
        const rec = JSON.parse(lastLine(job.stdout));
        expect(rec.wal_verify.integrity.status).toBe("FAILURE");
        expect(rec.error).toMatch(/wal-verify integrity: FAILURE/);
    }, 600_000); // two drills, a backup and a dozen archived segment switches: minutes on a loaded 2-core machine
});
