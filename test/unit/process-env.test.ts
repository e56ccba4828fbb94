/**
 * The environment children get (jobs/proc.ts) and pgBouncer's reset setting (render/pgbouncer.ts):
 * the pure halves of test/security/process-environment.test.ts and tenant-isolation.test.ts.
 */
import { afterEach, describe, expect, it } from "vitest";
import { minimalEnv, run, SYSTEM_PATH } from "../../jobs/proc";
import { renderPgbouncerIni } from "../../render/pgbouncer";

const saved = { ...process.env };
afterEach(() => {
    for (const k of Object.keys(process.env)) if (!(k in saved)) delete process.env[k];
    Object.assign(process.env, saved);
});

describe("minimalEnv", () => {
    it("keeps the system PATH, locale and the named extras, and nothing else of the caller", () => {
        process.env.DATABASE_URL = "postgresql://u:secret@h/db";
        process.env.AWS_SECRET_ACCESS_KEY = "caller-key";
        process.env.PATH = "/home/me/evil-bin:/usr/bin";
        process.env.LC_ALL = "C.UTF-8";
        const env = minimalEnv({ PGPASSFILE: "/x/pgpass", DROPPED: undefined });
        expect(env.PATH).toBe(SYSTEM_PATH);
        expect(env.LC_ALL).toBe("C.UTF-8");
        expect(env.PGPASSFILE).toBe("/x/pgpass");
        expect(Object.keys(env).filter((k) => !/^(PATH|LANG|LANGUAGE|LC_[A-Z]+|TZ|PGPASSFILE)$/.test(k))).toEqual([]);
    });

    it("is what run() gives a child that names no environment", async () => {
        process.env.DATABASE_URL = "postgresql://u:secret@h/db";
        const r = await run("/usr/bin/env", []);
        expect(r.code).toBe(0);
        expect(r.stdout).not.toContain("DATABASE_URL");
        expect(r.stdout).toContain(`PATH=${SYSTEM_PATH}`);
    });
});

describe("pgBouncer reset", () => {
    const base = {
        listenAddr: "*",
        listenPort: 6432,
        postgresHost: "postgres",
        postgresPort: 5432,
        databases: ["app"],
        authFile: "/a",
        defaultPoolSize: 20,
        maxClientConn: 1000,
        maxDbConnections: 90,
    };
    it("resets every server connection after each transaction by default", () => {
        const ini = renderPgbouncerIni(base);
        expect(ini).toMatch(/^server_reset_query = DISCARD ALL$/m);
        expect(ini).toMatch(/^server_reset_query_always = 1$/m);
    });
    it("only resetSessionState: false turns it off", () => {
        expect(renderPgbouncerIni({ ...base, resetSessionState: true })).toMatch(/^server_reset_query_always = 1$/m);
        expect(renderPgbouncerIni({ ...base, resetSessionState: false })).toMatch(/^server_reset_query_always = 0$/m);
    });
});
