/**
 * WAL-G's codecs, measured on one pgbench dataset in one run: for each codec, the size the
 * base backup occupies in the bucket (compressed and encrypted, from backup-list
 * --detail), the time of `backup-push` and the time of `backup-fetch` into an empty
 * directory (download, decrypt, decompress, write; no WAL replay: the restore part measures
 * that). Codecs take turns within each repetition, so a load spike from the machine's other
 * users hits them alike; medians over the repetitions. The page cache is dropped before
 * each timed step. lzma, much slower, gets fewer repetitions (--lzma-reps, default 1).
 */
import { rmSync } from "node:fs";
import { minimalEnv, run, type RunResult } from "../../jobs/proc";
import { join } from "node:path";
import { SERVER_OS_USER } from "../../local/settings";
import { ensureDir } from "../../local/fsutil";
import { type BenchOptions, dropCaches, must, type PartContext, pgbenchInit } from "../lib/common";
import { dirBytes, loadInfo, median, round } from "../lib/proc";
import { startBenchTier } from "../lib/tier";
import type { Tier } from "../../test/support/tier-harness";
import { barChart } from "../svg";

export const CODECS = ["lz4", "zstd", "lzma"] as const;
export type Codec = (typeof CODECS)[number];

export interface CodecRun {
    readonly push_s: number;
    readonly fetch_s: number;
    /** CPU seconds (user + system) of the wal-g process: much less sensitive to the machine's load than wall time. */
    readonly push_cpu_s?: number;
    readonly fetch_cpu_s?: number;
    readonly stored_bytes: number;
    readonly backup_name: string;
    readonly load1_before: number;
}

export interface CodecRow {
    readonly codec: Codec;
    readonly runs: CodecRun[];
    readonly median_push_s: number;
    readonly median_fetch_s: number;
    readonly median_push_cpu_s?: number;
    readonly median_fetch_cpu_s?: number;
    readonly median_stored_bytes: number;
    /** dataset bytes / stored bytes. */
    readonly ratio: number;
    /** dataset MB (10^6) / median time. */
    readonly push_mb_s: number;
    readonly fetch_mb_s: number;
}

export interface CodecData {
    readonly scale: number;
    readonly dataset_bytes: number;
    readonly reps: number;
    readonly lzma_reps: number;
    readonly upload_concurrency: number;
    readonly download_concurrency: number;
    readonly caches_dropped: boolean;
    readonly rows: CodecRow[];
    readonly notes: string[];
}

export async function codecsBench(ctx: PartContext, o: BenchOptions): Promise<CodecData> {
    const scale = o.scales?.[0] ?? (o.quick ? 5 : 50);
    const reps = o.reps ?? (o.quick ? 1 : 3);
    const lzmaReps = o.skip?.has("lzma") ? 0 : Math.min(reps, o.lzmaReps ?? 1);
    const t = await startBenchTier("codecs", { log: ctx.log });
    ctx.defer("codecs tier down", () => t.down());

    ctx.log(`pgbench -i -s ${scale}`);
    await pgbenchInit(t, scale);
    const root = await t.root("postgres");
    await t.sql(root, "CHECKPOINT");
    await t.switchAndWaitArchived(600_000);
    await t.waitArchiveDrained();
    const dataset = (await dirBytes(t.l.pgData)) - (await dirBytes(join(t.l.pgData, "pg_wal")));
    ctx.log(`dataset ${(dataset / 1e6).toFixed(0)} MB`);

    const fetchDir = join(t.dir, "fetched");
    let cachesDropped = true;
    const runs: Record<Codec, CodecRun[]> = { lz4: [], zstd: [], lzma: [] };
    for (let i = 0; i < reps; i++) {
        for (const codec of CODECS) {
            if (codec === "lzma" && i >= lzmaReps) continue;
            const load1 = loadInfo().loadavg1;
            cachesDropped = (await dropCaches()) && cachesDropped;
            const t0 = Date.now();
            const push = await cpuTimed(t, codec, ["backup-push", t.l.pgData]);
            const pushS = (Date.now() - t0) / 1000;
            if (push.code !== 0) throw new Error(`backup-push ${codec} failed: ${push.stderr.trim().split("\n").slice(-3).join(" | ")}`);
            const list = await t.walg(["backup-list", "--detail", "--json"]);
            const newest = must(
                (JSON.parse(list.stdout) as { backup_name: string; compressed_size: number; start_time: string }[])
                    .sort((a, b) => Date.parse(a.start_time) - Date.parse(b.start_time))
                    .pop(),
                `newest ${codec} backup`,
            );

            rmSync(fetchDir, { recursive: true, force: true });
            ensureDir(fetchDir, { mode: 0o700, server: true });
            cachesDropped = (await dropCaches()) && cachesDropped;
            const t1 = Date.now();
            const fetch = await cpuTimed(t, codec, ["backup-fetch", fetchDir, newest.backup_name]);
            const fetchS = (Date.now() - t1) / 1000;
            if (fetch.code !== 0) throw new Error(`backup-fetch ${codec} failed: ${fetch.stderr.trim().split("\n").slice(-3).join(" | ")}`);
            const fetched = await dirBytes(fetchDir);
            if (fetched < dataset * 0.9) throw new Error(`backup-fetch ${codec} wrote ${fetched} bytes, dataset is ${dataset}`);
            rmSync(fetchDir, { recursive: true, force: true });
            // Each push is a full backup; drop it so the bucket does not grow with every codec.
            const del = await t.walg(["delete", "target", newest.backup_name, "--confirm"]);
            if (del.code !== 0) throw new Error(`delete target failed: ${del.stderr.trim().split("\n").slice(-2).join(" | ")}`);
            runs[codec].push({
                push_s: round(pushS),
                fetch_s: round(fetchS),
                push_cpu_s: push.cpu,
                fetch_cpu_s: fetch.cpu,
                stored_bytes: newest.compressed_size,
                backup_name: newest.backup_name,
                load1_before: load1,
            });
            ctx.log(
                `rep ${i + 1} ${codec}: push ${pushS.toFixed(1)} s (${push.cpu} s CPU), fetch ${fetchS.toFixed(1)} s (${fetch.cpu} s CPU), stored ${(newest.compressed_size / 1e6).toFixed(1)} MB (load ${load1})`,
            );
        }
    }
    const rows: CodecRow[] = CODECS.filter((c) => runs[c].length > 0).map((codec) => {
        const r = runs[codec];
        const push = median(r.map((x) => x.push_s));
        const fetch = median(r.map((x) => x.fetch_s));
        const stored = median(r.map((x) => x.stored_bytes));
        return {
            codec,
            runs: r,
            median_push_s: round(push),
            median_fetch_s: round(fetch),
            median_push_cpu_s: round(median(r.map((x) => x.push_cpu_s ?? NaN))),
            median_fetch_cpu_s: round(median(r.map((x) => x.fetch_cpu_s ?? NaN))),
            median_stored_bytes: Math.round(stored),
            ratio: round(dataset / stored, 2),
            push_mb_s: round(dataset / 1e6 / push, 1),
            fetch_mb_s: round(dataset / 1e6 / fetch, 1),
        };
    });
    const notes: string[] = [];
    if (!cachesDropped) notes.push("The page cache could not be dropped (not root?).");
    if (lzmaReps < reps && lzmaReps > 0)
        notes.push(`lzma: ${lzmaReps} repetition(s) only (the others ${reps}): it is an order of magnitude slower.`);
    void SERVER_OS_USER;
    return {
        scale,
        dataset_bytes: dataset,
        reps,
        lzma_reps: lzmaReps,
        upload_concurrency: 4,
        download_concurrency: 4,
        caches_dropped: cachesDropped,
        rows,
        notes,
    };
}

/**
 * wal-g ARGS with the tier's env file and WALG_COMPRESSION_METHOD, under /usr/bin/time: the
 * result plus the CPU seconds (user + system) wal-g used. Same invocation as the jobs' (env file
 * sourced into the wal-g process only), with the root connection for backup-push.
 */
async function cpuTimed(t: Tier, codec: Codec, args: readonly string[]): Promise<RunResult & { cpu: number }> {
    const pg = {
        PGHOST: "127.0.0.1",
        PGPORT: String(t.ports.postgres),
        PGUSER: "postgres",
        PGDATABASE: "postgres",
        PGPASSFILE: t.l.pgpass,
    };
    const r = await run(
        "/bin/sh",
        [
            "-c",
            `set -a && . "$1" && set +a && shift && exec /usr/bin/time -f "DBTIER-CPU %U %S" env WALG_COMPRESSION_METHOD="$0" "$@"`,
            codec,
            t.l.walgEnv,
            t.l.walg,
            ...args,
        ],
        {
            env: minimalEnv(pg),
            timeoutMs: 7_200_000,
        },
    );
    const m = /DBTIER-CPU ([\d.]+) ([\d.]+)/.exec(r.stderr);
    return { ...r, cpu: m ? round(Number(m[1]) + Number(m[2])) : NaN };
}

export function codecsSummary(d: CodecData): string[] {
    return [
        `pgbench scale ${d.scale}, dataset ${(d.dataset_bytes / 1e6).toFixed(0)} MB, medians of ${d.reps} (lzma ${d.lzma_reps})`,
        "codec   stored MB  ratio   push s  push MB/s  fetch s  fetch MB/s",
        ...d.rows.map(
            (r) =>
                `${r.codec.padEnd(6)} ${(r.median_stored_bytes / 1e6).toFixed(1).padStart(10)} ${r.ratio.toFixed(2).padStart(6)} ${r.median_push_s.toFixed(1).padStart(8)} ${r.push_mb_s.toFixed(1).padStart(10)} ${r.median_fetch_s.toFixed(1).padStart(8)} ${r.fetch_mb_s.toFixed(1).padStart(11)}`,
        ),
    ];
}

const cpu = (x: number | undefined): string => (x === undefined || Number.isNaN(x) ? "–" : x.toFixed(1));

/** The codec section of docs/benchmarks.md, and which codec the figures make the default. */
export function codecsMarkdown(d: CodecData, meta: string, chart: (name: string, svg: string) => string): string[] {
    const L: string[] = [meta, ""];
    L.push(
        `pgbench scale ${d.scale}: ${(d.dataset_bytes / 1e6).toFixed(0)} MB of data directory (without \`pg_wal\`). For each codec, in turns within each repetition (so a load spike from the machine's other users hits them alike): ` +
            "`wal-g backup-push` of the running cluster (`WALG_COMPRESSION_METHOD` set for that call; libsodium encryption on, upload concurrency 4), the size the backup occupies in the bucket (`compressed_size` of `backup-list --detail`), " +
            `then \`wal-g backup-fetch\` of that backup into an empty directory (download concurrency 4; download, decrypt, decompress, write; no WAL replay), then \`delete target\`. ${d.caches_dropped ? "Page cache dropped before each timed step." : "The page cache could NOT be dropped."} ` +
            `Medians of ${d.reps} repetitions (lzma: ${d.lzma_reps}). MB/s = dataset MB (10⁶ bytes) / time.`,
        "",
    );
    L.push(
        "| codec | stored | ratio | backup-push (s) | push CPU (s) | push MB/s | backup-fetch (s) | fetch CPU (s) | fetch MB/s | runs: push / fetch s (load before) |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const r of d.rows) {
        L.push(
            `| ${r.codec} | ${(r.median_stored_bytes / 1e6).toFixed(1)} MB | ${r.ratio.toFixed(1)}× | **${r.median_push_s.toFixed(1)}** | ${cpu(r.median_push_cpu_s)} | ${r.push_mb_s.toFixed(1)} | **${r.median_fetch_s.toFixed(1)}** | ${cpu(r.median_fetch_cpu_s)} | ${r.fetch_mb_s.toFixed(1)} | ${r.runs.map((x) => `${x.push_s.toFixed(1)} / ${x.fetch_s.toFixed(1)} (${x.load1_before})`).join(", ")} |`,
        );
    }
    L.push("");
    const lz4 = d.rows.find((r) => r.codec === "lz4");
    const zstd = d.rows.find((r) => r.codec === "zstd");
    if (lz4 && zstd) {
        L.push(
            `**Reading**: zstd stores ${(lz4.median_stored_bytes / zstd.median_stored_bytes).toFixed(2)}× less than lz4 (${(zstd.median_stored_bytes / 1e6).toFixed(1)} vs ${(lz4.median_stored_bytes / 1e6).toFixed(1)} MB), ` +
                `backs up in ${(zstd.median_push_s / lz4.median_push_s).toFixed(2)}× lz4's wall time and fetches in ${(zstd.median_fetch_s / lz4.median_fetch_s).toFixed(2)}× lz4's wall time` +
                (zstd.median_push_cpu_s && lz4.median_push_cpu_s && zstd.median_fetch_cpu_s && lz4.median_fetch_cpu_s
                    ? `; in wal-g's own CPU seconds zstd costs ${(zstd.median_push_cpu_s / lz4.median_push_cpu_s).toFixed(2)}× lz4 to back up (${zstd.median_push_cpu_s.toFixed(1)} vs ${lz4.median_push_cpu_s.toFixed(1)} s) and ${(zstd.median_fetch_cpu_s / lz4.median_fetch_cpu_s).toFixed(2)}× to fetch (${zstd.median_fetch_cpu_s.toFixed(1)} vs ${lz4.median_fetch_cpu_s.toFixed(1)} s). `
                    : ". ") +
                "The extra CPU goes to the nightly backup; restores pay little, and every byte saved is saved again in storage, in egress and in each WAL segment. " +
                `Default: **${defaultCodec(d)}** (config/schema.ts \`backup.compression\`): the smallest codec whose backup-fetch (the restore) is within 15 % of the fastest and whose backup-push takes at most twice the fastest — the restore and the storage bill weigh more than the nightly backup's time. The spread between repetitions on this shared machine is large (see the runs); the CPU seconds, which the load inflates less, are the steadier comparison. pgbench's filler columns are blanks, which flatters every codec; real tables compress less, and the codecs' CPU share grows with that.`,
            "",
        );
    }
    for (const n of d.notes) L.push(`Note: ${n}`, "");
    L.push(
        chart(
            "codecs.svg",
            barChart({
                title: `WAL-G codecs, pgbench scale ${d.scale} (medians)`,
                yLabel: "seconds",
                series: ["backup-push", "backup-fetch"],
                groups: d.rows.map((r) => ({
                    label: `${r.codec} (${(r.median_stored_bytes / 1e6).toFixed(0)} MB stored)`,
                    values: [r.median_push_s, r.median_fetch_s],
                })),
                valueLabels: true,
            }),
        ),
        "",
    );
    return L;
}

/**
 * The codec the figures favour, weighing what a restore and the bill feel over what the nightly
 * backup feels: the smallest in the bucket among those whose median backup-fetch is within 15 %
 * of the fastest and whose median backup-push takes at most twice the fastest (backups run in
 * the background; lzma, 10x slower to push, is out). Falls back to the fastest fetch.
 */
export function defaultCodec(d: CodecData): Codec {
    const fastPush = Math.min(...d.rows.map((r) => r.median_push_s));
    const fastFetch = Math.min(...d.rows.map((r) => r.median_fetch_s));
    const ok = d.rows.filter((r) => r.median_push_s <= fastPush * 2 && r.median_fetch_s <= fastFetch * 1.15);
    if (ok.length === 0) return [...d.rows].sort((a, b) => a.median_fetch_s - b.median_fetch_s)[0].codec;
    return ok.sort((a, b) => a.median_stored_bytes - b.median_stored_bytes)[0].codec;
}
