/** Bucket names per provider (config/rules/bucket-name.ts), through the stack schema and directly. */
import { describe, expect, it } from "vitest";
import { bucketNameProblem, S3_RESERVED_PREFIXES, S3_RESERVED_SUFFIXES } from "../../config/rules/bucket-name";
import { catalogueTests } from "../catalogue/assert";

describe("bucket names the storage rejects", () => {
    catalogueTests("storage-names", 10);

    it("applies S3's reserved prefixes and suffixes on every provider", () => {
        for (const provider of ["minio", "r2", "b2"] as const) {
            for (const p of S3_RESERVED_PREFIXES) {
                expect(bucketNameProblem(provider, `${p}db-backups`), `${provider} ${p}`).toContain(
                    `starts with the reserved prefix "${p}"`,
                );
            }
            for (const s of S3_RESERVED_SUFFIXES.filter((x) => provider === "minio" || !x.includes("."))) {
                expect(bucketNameProblem(provider, `db-backups${s}`), `${provider} ${s}`).toContain(`ends with the reserved suffix "${s}"`);
            }
        }
    });

    it("keeps each provider's length limits, at the edges", () => {
        expect(bucketNameProblem("minio", "abc")).toBeUndefined();
        expect(bucketNameProblem("r2", "abc")).toBeUndefined();
        expect(bucketNameProblem("b2", "abcde")).toContain("is 5 characters long");
        expect(bucketNameProblem("b2", "abcdef")).toBeUndefined();
        for (const provider of ["minio", "r2", "b2"] as const) {
            expect(bucketNameProblem(provider, "a".repeat(63)), provider).toBeUndefined();
            expect(bucketNameProblem(provider, "a".repeat(64)), provider).toContain("is 64 characters long");
        }
    });

    it("allows dots only on MinIO, and never adjacent to each other or to a dash", () => {
        expect(bucketNameProblem("minio", "a.b.c")).toBeUndefined();
        expect(bucketNameProblem("r2", "a.b.c")).toContain("r2 allows no dots");
        expect(bucketNameProblem("b2", "abc.def")).toContain("b2 allows no dots");
        for (const seq of ["..", ".-", "-."]) expect(bucketNameProblem("minio", `abc${seq}def`)).toContain(`contains "${seq}"`);
    });

    it("refuses IP-address-like names, IPv4 and IPv6", () => {
        expect(bucketNameProblem("minio", "10.0.0.1")).toContain("is formatted as an IP address");
        expect(bucketNameProblem("minio", "999.999.999.999")).toContain("is formatted as an IP address");
        expect(bucketNameProblem("minio", "10.0.0")).toBeUndefined();
    });
});
