/** The stack program itself (index.ts): its outputs are DSNs and escrow keys, all secret. */
import * as pulumi from "@pulumi/pulumi";
import { describe, expect, it } from "vitest";
import { installMocks, loadStackConfig, settle } from "../support/mock-runtime";

describe("index.ts on the dev stack", () => {
    it("exports only secret DSNs and encryption keys", async () => {
        await installMocks("dev");
        loadStackConfig("dev");
        const program = await import("../../index");
        await settle();
        expect(Object.keys(program).sort()).toEqual([
            "DATABASE_MIGRATE_URL",
            "DATABASE_ROOT_URL",
            "DATABASE_SERVICE_URL",
            "DATABASE_URL",
            "backupEncryptionKeys",
            "clusters",
        ]);
        for (const key of ["DATABASE_URL", "DATABASE_SERVICE_URL", "DATABASE_MIGRATE_URL", "DATABASE_ROOT_URL"] as const) {
            expect(await pulumi.isSecret(program[key]), key).toBe(true);
        }
        expect(await pulumi.isSecret(program.clusters.app.DATABASE_URL)).toBe(true);
        expect(await pulumi.isSecret(program.backupEncryptionKeys.app)).toBe(true);
    });

    it("refuses a secret key that was set in plain text", async () => {
        await installMocks("dev");
        loadStackConfig("dev", { "db-tier:storageSecretAccessKey": "committed-in-plain-text" });
        const { readStackConfig } = await import("../../config/stack-config");
        expect(() => readStackConfig()).toThrow("db-tier:storageSecretAccessKey: must be set with pulumi config set --secret");
    });
});
