/**
 * `npm run policy:check` end to end: the three real stacks pass, a real tier with one
 * violation added fails naming that policy, and usage or configuration errors exit 2 with
 * the reason on stderr. Programs run in parallel; each is a separate process.
 */
import { spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { placeholderFor } from "../../policy/offline/stack-config";
import { POLICY_NAMES } from "../../vocabulary";

const ROOT = path.resolve(__dirname, "..", "..");
const PROGRAMS = path.join(__dirname, "programs");

interface Run {
    code: number | null;
    stdout: string;
    stderr: string;
    lines: Record<string, unknown>[];
}

/** `npm run policy:check -- ARGS` (viaNpm), or the same script straight through tsx. */
function run(args: string[], viaNpm = true): Promise<Run> {
    const [cmd, argv] = viaNpm
        ? ["npm", ["run", "--silent", "policy:check", "--", ...args]]
        : [process.execPath, [path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"), "scripts/policy-check.ts", ...args]];
    return new Promise((resolve, reject) => {
        const child = spawn(cmd, argv, { cwd: ROOT, env: { ...process.env, FORCE_COLOR: "0" } });
        let stdout = "";
        let stderr = "";
        child.stdout.on("data", (d) => (stdout += d));
        child.stderr.on("data", (d) => (stderr += d));
        child.on("error", reject);
        child.on("close", (code) => {
            const lines = stdout
                .split("\n")
                .filter((l) => l.trim() !== "")
                .map((l) => JSON.parse(l) as Record<string, unknown>);
            resolve({ code, stdout, stderr, lines });
        });
    });
}

function expectWellFormed(r: Run): void {
    for (const l of r.lines) {
        expect(Object.keys(l)).toEqual(["policy", "level", "urn", "message"]);
        expect(POLICY_NAMES).toContain(l.policy);
        expect(["mandatory", "advisory"]).toContain(l.level);
        expect(typeof l.urn).toBe("string");
        expect(typeof l.message).toBe("string");
    }
}

// Each case is a whole program run (tsx, the mock runtime, 40-60 resources): generous on a busy machine.
describe.concurrent("npm run policy:check", { timeout: 240_000 }, () => {
    it.each(["dev", "preview", "production"])("the real %s stack has no mandatory violation (exit 0)", async (stack) => {
        const r = await run(["--stack", stack]);
        expect(r.code, r.stderr).toBe(0);
        expectWellFormed(r);
        expect(r.lines.filter((l) => l.level === "mandatory")).toEqual([]);
        expect(r.stderr).toMatch(new RegExp(`stack ${stack}: \\d+ resources, ${POLICY_NAMES.length} policies, 0 mandatory`));
    });

    it.each([...POLICY_NAMES])("a real tier plus one %s violation exits 1 and names the policy", async (policy) => {
        const r = await run(["--stack", "dev", "--program", path.join(PROGRAMS, `${policy}.ts`)]);
        expect(r.code, r.stderr).toBe(1);
        expectWellFormed(r);
        const mine = r.lines.filter((l) => l.policy === policy && l.level === "mandatory");
        expect(mine.length, `stdout:\n${r.stdout}\nstderr:\n${r.stderr}`).toBeGreaterThan(0);
        for (const l of mine) expect(l.urn).toMatch(/^urn:pulumi:dev::db-tier::/);
        // Only the unlabeled container on db-only breaks two rules at once.
        const others = new Set(r.lines.filter((l) => l.level === "mandatory" && l.policy !== policy).map((l) => l.policy));
        expect([...others]).toEqual(policy === "app-reaches-only-pooler" ? ["db-only-network-members"] : []);
    });

    it("the same real tier without the violation exits 0", async () => {
        const r = await run(["--stack", "dev", "--program", path.join(PROGRAMS, "compliant.ts")]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe("");
    });

    it("a preview run defers what it cannot know, at advisory level only", async () => {
        const r = await run(["--stack", "dev", "--preview"]);
        expect(r.code, r.stderr).toBe(0);
        expectWellFormed(r);
        for (const l of r.lines) {
            expect(l.level).toBe("advisory");
            expect(l.message).toMatch(/^check deferred to up: /);
        }
    });

    it("a policy lowered to advisory in the pack config reports but does not fail", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-config-"));
        const file = path.join(dir, "lowered.json");
        fs.writeFileSync(file, JSON.stringify({ "generated-secret-strength": { enforcementLevel: "advisory" } }));
        const r = await run(["--stack", "dev", "--program", path.join(PROGRAMS, "generated-secret-strength.ts"), "--policy-config", file]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.lines).toEqual([expect.objectContaining({ policy: "generated-secret-strength", level: "advisory" })]);
    });

    it("a disabled policy is not evaluated", async () => {
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-config-"));
        const file = path.join(dir, "disabled.json");
        fs.writeFileSync(file, JSON.stringify({ "restore-drill-scheduled": "disabled" }));
        const r = await run(["--stack", "dev", "--program", path.join(PROGRAMS, "restore-drill-scheduled.ts"), "--policy-config", file]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe("");
    });

    it("secret placeholders never reach the output, and the program's own prints stay off stdout", async () => {
        const r = await run(["--stack", "preview", "--program", path.join(PROGRAMS, "prints-secrets.ts")]);
        expect(r.code, r.stderr).toBe(0);
        expect(r.stdout).toBe("");
        expect(r.stderr).toContain("storage key: [secret]");
        for (const key of ["db-tier:storageAccessKeyId", "db-tier:storageSecretAccessKey"]) {
            expect(r.stderr).not.toContain(placeholderFor(key));
        }
    });

    describe("usage and configuration errors exit 2 with the reason on stderr", () => {
        it("an unknown stack", async () => {
            const r = await run(["--stack", "staging"]);
            expect(r.code).toBe(2);
            expect(r.stdout).toBe("");
            expect(r.stderr).toContain('unknown stack "staging": no Pulumi.staging.yaml');
        });
        it("a missing program file", async () => {
            const r = await run(["--stack", "dev", "--program", "no/such/program.ts"]);
            expect(r.code).toBe(2);
            expect(r.stderr).toContain("program file not found: no/such/program.ts");
        });
        it("no --stack (straight through tsx, as npm runs it)", async () => {
            const r = await run([], false);
            expect(r.code).toBe(2);
            expect(r.stderr).toContain("--stack is required");
        });
        it("an unknown argument", async () => {
            const r = await run(["--stack", "dev", "--frobnicate"]);
            expect(r.code).toBe(2);
            expect(r.stderr).toContain('unknown argument "--frobnicate"');
        });
        it("an invalid policy pack config", async () => {
            const dir = fs.mkdtempSync(path.join(os.tmpdir(), "policy-config-"));
            const file = path.join(dir, "bad.json");
            fs.writeFileSync(file, JSON.stringify({ "wal-archiving-enabled": { rpoSeconds: 3600 }, "no-such-policy": "advisory" }));
            const r = await run(["--stack", "dev", "--policy-config", file]);
            expect(r.code).toBe(2);
            expect(r.stderr).toContain("wal-archiving-enabled.rpoSeconds: must be at most 300");
            expect(r.stderr).toContain("no-such-policy: no such policy in the pack");
        });
        it("a program whose configuration is invalid", async () => {
            const r = await run(["--stack", "dev", "--program", path.join(PROGRAMS, "broken-config.ts")]);
            expect(r.code).toBe(2);
            expect(r.stderr).toContain("db-tier:backup.rpoSeconds");
        });
    });
});
