/**
 * Roles and the pooler: provisioning converges (a second run changes no catalog row);
 * RLS holds for app_user and not for app_service, also through transaction pooling with
 * SET LOCAL; root never gets in through pgBouncer; the admin console is closed to every
 * role; pgBouncer asks only for SCRAM (SASL) and refuses a cleartext password; 200 clients
 * share 20 server connections; rotation makes old passwords fail and new ones work.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../jobs/proc";
import { parseDsn } from "../../render/dsn";
import { AUTH, errorText, probeAuth } from "../support/pgwire";
import { PG_BIN, sleep, startTier, type Tier, toolsMissing } from "../support/tier-harness";

const SNAPSHOT = `SELECT string_agg(x, E'\\n' ORDER BY x) FROM (
  SELECT 'role ' || row_to_json(r)::text AS x FROM (SELECT rolname, rolsuper, rolinherit, rolcreaterole, rolcreatedb, rolcanlogin,
    rolreplication, rolbypassrls, rolconnlimit, rolpassword, rolvaliduntil FROM pg_authid) r
  UNION ALL SELECT 'database ' || row_to_json(d)::text FROM (SELECT datname, pg_get_userbyid(datdba) AS owner, datacl::text AS acl FROM pg_database) d
  UNION ALL SELECT 'schema ' || row_to_json(n)::text FROM (SELECT nspname, pg_get_userbyid(nspowner) AS owner, nspacl::text AS acl FROM pg_namespace) n
  UNION ALL SELECT 'default-acl ' || row_to_json(a)::text FROM (SELECT pg_get_userbyid(defaclrole) AS role, defaclnamespace::regnamespace::text AS ns, defaclobjtype, defaclacl::text AS acl FROM pg_default_acl) a
  UNION ALL SELECT 'function ' || row_to_json(f)::text FROM (SELECT oid::regprocedure::text AS fn, proacl::text AS acl, md5(prosrc) AS src FROM pg_proc WHERE pronamespace = 'public'::regnamespace) f
) s`;

describe.skipIf(toolsMissing().length > 0)("roles, RLS and pgBouncer", () => {
    let t: Tier;
    let v: Record<string, string>;

    const direct = (dsn: string): string => dsn.replace(`:${t.ports.pgbouncer}/`, `:${t.ports.postgres}/`);
    const ok = async (dsn: string, sql: string | string[], database?: string): Promise<string> => {
        const r = await t.psql(dsn, sql, { database });
        expect(r.code, r.stderr).toBe(0);
        return r.stdout.trim();
    };
    const snapshot = async (): Promise<string> =>
        `${await ok(v.DATABASE_ROOT_URL, SNAPSHOT, "postgres")}\n--app--\n${await ok(v.DATABASE_ROOT_URL, SNAPSHOT, "app")}`;

    beforeAll(async () => {
        t = await startTier("roles");
        v = await t.vars();
    });
    afterAll(async () => {
        await t?.down();
    });

    it("converges: provisioning again reports every role unchanged and changes no catalog row", async () => {
        const before = await snapshot();
        expect(before).toContain('"rolname":"app_user"');
        const r = await t.cli(["up"]);
        expect(r.code, r.stderr).toBe(0);
        const lines = r.stdout
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l));
        expect(lines.map((l) => [l.event, l.role, l.action])).toEqual([
            ["db-tier.role-converged", "postgres", "unchanged"],
            ["db-tier.role-converged", "app_user", "unchanged"],
            ["db-tier.role-converged", "app_service", "unchanged"],
        ]);
        expect(await snapshot()).toBe(before);
    });

    it("enforces RLS for app_user and lets app_service bypass it", async () => {
        const migrate = v.DATABASE_URL.replace(/\/app\?/, "/app_migrate?");
        await ok(migrate, [
            "CREATE TABLE notes (id serial PRIMARY KEY, owner text NOT NULL, body text)",
            "ALTER TABLE notes ENABLE ROW LEVEL SECURITY",
            "ALTER TABLE notes FORCE ROW LEVEL SECURITY",
            "CREATE POLICY tenant_isolation ON notes USING (owner = current_setting('app.current_user_id', true)) WITH CHECK (owner = current_setting('app.current_user_id', true))",
        ]);
        await ok(
            v.DATABASE_SERVICE_URL,
            "INSERT INTO notes (owner, body) VALUES ('alice', 'a1'), ('alice', 'a2'), ('alice', 'a3'), ('bob', 'b1'), ('bob', 'b2')",
        );
        expect(await ok(v.DATABASE_SERVICE_URL, "SELECT count(*) FROM notes")).toBe("5");
        expect(await ok(v.DATABASE_URL, "SELECT count(*) FROM notes")).toBe("0"); // no tenant: fail closed
        expect(await ok(v.DATABASE_URL, "SELECT rolbypassrls FROM pg_roles WHERE rolname = current_user")).toBe("f");
        // In one transaction: pgBouncer resets the server connection after each one, so a
        // SET in a transaction of its own would be gone before the SELECT.
        const off = await t.psql(v.DATABASE_URL, ["BEGIN", "SET LOCAL row_security = off", "SELECT count(*) FROM notes", "COMMIT"]);
        expect(off.code).not.toBe(0);
        expect(off.stderr).toMatch(/row-level security/);
        const forged = await t.psql(v.DATABASE_URL, [
            "BEGIN",
            "SET LOCAL app.current_user_id = 'alice'",
            "INSERT INTO notes (owner, body) VALUES ('bob', 'forged')",
            "COMMIT",
        ]);
        expect(forged.code).not.toBe(0);
        expect(forged.stderr).toMatch(/row-level security/);
    });

    it("isolates tenants with SET LOCAL through transaction pooling, under concurrency", async () => {
        const tenants = Array.from({ length: 40 }, (_, i) => (i % 2 === 0 ? "alice" : "bob"));
        const results = await Promise.all(
            tenants.map((who) =>
                t.psql(v.DATABASE_URL, [
                    "BEGIN",
                    `SET LOCAL app.current_user_id = '${who}'`,
                    "SELECT string_agg(DISTINCT owner, ',') || ':' || count(*) FROM notes",
                    "COMMIT",
                    "SELECT 'after:' || count(*) FROM notes",
                ]),
            ),
        );
        results.forEach((r, i) => {
            expect(r.code, r.stderr).toBe(0);
            expect(r.stdout.trim().split("\n")).toEqual([tenants[i] === "alice" ? "alice:3" : "bob:2", "after:0"]);
        });
    });

    it("never lets root in through pgBouncer (it is not in the auth file)", async () => {
        const viaPooler = v.DATABASE_ROOT_URL.replace(`:${t.ports.postgres}/`, `:${t.ports.pgbouncer}/`);
        const r = await t.psql(viaPooler, "SELECT 1");
        expect(r.code).not.toBe(0);
        expect(r.stderr).toMatch(/SASL authentication failed|password authentication failed/);
        expect(await ok(v.DATABASE_ROOT_URL, "SELECT rolsuper FROM pg_roles WHERE rolname = current_user")).toBe("t");
    });

    it("closes the admin console (database pgbouncer) to every role", async () => {
        const viaPooler = v.DATABASE_ROOT_URL.replace(`:${t.ports.postgres}/`, `:${t.ports.pgbouncer}/`);
        for (const dsn of [v.DATABASE_URL, v.DATABASE_SERVICE_URL, viaPooler]) {
            const r = await t.psql(dsn, "SHOW POOLS", { database: "pgbouncer" });
            expect(r.code, `${parseDsn(dsn).user}: ${r.stdout}`).not.toBe(0);
            expect(r.stderr).toMatch(/not allowed|SASL authentication failed/);
        }
    });

    it("asks every client for SCRAM (SASL) only, never cleartext or md5, and refuses a cleartext password", async () => {
        const app = parseDsn(v.DATABASE_URL);
        const cases: [number, string, string][] = [
            [t.ports.pgbouncer, "app_user", "app"],
            [t.ports.pgbouncer, "app_service", "app"],
            [t.ports.pgbouncer, "postgres", "app"],
            [t.ports.pgbouncer, "nobody", "app"],
            [t.ports.pgbouncer, "app_user", "pgbouncer"],
            [t.ports.postgres, "app_user", "app"],
        ];
        for (const [port, user, db] of cases) {
            const p = await probeAuth(port, user, db, app.password);
            const label = `${user}@${db} on ${port === t.ports.pgbouncer ? "pgBouncer" : "Postgres"}`;
            if (db === "pgbouncer") {
                // The admin console is refused before any authentication.
                expect(p.first?.type, label).toBe("E");
                expect(errorText(p.first)).toMatch(/not allowed/);
                continue;
            }
            expect(p.first?.type, `${label}: ${errorText(p.first)}`).toBe("R");
            expect(p.authCode, label).toBe(AUTH.sasl);
            expect(p.authCode).not.toBe(AUTH.cleartext);
            expect(p.authCode).not.toBe(AUTH.md5);
            expect(p.mechanisms, label).toEqual(["SCRAM-SHA-256"]);
            // A password sent in the clear instead of a SASL exchange is an error, never AuthenticationOk.
            const reply = p.afterCleartext;
            expect(reply === undefined || reply.type === "E", `${label}: ${reply?.type}`).toBe(true);
        }
    });

    it("serves 200 concurrent clients on a pool of 20 server connections", async () => {
        const app = parseDsn(v.DATABASE_URL);
        const script = join(t.dir, "pgbench.sql");
        writeFileSync(script, "SELECT pg_sleep(0.05);\n");
        let maxServer = 0;
        let sampling = true;
        const sampler = (async () => {
            while (sampling) {
                const n = Number(
                    await ok(
                        v.DATABASE_ROOT_URL,
                        "SELECT count(*) FROM pg_stat_activity WHERE datname = 'app' AND usename = 'app_user' AND query LIKE 'SELECT pg_sleep%'",
                    ),
                );
                maxServer = Math.max(maxServer, n);
                await sleep(100);
            }
        })();
        const r = await run(
            join(PG_BIN, "pgbench"),
            [
                "-n",
                "-c",
                "200",
                "-j",
                "4",
                "-t",
                "3",
                "-f",
                script,
                "-h",
                "127.0.0.1",
                "-p",
                String(t.ports.pgbouncer),
                "-U",
                "app_user",
                "app",
            ],
            {
                env: { PATH: process.env.PATH, PGPASSWORD: app.password, PGSSLMODE: "disable" },
                timeoutMs: 120_000,
            },
        );
        sampling = false;
        await sampler;
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toMatch(/number of clients: 200/);
        expect(r.stdout).toMatch(/number of transactions actually processed: 600\/600/);
        expect(r.stdout).toMatch(/number of failed transactions: 0 /);
        expect(maxServer).toBeGreaterThan(1);
        expect(maxServer).toBeLessThanOrEqual(20);
    });

    it("rotates: old passwords fail and new ones work, directly and through pgBouncer", async () => {
        const old = v;
        const r = await t.cli(["rotate"]);
        expect(r.code, r.stderr).toBe(0);
        // Root first, on its own; then the whole provisioning with the new root password.
        expect(
            r.stdout
                .trim()
                .split("\n")
                .map((l) => `${JSON.parse(l).role}:${JSON.parse(l).action}`),
        ).toEqual(["postgres:updated", "postgres:unchanged", "app_user:updated", "app_service:updated"]);
        const next = await t.vars();
        for (const name of ["DATABASE_URL", "DATABASE_SERVICE_URL", "DATABASE_ROOT_URL"]) {
            expect(parseDsn(next[name]).password).not.toBe(parseDsn(old[name]).password);
            expect(parseDsn(next[name]).password.length).toBeGreaterThanOrEqual(32);
        }
        for (const dsn of [
            old.DATABASE_URL,
            old.DATABASE_SERVICE_URL,
            direct(old.DATABASE_URL),
            direct(old.DATABASE_SERVICE_URL),
            old.DATABASE_ROOT_URL,
        ]) {
            const bad = await t.psql(dsn, "SELECT 1");
            expect(bad.code, dsn.replace(/:[^:@]+@/, ":***@")).not.toBe(0);
            expect(bad.stderr).toMatch(/authentication failed/);
        }
        for (const dsn of [
            next.DATABASE_URL,
            next.DATABASE_SERVICE_URL,
            direct(next.DATABASE_URL),
            direct(next.DATABASE_SERVICE_URL),
            next.DATABASE_ROOT_URL,
        ]) {
            expect(await ok(dsn, "SELECT current_user")).toBe(parseDsn(dsn).user);
        }
        // Backups still authenticate with the rotated root password (the job's pgpass).
        const b = await t.cli(["backup"]);
        expect(b.code, b.stderr).toBe(0);
        v = next;
    });
});
