/**
 * The guards of retention on the real tier (issue 15, cases 3 and 4), real WAL-G v3.0.9 and
 * MinIO, compressed days:
 * - clock sanity: a run whose clock is a year ahead or 40 days behind storage's refuses to
 *   delete anything, fails with the reason and still counts its backup; the same run with
 *   the right clock deletes;
 * - a retention hold in the bucket (render/retention-hold.ts) is obeyed until removed;
 * - a permanent backup: kept by the planner, spared by `wal-g delete before` together with
 *   its own WAL range while the WAL around it goes, and reached by no lifecycle rule MinIO
 *   holds for the bucket (MinIO's scanner works in whole days, so the expiry itself is not
 *   run here; the rules are read back from MinIO and matched against every object of the
 *   backup).
 */
import { GetBucketLifecycleConfigurationCommand } from "@aws-sdk/client-s3";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { type BackupRecord, runBackup } from "../../jobs/backup-job";
import { parseBackupList, type WalgBackupDetail } from "../../jobs/walg";
import type { BackupJobConfig, RetentionPolicy } from "../../render/job-config";
import { RETENTION_HOLD_OBJECT } from "../../render/retention-hold";
import { parseWalFileName, segmentOf, walFileName } from "../../render/timeline-history";
import { sleep, startTier, switchAndWaitArchived, type Tier, toolsMissing } from "../support/tier-harness";

const WAL = "dev/app/wal_005/";
const BASE = "dev/app/basebackups_005/";
const DAY = 86_400_000;

describe.skipIf(toolsMissing().length > 0)("retention guards with real WAL-G and MinIO", () => {
    let t: Tier;
    let v: Record<string, string>;
    let config: BackupJobConfig;
    const keepAll: RetentionPolicy = { daily: 100, weekly: 0, walDays: 10_000_000, dayMs: 1 };

    const job = (retention: RetentionPolicy, now?: () => Date): Promise<BackupRecord> =>
        runBackup({ ...config, retention }, { emit: () => undefined, progress: () => undefined, ...(now ? { now } : {}) });
    const list = async (): Promise<WalgBackupDetail[]> => {
        const r = await t.walg(["backup-list", "--detail", "--json"]);
        expect(r.code, r.stderr).toBe(0);
        return parseBackupList(r.stdout);
    };
    const insert = async (): Promise<void> => {
        const r = await t.psql(v.DATABASE_ROOT_URL, "INSERT INTO filler SELECT g FROM generate_series(1, 1000) g");
        expect(r.code, r.stderr).toBe(0);
        await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
    };

    beforeAll(async () => {
        t = await startTier("retention-guards");
        v = await t.vars();
        config = JSON.parse(readFileSync(t.l.backupJson, "utf8")) as BackupJobConfig;
        const r = await t.psql(v.DATABASE_ROOT_URL, "CREATE TABLE filler (n int)");
        expect(r.code, r.stderr).toBe(0);
        for (let i = 0; i < 4; i++) {
            await insert();
            const rec = await job(keepAll);
            expect(rec.status, rec.error).toBe("succeeded");
            await sleep(300);
        }
    }, 300_000);
    afterAll(async () => {
        await t?.down();
    });

    it("refuses to delete with the job's clock a year ahead or 40 days behind, fails loudly, and still counts the backup", async () => {
        // A policy under which the right clock deletes: keep one daily, a window of a "day" of 1 s.
        const policy: RetentionPolicy = { daily: 1, weekly: 0, walDays: 1, dayMs: 1000 };
        for (const offset of [365 * DAY, -40 * DAY]) {
            const before = (await list()).map((b) => b.backup_name);
            const skewed = (): Date => new Date(Date.now() + offset);
            const rec = await job(policy, skewed);
            expect(rec.status).toBe("failed");
            expect(rec.error).toMatch(
                /clock check failed, retention deleted nothing: the job's clock .* and storage's .* disagree by \d+ s/,
            );
            expect(rec.backup_name).not.toBeNull();
            expect(rec.retention.deleted).toEqual([]);
            const after = (await list()).map((b) => b.backup_name);
            expect(after).toEqual([...before, rec.backup_name]);
            // wal-verify still ran: the job reports the state of the archive even when it refuses.
            expect(rec.wal_verify?.integrity?.status).toBe("OK");
        }
        // Control: the right clock, the same policy, deletes.
        await insert();
        const ok = await job(policy);
        expect(ok.status, ok.error).toBe("succeeded");
        expect(ok.retention.deleted.length).toBeGreaterThan(0);
        expect(ok.window.promise_met).toBe(true);
    }, 300_000);

    it("keeps a permanent backup and its own WAL through `delete before`, and no lifecycle rule on MinIO reaches it", async () => {
        // Three more backups with WAL between them; mark the first of them permanent.
        const made: string[] = [];
        for (let i = 0; i < 3; i++) {
            await insert();
            const rec = await job(keepAll);
            expect(rec.status, rec.error).toBe("succeeded");
            made.push(rec.backup_name!);
            await sleep(1200);
        }
        const mark = await t.walg(["backup-mark", made[0]]);
        expect(mark.code, mark.stderr).toBe(0);
        const all = await list();
        const perm = all.find((b) => b.backup_name === made[0])!;
        expect(perm.is_permanent).toBe(true);
        const next = all.find((b) => b.backup_name === made[1])!;
        const walBefore = await t.listKeys(WAL);

        // The horizon between made[1] and made[2]: made[1] anchors, `delete before` removes
        // everything below it but the permanent backup and its WAL range.
        await insert();
        const now = new Date();
        const third = all.find((b) => b.backup_name === made[2])!;
        const horizon = (Date.parse(next.finish_time) + Date.parse(third.start_time)) / 2;
        const rec = await job({ daily: 1, weekly: 0, walDays: 1, dayMs: Math.round(now.getTime() - horizon) }, () => now);
        expect(rec.status, rec.error).toBe("succeeded");
        expect(rec.window.anchor).toBe(made[1]);
        expect(rec.retention.delete_before).toBe(made[1]);
        expect(rec.retention.kept).toContain(made[0]);
        const walAfter = new Set(await t.listKeys(WAL));
        // Its own range, as WAL-G computes it: segments of (start_lsn - 1) .. (finish_lsn - 1).
        const tl = parseWalFileName(perm.wal_file_name)!.timeline;
        const own: string[] = [];
        for (let s = segmentOf(perm.start_lsn - 1); s <= segmentOf(perm.finish_lsn - 1); s++)
            own.push(walFileName({ timeline: tl, segno: s }));
        for (const seg of own)
            expect(
                [...walAfter].some((k) => k.startsWith(`${WAL}${seg}`)),
                `permanent WAL ${seg}`,
            ).toBe(true);
        // WAL between the permanent backup's range and the anchor went (the control).
        const between = walBefore.filter((k) => {
            const seg = k.slice(WAL.length, WAL.length + 24);
            return /^[0-9A-F]{24}$/.test(seg) && seg > own[own.length - 1] && seg < next.wal_file_name;
        });
        expect(between.length).toBeGreaterThan(0);
        for (const k of between) expect(walAfter.has(k), k).toBe(false);
        expect((await list()).map((b) => b.backup_name)).toContain(made[0]);

        // Lifecycle: every rule MinIO holds, against every object of the permanent backup.
        const c = t.s3();
        const lc = await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "db-tier-dev-backups" }));
        c.destroy();
        const expiring = (lc.Rules ?? []).filter((r) => r.Status === "Enabled" && r.Expiration !== undefined);
        expect(expiring.length, "the evidence expiry is there: the check reads real rules").toBeGreaterThan(0);
        const objects = [
            ...(await t.listKeys(BASE)).filter((k) => k.includes(made[0])),
            ...[...walAfter].filter((k) => own.some((s) => k.startsWith(`${WAL}${s}`))),
        ];
        expect(objects.some((k) => k.endsWith("metadata.json"))).toBe(true);
        expect(objects.some((k) => k.includes("tar_partitions") || k.endsWith("_backup_stop_sentinel.json"))).toBe(true);
        for (const k of objects) {
            const hits = expiring.filter((r) => k.startsWith(r.Filter?.Prefix ?? r.Prefix ?? ""));
            expect(
                hits.map((r) => r.ID),
                k,
            ).toEqual([]);
        }
    }, 300_000);

    it("obeys a retention hold in the bucket: deletes nothing and names it; lifted as the runbook says (wal-g st rm), the next run deletes", async () => {
        const policy: RetentionPolicy = { daily: 1, weekly: 0, walDays: 1, dayMs: 1000 };
        // The hold as a run that saw an unexplained gap writes it (render/retention-hold.ts).
        const dir = mkdtempSync(join(tmpdir(), "hold-"));
        const file = join(dir, RETENTION_HOLD_OBJECT);
        writeFileSync(file, `${JSON.stringify({ reason: "planted by the test" })}\n`);
        const put = await t.walg(["st", "put", "--no-compress", "--no-encrypt", "-f", file, RETENTION_HOLD_OBJECT]);
        expect(put.code, put.stderr).toBe(0);
        rmSync(dir, { recursive: true, force: true });
        // The runbook's first step reads it back.
        const cat = await t.walg(["st", "cat", RETENTION_HOLD_OBJECT]);
        expect(cat.code, cat.stderr).toBe(0);
        expect(cat.stdout).toContain("planted by the test");

        await insert();
        const before = (await list()).map((b) => b.backup_name);
        const held = await job(policy);
        expect(held.status).toBe("failed");
        expect(held.error).toMatch(/^retention deleted nothing: retention is on hold: retention-hold\.json is in the cluster's prefix/);
        expect(held.retention.deleted).toEqual([]);
        expect((await list()).map((b) => b.backup_name)).toEqual([...before, held.backup_name]);

        const rm = await t.walg(["st", "rm", RETENTION_HOLD_OBJECT]);
        expect(rm.code, rm.stderr).toBe(0);
        await insert();
        const lifted = await job(policy);
        expect(lifted.status, lifted.error).toBe("succeeded");
        expect(lifted.retention.deleted.length).toBeGreaterThan(0);
    }, 300_000);
});
