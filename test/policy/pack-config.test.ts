/**
 * Enforcement levels and policy config come only from the pack config, in the format of
 * `pulumi preview --policy-pack-config` (policy/config/<stack>.json, also what the
 * workflows pass to pulumi/actions): own entry, else "all", else mandatory; properties
 * validated against each policy's configSchema, schema defaults filled in.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { loadPackConfig, PackConfigError, resolvePolicyConfig, validatePackConfig } from "../../policy/lib/pack-config";
import { policies, walArchivingEnabled, appReachesOnlyPooler, generatedSecretStrength } from "../../policy/policies";
import { check, compliant, mandatory, advisory, names } from "./fixtures";

const ROOT = path.resolve(__dirname, "..", "..");

describe("pack config", () => {
    it("defaults every policy to mandatory, with the schema's defaults", () => {
        expect(resolvePolicyConfig({}, walArchivingEnabled)).toEqual({ level: "mandatory", properties: { rpoSeconds: 300 } });
        expect(resolvePolicyConfig({}, appReachesOnlyPooler)).toEqual({
            level: "mandatory",
            properties: { allowedHostAddresses: ["127.0.0.1"] },
        });
    });

    it('takes a policy\'s own level over "all"', () => {
        const cfg = { all: "advisory" as const, "generated-secret-strength": { enforcementLevel: "mandatory" as const } };
        expect(resolvePolicyConfig(cfg, generatedSecretStrength).level).toBe("mandatory");
        expect(resolvePolicyConfig(cfg, walArchivingEnabled).level).toBe("advisory");
        expect(resolvePolicyConfig({ "wal-archiving-enabled": { rpoSeconds: 60 } }, walArchivingEnabled)).toEqual({
            level: "mandatory",
            properties: { rpoSeconds: 60 },
        });
    });

    it("a lowered level turns the violation advisory; disabled removes it", async () => {
        const f = compliant();
        f.s.get(f.tier.rootPassword).inputs.length = 8;
        expect(names(mandatory(await check(f.s.records)))).toEqual(["generated-secret-strength"]);
        const lowered = await check(f.s.records, { "generated-secret-strength": "advisory" });
        expect(mandatory(lowered)).toEqual([]);
        expect(names(advisory(lowered))).toEqual(["generated-secret-strength"]);
        expect(await check(f.s.records, { all: "disabled" })).toEqual([]);
    });

    it("allowedHostAddresses admits a stack's own address", async () => {
        const f = compliant();
        f.s.get(f.tier.pgbouncer).inputs.ports = [{ internal: 6432, external: 6432, ip: "10.0.0.5" }];
        expect(names(mandatory(await check(f.s.records)))).toEqual(["app-reaches-only-pooler"]);
        expect(await check(f.s.records, { "app-reaches-only-pooler": { allowedHostAddresses: ["127.0.0.1", "10.0.0.5"] } })).toEqual([]);
    });

    it("retentionDays raises the floor of the lifecycle rules", async () => {
        const f = compliant();
        // The tier renders no age-based rule on backup data; an engineer's 70-day rule is
        // outside a 60-day window (with its week of margin) but inside a 90-day one.
        f.s
            .get(f.bucket.lifecycle)
            .inputs.rules.push({ id: "net", status: "Enabled", filter: { prefix: "test/app/" }, expiration: { days: 70 } });
        expect(await check(f.s.records, { "backup-bucket-lifecycle": { retentionDays: 60 } })).toEqual([]);
        expect(names(mandatory(await check(f.s.records, { "backup-bucket-lifecycle": { retentionDays: 90 } })))).toEqual([
            "backup-bucket-lifecycle",
        ]);
    });

    it.each([
        [{ "no-such-policy": "advisory" }, "no-such-policy: no such policy in the pack"],
        [{ all: "sometimes" }, "all: enforcement level must be one of advisory, mandatory, remediate, disabled"],
        [{ all: { rpoSeconds: 60 } }, 'all.rpoSeconds: "all" takes only enforcementLevel'],
        [{ "wal-archiving-enabled": { rpoSeconds: 0 } }, "wal-archiving-enabled.rpoSeconds: must be at least 1"],
        [{ "wal-archiving-enabled": { rpoSeconds: 301 } }, "wal-archiving-enabled.rpoSeconds: must be at most 300"],
        [{ "wal-archiving-enabled": { rpoSeconds: 1.5 } }, "wal-archiving-enabled.rpoSeconds: must be integer (got number)"],
        [{ "wal-archiving-enabled": { rpo: 60 } }, "wal-archiving-enabled.rpo: not a config property of this policy"],
        [
            { "app-reaches-only-pooler": { allowedHostAddresses: "127.0.0.1" } },
            "app-reaches-only-pooler.allowedHostAddresses: must be array (got string)",
        ],
        [
            { "app-reaches-only-pooler": { allowedHostAddresses: [""] } },
            "app-reaches-only-pooler.allowedHostAddresses[0]: must have at least 1 characters",
        ],
        [{ "backup-bucket-lifecycle": { enforcementLevel: "loud" } }, "backup-bucket-lifecycle.enforcementLevel: must be one of"],
        [[], "the file must hold a JSON object"],
    ])("rejects %j", (cfg, problem) => {
        expect(validatePackConfig(cfg, policies).join("\n")).toContain(problem);
    });

    it("every stack has a valid policy/config/<stack>.json, and nothing is lowered below mandatory", () => {
        const stacks = fs
            .readdirSync(ROOT)
            .map((f) => /^Pulumi\.(.+)\.yaml$/.exec(f)?.[1])
            .filter((s): s is string => s !== undefined);
        expect(stacks.sort()).toEqual(["dev", "preview", "production"]);
        for (const stack of stacks) {
            const cfg = loadPackConfig(path.join(ROOT, "policy", "config", `${stack}.json`), policies);
            for (const p of policies) expect(resolvePolicyConfig(cfg, p).level, `${stack} ${p.name}`).toBe("mandatory");
        }
    });

    it("an unreadable file is a PackConfigError naming the file", () => {
        const file = path.join(ROOT, "package.json.nope");
        expect(() => loadPackConfig(file, policies)).toThrow(PackConfigError);
    });
});
