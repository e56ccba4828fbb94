/**
 * Names PostgreSQL or pgBouncer reserve or cannot hold. The 55-byte limit of a database name
 * is checked against the real pgBouncer 1.18: the ini the tier renders for a 55-byte name
 * loads, the one for 56 bytes (alias of 64) does not.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { databaseNameProblem, MAX_DATABASE_NAME_BYTES, roleNameProblem } from "../../config/rules/postgres-names";
import { renderPgbouncerIni } from "../../render/pgbouncer";
import { catalogueTests } from "../catalogue/assert";

const PGBOUNCER = "/usr/sbin/pgbouncer";

/** Starts pgBouncer on the tier's rendered ini for `db`; "loaded" when it ran until killed. */
function pgbouncerLoads(db: string): { loaded: boolean; log: string } {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "pgb-names-"));
    fs.chmodSync(dir, 0o777);
    const ini = renderPgbouncerIni({
        listenAddr: "127.0.0.1",
        listenPort: 20000 + Math.floor(Math.random() * 20000),
        postgresHost: "127.0.0.1",
        postgresPort: 1,
        databases: [db],
        authFile: path.join(dir, "users.txt"),
        defaultPoolSize: 1,
        maxClientConn: 10,
        maxDbConnections: 1,
        logFile: path.join(dir, "pgbouncer.log"),
        pidFile: path.join(dir, "pgbouncer.pid"),
    });
    fs.writeFileSync(path.join(dir, "pgbouncer.ini"), ini, { mode: 0o644 });
    fs.writeFileSync(path.join(dir, "users.txt"), "", { mode: 0o644 });
    // pgBouncer refuses to run as root; -u drops to nobody. timeout kills a pgBouncer that loaded.
    const asRoot = process.getuid?.() === 0;
    const r = spawnSync("timeout", ["2", PGBOUNCER, ...(asRoot ? ["-u", "nobody"] : []), path.join(dir, "pgbouncer.ini")], {
        encoding: "utf8",
    });
    const log = fs.existsSync(path.join(dir, "pgbouncer.log")) ? fs.readFileSync(path.join(dir, "pgbouncer.log"), "utf8") : r.stderr;
    fs.rmSync(dir, { recursive: true, force: true });
    return { loaded: r.status === 124, log };
}

describe("names PostgreSQL or pgBouncer reserve or cannot hold", () => {
    catalogueTests("postgres-names", 10);

    it("pgBouncer 1.18 loads the alias of a 55-byte database and refuses the one of 56 bytes", () => {
        expect(fs.existsSync(PGBOUNCER), `${PGBOUNCER} (installed by scripts/install-tools.sh)`).toBe(true);
        const fits = "d".repeat(MAX_DATABASE_NAME_BYTES);
        const tooLong = "d".repeat(MAX_DATABASE_NAME_BYTES + 1);
        expect(databaseNameProblem(fits)).toBeUndefined();
        expect(databaseNameProblem(tooLong)).toContain("at most 55 fit");
        const ok = pgbouncerLoads(fits);
        expect(ok.loaded, ok.log).toBe(true);
        const bad = pgbouncerLoads(tooLong);
        expect(bad.loaded).toBe(false);
        expect(bad.log).toContain(`too long db name: ${tooLong}_migrate`);
    });

    it("refuses every pg_ role and the reserved words, accepts look-alikes", () => {
        for (const r of ["pg_monitor", "pg_read_all_data", "pg_x", "public", "none", "session_user", "current_role", "app_service"])
            expect(roleNameProblem(r), r).toBeDefined();
        for (const r of ["postgres", "pgadmin", "publicist", "nonexistent", "dbtier_root", "_root"])
            expect(roleNameProblem(r), r).toBeUndefined();
    });
});
