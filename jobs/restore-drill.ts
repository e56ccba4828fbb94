/**
 * The restore drill: restore a backup into a throwaway instance, replay WAL, promote, verify
 * the data, and upload evidence.json + restore.log. The newest point (default) restores the
 * newest backup (or the newest that finished before --target-time) to the end of WAL; the
 * oldest point restores the oldest backup on the current timeline's history to the oldest
 * point the retention window promises (render/drill-anchor.ts). It never connects to the
 * primary. Root only prepares the copy; every check runs as the drill role
 * (jobs/drill-checks.ts). Any failed check, a missing backup, a restore slower than the RTO
 * or a drill that verified no data fails it: evidence is still uploaded and the exit code
 * is non-zero.
 *
 *   node restore-drill.js <drill.json> [--point newest|oldest] [--target-time ISO] [--keep-port PORT]
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { type AnchorBackup, chooseAnchor, oldestTarget, type TimelineInfo } from "../render/drill-anchor";
import { DRILL_ROLE } from "../render/drill-sql";
import { type DrillJobConfig, evidenceKeyPrefix } from "../render/job-config";
import {
    checkConfiguredTables,
    countAllRows,
    type CopyContext,
    dataGate,
    prepareCopy,
    runAmcheck,
    schemaVersion,
    timed,
} from "./drill-checks";
import {
    type DrillCheck,
    DRILL_JOB,
    type DrillPoint,
    type Evidence,
    evidenceLocation,
    type Finding,
    uploadEvidence,
    writeEvidence,
} from "./evidence";
import * as pg from "./instance";
import { jsonLine, secretValuesOf, TextLog } from "./log";
import { describeFailure, run } from "./proc";
import { listBackups, walg, type WalgBackupDetail } from "./walg";

export interface DrillOptions {
    /** newest (default) or oldest: see the file comment. */
    readonly point?: DrillPoint;
    readonly targetTime?: Date;
    /** Keep the restored instance running on 127.0.0.1:<keepPort>. */
    readonly keepPort?: number;
    readonly now?: () => Date;
    /** Where the local copies of evidence.json and restore.log go (default: a new temp dir). */
    readonly outDir?: string;
    /** Receives each restore.log line as it is written (default: stderr). */
    readonly echo?: (line: string) => void;
}

export interface DrillResult {
    readonly evidence: Evidence;
    readonly evidencePath: string;
    readonly logPath: string;
    readonly uploaded: boolean;
    /** 0 only when the drill passed and its evidence reached the bucket. */
    readonly exitCode: number;
}

/** The promised window when the config names none: the default backup.retention.walDays. */
export const DEFAULT_WINDOW_SECONDS = 30 * 86_400;

/** Chooses the backup to restore: the newest, or the newest that finished at or before the target. */
export function chooseBackup(backups: readonly WalgBackupDetail[], targetTime?: Date): WalgBackupDetail | undefined {
    const usable = targetTime ? backups.filter((b) => new Date(b.finish_time).getTime() <= targetTime.getTime()) : [...backups];
    return usable.sort((a, b) => Date.parse(a.start_time) - Date.parse(b.start_time)).pop();
}

const msg = (e: unknown): string => (e instanceof Error ? e.message : String(e));

function emptyDir(dir: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
}

/** The timelines WAL-G sees in storage (wal-show --detailed-json). */
async function listTimelines(inv: { walgBinary: string; walgEnvFile: string }): Promise<TimelineInfo[]> {
    const r = await walg(inv, ["wal-show", "--detailed-json"], { timeoutSeconds: 300 });
    if (r.code !== 0) throw new Error(describeFailure("wal-g wal-show", r));
    const text = r.stdout.trim();
    return text === "" ? [] : (JSON.parse(text) as TimelineInfo[]);
}

interface Chosen {
    readonly backup: WalgBackupDetail;
    readonly target: pg.RecoveryTarget;
    readonly why: string;
}

async function choose(
    inv: { walgBinary: string; walgEnvFile: string },
    backups: WalgBackupDetail[],
    point: DrillPoint,
    config: DrillJobConfig,
    opts: DrillOptions,
    now: Date,
): Promise<Chosen> {
    if (point === "newest") {
        const b = chooseBackup(backups, opts.targetTime);
        if (!b) throw new Error(opts.targetTime ? `no backup finished at or before ${opts.targetTime.toISOString()}` : "no backup exists");
        return {
            backup: b,
            target: opts.targetTime ? { time: opts.targetTime } : undefined,
            why: opts.targetTime ? "the newest backup before the target" : "the newest backup",
        };
    }
    if (backups.length === 0) throw new Error("no backup exists");
    const anchor = chooseAnchor(backups as AnchorBackup[], await listTimelines(inv));
    if (!anchor) throw new Error("no backup in storage lies on the current timeline's history");
    const windowSeconds = config.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
    const target = oldestTarget(anchor.backup, now, windowSeconds);
    const b = anchor.backup as WalgBackupDetail;
    const why =
        `the oldest backup on the history of timeline ${anchor.currentTimeline} (its own timeline ${anchor.timeline}` +
        `${anchor.offHistory.length > 0 ? `; off that history: ${anchor.offHistory.join(", ")}` : ""}), replayed to ` +
        ("time" in target
            ? `the start of the ${windowSeconds}s window, ${target.time.toISOString()}`
            : "its own end (it is younger than the window)");
    return { backup: b, target, why };
}
export async function runDrill(config: DrillJobConfig, opts: DrillOptions = {}): Promise<DrillResult> {
    const now = opts.now ?? (() => new Date());
    const point: DrillPoint = opts.point ?? "newest";
    const log = new TextLog(secretValuesOf(config.walgEnvFile), opts.echo);
    const inv = { walgBinary: config.walgBinary, walgEnvFile: config.walgEnvFile };
    const spec: pg.InstanceSpec = {
        ...inv,
        pgBinDir: config.pgBinDir,
        scratchDir: config.scratchDir,
        runAsUser: config.runAsUser,
        keepPort: opts.keepPort,
    };
    const superuser = config.superuser ?? "postgres";
    const started = now();
    const checks: DrillCheck[] = [];
    const findings: Finding[] = [];
    const failures: string[] = [];
    const ev: Evidence = {
        status: "failed",
        point,
        environment: config.environment,
        cluster: config.cluster,
        database: config.database,
        backup_name: null,
        backup_start_time: null,
        backup_finish_time: null,
        target_time: opts.targetTime ? opts.targetTime.toISOString() : null,
        recovered_to: null,
        restore_started_at: started.toISOString(),
        restore_finished_at: null,
        duration_seconds: null,
        rto_seconds: config.rtoSeconds,
        schema_version: null,
        row_counts: {},
        checks,
        drill_role: DRILL_ROLE,
        drill_duration_seconds: null,
        findings,
        error: null,
        evidence_location: evidenceLocation(config.evidenceBucket, started, config.environment, config.cluster, point),
    };
    const deadline = started.getTime() + config.rtoSeconds * 1000;
    log.add(
        `restore drill: point=${point} environment=${config.environment} cluster=${config.cluster} database=${config.database} target_time=${ev.target_time ?? "none (latest)"} rto=${config.rtoSeconds}s`,
    );

    try {
        if (pg.runningPid(spec) !== undefined) {
            log.add("stopping the instance a previous drill kept running");
            await pg.stop(spec);
        }
        emptyDir(config.scratchDir);
        const backups = await listBackups(inv, 300);
        log.add(`backups in storage: ${backups.map((b) => b.backup_name).join(", ") || "none"}`);
        const chosen = await choose(inv, backups, point, config, opts, started);
        if (chosen.target && "time" in chosen.target) ev.target_time = chosen.target.time.toISOString();
        ev.backup_name = chosen.backup.backup_name;
        ev.backup_start_time = new Date(chosen.backup.start_time).toISOString();
        ev.backup_finish_time = new Date(chosen.backup.finish_time).toISOString();
        log.add(
            `restoring ${chosen.backup.backup_name} (started ${ev.backup_start_time}, finished ${ev.backup_finish_time}): ${chosen.why}`,
        );

        const data = pg.dataDir(spec);
        const remaining = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
        const fetch = await walg(inv, ["backup-fetch", data, chosen.backup.backup_name], {
            timeoutSeconds: remaining,
            onLine: (l) => log.add(`[wal-g] ${l}`),
        });
        // `timeout` exits 124 (137 when it had to SIGKILL) once the RTO budget ran out during the fetch: say so, not just "failed".
        if (fetch.code !== 0 && Date.now() >= deadline - 1000) {
            throw new Error(`restore did not finish within the RTO of ${config.rtoSeconds}s (wal-g backup-fetch timed out)`);
        }
        if (fetch.code !== 0) throw new Error(describeFailure("wal-g backup-fetch", fetch));

        // Settings made on the primary with ALTER SYSTEM would override ours (archive_command!).
        const auto = join(data, "postgresql.auto.conf");
        if (existsSync(auto)) renameSync(auto, `${auto}.from-backup`);
        for (const [path, text] of Object.entries(pg.configFiles(spec, chosen.target))) writeFileSync(path, text, { mode: 0o600 });
        if (spec.runAsUser && process.getuid?.() === 0) {
            const r = await run("chown", ["-R", `${spec.runAsUser}:`, config.scratchDir]);
            if (r.code !== 0) throw new Error(describeFailure("chown", r));
        }
        await run("chmod", ["0700", data, config.scratchDir]);

        log.add(
            `starting the throwaway instance (socket in ${config.scratchDir}${spec.keepPort ? `; 127.0.0.1:${spec.keepPort} refuses logins until the checks are done` : ""}); replaying WAL`,
        );
        await pg.start(spec);
        await pg.waitPromoted(spec, superuser, config.database, deadline);
        const finished = now();
        ev.restore_finished_at = finished.toISOString();
        ev.duration_seconds = Math.round((finished.getTime() - started.getTime()) / 10) / 100;
        log.add(`recovery finished and promoted after ${ev.duration_seconds}s`);
        checks.push({
            name: "rto",
            status: ev.duration_seconds <= config.rtoSeconds ? "passed" : "failed",
            role: DRILL_JOB,
            duration_seconds: 0,
            detail: `restored in ${ev.duration_seconds}s of ${config.rtoSeconds}s`,
        });

        const cc: CopyContext = { spec, superuser, mainDatabase: config.database, log, checks, findings, deadline };
        const databases = await prepareCopy(cc, config.amcheck ?? "heapallindexed");
        await recoveredTo(cc, ev, chosen.target, log);
        if (point === "oldest") await windowCheck(cc, ev, config, started);
        await countAllRows(cc, databases, ev.row_counts);
        log.add(`row counts: ${JSON.stringify(ev.row_counts)}`);
        checkConfiguredTables(cc, config.tables, config.minRows, ev.row_counts);
        await schemaVersion(cc, config.schemaQuery, ev);
        log.add(`schema version: ${JSON.stringify(ev.schema_version)}`);
        await runAmcheck(cc, config.amcheck ?? "heapallindexed");
        for (const f of findings) log.add(`finding: ${f.kind} ${f.database}.${f.object}: ${f.detail}`);
    } catch (e) {
        failures.push(msg(e));
        log.add(`ERROR: ${msg(e)}`);
    }
    if (failures.length === 0) dataGate(checks);
    if (ev.restore_finished_at !== null) {
        ev.drill_duration_seconds = Math.round((now().getTime() - started.getTime()) / 10) / 100;
        log.add(`restore and checks took ${ev.drill_duration_seconds}s of the ${config.rtoSeconds}s RTO budget`);
    }
    for (const c of checks) log.add(`check ${c.name}: ${c.status} as ${c.role} in ${c.duration_seconds}s: ${c.detail}`);

    if (existsSync(pg.serverLog(spec))) log.addBlock("[postgres]", readFileSync(pg.serverLog(spec), "utf8"));
    if (opts.keepPort && pg.runningPid(spec) !== undefined) {
        // Only now, with every check done (or failed), may the primary's roles log in.
        await pg.openKeptPort(spec).catch((e) => {
            failures.push(`opening the kept port: ${msg(e)}`);
            log.add(`ERROR: opening the kept port: ${msg(e)}`);
        });
        log.add(
            `the restored instance stays up on 127.0.0.1:${opts.keepPort} (data: ${pg.dataDir(spec)}); SCRAM logins with the primary's roles`,
        );
    } else {
        try {
            await pg.stop(spec);
            emptyDir(config.scratchDir);
            log.add("throwaway instance stopped and scratch space emptied");
        } catch (e) {
            failures.push(`cleanup: ${msg(e)}`);
            log.add(`ERROR: cleanup: ${msg(e)}`);
        }
    }

    const failedChecks = checks.filter((c) => c.status === "failed").map((c) => `${c.name}: ${c.detail}`);
    ev.error = [...failures, ...failedChecks].join("; ") || null;
    ev.status = ev.error === null ? "passed" : "failed";
    log.add(`drill ${ev.status}${ev.error ? `: ${ev.error}` : ""}; uploading evidence to ${ev.evidence_location}`);

    const outDir = opts.outDir ?? mkdtempSync(join(tmpdir(), "db-tier-drill-"));
    mkdirSync(outDir, { recursive: true });
    let paths = writeEvidence(outDir, ev, log.text());
    let uploaded = false;
    try {
        await uploadEvidence(inv, config.evidenceBucket, evidenceKeyPrefix(started, config.environment, config.cluster, point), outDir);
        uploaded = true;
    } catch (e) {
        log.add(`ERROR: evidence upload failed: ${msg(e)}`);
        paths = writeEvidence(outDir, ev, log.text());
    }
    return {
        evidence: ev,
        evidencePath: paths.evidence,
        logPath: paths.log,
        uploaded,
        exitCode: ev.status === "passed" && uploaded ? 0 : 1,
    };
}

/** Where recovery stopped (as the drill role), and the target-time check when there was a target. */
async function recoveredTo(cc: CopyContext, ev: Evidence, target: pg.RecoveryTarget, log: TextLog): Promise<void> {
    const epoch = await pg
        .queryValue(
            cc.spec,
            DRILL_ROLE,
            cc.mainDatabase,
            "SELECT pg_catalog.date_part('epoch', pg_catalog.pg_last_xact_replay_timestamp())",
            { readOnly: true },
        )
        .catch(() => "");
    const fromLog = /last completed transaction was at log time (.+)$/m.exec(safeRead(pg.serverLog(cc.spec)))?.[1];
    const fromLogIso = fromLog
        ? new Date(
              fromLog
                  .trim()
                  .replace(" ", "T")
                  .replace(/([+-]\d\d)$/, "$1:00"),
          )
        : undefined;
    // No transaction replayed after the backup: the data is the backup's consistent state.
    ev.recovered_to =
        epoch.trim() !== ""
            ? new Date(Number(epoch) * 1000).toISOString()
            : fromLogIso && !Number.isNaN(fromLogIso.getTime())
              ? fromLogIso.toISOString()
              : ev.backup_finish_time;
    log.add(
        `recovered to ${ev.recovered_to ?? "unknown"}${epoch.trim() === "" && !fromLog ? " (no transaction after the backup; its finish time)" : ""}`,
    );
    if (target && "time" in target) {
        const ok = ev.recovered_to !== null && Date.parse(ev.recovered_to) <= target.time.getTime();
        cc.checks.push({
            name: "target-time",
            status: ok ? "passed" : "failed",
            role: DRILL_ROLE,
            duration_seconds: 0,
            detail: `recovered to ${ev.recovered_to ?? "unknown"}, target ${target.time.toISOString()}`,
        });
    }
}

/**
 * The oldest-point drill's promise: a restorable point at least the window back. A cluster
 * younger than its window (initdb time from pg_control) cannot hold that yet: skipped, saying so.
 */
async function windowCheck(cc: CopyContext, ev: Evidence, config: DrillJobConfig, now: Date): Promise<void> {
    const windowSeconds = config.windowSeconds ?? DEFAULT_WINDOW_SECONDS;
    await timed(cc.checks, "window", DRILL_JOB, async () => {
        const oldest = Date.parse(ev.backup_finish_time ?? "");
        const back = Math.round((now.getTime() - oldest) / 1000);
        const windowStart = now.getTime() - windowSeconds * 1000;
        if (oldest <= windowStart)
            return {
                status: "passed",
                detail: `the oldest backup on the current history ends ${back}s back; restored to the window's start (${windowSeconds}s back)`,
            };
        const born = await pg.initdbTime(cc.spec);
        if (born && born.getTime() > windowStart) {
            return {
                status: "skipped",
                detail: `the cluster was initialized ${Math.round((now.getTime() - born.getTime()) / 1000)}s ago, less than the ${windowSeconds}s window; its oldest restorable point is ${back}s back`,
            };
        }
        return { status: "failed", detail: `the oldest restorable point is ${back}s back, the window promises ${windowSeconds}s` };
    });
}

function safeRead(path: string): string {
    try {
        return readFileSync(path, "utf8");
    } catch {
        return "";
    }
}

export interface DrillArgs {
    point?: DrillPoint;
    targetTime?: Date;
    keepPort?: number;
}

export function parseDrillArgs(argv: readonly string[]): DrillArgs {
    const out: DrillArgs = {};
    for (let i = 0; i < argv.length; i++) {
        const a = argv[i];
        const value = argv[i + 1];
        if (a === "--target-time" && value !== undefined) {
            const d = new Date(value);
            if (Number.isNaN(d.getTime())) throw new Error(`--target-time: "${value}" is not an ISO 8601 time`);
            out.targetTime = d;
            i++;
        } else if (a === "--keep-port" && value !== undefined) {
            const p = Number(value);
            if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`--keep-port: "${value}" is not a port`);
            out.keepPort = p;
            i++;
        } else if (a === "--point" && value !== undefined) {
            if (value !== "newest" && value !== "oldest") throw new Error(`--point: "${value}" is not newest or oldest`);
            out.point = value;
            i++;
        } else {
            throw new Error(`unknown argument "${a}" (use --point newest|oldest, --target-time ISO8601, --keep-port PORT)`);
        }
    }
    if (out.point === "oldest" && out.targetTime) throw new Error("--point oldest chooses its own target: it takes no --target-time");
    return out;
}

if (require.main === module) {
    const [file, ...rest] = process.argv.slice(2);
    if (!file) {
        process.stderr.write("usage: restore-drill <drill.json> [--point newest|oldest] [--target-time ISO8601] [--keep-port PORT]\n");
        process.exit(2);
    }
    (async () => {
        const config = JSON.parse(readFileSync(file, "utf8")) as DrillJobConfig;
        const r = await runDrill(config, parseDrillArgs(rest));
        process.stdout.write(
            `${jsonLine({ event: "db-tier.restore-drill", point: r.evidence.point, status: r.evidence.status, backup_name: r.evidence.backup_name, duration_seconds: r.evidence.duration_seconds, evidence: r.evidence.evidence_location, uploaded: r.uploaded, error: r.evidence.error })}\n`,
        );
        process.exit(r.exitCode);
    })().catch((e) => {
        process.stderr.write(`restore-drill: ${e instanceof Error ? e.stack : String(e)}\n`);
        process.exit(1);
    });
}
