/**
 * Reads the stack's `db-tier:*` config: plain keys go to the schema (unknown keys are
 * errors too), secret keys are read as secrets and must have been set with --secret.
 */
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, parseOrThrow, problemsOf } from "./errors";
import { editDistance } from "./rules/suggest";
import { dnsLabel, type TierConfig, type TierConfigInput, tierConfigSchema } from "./schema";

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

/** A config value as the program reads it: JSON when it parses (objects, numbers), else the string. */
export function parseValue(raw: string): unknown {
    try {
        return JSON.parse(raw);
    } catch {
        return raw; // a plain string value
    }
}

/**
 * Namespaces of the providers the tier uses and of Pulumi itself: keys there are theirs.
 * Any other namespace that is a near miss of `db-tier` (`db-teir`, `dbtier`, `db_tier`,
 * `DB-Tier`) is a typo whose keys would be ignored silently, so it is refused.
 */
export const FOREIGN_NAMESPACES = ["pulumi", "docker", "aws", "random", "command", "tls"] as const;

export function isNearMissNamespace(ns: string): boolean {
    if (ns === NAMESPACE || (FOREIGN_NAMESPACES as readonly string[]).includes(ns)) return false;
    const fold = (s: string) => s.toLowerCase().replace(/[-_.\s]/g, "");
    return fold(ns) === fold(NAMESPACE) || editDistance(ns.toLowerCase(), NAMESPACE) <= 2 || editDistance(fold(ns), fold(NAMESPACE)) <= 1;
}

/**
 * The stack's environment names its backup prefix (s3://<bucket>/<environment>/<cluster>/,
 * CONTRACT.md) and its Docker names. A stack file copied from another stack keeps the other's
 * environment: both stacks would then write into one prefix, and each one's retention would
 * delete the other's backups. So the environment must be the stack's own name.
 */
export function environmentProblem(environment: unknown, stack: string): string | undefined {
    if (typeof environment !== "string" || environment === stack) return undefined;
    const stackIsLabel = dnsLabel.safeParse(stack).success;
    return stackIsLabel
        ? `is "${environment}" in stack "${stack}": the environment must be the stack's name (write ${stack}), or this stack would share the backup prefix s3://<bucket>/${environment}/ and the Docker names of stack ${environment}, and either one's retention would delete the other's backups`
        : `is "${environment}" in stack "${stack}": the environment must be the stack's name, and "${stack}" is not a DNS label (a-z, 0-9, '-'); rename the stack (e.g. pulumi stack rename ${stack.toLowerCase().replace(/[^a-z0-9-]+/g, "-")})`;
}

/**
 * The `db-tier` values of a stack's config (`namespace:key` to the engine's string), and the
 * problems found before the schema runs: near-miss namespaces, dotted keys, secret keys in
 * plain text, an environment that names another stack. Pure, for the tests.
 */
export function stackValues(
    all: Readonly<Record<string, string>>,
    stack: string,
    isSecret: (fullKey: string) => boolean,
): { values: Record<string, unknown>; problems: string[] } {
    const values: Record<string, unknown> = {};
    const problems: string[] = [];
    for (const [fullKey, raw] of Object.entries(all)) {
        const colon = fullKey.indexOf(":");
        const [ns, key] = colon < 0 ? [fullKey, undefined] : [fullKey.slice(0, colon), fullKey.slice(colon + 1)];
        if (ns !== NAMESPACE || key === undefined) {
            if (isNearMissNamespace(ns)) {
                problems.push(
                    `${fullKey}: "${ns}" is not the tier's namespace, so this key would be ignored; write ${NAMESPACE}:${key ?? ""}`,
                );
            }
            continue;
        }
        if ((SECRET_KEYS as readonly string[]).includes(key)) {
            if (!isSecret(fullKey)) problems.push(`${fullKey}: must be set with pulumi config set --secret`);
            continue;
        }
        // `db-tier:storage.bucket: x` in a stack file is one key named "storage.bucket",
        // not a path; only `pulumi config set --path` turns a dotted path into nesting.
        if (/[.[]/.test(key)) {
            const [head, ...rest] = key.split(".");
            problems.push(
                `${fullKey}: is a dotted key, not a path; nest it instead: ${NAMESPACE}:${head}: {${rest.join(".")}: ...} (or pulumi config set --path '${NAMESPACE}:${key}' VALUE)`,
            );
            continue;
        }
        values[key] = parseValue(raw);
    }
    const environment = environmentProblem(values.environment, stack);
    if (environment) problems.push(`${NAMESPACE}:environment: ${environment}`);
    return { values, problems };
}

export function readStackConfig(): { values: TierConfigInput; secrets: StackSecrets } {
    const { values, problems } = stackValues(pulumi.runtime.allConfig(), pulumi.getStack(), isConfigSecret);
    // Report the schema's findings in the same error, so one run shows every mistake.
    if (problems.length) throw new ConfigError("db-tier stack config", [...problems, ...problemsOf(tierConfigSchema, values, NAMESPACE)]);
    const cfg = new pulumi.Config(NAMESPACE);
    const secrets: StackSecrets = Object.fromEntries(
        SECRET_KEYS.filter((k) => cfg.get(k) !== undefined).map((k) => [k, cfg.requireSecret(k)]),
    );
    // The schema validates every value when the stack is built.
    return { values: values as TierConfigInput, secrets };
}

/**
 * Everything readStackConfig and deployStack check about the plain values, in one call and
 * without the Pulumi runtime: what `pulumi up` would refuse, for the tests and the docs.
 */
export function validateStack(
    all: Readonly<Record<string, string>>,
    stack: string,
    isSecret: (fullKey: string) => boolean = () => true,
): TierConfig {
    const { values, problems } = stackValues(all, stack, isSecret);
    if (problems.length) throw new ConfigError("db-tier stack config", [...problems, ...problemsOf(tierConfigSchema, values, NAMESPACE)]);
    return parseOrThrow(tierConfigSchema, values, "db-tier stack config", NAMESPACE);
}
