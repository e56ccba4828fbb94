/**
 * Pooling: pgbench select-only and TPC-B-like at 50, 200 and 1000 clients, through pgBouncer
 * (transaction pooling, default_pool_size 20) and directly to Postgres (max_connections 100),
 * as app_user. TPS, latency and connection errors per run, plus a connection-capacity probe
 * (N simultaneous logins) that counts exactly how many connections each path refuses — pgbench
 * gives up at the first refused connection, so its own count stops early.
 */
import { readFileSync, statSync } from "node:fs";
import { run } from "../../jobs/proc";
import { MAX_CLIENT_CONN, POOL_SIZE } from "../../local/pgbouncer";
import { type BenchOptions, must, type PartContext, pgbenchInit } from "../lib/common";
import { round } from "../lib/proc";
import { startBenchTier } from "../lib/tier";
import { Client, type ConnParams } from "../../test/support/pgwire";
import type { Tier } from "../../test/support/tier-harness";

export type Mode = "select-only" | "tpcb-like";
export type Path = "pgbouncer" | "direct";

export interface PgbenchRun {
    readonly mode: Mode;
    readonly path: Path;
    readonly clients: number;
    readonly seconds: number;
    readonly exit_code: number | null;
    readonly tps: number;
    readonly latency_avg_ms: number | null;
    readonly latency_stddev_ms: number | null;
    readonly initial_connection_ms: number | null;
    readonly transactions: number;
    readonly failed_transactions: number;
    readonly aborted_clients: number;
    /** Refused logins seen in the server logs during the run (Postgres "too many clients", pgBouncer "no more connections"). */
    readonly connection_errors: number;
    readonly error: string | null;
}

export interface CapacityProbe {
    readonly path: Path;
    readonly attempted: number;
    readonly connected: number;
    readonly refused: number;
    readonly sample_error: string | null;
}

export interface PoolingData {
    readonly scale: number;
    readonly seconds: number;
    readonly threads: number;
    readonly pool_size: number;
    readonly max_client_conn: number;
    readonly max_connections: number;
    readonly nofile_limit: number;
    /** pgBouncer's soft open-files limit as `up` started it, and after prlimit. */
    readonly pgbouncer_nofile: { before: number; after: number };
    readonly runs: PgbenchRun[];
    readonly capacity: CapacityProbe[];
    /** Pooled TPS at the largest client count over direct TPS at the smallest, per mode. */
    readonly headline: {
        mode: Mode;
        pooled_clients: number;
        direct_clients: number;
        pooled_tps: number;
        direct_tps: number;
        ratio: number | null;
    }[];
}

const THREADS = 2;

export async function poolingBench(ctx: PartContext, o: BenchOptions): Promise<PoolingData> {
    const clients = o.clients ?? [50, 200, 1000];
    const seconds = o.seconds ?? (o.quick ? 10 : 60);
    const scale = o.quick ? 10 : 50;
    const t = await startBenchTier("pooling", { log: ctx.log });
    ctx.defer("pooling tier down", () => t.down());
    ctx.log(`pgbench -i -s ${scale} as app_user`);
    await pgbenchInit(t, scale, "app_user");
    const root = await t.root();
    const maxConnections = Number(await t.value(root, "SHOW max_connections"));
    const nofile = Number((await run("/bin/bash", ["-c", `ulimit -n "$(ulimit -Hn)" 2>/dev/null; ulimit -n`])).stdout.trim());
    const pgbNofile = await t.raisePgbouncerNofile();
    ctx.log(
        `pgBouncer open-files limit ${pgbNofile.before} as started by \`up\` (runuser/pam_limits), raised to ${pgbNofile.after} with prlimit`,
    );

    const capacity: CapacityProbe[] = [];
    for (const path of ["direct", "pgbouncer"] as const) {
        const p = path === "direct" ? await t.appDirect() : await t.app();
        capacity.push(await probe(p, path, Math.max(...clients)));
        ctx.log(`capacity ${path}: ${capacity[capacity.length - 1].connected} of ${Math.max(...clients)} simultaneous logins accepted`);
    }

    const runs: PgbenchRun[] = [];
    for (const mode of ["select-only", "tpcb-like"] as const) {
        for (const n of clients) {
            for (const path of ["pgbouncer", "direct"] as const) {
                const r = await pgbench(t, { mode, path, clients: n, seconds });
                runs.push(r);
                ctx.log(
                    `${mode} ${path} ${n} clients: ${r.tps.toFixed(0)} TPS, latency ${r.latency_avg_ms ?? "–"} ms, ${r.connection_errors} connection errors${r.error ? ` (${r.error})` : ""}`,
                );
            }
        }
    }
    const lo = Math.min(...clients);
    const hi = Math.max(...clients);
    const headline = (["select-only", "tpcb-like"] as const).map((mode) => {
        const pooled = must(
            runs.find((r) => r.mode === mode && r.path === "pgbouncer" && r.clients === hi),
            `${mode} pooled run at ${hi} clients`,
        );
        const direct = must(
            runs.find((r) => r.mode === mode && r.path === "direct" && r.clients === lo),
            `${mode} direct run at ${lo} clients`,
        );
        return {
            mode,
            pooled_clients: hi,
            direct_clients: lo,
            pooled_tps: pooled.tps,
            direct_tps: direct.tps,
            ratio: direct.tps > 0 ? round(pooled.tps / direct.tps, 2) : null,
        };
    });
    return {
        scale,
        seconds,
        threads: THREADS,
        pool_size: POOL_SIZE,
        max_client_conn: MAX_CLIENT_CONN,
        max_connections: maxConnections,
        nofile_limit: nofile,
        pgbouncer_nofile: pgbNofile,
        runs,
        capacity,
        headline,
    };
}

/** Opens n logins at once, holds them a moment, counts the refused ones. */
async function probe(p: ConnParams, path: Path, n: number): Promise<CapacityProbe> {
    const results = await Promise.allSettled(Array.from({ length: n }, () => Client.connect({ ...p, timeoutMs: 60_000 })));
    const ok = results.filter((r): r is PromiseFulfilledResult<Client> => r.status === "fulfilled").map((r) => r.value);
    // A login pgBouncer accepted is only useful once a query runs on it.
    const queried = await Promise.allSettled(ok.map((c) => c.query("SELECT 1")));
    await Promise.all(ok.map((c) => c.close()));
    const errs = [
        ...results.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => (r.reason as Error).message),
        ...queried.filter((r): r is PromiseRejectedResult => r.status === "rejected").map((r) => (r.reason as Error).message),
    ];
    const connected = queried.filter((r) => r.status === "fulfilled").length;
    return { path, attempted: n, connected, refused: n - connected, sample_error: errs[0] ?? null };
}

function logSize(path: string): number {
    try {
        return statSync(path).size;
    } catch {
        return 0;
    }
}

function logSince(path: string, from: number): string {
    try {
        return readFileSync(path).subarray(from).toString("utf8");
    } catch {
        return "";
    }
}

const num = (re: RegExp, text: string): number | null => {
    const m = re.exec(text);
    return m ? Number(m[1]) : null;
};

/** One pgbench run (the pooling part and the pool-reset part share it). */
export async function pgbench(t: Tier, o: { mode: Mode; path: Path; clients: number; seconds: number }): Promise<PgbenchRun> {
    const app = await t.app();
    const port = o.path === "pgbouncer" ? t.ports.pgbouncer : t.ports.postgres;
    const pgFrom = logSize(t.l.pgLog);
    const pgbFrom = logSize(t.l.pgbLog);
    const args = [
        "-h",
        "127.0.0.1",
        "-p",
        String(port),
        "-U",
        app.user,
        "-c",
        String(o.clients),
        "-j",
        String(THREADS),
        "-T",
        String(o.seconds),
        "-n",
        "-M",
        "simple",
        "-P",
        "5",
        "-b",
        o.mode,
        "app",
    ];
    const r = await run("/bin/bash", ["-c", `ulimit -n "$(ulimit -Hn)" 2>/dev/null; exec "$0" "$@"`, `${t.t.pgBinDir}/pgbench`, ...args], {
        env: { PATH: process.env.PATH, PGPASSWORD: app.password, PGSSLMODE: "disable", PGCONNECT_TIMEOUT: "60" },
        timeoutMs: (o.seconds + 600) * 1000,
    });
    const out = r.stdout;
    const pgLog = logSince(t.l.pgLog, pgFrom);
    const pgbLog = logSince(t.l.pgbLog, pgbFrom);
    const refused =
        (pgLog.match(/sorry, too many clients already|remaining connection slots are reserved/g) ?? []).length +
        (pgbLog.match(/no more connections allowed/g) ?? []).length;
    const errLines = r.stderr.split("\n").filter((l) => /error|FATAL|aborted/i.test(l));
    return {
        mode: o.mode,
        path: o.path,
        clients: o.clients,
        seconds: o.seconds,
        exit_code: r.code,
        tps: num(/tps = ([\d.]+) \(without initial connection time\)/, out) ?? 0,
        latency_avg_ms: num(/latency average = ([\d.]+) ms/, out),
        latency_stddev_ms: num(/latency stddev = ([\d.]+) ms/, out),
        initial_connection_ms: num(/initial connection time = ([\d.]+) ms/, out),
        transactions: num(/number of transactions actually processed: (\d+)/, out) ?? 0,
        failed_transactions: num(/number of failed transactions: (\d+)/, out) ?? 0,
        aborted_clients: (r.stderr.match(/client \d+ aborted/g) ?? []).length,
        connection_errors: refused,
        error:
            r.code === 0
                ? null
                : (errLines[0] ?? r.stderr.trim().split("\n").pop() ?? `exit ${r.code}`).replace(/^pgbench: (error: )?/, "").slice(0, 200),
    };
}

export function poolingSummary(d: PoolingData): string[] {
    return [
        `scale ${d.scale}, ${d.seconds} s per run, pgbench -j ${d.threads}, pool ${d.pool_size}, max_client_conn ${d.max_client_conn}, max_connections ${d.max_connections}, nofile ${d.nofile_limit}`,
        "mode         path       clients      TPS  lat avg ms  conn errors",
        ...d.runs.map(
            (r) =>
                `${r.mode.padEnd(12)} ${r.path.padEnd(10)} ${String(r.clients).padStart(7)} ${r.tps.toFixed(0).padStart(8)}  ${(r.latency_avg_ms ?? NaN).toFixed(1).padStart(10)}  ${String(r.connection_errors).padStart(11)}${r.error ? `  ${r.error}` : ""}`,
        ),
        ...d.capacity.map(
            (c) =>
                `capacity ${c.path}: ${c.connected}/${c.attempted} logins accepted, ${c.refused} refused${c.sample_error ? ` (${c.sample_error})` : ""}`,
        ),
        ...d.headline.map(
            (h) =>
                `headline ${h.mode}: pooled TPS at ${h.pooled_clients} / direct TPS at ${h.direct_clients} = ${h.ratio ?? "n/a"} (${h.pooled_tps.toFixed(0)} / ${h.direct_tps.toFixed(0)})`,
        ),
    ];
}
