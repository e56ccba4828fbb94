/**
 * RPO, measured. Per trial, on a fresh tier: a writer (app_user through pgBouncer) commits a
 * marker row every 100 ms, each stamped with the server's clock_timestamp(); at a random
 * moment the whole Postgres process tree is SIGKILLed (archiver and any wal-push child
 * included, so nothing finishes after the "crash") and the data directory is deleted; then
 * `npm run local -- drill --keep-port P` restores the newest base backup and replays the
 * archive to its end; RPO = stamp of the last marker whose commit was acknowledged minus
 * stamp of the newest marker in the restored copy.
 */
import { randomInt } from "node:crypto";
import { readFileSync, rmSync, writeFileSync } from "node:fs";
import { type BenchOptions, type PartContext } from "../lib/common";
import { Client } from "../lib/pgwire";
import { killTree, round, sleep, waitGone } from "../lib/proc";
import { BenchTier, freePort } from "../lib/tier";

export interface RpoTrial {
    readonly trial: number;
    /** Seconds the writer ran before the kill (drawn uniformly at random). */
    readonly kill_after_s: number;
    readonly killed_at: string;
    readonly markers_committed: number;
    readonly last_committed_at: string;
    /** Stamp of the newest recovered marker, or the drill's recovered_to when none was recovered. */
    readonly last_recovered_at: string | null;
    readonly recovered_point: "marker" | "drill recovered_to";
    readonly markers_recovered: number;
    readonly markers_lost: number;
    readonly rpo_s: number | null;
    /** pg_stat_archiver just before the kill. */
    readonly last_archived_wal_before_kill: string | null;
    readonly last_archived_time_before_kill: string | null;
    readonly drill_status: string;
    readonly drill_duration_s: number | null;
    readonly backup_name: string | null;
}

export interface RpoData {
    readonly archive_timeout_s: number;
    /** The kill moment is drawn uniformly from [warm_up_s, warm_up_s + archive_timeout_s]. */
    readonly warm_up_s?: number;
    readonly interval_ms: number;
    readonly trials: RpoTrial[];
    readonly max_rpo_s: number | null;
    readonly median_rpo_s: number | null;
}

const INTERVAL_MS = 100;

export async function rpoBench(ctx: PartContext, o: BenchOptions): Promise<RpoData> {
    const n = o.trials ?? (o.quick ? 2 : 5);
    const trials: RpoTrial[] = [];
    let archiveTimeout = 0;
    for (let i = 1; i <= n; i++) {
        const t = await BenchTier.start("rpo", { log: ctx.log });
        try {
            const r = await trial(t, i, ctx, o.quick);
            archiveTimeout = r.archiveTimeout;
            trials.push(r.trial);
            ctx.log(`trial ${i}: RPO ${r.trial.rpo_s?.toFixed(2)} s (archive_timeout ${archiveTimeout} s, killed after ${r.trial.kill_after_s.toFixed(1)} s, ${r.trial.markers_lost} of ${r.trial.markers_committed} markers lost)`);
        } finally {
            await t.down();
        }
    }
    const rpos = trials.map((x) => x.rpo_s).filter((x): x is number => x !== null);
    const sorted = [...rpos].sort((a, b) => a - b);
    return {
        archive_timeout_s: archiveTimeout,
        warm_up_s: o.quick ? 5 : archiveTimeout,
        interval_ms: INTERVAL_MS,
        trials,
        max_rpo_s: rpos.length === trials.length && rpos.length > 0 ? Math.max(...rpos) : null,
        median_rpo_s: sorted.length ? round(sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2, 3) : null,
    };
}

interface Marker {
    readonly id: number;
    readonly ts: number;
}

async function trial(t: BenchTier, i: number, ctx: PartContext, quick: boolean): Promise<{ trial: RpoTrial; archiveTimeout: number }> {
    const root = await t.root();
    const archiveTimeout = Number(await t.value(root, "SELECT setting FROM pg_settings WHERE name = 'archive_timeout'"));
    const app = await t.app();
    await t.sql(app, "CREATE TABLE markers (id bigserial PRIMARY KEY, ts timestamptz NOT NULL DEFAULT clock_timestamp())");
    // Counted, not required: a kill before the first archive_timeout switch recovers no marker at all.
    writeFileSync(t.l.drillChecks, JSON.stringify({ tables: ["public.markers"], minRows: {} }));
    await t.cliOk(["backup"]);

    // The writer: one marker per 100 ms tick, each commit acknowledged before the next.
    const committed: Marker[] = [];
    let stop = false;
    let writerError: string | undefined;
    const writer = (async () => {
        const c = await Client.connect({ ...app, applicationName: "rpo-writer" });
        let next = Date.now();
        while (!stop) {
            try {
                const row = (await c.query("INSERT INTO markers DEFAULT VALUES RETURNING id, extract(epoch FROM ts)"))[0];
                committed.push({ id: Number(row[0]), ts: Number(row[1]) });
            } catch (e) {
                writerError = (e as Error).message;
                break;
            }
            next += INTERVAL_MS;
            const wait = next - Date.now();
            if (wait > 0) await sleep(wait);
        }
        await c.close().catch(() => undefined);
    })();

    // A random moment, uniform over one archive_timeout period after a warm-up, so the kill
    // lands anywhere in the segment-switch cycle.
    const warm = quick ? 5 : archiveTimeout;
    const killAfter = warm + randomInt(0, archiveTimeout * 1000) / 1000;
    const t0 = Date.now();
    while (Date.now() - t0 < killAfter * 1000 && !writerError) await sleep(50);
    if (writerError) throw new Error(`writer failed before the kill: ${writerError}`);
    const arch = (await t.sql(root, "SELECT last_archived_wal, last_archived_time FROM pg_stat_archiver"))[0];

    const pid = t.postmasterPid();
    if (!pid) throw new Error("no postmaster to kill");
    const killed = killTree(pid);
    const killedAt = new Date();
    stop = true;
    await writer;
    await waitGone(killed);
    rmSync(t.l.pgData, { recursive: true, force: true });
    ctx.log(`trial ${i}: SIGKILLed ${killed.length} Postgres processes after ${killAfter.toFixed(1)} s and deleted the data directory; restoring`);

    const keep = await freePort();
    const d = await t.cli(["drill", "--keep-port", String(keep)], 1_800_000);
    const evidencePath = d.stdout.trim().split("\n").pop() ?? "";
    let evidence: { status: string; duration_seconds: number | null; backup_name: string | null; error: string | null; recovered_to: string | null };
    try {
        evidence = JSON.parse(readFileSync(evidencePath, "utf8"));
    } catch {
        throw new Error(`drill printed no evidence (exit ${d.code}): ${d.stderr.trim().split("\n").slice(-5).join(" | ")}`);
    }
    if (evidence.status !== "passed") throw new Error(`drill failed: ${evidence.error}`);
    const row = (await t.sql({ ...root, port: keep }, "SELECT max(id), extract(epoch FROM max(ts)), count(*) FROM markers"))[0];
    const last = committed[committed.length - 1];
    const recoveredId = Number(row[0] ?? 0);
    // No marker recovered (killed before the first switch shipped one): the restored state is
    // the drill's recovered_to (last replayed transaction, or the backup's end).
    const recoveredTs = row[1] !== null ? Number(row[1]) : evidence.recovered_to ? Date.parse(evidence.recovered_to) / 1000 : null;
    return {
        archiveTimeout,
        trial: {
            trial: i,
            kill_after_s: round(killAfter, 2),
            killed_at: killedAt.toISOString(),
            markers_committed: committed.length,
            last_committed_at: new Date(last.ts * 1000).toISOString(),
            last_recovered_at: recoveredTs === null ? null : new Date(recoveredTs * 1000).toISOString(),
            recovered_point: row[1] !== null ? "marker" : "drill recovered_to",
            markers_recovered: Number(row[2]),
            markers_lost: last.id - recoveredId,
            rpo_s: recoveredTs === null ? null : round(last.ts - recoveredTs, 3),
            last_archived_wal_before_kill: arch[0],
            last_archived_time_before_kill: arch[1],
            drill_status: evidence.status,
            drill_duration_s: evidence.duration_seconds,
            backup_name: evidence.backup_name,
        },
    };
}

export function rpoSummary(d: RpoData): string[] {
    return [
        `archive_timeout ${d.archive_timeout_s} s, marker every ${d.interval_ms} ms`,
        "trial  kill after  committed  lost   RPO (s)",
        ...d.trials.map((x) => `${String(x.trial).padStart(5)}  ${x.kill_after_s.toFixed(1).padStart(9)}s  ${String(x.markers_committed).padStart(9)}  ${String(x.markers_lost).padStart(4)}  ${(x.rpo_s ?? NaN).toFixed(2).padStart(8)}`),
        `max RPO ${d.max_rpo_s?.toFixed(2)} s (median ${d.median_rpo_s?.toFixed(2)} s) vs archive_timeout ${d.archive_timeout_s} s`,
    ];
}
