/**
 * Stack policies under the real engine's preview: the engine hands them outputs, in which the
 * provider reports an attribute the program never set as unknown (computed). A container given
 * no labels must still count as unlabelled, not as "role unknown until up": stack policies
 * run at the end of `up`, after the container exists. Each case runs the pack's own objects
 * the way the analyzer does: the resource hook with the inputs, then the stack with outputs.
 */
import type { StackValidationPolicy } from "@pulumi/policy";
import { describe, expect, it } from "vitest";
import { policyResources, type ResourceRecord, resourceValidationArgs, stackValidationArgs } from "../../policy/lib/evaluate";
import { UNKNOWN } from "../../policy/lib/values";
import { policies } from "../../policy/policies";
import { compliant, type Rec, T } from "./fixtures";

interface Seen {
    policy: string;
    message: string;
}

/** What every stack policy reports (violations; deferrals as `deferred:`), after the resource hooks when `hooks`. */
async function analyze(
    records: readonly ResourceRecord[],
    outputs: Record<string, Record<string, unknown>>,
    hooks: boolean,
): Promise<Seen[]> {
    const byUrn = new Map(records.map((r) => [r.urn, r]));
    const seen: Seen[] = [];
    for (const p of policies) {
        const hook = (p as { validateResource?: (a: unknown, r: unknown) => void }).validateResource;
        if (typeof (p as StackValidationPolicy).validateStack !== "function") continue;
        expect(typeof hook, `${p.name} has its resource hook`).toBe("function");
        if (hooks) for (const r of records) await hook?.(resourceValidationArgs(r, byUrn), () => expect.fail(`${p.name}'s hook reported`));
    }
    const withOutputs = records.map((r) => ({ ...r, outputs: { ...r.inputs, ...(outputs[r.urn] ?? {}) } }));
    for (const p of policies) {
        if (typeof (p as StackValidationPolicy).validateStack !== "function") continue;
        try {
            await (p as StackValidationPolicy).validateStack(stackValidationArgs(policyResources(withOutputs)), (message) =>
                seen.push({ policy: p.name, message }),
            );
        } catch (e) {
            seen.push({ policy: p.name, message: `deferred: ${(e as Error).message}` });
        }
    }
    return seen;
}

/** A compliant stack plus a container the program gave no labels, on db-only; its preview outputs say labels unknown. */
function rogue(unique: string): { records: Rec[]; outputs: Record<string, Record<string, unknown>> } {
    const f = compliant("minio");
    const urn = f.s.add(T.container, `rogue-${unique}`, {
        name: `rogue-${unique}`,
        image: "postgres:15",
        networksAdvanced: [{ name: "test-app-db-only" }],
    });
    return { records: f.s.records, outputs: { [urn]: { labels: UNKNOWN } } };
}

describe("stack policies judge what the program wrote where a preview's outputs are unknown", () => {
    it("an unlabelled container on db-only is a violation in preview (db-only-network-members, app-reaches-only-pooler), not a deferral", async () => {
        const { records, outputs } = rogue("a");
        const seen = await analyze(records, outputs, true);
        const violations = seen.filter((s) => !s.message.startsWith("deferred:"));
        expect(violations.map((v) => v.policy).sort()).toEqual(["app-reaches-only-pooler", "db-only-network-members"]);
        expect(seen.filter((s) => s.message.startsWith("deferred:"))).toEqual([]);
    });

    it("control: without the inputs (no resource hook ran) the same outputs only defer", async () => {
        const { records, outputs } = rogue("b");
        const seen = await analyze(records, outputs, false);
        expect(seen.filter((s) => !s.message.startsWith("deferred:"))).toEqual([]);
        expect(seen.map((s) => s.policy)).toContain("db-only-network-members");
    });

    it("labels the program set to a value unknown until up stay deferred; a known output wins over the inputs", async () => {
        const f = compliant("minio");
        const urn = f.s.add(T.container, "late", {
            name: "late",
            image: "postgres:15",
            labels: UNKNOWN,
            networksAdvanced: [{ name: "test-app-db-only" }],
        });
        const seen = await analyze(f.s.records, { [urn]: { labels: UNKNOWN } }, true);
        expect(seen.filter((s) => !s.message.startsWith("deferred:"))).toEqual([]);
        expect(seen.some((s) => s.policy === "db-only-network-members" && s.message.includes('"late"'))).toBe(true);
        // The compliant tier's containers: known outputs are judged as they are, no finding.
        const clean = await analyze(compliant("minio").s.records, {}, true);
        expect(clean).toEqual([]);
    });
});
