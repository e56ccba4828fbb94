/**
 * Runs a Pulumi program the way `pulumi up` would, with the applier as the providers: the
 * SDK's mock runtime carries the program, but every registration goes to the Applier, which
 * creates the real thing before it answers, so outputs (random results, image IDs, network
 * names, container IDs) flow into the inputs of later resources exactly as the engine would
 * resolve them; dependsOn waits for a dependency's creation because the SDK waits for its URN.
 *
 * Inputs are read from the registration request with the offline check's own wire decoder
 * (policy/offline/wire.ts), and URNs are minted like the engine (and like policy/offline/
 * record.ts): the full parent type chain, none for children of the root stack.
 */
import * as pulumi from "@pulumi/pulumi";
import { ROOT_STACK_TYPE } from "../../../policy/lib/evaluate";
import { fromWire } from "../../../policy/offline/wire";
import type { Applier } from "./applier";
import { NotImplementedError } from "./strict";
import type { StackState } from "./types";

// The SDK's internals the mock runtime is made of (stable across 3.x).
/* eslint-disable @typescript-eslint/no-require-imports */
const settings: { waitForRPCs(): Promise<void>; getMonitor(): unknown } = require("@pulumi/pulumi/runtime/settings");
const resproto = require("@pulumi/pulumi/proto/resource_pb");
const structproto = require("google-protobuf/google/protobuf/struct_pb");
/* eslint-enable @typescript-eslint/no-require-imports */

export interface RunOptions {
    readonly project: string;
    readonly stack: string;
    readonly config: Record<string, string>;
    readonly secretKeys: readonly string[];
}

export interface RunResult {
    readonly state: StackState;
    /** URN → type of every registered resource, components included (the graph). */
    readonly registered: { urn: string; type: string; name: string; parent?: string; custom: boolean }[];
}

function providerUrn(ref: string): string | undefined {
    if (!ref) return undefined;
    const i = ref.lastIndexOf("::");
    return i > 0 ? ref.slice(0, i) : ref;
}

export async function runProgram(programPath: string, opts: RunOptions, applier: Applier): Promise<RunResult> {
    const failures: unknown[] = [];
    const onRejection = (e: unknown) => failures.push(e);
    process.on("unhandledRejection", onRejection);
    pulumi.runtime.setAllConfig(opts.config, [...opts.secretKeys]);
    await pulumi.runtime.setMocks(
        {
            newResource: () => {
                throw new Error("run-program: the mock monitor's newResource must not be reached");
            },
            call: (args) => {
                throw new NotImplementedError(`invoke ${args.token} is not implemented by the test applier`);
            },
        },
        opts.project,
        opts.stack,
        false,
    );
    const monitor = settings.getMonitor() as Record<string, any>;
    const newUrn = (parent: string, type: string, name: string): string => {
        const parentType = parent ? parent.split("::")[2] : undefined;
        const qualified = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
        return `urn:pulumi:${opts.stack}::${opts.project}::${qualified}::${name}`;
    };
    const registered: RunResult["registered"] = [];
    // A provider error must end the update: the SDK rejects the failed resource's outputs,
    // and everything waiting on them would wait forever (the process would just drain and
    // exit). So the first failure rejects this, which the program run races against.
    let failUpdate: (e: unknown) => void = () => undefined;
    const updateFailed = new Promise<never>((_, reject) => (failUpdate = reject));
    updateFailed.catch(() => undefined);
    const inflight = new Set<Promise<unknown>>();
    let stackOutputs: Record<string, unknown> = {};
    let stackUrn = "";
    monitor.registerResource = (req: any, callback: (err: unknown, resp?: unknown) => void) => {
        const work = (async () => {
            const type: string = req.getType();
            const name: string = req.getName();
            const parent: string = req.getParent();
            const urn = newUrn(parent, type, name);
            if (registered.some((r) => r.urn === urn)) throw new Error(`duplicate URN ${urn}`);
            registered.push({ urn, type, name, parent: parent || undefined, custom: req.getCustom() });
            if (type === ROOT_STACK_TYPE) stackUrn = urn;
            let id = "";
            let state: Record<string, unknown> = {};
            if (req.getCustom()) {
                if (req.getIgnorechangesList().length > 0)
                    throw new NotImplementedError(`${type}: ignoreChanges is not implemented (${urn})`);
                if (req.getReplaceonchangesList().length > 0)
                    throw new NotImplementedError(`${type}: replaceOnChanges is not implemented (${urn})`);
                if (req.getImportid()) throw new NotImplementedError(`${type}: import is not implemented (${urn})`);
                const inputs = fromWire(req.getObject()?.toJavaScript() ?? {}) as Record<string, unknown>;
                const t0 = Date.now();
                process.stderr.write(`apply: ${urn} ...\n`);
                const r = await applier.register({
                    type,
                    name,
                    urn,
                    inputs,
                    provider: providerUrn(req.getProvider()),
                    deleteBeforeReplace: req.getDeletebeforereplace() === true,
                    retainOnDelete: req.getRetainondelete() === true,
                });
                id = r.id;
                state = r.outputs;
                process.stderr.write(`apply: ${urn} done in ${Date.now() - t0} ms\n`);
            }
            // Components pass their args (resources among them) to super: the SDK sends those as
            // resource references and rehydrates them with a getResource invoke, which the mock
            // monitor answers from this map (as its own registerResource fills it).
            monitor.resources?.set(urn, { urn, id: id || null, state: JSON.parse(JSON.stringify(state)) });
            const response = new resproto.RegisterResourceResponse();
            response.setUrn(urn);
            response.setId(id);
            response.setObject(structproto.Struct.fromJavaScript(JSON.parse(JSON.stringify(state))));
            return response;
        })();
        inflight.add(work);
        work.then(
            (resp) => {
                inflight.delete(work);
                callback(null, resp);
            },
            (err) => {
                inflight.delete(work);
                failures.push(err);
                failUpdate(err);
                callback(err);
            },
        );
    };
    monitor.readResource = (req: any, callback: (err: unknown) => void) => {
        const err = new NotImplementedError(`${req.getType()}: reading existing resources (get) is not implemented (${req.getName()})`);
        failures.push(err);
        failUpdate(err);
        callback(err);
    };
    monitor.registerResourceOutputs = (req: any, callback: (err: unknown, resp?: unknown) => void) => {
        if (req.getUrn() === stackUrn) stackOutputs = fromWire(req.getOutputs()?.toJavaScript() ?? {}) as Record<string, unknown>;
        callback(null, {});
    };

    try {
        const program = pulumi.runtime.runInPulumiStack(async () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const mod = require(programPath);
            const main = typeof mod === "function" ? mod : typeof mod?.default === "function" ? mod.default : undefined;
            return main ? await main() : mod;
        });
        await Promise.race([program, updateFailed]);
        // Resources registered inside apply callbacks come late: wait until nothing is in
        // flight and nothing new registers.
        let last = -1;
        for (let i = 0; i < 1000 && (registered.length !== last || inflight.size > 0); i++) {
            last = registered.length;
            await Promise.race([settings.waitForRPCs(), updateFailed]);
            await Promise.race([Promise.allSettled([...inflight]), updateFailed]);
            await new Promise((r) => setTimeout(r, 20));
        }
    } catch (e) {
        failures.unshift(e);
        // Let the registrations already under way finish, so the state records what exists.
        const deadline = Date.now() + 15 * 60_000;
        while (inflight.size > 0 && Date.now() < deadline) await Promise.allSettled([...inflight]);
    } finally {
        process.off("unhandledRejection", onRejection);
    }
    if (failures.length > 0) {
        // The first provider error is the cause; the SDK's rejections that follow only echo it.
        const first = failures.find((f) => f instanceof NotImplementedError) ?? failures[0];
        throw first instanceof Error ? first : new Error(String(first));
    }
    const state = await applier.finish(stackOutputs);
    return { state, registered };
}
