/**
 * The restore drill: restore the newest backup (or the newest one that finished before
 * --target-time) into a throwaway instance, replay WAL, promote, run the checks, and upload
 * evidence.json + restore.log. It never connects to the primary. Any failed check, a
 * missing backup or a restore slower than the RTO makes the drill fail: evidence is still
 * uploaded and the exit code is non-zero.
 *
 *   node restore-drill.js <drill.json> [--target-time ISO] [--keep-port PORT]
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { DEFAULT_SCHEMA_QUERY, type DrillJobConfig, evidenceKeyPrefix } from "../render/job-config";
import { sqlIdent } from "../render/quote";
import { type DrillCheck, type Evidence, evidenceLocation, uploadEvidence, writeEvidence } from "./evidence";
import * as pg from "./instance";
import { jsonLine, secretValuesOf, TextLog } from "./log";
import { describeFailure, run } from "./proc";
import { listBackups, walg, type WalgBackupDetail } from "./walg";

export interface DrillOptions {
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

/** Chooses the backup to restore: the newest, or the newest that finished at or before the target. */
export function chooseBackup(backups: readonly WalgBackupDetail[], targetTime?: Date): WalgBackupDetail | undefined {
    const usable = targetTime ? backups.filter((b) => new Date(b.finish_time).getTime() <= targetTime.getTime()) : [...backups];
    return usable.sort((a, b) => Date.parse(a.start_time) - Date.parse(b.start_time)).pop();
}

const msg = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const stripSemicolons = (q: string): string => q.trim().replace(/;+\s*$/, "");

/** "2027-01-01 10:00:00.123456+00" (Postgres' text form) to ISO 8601. */
function isoFromPg(text: string): string | null {
    const t = text.trim();
    if (t === "") return null;
    const d = new Date(t.replace(" ", "T").replace(/([+-]\d\d)$/, "$1:00"));
    return Number.isNaN(d.getTime()) ? t : d.toISOString();
}

function emptyDir(dir: string): void {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    for (const entry of readdirSync(dir)) rmSync(join(dir, entry), { recursive: true, force: true });
}

export async function runDrill(config: DrillJobConfig, opts: DrillOptions = {}): Promise<DrillResult> {
    const now = opts.now ?? (() => new Date());
    const log = new TextLog(secretValuesOf(config.walgEnvFile), opts.echo);
    const inv = { walgBinary: config.walgBinary, walgEnvFile: config.walgEnvFile };
    const spec: pg.InstanceSpec = { ...inv, pgBinDir: config.pgBinDir, scratchDir: config.scratchDir, runAsUser: config.runAsUser, keepPort: opts.keepPort };
    const superuser = config.superuser ?? "postgres";
    const started = now();
    const checks: DrillCheck[] = [];
    const failures: string[] = [];
    const ev: Evidence = {
        status: "failed",
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
        error: null,
        evidence_location: evidenceLocation(config.evidenceBucket, started, config.environment, config.cluster),
    };
    const deadline = started.getTime() + config.rtoSeconds * 1000;
    log.add(`restore drill: environment=${config.environment} cluster=${config.cluster} database=${config.database} target_time=${ev.target_time ?? "none (latest)"} rto=${config.rtoSeconds}s`);

    try {
        if (pg.runningPid(spec) !== undefined) {
            log.add("stopping the instance a previous drill kept running");
            await pg.stop(spec);
        }
        emptyDir(config.scratchDir);
        const backups = await listBackups(inv, 300);
        log.add(`backups in storage: ${backups.map((b) => b.backup_name).join(", ") || "none"}`);
        const chosen = chooseBackup(backups, opts.targetTime);
        if (!chosen) throw new Error(opts.targetTime ? `no backup finished at or before ${ev.target_time}` : "no backup exists");
        ev.backup_name = chosen.backup_name;
        ev.backup_start_time = new Date(chosen.start_time).toISOString();
        ev.backup_finish_time = new Date(chosen.finish_time).toISOString();
        log.add(`restoring ${chosen.backup_name} (started ${ev.backup_start_time}, finished ${ev.backup_finish_time})`);

        const data = pg.dataDir(spec);
        const remaining = Math.max(1, Math.ceil((deadline - Date.now()) / 1000));
        const fetch = await walg(inv, ["backup-fetch", data, chosen.backup_name], { timeoutSeconds: remaining, onLine: (l) => log.add(`[wal-g] ${l}`) });
        // `timeout` exits 124 when the RTO budget ran out during the fetch: say so, not just "failed".
        if (fetch.code === 124 && Date.now() >= deadline - 1000) {
            throw new Error(`restore did not finish within the RTO of ${config.rtoSeconds}s (wal-g backup-fetch timed out)`);
        }
        if (fetch.code !== 0) throw new Error(describeFailure("wal-g backup-fetch", fetch));

        // Settings made on the primary with ALTER SYSTEM would override ours (archive_command!).
        const auto = join(data, "postgresql.auto.conf");
        if (existsSync(auto)) renameSync(auto, `${auto}.from-backup`);
        for (const [path, text] of Object.entries(pg.configFiles(spec, opts.targetTime))) writeFileSync(path, text, { mode: 0o600 });
        if (spec.runAsUser && process.getuid?.() === 0) {
            const r = await run("chown", ["-R", `${spec.runAsUser}:`, config.scratchDir]);
            if (r.code !== 0) throw new Error(describeFailure("chown", r));
        }
        await run("chmod", ["0700", data, config.scratchDir]);

        log.add(`starting the throwaway instance (${spec.keepPort ? `127.0.0.1:${spec.keepPort} and ` : ""}socket in ${config.scratchDir}); replaying WAL`);
        await pg.start(spec);
        await pg.waitPromoted(spec, superuser, config.database, deadline);
        const finished = now();
        ev.restore_finished_at = finished.toISOString();
        ev.duration_seconds = Math.round((finished.getTime() - started.getTime()) / 10) / 100;
        log.add(`recovery finished and promoted after ${ev.duration_seconds}s`);
        checks.push({
            name: "rto",
            status: ev.duration_seconds <= config.rtoSeconds ? "passed" : "failed",
            detail: `${ev.duration_seconds}s of ${config.rtoSeconds}s`,
        });

        await runChecks(config, spec, superuser, ev, opts.targetTime, log);
    } catch (e) {
        failures.push(msg(e));
        log.add(`ERROR: ${msg(e)}`);
    }

    if (existsSync(pg.serverLog(spec))) log.addBlock("[postgres]", readFileSync(pg.serverLog(spec), "utf8"));
    if (opts.keepPort && pg.runningPid(spec) !== undefined) {
        log.add(`the restored instance stays up on 127.0.0.1:${opts.keepPort} (data: ${pg.dataDir(spec)}); SCRAM logins with the primary's roles`);
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
        await uploadEvidence(inv, config.evidenceBucket, evidenceKeyPrefix(started, config.environment, config.cluster), outDir);
        uploaded = true;
    } catch (e) {
        log.add(`ERROR: evidence upload failed: ${msg(e)}`);
        paths = writeEvidence(outDir, ev, log.text());
    }
    return { evidence: ev, evidencePath: paths.evidence, logPath: paths.log, uploaded, exitCode: ev.status === "passed" && uploaded ? 0 : 1 };
}

async function runChecks(config: DrillJobConfig, spec: pg.InstanceSpec, su: string, ev: Evidence, targetTime: Date | undefined, log: TextLog): Promise<void> {
    const q = (sql: string): Promise<string> => pg.queryValue(spec, su, config.database, sql);
    const replayed = await q(`SELECT pg_last_xact_replay_timestamp()`).catch(() => "");
    const fromLog = /last completed transaction was at log time (.+)$/m.exec(safeRead(pg.serverLog(spec)))?.[1];
    // No transaction replayed after the backup: the data is the backup's consistent state.
    ev.recovered_to = isoFromPg(replayed) ?? (fromLog ? isoFromPg(fromLog) : null) ?? ev.backup_finish_time;
    log.add(`recovered to ${ev.recovered_to ?? "unknown"}${replayed.trim() === "" && !fromLog ? " (no transaction after the backup; its finish time)" : ""}`);
    if (targetTime) {
        const ok = ev.recovered_to !== null && Date.parse(ev.recovered_to) <= targetTime.getTime();
        ev.checks.push({ name: "target-time", status: ok ? "passed" : "failed", detail: `recovered to ${ev.recovered_to ?? "unknown"}, target ${targetTime.toISOString()}` });
    }

    let query = config.schemaQuery;
    if (!query) {
        const hasDrizzle = await q(`SELECT to_regclass('drizzle.__drizzle_migrations') IS NOT NULL`).catch(() => "f");
        if (hasDrizzle === "t") query = DEFAULT_SCHEMA_QUERY;
    }
    if (!query) {
        ev.checks.push({ name: "schema", status: "skipped", detail: "no schemaQuery configured and no drizzle.__drizzle_migrations table" });
    } else {
        try {
            const row = await q(`SELECT row_to_json(q)::text FROM (${stripSemicolons(query)}) q LIMIT 1`);
            if (row === "") throw new Error("the schema query returned no rows");
            const obj = JSON.parse(row) as Record<string, unknown>;
            const values = Object.values(obj);
            ev.schema_version = values.length === 1 ? values[0] : obj;
            ev.checks.push({ name: "schema", status: "passed", detail: `schema version ${JSON.stringify(ev.schema_version)}` });
        } catch (e) {
            ev.checks.push({ name: "schema", status: "failed", detail: msg(e) });
        }
    }
    log.add(`schema version: ${JSON.stringify(ev.schema_version)}`);

    const tables = [...new Set([...config.tables, ...Object.keys(config.minRows)])];
    for (const table of tables) {
        try {
            const ident = table.split(".").map(sqlIdent).join(".");
            ev.row_counts[table] = Number(await q(`SELECT count(*) FROM ${ident}`));
        } catch (e) {
            ev.row_counts[table] = null;
            ev.checks.push({ name: `rows:${table}`, status: "failed", detail: msg(e) });
            continue;
        }
        const min = config.minRows[table];
        if (min !== undefined) {
            const n = ev.row_counts[table] ?? 0;
            ev.checks.push({ name: `rows:${table}`, status: n >= min ? "passed" : "failed", detail: `${n} rows, at least ${min} required` });
        }
    }
    log.add(`row counts: ${JSON.stringify(ev.row_counts)}`);
}

function safeRead(path: string): string {
    try {
        return readFileSync(path, "utf8");
    } catch {
        return "";
    }
}

export function parseDrillArgs(argv: readonly string[]): { targetTime?: Date; keepPort?: number } {
    const out: { targetTime?: Date; keepPort?: number } = {};
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
        } else {
            throw new Error(`unknown argument "${a}" (use --target-time ISO8601, --keep-port PORT)`);
        }
    }
    return out;
}

if (require.main === module) {
    const [file, ...rest] = process.argv.slice(2);
    if (!file) {
        process.stderr.write("usage: restore-drill <drill.json> [--target-time ISO8601] [--keep-port PORT]\n");
        process.exit(2);
    }
    (async () => {
        const config = JSON.parse(readFileSync(file, "utf8")) as DrillJobConfig;
        const r = await runDrill(config, parseDrillArgs(rest));
        process.stdout.write(`${jsonLine({ event: "db-tier.restore-drill", status: r.evidence.status, backup_name: r.evidence.backup_name, duration_seconds: r.evidence.duration_seconds, evidence: r.evidence.evidence_location, uploaded: r.uploaded, error: r.evidence.error })}\n`);
        process.exit(r.exitCode);
    })().catch((e) => {
        process.stderr.write(`restore-drill: ${e instanceof Error ? e.stack : String(e)}\n`);
        process.exit(1);
    });
}
