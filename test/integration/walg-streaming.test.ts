/**
 * Streaming WAL archiving on the real binaries (DBTIER_LOCAL_WAL_STREAMING=1): the loopback
 * tier runs `wal-g wal-receive` as its own process, as its own replication role, through a
 * physical slot. Attacks first: no other role (root included) may open a replication
 * connection, the receiver's role is no superuser and a wrong password is refused. Then the
 * point of it: commits acknowledged a couple of seconds before a SIGKILL of the whole Postgres
 * tree (data directory deleted, archive_timeout 60 s never reached, so archive_command has
 * not shipped their segment) come back from the streamed archive through the restore drill
 * (backup-fetch + wal-fetch, the last segment from its `.partial` upload). Archiving keeps
 * working next to the receiver (same segments, no overwrite conflict), and the slot is capped
 * by max_slot_wal_keep_size.
 */
import { readFileSync, rmSync } from "node:fs";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { killTree, postmasterPid, waitGone } from "../support/proc-tree";
import { receiverFiles, receiverSecret } from "../../local/wal-receiver";
import { WAL_RECEIVE_SLOT, WAL_RECEIVER_ROLE } from "../../render/wal-receive";
import { buildDsn } from "../../render/dsn";
import { freePort, lastLine, psqlWith, sleep, startTier, switchAndWaitArchived, type Tier, toolsMissing } from "../support/tier-harness";

const WAL = "dev/app/wal_005/";

describe.skipIf(toolsMissing().length > 0)("streaming WAL archiving with wal-g wal-receive", () => {
    let t: Tier;
    let v: Record<string, string>;
    const replication = (user: string, password: string): string =>
        buildDsn({ user, password, host: "127.0.0.1", port: t.ports.postgres, database: "postgres", sslmode: "disable" });
    /** IDENTIFY_SYSTEM over a physical replication connection. */
    const identify = (user: string, password: string) =>
        psqlWith(replication(user, password), "IDENTIFY_SYSTEM", { extra: ["-d", `dbname=postgres replication=true`] });

    beforeAll(async () => {
        process.env.DBTIER_LOCAL_WAL_STREAMING = "1";
        t = await startTier("walg-stream");
        v = await t.vars();
        // The receiver connects and its slot becomes active.
        const deadline = Date.now() + 60_000;
        for (;;) {
            const r = await t.psql(
                v.DATABASE_ROOT_URL,
                `SELECT count(*) FROM pg_stat_replication WHERE usename = '${WAL_RECEIVER_ROLE}' AND state = 'streaming'`,
            );
            if (r.stdout.trim() === "1") break;
            if (Date.now() > deadline)
                throw new Error(`receiver not streaming: ${readFileSync(receiverFiles(t.l).log, "utf8").slice(-2000)}`);
            await sleep(500);
        }
    });
    afterAll(async () => {
        await t?.down();
        delete process.env.DBTIER_LOCAL_WAL_STREAMING;
    });

    it("streams as its own role: REPLICATION and nothing more, through its slot, capped by max_slot_wal_keep_size", async () => {
        const role = await t.psql(
            v.DATABASE_ROOT_URL,
            `SELECT rolsuper, rolreplication, rolcanlogin, rolcreaterole, rolcreatedb, rolbypassrls, rolpassword LIKE 'SCRAM-SHA-256$%' FROM pg_authid WHERE rolname = '${WAL_RECEIVER_ROLE}'`,
        );
        expect(role.stdout.trim()).toBe("f|t|t|f|f|f|t");
        const slot = await t.psql(
            v.DATABASE_ROOT_URL,
            `SELECT slot_type, active, wal_status FROM pg_replication_slots WHERE slot_name = '${WAL_RECEIVE_SLOT}'`,
        );
        expect(slot.stdout.trim()).toBe("physical|t|reserved");
        const keep = await t.psql(v.DATABASE_ROOT_URL, "SHOW max_slot_wal_keep_size");
        expect(keep.stdout.trim()).toMatch(/^\d+GB$/);
        // The receiver process runs apart from Postgres (its own process group), not as a child of it.
        const pid = Number(readFileSync(receiverFiles(t.l).pid, "utf8"));
        expect(Number.isInteger(pid) && pid > 0).toBe(true);
    });

    it("refuses replication connections to every other role, and to the receiver's role with a wrong password", async () => {
        const root = new URL(v.DATABASE_ROOT_URL);
        const rootTry = await identify("postgres", decodeURIComponent(root.password));
        expect(rootTry.code).not.toBe(0);
        expect(rootTry.stderr).toMatch(/no pg_hba\.conf entry for replication connection/);
        const app = new URL(v.DATABASE_URL);
        const appTry = await identify("app_user", decodeURIComponent(app.password));
        expect(appTry.code).not.toBe(0);
        expect(appTry.stderr).toMatch(/no pg_hba\.conf entry for replication connection/);
        const wrong = await identify(WAL_RECEIVER_ROLE, "not-the-password-0123456789abcdef");
        expect(wrong.code).not.toBe(0);
        expect(wrong.stderr).toMatch(/password authentication failed/);
        // Control: the receiver's own credentials open one.
        const ok = await identify(WAL_RECEIVER_ROLE, receiverSecret(t.l).password);
        expect(ok.code, ok.stderr).toBe(0);
        expect(ok.stdout).toMatch(/^\d+\|1\|/);
        // And it cannot read application data over an ordinary connection.
        const read = await psqlWith(
            replication(WAL_RECEIVER_ROLE, receiverSecret(t.l).password).replace(/\/postgres\?/, "/app?"),
            "SELECT 1",
        );
        expect(read.code).not.toBe(0);
        expect(read.stderr).toMatch(/permission denied for database "app"/);
    });

    it("archive_command keeps archiving next to the receiver: same segments, no overwrite refusal", async () => {
        const seg = await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
        const stats = await t.psql(v.DATABASE_ROOT_URL, "SELECT failed_count FROM pg_stat_archiver");
        expect(stats.stdout.trim()).toBe("0");
        // The receiver uploaded the same complete segment (it ends at the switch) and removed its .partial.
        const deadline = Date.now() + 30_000;
        let keys: string[] = [];
        while (Date.now() < deadline) {
            keys = await t.listKeys(`${WAL}${seg}`);
            if (!keys.some((k) => k.includes(".partial"))) break;
            await sleep(500);
        }
        expect(keys.filter((k) => k.includes(".partial"))).toEqual([]);
        expect(keys.some((k) => /\.(lz4|zst|lzma|br)$/.test(k))).toBe(true);
    });

    it("local rotate gives the receiver's role a new password too: the old one is refused, the receiver streams again with the new one", async () => {
        const old = receiverSecret(t.l).password;
        const r = await t.cli(["rotate"]);
        expect(r.code, r.stderr).toBe(0);
        v = await t.vars(); // every role's password changed, root's included
        const converged = r.stdout
            .split("\n")
            .filter((l) => l.startsWith("{"))
            .map((l) => JSON.parse(l) as { event: string; role: string; action: string })
            .filter((l) => l.event === "db-tier.role-converged" && l.role === WAL_RECEIVER_ROLE);
        expect(converged.map((l) => l.action)).toEqual(["updated"]);
        const now = receiverSecret(t.l).password;
        expect(now).not.toBe(old);
        const refused = await identify(WAL_RECEIVER_ROLE, old);
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toMatch(/password authentication failed/);
        expect((await identify(WAL_RECEIVER_ROLE, now)).code).toBe(0);
        // The restarted receiver is back on its slot with the new password.
        const deadline = Date.now() + 60_000;
        for (;;) {
            const s = await t.psql(
                v.DATABASE_ROOT_URL,
                `SELECT count(*) FROM pg_stat_replication WHERE usename = '${WAL_RECEIVER_ROLE}' AND state = 'streaming' AND backend_start > now() - interval '60 seconds'`,
            );
            if (s.stdout.trim() === "1") break;
            if (Date.now() > deadline)
                throw new Error(`receiver not streaming again: ${readFileSync(receiverFiles(t.l).log, "utf8").slice(-2000)}`);
            await sleep(500);
        }
    });

    it("restores commits acknowledged 2 s before a SIGKILL of Postgres from the streamed archive (drill: backup-fetch + wal-fetch)", async () => {
        const w = await t.psql(
            v.DATABASE_ROOT_URL,
            "CREATE TABLE streamed (id bigserial PRIMARY KEY, at timestamptz NOT NULL DEFAULT clock_timestamp())",
        );
        expect(w.code, w.stderr).toBe(0);
        const b = await t.cli(["backup"], 300_000);
        expect(b.code, b.stderr.slice(-2000)).toBe(0);
        // The receiver's .partial objects next to the segments do not upset wal-verify.
        const rec = JSON.parse(lastLine(b.stdout));
        expect(rec.wal_verify.integrity.status).toBe("OK");
        expect(rec.wal_verify.timeline.status).toBe("OK");
        // Rows after the backup, in the segment being filled: archive_timeout (60 s) never fires before the kill.
        for (let i = 0; i < 20; i++) {
            const r = await t.psql(v.DATABASE_ROOT_URL, "INSERT INTO streamed DEFAULT VALUES");
            expect(r.code, r.stderr).toBe(0);
            await sleep(100);
        }
        const before = await t.psql(
            v.DATABASE_ROOT_URL,
            "SELECT count(*), pg_walfile_name(pg_current_wal_lsn()), (SELECT last_archived_wal FROM pg_stat_archiver) FROM streamed",
        );
        const [count, current, lastArchived] = before.stdout.trim().split("|");
        expect(Number(count)).toBe(20);
        expect(lastArchived < current, `the rows' segment ${current} must not be archived yet (last archived ${lastArchived})`).toBe(true);
        await sleep(2000);
        expect((await t.listKeys(`${WAL}${current}.partial`)).length, "the receiver uploaded the segment it is filling").toBe(1);

        const still = await t.psql(v.DATABASE_ROOT_URL, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
        expect(still.stdout.trim() < current, "archive_command shipped the segment before the kill: rerun").toBe(true);
        const pid = postmasterPid(t.l.pgData)!;
        await waitGone(killTree(pid));
        rmSync(t.l.pgData, { recursive: true, force: true });
        const keep = await freePort();
        const d = await t.cli(["drill", "--keep-port", String(keep)], 600_000);
        const ev = JSON.parse(readFileSync(lastLine(d.stdout), "utf8"));
        expect(ev.status, ev.error).toBe("passed");
        const restored = await psqlWith(
            buildDsn({
                user: "postgres",
                password: decodeURIComponent(new URL(v.DATABASE_ROOT_URL).password),
                host: "127.0.0.1",
                port: keep,
                database: "app",
                sslmode: "disable",
            }),
            "SELECT count(*) FROM streamed",
        );
        expect(restored.code, restored.stderr).toBe(0);
        expect(Number(restored.stdout.trim()), "every acknowledged row is back").toBe(20);
        // They came from the receiver's upload: the segment exists in the bucket only as .partial.
        const objects = await t.listKeys(`${WAL}${current}`);
        expect(objects.length).toBe(1);
        expect(objects[0]).toMatch(new RegExp(`^${WAL}${current}\\.partial\\.`));
    }, 900_000);
});
