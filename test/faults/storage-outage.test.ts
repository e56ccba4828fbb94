/**
 * Fault: object storage down during writes. MinIO is killed (a real process, really gone)
 * while a writer commits a marker every 100 ms and WAL is switched every 5 s; after the outage
 * `npm run local -- up` starts it again. Asserted: the archive failures are logged and
 * counted, the unarchived WAL stays on disk (.ready files and their segments), archiving
 * catches up, wal-verify passes, and a restore to a point inside the outage holds exactly the
 * markers committed up to that point.
 *
 * 40 s outage in `npm test`, 2 minutes with DBTIER_FAULTS_LONG=1 (scripts/faults.sh). WAL-G v3.0.9
 * keeps retrying a refused connection (silently, for minutes; measured for wal-fetch in
 * test/integration/walg-exit-codes.test.ts, as v1.1.1 did for wal-push), so the first failure
 * Postgres sees is the archive_command's own timeout (pushTimeoutSeconds): 15 s here (60 s in
 * the long run), so the 40 s outage holds two failed attempts (Postgres retries at once, three
 * times, then waits) and a third that is still retrying when the storage comes back.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "../support/pgwire";
import { alive, sleep } from "../support/proc-tree";
import { type Tier, freePort } from "../support/tier-harness";
import { readPid } from "../../local/fsutil";
import { LONG, logSince, logSize, readySegments, startFaultTier, until, walSegmentsOnDisk, walVerify } from "./helpers";

const OUTAGE_S = Number(process.env.DBTIER_FAULT_OUTAGE_S ?? (LONG ? 120 : 40));
// The dev stack's archivePushTimeoutSeconds is 120 s, longer than the outage: this tier (this
// file's own process) runs with a shorter one so the outage is seen by the archive_command's timeout.
process.env.DBTIER_LOCAL_ARCHIVE_PUSH_TIMEOUT_SECONDS = LONG ? "60" : "15";

describe(`object storage down for ${OUTAGE_S} s during writes`, () => {
    let t: Tier;
    const notes: string[] = [];

    beforeAll(async () => {
        t = await startFaultTier("outage");
        await t.sql(await t.app(), "CREATE TABLE markers (id bigserial PRIMARY KEY, ts timestamptz NOT NULL DEFAULT clock_timestamp())");
        await t.cliOk(["backup"]);
    });
    afterAll(async () => {
        process.stderr.write(`[fault:outage] ${notes.join("; ")}\n`);
        // If the test stopped while MinIO was down, bring it back so Postgres can archive and stop.
        await t?.cli(["up"]).catch(() => undefined);
        await t?.down();
    });

    it("logs the failures, keeps WAL on disk, catches up, passes wal-verify, and restores to a point inside the outage", {
        timeout: (OUTAGE_S + 300) * 1000,
    }, async () => {
        const app = await t.app();
        const root = await t.root("postgres");
        const committed: { id: number; ts: number }[] = [];
        let stop = false;
        let writerError: string | undefined;
        const writer = (async () => {
            const c = await Client.connect(app);
            while (!stop) {
                try {
                    const r = (await c.query("INSERT INTO markers DEFAULT VALUES RETURNING id, extract(epoch FROM ts)"))[0];
                    committed.push({ id: Number(r[0]), ts: Number(r[1]) });
                } catch (e) {
                    writerError = (e as Error).message;
                    break;
                }
                await sleep(100);
            }
            await c.close();
        })();
        await sleep(2000);

        const failedBefore = Number(await t.value(root, "SELECT failed_count FROM pg_stat_archiver"));
        const logFrom = logSize(t.l.pgLog);
        const minioPid = readPid(t.l.minioPid)!;
        process.kill(minioPid, "SIGKILL");
        await until("MinIO to be gone", () => !alive(minioPid), 10_000, 20);
        const outageStart = Date.now();
        let maxReady = 0;
        while (Date.now() - outageStart < OUTAGE_S * 1000) {
            await t.value(root, "SELECT pg_switch_wal()");
            maxReady = Math.max(maxReady, readySegments(t).length);
            await sleep(5000);
        }
        // WAL stays on disk: every segment waiting for the archive is still in pg_wal.
        const waiting = readySegments(t);
        expect(waiting.length, "segments waiting for the archive during the outage").toBeGreaterThanOrEqual(2);
        const onDisk = new Set(walSegmentsOnDisk(t));
        for (const s of waiting) expect(onDisk.has(s), `${s} is on disk`).toBe(true);
        const failedDuring = Number(await t.value(root, "SELECT failed_count FROM pg_stat_archiver")) - failedBefore;
        expect(failedDuring, "archive failures counted in pg_stat_archiver").toBeGreaterThan(0);
        const log = logSince(t.l.pgLog, logFrom);
        expect(log).toMatch(/archive command failed with exit code/);
        const lastWaiting = waiting[waiting.length - 1];

        // Storage back: the tier's own `up` restarts MinIO (idempotent for everything else).
        const back = Date.now();
        await t.cliOk(["up"]);
        await t.waitArchived(lastWaiting, 300_000);
        await until("the archive to drain", () => readySegments(t).length === 0, 300_000);
        const catchUpS = (Date.now() - back) / 1000;
        stop = true;
        await writer;
        expect(writerError, "the writer never failed: an archive outage does not stop commits").toBeUndefined();
        await t.switchAndWaitArchived();
        const v = await walVerify(t);
        expect(v.integrity).toBe("OK");
        expect(v.timeline).toBe("OK");
        notes.push(
            `outage ${OUTAGE_S} s: ${failedDuring} failed archive attempts, up to ${maxReady} segments waiting (${waiting.length} at the end), caught up ${catchUpS.toFixed(1)} s after MinIO came back`,
        );

        // Restore to a point inside the outage: exactly the markers committed by then. The target
        // lies halfway between two markers committed mid-outage, clear of either commit.
        const mid = outageStart / 1000 + OUTAGE_S / 2;
        const k = committed.findIndex((m) => m.ts >= mid);
        expect(k).toBeGreaterThan(0);
        const target = new Date(((committed[k - 1].ts + committed[k].ts) / 2) * 1000);
        const keep = await freePort();
        const d = await t.cli(["drill", "--target-time", target.toISOString(), "--keep-port", String(keep)], 300_000);
        const evPath = d.stdout.trim().split("\n").pop() ?? "";
        expect(existsSync(evPath), d.stderr.slice(-2000)).toBe(true);
        const ev = JSON.parse(readFileSync(evPath, "utf8"));
        expect(ev.status, ev.error).toBe("passed");
        const rows = (
            await t.sql({ ...(await t.root()), port: keep }, "SELECT count(*), max(id), extract(epoch FROM max(ts)) FROM markers")
        )[0];
        const expected = committed.filter((m) => m.ts * 1000 <= target.getTime());
        expect(Number(rows[1])).toBe(expected[expected.length - 1].id);
        expect(Number(rows[0])).toBe(expected.length);
        notes.push(
            `restored to ${target.toISOString()} (${((target.getTime() - outageStart) / 1000).toFixed(0)} s into the outage): ${rows[0]} markers, as committed by then`,
        );
        writeFileSync(join(t.dir, "outage-notes.txt"), notes.join("\n"));
    });
});
