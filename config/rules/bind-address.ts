/**
 * The host address published ports bind to. Read with Node's `net.isIP` (the maintained
 * parser of the standard library, not a regex). `[::1]`, as people write IPv6 in URLs, is
 * taken as `::1`, which is what Docker's port binding and the URLs the tier builds expect.
 */
import { isIP } from "node:net";

/** `[::1]` -> `::1`; anything else unchanged (trimmed). */
export function normaliseBindAddress(value: unknown): unknown {
    if (typeof value !== "string") return value;
    const v = value.trim();
    const bracketed = /^\[(.*)\]$/.exec(v);
    return bracketed && isIP(bracketed[1]) === 6 ? bracketed[1] : v;
}

export function bindAddressProblem(value: string): string | undefined {
    if (value.includes("%")) return `"${value}" carries an IPv6 zone index; name an address without one (e.g. ::1 or 127.0.0.1)`;
    if (isIP(value) === 0) return `"${value}" is not an IP address; write one such as 127.0.0.1 or ::1 (a host name is not resolved here)`;
    return undefined;
}

/** 0.0.0.0, ::, and their long forms: every interface. */
export function isWildcardAddress(value: string): boolean {
    return value === "0.0.0.0" || /^[0:]+$/.test(value);
}

/** How the address goes inside a URL: IPv6 in brackets. */
export function urlHost(address: string): string {
    return isIP(address) === 6 ? `[${address}]` : address;
}
