/**
 * npm run bench [-- OPTIONS]: benchmarks of the real loopback tier (issue 6). Prints tables,
 * writes one JSON file per part and docs/benchmarks.md with SVG charts. Not a test: numbers,
 * not pass/fail (it exits non-zero only when a part could not run).
 *
 *   --quick                 scales 1/5/10, 2 RPO trials, 30 s archive-lag run, 10 s pgbench runs;
 *                           writes to .bench/quick/ (docs/ untouched) unless --out is given
 *   --only rpo,restore,pooling,archive-lag   run these parts (default: all)
 *   --out DIR               results directory (default docs/bench-results, or .bench/quick)
 *   --docs FILE             the Markdown report (default docs/benchmarks.md, or <out>/benchmarks.md)
 *   --scales 10,50,200      restore: pgbench scales
 *   --concurrency 1,4       restore: WAL-G download concurrencies / pgBackRest process-max
 *   --reps N                restore: timed runs per cell (median reported; default 3, quick 1);
 *                           pool-reset: runs per script and setting (default 3, quick 1)
 *   --lzma-max-scale N      restore: largest scale with an lzma backup (default: all)
 *   --skip pgbackrest,lzma  restore, codecs: leave these out
 *   --lzma-reps N           codecs: repetitions of the lzma pass (default 1)
 *   --trials N              rpo: trials per option (default 5; quick 2)
 *   --rpo-idle-only         rpo: only the bucket bytes per idle hour of each option
 *   --rpo-options a,b       rpo: only the options starting with these (archive_timeout 60, archive_timeout 10, streaming)
 *   --clients 50,200,1000   pooling: client counts; pool-reset: the first one (default 200)
 *   --seconds N             pooling: seconds per pgbench run (default 60; quick 10);
 *                           archive-lag: run length (default 300; quick 30);
 *                           pool-reset: seconds per pgbench run (default 20; quick 5)
 *   --report-only           only regenerate the Markdown and charts from the JSON results
 *
 * Each part starts its own tier in .bench/<part> (DBTIER_BENCH_DIR=DIR: DIR/<part>) on free
 * ports (DBTIER_TEST_PORTS=LOW-HIGH: from that range) and stops it (down --purge), also when it
 * fails or on Ctrl-C.
 */
import { mkdirSync, readFileSync } from "node:fs";
import { join, relative, resolve } from "node:path";
import { tools } from "../local/settings";
import { archiveLagBench, archiveLagSummary } from "./parts/archive-lag";
import { codecsBench, codecsSummary } from "./parts/codecs";
import { poolResetBench, poolResetSummary } from "./parts/pool-reset";
import { poolingBench, poolingSummary } from "./parts/pooling";
import { restoreBench, restoreSummary } from "./parts/restore";
import { rpoBench, rpoSummary } from "./parts/rpo";
import type { BenchOptions, PartContext } from "./lib/common";
import { loadInfo } from "./lib/proc";
import { writeReport } from "./report";
import { gitCommit, machine, type PartName, PARTS, save, versions } from "./lib/results";
import { REPO, requireTools } from "../test/support/tier-harness";

interface Args extends BenchOptions {
    only: PartName[];
    out: string;
    docs: string;
    reportOnly: boolean;
}

function parseArgs(argv: string[]): Args {
    const a: Record<string, string | boolean> = {};
    for (let i = 0; i < argv.length; i++) {
        const k = argv[i];
        if (!k.startsWith("--")) throw new Error(`unexpected argument ${k}`);
        const name = k.slice(2);
        if (["quick", "report-only", "rpo-idle-only"].includes(name)) a[name] = true;
        else {
            const val = argv[++i];
            if (val === undefined) throw new Error(`${k} needs a value`);
            a[name] = val;
        }
    }
    const known = [
        "quick",
        "report-only",
        "only",
        "out",
        "docs",
        "scales",
        "concurrency",
        "reps",
        "lzma-max-scale",
        "lzma-reps",
        "rpo-options",
        "rpo-idle-only",
        "skip",
        "trials",
        "clients",
        "seconds",
    ];
    for (const k of Object.keys(a)) if (!known.includes(k)) throw new Error(`unknown option --${k}`);
    const nums = (s: string | boolean | undefined): number[] | undefined =>
        typeof s === "string"
            ? s.split(",").map((x) => {
                  const n = Number(x);
                  if (!Number.isFinite(n) || n <= 0) throw new Error(`not a positive number: ${x}`);
                  return n;
              })
            : undefined;
    const num = (s: string | boolean | undefined): number | undefined => nums(s)?.[0];
    const quick = a.quick === true;
    const only = typeof a.only === "string" ? (a.only.split(",") as PartName[]) : [...PARTS];
    for (const p of only) if (!PARTS.includes(p)) throw new Error(`unknown part ${p} (${PARTS.join(", ")})`);
    const out = resolve(typeof a.out === "string" ? a.out : quick ? join(REPO, ".bench", "quick") : join(REPO, "docs", "bench-results"));
    const docs = resolve(
        typeof a.docs === "string"
            ? a.docs
            : quick || typeof a.out === "string"
              ? join(out, "benchmarks.md")
              : join(REPO, "docs", "benchmarks.md"),
    );
    return {
        quick,
        only,
        out,
        docs,
        reportOnly: a["report-only"] === true,
        scales: nums(a.scales),
        concurrencies: nums(a.concurrency),
        reps: num(a.reps),
        lzmaMaxScale: num(a["lzma-max-scale"]),
        lzmaReps: num(a["lzma-reps"]),
        rpoIdleOnly: a["rpo-idle-only"] === true,
        rpoOptions: typeof a["rpo-options"] === "string" ? a["rpo-options"].split(",") : undefined,
        skip: typeof a.skip === "string" ? new Set(a.skip.split(",")) : undefined,
        trials: num(a.trials),
        clients: nums(a.clients),
        seconds: num(a.seconds),
    };
}

type Runner = (ctx: PartContext, o: BenchOptions) => Promise<unknown>;
const RUNNERS: Record<PartName, { run: Runner; summary: (d: never) => string[] }> = {
    rpo: { run: rpoBench, summary: rpoSummary as (d: never) => string[] },
    restore: { run: restoreBench, summary: restoreSummary as (d: never) => string[] },
    codecs: { run: codecsBench, summary: codecsSummary as (d: never) => string[] },
    pooling: { run: poolingBench, summary: poolingSummary as (d: never) => string[] },
    "pool-reset": { run: poolResetBench, summary: poolResetSummary as (d: never) => string[] },
    "archive-lag": { run: archiveLagBench, summary: archiveLagSummary as (d: never) => string[] },
};

const cleanups: { what: string; fn: () => Promise<void> | void }[] = [];
async function runCleanups(log: (l: string) => void): Promise<void> {
    for (let c = cleanups.pop(); c !== undefined; c = cleanups.pop()) {
        try {
            await c.fn();
        } catch (e) {
            log(`cleanup "${c.what}" failed: ${(e as Error).message}`);
        }
    }
}

const USAGE = readFileSync(__filename, "utf8")
    .split("*/")[0]
    .replace(/^\/\*\*\n/, "")
    .replace(/^ \* ?/gm, "");

async function main(): Promise<number> {
    if (process.argv.slice(2).some((a) => a === "--help" || a === "-h")) {
        process.stdout.write(USAGE);
        return 0;
    }
    const args = parseArgs(process.argv.slice(2));
    const command = `npm run bench --${process.argv.slice(2).length ? ` ${process.argv.slice(2).join(" ")}` : ""}`;
    mkdirSync(args.out, { recursive: true });
    if (!args.reportOnly) {
        const t = requireTools(["/usr/bin/pgbackrest"]);
        let interrupted = false;
        const onSignal = (sig: string): void => {
            if (interrupted) return;
            interrupted = true;
            process.stderr.write(`\nbench: ${sig}: stopping everything this run started\n`);
            void runCleanups((l) => process.stderr.write(`${l}\n`)).then(() => process.exit(130));
        };
        process.on("SIGINT", () => onSignal("SIGINT"));
        process.on("SIGTERM", () => onSignal("SIGTERM"));
        let failed = 0;
        for (const part of args.only) {
            const log = (l: string): void => void process.stderr.write(`${new Date().toISOString().slice(11, 19)} [${part}] ${l}\n`);
            const ctx: PartContext = {
                quick: args.quick,
                log,
                defer: (what, fn) => {
                    cleanups.push({ what, fn });
                },
            };
            const started = new Date();
            const loadStart = loadInfo();
            log(`start (load ${loadStart.loadavg1} on ${loadStart.cores} cores)`);
            try {
                const data = await RUNNERS[part].run(ctx, args);
                await runCleanups(log);
                const finished = new Date();
                const p = save(args.out, {
                    meta: {
                        part,
                        command,
                        quick: args.quick,
                        started_at: started.toISOString(),
                        finished_at: finished.toISOString(),
                        duration_s: Math.round((finished.getTime() - started.getTime()) / 1000),
                        git_commit: gitCommit(),
                        machine: machine(),
                        load_start: loadStart,
                        load_end: loadInfo(),
                        versions: versions(t.pgBinDir, t.walg, t.pgbouncer),
                    },
                    data,
                });
                process.stdout.write(
                    `\n== ${part} (${Math.round((finished.getTime() - started.getTime()) / 1000)} s, load ${loadStart.loadavg1} → ${loadInfo().loadavg1})\n`,
                );
                for (const line of RUNNERS[part].summary(data as never)) process.stdout.write(`${line}\n`);
                process.stdout.write(`results: ${relative(process.cwd(), p)}\n`);
            } catch (e) {
                failed++;
                log(`FAILED: ${(e as Error).stack ?? String(e)}`);
                await runCleanups(log);
            }
        }
        if (failed > 0) {
            process.stderr.write(`bench: ${failed} part(s) failed; the report keeps their previous results\n`);
        }
        const written = writeReport(args.out, args.docs);
        process.stdout.write(`\nreport: ${relative(process.cwd(), written)}\n`);
        return failed > 0 ? 1 : 0;
    }
    const written = writeReport(args.out, args.docs);
    process.stdout.write(`report: ${relative(process.cwd(), written)}\n`);
    void tools;
    return 0;
}

main().then(
    (code) => process.exit(code),
    async (e) => {
        process.stderr.write(`bench: ${(e as Error).message}\n`);
        await runCleanups((l) => process.stderr.write(`${l}\n`));
        process.exit(2);
    },
);
