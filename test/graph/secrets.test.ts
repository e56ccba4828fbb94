/**
 * Every password, verifier, key and DSN is a Pulumi secret (asserted, not assumed), and the
 * DSNs keep the source stack's invariants.
 */
import * as pulumi from "@pulumi/pulumi";
import { beforeAll, describe, expect, it } from "vitest";
import { deployStack, type DeployedStack } from "../../components";
import { parseDsn } from "../../render/dsn";
import { isScramVerifier, scramVerifier } from "../../render/scram";
import { installMocks, loadStackConfig, type RecordedResource, settle, outputValue } from "../support/mock-runtime";
import { readStackConfig } from "../../config/stack-config";

let stack: DeployedStack;
let resources: RecordedResource[];

beforeAll(async () => {
    resources = await installMocks("dev");
    loadStackConfig("dev");
    const { values, secrets } = readStackConfig();
    stack = deployStack(values, secrets);
    await settle();
});

describe("secrets", () => {
    it("marks every DSN output secret", async () => {
        const tier = stack.tiers.app;
        for (const [name, dsn] of Object.entries(tier.dsns)) {
            expect(await pulumi.isSecret(dsn as pulumi.Output<string>), name).toBe(true);
        }
    });

    it("marks passwords, verifiers and the WAL-G key secret", async () => {
        const s = stack.tiers.app.secrets;
        for (const role of [s.root, s.appUser, s.appService]) {
            expect(await pulumi.isSecret(role.password)).toBe(true);
            expect(await pulumi.isSecret(role.verifier)).toBe(true);
        }
        expect(await pulumi.isSecret(s.walgLibsodiumKeyHex)).toBe(true);
        expect(await pulumi.isSecret(stack.tiers.app.backupEncryptionKey)).toBe(true);
        expect(await outputValue(s.walgLibsodiumKeyHex)).toMatch(/^[0-9a-f]{64}$/);
    });

    it("marks the embedded object store's credentials secret", async () => {
        expect(await pulumi.isSecret(stack.objectStore!.accessKeyId)).toBe(true);
        expect(await pulumi.isSecret(stack.objectStore!.secretAccessKey)).toBe(true);
    });

    it("generates passwords of at least 32 characters and derives the verifier from password and salt", async () => {
        for (const r of resources.filter((r) => r.type === "random:index/randomPassword:RandomPassword")) {
            expect(r.inputs.length, r.name).toBeGreaterThanOrEqual(32);
        }
        const role = stack.tiers.app.secrets.appUser;
        const verifier = await outputValue(role.verifier);
        expect(isScramVerifier(verifier)).toBe(true);
        const salt = verifier.split("$")[1].split(":")[1];
        expect(scramVerifier(await outputValue(role.password), salt)).toBe(verifier);
    });

    it("uploads secret files (WAL-G env, auth file, SQL, pgpass) as secrets", async () => {
        const secretUploads = resources
            .filter((r) => r.type === "docker:index/container:Container")
            .flatMap((c) => JSON.stringify(c.inputs.uploads ?? []));
        // The mock runtime hands secret inputs over wrapped with Pulumi's secret signature.
        expect(secretUploads.join("")).toContain("1b47061264138c4ac30d75fd1eb44270");
        for (const c of resources.filter((r) => r.type === "docker:index/container:Container")) {
            const text = JSON.stringify(c.inputs);
            for (const role of ["root", "appUser", "appService"] as const) {
                const password = await outputValue(stack.tiers.app.secrets[role].password);
                // Present only inside secret-wrapped values, never in plain fields.
                if (text.includes(password)) {
                    const plain = JSON.stringify({ ...c.inputs, uploads: undefined });
                    expect(plain.includes(password), `${c.name} has ${role}'s password outside a secret`).toBe(false);
                }
            }
        }
    });
});

describe("DSNs", () => {
    it("hands applications the pooler and root the direct server, with distinct users", async () => {
        const d = stack.tiers.app.dsns;
        const app = parseDsn(await outputValue(d.DATABASE_URL));
        const service = parseDsn(await outputValue(d.DATABASE_SERVICE_URL));
        const migrate = parseDsn(await outputValue(d.DATABASE_MIGRATE_URL));
        const root = parseDsn(await outputValue(d.DATABASE_ROOT_URL));
        expect([app.host, app.port, app.user, app.database]).toEqual(["pgbouncer", 6432, "app_user", "app"]);
        expect([service.host, service.port, service.user]).toEqual(["pgbouncer", 6432, "app_service"]);
        expect([migrate.host, migrate.port, migrate.user, migrate.database]).toEqual(["pgbouncer", 6432, "app_user", "app_migrate"]);
        expect([root.host, root.port, root.user]).toEqual(["postgres", 5432, "postgres"]);
        expect(new Set([app.user, service.user, root.user]).size).toBe(3);
        for (const p of [app, service, migrate, root]) expect(p.sslmode).toBe("disable");
        expect(app.password.length).toBeGreaterThanOrEqual(32);
    });
});
