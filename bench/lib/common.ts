/** What every benchmark part gets, and small helpers shared by the parts. */
import { readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { writePrivate } from "../../local/fsutil";
import { sh } from "./proc";
import type { Tier } from "../../test/support/tier-harness";

export interface PartContext {
    readonly quick: boolean;
    readonly log: (line: string) => void;
    /** Registered cleanups run (last first) when the part ends, even on failure. */
    readonly defer: (what: string, fn: () => Promise<void> | void) => void;
}

/** Options shared by every part's CLI flags (see bench/run.ts). */
export interface BenchOptions {
    readonly quick: boolean;
    readonly scales?: number[];
    readonly trials?: number;
    readonly seconds?: number;
    readonly clients?: number[];
    readonly concurrencies?: number[];
    readonly reps?: number;
    readonly lzmaMaxScale?: number;
    /** codecs: repetitions of the (slow) lzma pass. */
    readonly lzmaReps?: number;
    /** rpo: run only the options whose names start with these ("archive_timeout 10", "streaming"). */
    readonly rpoOptions?: string[];
    /** rpo: only the bucket-bytes-per-idle-hour measurement, no kill trials. */
    readonly rpoIdleOnly?: boolean;
    readonly skip?: Set<string>;
}

/** Empties the page cache so every timed read comes from the disk (root only; recorded). */
export async function dropCaches(): Promise<boolean> {
    try {
        await sh("sync && echo 3 > /proc/sys/vm/drop_caches");
        return true;
    } catch {
        return false;
    }
}

/**
 * A variant of the tier's WAL-G env file (same keys and prefix) with some settings replaced or
 * added, owned by the server user like the original (restore_command sources it as postgres).
 */
export function walgEnvVariant(t: Tier, name: string, set: Record<string, string>): string {
    const lines = readFileSync(t.l.walgEnv, "utf8").split("\n");
    const keys = new Set(Object.keys(set));
    const kept = lines.filter((l) => {
        const m = /^([A-Z_][A-Z0-9_]*)=/.exec(l);
        return !(m && keys.has(m[1]));
    });
    const text = `${kept.join("\n").trimEnd()}\n# bench variant ${name}\n${Object.entries(set)
        .map(([k, v]) => `${k}='${v.replace(/'/g, `'\\''`)}'`)
        .join("\n")}\n`;
    const path = join(t.l.pg, `walg-${name}.env`);
    writePrivate(path, text, { server: true });
    return path;
}

/** pgbench -i as root in database app, server-side data generation. */
export async function pgbenchInit(t: Tier, scale: number, user: "postgres" | "app_user" = "postgres"): Promise<number> {
    const v = await t.vars();
    const dsn = user === "postgres" ? v.DATABASE_ROOT_URL : v.DATABASE_URL;
    const u = new URL(dsn);
    const t0 = Date.now();
    await sh(`"$PGBIN/pgbench" -i -s ${scale} -I dtGvp -q -h 127.0.0.1 -p ${t.ports.postgres} -U ${user} app`, {
        env: { ...process.env, PGBIN: t.t.pgBinDir, PGPASSWORD: decodeURIComponent(u.password), PGSSLMODE: "disable" },
        timeoutMs: 3_600_000,
    });
    return (Date.now() - t0) / 1000;
}

export function writeJson(path: string, v: unknown): void {
    writeFileSync(path, `${JSON.stringify(v, null, 2)}\n`);
}

/** v, or an error naming what was missing (where a missing value is a broken run, not a case to handle). */
export function must<T>(v: T | null | undefined, what: string): T {
    if (v === null || v === undefined) throw new Error(`${what}: missing`);
    return v;
}

export const fmt = (x: number | null | undefined, d = 1): string => (x === null || x === undefined || Number.isNaN(x) ? "–" : x.toFixed(d));
