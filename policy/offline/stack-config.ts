/**
 * The configuration a Pulumi program sees for a stack, read from Pulumi.yaml (project name
 * and config defaults) and Pulumi.<stack>.yaml, in the shape the Node SDK takes it
 * (`namespace:key` to string, objects as JSON). `secure:` values cannot be decrypted
 * offline: each is replaced by a clearly fake placeholder, long enough for any length
 * check, and its key is marked secret. Placeholders are never printed.
 */
import * as crypto from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";

// js-yaml is a dependency of @pulumi/pulumi; it has no typings here.
// eslint-disable-next-line @typescript-eslint/no-require-imports
const yaml: { load(text: string): unknown } = require("js-yaml");

export class UsageError extends Error {
    constructor(message: string) {
        super(message);
        this.name = "UsageError";
    }
}

export interface StackConfig {
    readonly project: string;
    readonly stack: string;
    /** `namespace:key` to the string the SDK hands the program. */
    readonly config: Record<string, string>;
    readonly secretKeys: string[];
    /** Keys whose value is an offline placeholder (never the real secret). */
    readonly placeholders: string[];
}

/** A fake secret for `key`: 48 characters, clearly not real, the same on every run. */
export function placeholderFor(key: string): string {
    return `offlineplaceholder${crypto.createHash("sha256").update(key).digest("hex").slice(0, 30)}`;
}

function readYaml(file: string): Record<string, unknown> {
    let doc: unknown;
    try {
        doc = yaml.load(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new UsageError(`${file}: cannot be read as YAML: ${(e as Error).message}`);
    }
    if (doc === undefined || doc === null) return {};
    if (typeof doc !== "object" || Array.isArray(doc)) throw new UsageError(`${file}: must be a YAML mapping`);
    return doc as Record<string, unknown>;
}

/** Replaces every `{secure: ...}` inside a value by a placeholder; tells whether any was found. */
function substituteSecure(key: string, value: unknown): { value: unknown; secure: boolean } {
    if (value !== null && typeof value === "object" && !Array.isArray(value)) {
        const o = value as Record<string, unknown>;
        if (Object.keys(o).length === 1 && typeof o.secure === "string") return { value: placeholderFor(key), secure: true };
        let secure = false;
        const out: Record<string, unknown> = {};
        for (const [k, v] of Object.entries(o)) {
            const r = substituteSecure(`${key}.${k}`, v);
            out[k] = r.value;
            secure = secure || r.secure;
        }
        return { value: out, secure };
    }
    if (Array.isArray(value)) {
        let secure = false;
        const out = value.map((v, i) => {
            const r = substituteSecure(`${key}[${i}]`, v);
            secure = secure || r.secure;
            return r.value;
        });
        return { value: out, secure };
    }
    return { value, secure: false };
}

/**
 * The path of the first number JSON cannot carry (`.inf`, `-.inf`, `.nan` in YAML): the
 * engine hands config to the program as JSON, where such a number would arrive as null
 * and be reported as "null" instead of what was written.
 */
function nonFiniteAt(value: unknown, at: string): { at: string; value: number } | undefined {
    if (typeof value === "number") return Number.isFinite(value) ? undefined : { at, value };
    if (Array.isArray(value)) {
        for (let i = 0; i < value.length; i++) {
            const hit = nonFiniteAt(value[i], `${at}[${i}]`);
            if (hit) return hit;
        }
    } else if (value !== null && typeof value === "object") {
        for (const [k, v] of Object.entries(value)) {
            const hit = nonFiniteAt(v, `${at}.${k}`);
            if (hit) return hit;
        }
    }
    return undefined;
}

function yamlNumber(n: number): string {
    return Number.isNaN(n) ? ".nan" : n > 0 ? ".inf" : "-.inf";
}

function toConfigString(v: unknown): string {
    return typeof v === "string" ? v : JSON.stringify(v);
}

function qualify(project: string, key: string): string {
    return key.includes(":") ? key : `${project}:${key}`;
}

/**
 * Reads the project and stack files under `root`; UsageError when the stack does not exist.
 * `externalSecrets` are keys whose values live outside the stack file (set by CI from its
 * secret store before `pulumi preview`); absent ones get placeholders like `secure:` values.
 */
export function readStackConfig(root: string, stack: string, externalSecrets: readonly string[] = []): StackConfig {
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new UsageError(`"${stack}" is not a valid stack name`);
    const projectFile = ["Pulumi.yaml", "Pulumi.yml"].map((f) => path.join(root, f)).find((f) => fs.existsSync(f));
    if (!projectFile) throw new UsageError(`no Pulumi.yaml in ${root}`);
    const projectDoc = readYaml(projectFile);
    const project = projectDoc.name;
    if (typeof project !== "string" || project === "") throw new UsageError(`${projectFile}: has no project name`);
    const stackFile = [`Pulumi.${stack}.yaml`, `Pulumi.${stack}.yml`].map((f) => path.join(root, f)).find((f) => fs.existsSync(f));
    if (!stackFile) {
        const known = fs
            .readdirSync(root)
            .map((f) => /^Pulumi\.(.+)\.ya?ml$/.exec(f)?.[1])
            .filter((s): s is string => s !== undefined);
        throw new UsageError(`unknown stack "${stack}": no Pulumi.${stack}.yaml in ${root} (stacks: ${known.join(", ") || "none"})`);
    }

    const config: Record<string, string> = {};
    const secretKeys = new Set<string>();
    const placeholders: string[] = [];
    const put = (rawKey: string, rawValue: unknown, forceSecret = false): void => {
        const key = qualify(project, rawKey);
        const { value, secure } = substituteSecure(key, rawValue);
        const bad = nonFiniteAt(value, key);
        if (bad)
            throw new UsageError(
                `${path.basename(stackFile)}: ${bad.at}: ${yamlNumber(bad.value)} is not a number the configuration can carry; write a finite number (e.g. 60)`,
            );
        if (value === undefined || value === null) return;
        config[key] = toConfigString(value);
        if (secure || forceSecret) secretKeys.add(key);
        if (secure) placeholders.push(key);
    };

    // Project-level defaults: `config: {key: {default: v, secret?: bool}}` or `key: value`.
    const projectConfig = projectDoc.config;
    if (projectConfig && typeof projectConfig === "object" && !Array.isArray(projectConfig)) {
        for (const [k, v] of Object.entries(projectConfig as Record<string, unknown>)) {
            if (v !== null && typeof v === "object" && !Array.isArray(v) && ("default" in v || "value" in v || "type" in v)) {
                const spec = v as { default?: unknown; value?: unknown; secret?: boolean };
                const value = spec.value !== undefined ? spec.value : spec.default;
                if (value !== undefined) put(k, value, spec.secret === true);
            } else {
                put(k, v);
            }
        }
    }
    const stackDoc = readYaml(stackFile);
    const stackConfig = stackDoc.config;
    if (stackConfig !== undefined && stackConfig !== null) {
        if (typeof stackConfig !== "object" || Array.isArray(stackConfig)) throw new UsageError(`${stackFile}: config must be a mapping`);
        for (const [k, v] of Object.entries(stackConfig as Record<string, unknown>)) put(k, v);
    }
    for (const k of externalSecrets) {
        const key = qualify(project, k);
        if (config[key] !== undefined) continue;
        config[key] = placeholderFor(key);
        secretKeys.add(key);
        placeholders.push(key);
    }
    return { project, stack, config, secretKeys: [...secretKeys], placeholders };
}

/**
 * Keys of secrets each stack takes from CI's secret store instead of its stack file, from
 * policy/offline/external-secrets.json (`{"<stack>": ["db-tier:key", ...]}`).
 */
export function readExternalSecrets(file: string, stack: string): string[] {
    if (!fs.existsSync(file)) return [];
    let doc: unknown;
    try {
        doc = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch (e) {
        throw new UsageError(`${file}: cannot be read as JSON: ${(e as Error).message}`);
    }
    const list = (doc as Record<string, unknown>)?.[stack];
    if (list === undefined) return [];
    if (!Array.isArray(list) || list.some((k) => typeof k !== "string"))
        throw new UsageError(`${file}: "${stack}" must be a list of config keys`);
    return list as string[];
}
