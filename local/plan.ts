/**
 * The plan the loopback tier runs: the stack chosen at `up` (recorded in tier.json with its
 * cluster, so later verbs run the same one), its cluster's settings, the loopback placement.
 */
import { existsSync, readFileSync } from "node:fs";
import type { TierConfig } from "../config/schema";
import { type BucketPlan, backupPrefix, planBucket } from "../plan/bucket";
import { type ClusterPlan, planCluster } from "../plan/cluster-plan";
import { clusterSettings } from "../plan/settings";
import { loopbackPlacement } from "./placement";
import { type Layout, type Ports, repoRoot, type Tools } from "./settings";
import { chooseCluster, DEFAULT_STACK, envOverrides, type LocalOverrides, localConfig } from "./stack";

/** What `up` records in tier.json. */
export interface Recorded {
    readonly ports?: Partial<Ports>;
    readonly stack?: string;
    readonly cluster?: string;
    readonly walStreaming?: boolean;
}

export function recorded(l: Layout): Recorded {
    return existsSync(l.tierJson) ? (JSON.parse(readFileSync(l.tierJson, "utf8")) as Recorded) : {};
}

export interface Selection {
    readonly stack?: string;
    readonly cluster?: string;
}

export interface LocalTier {
    readonly stack: string;
    readonly cluster: string;
    readonly config: TierConfig;
    readonly plan: ClusterPlan;
    readonly bucket: BucketPlan;
    readonly overrides: LocalOverrides;
}

/**
 * The loopback tier's plan: the asked stack/cluster (--stack/--cluster, else DBTIER_LOCAL_STACK /
 * DBTIER_LOCAL_CLUSTER), else the recorded ones, else dev and its first cluster. WAL streaming asked for in the environment at an `up` is remembered like the
 * stack (so later verbs and `up`s keep it); the other overrides apply where they are set.
 */
export function localTier(l: Layout, p: Ports, t: Tools, ask: Selection = {}, env: NodeJS.ProcessEnv = process.env): LocalTier {
    const r = recorded(l);
    const stack = ask.stack ?? (env.DBTIER_LOCAL_STACK || undefined) ?? r.stack ?? DEFAULT_STACK;
    const fromEnv = envOverrides(env);
    const walStreaming = fromEnv.walStreaming ?? (stack === r.stack ? r.walStreaming : undefined);
    const overrides: LocalOverrides = { ...fromEnv, ...(walStreaming !== undefined ? { walStreaming } : {}) };
    const config = localConfig(stack, repoRoot(), overrides);
    const cluster = chooseCluster(
        config,
        ask.cluster ?? (env.DBTIER_LOCAL_CLUSTER || undefined) ?? (stack === r.stack ? r.cluster : undefined),
    );
    // The stack's TLS certificate and key are secrets of the stack: the loopback tier makes its own (local/tls.ts).
    const plan = planCluster(clusterSettings(config, cluster, config.sslmode !== "disable"), loopbackPlacement(l, p, t));
    const bucket = planBucket({
        provider: config.storage.provider,
        bucketName: config.storage.bucket,
        backupPrefixes: config.clusters.map((c) => backupPrefix(config.environment, c.name)),
        evidenceDays: config.backup.evidenceDays,
    });
    return { stack, cluster, config, plan, bucket, overrides };
}
