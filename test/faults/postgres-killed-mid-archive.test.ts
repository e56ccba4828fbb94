/**
 * Fault: Postgres is killed (SIGKILL of the whole process tree, so the archiver and its
 * running `wal-g wal-push` die together) while a segment is being archived. After the restart
 * (`npm run local -- up`, crash recovery) archiving must continue without a gap: every segment
 * from the first to the last archived one is in the bucket, the interrupted one included,
 * wal-verify passes, and the archiver reports no failure.
 */
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Client } from "../support/pgwire";
import { descendantsMatching, killTree, waitGone } from "../support/proc-tree";
import type { Tier } from "../support/tier-harness";
import { archivedSegments, gaps, logSince, logSize, readySegments, startFaultTier, until, walVerify } from "./helpers";

describe("Postgres killed mid-archive", () => {
    let t: Tier;

    beforeAll(async () => {
        t = await startFaultTier("pg-killed");
        await t.sql(await t.root(), "CREATE TABLE filler (id bigserial PRIMARY KEY, body text)");
    });
    afterAll(async () => {
        await t?.down();
    });

    it("continues archiving without a gap after a kill during wal-push", async () => {
        const root = await t.root();
        // Write WAL and switch segments until the archiver is caught with a wal-push running.
        const c = await Client.connect(root);
        const round =
            "INSERT INTO filler (body) SELECT repeat(md5(random()::text), 64) FROM generate_series(1, 2000); SELECT pg_switch_wal()";
        for (let i = 0; i < 3; i++) await c.query(round);
        let caught: { pid: number; cmdline: string } | undefined;
        let writes = 0;
        const deadline = Date.now() + 120_000;
        const writer = (async () => {
            while (!caught && Date.now() < deadline) {
                try {
                    await c.query(round);
                    writes++;
                } catch {
                    break; // the kill
                }
            }
        })();
        const pm = t.postmasterPid()!;
        const push = await until("a running wal-push under the archiver", () => descendantsMatching(pm, /wal-g.* wal-push/)[0], 120_000, 5);
        caught = push;
        const segment = /pg_wal\/([0-9A-F]{24})/.exec(push.cmdline)?.[1];
        const victims = killTree(pm);
        await writer;
        await waitGone(victims);
        expect(segment, `wal-push command line: ${push.cmdline}`).toMatch(/^[0-9A-F]{24}$/);
        // The interrupted segment is normally still waiting on disk (.ready); if the push won
        // the race against the kill it is archived already. Either way it must end up archived.
        const waiting = readySegments(t).includes(segment!);
        process.stderr.write(
            `[fault:pg-killed] killed ${victims.length} processes while wal-push of ${segment} ran (after ${writes} write+switch rounds; segment ${waiting ? "still .ready" : "already archived"})\n`,
        );

        // The worst moment of such a kill: wal-push had finished its upload but Postgres never
        // heard, so the segment is in the bucket AND still .ready. Make that happen for sure (push
        // it now, as the killed push would have), so the restart must archive it a second time;
        // WALG_PREVENT_WAL_OVERWRITE must accept the identical copy instead of failing forever.
        if (waiting) {
            const p = await t.walg(["wal-push", join(t.l.pgData, "pg_wal", segment!)], { timeoutSeconds: 60 });
            expect(p.code, p.stderr).toBe(0);
        }
        const logFrom = logSize(t.l.pgLog);
        await t.cliOk(["up"]);
        const last = await t.switchAndWaitArchived(120_000);
        await until("the archive to drain", () => readySegments(t).length === 0, 120_000);

        const archived = await archivedSegments(t);
        expect(archived).toContain(segment!);
        expect(archived).toContain(last);
        expect(gaps(archived.filter((s) => s.startsWith("00000001"))), `archived: ${archived.join(" ")}`).toEqual([]);
        const stats = (
            await t.sql(await t.root("postgres"), "SELECT failed_count, coalesce(last_failed_wal, '') FROM pg_stat_archiver")
        )[0];
        const log = logSince(t.l.pgLog, logFrom);
        expect(
            Number(stats[0]),
            `archiver failures after the restart; log: ${log
                .split("\n")
                .filter((l) => /archive/i.test(l))
                .slice(0, 5)
                .join(" | ")}`,
        ).toBe(0);
        const v = await walVerify(t);
        expect(v.integrity).toBe("OK");
        expect(v.timeline).toBe("OK");
    });
});
