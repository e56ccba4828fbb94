/**
 * Keys under a misspelled namespace and unknown keys, through the real readStackConfig under
 * the mock runtime (what `pulumi up` runs) as well as the catalogue.
 */
import { describe, expect, it } from "vitest";
import { isNearMissNamespace } from "../../config/stack-config";
import { suggest } from "../../config/rules/suggest";
import { catalogueTests } from "../catalogue/assert";
import { installMocks, loadStackConfig } from "../support/mock-runtime";

describe("keys under a misspelled namespace, unknown keys", () => {
    catalogueTests("keys", 6);

    it("readStackConfig refuses a near-miss namespace and reports the schema's findings with it", async () => {
        await installMocks("dev");
        loadStackConfig("dev", { "db-teir:backup": { rpoSeconds: 30 }, "db-tier:passwordLength": 8 });
        const { readStackConfig } = await import("../../config/stack-config");
        let error: any;
        try {
            readStackConfig();
        } catch (e) {
            error = e;
        }
        expect(error?.problems).toEqual([
            'db-teir:backup: "db-teir" is not the tier\'s namespace, so this key would be ignored; write db-tier:backup',
            "db-tier:passwordLength: must be at least 32",
        ]);
    });

    it("knows which namespaces are near misses", () => {
        for (const ns of ["db-teir", "dbtier", "db_tier", "DB-Tier", "db-tire", "db-tie", "db.tier", "dbtiers"])
            expect(isNearMissNamespace(ns), ns).toBe(true);
        for (const ns of ["db-tier", "docker", "aws", "pulumi", "random", "command", "myapp", "db", "tier", "billing"])
            expect(isNearMissNamespace(ns), ns).toBe(false);
    });

    it("suggests the closest key, and nothing when none is close", () => {
        const top = ["environment", "dockerHost", "hostBindAddress", "storage", "clusters", "postgres", "pgbouncer"];
        expect(suggest("enviroment", top)).toBe("environment");
        expect(suggest("Environment", top)).toBe("environment");
        expect(suggest("docker_host", top)).toBe("dockerHost");
        expect(suggest("cluster", top)).toBe("clusters");
        expect(suggest("pgbouncr", top)).toBe("pgbouncer");
        expect(suggest("zzz", top)).toBeUndefined();
        expect(suggest("bucketName", ["provider", "bucket", "endpoint"])).toBe("bucket");
    });
});
