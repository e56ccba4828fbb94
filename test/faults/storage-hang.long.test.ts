/**
 * Fault: object storage hangs (MinIO frozen with SIGSTOP: connections open, nothing answers —
 * the failure mode of WAL-G issue 2550 against R2) for 2 minutes during writes. The rendered
 * archive_command runs wal-push under `timeout`, so a hung push is killed and retried instead of
 * stalling archiving forever. Asserted: the hung pushes end as logged archive failures, WAL
 * stays on disk, archiving catches up after SIGCONT, wal-verify passes, no commit failed.
 *
 * Only with DBTIER_FAULTS_LONG=1 (scripts/faults.sh).
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "../support/pgwire";
import { sleep } from "../support/proc-tree";
import type { Tier } from "../support/tier-harness";
import { readPid } from "../../local/fsutil";
import { logSince, logSize, readySegments, startFaultTier, until, walSegmentsOnDisk, walVerify } from "./helpers";

const HANG_S = Number(process.env.DBTIER_FAULT_HANG_S ?? 120);

describe(`object storage hung for ${HANG_S} s during writes`, () => {
    let t: Tier;
    let minioPid: number | undefined;

    beforeAll(async () => {
        t = await startFaultTier("hang");
        await t.sql(await t.app(), "CREATE TABLE markers (id bigserial PRIMARY KEY, ts timestamptz NOT NULL DEFAULT clock_timestamp())");
    });
    afterAll(async () => {
        if (minioPid) process.kill(minioPid, "SIGCONT");
        await t?.down();
    });

    it("times the hung pushes out, keeps WAL on disk and catches up after", { timeout: (HANG_S + 400) * 1000 }, async () => {
        const root = await t.root("postgres");
        let stop = false;
        let writerError: string | undefined;
        let commits = 0;
        const writer = (async () => {
            const c = await Client.connect(await t.app());
            while (!stop) {
                try {
                    await c.query("INSERT INTO markers DEFAULT VALUES");
                    commits++;
                } catch (e) {
                    writerError = (e as Error).message;
                    break;
                }
                await sleep(100);
            }
            await c.close();
        })();
        const logFrom = logSize(t.l.pgLog);
        const failedBefore = Number(await t.value(root, "SELECT failed_count FROM pg_stat_archiver"));
        minioPid = readPid(t.l.minioPid)!;
        process.kill(minioPid, "SIGSTOP");
        const t0 = Date.now();
        while (Date.now() - t0 < HANG_S * 1000) {
            await t.value(root, "SELECT pg_switch_wal()");
            await sleep(10_000);
        }
        const waiting = readySegments(t);
        expect(waiting.length).toBeGreaterThanOrEqual(2);
        const onDisk = new Set(walSegmentsOnDisk(t));
        for (const s of waiting) expect(onDisk.has(s)).toBe(true);
        const failed = Number(await t.value(root, "SELECT failed_count FROM pg_stat_archiver")) - failedBefore;
        expect(failed, "hung pushes ended as archive failures (timeout)").toBeGreaterThan(0);
        expect(logSince(t.l.pgLog, logFrom)).toMatch(/archive command failed with exit code (124|137)/);

        process.kill(minioPid, "SIGCONT");
        minioPid = undefined;
        const back = Date.now();
        await t.waitArchived(waiting[waiting.length - 1], 300_000);
        await until("the archive to drain", () => readySegments(t).length === 0, 300_000);
        process.stderr.write(
            `[fault:hang] ${failed} timed-out pushes during ${HANG_S} s, ${waiting.length} segments waiting, caught up ${((Date.now() - back) / 1000).toFixed(1)} s after SIGCONT; ${commits} commits, writer error: ${writerError ?? "none"}\n`,
        );
        stop = true;
        await writer;
        expect(writerError).toBeUndefined();
        await t.switchAndWaitArchived();
        const v = await walVerify(t);
        expect(v.integrity).toBe("OK");
        expect(v.timeline).toBe("OK");
    });
});
