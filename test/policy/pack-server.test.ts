/**
 * The pack as the Pulumi CLI runs it: `policy/` started by the SDK's run-policy-pack runner
 * (what `--policy-pack policy` does), serving the analyzer gRPC protocol. Checked over that protocol:
 * the pack's name and version, every contract policy at mandatory with its description,
 * remediation steps and config schema; a violation reported by Analyze; and a value unknown
 * during preview turned into an advisory "check deferred to up" by the real server.
 */
import { type ChildProcess, spawn } from "node:child_process";
import * as path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { UNKNOWN } from "../../policy/lib/values";
import { POLICY_NAMES } from "../../vocabulary";
import { BUCKET, compliant, type Rec, T } from "./fixtures";

/* eslint-disable @typescript-eslint/no-require-imports */
const grpc = require("@grpc/grpc-js");
const analyzerpb = require("@pulumi/pulumi/proto/analyzer_pb");
const analyzergrpc = require("@pulumi/pulumi/proto/analyzer_grpc_pb");
const emptypb = require("google-protobuf/google/protobuf/empty_pb");
const structpb = require("google-protobuf/google/protobuf/struct_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

const ROOT = path.resolve(__dirname, "..", "..");
let server: ChildProcess;
let client: any;

function call<T>(method: string, req: unknown): Promise<T> {
    return new Promise((resolve, reject) => client[method](req, (err: Error | null, resp: T) => (err ? reject(err) : resolve(resp))));
}

beforeAll(async () => {
    // Exactly how the Pulumi CLI's analyzer plugin starts a Node.js policy pack: the SDK's
    // run-policy-pack runner (ts-node with type checking) on the pack directory.
    const runner = path.join(ROOT, "node_modules", "@pulumi", "pulumi", "cmd", "run-policy-pack", "index.js");
    server = spawn(process.execPath, [runner, "127.0.0.1:0", "."], { cwd: path.join(ROOT, "policy") });
    let stderr = "";
    server.stderr!.on("data", (d) => (stderr += d));
    const port = await new Promise<string>((resolve, reject) => {
        let out = "";
        server.stdout!.on("data", (d) => {
            out += d;
            const m = /^(\d+)\s*$/m.exec(out);
            if (m) resolve(m[1]);
        });
        server.on("exit", (code) => reject(new Error(`policy pack exited ${code}: ${stderr}`)));
    });
    client = new analyzergrpc.AnalyzerClient(`127.0.0.1:${port}`, grpc.credentials.createInsecure());
}, 60_000);

afterAll(() => {
    client?.close();
    server?.kill();
});

function analyzeRequest(rec: { type: string; name: string; urn: string; inputs: Record<string, unknown> }) {
    const req = new analyzerpb.AnalyzeRequest();
    req.setType(rec.type);
    req.setName(rec.name);
    req.setUrn(rec.urn);
    req.setProperties(structpb.Struct.fromJavaScript(rec.inputs));
    req.setOptions(new analyzerpb.AnalyzerResourceOptions());
    return req;
}

describe("the policy pack served as the Pulumi CLI runs it", () => {
    it("describes itself: name, version from policy/package.json, every policy mandatory with remediation and schema", async () => {
        const info: any = await call("getAnalyzerInfo", new emptypb.Empty());
        expect(info.getName()).toBe("db-tier");
        expect(info.getVersion()).toBe("0.1.0");
        const byName = new Map<string, any>(info.getPoliciesList().map((p: any) => [p.getName(), p]));
        expect([...byName.keys()].sort()).toEqual([...POLICY_NAMES].sort());
        for (const p of byName.values()) {
            expect(p.getEnforcementlevel()).toBe(analyzerpb.EnforcementLevel.MANDATORY);
            expect(p.getDescription().length).toBeGreaterThan(20);
            expect(p.getRemediationSteps().length).toBeGreaterThan(20);
        }
        const schema = byName.get("wal-archiving-enabled").getConfigschema().getProperties().toJavaScript();
        expect(schema.rpoSeconds).toMatchObject({ type: "integer", default: 300 });
    });

    it("Analyze reports a published Postgres port as a mandatory violation", async () => {
        const f = compliant();
        const pg = f.s.get(f.tier.postgres);
        pg.inputs.ports = [{ internal: 5432, external: 5432 }];
        const resp: any = await call("analyze", analyzeRequest(pg));
        const d = resp
            .getDiagnosticsList()
            .map((x: any) => ({ policy: x.getPolicyname(), level: x.getEnforcementlevel(), message: x.getMessage() }));
        expect(d).toEqual([
            {
                policy: "postgres-no-published-ports",
                level: analyzerpb.EnforcementLevel.MANDATORY,
                message: expect.stringContaining("publishes port 5432"),
            },
        ]);
    });

    it("Analyze turns an unknown postgresql.conf into an advisory deferral, and still reports what is known", async () => {
        const f = compliant();
        const pg = f.s.get(f.tier.postgres);
        pg.inputs.uploads = pg.inputs.uploads.map((u: any) => ({ ...u, content: UNKNOWN }));
        pg.inputs.publishAllPorts = true;
        const resp: any = await call("analyze", analyzeRequest(pg));
        const d = resp
            .getDiagnosticsList()
            .map((x: any) => ({ policy: x.getPolicyname(), level: x.getEnforcementlevel(), message: x.getMessage() }));
        expect(d).toContainEqual({
            policy: "postgres-no-published-ports",
            level: analyzerpb.EnforcementLevel.MANDATORY,
            message: expect.stringContaining("publishAllPorts"),
        });
        expect(d).toContainEqual({
            policy: "wal-archiving-enabled",
            level: analyzerpb.EnforcementLevel.ADVISORY,
            message: expect.stringMatching(/during preview: check deferred to up: the postgresql.conf of Postgres container/),
        });
        expect(d.filter((x: any) => x.level === analyzerpb.EnforcementLevel.MANDATORY).map((x: any) => x.policy)).toEqual([
            "postgres-no-published-ports",
        ]);
    });

    it("AnalyzeStack sees parentage and providers: a public policy on the backup bucket, and the B2 chores", async () => {
        const f = compliant("b2");
        f.s.add(T.bucketPolicy, "open", {
            bucket: BUCKET,
            policy: JSON.stringify({ Statement: [{ Effect: "Allow", Principal: "*", Action: "s3:GetObject" }] }),
        });
        f.s.remove(f.bucket.versioning!);
        const byUrn = new Map(f.s.records.map((r) => [r.urn, r as Rec]));
        const resources = f.s.records.map((r) => {
            const a = new analyzerpb.AnalyzerResource();
            a.setType(r.type);
            a.setName(r.name);
            a.setUrn(r.urn);
            a.setProperties(structpb.Struct.fromJavaScript(r.inputs));
            a.setOptions(new analyzerpb.AnalyzerResourceOptions());
            if (r.parent) a.setParent(r.parent);
            const p = r.provider ? byUrn.get(r.provider) : undefined;
            if (p) {
                const pr = new analyzerpb.AnalyzerProviderResource();
                pr.setType(p.type);
                pr.setName(p.name);
                pr.setUrn(p.urn);
                pr.setProperties(structpb.Struct.fromJavaScript(p.inputs));
                a.setProvider(pr);
            }
            return a;
        });
        const req = new analyzerpb.AnalyzeStackRequest();
        req.setResourcesList(resources);
        const resp: any = await call("analyzeStack", req);
        const d = resp.getDiagnosticsList().map((x: any) => ({ policy: x.getPolicyname(), urn: x.getUrn(), message: x.getMessage() }));
        expect(d).toContainEqual({
            policy: "backup-bucket-private",
            urn: expect.stringContaining("BucketPolicy::open"),
            message: expect.stringContaining("to everyone"),
        });
        expect(d).toContainEqual({
            policy: "backup-bucket-lifecycle",
            urn: f.bucket.bucket,
            message: expect.stringContaining("Backblaze B2 without versioning"),
        });
        expect(d.length).toBe(2);
    });
});
