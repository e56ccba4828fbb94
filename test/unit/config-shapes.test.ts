/** Shape and case mistakes in maps and lists, and images of another PostgreSQL major. */
import { describe, expect, it } from "vitest";
import { imageTag, postgresImageProblem } from "../../config/rules/postgres-image";
import { tableNameProblem } from "../../config/rules/postgres-names";
import { catalogueTests } from "../catalogue/assert";

describe("shape and case mistakes", () => {
    catalogueTests("shapes", 10);

    it("splits image references the way Docker does (registry port, digest)", () => {
        expect(imageTag("registry.internal:5000/db-tier-postgres:0.1.0")).toEqual({
            repository: "registry.internal:5000/db-tier-postgres",
            tag: "0.1.0",
        });
        expect(imageTag("registry.internal:5000/db-tier-postgres")).toEqual({
            repository: "registry.internal:5000/db-tier-postgres",
            tag: undefined,
        });
        expect(imageTag("postgres:16@sha256:abc")).toEqual({ repository: "postgres", tag: "16" });
    });

    it("refuses tags naming another major, accepts 15 and version-less own images", () => {
        for (const ref of [
            "postgres:16",
            "postgres:14-alpine",
            "postgres:17.2-bookworm",
            "postgis/postgis:16-3.4",
            "ghcr.io/acme/pg:pg14",
            "docker.io/library/postgres:13",
            "postgres:latest",
            "library/postgres",
        ]) {
            expect(postgresImageProblem(ref), ref).toBeDefined();
        }
        for (const ref of [
            "postgres:15",
            "postgres:15.8",
            "postgres:15-bookworm",
            "ghcr.io/acme/db-tier-postgres:0.1.0",
            "ghcr.io/acme/db-tier-postgres:2024.11.3",
            "db-tier-postgres:local",
            "ghcr.io/acme/pg:pg15-walg3",
        ]) {
            expect(postgresImageProblem(ref), ref).toBeUndefined();
        }
    });

    it("reads table names as PostgreSQL would", () => {
        expect(tableNameProblem("orders")).toBeUndefined();
        expect(tableNameProblem("public.orders")).toBeUndefined();
        expect(tableNameProblem("public.")).toBe('"public." must be table or schema.table (e.g. public.orders)');
        expect(tableNameProblem("public.order-items")).toBe(
            '"order-items" must be a-z, 0-9 and \'_\', not starting with a digit (e.g. order_items) (in "public.order-items")',
        );
    });
});
