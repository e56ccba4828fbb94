/**
 * Strict input shapes: what each implemented resource type accepts. Anything a program sends
 * that the applier does not implement (a property, a nested field, a value of another kind)
 * is an error naming the type and the property path, never silently dropped: a test that
 * passed while the applier ignored, say, `readOnly` would prove nothing about it.
 */

export class NotImplementedError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "NotImplementedError";
    }
}

export type Shape =
    | "string"
    | "number"
    | "boolean"
    | "any"
    | { readonly list: Shape }
    | { readonly object: Readonly<Record<string, Shape>> }
    | { readonly map: Shape };

export const list = (s: Shape): Shape => ({ list: s });
export const object = (fields: Record<string, Shape>): Shape => ({ object: fields });
export const map = (s: Shape): Shape => ({ map: s });

function kindOf(v: unknown): string {
    if (v === null) return "null";
    if (Array.isArray(v)) return "list";
    return typeof v;
}

/** Throws NotImplementedError for the first property the shape does not know or whose kind differs. */
export function checkShape(type: string, fields: Readonly<Record<string, Shape>>, inputs: Record<string, unknown>, urn = ""): void {
    const at = urn ? ` (${urn})` : "";
    const visit = (shape: Shape, value: unknown, path: string): void => {
        if (value === undefined || value === null) return;
        if (shape === "any") return;
        if (typeof shape === "string") {
            if (typeof value !== shape)
                throw new NotImplementedError(
                    `${type}: input "${path}" is a ${kindOf(value)}, the test applier implements it as a ${shape}${at}`,
                );
            return;
        }
        if ("list" in shape) {
            if (!Array.isArray(value))
                throw new NotImplementedError(`${type}: input "${path}" is a ${kindOf(value)}, expected a list${at}`);
            for (const [i, v] of value.entries()) visit(shape.list, v, `${path}[${i}]`);
            return;
        }
        if (typeof value !== "object" || Array.isArray(value))
            throw new NotImplementedError(`${type}: input "${path}" is a ${kindOf(value)}, expected an object${at}`);
        if ("map" in shape) {
            for (const [k, v] of Object.entries(value as Record<string, unknown>)) visit(shape.map, v, `${path}.${k}`);
            return;
        }
        for (const [k, v] of Object.entries(value as Record<string, unknown>)) {
            const sub = shape.object[k];
            const p = path ? `${path}.${k}` : k;
            if (sub === undefined) {
                if (v === undefined || v === null) continue;
                throw new NotImplementedError(`${type}: input "${p}" is not implemented by the test applier${at}`);
            }
            visit(sub, v, p);
        }
    };
    visit({ object: fields }, inputs, "");
}
