/**
 * Explicit provider resources. A docker.Provider's `host` must be one the harness maps to
 * the test engine (the production stack's ssh host is the local test engine here); an
 * aws.Provider's S3 endpoint must be mapped to a loopback URL (the embedded MinIO or the
 * MinIO standing in for B2). Provider config arrives JSON-encoded, as the engine sends it.
 */
import { Agent } from "node:https";
import { S3Client } from "@aws-sdk/client-s3";
import { Engine } from "../engine";
import { NotImplementedError } from "../strict";
import type { ProviderInstance, ResourceImpl, Targets } from "../types";

export const dockerProvider: ResourceImpl = {
    inputs: { host: "string", version: "string" },
    async create() {
        return { id: "provider", outputs: {} };
    },
    async delete() {},
};

export const awsProvider: ResourceImpl = {
    inputs: {
        region: "string",
        accessKey: "string",
        secretKey: "string",
        endpoints: "string",
        s3UsePathStyle: "string",
        skipCredentialsValidation: "string",
        skipMetadataApiCheck: "string",
        skipRegionValidation: "string",
        skipRequestingAccountId: "string",
        version: "string",
    },
    async create() {
        return { id: "provider", outputs: {} };
    },
    async delete() {},
};

export function dockerProviderInstance(inputs: Record<string, unknown> | undefined, targets: Targets, urn: string): ProviderInstance {
    if (!inputs) return { kind: "docker", engine: new Engine(targets.engineHost) };
    const host = inputs.host as string | undefined;
    if (host === undefined) return { kind: "docker", engine: new Engine(targets.engineHost) };
    const mapped = targets.dockerHosts[host];
    if (!mapped)
        throw new NotImplementedError(`pulumi:providers:docker: host "${host}" is not mapped to the test engine by the harness (${urn})`);
    return { kind: "docker", engine: new Engine(mapped) };
}

function parseJson(v: unknown, what: string): unknown {
    if (typeof v !== "string") return v;
    try {
        return JSON.parse(v);
    } catch {
        throw new NotImplementedError(`pulumi:providers:aws: ${what} is not JSON: ${v}`);
    }
}

export function awsProviderInstance(inputs: Record<string, unknown> | undefined, targets: Targets, urn: string): ProviderInstance {
    if (!inputs) throw new NotImplementedError(`aws resources need an explicit aws.Provider (the default one would reach AWS) (${urn})`);
    const endpoints = parseJson(inputs.endpoints, "endpoints") as { s3?: string }[] | undefined;
    const s3Endpoint = endpoints?.[0]?.s3;
    if (!s3Endpoint || (endpoints?.length ?? 0) !== 1 || Object.keys(endpoints![0]).some((k) => k !== "s3")) {
        throw new NotImplementedError(`pulumi:providers:aws: exactly one endpoints entry with only s3 is implemented (${urn})`);
    }
    const mapped = targets.s3Endpoints[s3Endpoint];
    if (!mapped) throw new NotImplementedError(`pulumi:providers:aws: S3 endpoint ${s3Endpoint} is not mapped by the harness (${urn})`);
    if (!/^https?:\/\/(127\.0\.0\.1|localhost)(:\d+)?\/?$/.test(mapped))
        throw new NotImplementedError(`pulumi:providers:aws: mapped endpoint ${mapped} is not loopback (${urn})`);
    // A TLS stand-in (B2's) has a per-run CA: trusted for that endpoint only, never globally.
    if (mapped.startsWith("https:") && !targets.s3CaPem)
        throw new NotImplementedError(`pulumi:providers:aws: mapped endpoint ${mapped} is https but the harness gave no s3CaPem (${urn})`);
    if (parseJson(inputs.s3UsePathStyle, "s3UsePathStyle") !== true)
        throw new NotImplementedError(`pulumi:providers:aws: only path-style S3 is implemented (${urn})`);
    const s3 = new S3Client({
        endpoint: mapped,
        region: inputs.region as string,
        forcePathStyle: true,
        credentials: { accessKeyId: inputs.accessKey as string, secretAccessKey: inputs.secretKey as string },
        // The provider retries (terraform-provider-aws: max_retries, 25 by default); the SDK's 3
        // attempts within about a second did not: on a fully loaded machine (npm test's lanes)
        // one production apply failed with ECONNREFUSED on the B2 stand-in's published port
        // right after the stand-in had answered its health check (cause not pinned down: on an
        // idle engine, joining networks never refused a connection). 10 attempts, exponential
        // backoff of 20 s at most each; a store that stays down still fails the apply.
        maxAttempts: 10,
        // The stores these stand in for (R2, B2) break on the SDK's newer default checksums.
        requestChecksumCalculation: "WHEN_REQUIRED",
        responseChecksumValidation: "WHEN_REQUIRED",
        ...(mapped.startsWith("https:") ? { requestHandler: { httpsAgent: new Agent({ ca: targets.s3CaPem }) } } : {}),
    });
    return { kind: "aws", s3, endpoint: mapped };
}
