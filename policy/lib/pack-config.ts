/**
 * Policy pack config in the format of `pulumi preview --policy-pack-config FILE` (the same
 * file the workflows pass to pulumi/actions as `policyPackConfigs`):
 *
 *   { "all": "mandatory",
 *     "app-reaches-only-pooler": { "enforcementLevel": "mandatory", "allowedHostAddresses": ["127.0.0.1"] },
 *     "generated-secret-strength": "advisory" }
 *
 * A policy's level comes from its own entry, else from "all", else from the policy
 * (mandatory). The properties are validated against each policy's configSchema, and the
 * schema's defaults fill what the file leaves out, as the Pulumi CLI does.
 */
import * as fs from "node:fs";
import type { EnforcementLevel, Policy, PolicyConfigSchema } from "@pulumi/policy";
import { DEFAULT_ENFORCEMENT_LEVEL } from "./kit";

export type PackConfig = Record<string, EnforcementLevel | ({ enforcementLevel?: EnforcementLevel } & Record<string, unknown>)>;

export const ENFORCEMENT_LEVELS: readonly EnforcementLevel[] = ["advisory", "mandatory", "remediate", "disabled"];

export class PackConfigError extends Error {
    constructor(
        readonly source: string,
        readonly problems: readonly string[],
    ) {
        super(`${source}: invalid policy pack config\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "PackConfigError";
    }
}

type Schema = NonNullable<PolicyConfigSchema["properties"]>[string];

function typeName(v: unknown): string {
    if (Array.isArray(v)) return "array";
    if (v === null) return "null";
    if (typeof v === "number" && Number.isInteger(v)) return "integer";
    return typeof v;
}

/** Checks a value against the subset of JSON Schema the pack's configSchemas use. */
function checkValue(value: unknown, schema: Schema, path: string, problems: string[]): void {
    if (typeof schema === "boolean") {
        if (!schema) problems.push(`${path}: is not allowed`);
        return;
    }
    if (schema.type) {
        const types = Array.isArray(schema.type) ? schema.type : [schema.type];
        const actual = typeName(value);
        const ok = types.some((t) => t === actual || (t === "number" && actual === "integer"));
        if (!ok) {
            problems.push(`${path}: must be ${types.join(" or ")} (got ${actual})`);
            return;
        }
    }
    if (schema.enum && !schema.enum.some((e) => JSON.stringify(e) === JSON.stringify(value))) {
        problems.push(`${path}: must be one of ${schema.enum.map((e) => JSON.stringify(e)).join(", ")}`);
    }
    if (typeof value === "number") {
        if (schema.minimum !== undefined && value < schema.minimum) problems.push(`${path}: must be at least ${schema.minimum}`);
        if (schema.maximum !== undefined && value > schema.maximum) problems.push(`${path}: must be at most ${schema.maximum}`);
    }
    if (typeof value === "string") {
        if (schema.minLength !== undefined && value.length < schema.minLength)
            problems.push(`${path}: must have at least ${schema.minLength} characters`);
        if (schema.pattern !== undefined && !new RegExp(schema.pattern).test(value)) problems.push(`${path}: must match ${schema.pattern}`);
    }
    if (Array.isArray(value)) {
        if (schema.minItems !== undefined && value.length < schema.minItems)
            problems.push(`${path}: must have at least ${schema.minItems} items`);
        if (schema.items && !Array.isArray(schema.items))
            for (const [i, v] of value.entries()) checkValue(v, schema.items as Schema, `${path}[${i}]`, problems);
    }
}

/** Problems of a config against the pack's policies (empty when valid). */
export function validatePackConfig(config: unknown, policies: readonly Policy[]): string[] {
    const problems: string[] = [];
    if (config === null || typeof config !== "object" || Array.isArray(config)) return ["the file must hold a JSON object"];
    for (const [key, entry] of Object.entries(config as Record<string, unknown>)) {
        const policy = policies.find((p) => p.name === key);
        if (key !== "all" && !policy) {
            problems.push(`${key}: no such policy in the pack (known: all, ${policies.map((p) => p.name).join(", ")})`);
            continue;
        }
        if (typeof entry === "string") {
            if (!ENFORCEMENT_LEVELS.includes(entry as EnforcementLevel))
                problems.push(`${key}: enforcement level must be one of ${ENFORCEMENT_LEVELS.join(", ")}`);
            continue;
        }
        if (entry === null || typeof entry !== "object" || Array.isArray(entry)) {
            problems.push(`${key}: must be an enforcement level or an object`);
            continue;
        }
        for (const [prop, value] of Object.entries(entry as Record<string, unknown>)) {
            if (prop === "enforcementLevel") {
                if (!ENFORCEMENT_LEVELS.includes(value as EnforcementLevel))
                    problems.push(`${key}.enforcementLevel: must be one of ${ENFORCEMENT_LEVELS.join(", ")}`);
                continue;
            }
            const schema = policy?.configSchema?.properties?.[prop];
            if (!schema) {
                problems.push(
                    `${key}.${prop}: ${key === "all" ? '"all" takes only enforcementLevel' : "not a config property of this policy"}`,
                );
                continue;
            }
            checkValue(value, schema, `${key}.${prop}`, problems);
        }
        for (const req of policy?.configSchema?.required ?? []) {
            if (
                !(req in (entry as object)) &&
                policy?.configSchema?.properties?.[req] &&
                (policy.configSchema.properties[req] as { default?: unknown }).default === undefined
            ) {
                problems.push(`${key}.${req}: is required`);
            }
        }
    }
    return problems;
}

/** Reads and validates a config file; throws PackConfigError naming every problem. */
export function loadPackConfig(file: string, policies: readonly Policy[]): PackConfig {
    let parsed: unknown;
    try {
        parsed = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new PackConfigError(file, [`cannot be read as JSON: ${(e as Error).message}`]);
    }
    const problems = validatePackConfig(parsed, policies);
    if (problems.length > 0) throw new PackConfigError(file, problems);
    return parsed as PackConfig;
}

function levelOf(entry: PackConfig[string] | undefined): EnforcementLevel | undefined {
    if (entry === undefined) return undefined;
    return typeof entry === "string" ? entry : entry.enforcementLevel;
}

/** The enforcement level and the config properties (schema defaults filled in) of one policy. */
export function resolvePolicyConfig(config: PackConfig, policy: Policy): { level: EnforcementLevel; properties: Record<string, unknown> } {
    const own = config[policy.name];
    const level = levelOf(own) ?? levelOf(config.all) ?? policy.enforcementLevel ?? DEFAULT_ENFORCEMENT_LEVEL;
    const properties: Record<string, unknown> = {};
    for (const [k, s] of Object.entries(policy.configSchema?.properties ?? {})) {
        if (typeof s === "object" && s.default !== undefined) properties[k] = s.default;
    }
    if (own !== undefined && typeof own === "object") {
        for (const [k, v] of Object.entries(own)) if (k !== "enforcementLevel") properties[k] = v;
    }
    return { level, properties };
}
