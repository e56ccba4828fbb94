/**
 * Runs the pack's policy objects over a list of resources the way the Pulumi analyzer does:
 * resource policies once per resource with its inputs (ResourceValidationArgs), stack
 * policies once with every resource and its outputs, parent, provider and dependencies
 * (StackValidationArgs); props wrapped in the engine's unknown-checking proxy; a policy
 * skipped at level `disabled`; an UnknownValueError (including the pack's DeferredCheck)
 * reported at advisory level. @pulumi/policy has no public helper that builds these
 * arguments, so this is that helper: scripts/policy-check.ts and the tests both use it.
 */
import type {
    EnforcementLevel,
    Policies,
    PolicyProviderResource,
    PolicyResource,
    PolicyResourceOptions,
    ResourceValidationArgs,
    ResourceValidationPolicy,
    StackValidationArgs,
    StackValidationPolicy,
} from "@pulumi/policy";
import { type PackConfig, resolvePolicyConfig } from "./pack-config";
import { isUnknownValueError, unknownCheckingProxy } from "./values";

/** One registered resource, as the engine knows it. */
export interface ResourceRecord {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    /** Inputs, as resource policies see them. */
    readonly inputs: Record<string, unknown>;
    /** Outputs (state), as stack policies see them; defaults to the inputs. */
    readonly outputs?: Record<string, unknown>;
    readonly parent?: string;
    /** URN of the provider resource that manages it, if not the default provider. */
    readonly provider?: string;
    readonly dependencies?: readonly string[];
    readonly propertyDependencies?: Readonly<Record<string, readonly string[]>>;
    readonly custom?: boolean;
    readonly protect?: boolean;
}

export interface Violation {
    readonly policy: string;
    readonly level: "mandatory" | "advisory";
    readonly urn: string;
    readonly message: string;
}

export const ROOT_STACK_TYPE = "pulumi:pulumi:Stack";

class NotApplicable extends Error {}

function typeOf(resourceClass: unknown): string | undefined {
    return (resourceClass as { __pulumiType?: string } | undefined)?.__pulumiType;
}

function options(r: ResourceRecord): PolicyResourceOptions {
    return {
        protect: r.protect ?? false,
        ignoreChanges: [],
        aliases: [],
        customTimeouts: { createSeconds: 0, updateSeconds: 0, deleteSeconds: 0 },
        additionalSecretOutputs: [],
        ...(r.parent ? { parent: r.parent } : {}),
    };
}

function providerOf(r: ResourceRecord, byUrn: Map<string, ResourceRecord>): PolicyProviderResource | undefined {
    const p = r.provider ? byUrn.get(r.provider) : undefined;
    if (!p) return undefined;
    return { type: p.type, urn: p.urn, name: p.name, props: unknownCheckingProxy({ ...(p.outputs ?? p.inputs) }) };
}

const notApplicable = (reason?: string): never => {
    throw new NotApplicable(reason);
};

/** ResourceValidationArgs of one resource, as the analyzer builds them. */
export function resourceValidationArgs(
    r: ResourceRecord,
    byUrn: Map<string, ResourceRecord>,
    config: Record<string, unknown> = {},
): ResourceValidationArgs {
    const props = unknownCheckingProxy({ ...r.inputs });
    const args: ResourceValidationArgs = {
        type: r.type,
        props,
        urn: r.urn,
        name: r.name,
        opts: options(r),
        stackTags: new Map(),
        isType: (cls) => typeOf(cls) === r.type,
        asType: ((cls: unknown) => (typeOf(cls) === r.type ? props : undefined)) as ResourceValidationArgs["asType"],
        getConfig: <T extends object>() => ({ ...config }) as T,
        notApplicable,
    };
    const provider = providerOf(r, byUrn);
    if (provider) args.provider = provider;
    return args;
}

/** The analyzer's PolicyResource list: outputs as props, parents and dependencies as objects. */
export function policyResources(records: readonly ResourceRecord[]): PolicyResource[] {
    const byUrn = new Map(records.map((r) => [r.urn, r]));
    const out = new Map<string, PolicyResource>();
    const built: { r: ResourceRecord; resource: PolicyResource }[] = [];
    for (const r of records) {
        const props = unknownCheckingProxy({ ...(r.outputs ?? r.inputs) });
        const resource: PolicyResource = {
            type: r.type,
            props,
            urn: r.urn,
            name: r.name,
            opts: options(r),
            dependencies: [],
            propertyDependencies: {},
            isType: (cls) => typeOf(cls) === r.type,
            asType: ((cls: unknown) => (typeOf(cls) === r.type ? props : undefined)) as PolicyResource["asType"],
        };
        const provider = providerOf(r, byUrn);
        if (provider) resource.provider = provider;
        out.set(r.urn, resource);
        built.push({ r, resource });
    }
    for (const { r, resource } of built) {
        if (r.parent && out.has(r.parent)) resource.parent = out.get(r.parent);
        resource.dependencies = (r.dependencies ?? []).map((d) => out.get(d)).filter((d): d is PolicyResource => d !== undefined);
        for (const [k, deps] of Object.entries(r.propertyDependencies ?? {})) {
            resource.propertyDependencies[k] = deps.map((d) => out.get(d)).filter((d): d is PolicyResource => d !== undefined);
        }
    }
    return [...out.values()];
}

export function stackValidationArgs(resources: PolicyResource[], config: Record<string, unknown> = {}): StackValidationArgs {
    return { resources, stackTags: new Map(), getConfig: <T extends object>() => ({ ...config }) as T, notApplicable };
}

function isStackPolicy(p: Policies[number]): p is StackValidationPolicy {
    return typeof (p as StackValidationPolicy).validateStack === "function";
}

function reportedLevel(level: EnforcementLevel): "mandatory" | "advisory" {
    // Like the analyzer: a violation that survives remediation is mandatory.
    return level === "advisory" ? "advisory" : "mandatory";
}

export interface EvaluateOptions {
    /** Pack config (policy/config/<stack>.json); default: every policy at its own level. */
    readonly packConfig?: PackConfig;
}

/**
 * Every violation of every policy over the resources. A policy that throws anything but an
 * unknown-value error is a bug and is rethrown, naming the policy.
 */
export async function evaluatePolicies(
    policies: Policies,
    records: readonly ResourceRecord[],
    opts: EvaluateOptions = {},
): Promise<Violation[]> {
    const byUrn = new Map(records.map((r) => [r.urn, r]));
    const stackUrn = records.find((r) => r.type === ROOT_STACK_TYPE)?.urn ?? "";
    const violations: Violation[] = [];
    const resources = policyResources(records);
    for (const p of policies) {
        const { level, properties } = resolvePolicyConfig(opts.packConfig ?? {}, p);
        if (level === "disabled") continue;
        const push = (message: string, urn: string, lvl: "mandatory" | "advisory" = reportedLevel(level)) =>
            violations.push({ policy: p.name, level: lvl, urn, message });
        const guard = async (urn: string, run: () => unknown): Promise<void> => {
            try {
                await run();
            } catch (e) {
                if (e instanceof NotApplicable) return;
                if (isUnknownValueError(e)) {
                    push(e.message, urn, "advisory");
                    return;
                }
                throw new Error(`policy ${p.name} failed on ${urn || "the stack"}: ${(e as Error).stack ?? e}`);
            }
        };
        if (isStackPolicy(p)) {
            await guard(stackUrn, () =>
                p.validateStack(stackValidationArgs(resources, properties), (message, urn) => push(message, urn ?? stackUrn)),
            );
            continue;
        }
        const validations = (p as ResourceValidationPolicy).validateResource;
        const list = validations === undefined ? [] : Array.isArray(validations) ? validations : [validations];
        for (const r of records) {
            for (const validate of list) {
                await guard(r.urn, () => validate(resourceValidationArgs(r, byUrn, properties), (message) => push(message, r.urn)));
            }
        }
    }
    return violations;
}
