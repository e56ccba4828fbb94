/** Section 4 of docs/benchmarks.md (archive lag under a write-heavy load) and its headline row. */
import type { PartResult } from "../lib/results";
import type { ArchiveLagData } from "../parts/archive-lag";
import { f, metaLine } from "./format";

export function archiveLagHeadline(d: ArchiveLagData): string {
    return `| Archive lag, ${d.seconds} s write-heavy pgbench (${f(d.wal_mb_s, 1)} MB/s of WAL) | largest lag **${d.max_lag_segments} segment${d.max_lag_segments === 1 ? "" : "s"}**, **${f(d.max_lag_seconds, 1)} s**; ${d.archive_failures} archive failures | \`npm run bench -- --only archive-lag\` |`;
}

export function archiveLagSection(lag: PartResult<ArchiveLagData> | undefined): string[] {
    const head = ["## 4. Archive lag under load", ""];
    if (!lag) return [...head, "_Not run._", ""];
    const d = lag.data;
    return [
        ...head,
        metaLine(lag.meta),
        "",
        `pgbench \`tpcb-like\`, ${d.clients} clients through pgBouncer, ${d.seconds} s, scale ${d.scale}; a sampler reads \`pg_stat_archiver\`, the current WAL segment and \`pg_wal/archive_status\` every 500 ms. ` +
            "Lag in segments = completed segments not yet archived (current segment − `last_archived_wal` − 1); lag in seconds = age of the oldest `.ready` file (how long the oldest waiting segment has waited).",
        "",
        "| TPS | WAL written | WAL rate | segments archived | archive failures | largest lag (segments) | largest `.ready` count | largest lag (s) | drained after load |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- |",
        `| ${f(d.tps, 0)} | ${f(d.wal_mb, 0)} MB | ${f(d.wal_mb_s, 2)} MB/s | ${d.segments_archived} | ${d.archive_failures} | **${d.max_lag_segments}** | ${d.max_ready_files} | **${f(d.max_lag_seconds, 1)}** | ${d.drain_s === null ? "not within 10 min" : `${f(d.drain_s, 1)} s`} |`,
        "",
        `Sampling every 500 ms, the largest lag in seconds can be up to 0.5 s short of the truth. At ${f(d.wal_mb_s, 1)} MB/s of WAL a segment fills every ${f(16.777216 / d.wal_mb_s, 1)} s, and one \`wal-push\` (lz4 + libsodium + upload to MinIO) takes well under that, so the archiver keeps up: at most one completed segment ever waited. ` +
            `\`archive_timeout\` (${d.archive_timeout_s} s) plays no part here: under this load segments fill in seconds. The lag is what bounds the RPO while writes are heavy: ` +
            "a crash loses the segment being written plus every segment still waiting.",
        "",
    ];
}
