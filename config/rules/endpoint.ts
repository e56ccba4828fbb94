/**
 * S3 endpoint URLs as users paste them. Parsed with the WHATWG URL parser (Node's `URL`),
 * never a regex, so IPv6 literals, ports and userinfo are read the way WAL-G's and Pulumi's
 * HTTP clients read them. A URL is never echoed back when it carries userinfo: that part
 * is usually a secret.
 *
 * Provider endpoints, from the providers' documentation:
 * - Cloudflare R2: `https://<ACCOUNT_ID>.r2.cloudflarestorage.com`, or with a jurisdiction
 *   `https://<ACCOUNT_ID>.eu.r2.cloudflarestorage.com` / `.fedramp.`; the account ID is 32
 *   hex digits; the region is always `auto` (https://developers.cloudflare.com/r2/api/s3/api/).
 * - Backblaze B2: `https://s3.<region>.backblazeb2.com`, region like `us-west-004`; the
 *   S3 region is the one in the endpoint (https://www.backblaze.com/docs/cloud-storage-s3-compatible-api).
 */
import { isIP } from "node:net";
import type { StorageProvider } from "../../render/lifecycle";

export const R2_ENDPOINT_EXAMPLE = "https://0123456789abcdef0123456789abcdef.r2.cloudflarestorage.com";
export const B2_ENDPOINT_EXAMPLE = "https://s3.us-west-004.backblazeb2.com";
const R2_HOST = /^[0-9a-f]{32}(\.(eu|fedramp))?\.r2\.cloudflarestorage\.com$/;
const B2_HOST = /^s3\.([a-z]{2}-[a-z]+-\d{3})\.backblazeb2\.com$/;

/** The host without IPv6 brackets. */
export function bareHost(url: URL): string {
    return url.hostname.replace(/^\[(.*)\]$/, "$1");
}

export function isLoopbackHost(host: string): boolean {
    const h = host.replace(/^\[(.*)\]$/, "$1").toLowerCase();
    if (h === "localhost" || h.endsWith(".localhost")) return true;
    if (isIP(h) === 4) return h.startsWith("127.");
    if (isIP(h) === 6) return h === "::1" || h === "0:0:0:0:0:0:0:1";
    return false;
}

/** What the user wrote, safe to print: userinfo replaced by `***`. */
export function shown(value: string): string {
    const at = value.lastIndexOf("@");
    if (at < 0) return value;
    const scheme = /^[a-z][a-z0-9+.-]*:\/\//i.exec(value)?.[0] ?? "";
    return `${scheme}***${value.slice(at)}`;
}

/** Shape problems of an endpoint URL (any provider); undefined when fine. */
export function endpointShapeProblem(value: string): string | undefined {
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return `must be an http(s) URL like https://host[:port] (got "${shown(value)}")`;
    }
    if (url.username || url.password) {
        return "must not carry credentials (user:secret@); set them with pulumi config set --secret db-tier:storageAccessKeyId and db-tier:storageSecretAccessKey";
    }
    if (!["http:", "https:"].includes(url.protocol) || !url.hostname || url.pathname.replace(/\/$/, "") !== "" || url.search || url.hash) {
        // A query string can carry a token (presigned URLs): it is not echoed either.
        return `must be an http(s) URL like https://host[:port] with no path (got "${value.replace(/[?#].*$/, "?…")}")`;
    }
    return undefined;
}

/** The B2 region an endpoint names, if it is a B2 endpoint. */
export function b2EndpointRegion(value: string): string | undefined {
    try {
        return B2_HOST.exec(new URL(value).hostname)?.[1];
    } catch {
        return undefined;
    }
}

/**
 * Provider and transport problems of a well-formed endpoint. `http://` is allowed only to a
 * loopback address (the embedded MinIO's own endpoints are made by the tier, not written
 * here): anything else would send the storage keys and every WAL segment's metadata in
 * plain text.
 */
export function endpointProviderProblem(provider: StorageProvider, value: string): string | undefined {
    const url = new URL(value);
    const host = url.hostname;
    if (provider === "r2" && !R2_HOST.test(host)) {
        return `must be the R2 S3 API endpoint https://<32-hex account id>.r2.cloudflarestorage.com (e.g. ${R2_ENDPOINT_EXAMPLE}; got host ${host})`;
    }
    if (provider === "b2" && !B2_HOST.test(host)) {
        return `must be https://s3.<region>.backblazeb2.com for provider b2 (e.g. ${B2_ENDPOINT_EXAMPLE}; got host ${host})`;
    }
    if (url.protocol === "http:" && !isLoopbackHost(bareHost(url))) {
        return `must use https:// (http:// sends the storage keys in plain text; it is allowed only for a loopback MinIO such as http://127.0.0.1:9000), got "${value}"`;
    }
    return undefined;
}
