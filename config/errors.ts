/**
 * Turns zod issues into one readable error: every offending key, by its full path, with
 * what is allowed. Thrown before any resource or process exists.
 */
import { z } from "zod";

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
            return issue.received === "undefined" ? "is required" : `must be ${article(issue.expected)} (got ${issue.received})`;
        case z.ZodIssueCode.invalid_enum_value:
            return `must be one of ${issue.options.join(", ")} (got "${String(issue.received)}")`;
        case z.ZodIssueCode.too_small:
            return issue.message.startsWith("must") ? issue.message : `must be at least ${issue.minimum}`;
        case z.ZodIssueCode.too_big:
            return issue.message.startsWith("must") ? issue.message : `must be at most ${issue.maximum}`;
        default:
            return issue.message;
    }
}

function article(type: string): string {
    return /^[aeiou]/.test(type) ? `an ${type}` : `a ${type}`;
}

/** `prefix` names where the value came from, e.g. "db-tier" for stack config keys. */
export function formatPath(prefix: string, path: (string | number)[]): string {
    const dotted = path.map((p) => (typeof p === "number" ? `[${p}]` : `.${p}`)).join("").replace(/^\./, "");
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
    const problems = result.error.issues.flatMap((issue) => {
        if (issue.code === z.ZodIssueCode.unrecognized_keys) {
            const allowed = Object.keys(objectAt(schema, issue.path)?.shape ?? {});
            return issue.keys.map((k) => `${formatPath(keyPrefix, [...issue.path, k])}: unknown key; allowed keys are ${allowed.join(", ")}`);
        }
        return [`${formatPath(keyPrefix, issue.path) || "(root)"}: ${describe(issue)}`];
    });
    throw new ConfigError(source, problems);
}
