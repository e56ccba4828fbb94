/**
 * The backup job: one base backup, then retention exactly as planRetention() says, then
 * wal-verify. Prints ONE JSON line per run to stdout (WAL-G's own output goes to stderr)
 * and exits non-zero when anything failed. Retention runs only after a successful push,
 * and deletes only when the clocks agree (render/clock-sanity.ts): the job's, storage's
 * Last-Modified of the backup just pushed, and the times of what storage already holds. A
 * refusal fails the job with the reason; the new backup still counts. A gap since the newest
 * earlier backup that the schedule cannot explain (a clock that jumped together with storage's)
 * puts retention on hold in the bucket until an operator lifts it (render/retention-hold.ts).
 *
 * What the planner is told: every backup (backup-list --detail --json) with storage's date
 * of its sentinel, the WAL segments in wal_005/, the current timeline (the new backup's)
 * and that timeline's history file.
 *
 *   node backup-job.js <backup.json>      (tsx jobs/backup-job.ts <backup.json> locally)
 */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { longestGapDays, parseCron } from "../config/cron";
import { checkClocks, correctBackupTimes, refusalMessage } from "../render/clock-sanity";
import type { BackupJobConfig } from "../render/job-config";
import { decideHold, RETENTION_HOLD_OBJECT, renderHold } from "../render/retention-hold";
import { planRetention } from "../render/retention-plan";
import { parseTimelineHistory, parseWalFileName, type WalSegment } from "../render/timeline-history";
import { jsonLine } from "./log";
import { describeFailure } from "./proc";
import {
    backupTimeline,
    fetchHistoryFile,
    listBackups,
    listStorage,
    parseWalVerify,
    pushedBackupName,
    segmentFileName,
    toBackupInfo,
    walg,
    type WalVerifyResult,
} from "./walg";

export interface BackupOptions {
    readonly now?: () => Date;
    /** Receives the one JSON line; default: stdout. */
    readonly emit?: (line: string) => void;
    /** Receives WAL-G's output lines; default: stderr. */
    readonly progress?: (line: string) => void;
}

export interface BackupRecord {
    event: "db-tier.backup";
    environment: string;
    cluster: string;
    started_at: string;
    finished_at: string;
    backup_name: string | null;
    size_bytes: number | null;
    status: "succeeded" | "failed";
    retention: { kept: string[]; deleted: string[]; delete_before: string | null };
    /** Why retention kept what it kept: the window's anchor and the clocks. */
    window: {
        /** The backup holding the point-in-time window open, and whether it reaches walDays back. */
        anchor: string | null;
        promise_met: boolean | null;
        /** The current timeline (the new backup's). */
        timeline: number | null;
        /** Findings that did not stop the deletes (a backup re-dated by storage, a missing history file). */
        notes: string[];
    };
    wal_verify: WalVerifyResult | null;
    error?: string;
}

const LIST_TIMEOUT_S = 300;
const DELETE_TIMEOUT_S = 600;

function pgEnv(c: BackupJobConfig): Record<string, string> {
    const p = c.postgres;
    return { PGHOST: p.host, PGPORT: String(p.port), PGUSER: p.user, PGPASSFILE: p.passfile, PGDATABASE: p.database };
}

export async function runBackup(config: BackupJobConfig, opts: BackupOptions = {}): Promise<BackupRecord> {
    const now = opts.now ?? (() => new Date());
    const progress = opts.progress ?? ((l: string) => process.stderr.write(`${l}\n`));
    const inv = { walgBinary: config.walgBinary, walgEnvFile: config.walgEnvFile };
    const env = pgEnv(config);
    const errors: string[] = [];
    const record: BackupRecord = {
        event: "db-tier.backup",
        environment: config.environment,
        cluster: config.cluster,
        started_at: now().toISOString(),
        finished_at: "",
        backup_name: null,
        size_bytes: null,
        status: "failed",
        retention: { kept: [], deleted: [], delete_before: null },
        window: { anchor: null, promise_met: null, timeline: null, notes: [] },
        wal_verify: null,
    };

    try {
        const push = await walg(inv, ["backup-push", config.pgData], { timeoutSeconds: config.pushTimeoutSeconds, env, onLine: progress });
        const pushEnd = now();
        if (push.code !== 0) throw new Error(describeFailure("wal-g backup-push", push));
        const before = await listBackups(inv, LIST_TIMEOUT_S);
        const name = pushedBackupName(`${push.stderr}\n${push.stdout}`) ?? before[before.length - 1]?.backup_name;
        const pushed = before.find((b) => b.backup_name === name);
        if (!pushed) throw new Error(`backup-push reported ${name ?? "no name"}, but backup-list does not show it`);
        record.backup_name = pushed.backup_name;
        record.size_bytes = pushed.compressed_size;

        // What storage holds, dated by storage's clock.
        const [sentinels, walObjects] = await Promise.all([
            listStorage(inv, "basebackups_005/", LIST_TIMEOUT_S),
            listStorage(inv, "wal_005/", LIST_TIMEOUT_S),
        ]);
        const storedAt = new Map(
            sentinels
                .filter((o) => o.name.endsWith("_backup_stop_sentinel.json"))
                .map((o) => [o.name.replace(/_backup_stop_sentinel\.json$/, ""), o.modified]),
        );
        const wal: WalSegment[] = [];
        for (const o of walObjects) {
            const seg = segmentFileName(o.name);
            const parsed = seg ? parseWalFileName(seg) : null;
            if (parsed) wal.push(parsed);
        }
        const newestWal = walObjects.reduce<Date | null>((m, o) => (m === null || o.modified > m ? o.modified : m), null);
        const currentTimeline = backupTimeline(pushed);
        record.window.timeline = currentTimeline;
        let history: ReturnType<typeof parseTimelineHistory> | undefined;
        if (currentTimeline > 1) {
            const scratch = mkdtempSync(join(tmpdir(), "db-tier-history-"));
            try {
                const text = await fetchHistoryFile(inv, currentTimeline, join(scratch, "history"), LIST_TIMEOUT_S);
                if (text === null)
                    record.window.notes.push(`no history file for timeline ${currentTimeline}: only its own backups count as its history`);
                else history = parseTimelineHistory(text);
            } finally {
                rmSync(scratch, { recursive: true, force: true });
            }
        }
        const infos = before.map((d) => ({ ...toBackupInfo(d), storedAt: storedAt.get(d.backup_name) }));
        const earlier = infos.filter((b) => b.name !== pushed.backup_name);
        const verdict = checkClocks({
            jobAtPushEnd: pushEnd,
            jobNow: now(),
            storageAtPush: storedAt.get(pushed.backup_name) ?? null,
            earlierBackupsStoredAt: earlier.flatMap((b) => (b.storedAt ? [b.storedAt] : [])),
            earlierBackupsFinished: earlier.map((b) => ({ name: b.name, finishTime: b.finishTime, storedAt: b.storedAt })),
            newestWalStoredAt: newestWal,
        });
        record.window.notes.push(...verdict.notes);
        if (!verdict.ok) {
            record.retention.kept = before.map((b) => b.backup_name).sort();
            throw new Error(refusalMessage(verdict.problems));
        }
        // A gap the schedule cannot explain holds retention until an operator lifts it (render/retention-hold.ts).
        const root = await listStorage(inv, "", LIST_TIMEOUT_S);
        const storedBackup = (b: (typeof infos)[number]) => ({ name: b.name, at: b.storedAt ?? b.finishTime });
        const newestEarlier = earlier.map(storedBackup).sort((a, b) => b.at.getTime() - a.at.getTime())[0] ?? null;
        const pushedStored = { name: pushed.backup_name, at: storedAt.get(pushed.backup_name) ?? new Date(pushed.finish_time) };
        const hold = decideHold({
            holdPresent: root.some((o) => o.name === RETENTION_HOLD_OBJECT),
            newestEarlier,
            pushed: pushedStored,
            longestScheduleGapMs: longestGapDays(parseCron(config.schedule)) * 86_400_000,
        });
        if (hold.hold) {
            record.retention.kept = before.map((b) => b.backup_name).sort();
            if (hold.write) await writeHold(inv, renderHold(hold, pushedStored, newestEarlier));
            throw new Error(`retention deleted nothing: ${hold.reason}`);
        }
        const plan = planRetention(correctBackupTimes(infos).backups, verdict.now, config.retention, { currentTimeline, history, wal });
        record.window.anchor = plan.anchor;
        record.window.promise_met = plan.promiseMet;
        const kept = plan.keep.map((k) => k.name);
        if (!kept.includes(pushed.backup_name)) throw new Error(`retention plan would delete the new backup ${pushed.backup_name}`);
        record.retention.delete_before = plan.deleteBefore;
        const deleted: string[] = [];
        if (plan.deleteBefore) {
            const r = await walg(inv, ["delete", "before", "FIND_FULL", plan.deleteBefore, "--confirm"], {
                timeoutSeconds: DELETE_TIMEOUT_S,
                onLine: progress,
            });
            if (r.code !== 0) throw new Error(describeFailure(`wal-g delete before ${plan.deleteBefore}`, r));
            deleted.push(...plan.deletedByBefore);
        }
        for (const target of plan.deleteTargets) {
            const r = await walg(inv, ["delete", "target", target, "--confirm"], { timeoutSeconds: DELETE_TIMEOUT_S, onLine: progress });
            if (r.code !== 0) throw new Error(describeFailure(`wal-g delete target ${target}`, r));
            deleted.push(target);
        }
        // Check the storage now holds exactly the kept set: a delete that silently did
        // nothing (wal-g PR 2549) or removed too much fails the job here.
        const after = (await listBackups(inv, LIST_TIMEOUT_S)).map((b) => b.backup_name).sort();
        record.retention.kept = after;
        record.retention.deleted = deleted;
        if (JSON.stringify(after) !== JSON.stringify([...kept].sort())) {
            throw new Error(`after retention storage holds [${after.join(", ")}], the plan keeps [${[...kept].sort().join(", ")}]`);
        }
    } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
    }

    try {
        const v = await walg(inv, ["wal-verify", "integrity", "timeline", "--json"], { timeoutSeconds: LIST_TIMEOUT_S, env });
        if (v.code !== 0) throw new Error(describeFailure("wal-g wal-verify", v));
        record.wal_verify = parseWalVerify(v.stdout);
        for (const check of ["integrity", "timeline"] as const) {
            if (record.wal_verify[check]?.status === "FAILURE") errors.push(`wal-verify ${check}: FAILURE`);
        }
    } catch (e) {
        errors.push(e instanceof Error ? e.message : String(e));
    }

    record.finished_at = now().toISOString();
    record.status = errors.length === 0 ? "succeeded" : "failed";
    if (errors.length > 0) record.error = errors.join("; ");
    (opts.emit ?? ((l: string) => process.stdout.write(`${l}\n`)))(jsonLine({ ...record }));
    return record;
}

export function readJobConfig<T>(path: string): T {
    return JSON.parse(readFileSync(path, "utf8")) as T;
}

if (require.main === module) {
    const file = process.argv[2];
    if (!file) {
        process.stderr.write("usage: backup-job <backup.json>\n");
        process.exit(2);
    }
    runBackup(readJobConfig<BackupJobConfig>(file)).then(
        (r) => process.exit(r.status === "succeeded" ? 0 : 1),
        (e) => {
            process.stderr.write(`backup-job: ${e instanceof Error ? e.stack : String(e)}\n`);
            process.exit(1);
        },
    );
}

/** Puts the hold object into the cluster's prefix (unencrypted and uncompressed: an operator reads it). */
async function writeHold(inv: { walgBinary: string; walgEnvFile: string }, text: string): Promise<void> {
    const scratch = mkdtempSync(join(tmpdir(), "db-tier-hold-"));
    try {
        const file = join(scratch, RETENTION_HOLD_OBJECT);
        writeFileSync(file, text, { mode: 0o600 });
        const r = await walg(inv, ["st", "put", "--no-compress", "--no-encrypt", "-f", file, RETENTION_HOLD_OBJECT], {
            timeoutSeconds: 120,
        });
        if (r.code !== 0) throw new Error(describeFailure(`wal-g st put ${RETENTION_HOLD_OBJECT}`, r));
    } finally {
        rmSync(scratch, { recursive: true, force: true });
    }
}
