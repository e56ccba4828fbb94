/**
 * Valid inputs that used to crash: an IPv6 bind address. `::1` and `[::1]` are accepted,
 * and the whole dev stack builds with it: Docker binds the published ports on ::1, and the
 * URLs the tier makes put the address in brackets (Pulumi's S3 endpoint, DSNs).
 */
import { describe, expect, it } from "vitest";
import { deployStack } from "../../components/stack";
import { normaliseBindAddress, urlHost } from "../../config/rules/bind-address";
import { buildDsn, parseDsn } from "../../render/dsn";
import { catalogueTests } from "../catalogue/assert";
import { installMocks, plain, settle } from "../support/mock-runtime";

describe("addresses", () => {
    catalogueTests("addresses", 4);

    it("normalises [::1] to ::1 and brackets IPv6 inside URLs only", () => {
        expect(normaliseBindAddress("[::1]")).toBe("::1");
        expect(normaliseBindAddress(" 127.0.0.1 ")).toBe("127.0.0.1");
        expect(normaliseBindAddress("[not-an-ip]")).toBe("[not-an-ip]");
        expect(urlHost("::1")).toBe("[::1]");
        expect(urlHost("127.0.0.1")).toBe("127.0.0.1");
    });

    it("builds and parses a DSN whose host is an IPv6 literal", () => {
        const dsn = buildDsn({ user: "app_user", password: "p@ss:w/rd", host: "::1", port: 6432, database: "app", sslmode: "disable" });
        expect(dsn).toBe("postgresql://app_user:p%40ss%3Aw%2Frd@[::1]:6432/app?sslmode=disable");
        expect(parseDsn(dsn)).toEqual({
            user: "app_user",
            password: "p@ss:w/rd",
            host: "::1",
            port: 6432,
            database: "app",
            sslmode: "disable",
        });
    });

    it("deploys the dev stack on [::1]: ports bound on ::1, Pulumi's S3 endpoint http://[::1]:19000", async () => {
        const recorded = await installMocks("dev");
        deployStack(
            {
                environment: "dev",
                hostBindAddress: "[::1]",
                storage: { provider: "minio", bucket: "db-tier-dev-backups", embedded: true },
                pgbouncer: { publishPort: 16432 },
            },
            {},
        );
        await settle();
        const containers = recorded.filter((r) => r.type === "docker:index/container:Container");
        const published = containers.flatMap((c) => plain<{ ip: string; external: number }[]>(c.inputs.ports ?? []));
        expect(published.map((p) => [p.ip, p.external]).sort()).toEqual([
            ["::1", 16432],
            ["::1", 19000],
        ]);
        const awsProviders = recorded.filter((r) => r.type === "pulumi:providers:aws");
        expect(awsProviders.length).toBeGreaterThan(0);
        expect(JSON.stringify(plain(awsProviders.map((p) => p.inputs)))).toContain("http://[::1]:19000");
    });
});
