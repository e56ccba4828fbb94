/**
 * Fault: the backup job is killed (SIGKILL, the job and its wal-g child together) in the middle
 * of backup-push. No incomplete backup may ever be listed as restorable, the drill keeps
 * restoring the last complete one, and the next run of the job succeeds.
 */
import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { pgbenchInit } from "../../bench/lib/common";
import { descendantsMatching, killTree, sleep, waitGone } from "../support/proc-tree";
import { cliCommand, REPO, type Tier } from "../support/tier-harness";
import { listedBackups, startFaultTier, until, walVerify } from "./helpers";

describe("the backup job killed mid-push", () => {
    let t: Tier;
    let first: string;
    let firstPushMs: number;

    beforeAll(async () => {
        t = await startFaultTier("backup-killed");
        // Enough data that backup-push takes seconds, not milliseconds (about 300 MB at scale 20).
        await pgbenchInit(t, 20);
        const r = await t.cliOk(["backup"]);
        const rec = JSON.parse(r.stdout.trim().split("\n").pop()!);
        first = rec.backup_name;
        firstPushMs = Date.parse(rec.finished_at) - Date.parse(rec.started_at);
    });
    afterAll(async () => {
        await t?.down();
    });

    it("lists no incomplete backup after the kill; the drill restores the last complete one; the next run succeeds", async () => {
        expect(await listedBackups(t)).toEqual([first]);
        const root = await t.root("postgres");
        // WAL-G's backup session: from pg_backup_start() to pg_backup_stop() it holds a connection
        // to database postgres (the backup job's); nothing else connects there during the test.
        const backupSessions = async (): Promise<number> =>
            Number(
                await t.value(
                    root,
                    "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend' AND datname = 'postgres' AND pid <> pg_backend_pid()",
                ),
            );

        // The real job (`npm run local -- backup`), killed while wal-g uploads.
        const [cli, ...cliArgs] = cliCommand();
        const job = spawn(cli, [...cliArgs, "backup"], { env: t.env, cwd: REPO, stdio: "ignore" });
        const exited = new Promise<number | null>((r) => job.once("exit", (code) => r(code)));
        const push = await until("wal-g backup-push to start", () => descendantsMatching(job.pid!, /wal-g.* backup-push/)[0], 60_000, 50);
        const pushSeen = Date.now();
        await until("the backup to be in progress in Postgres", async () => (await backupSessions()) > 0, 30_000, 50);
        // Kill at a third of the time the same push took before: certainly mid-upload.
        await sleep(Math.max(300, firstPushMs / 3 - (Date.now() - pushSeen)));
        expect(await backupSessions(), "the backup was still in progress at the kill").toBeGreaterThan(0);
        const victims = killTree(job.pid!);
        const killedAfterMs = Date.now() - pushSeen;
        expect(victims).toContain(push.pid);
        await waitGone(victims);
        expect(await exited).not.toBe(0);
        process.stderr.write(
            `[fault:backup-killed] killed ${victims.length} processes ${killedAfterMs} ms into a push that took ${firstPushMs} ms the first time\n`,
        );

        // Never listed as restorable: WAL-G lists only backups whose stop sentinel was written.
        expect(await listedBackups(t), "an incomplete backup was listed").toEqual([first]);
        // Postgres ended the killed backup's session with its connection.
        await until("the killed backup's session to end", async () => (await backupSessions()) === 0, 30_000);

        // The drill picks only complete backups.
        const d = await t.cli(["drill"], 300_000);
        const ev = JSON.parse(readFileSync(d.stdout.trim().split("\n").pop()!, "utf8"));
        expect(ev.status, ev.error).toBe("passed");
        expect(ev.backup_name).toBe(first);

        // The next run succeeds, its backup is listed; wal-verify passes.
        const next = await t.cli(["backup"]);
        expect(next.code, next.stderr.slice(-2000)).toBe(0);
        const rec = JSON.parse(next.stdout.trim().split("\n").pop()!);
        expect(rec.status).toBe("succeeded");
        expect(await listedBackups(t)).toEqual([first, rec.backup_name].sort());
        const v = await walVerify(t);
        expect(v.integrity).toBe("OK");
        expect(v.timeline).toBe("OK");
    });
});
