/**
 * Retention against the real WAL-G, in compressed time: the backup job deletes exactly what
 * planRetention() says (`delete before FIND_FULL` for the oldest, `delete target` for the
 * ones in between), `delete target` leaves the WAL alone, and a point-in-time restore from
 * the oldest kept backup replays WAL across the deleted backups' range.
 */
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBackup } from "../../jobs/backup-job";
import { parseBackupList, toBackupInfo } from "../../jobs/walg";
import type { BackupJobConfig, RetentionPolicy } from "../../render/job-config";
import { planRetention } from "../../render/retention-plan";
import { lastLine, sleep, startTier, switchAndWaitArchived, type Tier, toolsMissing } from "../support/tier-harness";

const WAL = "dev/app/wal_005/";

describe.skipIf(toolsMissing().length > 0)("retention with real WAL-G (compressed days)", () => {
    let t: Tier;
    let v: Record<string, string>;
    let config: BackupJobConfig;

    const insert = async (phase: string): Promise<void> => {
        const r = await t.psql(v.DATABASE_ROOT_URL, `INSERT INTO history (phase) VALUES ('${phase}')`);
        expect(r.code, r.stderr).toBe(0);
    };
    const backup = async (
        retention: RetentionPolicy,
        now?: Date,
    ): Promise<ReturnType<typeof runBackup> extends Promise<infer R> ? R : never> => {
        const rec = await runBackup(
            { ...config, retention },
            { emit: () => undefined, progress: () => undefined, ...(now ? { now: () => now } : {}) },
        );
        expect(rec.status, rec.error).toBe("succeeded");
        return rec;
    };
    const list = async (): Promise<ReturnType<typeof parseBackupList>> => {
        const r = await t.walg(["backup-list", "--detail", "--json"]);
        expect(r.code, r.stderr).toBe(0);
        return parseBackupList(r.stdout);
    };

    beforeAll(async () => {
        t = await startTier("retention");
        v = await t.vars();
        config = JSON.parse(readFileSync(t.l.backupJson, "utf8")) as BackupJobConfig;
        const r = await t.psql(v.DATABASE_ROOT_URL, "CREATE TABLE history (id serial PRIMARY KEY, phase text NOT NULL)");
        expect(r.code, r.stderr).toBe(0);
    });
    afterAll(async () => {
        await t?.down();
    });

    it("keeps exactly the planned backups, removes WAL only before the oldest kept, and restores from it", async () => {
        // One-millisecond days: every backup is its own day, and all are within the window.
        const keepAll: RetentionPolicy = { daily: 100, weekly: 0, walDays: 10_000_000, dayMs: 1 };
        for (const phase of ["b1", "b2", "b3", "b4", "b5"]) {
            await insert(`before-${phase}`);
            await backup(keepAll);
            await sleep(300);
        }
        const five = await list();
        expect(five).toHaveLength(5);
        const [b1, b2, b3, b4, b5] = five;
        const mark = await t.walg(["backup-mark", b1.backup_name]);
        expect(mark.code, mark.stderr).toBe(0);
        const marked = await list();
        expect(marked.map((b) => b.is_permanent)).toEqual([true, false, false, false, false]);
        await insert("after-b5");
        await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
        await sleep(1100);
        const target = new Date();
        await sleep(1100);
        await insert("after-target");

        // A compressed "day" placed so that the PITR anchor is b3 (the newest backup that
        // finished by the horizon): the last run then needs both kinds of delete (b2 before the
        // anchor, b5 after it) and must spare b1, which is permanent and older than the cut,
        // and b4, tomorrow's anchor.
        const now = new Date();
        const horizon = (Date.parse(b3.finish_time) + Date.parse(b4.start_time)) / 2;
        const policy: RetentionPolicy = { daily: 1, weekly: 0, walDays: 1, dayMs: Math.round(now.getTime() - horizon) };
        const walBefore = await t.listKeys(WAL);

        const rec = await backup(policy, now);
        const after = await list();
        const b6 = after.find((b) => b.backup_name === rec.backup_name)!;
        const plan = planRetention([...marked, b6].map(toBackupInfo), now, policy);

        const reasons = new Map(plan.keep.map((k) => [k.name, k.reasons]));
        expect(reasons.get(b1.backup_name)).toEqual(["permanent"]);
        expect(reasons.get(b3.backup_name)).toEqual(["pitr-anchor"]);
        expect(reasons.get(b4.backup_name)).toEqual(["anchor-successor"]);
        expect(reasons.get(b6.backup_name)).toEqual(["daily", "newest"]);
        expect(reasons.has(b2.backup_name)).toBe(false);
        // b5 is a successor only when a compressed ISO week starts between b4 and b5.
        expect(plan.keep).toHaveLength(reasons.has(b5.backup_name) ? 5 : 4);
        expect(plan.deleteBefore).toBe(b3.backup_name);
        expect(plan.deletedByBefore).toEqual([b2.backup_name]);
        expect(plan.deleteTargets).toEqual(reasons.has(b5.backup_name) ? [] : [b5.backup_name]);
        expect(after.map((b) => b.backup_name)).toEqual(plan.keep.map((k) => k.name));
        expect(rec.retention.kept).toEqual(plan.keep.map((k) => k.name).sort());
        expect(rec.retention.deleted).toEqual([b2.backup_name, ...plan.deleteTargets]);
        expect(rec.retention.delete_before).toBe(b3.backup_name);
        expect(rec.window.anchor).toBe(b3.backup_name);
        expect(rec.wal_verify?.integrity?.status).toBe("OK");

        // WAL: only segments older than the anchor's went, except the permanent backup's own;
        // delete target took none.
        const segmentOf = (k: string): string => k.slice(WAL.length, WAL.length + 24);
        const walAfter = new Set(await t.listKeys(WAL));
        const gone = walBefore.filter((k) => !walAfter.has(k));
        expect(gone.length).toBeGreaterThan(0);
        for (const k of gone) expect(segmentOf(k) < b3.wal_file_name, k).toBe(true);
        for (const k of walBefore) if (segmentOf(k) >= b3.wal_file_name) expect(walAfter.has(k), k).toBe(true);
        expect(
            [...walAfter].some((k) => segmentOf(k) === b1.wal_file_name),
            "the permanent backup's WAL",
        ).toBe(true);
        expect(gone.some((k) => segmentOf(k) === b2.wal_file_name)).toBe(true);

        // Restore to the target from the newest kept backup that finished before it (b4, the
        // successor, or b5 when it is one too): when b5 was deleted, WAL across its range.
        const d = await t.cli(["drill", "--target-time", target.toISOString()]);
        const evidence = JSON.parse(readFileSync(lastLine(d.stdout), "utf8"));
        expect(d.code, JSON.stringify(evidence)).toBe(0);
        expect(evidence.backup_name).toBe(reasons.has(b5.backup_name) ? b5.backup_name : b4.backup_name);
        expect(Date.parse(evidence.recovered_to)).toBeLessThanOrEqual(target.getTime());
    }, 420_000);
});
