/** Section 2 of docs/benchmarks.md (RTO and restore throughput) and its headline row. */
import type { PartResult } from "../lib/results";
import type { RestoreData, RestoreRow } from "../parts/restore";
import { barChart } from "../svg";
import { type Chart, f, fr, metaLine, ratio } from "./format";

/** The row of one method, transport, compression and concurrency at one scale. */
function cell(d: RestoreData, scale: number, m: string, tr: string, comp: string, conc: number | null): RestoreRow | undefined {
    return d.rows.find(
        (r) => r.scale === scale && r.method === m && r.transport === tr && r.compression === comp && r.concurrency === conc,
    );
}

const topScale = (d: RestoreData): number => Math.max(...d.scales.map((s) => s.scale));

function datasetBytes(d: RestoreData, scale: number): number {
    const s = d.scales.find((x) => x.scale === scale);
    if (!s) throw new Error(`restore result: no dataset size for scale ${scale}`);
    return s.dataset_bytes;
}

function label(r: RestoreRow): string {
    if (r.method === "copy") return "copy (cp -a + sync)";
    const who = r.method === "walg" ? "WAL-G" : "pgBackRest";
    const conc = r.method === "walg" ? `download concurrency ${r.concurrency}` : `process-max ${r.concurrency}`;
    return `${who} ${r.compression}, ${conc}, ${r.transport === "http" ? "HTTP" : "TLS front"}`;
}

export function restoreHeadline(d: RestoreData): string {
    const top = topScale(d);
    const c = Math.max(...d.concurrencies);
    const row = (m: string, tr: string, comp: string, conc: number | null): RestoreRow | undefined => cell(d, top, m, tr, comp, conc);
    const copy = row("copy", "disk", "none", null);
    // lz4 on both sides when the run has it, else zstd (WAL-G) against zst (pgBackRest).
    const codec = row("walg", "http", "lz4", c) ? "lz4" : "zstd";
    const peerCodec = codec === "lz4" ? "lz4" : "zst";
    const w = row("walg", "http", codec, c);
    const wt = row("walg", "tls", codec, c);
    const b = row("pgbackrest", "tls", peerCodec, c);
    const size = datasetBytes(d, top);
    return (
        `| Restore throughput, scale ${top} (${f(size / 1e9, 2)} GB), start of restore to passing check | WAL-G ${codec}: **${f(w?.mb_s)} MB/s** = **${fr(ratio(w?.mb_s, copy?.mb_s))} of the copy limit** (${f(copy?.mb_s)} MB/s)` +
        (b
            ? ` and **${fr(ratio(w?.mb_s, b.mb_s))} pgBackRest** ${peerCodec} (${f(b.mb_s)} MB/s; like for like through the same TLS front: ${fr(ratio(wt?.mb_s, b.mb_s))}; download-and-unpack alone, TLS: ${fr(ratio(wt?.fetch_mb_s, b.fetch_mb_s))})`
            : "") +
        ` | \`npm run bench -- --only restore --scales ${d.scales.map((s) => s.scale).join(",")}\` |`
    );
}

function method(d: RestoreData): string[] {
    return [
        "Per pgbench scale, in the same run on the same tier and disk: " +
            "**copy** = `cp -a` of the data directory (without `pg_wal`) plus `sync`, the physical limit for the same bytes; " +
            "**WAL-G** = the restore drill's own code (`runDrill`: `backup-fetch`, WAL replay to the end of the archive, promotion, and the check that `pgbench_accounts` has scale × 100 000 rows); " +
            "**pgBackRest** 2.45 (Debian) = `pgbackrest backup` of the same cluster to the same MinIO and bucket, then `pgbackrest restore` into the same scratch directory and the same start/promote/count check. " +
            `Time = from the start of the restore to the passing check; MB/s = dataset bytes (data directory without \`pg_wal\`, 1 MB = 10⁶ bytes) / that time; "fetch" = the download-and-unpack part only (\`backup-fetch\`, \`pgbackrest restore\`, \`cp\` + \`sync\`); "rest" = everything else: listing the backups, writing the config, starting, WAL replay, promotion, the check. ` +
            `${d.caches_dropped ? "The page cache was dropped before every timed run (`echo 3 > /proc/sys/vm/drop_caches`)." : "The page cache could NOT be dropped."} ` +
            `${d.reps > 1 ? `Each cell is the median of ${d.reps} runs.` : "Each cell is one run."}`,
        "",
        "- **Codecs**: WAL-G v3.0.9 with the codecs the result holds (lz4, zstd, and lzma where run), pgBackRest with **lz4 and zst**; the like-for-like pairs are lz4/lz4 and zstd/zst (WAL-G's zstd is klauspost/compress at its default level, pgBackRest's zst is libzstd at level 3).",
        "- **TLS**: pgBackRest speaks S3 only over HTTPS (no release supports plain HTTP, pgbackrest/pgbackrest#2612), and the tier's MinIO listens on plain HTTP. " +
            "pgBackRest therefore goes through a small TLS front (`bench/lib/tls-proxy.ts`, Node, on the same machine) in front of the same MinIO; WAL-G is measured both the tier's way (HTTP) " +
            "and through the same TLS front, so the like-for-like ratio is WAL-G (TLS) / pgBackRest (TLS).",
        "- **Encryption** on both sides: WAL-G with the tier's libsodium key, pgBackRest with `repo1-cipher-type=aes-256-cbc`.",
        "- **Concurrency**: WAL-G `WALG_DOWNLOAD_CONCURRENCY` (the tier renders 4) and pgBackRest `process-max`, both at " +
            `${d.concurrencies.join(" and ")}. WAL-G cuts a base backup into tar partitions (WALG_TAR_SIZE_THRESHOLD, 1 GiB by default), so below that there is one partition and its download concurrency has little to parallelise.`,
        "- **pgbench data is very compressible** (the filler columns are blanks): stored sizes are a small fraction of the dataset, which favours the slower but stronger codecs more than real data would.",
        "- **pgBackRest setup on the bench tier only**: a Unix socket, a `local ... peer` line and a second `archive_command` (`... && pgbackrest archive-push %p`), set with `ALTER SYSTEM`; the WAL-G drill sets `postgresql.auto.conf` aside, so its restores do not inherit them.",
        "",
    ];
}

function datasets(d: RestoreData): string[] {
    return [
        "| scale | dataset | pgbench -i |",
        "| --- | --- | --- |",
        ...d.scales.map((s) => `| ${s.scale} | ${f(s.dataset_bytes / 1e6, 0)} MB | ${f(s.init_s, 0)} s |`),
        "",
    ];
}

function cellsTable(d: RestoreData): string[] {
    const L = [
        "| scale | method | stored | backup (s) | restore → check (s) | fetch (s) | rest (s) | MB/s | fetch MB/s | × copy | × pgBackRest |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ];
    for (const r of d.rows) {
        const copy = d.rows.find((x) => x.scale === r.scale && x.method === "copy");
        // pgBackRest counterpart: same concurrency and transport where there is one, lz4 for lz4, zst for zstd and lzma.
        const peer =
            r.method === "walg"
                ? d.rows.find(
                      (x) =>
                          x.scale === r.scale &&
                          x.method === "pgbackrest" &&
                          x.concurrency === r.concurrency &&
                          x.compression === (r.compression === "lz4" ? "lz4" : "zst"),
                  )
                : undefined;
        const rec = r.runs.length ? r.median_total_s - r.median_fetch_s : null;
        L.push(
            `| ${r.scale} | ${label(r)} | ${r.stored_bytes === null ? "–" : `${f(r.stored_bytes / 1e6, 0)} MB`} | ${f(r.backup_s)} | **${f(r.median_total_s, 1)}** | ${f(r.median_fetch_s, 1)} | ${f(rec, 1)} | **${f(r.mb_s)}** | ${f(r.fetch_mb_s)} | ${r.method === "copy" ? "1" : fr(ratio(r.mb_s, copy?.mb_s))} | ${peer ? `${fr(ratio(r.mb_s, peer.mb_s))} (vs ${peer.compression})` : "–"} |`,
        );
    }
    L.push("");
    if (d.reps > 1) {
        L.push("<details><summary>every run</summary>", "", "| scale | method | runs: total s (fetch s) |", "| --- | --- | --- |");
        for (const r of d.rows)
            L.push(`| ${r.scale} | ${label(r)} | ${r.runs.map((x) => `${f(x.total_s)} (${f(x.fetch_s)})`).join(", ")} |`);
        L.push("", "</details>", "");
    }
    return L;
}

/** The cells the readings compare, at the largest scale. */
function readingCells(d: RestoreData) {
    const top = topScale(d);
    const c = Math.max(...d.concurrencies);
    const lo = Math.min(...d.concurrencies);
    const pick = (m: string, tr: string, comp: string, conc: number | null): RestoreRow | undefined => cell(d, top, m, tr, comp, conc);
    return {
        top,
        c,
        lo,
        copy: pick("copy", "disk", "none", null),
        w: pick("walg", "http", "lz4", c),
        w1: pick("walg", "http", "lz4", lo),
        wt: pick("walg", "tls", "lz4", c),
        wz: pick("walg", "http", "lzma", c),
        wzs: pick("walg", "http", "zstd", c),
        wzt: pick("walg", "tls", "zstd", c),
        b: pick("pgbackrest", "tls", "lz4", c),
        b1: pick("pgbackrest", "tls", "lz4", lo),
        bz: pick("pgbackrest", "tls", "zst", c),
    };
}

/** The reading of a run without lz4 (zstd against zst). */
function zstdReading(d: RestoreData): string[] {
    const { top, c, copy, w, wzs, wzt, bz } = readingCells(d);
    if (!copy || w || !wzs || !bz) return [];
    return [
        `**Reading (scale ${top}, zstd on both sides)**: WAL-G zstd at download concurrency ${c}: ${f(wzs.mb_s)} MB/s to a passing check over HTTP${wzt ? `, ${f(wzt.mb_s)} MB/s through the TLS front` : ""} (${fr(ratio(wzt?.mb_s ?? wzs.mb_s, copy.mb_s))} the copy); pgBackRest zst with process-max ${c}: ${f(bz.mb_s)} MB/s, so WAL-G is ${fr(ratio(wzt?.mb_s ?? wzs.mb_s, bz.mb_s))} pgBackRest like for like. ` +
            `The download-and-unpack part alone: WAL-G ${f(wzt?.fetch_mb_s ?? wzs.fetch_mb_s)} MB/s, pgBackRest ${f(bz.fetch_mb_s)} MB/s (${fr(ratio(wzt?.fetch_mb_s ?? wzs.fetch_mb_s, bz.fetch_mb_s))}). ` +
            "The rest of WAL-G's time is the restore drill's own work (start, replay of the WAL written since the backup, promotion, and the drill's checks), which the pgBackRest cell does more briefly (start, promote, one count): compare the fetch columns for the tools themselves. " +
            `Stored: WAL-G zstd ${f((wzs.stored_bytes ?? 0) / 1e6, 0)} MB, pgBackRest zst ${f((bz.stored_bytes ?? 0) / 1e6, 0)} MB.`,
        "",
    ];
}

/** The reading of a run with lz4 (the tier's codec). */
function lz4Reading(d: RestoreData): string[] {
    const { top, c, lo, copy, w, w1, wt, wz, wzs, wzt, b, b1, bz } = readingCells(d);
    if (!copy || !w) return [];
    return [
        `**Reading (scale ${top})**: WAL-G lz4 at the tier's download concurrency (${c}) restores to a passing check at ${f(w.mb_s)} MB/s, ${fr(ratio(w.mb_s, copy.mb_s))} the copy limit; ` +
            `its download-and-unpack part alone runs at ${f(w.fetch_mb_s)} MB/s (${fr(ratio(w.fetch_mb_s, copy.mb_s))} the copy), the rest is a fixed ~${f(w.median_total_s - w.median_fetch_s)} s of start, replay, promotion and the count. ` +
            (w1
                ? `Concurrency ${lo} instead of ${c}: ${f(w1.mb_s)} MB/s (the ${f(datasetBytes(d, top) / 1e9, 1)} GB backup is cut into 1 GiB tar partitions, fetched in parallel; at the smaller scales there is one partition and concurrency changes nothing). `
                : "") +
            (wt ? `Through the TLS front WAL-G loses ${f((1 - wt.mb_s / w.mb_s) * 100, 0)} %. ` : "") +
            (b
                ? `pgBackRest lz4 with process-max ${c}: ${f(b.mb_s)} MB/s, so WAL-G is ${fr(ratio(w.mb_s, b.mb_s))} pgBackRest (${fr(ratio(wt?.mb_s, b.mb_s))} like for like over TLS)${b1 ? `; single-process pgBackRest manages ${f(b1.mb_s)} MB/s` : ""}. `
                : "") +
            (wzs && bz
                ? `zstd on both sides: WAL-G zstd ${f(wzs.mb_s)} MB/s over HTTP${wzt ? `, ${f(wzt.mb_s)} MB/s through the TLS front` : ""}, pgBackRest zst ${f(bz.mb_s)} MB/s: WAL-G/pgBackRest = ${fr(ratio(wzt?.mb_s ?? wzs.mb_s, bz.mb_s))}${wzt ? " like for like" : ""}. `
                : "") +
            (wz ? `WAL-G lzma: ${f(wz.mb_s)} MB/s (pure-Go decompression; smallest backup, by far the slowest backup-push). ` : ""),
        "",
    ];
}

function notes(d: RestoreData): string[] {
    return [
        ...(d.not_run.length ? ["Not run in this result:", "", ...d.not_run.map((x) => `- ${x}`), ""] : []),
        ...d.notes.flatMap((n) => [`Note: ${n}`, ""]),
    ];
}

/** restore-throughput.svg: MB/s per scale of each method that the result holds. */
function throughputChart(d: RestoreData, chart: Chart): string[] {
    const c = Math.max(...d.concurrencies);
    const at = (s: number, m: string, comp: string, transport?: string): RestoreRow | undefined =>
        d.rows.find(
            (r) =>
                r.scale === s &&
                r.method === m &&
                r.compression === comp &&
                (transport === undefined || r.transport === transport) &&
                r.concurrency === c,
        );
    const series: { name: string; pick: (s: number) => RestoreRow | undefined }[] = [
        { name: "copy (limit)", pick: (s: number) => d.rows.find((r) => r.scale === s && r.method === "copy") },
        { name: `WAL-G lz4 c${c} HTTP`, pick: (s: number) => at(s, "walg", "lz4", "http") },
        { name: `WAL-G lz4 c${c} TLS`, pick: (s: number) => at(s, "walg", "lz4", "tls") },
        { name: `WAL-G zstd c${c} HTTP`, pick: (s: number) => at(s, "walg", "zstd", "http") },
        { name: `WAL-G zstd c${c} TLS`, pick: (s: number) => at(s, "walg", "zstd", "tls") },
        { name: `WAL-G lzma c${c} HTTP`, pick: (s: number) => at(s, "walg", "lzma") },
        { name: `pgBackRest lz4 p${c}`, pick: (s: number) => at(s, "pgbackrest", "lz4") },
        { name: `pgBackRest zst p${c}`, pick: (s: number) => at(s, "pgbackrest", "zst") },
    ].filter((s) => d.scales.some((sc) => s.pick(sc.scale)));
    return [
        chart(
            "restore-throughput.svg",
            barChart({
                title: "Restore to a passing check vs a plain copy",
                yLabel: "MB/s (dataset bytes / wall time)",
                series: series.map((s) => s.name),
                groups: d.scales.map((s) => ({
                    label: `scale ${s.scale} (${f(s.dataset_bytes / 1e6, 0)} MB)`,
                    values: series.map((x) => x.pick(s.scale)?.mb_s ?? null),
                })),
                valueLabels: true,
            }),
        ),
        "",
    ];
}

export function restoreSection(restore: PartResult<RestoreData> | undefined, chart: Chart): string[] {
    const head = ["## 2. RTO and restore throughput", ""];
    if (!restore) return [...head, "_Not run._", ""];
    const d = restore.data;
    return [
        ...head,
        metaLine(restore.meta),
        "",
        ...method(d),
        ...datasets(d),
        ...cellsTable(d),
        ...zstdReading(d),
        ...lz4Reading(d),
        ...notes(d),
        ...throughputChart(d, chart),
    ];
}
