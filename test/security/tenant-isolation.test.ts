/**
 * Attacks of an application holding DATABASE_URL on tenant isolation, on the real tier
 * (pgBouncer 1.18 in transaction mode in front of PostgreSQL 15):
 *
 * - the RLS owner trap: migrations run as app_user, so app_user owns the tables and
 *   ENABLE ROW LEVEL SECURITY alone does not bind it (asserted: it sees every row); only
 *   FORCE does (README, "Row-level security");
 * - session state left on a pooled server connection: a session-level `SET
 *   app.current_user_id`, a temp table that shadows a real one, a session advisory lock.
 *   With the default `pgbouncer.resetSessionState: true` the next client inherits none of
 *   them; with it off (the control, through the same CLI and knob) it inherits them all,
 *   which proves the probe can see a leak;
 * - `ALTER ROLE app_user SET app.current_user_id` (a default that DISCARD ALL would restore):
 *   PostgreSQL 15 refuses it to a non-superuser.
 * The legitimate path next to each: SET LOCAL in a transaction sees exactly its tenant.
 */
import * as fs from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../jobs/proc";
import { REPO, startTier, type Tier, toolsMissing } from "../support/tier-harness";

const TENANT = "app.current_user_id";

async function waitUntil(what: string, timeoutMs: number, done: () => boolean): Promise<void> {
    for (const end = Date.now() + timeoutMs; !done(); ) {
        if (Date.now() > end) throw new Error(`timed out after ${timeoutMs} ms waiting until ${what}`);
        await new Promise((res) => setTimeout(res, 100));
    }
}

describe.skipIf(toolsMissing().length > 0)("tenant isolation through the pooled DSN", () => {
    let t: Tier;
    let v: Record<string, string>;

    const ok = async (dsn: string, sql: string | string[]): Promise<string> => {
        const r = await t.psql(dsn, sql);
        expect(r.code, r.stderr).toBe(0);
        return r.stdout.trim();
    };

    /** `npm run local -- up` with the reset knob: re-renders pgbouncer.ini and reloads pgBouncer. */
    const setReset = async (on: boolean): Promise<void> => {
        const reloads = () =>
            fs.existsSync(t.l.pgbLog) ? (fs.readFileSync(t.l.pgbLog, "utf8").match(/got SIGHUP, re-reading config/g) ?? []).length : 0;
        const before = reloads();
        const r = await run(join(REPO, "node_modules", ".bin", "tsx"), [join(REPO, "local", "cli.ts"), "up"], {
            env: { ...t.env, DBTIER_LOCAL_PGBOUNCER_RESET: on ? "1" : "0" },
            cwd: REPO,
            timeoutMs: 180_000,
        });
        expect(r.code, r.stderr).toBe(0);
        // SIGHUP is asynchronous: wait until pgBouncer says it re-read its ini (a fixed pause
        // was too short on a loaded machine, and the control then saw the old setting).
        await waitUntil("pgBouncer re-read its ini", 30_000, () => reloads() > before);
    };

    /**
     * 30 clients at once, each leaving session state on whatever server connection it got
     * (the pool has at most 20): afterwards every server connection has been touched.
     */
    const taintEveryServerConnection = async (): Promise<void> => {
        const results = await Promise.all(
            Array.from({ length: 30 }, (_, i) =>
                t.psql(v.DATABASE_URL, [
                    // One simple query, so one transaction on one server connection; none of it
                    // is transaction-scoped: the SET, the temp table and the lock outlive the COMMIT.
                    `SET ${TENANT} = 'alice'; CREATE TEMP TABLE IF NOT EXISTS notes (id int, owner text, body text); ` +
                        `INSERT INTO pg_temp.notes VALUES (0, 'alice', 'planted'); SELECT pg_try_advisory_lock(${900 + (i % 3)})`,
                    "SELECT pg_sleep(0.2)",
                ]),
            ),
        );
        for (const r of results) expect(r.code, r.stderr).toBe(0);
    };

    /**
     * What 20 later clients that set nothing see, one after another (so that one observer's
     * own advisory lock, released by the reset after its transaction, never meets the next).
     */
    const observe = async (): Promise<{ tenant: string[]; rows: string[]; lockFree: string[] }> => {
        const results = [];
        for (let i = 0; i < 20; i++) {
            results.push(
                await t.psql(v.DATABASE_URL, [
                    `SELECT coalesce(current_setting('${TENANT}', true), '') || '|' || (SELECT count(*) FROM notes) || '|' || pg_try_advisory_lock(900)::text`,
                ]),
            );
        }
        const parts = results.map((r) => {
            expect(r.code, r.stderr).toBe(0);
            return r.stdout.trim().split("|");
        });
        return { tenant: parts.map((p) => p[0]), rows: parts.map((p) => p[1]), lockFree: parts.map((p) => p[2]) };
    };

    beforeAll(async () => {
        t = await startTier("tenants");
        v = await t.vars();
        // Migrations run as app_user through the session-mode alias, as the seeds' db-migrate does.
        await ok(v.DATABASE_MIGRATE_URL, [
            "CREATE TABLE notes (id serial PRIMARY KEY, owner text NOT NULL, body text)",
            "ALTER TABLE notes ENABLE ROW LEVEL SECURITY",
            `CREATE POLICY tenant_isolation ON notes USING (owner = current_setting('${TENANT}', true)) WITH CHECK (owner = current_setting('${TENANT}', true))`,
            "INSERT INTO notes (owner, body) VALUES ('alice', 'a1'), ('alice', 'a2'), ('alice', 'a3'), ('bob', 'b1'), ('bob', 'b2')",
        ]);
    });
    afterAll(async () => {
        await t?.down();
    });

    it("the trap: with ENABLE only, the owner app_user sees every tenant's rows", async () => {
        expect(await ok(v.DATABASE_URL, "SELECT tableowner FROM pg_tables WHERE tablename = 'notes'")).toBe("app_user");
        expect(
            await ok(
                v.DATABASE_URL,
                "SELECT relrowsecurity::text || ',' || relforcerowsecurity::text FROM pg_class WHERE relname = 'notes'",
            ),
        ).toBe("true,false");
        // No tenant set, and still all five rows: the policy does not bind the table's owner.
        expect(await ok(v.DATABASE_URL, "SELECT count(*) FROM notes")).toBe("5");
        expect(await ok(v.DATABASE_URL, ["BEGIN", `SET LOCAL ${TENANT} = 'bob'`, "SELECT count(*) FROM notes", "COMMIT"])).toBe("5");
    });

    it("with FORCE ROW LEVEL SECURITY: SET LOCAL sees only its tenant, no tenant sees nothing", async () => {
        await ok(v.DATABASE_MIGRATE_URL, "ALTER TABLE notes FORCE ROW LEVEL SECURITY");
        expect(await ok(v.DATABASE_URL, "SELECT count(*) FROM notes")).toBe("0");
        const alice = await ok(v.DATABASE_URL, [
            "BEGIN",
            `SET LOCAL ${TENANT} = 'alice'`,
            "SELECT string_agg(DISTINCT owner, ',') || ':' || count(*) FROM notes",
            "COMMIT",
        ]);
        expect(alice).toBe("alice:3");
        const bob = await ok(v.DATABASE_URL, [
            "BEGIN",
            `SET LOCAL ${TENANT} = 'bob'`,
            "SELECT string_agg(DISTINCT owner, ',') || ':' || count(*) FROM notes",
            "COMMIT",
        ]);
        expect(bob).toBe("bob:2");
        // Writing into another tenant is refused by WITH CHECK.
        const forged = await t.psql(v.DATABASE_URL, [
            "BEGIN",
            `SET LOCAL ${TENANT} = 'alice'`,
            "INSERT INTO notes (owner, body) VALUES ('bob', 'forged')",
            "COMMIT",
        ]);
        expect(forged.code).not.toBe(0);
        expect(forged.stderr).toMatch(/row-level security/);
        // app_service (BYPASSRLS) still sees everything: the path for cross-tenant jobs.
        expect(await ok(v.DATABASE_SERVICE_URL, "SELECT count(*) FROM notes")).toBe("5");
    });

    it("by default, a client's session-level SET, temp table and advisory lock do not reach the next client", async () => {
        await taintEveryServerConnection();
        const seen = await observe();
        expect(seen.tenant.filter((x) => x !== "")).toEqual([]);
        expect(seen.rows.filter((x) => x !== "0")).toEqual([]); // FORCE'd table, no tenant, no planted temp table
        expect(seen.lockFree.filter((x) => x !== "true")).toEqual([]);
    });

    it("control: with resetSessionState off, the same clients inherit the state (the leak the default closes)", async () => {
        await setReset(false);
        try {
            expect(await ok(v.DATABASE_URL, "SELECT 1")).toBe("1");
            await taintEveryServerConnection();
            const seen = await observe();
            // At least one later client that set nothing runs as tenant alice, or reads the planted rows.
            expect(seen.tenant.filter((x) => x === "alice").length).toBeGreaterThan(0);
            expect(seen.rows.filter((x) => x !== "0").length).toBeGreaterThan(0);
        } finally {
            await setReset(true);
        }
        // Back to the default: a fresh taint leaks nothing again.
        await taintEveryServerConnection();
        const seen = await observe();
        expect(seen.tenant.filter((x) => x !== "")).toEqual([]);
        expect(seen.rows.filter((x) => x !== "0")).toEqual([]);
    });

    it("the session-mode alias (migrations) resets too", async () => {
        await ok(v.DATABASE_MIGRATE_URL, `SET ${TENANT} = 'alice'`);
        const later = await Promise.all(
            Array.from({ length: 5 }, () => ok(v.DATABASE_MIGRATE_URL, `SELECT coalesce(current_setting('${TENANT}', true), '')`)),
        );
        expect(later.filter((x) => x !== "")).toEqual([]);
    });

    it("app_user cannot make a tenant its role's default (which a reset would restore)", async () => {
        const r = await t.psql(v.DATABASE_URL, `ALTER ROLE app_user SET ${TENANT} = 'alice'`);
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/permission denied/);
        const db = await t.psql(v.DATABASE_URL, `ALTER DATABASE app SET ${TENANT} = 'alice'`);
        expect(db.code).not.toBe(0);
        expect(db.stderr).toMatch(/must be owner|permission denied/);
        expect(await ok(v.DATABASE_ROOT_URL, "SELECT count(*) FROM pg_db_role_setting")).toBe("0");
        // Control: a setting the role may change for itself is accepted (the check above is not a blanket refusal).
        expect((await t.psql(v.DATABASE_URL, "ALTER ROLE app_user SET statement_timeout = '5min'")).code).toBe(0);
        await ok(v.DATABASE_ROOT_URL, "ALTER ROLE app_user RESET ALL");
    });
});
