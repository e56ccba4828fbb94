/**
 * Issue 9, hole 1: an application role plants code in the database and waits for the restore
 * drill to run it with the rights of the cluster's root on the restored copy. Every plant
 * calls one payload that, run with enough rights, would read the WAL-G env file (storage
 * secret, libsodium key), write a marker file, run a program, make app_user superuser, and
 * return forged evidence. Each attack is asserted to fail on the real binaries: no marker,
 * nothing forged, app_user still no superuser on the kept copy, every check run by the drill
 * role; next to controls that show the payload does work as root (so the markers can appear)
 * and that a legitimate migrations table gives the schema version.
 */
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { freePort, lastLine, psqlWith, startTier, type Tier, toolsMissing } from "../support/tier-harness";

interface Check {
    name: string;
    status: string;
    role: string;
    detail: string;
}

describe.skipIf(toolsMissing().length > 0)("restore drill against planted application code", () => {
    let t: Tier;
    let v: Record<string, string>;
    let markers: string;
    let keptPort: number;
    let evidence: Record<string, unknown>;
    let log: string;

    const sql = async (dsn: string, q: string | string[]): Promise<string> => {
        const r = await t.psql(dsn, q);
        expect(r.code, r.stderr).toBe(0);
        return r.stdout.trim();
    };
    const checksOf = (e: Record<string, unknown>): Record<string, Check> =>
        Object.fromEntries((e.checks as Check[]).map((c) => [c.name, c]));
    const markerFiles = (): string[] => readdirSync(markers).sort();

    /** The payload: each attempt in its own block, so one refusal does not stop the others. */
    const payload = (walgEnv: string, dir: string): string => `
CREATE FUNCTION public.payload(tag text) RETURNS text LANGUAGE plpgsql AS $fn$
DECLARE got text := 'nothing';
BEGIN
  RAISE WARNING 'payload % ran as %', tag, current_user;
  BEGIN got := pg_read_file('${walgEnv}'); EXCEPTION WHEN OTHERS THEN got := 'read refused: ' || SQLERRM; END;
  BEGIN EXECUTE format('COPY (SELECT %L) TO %L', got, '${dir}/copy-' || tag); EXCEPTION WHEN OTHERS THEN NULL; END;
  BEGIN EXECUTE format('COPY (SELECT 1) TO PROGRAM %L', 'touch ${dir}/program-' || tag); EXCEPTION WHEN OTHERS THEN NULL; END;
  BEGIN ALTER ROLE app_user SUPERUSER; EXCEPTION WHEN OTHERS THEN NULL; END;
  RETURN 'FORGED by ' || current_user || ': ' || left(got, 60);
END $fn$`;

    beforeAll(async () => {
        t = await startTier("drill-attacks");
        v = await t.vars();
        markers = mkdtempSync(join(tmpdir(), "dbtier-drill-markers-"));
        chmodSync(markers, 0o777); // the postgres OS user writes here if any attack gets root's rights
        const app = v.DATABASE_MIGRATE_URL;
        await sql(app, [
            payload(t.l.walgEnv, markers),
            // Attack 1: the migrations "table" is a view whose SELECT runs the payload.
            "CREATE SCHEMA drizzle",
            "CREATE VIEW drizzle.__drizzle_migrations AS SELECT 999 AS id, public.payload('view') AS hash, 0::bigint AS created_at",
            // Attack 2: an expression index whose IMMUTABLE function planning would constant-fold.
            "CREATE FUNCTION public.idx_fn() RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN PERFORM public.payload('index'); RETURN 0; END $$",
            "CREATE FUNCTION public.idx_fn2(x int) RETURNS int LANGUAGE plpgsql IMMUTABLE AS $$ BEGIN PERFORM public.payload('index-per-row'); RETURN x; END $$",
            "CREATE TABLE public.evil_idx (a int)",
            "INSERT INTO public.evil_idx SELECT generate_series(1, 3)",
            "CREATE INDEX evil_idx_expr ON public.evil_idx ((a + public.idx_fn()))",
            "CREATE INDEX evil_idx_expr2 ON public.evil_idx (public.idx_fn2(a))",
            // Attack 3: triggers on every write (the drill never writes).
            "CREATE FUNCTION public.trg_fn() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM public.payload('trigger'); RETURN NULL; END $$",
            "CREATE TABLE public.trapped (id int)",
            "INSERT INTO public.trapped VALUES (1), (2)",
            "CREATE TRIGGER trapped_any AFTER INSERT OR UPDATE OR DELETE ON public.trapped FOR EACH STATEMENT EXECUTE FUNCTION public.trg_fn()",
            "CREATE TRIGGER trapped_trunc AFTER TRUNCATE ON public.trapped FOR EACH STATEMENT EXECUTE FUNCTION public.trg_fn()",
            // Attack 4: search_path shadows of what a naive drill would call unqualified.
            "CREATE FUNCTION public.pg_is_in_recovery() RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.payload('shadow-recovery'); RETURN false; END $$",
            "CREATE FUNCTION public.pg_last_xact_replay_timestamp() RETURNS timestamptz LANGUAGE plpgsql AS $$ BEGIN PERFORM public.payload('shadow-replay'); RETURN '1999-01-01'; END $$",
            "CREATE FUNCTION public.to_regclass(text) RETURNS regclass LANGUAGE plpgsql AS $$ BEGIN PERFORM public.payload('shadow-regclass'); RETURN 'pg_class'::regclass; END $$",
            "CREATE FUNCTION public.count(anyelement) RETURNS bigint LANGUAGE plpgsql AS $$ BEGIN PERFORM public.payload('shadow-count'); RETURN 42; END $$",
            "CREATE FUNCTION public.row_to_json(record) RETURNS json LANGUAGE plpgsql AS $$ BEGIN PERFORM public.payload('shadow-json'); RETURN '{\"id\": 1}'; END $$",
            "CREATE FUNCTION public.evil_eq(int, int) RETURNS boolean LANGUAGE plpgsql AS $$ BEGIN PERFORM public.payload('shadow-operator'); RETURN true; END $$",
            "CREATE OPERATOR public.= (LEFTARG = int, RIGHTARG = int, FUNCTION = public.evil_eq)",
            "ALTER ROLE app_user SET search_path = public, pg_catalog",
            // Attack 5: RLS enabled but not forced: a finding, not a failure.
            "CREATE TABLE public.tenant_rows (tenant text, body text)",
            "INSERT INTO public.tenant_rows VALUES ('a', 'x'), ('b', 'y')",
            "ALTER TABLE public.tenant_rows ENABLE ROW LEVEL SECURITY",
            "CREATE POLICY only_a ON public.tenant_rows USING (tenant = 'a' AND public.payload('policy') IS NOT NULL)",
        ]);
        // Attack 6: only a superuser can create an event trigger...
        const et = await t.psql(app, "CREATE EVENT TRIGGER by_app ON ddl_command_start EXECUTE FUNCTION public.trg_fn()");
        expect(et.code).not.toBe(0);
        expect(et.stderr).toMatch(/must be superuser|permission denied/);
        // ...but root may have wired one (an audit hook, say) to a function app_user owns and can replace.
        await sql(
            app,
            "CREATE FUNCTION public.audit_ddl() RETURNS event_trigger LANGUAGE plpgsql AS $$ BEGIN PERFORM public.payload('event'); END $$",
        );
        await sql(v.DATABASE_ROOT_URL, [
            "CREATE EVENT TRIGGER audit_start ON ddl_command_start EXECUTE FUNCTION public.audit_ddl()",
            "CREATE EVENT TRIGGER audit_end ON ddl_command_end EXECUTE FUNCTION public.audit_ddl()",
        ]);
    });
    afterAll(async () => {
        await t?.down();
        if (markers) rmSync(markers, { recursive: true, force: true });
    });

    it("control: the payload does its damage when root runs it (so a marker would show an attack that worked)", async () => {
        // A root DDL fires the event trigger, which runs the payload as root; rolled back, except the files.
        await sql(v.DATABASE_ROOT_URL, ["BEGIN", "CREATE TABLE public.et_probe (x int)", "ROLLBACK"]);
        expect(markerFiles()).toEqual(["copy-event", "program-event"]);
        expect(readFileSync(join(markers, "copy-event"), "utf8")).toContain("WALG_");
        for (const f of markerFiles()) rmSync(join(markers, f));
        expect(await sql(v.DATABASE_ROOT_URL, "SELECT rolsuper FROM pg_roles WHERE rolname = 'app_user'")).toBe("f");
    });

    it("the drill runs none of it with root's rights: no marker, nothing forged, app_user no superuser on the copy", async () => {
        const b = await t.cli(["backup"]);
        expect(b.code, b.stderr).toBe(0);
        keptPort = await freePort();
        const r = await t.cli(["drill", "--keep-port", String(keptPort)], 600_000);
        const path = lastLine(r.stdout);
        expect(existsSync(path), r.stderr).toBe(true);
        evidence = JSON.parse(readFileSync(path, "utf8"));
        log = readFileSync(join(path, "..", "restore.log"), "utf8");

        expect(markerFiles()).toEqual([]);
        expect(log).not.toMatch(/payload \S+ ran as postgres/);
        expect(log).not.toMatch(/payload \S+ ran as dbtier_drill/);
        // amcheck's heapallindexed evaluates index expressions, as the table's owner in a sandbox.
        expect(log).toMatch(/payload index-per-row ran as app_user/);
        expect(JSON.stringify(evidence)).not.toContain("FORGED");

        const c = checksOf(evidence);
        expect(evidence.drill_role).toBe("dbtier_drill");
        for (const name of ["row-counts", "schema", "amcheck"]) expect(c[name].role, name).toBe("dbtier_drill");
        expect(c["drill-role-setup"].role).toBe("postgres");
        // The view is refused, from pg_catalog, without being read: the drill fails loudly.
        expect(c.schema.status).toBe("failed");
        expect(c.schema.detail).toMatch(/drizzle.__drizzle_migrations is a view owned by app_user, not a plain table: not read/);
        expect(evidence.schema_version).toBeNull();
        expect(evidence.status).toBe("failed");
        // Counts are the real ones: the shadow count() and the policy changed nothing.
        expect(evidence.row_counts).toMatchObject({ "public.evil_idx": 3, "public.trapped": 2, "public.tenant_rows": 2 });
        expect(c["row-counts"]).toMatchObject({ status: "passed" });
        expect(c["row-counts"].detail).toMatch(/1 by COPY, without planning/);
        expect(c.amcheck.status).toBe("passed");
        expect(Date.parse(String(evidence.recovered_to))).toBeGreaterThan(Date.parse("2020-01-01"));
        const findings = evidence.findings as { kind: string; database: string; object: string }[];
        expect(findings).toContainEqual(expect.objectContaining({ kind: "rls-not-forced", database: "app", object: "public.tenant_rows" }));
        expect(
            findings
                .filter((f) => f.kind === "event-trigger-disabled")
                .map((f) => f.object)
                .sort(),
        ).toEqual(["audit_end", "audit_start"]);

        // On the kept copy: app_user is no superuser, and the drill role is what the evidence says.
        const kept = v.DATABASE_ROOT_URL.replace(`:${t.ports.postgres}/`, `:${keptPort}/`);
        expect((await psqlWith(kept, "SELECT rolsuper FROM pg_roles WHERE rolname = 'app_user'")).stdout.trim()).toBe("f");
        const role = await psqlWith(
            kept,
            "SELECT rolsuper, rolcreaterole, rolbypassrls, (SELECT count(*) FROM pg_class WHERE relowner = r.oid) FROM pg_roles r WHERE rolname = 'dbtier_drill'",
        );
        expect(role.stdout.trim()).toBe("f|f|t|0");
        const member = await psqlWith(
            kept,
            "SELECT count(*) FROM pg_auth_members m JOIN pg_roles r ON r.oid = m.member WHERE r.rolname = 'dbtier_drill'",
        );
        expect(member.stdout.trim()).toBe("0");
        // The drill role cannot log in over TCP (no password), and the primary never had it.
        const primary = await sql(v.DATABASE_ROOT_URL, "SELECT count(*) FROM pg_roles WHERE rolname = 'dbtier_drill'");
        expect(primary).toBe("0");
    });

    it("code that does run as the drill role (a configured schemaQuery) gets nothing: no file, no program, no secret, no superuser", async () => {
        writeFileSync(t.l.drillChecks, JSON.stringify({ schemaQuery: "SELECT public.payload('configured') AS v" }));
        const r = await t.cli(["drill"], 600_000);
        const path = lastLine(r.stdout);
        const e = JSON.parse(readFileSync(path, "utf8"));
        const text = readFileSync(join(path, "..", "restore.log"), "utf8");
        expect(markerFiles()).toEqual([]);
        expect(text).toMatch(/payload configured ran as dbtier_drill/);
        // It ran, read-only, and the one thing it could do was return a value: the read was refused.
        expect(String(e.schema_version)).toMatch(/^FORGED by dbtier_drill: read refused: permission denied for function pg_read_file/);
        const secrets = JSON.parse(readFileSync(t.l.secrets, "utf8"));
        expect(JSON.stringify(e)).not.toContain(secrets.minio.password);
        expect(text).not.toContain(secrets.libsodiumKeyHex);
        expect(checksOf(e).schema).toMatchObject({ status: "passed", role: "dbtier_drill" });
        rmSync(t.l.drillChecks);
    });

    it("control: a legitimate migrations table gives the schema version, and the drill passes with the other plants still there", async () => {
        await sql(v.DATABASE_MIGRATE_URL, [
            "DROP VIEW drizzle.__drizzle_migrations",
            "CREATE TABLE drizzle.__drizzle_migrations (id serial PRIMARY KEY, hash text NOT NULL, created_at bigint)",
            "INSERT INTO drizzle.__drizzle_migrations (hash, created_at) VALUES ('aaa', 1), ('bbb', 2)",
        ]);
        const b = await t.cli(["backup"]);
        expect(b.code, b.stderr).toBe(0);
        const r = await t.cli(["drill"], 600_000);
        const e = JSON.parse(readFileSync(lastLine(r.stdout), "utf8"));
        expect(r.code, JSON.stringify(e.checks)).toBe(0);
        expect(e.status).toBe("passed");
        expect(e.schema_version).toEqual({ id: 2, hash: "bbb", created_at: 2 });
        expect(checksOf(e).schema.detail).toMatch(/plain table owned by app_user/);
        expect(markerFiles()).toEqual([]);
    });
});
