/**
 * docs/runbooks/restore.md, run as written: every ```bash block of its local-tier section
 * that starts with `# runbook-test: local`, in order, in one bash, with only variables set
 * for this tier (state dir, ports, restore dir and port, target time). Once for a full
 * restore, once for a point in time.
 */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../jobs/proc";
import { pgTimestamp } from "../../jobs/instance";
import { freePort, REPO, sleep, startTier, switchAndWaitArchived, type Tier, toolsMissing } from "./helpers/tier";

const MARKER = "# runbook-test: local";

export function runbookScript(markdown: string): string {
    const blocks = [...markdown.matchAll(/```bash\n([\s\S]*?)```/g)].map((m) => m[1]).filter((b) => b.startsWith(`${MARKER}\n`));
    return blocks.join("\n");
}

describe.skipIf(toolsMissing().length > 0)("the restore runbook, run as written", () => {
    let t: Tier;
    let v: Record<string, string>;
    let target: Date;
    const script = runbookScript(readFileSync(join(REPO, "docs", "runbooks", "restore.md"), "utf8"));

    const runRunbook = async (extra: Record<string, string>): Promise<{ code: number | null; stdout: string; stderr: string }> => {
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
    });

    it("restores to a point in time", async () => {
        const r = await runRunbook({ TARGET_TIME: pgTimestamp(target) });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/restoring base_[0-9A-F]{24}/);
        expect(r.stdout).toContain("public.runbook_rows=50");
    });
});
