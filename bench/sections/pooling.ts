/** Section 3 of docs/benchmarks.md (pooling: pgbench through pgBouncer and directly) and its headline rows. */
import type { PartResult } from "../lib/results";
import type { PoolingData } from "../parts/pooling";
import { lineChart } from "../svg";
import { type Chart, f, fr, metaLine, ratio } from "./format";

const MODES = ["select-only", "tpcb-like"] as const;

export function poolingHeadlines(d: PoolingData): string[] {
    return d.headline.map(
        (h) =>
            `| Pooling, ${h.mode} | pooled TPS at ${h.pooled_clients} clients / direct TPS at ${h.direct_clients} = **${h.ratio === null ? "n/a" : `${h.ratio.toFixed(2)}`}** (${f(h.pooled_tps, 0)} / ${f(h.direct_tps, 0)}) | \`npm run bench -- --only pooling\` |`,
    );
}

function method(d: PoolingData): string[] {
    return [
        `pgbench (PostgreSQL 15) as app_user, \`-M simple -j ${d.threads} -T ${d.seconds}\`, scale ${d.scale}, built-in scripts \`select-only\` and \`tpcb-like\`: ` +
            `through pgBouncer (transaction pooling, \`default_pool_size\` = \`max_db_connections\` = ${d.pool_size}, \`max_client_conn\` = ${d.max_client_conn}) and directly to Postgres (\`max_connections\` = ${d.max_connections}). ` +
            `pgbench runs on the same 2 cores as the servers. Open-files limit of pgbench: ${d.nofile_limit}. ` +
            (d.pgbouncer_nofile
                ? `pgBouncer as \`npm run local -- up\` starts it has a soft limit of ${d.pgbouncer_nofile.before} open files (runuser's pam_limits resets it), below the ~1130 that \`max_client_conn\` 1000 needs: at 1000 clients accept() fails with "Too many open files". The bench raises it in place with \`prlimit\` to ${d.pgbouncer_nofile.after} before measuring. `
                : "") +
            `"connection errors" counts refused logins in the server logs during the run (Postgres "sorry, too many clients already" or "remaining connection slots are reserved for non-replication superuser connections", pgBouncer "no more connections allowed"); pgbench stops at the first refused connection, so for the direct runs above \`max_connections\` the capacity probe below gives the full count.`,
        "",
    ];
}

function runsTable(d: PoolingData): string[] {
    return [
        "| script | path | clients | TPS | latency avg (ms) | stddev (ms) | transactions | failed | connection errors | note |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        ...d.runs.map(
            (r) =>
                `| ${r.mode} | ${r.path} | ${r.clients} | **${f(r.tps, 0)}** | ${f(r.latency_avg_ms, 1)} | ${f(r.latency_stddev_ms, 1)} | ${r.transactions} | ${r.failed_transactions + r.aborted_clients} | ${r.connection_errors} | ${r.error ? r.error.replace(/\|/g, "/") : ""} |`,
        ),
        "",
    ];
}

function capacityTable(d: PoolingData): string[] {
    return [
        "Connection capacity (N simultaneous logins, each then running `SELECT 1`):",
        "",
        "| path | attempted | accepted | refused | first error |",
        "| --- | --- | --- | --- | --- |",
        ...d.capacity.map((c) => `| ${c.path} | ${c.attempted} | ${c.connected} | ${c.refused} | ${c.sample_error ?? ""} |`),
        "",
    ];
}

function reading(d: PoolingData): string[] {
    const lo = Math.min(...d.runs.map((r) => r.clients));
    const hi = Math.max(...d.runs.map((r) => r.clients));
    const get = (m: string, p: string, n: number) => d.runs.find((r) => r.mode === m && r.path === p && r.clients === n);
    const parts = MODES.map((m) => {
        const pl = get(m, "pgbouncer", lo);
        const dl = get(m, "direct", lo);
        const ph = get(m, "pgbouncer", hi);
        if (!pl || !dl || !ph) return "";
        return `${m}: at ${lo} clients pgBouncer gives ${fr(ratio(pl.tps, dl.tps))} the direct TPS (one more hop on the same cores, and at most ${d.pool_size} transactions at once instead of ${lo}, so fewer commits share each WAL flush); from ${lo} to ${hi} clients pooled TPS falls ${f((1 - ph.tps / pl.tps) * 100, 0)} % while latency grows from ${f(pl.latency_avg_ms)} to ${f(ph.latency_avg_ms)} ms — clients queue for the ${d.pool_size} server connections (latency ≈ clients / TPS).`;
    });
    const direct = d.capacity.find((x) => x.path === "direct");
    return [
        `**Reading**: ${parts.filter(Boolean).join(" ")} ` +
            `Directly, nothing above \`max_connections\` gets in: ${direct ? `${direct.connected} of ${direct.attempted} simultaneous logins were accepted (3 slots are reserved for superusers), and ` : ""}pgbench aborts at the first refused connection, so its TPS is 0. ` +
            "pgbench (2 threads) and pgBouncer (one thread) run on the same 2 cores as Postgres, so part of the drop at 1000 clients is the load generator and the pooler taking CPU from the server.",
        "",
        ...d.headline.flatMap((h) => [
            `**Headline (${h.mode})**: pooled TPS at ${h.pooled_clients} clients / direct TPS at ${h.direct_clients} clients = ${f(h.pooled_tps, 0)} / ${f(h.direct_tps, 0)} = **${h.ratio === null ? "n/a" : h.ratio.toFixed(2)}**.`,
            "",
        ]),
    ];
}

/** tps-vs-clients.svg: TPS per client count, pooled and direct, for both scripts. */
function tpsChart(d: PoolingData, chart: Chart): string[] {
    const xs = [...new Set(d.runs.map((r) => r.clients))].sort((a, b) => a - b);
    return [
        chart(
            "tps-vs-clients.svg",
            lineChart({
                title: "TPS against clients (0 = pgbench could not connect)",
                yLabel: "transactions per second",
                xLabel: "clients",
                xs,
                series: MODES.flatMap((m) =>
                    (["pgbouncer", "direct"] as const).map((p) => ({
                        label: `${m}, ${p === "pgbouncer" ? "pgBouncer" : "direct"}`,
                        dash: p === "direct",
                        points: d.runs.filter((r) => r.mode === m && r.path === p).map((r) => ({ x: r.clients, y: Math.round(r.tps) })),
                    })),
                ),
            }),
        ),
        "",
    ];
}

export function poolingSection(pooling: PartResult<PoolingData> | undefined, chart: Chart): string[] {
    const head = ["## 3. Pooling", ""];
    if (!pooling) return [...head, "_Not run._", ""];
    const d = pooling.data;
    return [...head, metaLine(pooling.meta), "", ...method(d), ...runsTable(d), ...capacityTable(d), ...reading(d), ...tpsChart(d, chart)];
}
