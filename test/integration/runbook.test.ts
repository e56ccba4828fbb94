/**
 * docs/runbooks/restore.md, run as written: every ```bash block of its local-tier section
 * that starts with `# runbook-test: local`, in order, in one bash, with only variables set
 * for this tier (state dir, ports, restore dir and port, target time). Once for a full
 * restore, once for a point in time. The application planted code where a superuser's
 * verification would run it (a view for the migrations table, an expression index); the
 * runbook's verification (scripts/verify-restored.sh) must not run it, and a control shows
 * the same code does run when a superuser counts rows naively.
 */
import { chmodSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../jobs/proc";
import { pgTimestamp } from "../../jobs/instance";
import { freePort, REPO, sleep, startTier, switchAndWaitArchived, type Tier, toolsMissing } from "../support/tier-harness";

const MARKER = "# runbook-test: local";

export function runbookScript(markdown: string): string {
    const blocks = [...markdown.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.startsWith(`${MARKER}\n`));
    return blocks.join("\n");
}

describe.skipIf(toolsMissing().length > 0)("the restore runbook, run as written", () => {
    let t: Tier;
    let v: Record<string, string>;
    let target: Date;
    let markers: string;
    const markerFiles = (): string[] => readdirSync(markers).sort();
    const script = runbookScript(readFileSync(join(REPO, "docs", "runbooks", "restore.md"), "utf8"));

    const runRunbook = async (extra: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> => {
        expect(markerFiles()).toEqual([]);
        const file = join(t.dir, "runbook.sh");
        writeFileSync(file, script);
        return run("bash", [file], {
            cwd: REPO,
            env: { ...t.env, RESTORE_DIR: join(t.dir, "restored"), RESTORE_PORT: String(await freePort()), ...extra },
            timeoutMs: 300_000,
        });
    };

    beforeAll(async () => {
        t = await startTier("runbook");
        v = await t.vars();
        const sql = async (s: string): Promise<void> => {
            const r = await t.psql(v.DATABASE_ROOT_URL, s);
            expect(r.code, r.stderr).toBe(0);
        };
        markers = mkdtempSync(join(tmpdir(), "dbtier-runbook-markers-"));
        chmodSync(markers, 0o777); // the postgres OS user writes here if the planted code runs with root's rights
        const planted = await t.psql(v.DATABASE_MIGRATE_URL, [
            // COPY TO PROGRAM needs superuser (or pg_execute_server_program): a marker proves escalation.
            // Volatile, so it may run COPY when the IMMUTABLE index function below calls it.
            `CREATE FUNCTION public.planted(tag text) RETURNS int LANGUAGE plpgsql AS $fn$
             BEGIN
               BEGIN EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'touch ${markers}/' || tag || '-' || current_user);
               EXCEPTION WHEN OTHERS THEN NULL; END;
               RETURN 0;
             END $fn$`,
            "CREATE SCHEMA drizzle",
            "CREATE VIEW drizzle.__drizzle_migrations AS SELECT 7 AS id, 'forged' || public.planted('view') AS hash, 0::bigint AS created_at",
            "CREATE FUNCTION public.planted_const() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN RETURN public.planted('index'); END $$",
            "CREATE TABLE public.planted_idx (a int)",
            "INSERT INTO public.planted_idx SELECT generate_series(1, 3)",
            "CREATE INDEX planted_idx_expr ON public.planted_idx ((a + public.planted_const()))",
        ]);
        expect(planted.code, planted.stderr).toBe(0);
        await sql("CREATE TABLE runbook_rows (id serial PRIMARY KEY, phase text)");
        await sql("INSERT INTO runbook_rows (phase) SELECT 'before-backup' FROM generate_series(1, 42)");
        const b = await t.cli(["backup"]);
        expect(b.code, b.stderr).toBe(0);
        await sql("INSERT INTO runbook_rows (phase) SELECT 'before-target' FROM generate_series(1, 8)");
        await sleep(1100);
        target = new Date();
        await sleep(1100);
        await sql("INSERT INTO runbook_rows (phase) SELECT 'after-target' FROM generate_series(1, 5)");
        await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
    });
    afterAll(async () => {
        await t?.down();
    });

    it("has the local section's blocks", () => {
        expect(script.split(MARKER).length - 1).toBeGreaterThanOrEqual(5);
        expect(script).toContain("backup-fetch");
        expect(script).toContain("recovery.signal");
    });

    it("restores the latest state into a fresh instance", async () => {
        const r = await runRunbook({});
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toContain("restoring LATEST");
        expect(r.stdout).toContain("in_recovery=false");
        expect(r.stdout).toContain("public.runbook_rows=55");
        expect(r.stdout).toContain("public.planted_idx=3");
        expect(r.stdout).toMatch(
            /schema_version=unreadable: drizzle.__drizzle_migrations has relkind v \(owner app_user\), not a plain table/,
        );
        expect(r.stdout).not.toContain("forged");
        expect(markerFiles()).toEqual([]);
    });

    it("restores to a point in time", async () => {
        const r = await runRunbook({ TARGET_TIME: pgTimestamp(target) });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/restoring base_[0-9A-F]{24}/);
        expect(r.stdout).toContain("public.runbook_rows=50");
        expect(markerFiles()).toEqual([]);
    });

    // Last: the control leaves a marker. The planted code is real, and a superuser's naive count runs it.
    it("control: a superuser's count(*) on the primary runs the planted index code with root's rights", async () => {
        const r = await t.psql(v.DATABASE_ROOT_URL, "SELECT count(*) FROM public.planted_idx");
        expect(r.code, r.stderr).toBe(0);
        expect(markerFiles().some((f) => f.startsWith("index-"))).toBe(true);
    });
});
