/**
 * The GitHub workflows: actionlint finds nothing in .github/workflows (on CI a missing
 * actionlint is a failure, not a skip), and the workflows do what the issue asks: tests and
 * the offline policy check on pull requests, `pulumi preview --policy-pack policy` of both
 * stacks with the diff commented (skipped with a visible note without secrets), `pulumi up`
 * of preview on main, production on a tag or a manual run behind an environment, one
 * deployment at a time per stack.
 */
import { spawnSync } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";

// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): any } = require("js-yaml");

const ROOT = path.resolve(__dirname, "..", "..");
const WORKFLOWS = path.join(ROOT, ".github", "workflows");

function findActionlint(): string | undefined {
    const candidates = [
        process.env.DBTIER_TOOLS_BIN && path.join(process.env.DBTIER_TOOLS_BIN, "actionlint"),
        path.join(process.env.DBTIER_TOOLS || path.join(os.homedir(), ".cache", "db-tier-tools"), "bin", "actionlint"),
        ...(process.env.PATH ?? "").split(path.delimiter).map((d) => path.join(d, "actionlint")),
    ].filter((c): c is string => !!c);
    return candidates.find((c) => fs.existsSync(c));
}

const actionlint = findActionlint();
const onCI = process.env.CI === "true";

describe("actionlint", () => {
    it("is available (required on CI)", (ctx) => {
        if (!actionlint && !onCI) ctx.skip();
        expect(
            actionlint,
            "actionlint not found: run scripts/install-tools.sh (it builds it into ${DBTIER_TOOLS:-$HOME/.cache/db-tier-tools}/bin)",
        ).toBeDefined();
    });

    it("finds nothing in .github/workflows", (ctx) => {
        if (!actionlint) return onCI ? expect.fail("actionlint is missing on CI") : ctx.skip();
        const files = fs.readdirSync(WORKFLOWS).filter((f) => /\.ya?ml$/.test(f));
        expect(files.length).toBeGreaterThan(0);
        const r = spawnSync(actionlint, ["-no-color", ...files.map((f) => path.join(".github", "workflows", f))], {
            cwd: ROOT,
            encoding: "utf8",
        });
        expect(r.error).toBeUndefined();
        expect(`${r.stdout}${r.stderr}`).toBe("");
        expect(r.status).toBe(0);
    });

    it("does report a broken workflow (the linter is not a no-op)", (ctx) => {
        if (!actionlint) return onCI ? expect.fail("actionlint is missing on CI") : ctx.skip();
        const dir = fs.mkdtempSync(path.join(os.tmpdir(), "actionlint-"));
        fs.mkdirSync(path.join(dir, ".github", "workflows"), { recursive: true });
        const file = path.join(dir, ".github", "workflows", "bad.yml");
        fs.writeFileSync(
            file,
            "on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    if: ${{ matrix.x }}\n    steps:\n      - uses: pulumi/actions@v6\n        with:\n          no-such-input: 1\n",
        );
        const r = spawnSync(actionlint, ["-no-color", file], { cwd: dir, encoding: "utf8" });
        expect(r.status).toBe(1);
        expect(r.stdout).toContain("no-such-input");
    });
});

describe("workflows", () => {
    const load = (f: string) => yaml.load(fs.readFileSync(path.join(WORKFLOWS, f), "utf8"));
    const steps = (job: any): any[] => job.steps ?? [];
    const runs = (job: any) =>
        steps(job)
            .map((s) => s.run ?? "")
            .join("\n");
    /**
     * The test job runs what .ci/run runs (npm test) on GitHub's Ubuntu 24.04 runner, with Go
     * 1.26 for the tool builds, the runner's Docker engine for the Docker suite, and the
     * images' Debian base pulled.
     */
    const expectTestJob = (job: any) => {
        expect(job["runs-on"]).toBe("ubuntu-24.04");
        expect(job.env.DBTIER_DOCKER_HOST).toBe("unix:///var/run/docker.sock");
        expect(runs(job)).toMatch(/docker pull debian:bookworm-slim[\s\S]*npm ci[\s\S]*bash \.ci\/run/);
        expect(steps(job).find((st) => String(st.uses).startsWith("actions/setup-go@")).with["go-version"]).toBe("1.26.x");
        expect(fs.readFileSync(path.join(ROOT, ".ci", "run"), "utf8")).toMatch(/^npm test$/m);
    };
    const pulumiSteps = (job: any) =>
        steps(job).filter((s) => typeof s.uses === "string" && s.uses.startsWith("pulumi/actions@") && s.with?.command);

    it("pull requests: npm ci, npm test, the offline check of preview and production, then previews with the pack", () => {
        const wf = load("pull-request.yml");
        expect(Object.keys(wf.on)).toEqual(["pull_request"]);
        expectTestJob(wf.jobs.test);
        expect(wf.jobs["policy-check"].strategy.matrix.stack).toEqual(["preview", "production"]);
        expect(runs(wf.jobs["policy-check"])).toContain('npm run policy:check -- --stack "${{ matrix.stack }}"');
        const preview = wf.jobs.preview;
        expect(preview.needs).toEqual(["test", "policy-check"]);
        expect(preview.strategy.matrix.include.map((i: any) => i.stack)).toEqual(["preview", "production"]);
        const [p] = pulumiSteps(preview);
        expect(p.with).toMatchObject({
            command: "preview",
            "stack-name": "${{ matrix.stack }}",
            policyPacks: "policy",
            policyPackConfigs: "policy/config/${{ matrix.stack }}.json",
            "comment-on-pr": true,
        });
        expect(preview.permissions["pull-requests"]).toBe("write");
        // Skipped, with a visible note, when the backend secrets are absent.
        expect(runs(preview)).toContain("::notice title=Pulumi preview skipped");
        expect(runs(preview)).toContain("GITHUB_STEP_SUMMARY");
        for (const s of steps(preview).slice(1)) expect(s.if).toBe("steps.backend.outputs.available == 'true'");
    });

    it("deployments: preview on main, production on a tag or a manual run, in environments, one at a time per stack", () => {
        const wf = load("deploy.yml");
        expectTestJob(wf.jobs.test);
        expect(wf.jobs.up.needs).toContain("test");
        expect(wf.on.push.branches).toEqual(["main"]);
        expect(wf.on.push.tags).toEqual(["v*"]);
        expect(wf.on.workflow_dispatch.inputs.stack.options).toEqual(["preview", "production"]);
        const up = wf.jobs.up;
        expect(up.environment).toBe("${{ matrix.stack }}");
        expect(up.concurrency).toEqual({ group: "pulumi-up-${{ matrix.stack }}", "cancel-in-progress": false });
        const [p] = pulumiSteps(up);
        expect(p.with).toMatchObject({ command: "up", policyPacks: "policy", policyPackConfigs: "policy/config/${{ matrix.stack }}.json" });
        expect(runs(up)).toContain("npm run policy:check");
        const pick = runs(wf.jobs.plan);
        expect(pick).toContain("push:refs/heads/main) stack=preview");
        expect(pick).toContain("push:refs/tags/v*) stack=production");
    });

    it("releases: on a v* tag, after the tests, images to ghcr.io with tag and digest, npm with provenance, the policy pack on the release", () => {
        const wf = load("release.yml");
        expect(Object.keys(wf.on)).toEqual(["push"]);
        expect(wf.on.push).toEqual({ tags: ["v*"] });
        expect(wf.permissions).toEqual({ contents: "read" });
        expectTestJob(wf.jobs.test);
        // The tag must be the version of both packages.
        expect(runs(wf.jobs.version)).toContain('require("./package.json").version');
        expect(runs(wf.jobs.version)).toContain('require("./policy/package.json").version');

        const images = wf.jobs.images;
        expect(images.needs).toEqual(expect.arrayContaining(["test", "version"]));
        expect(images.permissions).toEqual({ contents: "read", packages: "write" });
        const push = runs(images);
        expect(push).toContain("bash scripts/docker-images.sh");
        expect(push).toMatch(/for name in postgres pgbouncer minio; do/);
        expect(push).toContain('repo="ghcr.io/$owner/db-tier-$name"');
        expect(push).toContain('docker push "$repo:$VERSION"');
        expect(push).toContain("RepoDigests");
        expect(push).toContain('echo "$name=$repo:$VERSION@$digest" >> "$GITHUB_OUTPUT"');
        expect(Object.keys(images.outputs).sort()).toEqual(["minio", "pgbouncer", "postgres"]);
        // The registry password goes on stdin, never on a command line.
        expect(push).toContain('docker login ghcr.io --username "$ACTOR" --password-stdin');

        const npm = wf.jobs.npm;
        expect(npm.permissions).toEqual({ contents: "read", "id-token": "write" });
        expect(runs(npm)).toContain("npm publish --provenance --access public");
        expect(steps(npm).find((st) => st.run?.startsWith("npm publish")).env.NODE_AUTH_TOKEN).toBe("${{ secrets.NPM_TOKEN }}");

        const release = wf.jobs["github-release"];
        expect(release.needs).toEqual(expect.arrayContaining(["images", "npm"]));
        expect(release.permissions).toEqual({ contents: "write" });
        expect(runs(release)).toContain('tar -czf "db-tier-policy-$VERSION.tgz" --exclude=./node_modules -C policy .');
        expect(runs(release)).toContain('gh release create "$TAG" --verify-tag');
        expect(runs(release)).toContain('"db-tier-policy-$VERSION.tgz" images.txt');
        // Optional Pulumi Cloud publication, skipped with a notice when not configured.
        const pp = wf.jobs["policy-publish"];
        expect(runs(pp)).toContain('pulumi policy publish "$POLICY_ORG"');
        expect(runs(pp)).toContain("::notice title=pulumi policy publish skipped");
        for (const st of steps(pp).slice(1)) expect(st.if).toBe("steps.org.outputs.available == 'true'");
    });

    it("the backend and secrets provider come from secrets, never from the files", () => {
        for (const f of ["pull-request.yml", "deploy.yml"]) {
            const text = fs.readFileSync(path.join(WORKFLOWS, f), "utf8");
            for (const s of ["PULUMI_ACCESS_TOKEN", "PULUMI_BACKEND_URL", "PULUMI_CONFIG_PASSPHRASE"])
                expect(text).toContain(`\${{ secrets.${s} }}`);
            // Secret values reach pulumi on stdin, never on a command line.
            expect(text).toContain(`printf '%s' "$2" | pulumi config set --secret`);
        }
    });

    it("every stack has the pack config the workflows pass", () => {
        for (const stack of ["preview", "production"])
            expect(fs.existsSync(path.join(ROOT, "policy", "config", `${stack}.json`))).toBe(true);
    });
});
