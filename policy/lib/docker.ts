/**
 * What a Docker container or network really is, read from the properties the components
 * deploy (@pulumi/docker 5.x input names): its contract label, the networks it joins, its
 * environment, its uploaded files, its mounts and its published ports. Unknown values are
 * reported as such, never guessed.
 */
import type { PolicyResource } from "@pulumi/policy";
import { CONTAINER_ROLES, type ContainerRole, NETWORK_KINDS, NETWORK_LABEL, type NetworkKind, ROLE_LABEL } from "../shared/vocabulary";
import { asArray, asBoolean, asNumber, asObject, asString, isUnknown, type Plain, plain, propsOf } from "./values";

export const CONTAINER_TYPE = "docker:index/container:Container";
export const NETWORK_TYPE = "docker:index/network:Network";

/** A label read: its value, absent, or not known yet. */
export type LabelRead = { readonly state: "value"; readonly value: string } | { readonly state: "absent" } | { readonly state: "unknown" };

/** Reads one label from `labels`, which the provider takes as [{label, value}] (a map is accepted too). */
export function readLabel(props: Plain, key: string): LabelRead {
    const raw = plain(props.labels);
    if (raw === undefined || raw === null) return { state: "absent" };
    if (isUnknown(raw)) return { state: "unknown" };
    const list = asArray(raw);
    if (list) {
        let someKeyUnknown = false;
        for (const entry of list) {
            const e = asObject(entry);
            if (!e) {
                if (isUnknown(plain(entry))) someKeyUnknown = true;
                continue;
            }
            if (isUnknown(e.label)) {
                someKeyUnknown = true;
                continue;
            }
            if (e.label === key) {
                if (isUnknown(e.value)) return { state: "unknown" };
                return typeof e.value === "string" ? { state: "value", value: e.value } : { state: "absent" };
            }
        }
        return someKeyUnknown ? { state: "unknown" } : { state: "absent" };
    }
    const map = asObject(raw);
    if (map && key in map) {
        if (isUnknown(map[key])) return { state: "unknown" };
        return typeof map[key] === "string" ? { state: "value", value: map[key] as string } : { state: "absent" };
    }
    return { state: "absent" };
}

/**
 * A container's role: one of the contract's roles, or "app" (no role label, or a value
 * that is not a tier role: the contract counts both as an application container).
 */
export type RoleRead =
    | { readonly state: "role"; readonly role: ContainerRole }
    | { readonly state: "app"; readonly label?: string }
    | { readonly state: "unknown" };

export function containerRole(props: Plain): RoleRead {
    const l = readLabel(props, ROLE_LABEL);
    if (l.state === "unknown") return { state: "unknown" };
    if (l.state === "absent") return { state: "app" };
    return (CONTAINER_ROLES as readonly string[]).includes(l.value)
        ? { state: "role", role: l.value as ContainerRole }
        : { state: "app", label: l.value };
}

export type NetworkKindRead =
    | { readonly state: "kind"; readonly kind: NetworkKind }
    | { readonly state: "none"; readonly label?: string }
    | { readonly state: "unknown" };

export function networkKind(props: Plain): NetworkKindRead {
    const l = readLabel(props, NETWORK_LABEL);
    if (l.state === "unknown") return { state: "unknown" };
    if (l.state === "absent") return { state: "none" };
    return (NETWORK_KINDS as readonly string[]).includes(l.value)
        ? { state: "kind", kind: l.value as NetworkKind }
        : { state: "none", label: l.value };
}

/** How a resource is named in messages: the Docker name when known, else the Pulumi name. */
export function displayName(r: { name: string; props: Record<string, unknown> }): string {
    const n = asString(propsOf(r).name);
    return n ? `"${n}"` : `"${r.name}"`;
}

/** The networks a container joins, as the provider attaches them. */
export interface Membership {
    /** Docker network names (or ids) from networksAdvanced and a named networkMode. */
    readonly names: readonly string[];
    /** Some entry's network is not known yet. */
    readonly unknown: boolean;
    /** Entries that are known but name no network (no `name`, or not a string): unresolvable. */
    readonly malformed: number;
    /** No networksAdvanced and no named networkMode: Docker's default bridge. */
    readonly defaultBridge: boolean;
    /** networkMode "host": the host's own network stack. */
    readonly host: boolean;
    /** networkMode "container:<name>": the other container's network namespace. */
    readonly sharesWith?: string;
}

const DEFAULT_MODES = ["", "bridge", "default"];

export function containerNetworks(props: Plain): Membership {
    const names: string[] = [];
    let unknown = false;
    let malformed = 0;
    const adv = plain(props.networksAdvanced);
    if (isUnknown(adv)) unknown = true;
    for (const entry of asArray(adv) ?? []) {
        const e = asObject(entry);
        const name = e ? e.name : undefined;
        if (isUnknown(plain(entry)) || (e && isUnknown(name))) unknown = true;
        else if (typeof name === "string" && name !== "") names.push(name);
        else malformed++;
    }
    const modeRaw = plain(props.networkMode);
    let host = false;
    let sharesWith: string | undefined;
    let namedMode = false;
    if (isUnknown(modeRaw)) unknown = true;
    else if (typeof modeRaw === "string" && !DEFAULT_MODES.includes(modeRaw)) {
        if (modeRaw === "host") host = true;
        else if (modeRaw.startsWith("container:")) sharesWith = modeRaw.slice("container:".length);
        else if (modeRaw !== "none") {
            names.push(modeRaw);
            namedMode = true;
        } else namedMode = true; // "none": no network at all
    }
    // With networksAdvanced the provider disconnects the default bridge; without, Docker keeps it.
    const defaultBridge = !unknown && !host && !sharesWith && !namedMode && names.length === 0 && malformed === 0;
    return { names, unknown, malformed, defaultBridge, host, sharesWith };
}

export interface EnvEntry {
    readonly name: string;
    readonly value: string;
}

/** `envs` ("KEY=value" strings); `unknown` counts entries not known yet. */
export function envOf(props: Plain): { entries: EnvEntry[]; unknown: number; allUnknown: boolean } {
    const raw = plain(props.envs ?? props.env);
    if (isUnknown(raw)) return { entries: [], unknown: 1, allUnknown: true };
    const entries: EnvEntry[] = [];
    let unknown = 0;
    for (const item of asArray(raw) ?? []) {
        if (typeof item !== "string") continue;
        if (isUnknown(item)) {
            unknown++;
            continue;
        }
        const eq = item.indexOf("=");
        entries.push(eq < 0 ? { name: item, value: "" } : { name: item.slice(0, eq), value: item.slice(eq + 1) });
    }
    return { entries, unknown, allUnknown: false };
}

export function envValue(props: Plain, name: string): { state: "value"; value: string } | { state: "absent" } | { state: "unknown" } {
    const env = envOf(props);
    const hit = env.entries.find((e) => e.name === name);
    if (hit) return { state: "value", value: hit.value };
    return env.unknown > 0 ? { state: "unknown" } : { state: "absent" };
}

/** One uploaded file. `content` is undefined when it is not known yet or comes from a host file. */
export interface Upload {
    readonly file: string;
    readonly content?: string;
    readonly contentUnknown: boolean;
    /** Uploaded from a host path (`source`): the policy cannot see the text. */
    readonly fromHostFile: boolean;
}

export function uploadsOf(props: Plain): { uploads: Upload[]; unknownFiles: boolean } {
    const raw = plain(props.uploads);
    if (isUnknown(raw)) return { uploads: [], unknownFiles: true };
    const uploads: Upload[] = [];
    let unknownFiles = false;
    for (const entry of asArray(raw) ?? []) {
        const e = asObject(entry);
        if (!e || isUnknown(e.file)) {
            unknownFiles = true;
            continue;
        }
        if (typeof e.file !== "string") continue;
        const content = plain(e.content);
        const b64 = plain(e.contentBase64);
        const source = plain(e.source);
        if (typeof content === "string" && content !== "" && !isUnknown(content)) {
            uploads.push({ file: e.file, content, contentUnknown: false, fromHostFile: false });
        } else if (typeof b64 === "string" && b64 !== "" && !isUnknown(b64)) {
            uploads.push({
                file: e.file,
                content: Buffer.from(b64, "base64").toString("utf8"),
                contentUnknown: false,
                fromHostFile: false,
            });
        } else if (isUnknown(content) || isUnknown(b64)) {
            uploads.push({ file: e.file, contentUnknown: true, fromHostFile: false });
        } else if (typeof source === "string" && source !== "") {
            uploads.push({ file: e.file, contentUnknown: isUnknown(source), fromHostFile: !isUnknown(source) });
        } else {
            uploads.push({ file: e.file, content: "", contentUnknown: false, fromHostFile: false });
        }
    }
    return { uploads, unknownFiles };
}

export type UploadLookup = { state: "found"; upload: Upload } | { state: "absent" } | { state: "unknown" };

export function findUpload(props: Plain, file: string): UploadLookup {
    const { uploads, unknownFiles } = uploadsOf(props);
    const hit = [...uploads].reverse().find((u) => normalizePath(u.file) === normalizePath(file));
    if (hit) return { state: "found", upload: hit };
    return unknownFiles ? { state: "unknown" } : { state: "absent" };
}

/** Container paths where a volume, bind or tmpfs is mounted. */
export function mountTargets(props: Plain): { targets: string[]; unknown: boolean } {
    const targets: string[] = [];
    let unknown = false;
    for (const [list, key] of [
        [props.volumes, "containerPath"],
        [props.mounts, "target"],
    ] as const) {
        const l = plain(list);
        if (isUnknown(l)) unknown = true;
        for (const entry of asArray(l) ?? []) {
            const e = asObject(entry);
            const t = e ? e[key] : undefined;
            if (!e || isUnknown(t)) unknown = true;
            else if (typeof t === "string") targets.push(t);
        }
    }
    const tmpfs = asObject(props.tmpfs);
    if (tmpfs) targets.push(...Object.keys(tmpfs));
    return { targets, unknown };
}

export function normalizePath(p: string): string {
    const parts: string[] = [];
    for (const part of p.split("/")) {
        if (part === "" || part === ".") continue;
        if (part === "..") parts.pop();
        else parts.push(part);
    }
    return `/${parts.join("/")}`;
}

/** True when `path` is `dir` or lies inside it. */
export function isWithin(path: string, dir: string): boolean {
    const p = normalizePath(path);
    const d = normalizePath(dir);
    return d === "/" || p === d || p.startsWith(`${d}/`);
}

export interface PublishedPort {
    readonly internal?: number;
    readonly external?: number;
    /** Host address; Docker binds every address when it is empty. */
    readonly ip?: string;
    readonly ipUnknown: boolean;
}

/** Ports published on the host; `publishAll` is publishAllPorts (every EXPOSEd port). */
export function publishedPorts(props: Plain): { ports: PublishedPort[]; unknown: boolean; publishAll: boolean | "unknown" } {
    const raw = plain(props.ports);
    const ports: PublishedPort[] = [];
    let unknown = isUnknown(raw);
    for (const entry of asArray(raw) ?? []) {
        const e = asObject(entry);
        if (!e) {
            unknown = true;
            continue;
        }
        ports.push({
            internal: asNumber(e.internal),
            external: asNumber(e.external),
            ip: asString(e.ip),
            ipUnknown: isUnknown(e.ip),
        });
    }
    const pa = plain(props.publishAllPorts);
    const publishAll = isUnknown(pa) ? "unknown" : asBoolean(pa) === true;
    return { ports, unknown, publishAll };
}

/** A command or entrypoint as a list of strings; undefined when absent; "unknown" when not known. */
export function argv(v: unknown): string[] | undefined | "unknown" {
    const p = plain(v);
    if (p === undefined || p === null) return undefined;
    if (isUnknown(p)) return "unknown";
    const list = asArray(p);
    if (!list) return undefined;
    if (list.some((a) => isUnknown(a))) return "unknown";
    return list.filter((a): a is string => typeof a === "string");
}

export interface ContainerInfo {
    readonly resource: PolicyResource;
    readonly props: Plain;
    readonly label: string;
    readonly role: RoleRead;
    readonly networks: Membership;
}

export interface NetworkInfo {
    readonly resource: PolicyResource;
    readonly props: Plain;
    readonly label: string;
    /** Docker network name; undefined while unknown or absent. */
    readonly name?: string;
    /** The name is the engine's unknown (preview); otherwise a missing name is absent. */
    readonly nameUnknown: boolean;
    /** The network's id when the props carry it (containers may attach by id). */
    readonly id?: string;
    readonly kind: NetworkKindRead;
}

/** The Docker part of a stack: containers with their roles and memberships, and networks. */
export class DockerView {
    readonly containers: ContainerInfo[];
    readonly networks: NetworkInfo[];

    constructor(resources: readonly PolicyResource[]) {
        this.containers = resources
            .filter((r) => r.type === CONTAINER_TYPE)
            .map((r) => {
                const props = propsOf(r);
                return { resource: r, props, label: displayName(r), role: containerRole(props), networks: containerNetworks(props) };
            });
        this.networks = resources
            .filter((r) => r.type === NETWORK_TYPE)
            .map((r) => {
                const props = propsOf(r);
                return {
                    resource: r,
                    props,
                    label: displayName(r),
                    name: asString(props.name),
                    nameUnknown: isUnknown(plain(props.name)),
                    id: asString(props.id),
                    kind: networkKind(props),
                };
            });
    }

    /**
     * The network of the stack a container's entry refers to (Docker accepts a name or an id);
     * `unknown` when some network's name is not known yet (preview), `nameless` lists networks
     * that have no name at all, so that a miss cannot be told from a hit on one of them.
     */
    resolveNetwork(name: string): { network?: NetworkInfo; unknown: boolean; nameless: NetworkInfo[] } {
        const network = this.networks.find((n) => n.name === name || n.id === name);
        const nameless = this.networks.filter((n) => n.name === undefined && !n.nameUnknown);
        if (network) return { network, unknown: false, nameless: [] };
        return { unknown: this.networks.some((n) => n.nameUnknown), nameless };
    }

    /** True when the stack declares any db-tier network (the pack then guards its attachments). */
    hasTierNetworks(): boolean {
        return this.networks.some((n) => n.kind.state !== "none");
    }

    /** The container another one shares its network namespace with (networkMode container:<name>). */
    containerByName(name: string): ContainerInfo | undefined {
        return this.containers.find((c) => asString(c.props.name) === name || c.resource.name === name);
    }

    /**
     * Every network a container ends up on, resolved against the stack's networks, with the
     * namespace of a `container:` network mode followed one step.
     */
    effectiveMembership(c: ContainerInfo): {
        networks: NetworkInfo[];
        /** Names that match no network of this stack (external or default networks). */
        foreign: string[];
        /**
         * Attachments that cannot be resolved from what is known: an entry without a network
         * name, a name that matches nothing while some network of the stack has no name, a
         * `container:` mode naming no container of the stack. Each is a reason, in words.
         */
        unresolved: string[];
        unknown: boolean;
        defaultBridge: boolean;
        host: boolean;
    } {
        let m = c.networks;
        let unknown = m.unknown;
        const unresolved: string[] = [];
        if (m.sharesWith !== undefined) {
            const other = this.containerByName(m.sharesWith);
            if (!other) {
                const reason = `it shares the network namespace of container "${m.sharesWith}", which is no container of this stack`;
                return { networks: [], foreign: [], unresolved: [reason], unknown, defaultBridge: false, host: false };
            }
            m = other.networks;
            unknown = unknown || m.unknown;
        }
        if (m.malformed > 0) unresolved.push(`${m.malformed} of its networksAdvanced entries name no network`);
        const networks: NetworkInfo[] = [];
        const foreign: string[] = [];
        for (const name of m.names) {
            const hit = this.resolveNetwork(name);
            if (hit.network) networks.push(hit.network);
            else if (hit.unknown) unknown = true;
            else if (hit.nameless.length > 0) {
                unresolved.push(
                    `it joins network "${name}", and network ${hit.nameless.map((n) => n.label).join(", ")} of this stack has no name to compare it with`,
                );
            } else foreign.push(name);
        }
        return { networks, foreign, unresolved, unknown, defaultBridge: m.defaultBridge, host: m.host };
    }

    /** Containers that are on the given network (directly or through a shared namespace). */
    membersOf(n: NetworkInfo): ContainerInfo[] {
        return this.containers.filter((c) => this.effectiveMembership(c).networks.includes(n));
    }
}
