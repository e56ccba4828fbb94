/**
 * Which stack the loopback tier rehearses: Pulumi.<stack>.yaml (dev by default), validated by
 * the same schema as `pulumi up` (config/stack-config.ts validateStack), plus the local
 * overrides the benchmarks and fault tests use (DBTIER_LOCAL_RPO_SECONDS, _ARCHIVE_PUSH_TIMEOUT_SECONDS,
 * _COMPRESSION, _PGBOUNCER_RESET, _WAL_STREAMING), applied to the stack's values before validation so they obey the same rules.
 */
import { existsSync, readFileSync } from "node:fs";
import { join } from "node:path";
import * as yaml from "js-yaml";
import { validateStack } from "../config/stack-config";
import type { TierConfig } from "../config/schema";
import type { COMPRESSION_METHODS } from "../config/schema";

export const DEFAULT_STACK = "dev";

/** Settings the loopback tier may take from its environment instead of the stack file. */
export interface LocalOverrides {
    readonly rpoSeconds?: number;
    readonly archivePushTimeoutSeconds?: number;
    readonly compression?: (typeof COMPRESSION_METHODS)[number];
    readonly resetSessionState?: boolean;
    readonly walStreaming?: boolean;
}

function flag(env: NodeJS.ProcessEnv, name: string, meaning: string): boolean | undefined {
    const v = env[name];
    if (v === undefined || v === "") return undefined;
    if (v === "1") return true;
    if (v === "0") return false;
    throw new Error(`${name}="${v}": use 1 (${meaning}) or 0`);
}

/** The overrides set in the environment; the schema validates their values with the stack's. */
export function envOverrides(env: NodeJS.ProcessEnv = process.env): LocalOverrides {
    const rpo = env.DBTIER_LOCAL_RPO_SECONDS;
    const push = env.DBTIER_LOCAL_ARCHIVE_PUSH_TIMEOUT_SECONDS;
    const codec = env.DBTIER_LOCAL_COMPRESSION;
    const reset = flag(env, "DBTIER_LOCAL_PGBOUNCER_RESET", "reset, the default");
    const streaming = flag(env, "DBTIER_LOCAL_WAL_STREAMING", "stream WAL with wal-g wal-receive");
    return {
        ...(rpo !== undefined && rpo !== "" ? { rpoSeconds: Number(rpo) } : {}),
        ...(push !== undefined && push !== "" ? { archivePushTimeoutSeconds: Number(push) } : {}),
        ...(codec !== undefined && codec !== "" ? { compression: codec as LocalOverrides["compression"] } : {}),
        ...(reset !== undefined ? { resetSessionState: reset } : {}),
        ...(streaming !== undefined ? { walStreaming: streaming } : {}),
    };
}

/** A stack file's config as the engine hands it to the program: `namespace:key` to a string (JSON for objects). */
export function readStackFile(stack: string, root: string): Record<string, string> {
    if (!/^[A-Za-z0-9_.-]+$/.test(stack)) throw new Error(`--stack "${stack}": a stack name is letters, digits, '-', '_' and '.'`);
    const file = join(root, `Pulumi.${stack}.yaml`);
    if (!existsSync(file)) throw new Error(`--stack ${stack}: no ${file}`);
    const doc = (yaml.load(readFileSync(file, "utf8")) ?? {}) as { config?: Record<string, unknown> };
    const out: Record<string, string> = {};
    for (const [k, v] of Object.entries(doc.config ?? {})) {
        // `secure:` values cannot be decrypted here; the loopback tier stands in for them.
        if (v && typeof v === "object" && "secure" in v) continue;
        out[k] = typeof v === "string" ? v : JSON.stringify(v);
    }
    return out;
}

function merged(all: Record<string, string>, key: string, add: Record<string, unknown>): string {
    const raw = all[key];
    const base = raw === undefined ? {} : (JSON.parse(raw) as Record<string, unknown>);
    return JSON.stringify({ ...base, ...add });
}

/** The stack's validated config with the overrides applied; a bad value fails naming the key. */
export function localConfig(stack: string, root: string, o: LocalOverrides = {}): TierConfig {
    const all = readStackFile(stack, root);
    const backup = {
        ...(o.rpoSeconds !== undefined ? { rpoSeconds: o.rpoSeconds } : {}),
        ...(o.archivePushTimeoutSeconds !== undefined ? { archivePushTimeoutSeconds: o.archivePushTimeoutSeconds } : {}),
        ...(o.compression !== undefined ? { compression: o.compression } : {}),
        ...(o.walStreaming !== undefined ? { walStreaming: o.walStreaming } : {}),
    };
    if (Object.keys(backup).length > 0) all["db-tier:backup"] = merged(all, "db-tier:backup", backup);
    if (o.resetSessionState !== undefined)
        all["db-tier:pgbouncer"] = merged(all, "db-tier:pgbouncer", { resetSessionState: o.resetSessionState });
    return validateStack(all, stack);
}

/** The cluster to run: the named one, or the stack's first. */
export function chooseCluster(config: TierConfig, name?: string): string {
    if (name === undefined) return config.clusters[0].name;
    if (!config.clusters.some((c) => c.name === name)) {
        throw new Error(`--cluster ${name}: stack ${config.environment} has ${config.clusters.map((c) => c.name).join(", ")}`);
    }
    return name;
}
