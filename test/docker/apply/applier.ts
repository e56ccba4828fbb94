/**
 * The applier: the engine's step logic for one update, with the implementations in
 * resources/ standing in for the providers. Per registered custom resource: strict input
 * check → provider's check (defaults, auto-names) → same inputs as the last apply: keep the
 * old state (no call) → changed: update in place where the implementation can, otherwise
 * replace: delete-then-create with `deleteBeforeReplace`, else create the new one and delete
 * the old one at the end of the update (as the engine does; a fixed container name then
 * collides, exactly as it would with the real provider). Resources of the previous state the
 * program no longer registers are deleted at the end, newest first; `retainOnDelete` ones
 * are only forgotten. `replace` forces replacement, like `pulumi up --replace URN`.
 */
import { awsProviderInstance, awsProvider, dockerProvider, dockerProviderInstance } from "./resources/providers";
import { s3Bucket, s3BucketLifecycle, s3BucketPolicy, s3BucketVersioning } from "./resources/aws-s3";
import { dockerContainer } from "./resources/docker-container";
import { dockerImage, dockerRemoteImage } from "./resources/docker-image";
import { dockerNetwork } from "./resources/docker-network";
import { dockerVolume } from "./resources/docker-volume";
import { randomBytesImpl, randomPassword } from "./resources/random";
import { checkShape, NotImplementedError } from "./strict";
import type { ApplyContext, ProviderInstance, ResourceImpl, ResourceState, StackState, Targets } from "./types";

export const IMPLEMENTATIONS: Readonly<Record<string, ResourceImpl>> = {
    "pulumi:providers:docker": dockerProvider,
    "pulumi:providers:aws": awsProvider,
    "docker:index/network:Network": dockerNetwork,
    "docker:index/volume:Volume": dockerVolume,
    "docker:index/image:Image": dockerImage,
    "docker:index/remoteImage:RemoteImage": dockerRemoteImage,
    "docker:index/container:Container": dockerContainer,
    "random:index/randomPassword:RandomPassword": randomPassword,
    "random:index/randomBytes:RandomBytes": randomBytesImpl,
    "aws:s3/bucket:Bucket": s3Bucket,
    "aws:s3/bucketV2:BucketV2": s3Bucket,
    "aws:s3/bucketVersioning:BucketVersioning": s3BucketVersioning,
    "aws:s3/bucketVersioningV2:BucketVersioningV2": s3BucketVersioning,
    "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": s3BucketLifecycle,
    "aws:s3/bucketLifecycleConfigurationV2:BucketLifecycleConfigurationV2": s3BucketLifecycle,
    "aws:s3/bucketPolicy:BucketPolicy": s3BucketPolicy,
};

export interface Registration {
    readonly type: string;
    readonly name: string;
    readonly urn: string;
    readonly inputs: Record<string, unknown>;
    /** URN of the explicit provider, if any. */
    readonly provider?: string;
    readonly deleteBeforeReplace: boolean;
    readonly retainOnDelete: boolean;
}

export type StepKind = "create" | "same" | "update" | "replace" | "delete" | "forget";

export interface Step {
    readonly urn: string;
    readonly type: string;
    readonly kind: StepKind;
}

function canonical(v: unknown): string {
    if (v === null || typeof v !== "object") return JSON.stringify(v);
    if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
    const o = v as Record<string, unknown>;
    return `{${Object.keys(o)
        .filter((k) => o[k] !== undefined)
        .sort()
        .map((k) => `${JSON.stringify(k)}:${canonical(o[k])}`)
        .join(",")}}`;
}

export const sameInputs = (a: Record<string, unknown>, b: Record<string, unknown>): boolean => canonical(a) === canonical(b);

export class Applier {
    private readonly previous: Map<string, ResourceState>;
    private readonly next = new Map<string, ResourceState>();
    private readonly pendingDeletes: ResourceState[] = [];
    readonly steps: Step[] = [];
    readonly notes: string[] = [];

    constructor(
        readonly targets: Targets,
        previous: StackState | undefined,
        private readonly replace: readonly string[] = [],
        /** Check inputs only: no provider is called (the strictness unit tests). */
        private readonly checkOnly = false,
    ) {
        this.previous = new Map((previous?.resources ?? []).map((r) => [r.urn, r]));
    }

    private providerFor(reg: { type: string; urn: string; provider?: string }, impl: ResourceImpl): ProviderInstance | undefined {
        if (!impl.providerKind) return undefined;
        const p = reg.provider ? (this.next.get(reg.provider) ?? this.previous.get(reg.provider)) : undefined;
        if (reg.provider && !p) throw new NotImplementedError(`${reg.type}: provider ${reg.provider} was not registered (${reg.urn})`);
        if (p && p.type !== `pulumi:providers:${impl.providerKind}`)
            throw new NotImplementedError(`${reg.type}: provider ${p.urn} is not a ${impl.providerKind} provider`);
        return impl.providerKind === "docker"
            ? dockerProviderInstance(p?.inputs, this.targets, reg.urn)
            : awsProviderInstance(p?.inputs, this.targets, reg.urn);
    }

    private context(
        reg: { type: string; name: string; urn: string; provider?: string },
        impl: ResourceImpl,
        old?: ResourceState,
    ): ApplyContext {
        return {
            urn: reg.urn,
            name: reg.name,
            type: reg.type,
            provider: this.checkOnly ? undefined : this.providerFor(reg, impl),
            targets: this.targets,
            old,
            note: (m) => this.notes.push(m),
        };
    }

    private implOf(type: string, urn: string): ResourceImpl {
        const impl = IMPLEMENTATIONS[type];
        if (!impl) throw new NotImplementedError(`${type}: resource type not implemented by the test applier (${urn})`);
        return impl;
    }

    /** One custom resource of the program: returns its id and state (inputs + computed outputs). */
    async register(reg: Registration): Promise<{ id: string; outputs: Record<string, unknown> }> {
        const impl = this.implOf(reg.type, reg.urn);
        checkShape(reg.type, impl.inputs, reg.inputs, reg.urn);
        impl.refuse?.(reg.inputs, reg);
        const old = this.previous.get(reg.urn);
        const oldOfType = old && old.type === reg.type ? old : undefined;
        if (this.checkOnly) {
            // No provider is called; providerless values (random) are still generated, so the
            // program runs on to its last resource.
            const c = impl.providerKind
                ? { id: "checked", outputs: impl.checkOnlyOutputs ?? {} }
                : await impl.create(reg.inputs, this.context(reg, impl));
            return { id: c.id, outputs: { ...reg.inputs, ...c.outputs } };
        }
        const ctx = this.context(reg, impl, oldOfType);
        if (reg.provider) this.providerFor(reg, impl);
        const inputs = impl.check ? impl.check(reg.inputs, ctx) : reg.inputs;
        const forced = this.replace.some((r) => r === reg.urn);
        const record = (id: string, outputs: Record<string, unknown>, kind: StepKind): { id: string; outputs: Record<string, unknown> } => {
            const state: ResourceState = {
                urn: reg.urn,
                type: reg.type,
                name: reg.name,
                id,
                inputs,
                outputs: { ...inputs, ...outputs },
                provider: reg.provider,
                retainOnDelete: reg.retainOnDelete,
                deleteBeforeReplace: reg.deleteBeforeReplace,
            };
            this.next.set(reg.urn, state);
            this.steps.push({ urn: reg.urn, type: reg.type, kind });
            return { id, outputs: state.outputs };
        };
        if (oldOfType && !forced && sameInputs(oldOfType.inputs, inputs)) return record(oldOfType.id, oldOfType.outputs, "same");
        if (oldOfType && !forced && impl.update) {
            const u = await impl.update(inputs, oldOfType, ctx);
            return record(u.id, u.outputs, "update");
        }
        if (oldOfType) {
            if (reg.deleteBeforeReplace) {
                await this.deleteOne(oldOfType, impl);
            } else {
                this.pendingDeletes.push(oldOfType);
            }
            const c = await impl.create(inputs, ctx);
            return record(c.id, c.outputs, "replace");
        }
        const c = await impl.create(inputs, ctx);
        return record(c.id, c.outputs, "create");
    }

    private async deleteOne(state: ResourceState, impl = this.implOf(state.type, state.urn), includeRetained = false): Promise<void> {
        if (state.retainOnDelete && !includeRetained) {
            this.steps.push({ urn: state.urn, type: state.type, kind: "forget" });
            return;
        }
        await impl.delete(state, this.context(state, impl, state));
        this.steps.push({ urn: state.urn, type: state.type, kind: "delete" });
    }

    /**
     * The end of the update: old versions of replaced resources, then resources the program
     * no longer has, newest first. Returns the new state.
     */
    async finish(outputs: Record<string, unknown>): Promise<StackState> {
        const gone = [...this.previous.values()].filter((r) => !this.next.has(r.urn) || this.next.get(r.urn)!.type !== r.type);
        const order = [...this.previous.keys()];
        const toDelete = [...this.pendingDeletes, ...gone].sort((a, b) => order.indexOf(b.urn) - order.indexOf(a.urn));
        for (const r of toDelete) await this.deleteOne(r);
        return { resources: [...this.next.values()], outputs };
    }

    /**
     * The state after a failed update, as the engine keeps it: what was created, what was
     * not reached yet, and the old versions still pending deletion (under a suffixed URN, so
     * the next update deletes them).
     */
    partialState(): StackState {
        const pending = this.pendingDeletes.map((r) => ({ ...r, urn: `${r.urn}#pending-delete` }));
        const untouched = [...this.previous.values()].filter((r) => !this.next.has(r.urn));
        return { resources: [...untouched, ...this.next.values(), ...pending], outputs: {} };
    }

    /**
     * Deletes every resource of a state, newest first (the harness's teardown: with
     * `includeRetained` even the retained data volumes and bucket go).
     */
    static async destroy(targets: Targets, state: StackState, includeRetained = false): Promise<Step[]> {
        const a = new Applier(targets, state);
        for (const r of [...state.resources].reverse()) {
            if (r.type.startsWith("pulumi:providers:")) continue;
            // Teardown goes on past a failure (a non-empty bucket refuses deletion, as on a real
            // store), so one leftover does not leave every container after it running.
            try {
                await a.deleteOne(r, a.implOf(r.type, r.urn), includeRetained);
            } catch (e) {
                a.notes.push(`destroy of ${r.urn} failed: ${(e as Error).message}`);
            }
        }
        return a.steps;
    }
}
