/** Settings that contradict each other: pools against max_connections, published ports, memory. */
import { describe, expect, it } from "vitest";
import { memoryBytes, sharedBuffersProblem } from "../../config/rules/memory";
import { poolBudget, POOLER_HEADROOM } from "../../config/rules/pool-budget";
import { tierConfigSchema } from "../../config/schema";
import { catalogueTests } from "../catalogue/assert";

describe("settings that contradict each other", () => {
    catalogueTests("contradictions", 8);

    it("counts every pool pgBouncer can open: 2 users x (<db>, <db>_migrate) x min(2 x pool, max_db_connections)", () => {
        expect(poolBudget(2, 20, 200)).toEqual({ wanted: 160, available: 190, maxPoolSize: 23, minMaxConnections: 170 });
        expect(poolBudget(1, 20, 90)).toEqual({ wanted: 80, available: 80, maxPoolSize: 20, minMaxConnections: 90 });
        // max_db_connections (maxConnections - 10) caps each pgBouncer database.
        expect(poolBudget(1, 1000, 100).wanted).toBe(2 * (100 - POOLER_HEADROOM));
    });

    it("the defaults are consistent for the real stacks' two databases per cluster", () => {
        const c = tierConfigSchema.parse({
            environment: "dev",
            storage: { provider: "minio", bucket: "db-tier-dev-backups", embedded: true },
            clusters: [{ name: "app", databases: ["app", "litellm"] }],
        });
        const b = poolBudget(c.clusters[0].databases.length, c.pgbouncer.defaultPoolSize, c.postgres.maxConnections);
        expect(b.wanted).toBeLessThanOrEqual(b.available);
    });

    it("reads PostgreSQL memory units exactly (case-sensitive, bare numbers are 8kB blocks)", () => {
        expect(memoryBytes("128MB", 8192)).toBe(128 * 1024 * 1024);
        expect(memoryBytes("16", 8192)).toBe(131072);
        expect(memoryBytes("1TB", 8192)).toBe(1024 ** 4);
        expect(memoryBytes("128mb", 8192)).toBeUndefined();
        expect(sharedBuffersProblem("127kB")).toContain("below PostgreSQL's minimum of 128kB");
        expect(sharedBuffersProblem("131072B")).toBeUndefined();
        expect(sharedBuffersProblem("15")).toContain("below PostgreSQL's minimum");
        expect(sharedBuffersProblem("512K")).toContain("write 512kB");
    });
});
