/**
 * The fields of a zod object schema, read from the schema itself: key path, type in words,
 * default, allowed values and description (`.describe()`). scripts/config-docs.ts prints
 * them in docs/configuration.md, so the reference cannot list a field, default or limit the
 * schema does not have.
 */
import { z } from "zod";
import { cron, databaseName, dnsLabel, httpUrl, port, roleName, sqlName } from "./schema";

export interface FieldDoc {
    /** As written in the stack file under `db-tier:`; list elements as `[]`. */
    readonly key: string;
    readonly type: string;
    /** `required`, `none` (optional without default) or the default as YAML would show it. */
    readonly default: string;
    /** Allowed values or range, in words; empty when the type says it all. */
    readonly allowed: string;
    readonly description: string;
    /** The innermost schema of the field (without defaults, optionals and descriptions). */
    readonly schema: z.ZodTypeAny;
}

/** Shared building blocks of schema.ts, by what a user should read for them. */
const BLOCKS: [z.ZodTypeAny, string, string?][] = [
    [cron, "5-field cron, UTC"],
    [dnsLabel, "DNS label", "1-32 of a-z, 0-9, '-'"],
    [port, "port", "1–65535"],
    [databaseName, "SQL name"],
    [roleName, "SQL name"],
    [sqlName, "SQL name"],
    [httpUrl, "http(s) URL"],
];

/**
 * Whether `s` is `block` or a copy of it: `.describe()` returns a new instance with the same
 * definition parts (the checks of a string, the effect of a refinement), so identity of those
 * parts recognises a described block.
 */
function isBlock(s: z.ZodTypeAny, block: z.ZodTypeAny): boolean {
    if (s === block) return true;
    const a = s._def as { checks?: unknown; effect?: unknown };
    const b = block._def as { checks?: unknown; effect?: unknown };
    return (a.checks !== undefined && a.checks === b.checks) || (a.effect !== undefined && a.effect === b.effect);
}

interface Unwrapped {
    inner: z.ZodTypeAny;
    description?: string;
    defaultValue?: unknown;
    hasDefault: boolean;
    optional: boolean;
}

/** Looks through default, optional and preprocess wrappers, keeping what they say. */
function unwrap(schema: z.ZodTypeAny): Unwrapped {
    let s = schema;
    const out: Unwrapped = { inner: s, hasDefault: false, optional: false };
    for (;;) {
        out.description ??= s.description;
        if (s instanceof z.ZodDefault) {
            if (!out.hasDefault) out.defaultValue = s._def.defaultValue();
            out.hasDefault = true;
            s = s._def.innerType;
        } else if (s instanceof z.ZodOptional) {
            out.optional = true;
            s = s.unwrap();
        } else if (s instanceof z.ZodEffects && s._def.effect.type === "preprocess") {
            s = s._def.schema;
        } else break;
    }
    out.inner = s;
    return out;
}

/** The object inside refinements (`.superRefine` on an object keeps its shape one level down). */
function objectOf(s: z.ZodTypeAny): z.AnyZodObject | undefined {
    while (s instanceof z.ZodEffects) s = s._def.schema;
    return s instanceof z.ZodObject ? s : undefined;
}

function numberRange(s: z.ZodNumber): { type: string; allowed: string } {
    const checks = s._def.checks;
    const int = checks.some((c) => c.kind === "int");
    const min = checks.find((c) => c.kind === "min") as { value: number } | undefined;
    const max = checks.find((c) => c.kind === "max") as { value: number } | undefined;
    const allowed = min && max ? `${min.value}–${max.value}` : min ? `≥ ${min.value}` : max ? `≤ ${max.value}` : "";
    return { type: int ? "integer" : "number", allowed };
}

function typeOf(s: z.ZodTypeAny): { type: string; allowed: string } {
    for (const [block, words, allowed] of BLOCKS) if (isBlock(s, block)) return { type: words, allowed: allowed ?? "" };
    if (s instanceof z.ZodEnum) return { type: "one of", allowed: (s.options as string[]).join(", ") };
    if (s instanceof z.ZodNumber) return numberRange(s);
    if (s instanceof z.ZodBoolean) return { type: "boolean", allowed: "true, false" };
    if (s instanceof z.ZodArray) {
        const element = typeOf(unwrap(s.element).inner);
        const min = s._def.minLength?.value;
        return { type: `list of ${element.type}`, allowed: [element.allowed, min ? `at least ${min}` : ""].filter(Boolean).join("; ") };
    }
    if (s instanceof z.ZodRecord) {
        const value = typeOf(unwrap(s._def.valueType).inner);
        return { type: `map of ${value.type}`, allowed: value.allowed };
    }
    if (s instanceof z.ZodEffects) return typeOf(s._def.schema);
    if (s instanceof z.ZodString) return { type: "string", allowed: "" };
    // Only removedKey (schema.ts) accepts unknown values, and it refuses every one.
    if (s instanceof z.ZodUnknown) return { type: "removed key", allowed: "none" };
    return { type: s.constructor.name.replace(/^Zod/, "").toLowerCase(), allowed: "" };
}

function yamlValue(v: unknown): string {
    if (Array.isArray(v)) return `[${v.map(yamlValue).join(", ")}]`;
    if (v && typeof v === "object") return Object.keys(v).length === 0 ? "{}" : JSON.stringify(v);
    return String(v);
}

/** Every leaf field of `schema`, depth first in declaration order; nested objects are walked, not listed. */
export function fieldsOf(schema: z.ZodTypeAny, prefix = ""): FieldDoc[] {
    const object = objectOf(unwrap(schema).inner);
    if (!object) throw new Error(`fieldsOf: ${prefix || "(root)"} is not an object schema`);
    const out: FieldDoc[] = [];
    for (const [name, field] of Object.entries(object.shape as Record<string, z.ZodTypeAny>)) {
        const key = prefix ? `${prefix}.${name}` : name;
        const u = unwrap(field);
        if (objectOf(u.inner)) {
            out.push(...fieldsOf(u.inner, key));
            continue;
        }
        if (u.inner instanceof z.ZodArray && objectOf(unwrap(u.inner.element).inner)) {
            out.push(...fieldsOf(unwrap(u.inner.element).inner, `${key}[]`));
            continue;
        }
        const { type, allowed } = typeOf(u.inner);
        out.push({
            key,
            type,
            default: u.hasDefault ? yamlValue(u.defaultValue) : u.optional ? "none" : "required",
            allowed,
            description: u.description ?? "",
            schema: u.inner,
        });
    }
    return out;
}
