/**
 * The real Pulumi engine, built here from source (scripts/install-pulumi.sh: the CLI from its Go
 * module at the SDK's version, and db-tier's own Node.js language host), running a real
 * TypeScript program (programs/engine-probe) with the file backend and a passphrase, in a
 * private PULUMI_HOME. No resource provider is built yet, so the program holds a component and
 * a DSN from the library's renderer, not the tier (tools/pulumi/README.md says what is missing).
 *
 * What it proves: `pulumi up` runs the program; an immediate preview shows no changes; a secret
 * from `pulumi config set --secret` reaches the DSN output, which `pulumi stack output` prints as
 * [secret] and the state and the config file hold only encrypted (raw, base64, URL-encoded: no
 * form of the value in plain text); a rotated secret converges on the next `up`; the policy
 * pack (policy/, installed outside the repository) runs inside the engine; `destroy` empties
 * the stack.
 */
import { randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { minimalEnv, run, SYSTEM_PATH } from "../../jobs/proc";
import { installPolicyPackCopy } from "../support/policy-pack-copy";
import { REPO } from "../support/tier-harness";

const PROGRAM = path.join(REPO, "test", "integration", "programs", "engine-probe");
const STACK = "probe";

/** Every form in which a leaked secret could appear in a text file. */
function leakForms(secret: string): string[] {
    return [secret, Buffer.from(secret).toString("base64"), encodeURIComponent(secret), JSON.stringify(secret).slice(1, -1)];
}

describe("the real Pulumi engine (CLI and language host built from source)", () => {
    let work: string;
    let bin: string;
    let env: NodeJS.ProcessEnv;
    let configFile: string;
    let pack: string;
    const first = `pw-${randomBytes(18).toString("hex")}/+=`;
    const second = `pw-${randomBytes(18).toString("hex")}?&#`;

    // Only the commands that read the stack's config take --config-file.
    const pulumi = (args: string[], timeoutMs = 240_000) =>
        run(
            path.join(bin, "pulumi"),
            [
                ...args,
                "--stack",
                STACK,
                "--non-interactive",
                "--color",
                "never",
                ...(["up", "preview", "destroy", "config"].includes(args[0]) ? ["--config-file", configFile] : []),
            ],
            {
                cwd: PROGRAM,
                env,
                timeoutMs,
            },
        );
    const ok = async (args: string[]) => {
        const r = await pulumi(args);
        expect(r.code, `pulumi ${args.join(" ")}\n${r.stdout}\n${r.stderr}`).toBe(0);
        return r.stdout;
    };
    const stateText = (): string =>
        fs
            .readdirSync(path.join(work, "state"), { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), "utf8"))
            .join("\n");

    beforeAll(async () => {
        const installed = await run("bash", [path.join(REPO, "scripts", "install-pulumi.sh")], {
            cwd: REPO,
            env: minimalEnv({ HOME: os.homedir(), DBTIER_TOOLS: process.env.DBTIER_TOOLS }),
            timeoutMs: 3_000_000,
        });
        expect(installed.code, installed.stderr).toBe(0);
        bin = installed.stdout.trim().split("\n").at(-1) as string;
        work = fs.mkdtempSync(path.join(os.tmpdir(), "db-tier-engine-"));
        fs.mkdirSync(path.join(work, "state"));
        fs.mkdirSync(path.join(work, "home"));
        configFile = path.join(work, `Pulumi.${STACK}.yaml`);
        env = minimalEnv({
            HOME: work,
            PATH: `${bin}:${SYSTEM_PATH}`,
            PULUMI_HOME: path.join(work, "home"),
            PULUMI_BACKEND_URL: `file://${path.join(work, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: "db-tier engine test passphrase",
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
        });
        pack = await installPolicyPackCopy(work, 420_000);
        const init = await run(path.join(bin, "pulumi"), ["stack", "init", STACK, "--non-interactive"], { cwd: PROGRAM, env });
        expect(init.code, init.stderr).toBe(0);
        await ok(["config", "set", "--secret", "rolePassword", first]);
    }, 3_600_000);

    afterAll(async () => {
        if (work) fs.rmSync(work, { recursive: true, force: true });
    });

    it("is the CLI at the SDK's version, with db-tier's language host", async () => {
        const sdk = JSON.parse(fs.readFileSync(path.join(REPO, "node_modules", "@pulumi", "pulumi", "package.json"), "utf8")).version;
        const v = await run(path.join(bin, "pulumi"), ["version"], { env });
        expect(v.stdout.trim()).toBe(`v${sdk}`);
        expect(fs.existsSync(path.join(bin, "pulumi-language-nodejs"))).toBe(true);
    });

    it("keeps the config secret encrypted in the stack's config file", () => {
        const text = fs.readFileSync(configFile, "utf8");
        expect(text).toMatch(/rolePassword:\s*\n\s*secure: \S+/);
        for (const form of leakForms(first)) expect(text).not.toContain(form);
    });

    it("pulumi up runs the program, and an immediate preview shows no changes", async () => {
        await ok(["up", "--yes", "--skip-preview"]);
        const state = JSON.parse(await ok(["stack", "export"]));
        const types = state.deployment.resources.map((r: { type: string }) => r.type);
        expect(types).toContain("db-tier:index:EngineProbe");
        await ok(["preview", "--expect-no-changes"]);
    }, 600_000);

    it("prints the DSN as [secret], and the state holds no form of the secret in plain text", async () => {
        const outputs = JSON.parse(await ok(["stack", "output", "--json"]));
        expect(outputs).toEqual({ DATABASE_URL: "[secret]", cluster: "app" });
        const shown = JSON.parse(await ok(["stack", "output", "--json", "--show-secrets"]));
        // Positive control: the engine has the real value, so the grep below could find it.
        expect(decodeURIComponent(new URL(shown.DATABASE_URL).password)).toBe(first);
        const state = stateText();
        expect(state).toContain("4dabf18193072939515e22adb298388d"); // the secret signature: ciphertext is there
        for (const form of [...leakForms(first), shown.DATABASE_URL]) expect(state).not.toContain(form);
        const exported = await ok(["stack", "export"]);
        for (const form of leakForms(first)) expect(exported).not.toContain(form);
    }, 300_000);

    it("converges a rotated secret on the next up", async () => {
        await ok(["config", "set", "--secret", "rolePassword", second]);
        // The preview of a secret-only change shows no value (both sides print [secret]).
        const preview = await ok(["preview", "--diff"]);
        for (const form of leakForms(second)) expect(preview).not.toContain(form);
        await ok(["up", "--yes", "--skip-preview"]);
        const shown = JSON.parse(await ok(["stack", "output", "--json", "--show-secrets"]));
        expect(decodeURIComponent(new URL(shown.DATABASE_URL).password)).toBe(second);
        const state = stateText();
        for (const form of [...leakForms(first), ...leakForms(second)]) expect(state).not.toContain(form);
    }, 600_000);

    it("runs the policy pack inside the engine (pulumi preview --policy-pack)", async () => {
        const r = await pulumi(["preview", "--policy-pack", pack], 600_000);
        expect(r.code, `${r.stdout}\n${r.stderr}`).toBe(0);
        expect(r.stdout).toMatch(/Policies:[\s\S]*db-tier/);
    }, 600_000);

    it("destroy leaves an empty stack", async () => {
        await ok(["destroy", "--yes", "--skip-preview"]);
        const state = JSON.parse(await ok(["stack", "export"]));
        expect(state.deployment.resources ?? []).toEqual([]);
    }, 300_000);
});
