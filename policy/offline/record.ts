/**
 * Runs a Pulumi program under the SDK's mock runtime and records every resource it
 * registers, as the engine would hand it to a policy pack: type, name, engine-style URN,
 * parent, provider, dependencies, inputs and outputs.
 *
 * Parentage: the mock runtime does not pass a resource's parent to Mocks.newResource, and
 * its URNs keep only the parent's last type, so two same-named children of two components
 * of the same type get one URN. The registration request does carry the parent, the
 * provider reference and the dependencies (the SDK resolves them in-process before it calls
 * the monitor), so the recorder wraps the mock monitor's registerResource/readResource and
 * reads them from the request, and it has the monitor mint URNs the way the engine does
 * (the full parent type chain; children of the root stack have none), so every reference
 * names exactly one resource.
 */
import * as pulumi from "@pulumi/pulumi";
import type {
    ReadResourceRequest,
    ReadResourceResponse,
    RegisterResourceRequest,
    RegisterResourceResponse,
} from "@pulumi/pulumi/proto/resource_pb";
import * as crypto from "node:crypto";
import type { ResourceRecord } from "../lib/evaluate";
import { ROOT_STACK_TYPE } from "../lib/evaluate";
import { withAutoName } from "./autonaming";
import { fromWire, WIRE_UNKNOWN } from "./wire";

interface RawRecord {
    type: string;
    name: string;
    custom: boolean;
    mockUrn: string;
    parentMockUrn?: string;
    providerMockUrn?: string;
    dependencyMockUrns: string[];
    propertyDependencyMockUrns: Record<string, string[]>;
    inputs: Record<string, unknown>;
    outputs: Record<string, unknown>;
}

export interface RecordOptions {
    readonly project: string;
    readonly stack: string;
    readonly config: Record<string, string>;
    readonly secretKeys: readonly string[];
    /** Run as `pulumi preview` (computed values stay unknown) instead of `pulumi up`. */
    readonly preview?: boolean;
}

export class ProgramError extends Error {
    constructor(
        message: string,
        readonly original?: unknown,
    ) {
        super(message);
        this.name = "ProgramError";
    }
}

function seeded(seed: string, bytes: number): Buffer {
    const chunks: Buffer[] = [];
    for (let i = 0; Buffer.concat(chunks).length < bytes; i++) chunks.push(crypto.createHash("sha256").update(`${seed}/${i}`).digest());
    return Buffer.concat(chunks).subarray(0, bytes);
}

function alnum(seed: string, length: number): string {
    const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";
    return [...seeded(seed, length)].map((b) => alphabet[b % alphabet.length]).join("");
}

/** Plausible values of the outputs providers compute, deterministic per resource name. */
function computedOutputs(type: string, name: string, inputs: Record<string, unknown>): Record<string, unknown> {
    const n = (v: unknown, d: number) => (typeof v === "number" && Number.isFinite(v) ? v : d);
    switch (type) {
        case "random:index/randomPassword:RandomPassword":
        case "random:index/randomString:RandomString": {
            const result = alnum(`${type}/${name}`, n(inputs.length, 16));
            return { result, bcryptHash: `$2a$10$${alnum(`${name}/bcrypt`, 53)}` };
        }
        case "random:index/randomBytes:RandomBytes": {
            const b = seeded(`${type}/${name}`, n(inputs.length, 32));
            return { hex: b.toString("hex"), base64: b.toString("base64") };
        }
        case "random:index/randomId:RandomId": {
            const b = seeded(`${type}/${name}`, n(inputs.byteLength, 8));
            return {
                hex: b.toString("hex"),
                b64Std: b.toString("base64"),
                b64Url: b.toString("base64url"),
                dec: BigInt(`0x${b.toString("hex")}`).toString(),
                id: b.toString("base64url"),
            };
        }
        case "random:index/randomUuid:RandomUuid": {
            const h = seeded(`${type}/${name}`, 16).toString("hex");
            return { result: `${h.slice(0, 8)}-${h.slice(8, 12)}-4${h.slice(13, 16)}-a${h.slice(17, 20)}-${h.slice(20, 32)}` };
        }
        case "random:index/randomInteger:RandomInteger":
            return { result: n(inputs.min, 0) };
        case "docker:index/network:Network": {
            // The engine gives each network its own subnet (a /24 of its address pool).
            const h = seeded(`${type}/${name}`, 1)[0];
            return { ipamConfigs: [{ subnet: `10.214.${h}.0/24`, gateway: `10.214.${h}.1` }] };
        }
        case "docker:index/image:Image":
        case "docker:index/remoteImage:RemoteImage": {
            const digest = `sha256:${crypto.createHash("sha256").update(name).digest("hex")}`;
            const image = String(inputs.imageName ?? inputs.name ?? name);
            return { imageId: digest, repoDigest: `${image.split(":")[0]}@${digest}` };
        }
        default:
            return {};
    }
}

function providerUrn(ref: string): string | undefined {
    if (!ref) return undefined;
    const i = ref.lastIndexOf("::");
    return i > 0 ? ref.slice(0, i) : ref;
}

// The SDK's internal helpers; stable across 3.x (the language host uses the same ones).
// eslint-disable-next-line @typescript-eslint/no-require-imports
const settings: { waitForRPCs(): Promise<void>; getMonitor(): unknown } = require("@pulumi/pulumi/runtime/settings");

/** The mock monitor's methods the recorder wraps (registerResource and readResource share one shape). */
type MonitorRpc = (
    req: RegisterResourceRequest | ReadResourceRequest,
    callback: (err: unknown, resp?: RegisterResourceResponse | ReadResourceResponse) => void,
) => void;
interface MockMonitor {
    newUrn(parent: string, type: string, name: string): string;
    registerResource: MonitorRpc;
    readResource: MonitorRpc;
}
interface StructClass<S> {
    fromJavaScript(value: Record<string, unknown>): S;
}

/** Records the resources a program registers; the program is `require`d inside a root stack. */
export async function recordProgram(programPath: string, opts: RecordOptions): Promise<ResourceRecord[]> {
    const preview = opts.preview ?? false;
    const raws: RawRecord[] = [];
    const failures: unknown[] = [];
    const onRejection = (e: unknown) => failures.push(e);
    process.on("unhandledRejection", onRejection);

    pulumi.runtime.setAllConfig(opts.config, [...opts.secretKeys]);
    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs): { id: string | undefined; state: Record<string, unknown> } {
                const computed = computedOutputs(args.type, args.name, args.inputs);
                const state: Record<string, unknown> = { ...args.inputs };
                for (const [k, v] of Object.entries(computed)) state[k] = preview ? WIRE_UNKNOWN : v;
                const id = preview && args.custom ? undefined : String(args.inputs.name ?? args.inputs.bucket ?? `${args.name}-id`);
                return { id, state };
            },
            call(): Record<string, unknown> {
                return {};
            },
        },
        opts.project,
        opts.stack,
        preview,
    );

    const monitor = settings.getMonitor() as MockMonitor;
    // Engine-style URNs: the parent's whole qualified type, except for the root stack.
    monitor.newUrn = (parent: string, type: string, name: string): string => {
        const parentType = parent ? parent.split("::")[2] : undefined;
        const qualified = parentType && parentType !== ROOT_STACK_TYPE ? `${parentType}$${type}` : type;
        return `urn:pulumi:${opts.stack}::${opts.project}::${qualified}::${name}`;
    };
    const wrap = (method: "registerResource" | "readResource") => {
        const original = monitor[method].bind(monitor);
        monitor[method] = (req, callback) => {
            // Which request it is follows from the method wrapped (the monitor's own contract).
            const reg = method === "registerResource" ? (req as RegisterResourceRequest) : undefined;
            const propertyDependencyMockUrns: Record<string, string[]> = {};
            if (reg?.getCustom()) {
                // The provider's Check names what the program left unnamed (see autonaming.ts).
                const struct = reg.getObject();
                const urn = monitor.newUrn(reg.getParent(), reg.getType(), reg.getName());
                const named = struct ? withAutoName(reg.getType(), reg.getName(), urn, struct.toJavaScript()) : undefined;
                // The Struct class of the SDK's own google-protobuf copy, so the monitor accepts the message.
                if (struct && named) reg.setObject((struct.constructor as unknown as StructClass<typeof struct>).fromJavaScript(named));
            }
            reg?.getPropertydependenciesMap().forEach((deps, key) => {
                propertyDependencyMockUrns[key] = deps.getUrnsList();
            });
            const raw: Omit<RawRecord, "mockUrn" | "outputs"> = {
                type: req.getType(),
                name: req.getName(),
                custom: reg ? reg.getCustom() : true,
                parentMockUrn: req.getParent() || undefined,
                providerMockUrn: providerUrn(req.getProvider()),
                dependencyMockUrns: reg ? reg.getDependenciesList() : [],
                propertyDependencyMockUrns,
                inputs: fromWire((reg ? reg.getObject() : (req as ReadResourceRequest).getProperties())?.toJavaScript() ?? {}) as Record<
                    string,
                    unknown
                >,
            };
            original(req, (err, resp) => {
                if (!err && resp) {
                    raws.push({
                        ...raw,
                        mockUrn: resp.getUrn(),
                        outputs: fromWire(
                            ("getProperties" in resp ? resp.getProperties() : resp.getObject())?.toJavaScript() ?? {},
                        ) as Record<string, unknown>,
                    });
                }
                callback(err, resp);
            });
        };
    };
    wrap("registerResource");
    wrap("readResource");

    try {
        await pulumi.runtime.runInPulumiStack(async () => {
            // eslint-disable-next-line @typescript-eslint/no-require-imports
            const mod = require(programPath);
            const main = typeof mod === "function" ? mod : typeof mod?.default === "function" ? mod.default : undefined;
            return main ? await main() : mod;
        });
        // Resources created inside apply callbacks register late: wait until nothing moves for
        // three rounds in a row (one quiet round was too short on a loaded machine).
        let last = -1;
        for (let i = 0, quiet = 0; i < 200 && quiet < 3; i++) {
            quiet = raws.length === last ? quiet + 1 : 0;
            last = raws.length;
            await settings.waitForRPCs();
            await new Promise((r) => setTimeout(r, 20));
        }
    } catch (e) {
        failures.unshift(e);
    } finally {
        process.off("unhandledRejection", onRejection);
    }
    if (failures.length > 0) {
        const e = failures[0];
        throw new ProgramError(e instanceof Error ? e.message : String(e), e);
    }
    const urns = raws.map((r) => r.mockUrn);
    const duplicate = urns.find((u, i) => urns.indexOf(u) !== i);
    if (duplicate) throw new ProgramError(`duplicate URN ${duplicate}: two resources of the same type and parent share a name`);
    return toRecords(raws);
}

/** Records with references resolved to registered resources (URNs are already engine-style). */
function toRecords(raws: RawRecord[]): ResourceRecord[] {
    const known = new Set(raws.map((r) => r.mockUrn));
    const ref = (urn: string | undefined): string | undefined => (urn && known.has(urn) ? urn : undefined);
    const refs = (urns: string[]): string[] => urns.filter((u) => known.has(u));
    return raws.map((r) => ({
        type: r.type,
        name: r.name,
        urn: r.mockUrn,
        inputs: r.inputs,
        outputs: r.outputs,
        parent: ref(r.parentMockUrn),
        provider: ref(r.providerMockUrn),
        dependencies: refs(r.dependencyMockUrns),
        propertyDependencies: Object.fromEntries(Object.entries(r.propertyDependencyMockUrns).map(([k, v]) => [k, refs(v)])),
        custom: r.custom,
    }));
}
