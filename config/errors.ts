/**
 * Turns zod issues into one readable error: every offending key, by its full path, with
 * what is allowed. Thrown before any resource or process exists.
 */
import { z } from "zod";
import { suggest } from "./rules/suggest";

export class ConfigError extends Error {
    constructor(
        readonly source: string,
        readonly problems: readonly string[],
    ) {
        super(`${source}: invalid configuration\n${problems.map((p) => `  - ${p}`).join("\n")}`);
        this.name = "ConfigError";
    }
}

function describe(issue: z.ZodIssue): string {
    switch (issue.code) {
        case z.ZodIssueCode.invalid_type:
            if (issue.received === "undefined") return "is required";
            if (issue.received === "null")
                return `is empty (a YAML key with no value, or ~/null); ${issue.message.startsWith("must") ? issue.message : `write ${yamlType(issue.expected)}`}`;
            if (issue.expected === "integer" && issue.received === "float") return "must be a whole number";
            return issue.message.startsWith("must")
                ? `${issue.message} (got ${yamlType(issue.received)})`
                : `must be ${yamlType(issue.expected)} (got ${yamlType(issue.received)})`;
        case z.ZodIssueCode.invalid_enum_value: {
            // `R2`, `Require`: the value is right but for its case, so say which one is meant.
            const folded = issue.options.find((o) => String(o).toLowerCase() === String(issue.received).toLowerCase().trim());
            return `must be one of ${issue.options.join(", ")} (got "${String(issue.received)}"${folded !== undefined ? `; write ${String(folded)}` : ""})`;
        }
        case z.ZodIssueCode.too_small:
            if (issue.message.startsWith("must")) return issue.message;
            if (issue.type === "string") return "must not be empty";
            if (issue.type === "array") return `must list at least ${issue.minimum}`;
            return `must be at least ${issue.minimum}`;
        case z.ZodIssueCode.too_big:
            return issue.message.startsWith("must") ? issue.message : `must be at most ${issue.maximum}`;
        default:
            return issue.message;
    }
}

function article(type: string): string {
    return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** zod's type names in the words of a YAML stack file. */
function yamlType(type: string): string {
    const words: Record<string, string> = {
        array: "a list",
        object: "a mapping",
        string: "a string",
        number: "a number",
        boolean: "true or false",
        integer: "a whole number",
        float: "a fractional number",
    };
    return words[type] ?? article(type);
}

/** `prefix` names where the value came from, e.g. "db-tier" for stack config keys. */
export function formatPath(prefix: string, path: (string | number)[]): string {
    const dotted = path
        .map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`))
        .join("")
        .replace(/^\./, "");
    return prefix ? `${prefix}:${dotted}` : dotted;
}

/** The object schema found at `path` inside `schema`, looking through wrappers. */
function objectAt(schema: z.ZodTypeAny, path: (string | number)[]): z.AnyZodObject | undefined {
    let s: z.ZodTypeAny = schema;
    for (let i = 0; ; i++) {
        while (s instanceof z.ZodEffects || s instanceof z.ZodDefault || s instanceof z.ZodOptional) {
            s = s instanceof z.ZodEffects ? s.innerType() : s instanceof z.ZodDefault ? s._def.innerType : s.unwrap();
        }
        if (i === path.length) return s instanceof z.ZodObject ? s : undefined;
        if (s instanceof z.ZodArray) s = s.element;
        else if (s instanceof z.ZodObject) s = s.shape[path[i]];
        else return undefined;
        if (!s) return undefined;
    }
}

/** Parses `value` with `schema`, or throws a ConfigError naming each bad key. */
export function parseOrThrow<S extends z.ZodTypeAny>(schema: S, value: unknown, source: string, keyPrefix = ""): z.output<S> {
    const result = schema.safeParse(value);
    if (result.success) return result.data;
    throw new ConfigError(source, describeIssues(schema, result.error.issues, keyPrefix));
}

/** The problem lines for `value` under `schema` (empty when valid). */
export function problemsOf(schema: z.ZodTypeAny, value: unknown, keyPrefix = ""): string[] {
    const result = schema.safeParse(value);
    return result.success ? [] : describeIssues(schema, result.error.issues, keyPrefix);
}

function describeIssues(schema: z.ZodTypeAny, issues: z.ZodIssue[], keyPrefix: string): string[] {
    return issues.flatMap((issue) => {
        if (issue.code === z.ZodIssueCode.unrecognized_keys) {
            const allowed = Object.keys(objectAt(schema, issue.path)?.shape ?? {});
            return issue.keys.map((k) => {
                // Say plainly that the key is not one of ours, and which one it probably is,
                // so the message cannot be read as confirming the path.
                const near = suggest(k, allowed);
                const where = issue.path.length
                    ? `under ${formatPath(keyPrefix, issue.path)}`
                    : keyPrefix
                      ? `in the ${keyPrefix} namespace`
                      : "here";
                return `${formatPath(keyPrefix, [...issue.path, k])}: "${k}" is not a key ${where}${near ? `; did you mean ${near}?` : ""} (allowed: ${allowed.join(", ")})`;
            });
        }
        return [`${formatPath(keyPrefix, issue.path) || "(root)"}: ${describe(issue)}`];
    });
}
