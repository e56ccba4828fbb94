/**
 * RPO, measured, for each archiving option of the tier: archive_timeout 60 s (the default),
 * archive_timeout 10 s, and streaming (`backup.walStreaming`: wal-g wal-receive on a
 * replication slot, uploading the segment it fills every second; archive_timeout 60 s stays).
 * Per trial, on a fresh tier: a writer (app_user through pgBouncer) commits a marker row every
 * 100 ms, each stamped with the server's clock_timestamp(); at a random moment the whole
 * Postgres process tree is SIGKILLed (archiver and any wal-push child included, so nothing
 * finishes after the "crash"; the receiver is a separate process, as its container is, and
 * keeps running) and the data directory is deleted; then `npm run local -- drill --keep-port P`
 * restores the newest base backup and replays the archive to its end; RPO = stamp of the last
 * marker whose commit was acknowledged minus stamp of the newest marker in the restored copy.
 *
 * Bucket bytes per idle hour: on the first trial's tier, before the writer starts, the growth
 * of the bytes stored under wal_005/ over IDLE_S seconds with no client at all, and over
 * IDLE_S seconds with one single-row INSERT every 10 s (a "nearly idle" application), each
 * scaled to an hour (x 3600 / IDLE_S).
 */
import { randomInt } from "node:crypto";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { receiverFiles } from "../../local/wal-receiver";
import type { BenchOptions, PartContext } from "../lib/common";
import { round } from "../lib/proc";
import { startBenchTier } from "../lib/tier";
import { Client } from "../../test/support/pgwire";
import { killTree, sleep, waitGone } from "../../test/support/proc-tree";
import { freePort, type Tier } from "../../test/support/tier-harness";
import { walObjects } from "../../test/support/tier-s3";
import { barChart } from "../svg";

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

export interface IdleBytes {
    readonly seconds: number;
    /** wal_005/ growth with no client, scaled to one hour. */
    readonly idle_bytes_per_hour: number;
    /** wal_005/ growth with one single-row INSERT every 10 s, scaled to one hour. */
    readonly trickle_bytes_per_hour: number;
    readonly idle_objects: number;
    readonly trickle_objects: number;
    /** Streaming: .partial uploads (each overwrites the last, so they add traffic, not storage), per hour. */
    readonly idle_partial_uploads_per_hour?: number;
    readonly trickle_partial_uploads_per_hour?: number;
}

export interface RpoOption {
    readonly option: string;
    /** Environment of the tier (DBTIER_LOCAL_RPO_SECONDS, DBTIER_LOCAL_WAL_STREAMING). */
    readonly env: Record<string, string>;
}

export const RPO_OPTIONS: readonly RpoOption[] = [
    { option: "archive_timeout 60 s", env: { DBTIER_LOCAL_RPO_SECONDS: "60" } },
    { option: "archive_timeout 10 s", env: { DBTIER_LOCAL_RPO_SECONDS: "10" } },
    { option: "streaming (wal-receive)", env: { DBTIER_LOCAL_RPO_SECONDS: "60", DBTIER_LOCAL_WAL_STREAMING: "1" } },
];

export interface RpoOptionData {
    readonly option: string;
    readonly archive_timeout_s: number;
    readonly streaming: boolean;
    readonly warm_up_s: number;
    /** The kill moment is drawn uniformly from [warm_up_s, warm_up_s + kill_window_s]. */
    readonly kill_window_s: number;
    readonly trials: RpoTrial[];
    readonly max_rpo_s: number | null;
    readonly median_rpo_s: number | null;
    readonly idle: IdleBytes | null;
}

export interface RpoData {
    readonly interval_ms: number;
    readonly options: RpoOptionData[];
}

/** The previous single-option shape (kept so an older results file still renders). */
export interface RpoDataV1 {
    readonly archive_timeout_s: number;
    /** The kill moment is drawn uniformly from [warm_up_s, warm_up_s + archive_timeout_s]. */
    readonly warm_up_s?: number;
    readonly interval_ms: number;
    readonly trials: RpoTrial[];
    readonly max_rpo_s: number | null;
    readonly median_rpo_s: number | null;
}

const INTERVAL_MS = 100;
const IDLE_S = 120;
/** Streaming: kill somewhere in a 60 s window (the receiver uploads every second, so the phase hardly matters). */
const STREAM_KILL_WINDOW_S = 60;

export async function rpoBench(ctx: PartContext, o: BenchOptions): Promise<RpoData> {
    const n = o.trials ?? (o.quick ? 2 : 5);
    const only = o.rpoOptions;
    const options: RpoOptionData[] = [];
    for (const opt of RPO_OPTIONS.filter((x) => !only || only.some((w) => x.option.startsWith(w)))) {
        const trials: RpoTrial[] = [];
        let archiveTimeout = 0;
        let idle: IdleBytes | null = null;
        const streaming = opt.env.DBTIER_LOCAL_WAL_STREAMING === "1";
        if (o.rpoIdleOnly) {
            const t = await startBenchTier("rpo-idle", { log: ctx.log, env: opt.env });
            try {
                const root = await t.root();
                archiveTimeout = Number(await t.value(root, "SELECT setting FROM pg_settings WHERE name = 'archive_timeout'"));
                await t.sql(
                    await t.app(),
                    "CREATE TABLE markers (id bigserial PRIMARY KEY, ts timestamptz NOT NULL DEFAULT clock_timestamp())",
                );
                await t.cliOk(["backup"]);
                if (streaming) await waitStreaming(t, root);
                idle = await measureIdle(t, ctx, archiveTimeout);
            } finally {
                await t.down();
            }
        }
        for (let i = 1; i <= (o.rpoIdleOnly ? 0 : n); i++) {
            // One state dir per option: options may run in parallel processes (--rpo-options).
            const t = await startBenchTier(`rpo-${opt.option.replace(/\W+/g, "-").replace(/-+$/, "")}`, { log: ctx.log, env: opt.env });
            try {
                const r = await trial(t, i, ctx, o.quick, streaming, i === 1 && !o.quick);
                archiveTimeout = r.archiveTimeout;
                if (r.idle) idle = r.idle;
                trials.push(r.trial);
                ctx.log(
                    `${opt.option} trial ${i}: RPO ${r.trial.rpo_s?.toFixed(2)} s (killed after ${r.trial.kill_after_s.toFixed(1)} s, ${r.trial.markers_lost} of ${r.trial.markers_committed} markers lost)`,
                );
            } finally {
                await t.down();
            }
        }
        const rpos = trials.map((x) => x.rpo_s).filter((x): x is number => x !== null);
        const sorted = [...rpos].sort((a, b) => a - b);
        options.push({
            option: opt.option,
            archive_timeout_s: archiveTimeout,
            streaming,
            warm_up_s: o.quick ? 5 : streaming ? 10 : archiveTimeout,
            kill_window_s: streaming ? STREAM_KILL_WINDOW_S : archiveTimeout,
            trials,
            max_rpo_s: rpos.length === trials.length && rpos.length > 0 ? Math.max(...rpos) : null,
            median_rpo_s: sorted.length
                ? round(
                      sorted.length % 2 ? sorted[(sorted.length - 1) / 2] : (sorted[sorted.length / 2 - 1] + sorted[sorted.length / 2]) / 2,
                      3,
                  )
                : null,
            idle,
        });
    }
    return { interval_ms: INTERVAL_MS, options };
}

/** Bytes and objects stored under the tier's wal_005/ prefix. */
async function walBytes(t: Tier): Promise<{ bytes: number; objects: number }> {
    const objects = await walObjects(t);
    return { bytes: objects.reduce((sum, o) => sum + (o.Size ?? 0), 0), objects: objects.length };
}

/** Uploads of a .partial the receiver logged since line `from` of its log. */
function partialUploads(t: Tier, from: number): { lines: number; count: number } {
    const f = receiverFiles(t.l).log;
    const lines = existsSync(f) ? readFileSync(f, "utf8").split("\n") : [];
    return { lines: lines.length, count: lines.slice(from).filter((l) => /FILE PATH: \S+\.partial\./.test(l)).length };
}

async function measureIdle(t: Tier, ctx: PartContext, archiveTimeout: number): Promise<IdleBytes> {
    const app = await t.app();
    // The backup's own WAL makes archive_timeout switch once more: wait that out first, so
    // the window starts on a server that has nothing left to ship.
    await sleep((archiveTimeout + 10) * 1000);
    const a = await walBytes(t);
    const p0 = partialUploads(t, 0).lines;
    await sleep(IDLE_S * 1000);
    const b = await walBytes(t);
    const p1 = partialUploads(t, p0);
    const c = await Client.connect({ ...app, applicationName: "rpo-trickle" });
    const t0 = Date.now();
    try {
        while (Date.now() - t0 < IDLE_S * 1000) {
            await c.query("INSERT INTO markers DEFAULT VALUES");
            await sleep(10_000);
        }
    } finally {
        await c.close().catch(() => undefined);
    }
    const d = await walBytes(t);
    const p2 = partialUploads(t, p1.lines);
    const scale = 3600 / IDLE_S;
    const idle: IdleBytes = {
        seconds: IDLE_S,
        idle_bytes_per_hour: Math.round((b.bytes - a.bytes) * scale),
        trickle_bytes_per_hour: Math.round((d.bytes - b.bytes) * scale),
        idle_objects: b.objects - a.objects,
        trickle_objects: d.objects - b.objects,
        idle_partial_uploads_per_hour: Math.round(p1.count * scale),
        trickle_partial_uploads_per_hour: Math.round(p2.count * scale),
    };
    ctx.log(
        `idle ${IDLE_S} s: +${b.bytes - a.bytes} bytes (${idle.idle_objects} objects, ${p1.count} partial uploads); one insert per 10 s: +${d.bytes - b.bytes} bytes (${idle.trickle_objects} objects, ${p2.count} partial uploads)`,
    );
    return idle;
}

interface Marker {
    readonly id: number;
    readonly ts: number;
}

async function trial(
    t: Tier,
    i: number,
    ctx: PartContext,
    quick: boolean,
    streaming: boolean,
    withIdle: boolean,
): Promise<{ trial: RpoTrial; archiveTimeout: number; idle?: IdleBytes }> {
    const root = await t.root();
    const archiveTimeout = Number(await t.value(root, "SELECT setting FROM pg_settings WHERE name = 'archive_timeout'"));
    const app = await t.app();
    await t.sql(app, "CREATE TABLE markers (id bigserial PRIMARY KEY, ts timestamptz NOT NULL DEFAULT clock_timestamp())");
    // Counted, not required: a kill before the first archive_timeout switch recovers no marker at all.
    writeFileSync(t.l.drillChecks, JSON.stringify({ tables: ["public.markers"], minRows: {} }));
    await t.cliOk(["backup"]);
    if (streaming) await waitStreaming(t, root);
    const idle = withIdle ? await measureIdle(t, ctx, archiveTimeout) : undefined;

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
    const warm = quick ? 5 : streaming ? 10 : archiveTimeout;
    const window = streaming ? STREAM_KILL_WINDOW_S : archiveTimeout;
    const killAfter = warm + randomInt(0, window * 1000) / 1000;
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
    ctx.log(
        `trial ${i}: SIGKILLed ${killed.length} Postgres processes after ${killAfter.toFixed(1)} s and deleted the data directory; restoring`,
    );

    const keep = await freePort();
    const d = await t.cli(["drill", "--keep-port", String(keep)], 1_800_000);
    const evidencePath = d.stdout.trim().split("\n").pop() ?? "";
    let evidence: {
        status: string;
        duration_seconds: number | null;
        backup_name: string | null;
        error: string | null;
        recovered_to: string | null;
    };
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
        idle,
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

/** The receiver is connected and its slot active (pg_stat_replication has its walsender). */
async function waitStreaming(t: Tier, root: Awaited<ReturnType<Tier["root"]>>): Promise<void> {
    const deadline = Date.now() + 60_000;
    for (;;) {
        const n = Number(
            await t.value(root, "SELECT count(*) FROM pg_stat_replication WHERE usename = 'wal_receiver' AND state = 'streaming'"),
        );
        if (n > 0) return;
        if (Date.now() > deadline) throw new Error(`the WAL receiver is not streaming after 60 s (see ${t.l.logs}/wal-receiver.log)`);
        await sleep(500);
    }
}

export function rpoSummary(d: RpoData | RpoDataV1): string[] {
    if (!("options" in d))
        return [`archive_timeout ${d.archive_timeout_s} s: max RPO ${d.max_rpo_s?.toFixed(2)} s (median ${d.median_rpo_s?.toFixed(2)} s)`];
    const out: string[] = [];
    for (const o of d.options) {
        out.push(
            `${o.option} (archive_timeout ${o.archive_timeout_s} s), marker every ${d.interval_ms} ms`,
            "trial  kill after  committed  lost   RPO (s)",
            ...o.trials.map(
                (x) =>
                    `${String(x.trial).padStart(5)}  ${x.kill_after_s.toFixed(1).padStart(9)}s  ${String(x.markers_committed).padStart(9)}  ${String(x.markers_lost).padStart(4)}  ${(x.rpo_s ?? NaN).toFixed(2).padStart(8)}`,
            ),
            `max RPO ${o.max_rpo_s?.toFixed(2)} s (median ${o.median_rpo_s?.toFixed(2)} s)` +
                (o.idle
                    ? `; wal_005/ bytes per hour: idle ${(o.idle.idle_bytes_per_hour / 1e6).toFixed(2)} MB, one insert per 10 s ${(o.idle.trickle_bytes_per_hour / 1e6).toFixed(2)} MB`
                    : ""),
        );
    }
    return out;
}

/** Old single-option results as one option of the current shape. */
export function rpoOptions(d: RpoData | RpoDataV1): RpoOptionData[] {
    if ("options" in d) return d.options;
    return [
        {
            option: `archive_timeout ${d.archive_timeout_s} s`,
            archive_timeout_s: d.archive_timeout_s,
            streaming: false,
            warm_up_s: d.warm_up_s ?? d.archive_timeout_s,
            kill_window_s: d.archive_timeout_s,
            trials: d.trials,
            max_rpo_s: d.max_rpo_s,
            median_rpo_s: d.median_rpo_s,
            idle: null,
        },
    ];
}

const n2 = (x: number | null | undefined, d = 2): string => (x === null || x === undefined || Number.isNaN(x) ? "–" : x.toFixed(d));
const mb = (b: number | undefined): string => (b === undefined ? "–" : `${(b / 1e6).toFixed(2)} MB`);

/** Headline rows of docs/benchmarks.md. */
export function rpoHeadlines(d: RpoData | RpoDataV1): string[] {
    return rpoOptions(d).map(
        (o) =>
            `| RPO, ${o.option}, max of ${o.trials.length} kill-and-restore trials | **${n2(o.max_rpo_s)} s** (median ${n2(o.median_rpo_s)} s)` +
            (o.streaming
                ? o.max_rpo_s !== null && o.max_rpo_s <= 5
                    ? ": within the 5 s target"
                    : ": **above the 5 s target**"
                : `: ${o.max_rpo_s !== null && o.max_rpo_s <= o.archive_timeout_s ? "at or below" : "**above**"} \`archive_timeout\``) +
            ` | \`npm run bench -- --only rpo --rpo-options "${o.option.split(" (")[0]}"\` |`,
    );
}

/** The RPO section of docs/benchmarks.md: the options table, then each option's trials. */
export function rpoMarkdown(
    d: RpoData | RpoDataV1,
    meta: string,
    quick: boolean,
    chart: (name: string, svg: string) => string,
    idleFrom?: { data: RpoData; meta: string },
): string[] {
    const opts = rpoOptions(d);
    const idleOf = (o: RpoOptionData): IdleBytes | null =>
        o.idle ?? idleFrom?.data.options.find((x) => x.option === o.option)?.idle ?? null;
    const L: string[] = [meta, ""];
    L.push(
        `A writer (app_user through pgBouncer) commits a marker row every ${"interval_ms" in d ? d.interval_ms : 100} ms, stamped with the server's \`clock_timestamp()\`. ` +
            "After a warm-up, at a moment drawn uniformly from a window (one `archive_timeout`; 60 s with streaming), the whole Postgres process tree is stopped and SIGKILLed at once " +
            "(postmaster, archiver and any running `wal-g wal-push`, so nothing finishes uploading after the crash) and the data directory is deleted. With streaming, the receiver is a separate process (as its container is) and is not killed: it loses its connection. " +
            "Then `npm run local -- drill --keep-port P` (the restore drill's code: newest base backup, WAL replayed to the end of the archive, promotion, checks, evidence) restores it, " +
            "and RPO = stamp of the last marker whose commit was acknowledged − stamp of the newest marker in the restored copy.",
        "",
    );
    L.push(
        "| option | trials | RPO max (s) | RPO median (s) | wal_005/ growth per idle hour | … with one insert every 10 s | uploads per hour (idle / one insert per 10 s) |",
        "| --- | --- | --- | --- | --- | --- | --- |",
    );
    for (const o of opts) {
        const i = idleOf(o);
        const uploads = i
            ? o.streaming
                ? `${i.idle_objects * (3600 / i.seconds)} + ${i.idle_partial_uploads_per_hour ?? "–"} .partial / ${i.trickle_objects * (3600 / i.seconds)} + ${i.trickle_partial_uploads_per_hour ?? "–"} .partial`
                : `${i.idle_objects * (3600 / i.seconds)} / ${i.trickle_objects * (3600 / i.seconds)}`
            : "–";
        L.push(
            `| ${o.option} | ${o.trials.length} | **${n2(o.max_rpo_s)}** | ${n2(o.median_rpo_s)} | ${mb(i?.idle_bytes_per_hour)} | ${mb(i?.trickle_bytes_per_hour)} | ${uploads} |`,
        );
    }
    L.push("");
    const anyIdle = opts.map(idleOf).find((x) => x);
    if (anyIdle) {
        L.push(
            `Bucket bytes per idle hour: measured over ${anyIdle.seconds} s and scaled to an hour (× ${3600 / anyIdle.seconds}), on a fresh tier after a base backup and one \`archive_timeout\` of settling: ` +
                "the growth of what is stored under `wal_005/`, first with no client at all, then with one single-row INSERT every 10 s (a nearly idle application). " +
                "A truly idle PostgreSQL 15 writes no WAL, so `archive_timeout` forces no switch and nothing is shipped; with a trickle of writes every `archive_timeout` ships one 16 MB segment, compressed to a few tens of KB (it is mostly zeros). " +
                "Streaming stores about what `archive_timeout` 60 s stores (the receiver's `.partial` object is overwritten in place and deleted when the segment completes), but uploads the segment it fills once per second in which WAL arrived: that is request and transfer volume, not storage." +
                (idleFrom ? ` (Idle figures from a separate run: ${idleFrom.meta})` : ""),
            "",
        );
    }
    for (const o of opts) {
        L.push(`### ${o.option}`, "");
        L.push(
            "| trial | killed after (s) | markers committed | markers lost | last committed | last recovered | RPO (s) | drill |",
            "| --- | --- | --- | --- | --- | --- | --- | --- |",
        );
        for (const t of o.trials) {
            L.push(
                `| ${t.trial} | ${n2(t.kill_after_s, 1)} | ${t.markers_committed} | ${t.markers_lost} | ${t.last_committed_at.slice(11, 23)} | ${t.last_recovered_at?.slice(11, 23) ?? "–"} | **${n2(t.rpo_s)}** | ${t.drill_status}, ${n2(t.drill_duration_s, 1)} s |`,
            );
        }
        L.push(
            "",
            `**Maximum RPO ${n2(o.max_rpo_s)} s**, median ${n2(o.median_rpo_s)} s (archive_timeout ${o.archive_timeout_s} s${o.streaming ? ", plus the receiver" : ""}).`,
            "",
        );
    }
    L.push(
        "Why: with a trickle of commits a 16 MB segment never fills, so `archive_command` ships it only when `archive_timeout` forces a switch; a crash loses what was written since the last shipped switch, up to `archive_timeout` plus one `wal-push`. " +
            "The streaming receiver (`wal-g wal-receive` over a physical replication slot) has every flushed commit a few milliseconds after it is acknowledged; upstream v3.0.9 still uploads only complete segments, " +
            "so the tier's build adds patch 0002 (third_party/wal-g/patches/): the receiver also uploads the segment it is filling, zero-padded, as `<segment>.partial` once a second when new WAL arrived, and `restore_command` falls back to it for the last segment. " +
            "A crash then loses at most that second plus the upload.",
        "",
    );
    L.push(
        chart(
            "rpo-options.svg",
            barChart({
                title: "RPO per trial and option (kill -9 + data directory deleted)",
                yLabel: "seconds of committed data lost",
                series: opts.map((o) => o.option),
                groups: Array.from({ length: Math.max(...opts.map((o) => o.trials.length)) }, (_, k) => ({
                    label: `trial ${k + 1}`,
                    values: opts.map((o) => o.trials[k]?.rpo_s ?? null),
                })),
                valueLabels: true,
            }),
        ),
        "",
    );
    void quick;
    return L;
}
