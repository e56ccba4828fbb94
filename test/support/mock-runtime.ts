/**
 * The Pulumi mock runtime for graph tests: records every registered resource (type, name,
 * inputs, provider) and fills in what real providers would compute (random results,
 * image names, bucket names), so the components run exactly as under `pulumi up`.
 */
import * as pulumi from "@pulumi/pulumi";
import { createHash, randomBytes } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import * as yaml from "js-yaml";
import { uploadText } from "../../components/tier-container";

export interface RecordedResource {
    readonly type: string;
    readonly name: string;
    readonly inputs: Record<string, any>;
    readonly provider?: string;
}

const ALNUM = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

function computed(type: string, name: string, inputs: Record<string, any>): Record<string, unknown> {
    switch (type) {
        case "random:index/randomPassword:RandomPassword": {
            const bytes = randomBytes(inputs.length);
            return { result: [...bytes].map((b) => ALNUM[b % ALNUM.length]).join("") };
        }
        case "random:index/randomBytes:RandomBytes": {
            const bytes = randomBytes(inputs.length);
            return { base64: bytes.toString("base64"), hex: bytes.toString("hex") };
        }
        case "docker:index/image:Image":
            return { imageName: inputs.imageName, repoDigest: `${inputs.imageName}@sha256:${"0".repeat(64)}` };
        case "aws:s3/bucket:Bucket":
            return { bucket: inputs.bucket ?? name };
        case "docker:index/network:Network":
            return { ipamConfigs: [{ subnet: mockSubnet(String(inputs.name ?? name)) }] };
        default:
            return {};
    }
}

/** The subnet the mocks give a network, as the engine gives each one its own /24 (10.214.0.0/16 here). */
export function mockSubnet(networkName: string): string {
    const h = createHash("sha256").update(networkName).digest();
    return `10.214.${h[0]}.0/24`;
}

export async function installMocks(stack: string, preview = false): Promise<RecordedResource[]> {
    const recorded: RecordedResource[] = [];
    await pulumi.runtime.setMocks(
        {
            newResource(args: pulumi.runtime.MockResourceArgs) {
                recorded.push({ type: args.type, name: args.name, inputs: args.inputs, provider: args.provider });
                return { id: `${args.name}-id`, state: { ...args.inputs, ...computed(args.type, args.name, args.inputs) } };
            },
            call(args: pulumi.runtime.MockCallArgs) {
                return args.inputs;
            },
        },
        "db-tier",
        stack,
        preview,
    );
    return recorded;
}

export const REPO_ROOT = path.resolve(__dirname, "../..");
/** A fake secret for `secure:` config values, which cannot be decrypted offline. */
export const PLACEHOLDER_SECRET = "placeholder-secret-value-0123456789abcdef";

/** Loads Pulumi.<stack>.yaml into the runtime config, secure values as placeholder secrets. */
export function loadStackConfig(
    stack: string,
    overrides: Record<string, unknown> = {},
    secretOverrides: Record<string, string> = {},
): void {
    const doc = yaml.load(fs.readFileSync(path.join(REPO_ROOT, `Pulumi.${stack}.yaml`), "utf8")) as { config?: Record<string, unknown> };
    const config: Record<string, string> = {};
    const secretKeys: string[] = [];
    for (const [k, v] of Object.entries({ ...doc.config, ...overrides })) {
        if (v && typeof v === "object" && "secure" in (v as object)) {
            config[k] = PLACEHOLDER_SECRET;
            secretKeys.push(k);
        } else {
            config[k] = typeof v === "string" ? v : JSON.stringify(v);
        }
    }
    for (const [k, v] of Object.entries(secretOverrides)) {
        config[k] = v;
        secretKeys.push(k);
    }
    pulumi.runtime.setAllConfig(config, secretKeys);
}

/** Resolves an Output's value (never call with preview unknowns). */
export function outputValue<T>(o: pulumi.Output<T> | pulumi.Input<T>): Promise<T> {
    return new Promise((resolve) => pulumi.output(o).apply((v) => resolve(v as T)));
}

/** Waits until every resource registration of the program has reached the mocks. */
export async function settle(): Promise<void> {
    await pulumi.runtime.awaitStackRegistrations();
    await new Promise((r) => setTimeout(r, 20));
}

export function labelOf(r: RecordedResource, key: string): string | undefined {
    return (r.inputs.labels as { label: string; value: string }[] | undefined)?.find((l) => l.label === key)?.value;
}

/** Pulumi's signature key for a secret value in serialized inputs. */
const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Strips secret wrappers from mock-runtime inputs (a list holding one secret is secret whole). */
export function plain<T = any>(value: unknown): T {
    if (Array.isArray(value)) return value.map((v) => plain(v)) as T;
    if (value && typeof value === "object") {
        const o = value as Record<string, unknown>;
        if (o[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270") return plain(o.value);
        return Object.fromEntries(Object.entries(o).map(([k, v]) => [k, plain(v)])) as T;
    }
    return value as T;
}

/**
 * The content of the file a container uploads at `file`: inline content, or, for a secret
 * file uploaded by `source`, the text written there for the provider (components/tier-container).
 */
export function uploadAt(c: RecordedResource, file: string): string | undefined {
    const upload = plain<{ file: string; content?: string; contentBase64?: string; source?: string }[]>(c.inputs.uploads ?? []).find(
        (u) => u.file === file,
    );
    return upload ? uploadText(upload) : undefined;
}
