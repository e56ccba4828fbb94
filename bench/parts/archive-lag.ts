/**
 * Archive lag under load: a write-heavy pgbench run (TPC-B-like through pgBouncer) while a
 * sampler reads pg_stat_archiver, the current WAL segment and pg_wal/archive_status every
 * 500 ms. Lag in segments: completed segments not yet archived (current segment number minus
 * last_archived_wal minus one; cross-checked with the number of .ready files). Lag in seconds:
 * the age of the oldest .ready file (Postgres creates it when the segment is complete), the
 * time the oldest waiting segment has waited.
 */
import { readdirSync, statSync } from "node:fs";
import { join } from "node:path";
import { run } from "../../jobs/proc";
import { type BenchOptions, must, type PartContext, pgbenchInit } from "../lib/common";
import { round } from "../lib/proc";
import { startBenchTier } from "../lib/tier";
import { Client } from "../../test/support/pgwire";
import { sleep } from "../../test/support/proc-tree";

export interface LagSample {
    /** Seconds since the load started. */
    readonly t: number;
    readonly current_segment: string;
    readonly last_archived_wal: string | null;
    readonly lag_segments: number;
    readonly ready_files: number;
    readonly oldest_ready_age_s: number;
    readonly wal_bytes: number;
    readonly archived_count: number;
    readonly failed_count: number;
}

export interface ArchiveLagData {
    readonly scale: number;
    readonly clients: number;
    readonly seconds: number;
    readonly archive_timeout_s: number;
    readonly tps: number;
    readonly wal_mb: number;
    readonly wal_mb_s: number;
    readonly segments_archived: number;
    readonly archive_failures: number;
    readonly max_lag_segments: number;
    readonly max_ready_files: number;
    readonly max_lag_seconds: number;
    /** Seconds from the end of the load until nothing waited for archiving. */
    readonly drain_s: number | null;
    readonly samples: LagSample[];
}

const CLIENTS = 32;

export function segNo(name: string): number {
    return parseInt(name.slice(8, 16), 16) * 256 + parseInt(name.slice(16, 24), 16);
}

export async function archiveLagBench(ctx: PartContext, o: BenchOptions): Promise<ArchiveLagData> {
    const seconds = o.seconds ?? (o.quick ? 30 : 300);
    const scale = o.quick ? 10 : 50;
    const t = await startBenchTier("archive-lag", { log: ctx.log });
    ctx.defer("archive-lag tier down", () => t.down());
    ctx.log(`pgbench -i -s ${scale} as app_user`);
    await pgbenchInit(t, scale, "app_user");
    await t.switchAndWaitArchived(600_000);
    await t.waitArchiveDrained();
    const rootP = await t.root("postgres");
    const archiveTimeout = Number(await t.value(rootP, "SELECT setting FROM pg_settings WHERE name = 'archive_timeout'"));
    const status = join(t.l.pgData, "pg_wal", "archive_status");

    const c = await Client.connect({ ...rootP, applicationName: "archive-lag-sampler" });
    const samples: LagSample[] = [];
    const t0 = Date.now();
    let sampling = true;
    let loadDone: number | undefined;
    let drainedAt: number | undefined;
    const sampler = (async () => {
        while (sampling) {
            const row = (
                await c.query(
                    "SELECT pg_walfile_name(pg_current_wal_lsn()), last_archived_wal, archived_count, failed_count, (pg_current_wal_lsn() - '0/0')::bigint FROM pg_stat_archiver",
                )
            )[0];
            const now = Date.now();
            let ready = 0;
            let oldest = now;
            for (const f of readdirSync(status)) {
                if (!f.endsWith(".ready")) continue;
                ready++;
                try {
                    oldest = Math.min(oldest, statSync(join(status, f)).mtimeMs);
                } catch {
                    /* archived while we looked */
                }
            }
            const cur = must(row[0], "current WAL segment");
            const last = row[1];
            samples.push({
                t: round((now - t0) / 1000, 2),
                current_segment: cur,
                last_archived_wal: last,
                lag_segments: last ? Math.max(0, segNo(cur) - segNo(last) - 1) : segNo(cur),
                ready_files: ready,
                oldest_ready_age_s: round((now - oldest) / 1000, 2),
                wal_bytes: Number(row[4]),
                archived_count: Number(row[2]),
                failed_count: Number(row[3]),
            });
            if (loadDone !== undefined && ready === 0 && drainedAt === undefined) drainedAt = now;
            if (loadDone !== undefined && (drainedAt !== undefined || now - loadDone > 600_000)) break;
            await sleep(500);
        }
    })();

    ctx.log(`write-heavy load: pgbench TPC-B-like, ${CLIENTS} clients through pgBouncer, ${seconds} s`);
    const app = await t.app();
    const r = await run(
        join(t.t.pgBinDir, "pgbench"),
        [
            "-h",
            "127.0.0.1",
            "-p",
            String(t.ports.pgbouncer),
            "-U",
            app.user,
            "-c",
            String(CLIENTS),
            "-j",
            "2",
            "-T",
            String(seconds),
            "-n",
            "-M",
            "simple",
            "-P",
            "30",
            "-b",
            "tpcb-like",
            "app",
        ],
        {
            env: { PATH: process.env.PATH, PGPASSWORD: app.password, PGSSLMODE: "disable" },
            timeoutMs: (seconds + 300) * 1000,
            onLine: (l, s) => s === "stderr" && l.startsWith("progress") && ctx.log(l),
        },
    );
    loadDone = Date.now();
    const loadSamples = samples.length;
    ctx.log("load finished; waiting for the archive to drain");
    await sampler;
    sampling = false;
    await c.close();
    if (r.code !== 0) throw new Error(`pgbench failed: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    const first = samples[0];
    const lastLoad = samples[Math.max(0, loadSamples - 1)];
    const walBytes = lastLoad.wal_bytes - first.wal_bytes;
    const end = samples[samples.length - 1];
    return {
        scale,
        clients: CLIENTS,
        seconds,
        archive_timeout_s: archiveTimeout,
        tps: Number(/tps = ([\d.]+) \(without/.exec(r.stdout)?.[1] ?? 0),
        wal_mb: round(walBytes / 1e6, 1),
        wal_mb_s: round(walBytes / 1e6 / seconds, 2),
        segments_archived: end.archived_count - first.archived_count,
        archive_failures: end.failed_count - first.failed_count,
        max_lag_segments: Math.max(...samples.map((s) => s.lag_segments)),
        max_ready_files: Math.max(...samples.map((s) => s.ready_files)),
        max_lag_seconds: Math.max(...samples.map((s) => s.oldest_ready_age_s)),
        drain_s: drainedAt !== undefined ? round((drainedAt - loadDone) / 1000, 1) : null,
        samples,
    };
}

export function archiveLagSummary(d: ArchiveLagData): string[] {
    return [
        `pgbench TPC-B-like scale ${d.scale}, ${d.clients} clients via pgBouncer, ${d.seconds} s: ${d.tps.toFixed(0)} TPS, ${d.wal_mb} MB WAL (${d.wal_mb_s} MB/s)`,
        `segments archived ${d.segments_archived}, archive failures ${d.archive_failures}`,
        `largest lag: ${d.max_lag_segments} segment(s) (${d.max_ready_files} .ready file(s)), ${d.max_lag_seconds} s; drained ${d.drain_s ?? "n/a"} s after the load`,
    ];
}
