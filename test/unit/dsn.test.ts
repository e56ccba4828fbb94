import { describe, expect, it } from "vitest";
import { assertDsnInvariants, buildDsn, parseDsn } from "../../render/dsn";

const base = { host: "pgbouncer", port: 6432, database: "app", sslmode: "require" };

describe("buildDsn", () => {
    it("percent-encodes user, password and database and round-trips", () => {
        const password = "p@ss:w/rd?#%&= x";
        const dsn = buildDsn({ ...base, user: "app_user", password });
        expect(dsn).toBe("postgresql://app_user:p%40ss%3Aw%2Frd%3F%23%25%26%3D%20x@pgbouncer:6432/app?sslmode=require");
        expect(parseDsn(dsn).password).toBe(password);
    });
});

describe("assertDsnInvariants", () => {
    const dsns = (over: Partial<Record<string, string>> = {}) => ({
        DATABASE_URL: buildDsn({ ...base, user: "app_user", password: "a" }),
        DATABASE_SERVICE_URL: buildDsn({ ...base, user: "app_service", password: "b" }),
        DATABASE_MIGRATE_URL: buildDsn({ ...base, database: "app_migrate", user: "app_user", password: "a" }),
        DATABASE_ROOT_URL: buildDsn({ ...base, host: "postgres", port: 5432, user: "postgres", password: "c" }),
        ...over,
    });
    const expectations = { rootUser: "postgres", poolerHost: "pgbouncer", poolerPort: 6432, sslmode: "require" };

    it("accepts the tier's own DSNs", () => {
        expect(() => assertDsnInvariants(dsns(), expectations)).not.toThrow();
    });
    it("rejects the same user in two DSNs", () => {
        expect(() =>
            assertDsnInvariants(dsns({ DATABASE_SERVICE_URL: buildDsn({ ...base, user: "app_user", password: "b" }) }), expectations),
        ).toThrow("DATABASE_URL, DATABASE_SERVICE_URL and DATABASE_ROOT_URL must use distinct users");
    });
    it("rejects a superuser name in an application DSN", () => {
        expect(() =>
            assertDsnInvariants(
                dsns({
                    DATABASE_URL: buildDsn({ ...base, user: "postgres", password: "a" }),
                    DATABASE_ROOT_URL: buildDsn({ ...base, host: "postgres", port: 5432, user: "root", password: "c" }),
                }),
                { ...expectations, rootUser: "root" },
            ),
        ).toThrow('DATABASE_URL must not use the superuser name "postgres"');
    });
    it("rejects an application DSN whose host is not the pooler", () => {
        expect(() =>
            assertDsnInvariants(
                dsns({ DATABASE_SERVICE_URL: buildDsn({ ...base, host: "postgres", port: 5432, user: "app_service", password: "b" }) }),
                expectations,
            ),
        ).toThrow("DATABASE_SERVICE_URL must point at the pooler pgbouncer:6432 (got postgres:5432)");
    });
    it("rejects a DSN without the configured sslmode", () => {
        expect(() =>
            assertDsnInvariants(
                dsns({
                    DATABASE_ROOT_URL: buildDsn({
                        ...base,
                        sslmode: "disable",
                        host: "postgres",
                        port: 5432,
                        user: "postgres",
                        password: "c",
                    }),
                }),
                expectations,
            ),
        ).toThrow("DATABASE_ROOT_URL must carry sslmode=require");
    });
});
