/**
 * The cost of tenant safety in the pool: pooled pgbench with pgBouncer's per-transaction
 * reset (`server_reset_query_always = 1`, DISCARD ALL: the default,
 * `pgbouncer.resetSessionState`) against the unsafe setting (0), on the same tier in the
 * same run, alternating ABBA per repetition so drift and other load hit both sides alike;
 * medians and their ratio. Before each measurement a probe checks the setting is in force
 * (a session SET leaks with 0 and never with 1), so a reload that did not take cannot pass
 * as a number. Bounded: 2 scripts x 2 settings x reps runs of `seconds` each.
 *
 *   npm run bench -- --only pool-reset [--clients 200] [--seconds 20] [--reps 3]
 */
import { reloadPgbouncer, writePgbouncerConfig } from "../../local/pgbouncer";
import { loadSecrets } from "../../local/secrets";
import { type BenchOptions, type PartContext, pgbenchInit } from "../lib/common";
import { loadInfo, median, round } from "../lib/proc";
import type { Meta } from "../lib/results";
import { startBenchTier } from "../lib/tier";
import { Client } from "../../test/support/pgwire";
import { sleep } from "../../test/support/proc-tree";
import type { Tier } from "../../test/support/tier-harness";
import { type Mode, pgbench } from "./pooling";

const THREADS = 2;

export interface ResetRun {
    readonly mode: Mode;
    /** server_reset_query_always: true = DISCARD ALL after every transaction (the default). */
    readonly reset: boolean;
    readonly rep: number;
    readonly tps: number;
    readonly latency_avg_ms: number | null;
    readonly transactions: number;
    readonly failed_transactions: number;
    readonly error: string | null;
    /** 1-minute load average just before the run. */
    readonly loadavg1: number;
}

export interface ResetCost {
    readonly scale: number;
    readonly threads: number;
    readonly clients: number;
    readonly seconds: number;
    readonly reps: number;
    readonly runs: ResetRun[];
    /** Per mode: median TPS with and without the reset, and with/without. */
    readonly summary: {
        mode: Mode;
        tps_reset: number;
        tps_no_reset: number;
        ratio: number | null;
        cost_pct: number | null;
        latency_reset_ms: number | null;
        latency_no_reset_ms: number | null;
    }[];
    /** What the leak probe saw before each run (session SET visible to a later client). */
    readonly probes: { reset: boolean; leaked: boolean }[];
}

export async function poolResetBench(ctx: PartContext, o: BenchOptions): Promise<ResetCost> {
    const clients = o.clients?.[0] ?? 200;
    const seconds = o.seconds ?? (o.quick ? 5 : 20);
    const reps = o.reps ?? (o.quick ? 1 : 3);
    const scale = o.quick ? 5 : 10;
    const t = await startBenchTier("pool-reset", { log: ctx.log });
    ctx.defer("pool-reset tier down", () => t.down());
    ctx.log(`pgbench -i -s ${scale} as app_user`);
    await pgbenchInit(t, scale, "app_user");
    return { scale, threads: THREADS, ...(await measureResetCost(t, ctx, { clients, seconds, reps })) };
}

export function poolResetSummary(c: ResetCost): string[] {
    return [
        `scale ${c.scale}, ${c.clients} clients through pgBouncer, ${c.seconds} s per run, ${c.reps} rep(s) per cell, ABBA`,
        ...c.runs.map(
            (r) =>
                `${r.mode.padEnd(12)} reset ${r.reset ? "on " : "off"} rep ${r.rep}: ${r.tps.toFixed(0).padStart(7)} TPS  load ${r.loadavg1}${r.error ? `  ${r.error}` : ""}`,
        ),
        ...c.summary.map(
            (s) =>
                `reset cost ${s.mode}: ${s.tps_reset.toFixed(0)} TPS with DISCARD ALL / ${s.tps_no_reset.toFixed(0)} without = ${s.ratio ?? "n/a"} (${s.cost_pct ?? "n/a"} % cost)`,
        ),
    ];
}

/** Re-renders pgbouncer.ini with the reset on or off (the product's own renderer) and reloads pgBouncer. */
async function setReset(t: Tier, reset: boolean): Promise<void> {
    const s = loadSecrets(t.l.secrets);
    if (!s) throw new Error("no secrets in the bench tier");
    writePgbouncerConfig(t.l, s, t.ports, reset);
    reloadPgbouncer(t.l);
    await sleep(1500);
}

/**
 * Does a session-level SET of one client reach later clients? 25 clients SET at once (so
 * every server connection of the pool of 20 gets one), then 10 later clients look.
 */
async function leakProbe(t: Tier): Promise<boolean> {
    const p = await t.app();
    const marker = `probe-${Date.now()}`;
    const setters = await Promise.all(Array.from({ length: 25 }, () => Client.connect({ ...p, timeoutMs: 30_000 })));
    await Promise.all(setters.map((c) => c.query(`SET app.current_user_id = '${marker}'`)));
    await Promise.all(setters.map((c) => c.close()));
    let leaked = false;
    for (let i = 0; i < 10; i++) {
        const c = await Client.connect({ ...p, timeoutMs: 30_000 });
        const v = (await c.query("SELECT current_setting('app.current_user_id', true)"))[0]?.[0];
        await c.close();
        if (v === marker) leaked = true;
    }
    return leaked;
}

async function measureResetCost(
    t: Tier,
    ctx: PartContext,
    o: { clients: number; seconds: number; reps: number },
): Promise<Omit<ResetCost, "scale" | "threads">> {
    const runs: ResetRun[] = [];
    const probes: { reset: boolean; leaked: boolean }[] = [];
    for (let rep = 1; rep <= o.reps; rep++) {
        // ABBA: odd repetitions start with the reset off, even ones with it on.
        const order = rep % 2 === 1 ? [false, true] : [true, false];
        for (const mode of ["select-only", "tpcb-like"] as const) {
            for (const reset of order) {
                await setReset(t, reset);
                const leaked = await leakProbe(t);
                probes.push({ reset, leaked });
                if (leaked === reset)
                    throw new Error(
                        `pgBouncer reload did not take: reset ${reset ? "on" : "off"}, but a session SET ${leaked ? "leaked" : "did not leak"}`,
                    );
                const loadavg1 = loadInfo().loadavg1;
                const r = await pgbench(t, { mode, path: "pgbouncer", clients: o.clients, seconds: o.seconds });
                runs.push({
                    mode,
                    reset,
                    rep,
                    tps: r.tps,
                    latency_avg_ms: r.latency_avg_ms,
                    transactions: r.transactions,
                    failed_transactions: r.failed_transactions + r.aborted_clients,
                    error: r.error,
                    loadavg1,
                });
                ctx.log(
                    `reset ${reset ? "on " : "off"} ${mode} ${o.clients} clients rep ${rep}: ${r.tps.toFixed(0)} TPS, latency ${r.latency_avg_ms ?? "–"} ms, load ${loadavg1}${r.error ? ` (${r.error})` : ""}`,
                );
            }
        }
    }
    await setReset(t, true); // leave the tier as it ships
    const med = (mode: Mode, reset: boolean, f: (r: ResetRun) => number | null): number | null => {
        const xs = runs
            .filter((r) => r.mode === mode && r.reset === reset && r.error === null)
            .map(f)
            .filter((x): x is number => x !== null);
        return xs.length > 0 ? round(median(xs), 1) : null;
    };
    const summary = (["select-only", "tpcb-like"] as const).map((mode) => {
        const on = med(mode, true, (r) => r.tps) ?? 0;
        const off = med(mode, false, (r) => r.tps) ?? 0;
        const ratio = off > 0 ? round(on / off, 3) : null;
        return {
            mode,
            tps_reset: on,
            tps_no_reset: off,
            ratio,
            cost_pct: ratio === null ? null : round((1 - ratio) * 100, 1),
            latency_reset_ms: med(mode, true, (r) => r.latency_avg_ms),
            latency_no_reset_ms: med(mode, false, (r) => r.latency_avg_ms),
        };
    });
    return { clients: o.clients, seconds: o.seconds, reps: o.reps, runs, summary, probes };
}

/** The Markdown of the reset comparison, for docs/benchmarks.md (bench/report.ts calls it). */
export function resetCostMarkdown(r: { meta: Meta; data: ResetCost } | undefined): string[] {
    if (!r) return ["### Cost of the per-transaction reset (tenant safety)", "", "_Not run: `npm run bench -- --only pool-reset`._", ""];
    const c = r.data;
    const loadStart = r.meta.load_start.loadavg1;
    const loadEnd = r.meta.load_end.loadavg1;
    const L = [
        "### Cost of the per-transaction reset (tenant safety)",
        "",
        `pgBouncer's \`server_reset_query_always = 1\` with \`server_reset_query = DISCARD ALL\` (the default, \`pgbouncer.resetSessionState: true\`) against \`0\` (the unsafe setting: a client's session-level \`SET\` stays on the server connection for the next client), ` +
            `measured in one run on one tier (${r.meta.started_at.slice(0, 16).replace("T", " ")} UTC, \`${r.meta.command}\`): pooled pgbench as app_user, scale ${c.scale}, ${c.clients} clients, \`-M simple -j ${c.threads} -T ${c.seconds}\`, ${c.reps} repetition(s) per cell, alternating ABBA; medians. ` +
            `A leak probe before every run confirmed the setting in force (${c.probes.filter((p) => p.reset && !p.leaked).length}/${c.probes.filter((p) => p.reset).length} probes with the reset saw no leak, ${c.probes.filter((p) => !p.reset && p.leaked).length}/${c.probes.filter((p) => !p.reset).length} without it saw one). ` +
            `Load average (1 min) over the part: ${loadStart} at the start, ${loadEnd} at the end, on 2 cores shared with other work; per-run load is in the table below.`,
        "",
        "| script | TPS with reset (median) | TPS without (median) | with / without | cost | latency with / without (ms) |",
        "| --- | --- | --- | --- | --- | --- |",
        ...c.summary.map(
            (s) =>
                `| ${s.mode} | **${s.tps_reset.toFixed(0)}** | ${s.tps_no_reset.toFixed(0)} | **${s.ratio === null ? "n/a" : s.ratio.toFixed(3)}** | ${s.cost_pct === null ? "n/a" : `${s.cost_pct.toFixed(1)} %`} | ${s.latency_reset_ms ?? "–"} / ${s.latency_no_reset_ms ?? "–"} |`,
        ),
        "",
        "| script | reset | rep | TPS | latency avg (ms) | failed | load avg 1 min | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
        ...c.runs.map(
            (r) =>
                `| ${r.mode} | ${r.reset ? "on" : "off"} | ${r.rep} | ${r.tps.toFixed(0)} | ${r.latency_avg_ms ?? "–"} | ${r.failed_transactions} | ${r.loadavg1} | ${r.error ? r.error.replace(/\|/g, "/") : ""} |`,
        ),
        "",
    ];
    const by = (m: Mode) => c.summary.find((s) => s.mode === m);
    const verdict = (m: Mode): string => {
        const s = by(m);
        if (!s || s.cost_pct === null || s.ratio === null) return `${m}: not measured`;
        return `${m} ×${s.ratio.toFixed(2)} (${s.cost_pct.toFixed(0)} % fewer TPS: ${s.cost_pct <= 10 ? "within" : "outside"} the 10 % target)`;
    };
    L.push(
        `**Reading**: the reset is one more statement (DISCARD ALL) on the server connection after every transaction, so its cost is relative to what a transaction does: ${verdict("select-only")} — one SELECT per transaction, so the server handles twice the statements; ${verdict("tpcb-like")} — seven statements per transaction. ` +
            "A workload of single-statement transactions pays the most; the more statements a transaction runs, the less the one extra statement weighs. The machine was far from idle (load above), so absolute TPS are well below an idle run and the ratios carry that noise; ABBA alternation spreads it over both settings. " +
            'Turning the reset off is safe only if no client ever sets session state (docs/SECURITY.md, "Tenant safety of the pool").',
        "",
    );
    return L;
}
