/**
 * The policy pack ships on its own: a tarball of policy/ (what the release attaches), unpacked into a temporary
 * directory outside the repository, its dependencies installed there from its own
 * package.json and lockfile (npm registry or cache), then started exactly as the Pulumi CLI
 * starts a Node.js pack (the SDK's run-policy-pack runner, ts-node with type checking). It
 * must type-check, serve every contract policy, and report a violation, with nothing of the
 * repository reachable: no import leaves the pack, and module resolution from the temporary
 * directory cannot walk up into the repository's node_modules.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, type RunResult } from "../../jobs/proc";
import { POLICY_NAMES } from "../../vocabulary";

/* eslint-disable @typescript-eslint/no-require-imports */
const grpc = require("@grpc/grpc-js");
const analyzerpb = require("@pulumi/pulumi/proto/analyzer_pb");
const analyzergrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const emptypb = require("google-protobuf/google/protobuf/empty_pb");
const structpb = require("google-protobuf/google/protobuf/struct_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

const ROOT = path.resolve(__dirname, "..", "..");
const POLICY = path.join(ROOT, "policy");
let work: string;
let pack: string;
let server: ChildProcess | undefined;
let client: any;

/** Runs a command asynchronously (the test worker must keep answering vitest meanwhile), NODE_PATH emptied. */
function runIn(cmd: string, args: string[], cwd: string): Promise<RunResult> {
    return run(cmd, args, { cwd, env: { ...process.env, NODE_PATH: "" } });
}

async function sh(cmd: string, args: string[], cwd: string): Promise<string> {
    const r = await runIn(cmd, args, cwd);
    if (r.code !== 0) throw new Error(`${cmd} ${args.join(" ")} failed (${r.code}): ${r.stderr}`);
    return r.stdout;
}

function call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method](req, (err: Error | null, resp: T) => (err ? reject(err) : resolve(resp))));
}

/** Every .ts file of a directory tree (node_modules left out). */
function sources(dir: string): string[] {
    return fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
        const p = path.join(dir, e.name);
        if (e.isDirectory()) return e.name === "node_modules" ? [] : sources(p);
        return e.name.endsWith(".ts") ? [p] : [];
    });
}

/** Module specifiers of every import, export-from and require in a file. */
function specifiers(file: string): string[] {
    const text = fs.readFileSync(file, "utf8");
    const statements =
        /^\s*(?:import|export)\s[^;]*?\bfrom\s+["']([^"']+)["']|^\s*import\s+["']([^"']+)["']|\brequire\(\s*["']([^"']+)["']\s*\)/gm;
    return [...text.matchAll(statements)].map((m) => m[1] ?? m[2] ?? m[3]);
}

beforeAll(async () => {
    work = fs.mkdtempSync(path.join(os.tmpdir(), "db-tier-pack-"));
    expect(path.relative(ROOT, work).startsWith("..")).toBe(true);
    // The release's asset: a tarball of policy/ without node_modules (npm pack would drop the
    // lockfile), made the same way here and unpacked.
    const tarball = path.join(work, "db-tier-policy.tgz");
    await sh("tar", ["-czf", tarball, "--exclude=./node_modules", "-C", POLICY, "."], work);
    pack = path.join(work, "package");
    fs.mkdirSync(pack);
    await sh("tar", ["-xzf", tarball, "-C", pack], work);
    await sh("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline"], pack);
}, 420_000);

afterAll(() => {
    client?.close();
    server?.kill();
    if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe("the policy pack, packed and installed outside the repository", () => {
    it("contains the pack and its shared copies, and no import leaves it", () => {
        for (const f of [
            "PulumiPolicy.yaml",
            "index.ts",
            "package.json",
            "package-lock.json",
            "tsconfig.json",
            "shared/vocabulary.ts",
            "shared/cron.ts",
        ]) {
            expect(fs.existsSync(path.join(pack, f)), f).toBe(true);
        }
        const deps = Object.keys(JSON.parse(fs.readFileSync(path.join(pack, "package.json"), "utf8")).dependencies);
        const files = sources(pack);
        expect(files.length).toBeGreaterThan(20);
        for (const file of files) {
            for (const spec of specifiers(file)) {
                if (spec.startsWith(".")) {
                    const target = path.resolve(path.dirname(file), spec);
                    expect(
                        path.relative(pack, target).startsWith(".."),
                        `${path.relative(pack, file)} imports ${spec}, outside the pack`,
                    ).toBe(false);
                } else if (!spec.startsWith("node:")) {
                    const pkg = spec.startsWith("@") ? spec.split("/").slice(0, 2).join("/") : spec.split("/")[0];
                    expect(deps, `${path.relative(pack, file)} imports ${spec}, not a dependency of the pack`).toContain(pkg);
                }
            }
        }
    });

    it("resolves its dependencies inside the temporary directory, never in the repository", async () => {
        for (const m of ["@pulumi/policy", "@pulumi/pulumi", "typescript", "js-yaml"]) {
            const resolved = (await sh(process.execPath, ["-p", `require.resolve(${JSON.stringify(m)})`], pack)).trim();
            expect(resolved.startsWith(pack + path.sep), `${m} -> ${resolved}`).toBe(true);
        }
        const root = await runIn(process.execPath, ["-p", 'require.resolve("vitest")'], pack);
        expect(root.code, "a root-only package must not be reachable from the pack").not.toBe(0);
    });

    it("starts as the Pulumi CLI starts it, type-checks, and serves every contract policy", async () => {
        const runner = path.join(pack, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack", "index.js");
        server = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: pack, env: { ...process.env, NODE_PATH: "" } });
        let stderr = "";
        server.stderr!.on("data", (d) => (stderr += d));
        const port = await new Promise<string>((resolve, reject) => {
            let out = "";
            server!.stdout!.on("data", (d) => {
                out += d;
                const m = /^(\d+)\s*$/m.exec(out);
                if (m) resolve(m[1]);
            });
            server!.on("exit", (code) => reject(new Error(`policy pack exited ${code}: ${stderr}`)));
        });
        client = new analyzergrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
        const info: any = await call("getAnalyzerInfo", new emptypb.Empty());
        expect(info.getName()).toBe("db-tier");
        expect(info.getVersion()).toBe(JSON.parse(fs.readFileSync(path.join(POLICY, "package.json"), "utf8")).version);
        expect(
            info
                .getPoliciesList()
                .map((p: any) => p.getName())
                .sort(),
        ).toEqual([...POLICY_NAMES].sort());

        // And the policies run: a Postgres container publishing 5432 is a mandatory violation.
        const req = new analyzerpb.AnalyzeRequest();
        req.setType("docker:index/container:Container");
        req.setName("pg");
        req.setUrn("urn:pulumi:s::p::docker:index/container:Container::pg");
        req.setProperties(
            structpb.Struct.fromJavaScript({
                image: "x",
                labels: [{ label: "db-tier.role", value: "postgres" }],
                ports: [{ internal: 5432, external: 5432 }],
            }),
        );
        req.setOptions(new analyzerpb.AnalyzerResourceOptions());
        const resp: any = await call("analyze", req);
        const names = resp.getDiagnosticsList().map((d: any) => d.getPolicyname());
        expect(names).toContain("postgres-no-published-ports");
    }, 180_000);
});
