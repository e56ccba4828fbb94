/**
 * The least-privilege table of docs/SECURITY.md, row by row, on a real provisioned cluster:
 * what each role may do (the control) and what it may not (the attack, asserted to fail).
 * Connections go directly to Postgres where the attacker would (a DSN's credentials used
 * on the db-only network or loopback), and through pgBouncer where applications do.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { receiverSecret } from "../../local/wal-receiver";
import { buildDsn, parseDsn } from "../../render/dsn";
import { WAL_RECEIVER_ROLE } from "../../render/wal-receive";
import { psqlWith, startTier, type Tier, toolsMissing } from "../support/tier-harness";

describe.skipIf(toolsMissing().length > 0)("least privilege, as provisioned", () => {
    let t: Tier;
    let v: Record<string, string>;

    /** The same credentials straight to Postgres (not through pgBouncer), in any database. */
    const direct = (dsn: string, database?: string): string => {
        const d = dsn.replace(`:${t.ports.pgbouncer}/`, `:${t.ports.postgres}/`);
        return database ? d.replace(/\/[^/?]+(\?|$)/, `/${database}$1`) : d;
    };
    const ok = async (dsn: string, sql: string | string[]): Promise<string> => {
        const r = await t.psql(dsn, sql);
        expect(r.code, `${parseDsn(dsn).user}@${parseDsn(dsn).database}: ${r.stderr}`).toBe(0);
        return r.stdout.trim();
    };
    const refused = async (dsn: string, sql: string | string[], why: RegExp): Promise<void> => {
        const r = await t.psql(dsn, sql);
        expect(r.code, `${parseDsn(dsn).user}@${parseDsn(dsn).database} should be refused: ${[sql].flat().join("; ")}`).not.toBe(0);
        expect(r.stderr).toMatch(why);
    };

    beforeAll(async () => {
        // With backup.walStreaming, so that the WAL receiver's role exists and is judged too.
        process.env.DBTIER_LOCAL_WAL_STREAMING = "1";
        t = await startTier("privileges");
        v = await t.vars();
        await ok(v.DATABASE_MIGRATE_URL, [
            "CREATE TABLE owned_by_app (id int PRIMARY KEY, body text)",
            "INSERT INTO owned_by_app VALUES (1, 'x')",
        ]);
    });
    afterAll(async () => {
        await t?.down();
        delete process.env.DBTIER_LOCAL_WAL_STREAMING;
    });

    it("the tier's roles are exactly root, app_user, app_service and the WAL receiver's: each judged below", async () => {
        const roles = await ok(direct(v.DATABASE_ROOT_URL, "postgres"), "SELECT rolname FROM pg_roles WHERE rolname !~ '^pg_' ORDER BY 1");
        expect(roles.split("\n")).toEqual([parseDsn(v.DATABASE_ROOT_URL).user, "app_service", "app_user", WAL_RECEIVER_ROLE].sort());
    });

    describe("app_user (DATABASE_URL, DATABASE_MIGRATE_URL)", () => {
        it("may: connect to its database, create tables and schemas there, use temp tables", async () => {
            expect(await ok(v.DATABASE_URL, "SELECT current_user")).toBe("app_user");
            expect(await ok(direct(v.DATABASE_URL), "SELECT current_database()")).toBe("app");
            await ok(v.DATABASE_MIGRATE_URL, [
                "CREATE SCHEMA IF NOT EXISTS drizzle",
                "CREATE TABLE IF NOT EXISTS drizzle.m (id int)",
                "CREATE TEMP TABLE scratch (x int)",
            ]);
        });

        it("may not: connect to the maintenance or template databases, directly or through pgBouncer", async () => {
            for (const db of ["postgres", "template1"]) {
                await refused(direct(v.DATABASE_URL, db), "SELECT 1", /permission denied for database/);
                await refused(
                    v.DATABASE_URL.replace(/\/app(\?|$)/, `/${db}$1`),
                    "SELECT 1",
                    /no such database|not allowed|permission denied/,
                );
            }
            await refused(direct(v.DATABASE_URL, "template0"), "SELECT 1", /not currently accepting connections|permission denied/);
        });

        it("may not: become superuser or another role, create roles or databases, replicate", async () => {
            expect(
                await ok(
                    v.DATABASE_URL,
                    "SELECT rolsuper::text || rolcreaterole::text || rolcreatedb::text || rolreplication::text || rolbypassrls::text FROM pg_roles WHERE rolname = current_user",
                ),
            ).toBe("falsefalsefalsefalsefalse");
            await refused(v.DATABASE_URL, "SET ROLE app_service", /permission denied/);
            await refused(v.DATABASE_URL, "SET ROLE postgres", /permission denied/);
            await refused(v.DATABASE_URL, "CREATE ROLE intruder LOGIN PASSWORD 'x'", /permission denied/);
            await refused(v.DATABASE_URL, "CREATE DATABASE intruder", /permission denied/);
            await refused(v.DATABASE_URL, "ALTER ROLE app_user BYPASSRLS", /permission denied|must be superuser/);
            await refused(v.DATABASE_URL, "ALTER ROLE app_user SUPERUSER", /permission denied|must be superuser/);
            await refused(v.DATABASE_URL, "GRANT pg_read_server_files TO app_user", /permission denied|must have admin option/);
        });

        it("may not: read server files, the WAL-G env file, run programs, or read password hashes", async () => {
            await refused(v.DATABASE_URL, `SELECT pg_read_file('${t.l.walgEnv}')`, /permission denied/);
            await refused(v.DATABASE_URL, "SELECT pg_ls_dir('.')", /permission denied/);
            await refused(
                v.DATABASE_URL,
                "COPY owned_by_app TO PROGRAM 'id'",
                /permission denied|must be superuser|pg_execute_server_program/,
            );
            await refused(
                v.DATABASE_URL,
                `COPY owned_by_app FROM '${t.l.walgEnv}'`,
                /permission denied|must be superuser|pg_read_server_files/,
            );
            await refused(v.DATABASE_URL, `SELECT lo_import('${t.l.walgEnv}')`, /permission denied|must be superuser/);
            await refused(v.DATABASE_URL, "SELECT rolpassword FROM pg_authid", /permission denied/);
            await refused(v.DATABASE_URL, "SHOW data_directory", /permission denied|must be superuser|pg_read_all_settings/);
            // archive_command is readable by every role (PostgreSQL does not hide it): it names
            // walg.env and the wal-g binary, but holds no secret.
            const archive = await ok(v.DATABASE_URL, "SHOW archive_command");
            expect(archive).toContain("walg.env");
            const secrets = JSON.parse((await import("node:fs")).readFileSync(t.l.secrets, "utf8"));
            for (const s of [secrets.minio.password, secrets.libsodiumKeyHex]) expect(archive).not.toContain(s);
        });

        it("may not: create event triggers or untrusted-language functions (code that would run as someone else)", async () => {
            await refused(
                v.DATABASE_MIGRATE_URL,
                "CREATE FUNCTION evt() RETURNS event_trigger LANGUAGE plpgsql AS $$BEGIN END$$; CREATE EVENT TRIGGER e ON ddl_command_start EXECUTE FUNCTION evt()",
                /permission denied|must be superuser/,
            );
            await refused(v.DATABASE_MIGRATE_URL, "CREATE FUNCTION sh() RETURNS int LANGUAGE c AS '/bin/sh', 'main'", /permission denied/);
        });
    });

    describe("app_service (DATABASE_SERVICE_URL)", () => {
        it("may: read and write every application table (BYPASSRLS), including tables app_user creates later", async () => {
            expect(await ok(v.DATABASE_SERVICE_URL, "SELECT rolbypassrls::text FROM pg_roles WHERE rolname = current_user")).toBe("true");
            await ok(v.DATABASE_SERVICE_URL, [
                "INSERT INTO owned_by_app VALUES (2, 'y')",
                "UPDATE owned_by_app SET body = 'z' WHERE id = 2",
                "DELETE FROM owned_by_app WHERE id = 2",
            ]);
            await ok(v.DATABASE_MIGRATE_URL, "CREATE TABLE later_table (id int)");
            expect(await ok(v.DATABASE_SERVICE_URL, ["INSERT INTO later_table VALUES (1)", "SELECT count(*) FROM later_table"])).toBe("1");
        });

        it("may not: change the schema, create schemas, own anything, or connect to other databases", async () => {
            await refused(v.DATABASE_SERVICE_URL, "CREATE TABLE svc_table (id int)", /permission denied for schema public/);
            await refused(v.DATABASE_SERVICE_URL, "CREATE SCHEMA svc", /permission denied for database/);
            await refused(v.DATABASE_SERVICE_URL, "DROP TABLE owned_by_app", /must be owner/);
            await refused(v.DATABASE_SERVICE_URL, "ALTER TABLE owned_by_app DISABLE ROW LEVEL SECURITY", /must be owner/);
            await refused(v.DATABASE_SERVICE_URL, "TRUNCATE owned_by_app", /permission denied/);
            for (const db of ["postgres", "template1"])
                await refused(direct(v.DATABASE_SERVICE_URL, db), "SELECT 1", /permission denied for database/);
            await refused(v.DATABASE_SERVICE_URL, "SET ROLE app_user", /permission denied/);
        });
    });

    describe("PUBLIC and databases created later", () => {
        it("no database grants PUBLIC anything, and no public schema outside the application databases is usable", async () => {
            const open = await ok(
                v.DATABASE_ROOT_URL,
                "SELECT string_agg(datname, ',' ORDER BY datname) FROM pg_database WHERE datallowconn AND (datacl IS NULL OR EXISTS (SELECT FROM aclexplode(datacl) a WHERE a.grantee = 0))",
            );
            expect(open).toBe("");
            for (const db of ["postgres", "template1", "app"]) {
                const acl = await ok(
                    direct(v.DATABASE_ROOT_URL, db),
                    "SELECT count(*) FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'public' AND a.grantee = 0",
                );
                expect(acl, `public schema of ${db} grants PUBLIC`).toBe("0");
            }
        });

        it("a database created later starts with a closed public schema (copied from template1), and provisioning closes its CONNECT", async () => {
            await ok(direct(v.DATABASE_ROOT_URL, "postgres"), "CREATE DATABASE later_db");
            // The schema ACL comes from template1 at once.
            expect(
                await ok(
                    direct(v.DATABASE_ROOT_URL, "later_db"),
                    "SELECT count(*) FROM pg_namespace n, aclexplode(n.nspacl) a WHERE n.nspname = 'public' AND a.grantee = 0",
                ),
            ).toBe("0");
            // CONNECT is PostgreSQL's default for a new database until the next convergence closes it.
            const r = await t.cli(["up"]);
            expect(r.code, r.stderr).toBe(0);
            await refused(direct(v.DATABASE_URL, "later_db"), "SELECT 1", /permission denied for database/);
            await refused(direct(v.DATABASE_SERVICE_URL, "later_db"), "SELECT 1", /permission denied for database/);
            await ok(direct(v.DATABASE_ROOT_URL, "postgres"), "DROP DATABASE later_db");
        });
    });

    describe("the WAL receiver's role (backup.walStreaming)", () => {
        const as = (database: string) =>
            buildDsn({
                user: WAL_RECEIVER_ROLE,
                password: receiverSecret(t.l).password,
                host: "127.0.0.1",
                port: t.ports.postgres,
                database,
                sslmode: "disable",
            });
        it("may: stream (IDENTIFY_SYSTEM over replication) and read settings in database postgres", async () => {
            const r = await psqlWith(as("postgres"), "IDENTIFY_SYSTEM", { extra: ["-d", "dbname=postgres replication=true"] });
            expect(r.code, r.stderr).toBe(0);
            expect(await ok(as("postgres"), "SHOW wal_segment_size")).toBe("16MB");
        });
        it("may not: connect to an application database or template1, read anything there, or log in through pgBouncer", async () => {
            for (const db of ["app", "template1"]) await refused(as(db), "SELECT 1", /permission denied for database|not permitted/);
            await refused(
                as("app").replace(`:${t.ports.postgres}/`, `:${t.ports.pgbouncer}/`),
                "SELECT 1",
                /SASL authentication failed|password authentication failed|no such user/,
            );
        });
        it("may not: run programs, read server files or password hashes, create objects, or become another role", async () => {
            await refused(as("postgres"), "COPY (SELECT 1) TO PROGRAM 'id'", /permission denied|must be superuser/);
            await refused(as("postgres"), "SELECT pg_read_file('PG_VERSION')", /permission denied/);
            await refused(as("postgres"), "SELECT rolpassword FROM pg_authid", /permission denied/);
            await refused(as("postgres"), "CREATE TABLE public.planted (id int)", /permission denied for schema public/);
            await refused(as("postgres"), `SET ROLE ${parseDsn(v.DATABASE_ROOT_URL).user}`, /permission denied/);
            await refused(as("postgres"), "CREATE ROLE planted LOGIN", /permission denied/);
        });
    });

    describe("root (DATABASE_ROOT_URL)", () => {
        it("may: everything, in every database, directly on Postgres; may not: log in through pgBouncer", async () => {
            for (const db of ["postgres", "template1", "app"])
                expect(await ok(direct(v.DATABASE_ROOT_URL, db), "SELECT rolsuper::text FROM pg_roles WHERE rolname = current_user")).toBe(
                    "true",
                );
            await refused(
                v.DATABASE_ROOT_URL.replace(`:${t.ports.postgres}/`, `:${t.ports.pgbouncer}/`),
                "SELECT 1",
                /SASL authentication failed|password authentication failed/,
            );
        });
    });
});
