/**
 * What the program itself gave each resource (its inputs), so that stack policies judge an
 * attribute the program left out as left out, not as "unknown until up".
 *
 * Why: the engine hands stack policies each resource's OUTPUTS, and in a preview the provider
 * reports every attribute the program did not set as computed, so unknown. A container the
 * program gave no labels reads as "labels unknown": its db-tier.role check would be deferred,
 * and stack policies run at the end of `up`, after that container exists on db-only (found
 * by the first preview through the real engine: test/docker/dev-stack.test.ts). The same
 * process analyzes each resource's inputs first (the resource hook every stack policy has,
 * kit.ts), then the stack, so the inputs are at hand.
 */
import type { PolicyResource } from "@pulumi/policy";
import { isUnknown, type Plain, propsOf, unknownCheckingProxy } from "./values";

const inputsByUrn = new Map<string, Plain>();

/** Called with each resource's inputs as the engine analyzes it (before the stack). */
export function recordInputs(urn: string, props: Record<string, unknown>): void {
    inputsByUrn.set(urn, propsOf({ props }));
}

/**
 * The props to judge: the outputs, where an output that is unknown as a whole is replaced by
 * what the program gave (known), or dropped when the program gave nothing. Only such values:
 * a value the program set to something unknown stays unknown, and a known output wins.
 */
export function judgedProps(r: PolicyResource): Plain {
    const outputs = propsOf(r);
    const inputs = inputsByUrn.get(r.urn);
    if (!inputs) return outputs;
    const out: Plain = {};
    for (const [key, value] of Object.entries(outputs)) {
        if (!isUnknown(value)) out[key] = value;
        else if (key in inputs) out[key] = inputs[key];
        // else: the program did not set it; what the provider will compute is not the program's
    }
    return out;
}

/** The stack's resources with judgedProps (same objects otherwise). */
export function withProgramInputs(resources: readonly PolicyResource[]): PolicyResource[] {
    return resources.map((r) =>
        inputsByUrn.has(r.urn)
            ? Object.assign(Object.create(Object.getPrototypeOf(r)), r, { props: unknownCheckingProxy(judgedProps(r)) })
            : r,
    );
}
