/**
 * Provisioning runs as root whatever a database says (issue 20): a database-level `SET role`
 * (ALTER DATABASE app SET role = app_user, as whoever may alter that database could leave it)
 * turns every root session in that database into app_user's. The provisioning psql sends
 * PROVISION_SESSION_OPTIONS (role=none, search_path=pg_catalog) in its startup packet, which
 * outranks database settings: `rotate` (a whole provisioning run) still converges, and its
 * sessions are root's. The control shows the setting is live for a root session without them.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseDsn } from "../../render/dsn";
import { PROVISION_SESSION_OPTIONS } from "../../render/provision-sql";
import { psqlWith, startTier, type Tier, toolsMissing } from "../support/tier-harness";

describe.skipIf(toolsMissing().length > 0)("provisioning's sessions against database-level settings", () => {
    let t: Tier;
    let v: Record<string, string>;
    /** Root, straight to Postgres, in database app. */
    const rootInApp = () => v.DATABASE_ROOT_URL.replace(/\/[^/?]+(\?|$)/, "/app$1");

    beforeAll(async () => {
        t = await startTier("provisioning-session");
        v = await t.vars();
        const r = await t.psql(rootInApp(), ["ALTER DATABASE app SET role = 'app_user'", "ALTER DATABASE app SET search_path = 'public'"]);
        expect(r.code, r.stderr).toBe(0);
    });
    afterAll(async () => {
        await t?.down();
    });

    it("the database's role setting is live: a root session without the options is app_user's (control)", async () => {
        const r = await t.psql(rootInApp(), "SELECT current_user || ' ' || current_setting('search_path')");
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe("app_user public");
    });

    it("with the provisioning options the same session is root's, resolving names in pg_catalog", async () => {
        const r = await psqlWith(rootInApp(), "SELECT current_user || ' ' || current_setting('search_path')", {
            env: { PGOPTIONS: PROVISION_SESSION_OPTIONS },
        });
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout.trim()).toBe(`${parseDsn(v.DATABASE_ROOT_URL).user} pg_catalog`);
    });

    it("rotate (a whole provisioning run, every database) converges: new passwords work, old ones fail, a drifted grant is back", async () => {
        const old = v;
        // Drift for provisioning to repair in database app; as app_user it could not (its GRANT only warns).
        const drift = await psqlWith(rootInApp(), "REVOKE USAGE ON SCHEMA public FROM app_service", {
            env: { PGOPTIONS: PROVISION_SESSION_OPTIONS },
        });
        expect(drift.code, drift.stderr).toBe(0);
        const r = await t.cli(["rotate"]);
        expect(r.code, r.stderr).toBe(0);
        const next = await t.vars();
        const works = await t.psql(next.DATABASE_URL, "SELECT current_user");
        expect(works.code, works.stderr).toBe(0);
        expect(works.stdout.trim()).toBe("app_user");
        expect((await t.psql(old.DATABASE_URL, "SELECT 1")).code).not.toBe(0);
        // The app database's grants were applied by root: app_service has its schema again.
        const svc = await t.psql(next.DATABASE_SERVICE_URL, "SELECT has_schema_privilege('app_service', 'public', 'USAGE')");
        expect(svc.code, svc.stderr).toBe(0);
        expect(svc.stdout.trim()).toBe("t");
        v = next;
    });
});
