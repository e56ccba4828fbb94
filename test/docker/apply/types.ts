/** What the applier keeps per resource and what each implemented type provides. */
import type { S3Client } from "@aws-sdk/client-s3";
import type { Engine } from "./engine";
import type { Shape } from "./strict";

/** One resource as the engine's state would hold it after an update. */
export interface ResourceState {
    readonly urn: string;
    readonly type: string;
    readonly name: string;
    readonly id: string;
    readonly inputs: Record<string, unknown>;
    readonly outputs: Record<string, unknown>;
    /** URN of the explicit provider resource, if any. */
    readonly provider?: string;
    readonly retainOnDelete: boolean;
    readonly deleteBeforeReplace: boolean;
}

export interface StackState {
    readonly resources: ResourceState[];
    /** The root stack's exported outputs. */
    readonly outputs: Record<string, unknown>;
}

/** Where the harness maps the program's hosts and endpoints (explicit, never guessed). */
export interface Targets {
    /** The test engine (unix socket). */
    readonly engineHost: string;
    /** docker.Provider `host` values that stand for the test engine (e.g. the production ssh host). */
    readonly dockerHosts: Readonly<Record<string, string>>;
    /** aws.Provider S3 endpoints to the URL the applier really talks to (loopback only). */
    readonly s3Endpoints: Readonly<Record<string, string>>;
    /** PEM of the CA that signed an https stand-in store's certificate (the applier's S3 client trusts it for that endpoint). */
    readonly s3CaPem?: string;
    /**
     * A stand-in's CA as the containers must trust it: uploaded as `file` (a directory Go's
     * crypto/x509 reads, so WAL-G trusts it like the system bundle) into every container that
     * joins a network with this `db-tier.network` label, next to the program's own uploads.
     * Stands for the public CA that signs the real service's certificate, which the images'
     * ca-certificates already trust. Each addition is a note in the apply report.
     */
    readonly trustedCa?: { readonly pem: string; readonly file: string; readonly networkLabel: string };
    /**
     * Lifecycle rule fields a stand-in store cannot take (MinIO has no
     * AbortIncompleteMultipartUpload): sent without them, and reported in the apply result.
     */
    readonly lifecycleFieldsTheStoreLacks?: readonly string[];
    /**
     * Images scripts/docker-images.sh built from exactly this Dockerfile (its context holds
     * what the Dockerfile copies, staged): a docker.Image with this imageName, Dockerfile
     * and context, no build args and no target, is satisfied by the tag on the engine.
     */
    /**
     * Containers outside the stack that stand in for an external service reachable on a
     * network kind (B2 on the production stack's backup-egress): each joins every network
     * the applier creates with that `db-tier.network` label, under these aliases.
     */
    readonly standIns?: readonly { readonly container: string; readonly networkLabel: string; readonly aliases: readonly string[] }[];
    readonly prebuiltImages?: Readonly<Record<string, { readonly dockerfile: string; readonly context: string }>>;
}

export interface DockerProviderInstance {
    readonly kind: "docker";
    readonly engine: Engine;
}

export interface AwsProviderInstance {
    readonly kind: "aws";
    readonly s3: S3Client;
    readonly endpoint: string;
}

export type ProviderInstance = DockerProviderInstance | AwsProviderInstance;

export interface ApplyContext {
    readonly urn: string;
    readonly name: string;
    readonly type: string;
    readonly provider: ProviderInstance | undefined;
    readonly targets: Targets;
    /** The previous state of this resource (update or replacement), if any. */
    readonly old?: ResourceState;
    /** Notes for the apply report (downgrades a stand-in forced, waits, exit codes). */
    readonly note: (message: string) => void;
}

export interface Created {
    readonly id: string;
    /** Computed outputs; merged over the inputs like a provider's state. */
    readonly outputs: Record<string, unknown>;
}

export interface ResourceImpl {
    /** The inputs this implementation honours; any other is an error. */
    readonly inputs: Readonly<Record<string, Shape>>;
    /** `docker`, `aws` or none: which provider kind the resource needs. */
    readonly providerKind?: "docker" | "aws";
    /**
     * What this applier refuses beyond the input shapes, where the real provider would accept
     * a value that does harm; runs in check-only mode too.
     */
    refuse?(inputs: Record<string, unknown>, ctx: { type: string; urn: string }): void;
    /**
     * Check-only mode calls no provider: stand-ins for the outputs the program reads back
     * (a network's subnet), so the program runs on to its last resource.
     */
    readonly checkOnlyOutputs?: Record<string, unknown>;
    /** The provider's check: defaults and auto-names the engine would fill in. */
    check?(inputs: Record<string, unknown>, ctx: ApplyContext): Record<string, unknown>;
    create(inputs: Record<string, unknown>, ctx: ApplyContext): Promise<Created>;
    /** In-place update; without it every change is a replacement. */
    update?(inputs: Record<string, unknown>, old: ResourceState, ctx: ApplyContext): Promise<Created>;
    delete(state: ResourceState, ctx: ApplyContext): Promise<void>;
}
