/**
 * The offline check's recorder: under the mock runtime it still learns each resource's
 * parent, provider and dependencies from the registration requests, and builds URNs the way
 * the engine does (full parent type chain), so same-named children of different parents
 * stay apart, and policies that decide by parentage (backup buckets) see the real tree.
 */
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ResourceRecord } from "../../policy/lib/evaluate";
import { policyResources } from "../../policy/lib/evaluate";
import { storeKind } from "../../policy/lib/s3";
import { recordProgram } from "../../policy/offline/record";

let records: ResourceRecord[];

beforeAll(async () => {
    // The CLI runs under tsx; here the program's TypeScript is compiled the same way.
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("tsx/cjs/api") as { register(): () => void }).register();
    records = await recordProgram(path.join(__dirname, "programs", "parentage.ts"), {
        project: "proj",
        stack: "rec",
        config: {},
        secretKeys: [],
    });
});

const byUrn = (urn: string) => records.find((r) => r.urn === urn);

describe("recordProgram under the mock runtime", () => {
    it("registers the root stack and gives its children plain type URNs, as the engine does", () => {
        expect(records[0].urn).toBe("urn:pulumi:rec::proj::pulumi:pulumi:Stack::proj-rec");
        expect(byUrn("urn:pulumi:rec::proj::test:index:OuterOne::one")?.parent).toBe("urn:pulumi:rec::proj::pulumi:pulumi:Stack::proj-rec");
    });

    it("keeps same-named children of different parents apart, each with its own parent", () => {
        const buckets = records.filter((r) => r.type === "aws:s3/bucket:Bucket");
        expect(buckets.map((b) => b.urn).sort()).toEqual([
            "urn:pulumi:rec::proj::test:index:OuterOne$test:index:Inner$aws:s3/bucket:Bucket::b",
            "urn:pulumi:rec::proj::test:index:OuterTwo$test:index:Inner$aws:s3/bucket:Bucket::b",
        ]);
        for (const b of buckets) {
            const inner = byUrn(b.parent!)!;
            expect(inner.type).toBe("test:index:Inner");
            const outer = byUrn(inner.parent!)!;
            expect(b.urn.includes(outer.type)).toBe(true);
            expect(b.inputs.bucket).toBe(`bucket-of-${outer.name}`);
        }
    });

    it("records each resource's provider, so the store is read from the provider that really manages the bucket", () => {
        const resources = policyResources(records);
        const kinds = resources
            .filter((r) => r.type === "aws:s3/bucket:Bucket")
            .map((r) => [r.props.bucket, storeKind(r).kind])
            .sort();
        expect(kinds).toEqual([
            ["bucket-of-one", "r2"],
            ["bucket-of-two", "b2"],
        ]);
    });

    it("records explicit dependencies and property dependencies", () => {
        const p = records.find((r) => r.type === "aws:s3/bucketPolicy:BucketPolicy")!;
        expect(p.dependencies).toContain("urn:pulumi:rec::proj::test:index:OuterTwo$test:index:Inner$aws:s3/bucket:Bucket::b");
        expect(p.propertyDependencies?.bucket).toEqual([
            "urn:pulumi:rec::proj::test:index:OuterOne$test:index:Inner$aws:s3/bucket:Bucket::b",
        ]);
        expect(p.inputs.bucket).toBe("bucket-of-one");
    });

    it("hands policies PolicyResource objects whose parent chain is the component tree", () => {
        const resources = policyResources(records);
        const b = resources.find((r) => r.type === "aws:s3/bucket:Bucket" && r.urn.includes("OuterTwo$"))!;
        expect(b.parent?.type).toBe("test:index:Inner");
        expect(b.parent?.parent?.type).toBe("test:index:OuterTwo");
        expect(b.parent?.parent?.parent?.type).toBe("pulumi:pulumi:Stack");
    });
});
