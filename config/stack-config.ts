/**
 * Reads the stack's `db-tier:*` config: plain keys go to the schema (unknown keys are
 * errors too), secret keys are read as secrets and must have been set with --secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError } from "./errors";
import { TierConfigInput } from "./schema";

/** Values that come from `pulumi config set --secret`. */
export interface StackSecrets {
    readonly storageAccessKeyId?: pulumi.Input<string>;
    readonly storageSecretAccessKey?: pulumi.Input<string>;
    readonly tlsCertPem?: pulumi.Input<string>;
    readonly tlsKeyPem?: pulumi.Input<string>;
}

export const NAMESPACE = "db-tier";
export const SECRET_KEYS = ["storageAccessKeyId", "storageSecretAccessKey", "tlsCertPem", "tlsKeyPem"] as const;

/**
 * Whether the engine passed `fullKey` as a secret. The SDK keeps this check internal, so it
 * is reached through the runtime module; when absent (older SDKs) the check is skipped.
 */
function isConfigSecret(fullKey: string): boolean {
    const check = (pulumi.runtime as unknown as { isConfigSecret?: (k: string) => boolean }).isConfigSecret;
    return check ? check(fullKey) : true;
}

function parseValue(raw: string): unknown {
    try {
        return JSON.parse(raw);
    } catch {
        return raw; // a plain string value
    }
}

export function readStackConfig(): { values: TierConfigInput; secrets: StackSecrets } {
    const all = pulumi.runtime.allConfig();
    const values: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const [fullKey, raw] of Object.entries(all)) {
        const [ns, key] = fullKey.split(":");
        if (ns !== NAMESPACE || key === undefined) continue;
        if ((SECRET_KEYS as readonly string[]).includes(key)) {
            if (!isConfigSecret(fullKey)) problems.push(`${fullKey}: must be set with pulumi config set --secret`);
            continue;
        }
        values[key] = parseValue(raw);
    }
    if (problems.length) throw new ConfigError("db-tier stack config", problems);
    const cfg = new pulumi.Config(NAMESPACE);
    const secrets: StackSecrets = Object.fromEntries(
        SECRET_KEYS.filter((k) => cfg.get(k) !== undefined).map((k) => [k, cfg.requireSecret(k)]),
    );
    // The schema validates every value when the stack is built.
    return { values: values as TierConfigInput, secrets };
}
