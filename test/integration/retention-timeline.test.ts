/**
 * Retention across a timeline switch, against real PostgreSQL 15, WAL-G v3.0.9 and MinIO, in
 * compressed time (issue 15, case 1). The primary is restored IN PLACE to a point in time, as
 * runbook §3 does (stop, move the data directory aside, backup-fetch, recovery_target_time,
 * promote), so it continues on timeline 2 in the same prefix, while a backup of timeline 1
 * taken after that point is abandoned. Then:
 * - with the horizon between the abandoned backup and the first timeline-2 backup, the anchor
 *   is the timeline-1 backup from before the branch (not the abandoned, newer one), the
 *   abandoned backup is deleted, and a restore to a point on timeline 2 from that anchor
 *   works (WAL of timeline 1, then timeline 2);
 * - with the horizon past a timeline-2 backup, `wal-g delete before FIND_FULL` of it removes
 *   every timeline-1 object (backups and WAL, by WAL-G's timeline-then-segment order), keeps
 *   the history file and timeline 2's WAL, and a restore to a later point works.
 */
import { readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runBackup, type BackupRecord } from "../../jobs/backup-job";
import { run } from "../../jobs/proc";
import { parseBackupList, type WalgBackupDetail } from "../../jobs/walg";
import { serverOwner } from "../../local/fsutil";
import { startPostgres, stopPostgres } from "../../local/postgres";
import { tools } from "../../local/settings";
import type { BackupJobConfig, RetentionPolicy } from "../../render/job-config";
import { lastLine, sleep, startTier, switchAndWaitArchived, type Tier, toolsMissing } from "../support/tier-harness";

const WAL = "dev/app/wal_005/";
const BASE = "dev/app/basebackups_005/";
const pgTime = (d: Date): string =>
    d
        .toISOString()
        .replace("T", " ")
        .replace(/\.\d+Z$/, "+00");

describe.skipIf(toolsMissing().length > 0)("retention across a restore in place (timeline 2), real WAL-G", () => {
    let t: Tier;
    let v: Record<string, string>;
    let config: BackupJobConfig;

    const sql = async (q: string): Promise<string> => {
        const r = await t.psql(v.DATABASE_ROOT_URL, q);
        expect(r.code, r.stderr).toBe(0);
        return r.stdout.trim();
    };
    const backup = async (retention: RetentionPolicy, now?: Date): Promise<BackupRecord> => {
        const rec = await runBackup(
            { ...config, retention },
            { emit: () => undefined, progress: () => undefined, ...(now ? { now: () => now } : {}) },
        );
        expect(rec.status, rec.error).toBe("succeeded");
        return rec;
    };
    const list = async (): Promise<WalgBackupDetail[]> => {
        const r = await t.walg(["backup-list", "--detail", "--json"]);
        expect(r.code, r.stderr).toBe(0);
        return parseBackupList(r.stdout);
    };
    const drill = async (target: Date): Promise<Record<string, any>> => {
        const d = await t.cli(["drill", "--target-time", target.toISOString()], 300_000);
        const evidence = JSON.parse(readFileSync(lastLine(d.stdout), "utf8"));
        expect(d.code, JSON.stringify(evidence)).toBe(0);
        return evidence;
    };
    const historyRows = (e: Record<string, any>): number => {
        const key = Object.keys(e.row_counts).find((k) => /(^|\.)history$/.test(k));
        expect(key, JSON.stringify(e.row_counts)).toBeDefined();
        return e.row_counts[key!];
    };
    // Every backup is its own compressed day and nothing is old enough: keep all.
    const keepAll: RetentionPolicy = { daily: 100, weekly: 0, walDays: 10_000_000, dayMs: 1 };

    beforeAll(async () => {
        t = await startTier("retention-tl");
        v = await t.vars();
        config = JSON.parse(readFileSync(t.l.backupJson, "utf8")) as BackupJobConfig;
        await sql("CREATE TABLE history (id serial PRIMARY KEY, phase text NOT NULL)");
    }, 240_000);
    afterAll(async () => {
        await t?.down();
    });

    it("keeps a restorable path on timeline 2 and deletes timeline 1 only once nothing on timeline 2 needs it", async () => {
        // Timeline 1: b1, 3 rows, the target point, 2 rows of the future to abandon, b2.
        await sql("INSERT INTO history (phase) VALUES ('tl1-before-b1')");
        await backup(keepAll);
        await sql("INSERT INTO history (phase) SELECT 'tl1-after-b1' FROM generate_series(1, 2)");
        await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
        await sleep(1100);
        const target = new Date();
        await sleep(1100);
        await sql("INSERT INTO history (phase) SELECT 'tl1-abandoned' FROM generate_series(1, 2)");
        await backup(keepAll);
        const [b1, b2] = await list();
        expect([b1.wal_file_name.slice(0, 8), b2.wal_file_name.slice(0, 8)]).toEqual(["00000001", "00000001"]);

        // The restore in place, as runbook §3: stop, data aside, fetch b1, recover to the target, promote.
        const tl = tools();
        await stopPostgres(t.l, tl);
        renameSync(t.l.pgData, `${t.l.pgData}.before-restore`);
        const f = await t.walg(["backup-fetch", t.l.pgData, b1.backup_name]);
        expect(f.code, f.stderr).toBe(0);
        writeFileSync(
            join(t.l.pgData, "postgresql.auto.conf"),
            `recovery_target_time = '${pgTime(target)}'\nrecovery_target_action = 'promote'\n`,
            { flag: "a" },
        );
        writeFileSync(join(t.l.pgData, "recovery.signal"), "");
        const owner = serverOwner();
        if (owner) await run("chown", ["-R", `${owner.uid}:${owner.gid}`, t.l.pgData]);
        await run("chmod", ["0700", t.l.pgData]);
        await startPostgres(t.l, tl);
        for (let i = 0; i < 120; i++) {
            const r = await t.psql(v.DATABASE_ROOT_URL, "SELECT pg_is_in_recovery()");
            if (r.code === 0 && r.stdout.trim() === "f") break;
            await sleep(1000);
        }
        expect(await sql("SELECT timeline_id FROM pg_control_checkpoint()")).toBe("2");
        await sql("ALTER SYSTEM RESET recovery_target_time");
        await sql("ALTER SYSTEM RESET recovery_target_action");
        await sql("SELECT pg_reload_conf()");
        expect(await sql("SELECT count(*) FROM history")).toBe("3");
        rmSync(`${t.l.pgData}.before-restore`, { recursive: true, force: true });

        // Timeline 2: rows, b3, rows, a point, b4.
        await sql("INSERT INTO history (phase) SELECT 'tl2-a' FROM generate_series(1, 4)");
        await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
        await sleep(1100);
        const tl2Point = new Date(); // 7 rows: 3 from timeline 1, 4 of timeline 2
        await sleep(1100);
        await backup(keepAll);
        await sql("INSERT INTO history (phase) SELECT 'tl2-b' FROM generate_series(1, 5)");
        await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
        await sleep(1100);
        const laterPoint = new Date(); // 12 rows
        await sleep(1100);
        // Recovery stops at the first commit after the target: there must be one.
        await sql("INSERT INTO history (phase) VALUES ('tl2-after-later-point')");
        await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
        await backup(keepAll);
        const four = await list();
        expect(four.map((b) => b.wal_file_name.slice(0, 8))).toEqual(["00000001", "00000001", "00000002", "00000002"]);
        const [, , b3, b4] = four;
        expect((await t.listKeys(WAL)).some((k) => k.startsWith(`${WAL}00000002.history`))).toBe(true);

        // Night A: the horizon lies between b2 (abandoned) and b3. By start time alone the
        // anchor would be b2; on timeline 2's history it is b1.
        let now = new Date();
        let horizon = (Date.parse(b2.finish_time) + Date.parse(b3.start_time)) / 2;
        const recA = await backup({ daily: 1, weekly: 0, walDays: 1, dayMs: Math.round(now.getTime() - horizon) }, now);
        expect(recA.window.timeline).toBe(2);
        expect(recA.window.anchor).toBe(b1.backup_name);
        expect(recA.window.promise_met).toBe(true);
        expect(recA.retention.delete_before).toBeNull(); // nothing sorts below b1
        expect(recA.retention.deleted).toContain(b2.backup_name);
        expect(recA.retention.kept).toContain(b1.backup_name);
        expect(recA.retention.kept).toContain(b3.backup_name); // tomorrow's anchor
        expect(recA.wal_verify?.integrity?.status).toBe("OK");

        // The oldest point on timeline 2 restores from b1: timeline 1's WAL up to the switch, then 2's.
        const eA = await drill(tl2Point);
        expect(eA.backup_name).toBe(b1.backup_name);
        expect(historyRows(eA)).toBe(7);

        // Night B: the horizon lies past b3: b3 anchors and `delete before FIND_FULL b3`
        // removes every timeline-1 object, keeps the history file and timeline 2's WAL.
        const walBefore = await t.listKeys(WAL);
        now = new Date();
        horizon = (Date.parse(b3.finish_time) + Date.parse(b4.start_time)) / 2;
        const recB = await backup({ daily: 1, weekly: 0, walDays: 1, dayMs: Math.round(now.getTime() - horizon) }, now);
        expect(recB.window.anchor).toBe(b3.backup_name);
        expect(recB.retention.delete_before).toBe(b3.backup_name);
        expect(recB.retention.deleted).toContain(b1.backup_name);
        const after = await list();
        expect(after.every((b) => b.wal_file_name.startsWith("00000002"))).toBe(true);
        expect(after.map((b) => b.backup_name)).toContain(b3.backup_name);
        const walAfter = await t.listKeys(WAL);
        expect(
            walAfter.filter((k) => k.startsWith(`${WAL}00000001`)),
            "timeline-1 WAL left",
        ).toEqual([]);
        expect(
            walAfter.some((k) => k.startsWith(`${WAL}00000002.history`)),
            "history file kept",
        ).toBe(true);
        for (const k of walBefore) {
            const seg = k.slice(WAL.length, WAL.length + 24);
            if (k.startsWith(`${WAL}00000002`) && /^[0-9A-F]{24}$/.test(seg) && seg >= b3.wal_file_name) expect(walAfter, k).toContain(k);
        }
        expect((await t.listKeys(BASE)).some((k) => k.includes("base_00000001"))).toBe(false);
        expect(recB.wal_verify?.integrity?.status).toBe("OK");

        // A later point on timeline 2 (before b4) still restores, from b3.
        const eB = await drill(laterPoint);
        expect(eB.backup_name).toBe(b3.backup_name);
        expect(historyRows(eB)).toBe(12);
    }, 600_000);
});
