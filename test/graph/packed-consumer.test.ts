/**
 * Importable: `npm pack` yields a package whose `components` entry an example consumer stack
 * (examples/consumer) imports and builds under the mock runtime.
 */
import * as pulumi from "@pulumi/pulumi";
import { execFileSync } from "node:child_process";
import * as fs from "node:fs";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { installMocks, plain, type RecordedResource, REPO_ROOT, settle, outputValue } from "../support/mock-runtime";

// Inside the repo, so the packed library resolves @pulumi/* from the repo's node_modules:
// one SDK instance, the one the mocks are installed in.
const work = path.join(REPO_ROOT, ".pack-test");

describe("the packed library", () => {
    let recorded: RecordedResource[];
    let exports: Record<string, pulumi.Output<string>>;

    beforeAll(async () => {
        fs.rmSync(work, { recursive: true, force: true });
        fs.mkdirSync(path.join(work, "node_modules", "db-tier"), { recursive: true });
        const tarball = execFileSync("npm", ["pack", "--silent", "--pack-destination", work], { cwd: REPO_ROOT, encoding: "utf8" })
            .trim()
            .split("\n")
            .pop()!;
        execFileSync("tar", ["-xzf", path.join(work, tarball), "-C", path.join(work, "node_modules", "db-tier"), "--strip-components=1"]);
        fs.copyFileSync(path.join(REPO_ROOT, "examples", "consumer", "index.ts"), path.join(work, "index.ts"));
        recorded = await installMocks("consumer");
        pulumi.runtime.setAllConfig(
            { "orders:r2AccessKeyId": "test-r2-access-key", "orders:r2SecretAccessKey": "test-r2-secret-key-0123456789" },
            ["orders:r2AccessKeyId", "orders:r2SecretAccessKey"],
        );
        exports = await import(path.join(work, "index.ts"));
        await settle();
    }, 180_000);

    afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

    it("ships compiled JavaScript, typings, the Dockerfiles and no tests", () => {
        const pkg = path.join(work, "node_modules", "db-tier");
        for (const f of [
            "bin/components/index.js",
            "bin/components/index.d.ts",
            "bin/jobs/scheduler.js",
            "images/postgres/Dockerfile",
            "images/pgbouncer/Dockerfile",
        ]) {
            expect(fs.existsSync(path.join(pkg, f)), f).toBe(true);
        }
        expect(fs.existsSync(path.join(pkg, "test"))).toBe(false);
    });

    it("builds the consumer's tier and bucket from the package", async () => {
        const types = recorded.map((r) => r.type);
        expect(types).toContain("db-tier:index:DatabaseTier");
        expect(types).toContain("db-tier:index:BackupBucket");
        expect(types.filter((t) => t === "docker:index/container:Container")).toHaveLength(5);
        const lifecycle = recorded.find((r) => r.type === "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")!;
        expect(plain(lifecycle.inputs.rules).map((r: { id: string }) => r.id)).toContain("abort-incomplete-multipart");
        expect(await pulumi.isSecret(exports.DATABASE_URL)).toBe(true);
        expect(await outputValue(exports.DATABASE_URL)).toMatch(
            /^postgresql:\/\/app_user:[A-Za-z0-9]{40}@pgbouncer:6432\/orders\?sslmode=disable$/,
        );
    });
});
