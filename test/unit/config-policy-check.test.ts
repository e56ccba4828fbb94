/**
 * A bad stack file through the real command, `npm run policy:check -- --stack NAME`: exit 2,
 * every mistake on stderr by the key as written, nothing on stdout; and, in process, the
 * stack program (index.ts) refuses the same config before it registers a single resource.
 * Weak-message regressions (.inf, null) are checked on the offline reader here too.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { run, type RunResult } from "../../jobs/proc";
import { readStackConfig as readOfflineStackConfig, UsageError } from "../../policy/offline/stack-config";
import { installMocks, loadStackConfig } from "../support/mock-runtime";

const ROOT = path.resolve(__dirname, "..", "..");
// `.yml`, so the checks that list the real stacks (Pulumi.*.yaml) never see this one.
const STACK = `cfgcheck${crypto.randomBytes(3).toString("hex")}`;
const STACK_FILE = path.join(ROOT, `Pulumi.${STACK}.yml`);

const MISTAKES = {
    "db-tier:environment": STACK,
    "db-tier:storage": { provider: "minio", bucket: "My_Backups", embedded: true },
    "db-tier:clusters": [{ name: "app", databases: ["app", "postgres"] }],
    "db-teir:sslmode": "require",
    "db-tier:hostBindAddress": "[::1]",
};
const PROBLEMS = [
    'db-teir:sslmode: "db-teir" is not the tier\'s namespace, so this key would be ignored; write db-tier:sslmode',
    'db-tier:clusters[0].databases[1]: "postgres" is the maintenance database every cluster already has; name your own database (e.g. app)',
    'db-tier:storage.bucket: "My_Backups" contains \'_\' (minio bucket names: 3-63 characters of a-z, 0-9, \'.\' and \'-\', starting and ending with a letter or digit; no "..", ".-" or "-."; not an IP address; not starting with xn--, sthree-, amzn-s3-demo-; not ending with -s3alias, --ol-s3, .mrap, --x-s3, --table-s3; e.g. db-tier-dev-backups)',
];

/** Asynchronous, so the test worker keeps answering vitest while the child runs. */
function policyCheck(stack: string): Promise<RunResult> {
    return run("npm", ["run", "--silent", "policy:check", "--", "--stack", stack], {
        cwd: ROOT,
        env: { ...process.env, FORCE_COLOR: "0" },
    });
}

afterAll(() => fs.rmSync(STACK_FILE, { force: true }));

describe("a bad configuration is refused before anything is created", () => {
    it("npm run policy:check exits 2 with every problem by its key, and no violation lines", async () => {
        fs.writeFileSync(
            STACK_FILE,
            `# written by test/unit/config-policy-check.test.ts\nconfig:\n${Object.entries(MISTAKES)
                .map(([k, v]) => `  ${k}: ${JSON.stringify(v)}`)
                .join("\n")}\n`,
        );
        const r = await policyCheck(STACK);
        expect(r.code, r.stderr).toBe(2);
        expect(r.stdout).toBe("");
        for (const p of PROBLEMS) expect(r.stderr).toContain(`  - ${p}`);
        // It stopped before evaluating policies: no resource summary line.
        expect(r.stderr).not.toMatch(/\d+ resources, \d+ policies/);
    }, 120_000);

    it("the stack program registers no resource before refusing the same config", async () => {
        const recorded = await installMocks("dev");
        loadStackConfig("dev", {
            "db-tier:clusters": [{ name: "app", databases: ["app", "template1"] }],
            "db-tier:pgbouncer": { publishPort: 19000 },
        });
        await expect(import("../../index")).rejects.toThrow(
            /db-tier:clusters\[0\]\.databases\[1\]: "template1" is the template database[^\n]*\n {2}- db-tier:pgbouncer\.publishPort: is 19000/,
        );
        expect(recorded).toEqual([]);
    });
});

describe("the offline reader reports what was written", () => {
    function offline(yamlText: string): unknown {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "offline-"));
        fs.writeFileSync(path.join(dir, "Pulumi.yaml"), "name: db-tier\nruntime: nodejs\n");
        fs.writeFileSync(path.join(dir, "Pulumi.x.yaml"), yamlText);
        try {
            return readOfflineStackConfig(dir, "x");
        } catch (e) {
            return e;
        } finally {
            fs.rmSync(dir, { recursive: true, force: true });
        }
    }

    it("refuses .inf and .nan by key instead of passing null on", () => {
        const e = offline("config:\n  db-tier:backup:\n    rpoSeconds: .inf\n");
        expect(e).toBeInstanceOf(UsageError);
        expect((e as Error).message).toBe(
            "Pulumi.x.yaml: db-tier:backup.rpoSeconds: .inf is not a number the configuration can carry; write a finite number (e.g. 60)",
        );
        expect((offline("config:\n  db-tier:drill:\n    minRows: {orders: -.inf}\n") as Error).message).toContain(
            "db-tier:drill.minRows.orders: -.inf is not a number",
        );
        expect((offline("config:\n  db-tier:passwordLength: .nan\n") as Error).message).toContain(
            "db-tier:passwordLength: .nan is not a number",
        );
    });

    it("passes finite numbers through unchanged", () => {
        const r = offline("config:\n  db-tier:backup:\n    rpoSeconds: 60\n") as { config: Record<string, string> };
        expect(r.config["db-tier:backup"]).toBe('{"rpoSeconds":60}');
    });
});
