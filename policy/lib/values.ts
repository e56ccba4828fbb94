/**
 * Reading resource properties the way the policy engine hands them over, without tripping
 * on values that are unknown during a preview.
 *
 * The engine wraps props in @pulumi/policy's unknown-checking proxy, which throws
 * UnknownValueError on the first unknown it touches; the analyzer then skips the whole
 * policy with one advisory line. The policies here want more: evaluate everything that is
 * known, and say which part waits for `up`. So they read the plain object under the proxy
 * and test for the engine's unknown sentinels themselves (`isUnknown`), collect what they
 * could not decide (`Deferrals`), and end by throwing `DeferredCheck`, a subclass of the
 * engine's UnknownValueError, which the analyzer (and scripts/policy-check.ts) reports at
 * advisory level: never a mandatory violation.
 */

interface ProxyModule {
    isSpecialProxy: string;
    getSpecialProxyTarget: string;
    UnknownValueError: new (sentinel: string, props: string[]) => Error;
    unknownBooleanValue: string;
    unknownNumberValue: string;
    unknownStringValue: string;
    unknownArrayValue: string;
    unknownAssetValue: string;
    unknownArchiveValue: string;
    unknownObjectValue: string;
    unknownCheckingProxy<T>(v: T): T;
}

// The module's typings are internal (its .d.ts is empty); its runtime exports are stable.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const proxy: ProxyModule = require("@pulumi/policy/proxy");

/** Every sentinel the engine uses for a value that is not known until the resource exists. */
export const UNKNOWN_SENTINELS: ReadonlySet<string> = new Set([
    proxy.unknownBooleanValue,
    proxy.unknownNumberValue,
    proxy.unknownStringValue,
    proxy.unknownArrayValue,
    proxy.unknownAssetValue,
    proxy.unknownArchiveValue,
    proxy.unknownObjectValue,
]);

/** The sentinel for an unknown value of any type (what the Node SDK itself uses). */
export const UNKNOWN: string = proxy.unknownStringValue;

export const UnknownValueError = proxy.UnknownValueError;
export const unknownCheckingProxy = proxy.unknownCheckingProxy;

export function isUnknown(v: unknown): boolean {
    return typeof v === "string" && UNKNOWN_SENTINELS.has(v);
}

/** True when `v` is, or contains anywhere, an unknown value. */
export function containsUnknown(v: unknown): boolean {
    const p = plain(v);
    if (isUnknown(p)) return true;
    if (Array.isArray(p)) return p.some(containsUnknown);
    if (p !== null && typeof p === "object") return Object.values(p).some(containsUnknown);
    return false;
}

/** The plain value under the engine's proxy (nested values of a plain object are plain). */
export function plain<T>(v: T): T {
    if (v !== null && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[proxy.isSpecialProxy] === true) return o[proxy.getSpecialProxyTarget] as T;
    }
    return v;
}

export type Plain = Record<string, unknown>;

/** The plain props of a resource (an object, never undefined). */
export function propsOf(r: { props: Record<string, unknown> }): Plain {
    const p = plain(r.props);
    return p !== null && typeof p === "object" ? (p as Plain) : {};
}

export function asArray(v: unknown): unknown[] | undefined {
    const p = plain(v);
    return Array.isArray(p) ? p : undefined;
}

export function asObject(v: unknown): Plain | undefined {
    const p = plain(v);
    return p !== null && typeof p === "object" && !Array.isArray(p) && !isUnknown(p) ? (p as Plain) : undefined;
}

export function asString(v: unknown): string | undefined {
    return typeof v === "string" && !isUnknown(v) ? v : undefined;
}

/** A number, or a string holding one (providers pass some numbers as strings). */
export function asNumber(v: unknown): number | undefined {
    if (typeof v === "number" && Number.isFinite(v)) return v;
    if (typeof v === "string" && !isUnknown(v) && /^-?\d+(\.\d+)?$/.test(v.trim())) return Number(v);
    return undefined;
}

export function asBoolean(v: unknown): boolean | undefined {
    if (typeof v === "boolean") return v;
    if (v === "true") return true;
    if (v === "false") return false;
    return undefined;
}

/** One thing a policy could not decide because a value is unknown, and on which resource. */
export interface Deferral {
    readonly what: string;
    readonly urn?: string;
}

/**
 * Thrown at the end of a policy that evaluated everything known and still has checks that
 * wait for `up`. The engine (and the offline check) reports it at advisory level.
 */
export class DeferredCheck extends proxy.UnknownValueError {
    readonly deferrals: readonly Deferral[];
    constructor(deferrals: readonly Deferral[]) {
        super(proxy.unknownStringValue, []);
        this.deferrals = deferrals;
        const list = deferrals.map((d) => (d.urn ? `${d.what} (${d.urn})` : d.what));
        this.message = `check deferred to up: ${list.join("; ")} cannot be known during preview; everything known was evaluated`;
        this.name = "DeferredCheck";
    }
}

export function isUnknownValueError(e: unknown): e is Error {
    return e instanceof proxy.UnknownValueError;
}
