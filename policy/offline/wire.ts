/**
 * Property values as they travel between the SDK and the engine (a protobuf Struct turned
 * into JS), turned into what the policy engine hands to policies: secrets unwrapped (the
 * analyzer gives policies plain values), resource references as the id (custom) or URN
 * (component), output values as their value, and unknowns as the engine's unknown sentinel.
 */
const SIG = "4dabf18193072939515e22adb298388d";
const SECRET = "1b47061264138c4ac30d75fd1eb44270";
const RESOURCE = "5cf8f73096256a8f31e491e813e4eb8e";
const OUTPUT = "d0e6a833031e9bbcd3f4e8bde6ca49a4";
const ASSET = "c44067f5952c0a294b673a41bacd8c17";
const ARCHIVE = "0def7320c3a5731c473e5ecbe6d01bc7";

/** The SDK's wire sentinel for an unknown value; the policy engine's string sentinel is the same. */
export const WIRE_UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9";

export function fromWire(v: unknown): unknown {
    if (v === null || typeof v !== "object") return v;
    if (Array.isArray(v)) return v.map(fromWire);
    const o = v as Record<string, unknown>;
    switch (o[SIG]) {
        case SECRET:
            return fromWire(o.value);
        case OUTPUT:
            return "value" in o ? fromWire(o.value) : WIRE_UNKNOWN;
        case RESOURCE: {
            const id = o.id;
            if (typeof id === "string") return id === "" ? WIRE_UNKNOWN : fromWire(id);
            return o.urn;
        }
        case ASSET:
        case ARCHIVE: {
            const { [SIG]: _sig, ...rest } = o;
            return rest;
        }
        default: {
            const out: Record<string, unknown> = {};
            for (const [k, val] of Object.entries(o)) out[k] = fromWire(val);
            return out;
        }
    }
}
