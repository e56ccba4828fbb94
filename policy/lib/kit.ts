/**
 * The one shape of a db-tier policy: a name from the vocabulary, a description, remediation
 * steps, `mandatory` by default, optional config with defaults, and a check that reports
 * violations and defers what it cannot know yet (see values.ts). The result is a plain
 * @pulumi/policy ResourceValidationPolicy or StackValidationPolicy: the pack serves it, and
 * scripts/policy-check.ts and the tests call the very same object.
 */
import type {
    EnforcementLevel,
    PolicyConfigSchema,
    PolicyResource,
    ReportViolation,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    Severity,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import type { PolicyName } from "../shared/vocabulary";
import { displayName } from "./docker";
import { recordInputs, withProgramInputs } from "./program-inputs";
import { type Deferral, DeferredCheck, type Plain, propsOf } from "./values";

export const DEFAULT_ENFORCEMENT_LEVEL: EnforcementLevel = "mandatory";

export interface CheckContext<C> {
    /** The policy's config: its defaults overlaid with the pack config of the stack. */
    readonly config: C;
    /** A violation (at the policy's enforcement level). `urn` names the offending resource. */
    report(message: string, urn?: string): void;
    /** A check that cannot be decided until the values are known (reported as advisory). */
    defer(what: string, urn?: string): void;
}

export interface PolicyMeta<C extends object> {
    readonly name: PolicyName;
    readonly description: string;
    readonly remediationSteps: string;
    readonly severity?: Severity;
    readonly configSchema?: PolicyConfigSchema;
    /** Values used when the pack config leaves a property out (mirror the schema's defaults). */
    readonly defaults?: C;
}

/** What a resource policy sees of its resource: plain props, never the engine's proxy. */
export interface ResourceView {
    readonly type: string;
    readonly urn: string;
    readonly name: string;
    readonly props: Plain;
    /** How messages name it: the Docker (or other) `name` property when known, else the Pulumi name, quoted. */
    readonly label: string;
    /** URN of the parent resource, when the engine passed one. */
    readonly parent?: string;
}

function withContext<C extends object>(
    meta: PolicyMeta<C>,
    getConfig: () => object,
    reportViolation: ReportViolation,
    run: (ctx: CheckContext<C>) => void,
): void {
    const deferrals: Deferral[] = [];
    const config = { ...(meta.defaults ?? {}), ...(getConfig() ?? {}) } as C;
    const ctx: CheckContext<C> = {
        config,
        report: (message, urn) => reportViolation(message, urn),
        defer: (what, urn) => {
            if (!deferrals.some((d) => d.what === what && d.urn === urn)) deferrals.push({ what, urn });
        },
    };
    run(ctx);
    if (deferrals.length > 0) throw new DeferredCheck(deferrals);
}

function baseFields<C extends object>(meta: PolicyMeta<C>) {
    return {
        name: meta.name,
        description: meta.description,
        remediationSteps: meta.remediationSteps,
        enforcementLevel: DEFAULT_ENFORCEMENT_LEVEL,
        ...(meta.severity ? { severity: meta.severity } : {}),
        ...(meta.configSchema ? { configSchema: meta.configSchema } : {}),
    };
}

/** A policy that looks at one resource at a time (its inputs), for the given types only. */
export function resourcePolicy<C extends object = Record<string, never>>(
    meta: PolicyMeta<C>,
    types: readonly string[],
    check: (r: ResourceView, ctx: CheckContext<C>) => void,
): ResourceValidationPolicy {
    return {
        ...baseFields(meta),
        validateResource: (args: ResourceValidationArgs, reportViolation: ReportViolation) => {
            if (!types.includes(args.type)) return;
            const props = propsOf(args);
            const view: ResourceView = {
                type: args.type,
                urn: args.urn,
                name: args.name,
                props,
                label: displayName({ name: args.name, props }),
                parent: args.opts?.parent,
            };
            withContext(
                meta,
                () => args.getConfig<object>(),
                reportViolation,
                (ctx) => check(view, ctx),
            );
        },
    };
}

/**
 * A policy that looks at the whole stack (every resource with its parent and provider). Its
 * resource hook reports nothing: it keeps each resource's inputs, so that an output the
 * provider leaves unknown in a preview is judged by what the program wrote (program-inputs.ts).
 */
export function stackPolicy<C extends object = Record<string, never>>(
    meta: PolicyMeta<C>,
    check: (resources: readonly PolicyResource[], ctx: CheckContext<C>) => void,
): StackValidationPolicy & Pick<ResourceValidationPolicy, "validateResource"> {
    return {
        ...baseFields(meta),
        validateResource: (args: ResourceValidationArgs) => recordInputs(args.urn, args.props),
        validateStack: (args: StackValidationArgs, reportViolation: ReportViolation) => {
            withContext(
                meta,
                () => args.getConfig<object>(),
                reportViolation,
                (ctx) => check(withProgramInputs(args.resources), ctx),
            );
        },
    };
}
