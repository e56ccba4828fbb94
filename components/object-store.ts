/**
 * The embedded MinIO of a local or dev stack (role `object-store`), so a newcomer needs no
 * cloud account. It joins each cluster's `backup-egress` network under the alias
 * `object-store`, and publishes its S3 API on the host only at the loopback address, for
 * Pulumi to manage the bucket. Credentials are generated and passed as files.
 * By default its image is built from images/minio/Dockerfile (debian:bookworm-slim and the
 * MinIO binary the tests run); MINIO_RELEASE_IMAGE, the upstream image, is an option.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";
import { urlHost } from "../config/rules/bind-address";
import { typeToken } from "../vocabulary";
import { DEFAULT_LIMITS } from "../config/rules/container-limits";
import type { ContainerLimits } from "../plan/container-limits";
import { hardening } from "./container-hardening";
import { roleLabels } from "./labels";
import { localImage } from "./tier-images";
import { DESTROY_GRACE_SECONDS, USER_SECRET_FILE } from "./tier-container";

/**
 * MinIO's own release image, for engines that can pull from quay.io (pass it as `image`).
 * The Go module the tests build is of the same vintage.
 */
export const MINIO_RELEASE_IMAGE = "quay.io/minio/minio:RELEASE.2025-09-07T16-13-09Z";
export const OBJECT_STORE_ALIAS = "object-store";
export const OBJECT_STORE_PORT = 9000;

export interface ObjectStoreArgs {
    readonly containerName: string;
    /** The `backup-egress` networks of the clusters it serves. */
    readonly networks: readonly docker.Network[];
    /** Host address and port of the published S3 API. */
    readonly hostBindAddress: string;
    readonly hostPort: number;
    /** Image reference; by default the image built from images/minio/Dockerfile. */
    readonly image?: string;
    /** Memory and process limits (default: config/rules/container-limits.ts DEFAULT_LIMITS.objectStore). */
    readonly limits?: ContainerLimits;
}

/**
 * The release image has MinIO's client (`mc`) but no curl; images/minio has curl. Both ask
 * the server's own liveness endpoint.
 */
function healthcheck(image: string | undefined): docker.types.input.ContainerHealthcheck {
    const tests =
        image === MINIO_RELEASE_IMAGE
            ? ["CMD", "mc", "ready", "local"]
            : ["CMD", "curl", "-fsS", "-o", "/dev/null", `http://127.0.0.1:${OBJECT_STORE_PORT}/minio/health/live`];
    return { tests, interval: "10s", timeout: "5s", retries: 6 };
}

export class ObjectStore extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly accessKeyId: pulumi.Output<string>;
    public readonly secretAccessKey: pulumi.Output<string>;
    /** S3 endpoint inside the Docker networks (what WAL-G uses). */
    public readonly endpoint = `http://${OBJECT_STORE_ALIAS}:${OBJECT_STORE_PORT}`;
    /** S3 endpoint on the host (what Pulumi uses). */
    public readonly apiEndpoint: string;

    constructor(name: string, args: ObjectStoreArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("ObjectStore"), name, args, opts);
        const user = new random.RandomPassword(`${name}-access-key`, { length: 32, special: false, upper: false }, { parent: this });
        const password = new random.RandomPassword(`${name}-secret-key`, { length: 40, special: false }, { parent: this });
        this.accessKeyId = pulumi.secret(user.result);
        this.secretAccessKey = pulumi.secret(password.result);
        // An IPv6 bind address (::1) goes in brackets inside a URL (config/rules/bind-address.ts).
        this.apiEndpoint = `http://${urlHost(args.hostBindAddress)}:${args.hostPort}`;
        const data = new docker.Volume(
            `${name}-data`,
            { name: `${args.containerName}-data`, labels: roleLabels("object-store") },
            { parent: this, retainOnDelete: true },
        );
        this.container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName,
                image: args.image ?? localImage(name, "minio", this),
                command: ["server", "/data", "--address", `:${OBJECT_STORE_PORT}`, "--console-address", "127.0.0.1:9001"],
                envs: ["MINIO_ROOT_USER_FILE=/run/secrets/minio-root-user", "MINIO_ROOT_PASSWORD_FILE=/run/secrets/minio-root-password"],
                uploads: [
                    { file: "/run/secrets/minio-root-user", content: this.accessKeyId, ...USER_SECRET_FILE },
                    { file: "/run/secrets/minio-root-password", content: this.secretAccessKey, ...USER_SECRET_FILE },
                ],
                volumes: [{ volumeName: data.name, containerPath: "/data" }],
                networksAdvanced: args.networks.map((n) => ({ name: n.name, aliases: [OBJECT_STORE_ALIAS] })),
                ports: [{ internal: OBJECT_STORE_PORT, external: args.hostPort, ip: args.hostBindAddress }],
                healthcheck: healthcheck(args.image),
                ...hardening("object-store", args.limits ?? DEFAULT_LIMITS.objectStore),
                restart: "unless-stopped",
                stopTimeout: DESTROY_GRACE_SECONDS.objectStore,
                destroyGraceSeconds: DESTROY_GRACE_SECONDS.objectStore,
                wait: true,
                labels: roleLabels("object-store"),
                // Fixed container name and published port: delete before replacing (the provider creates first otherwise).
            },
            { parent: this, deleteBeforeReplace: true },
        );
        this.registerOutputs({
            container: this.container,
            accessKeyId: this.accessKeyId,
            secretAccessKey: this.secretAccessKey,
            endpoint: this.endpoint,
            apiEndpoint: this.apiEndpoint,
        });
    }
}
