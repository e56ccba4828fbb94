/**
 * The backup job: one base backup, then retention exactly as planRetention() says, then
 * wal-verify. Prints ONE JSON line per run to stdout (WAL-G's own output goes to stderr)
 * and exits non-zero when anything failed. Retention runs only after a successful push.
 *
 *   node backup-job.js <backup.json>      (tsx jobs/backup-job.ts <backup.json> locally)
 */
import { readFileSync } from "node:fs";
import type { BackupJobConfig } from "../render/job-config";
import { planRetention } from "../render/retention-plan";
import { jsonLine } from "./log";
import { describeFailure } from "./proc";
import { listBackups, parseWalVerify, pushedBackupName, toBackupInfo, walg, type WalVerifyResult } from "./walg";

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
        wal_verify: null,
    };

    try {
        const push = await walg(inv, ["backup-push", config.pgData], { timeoutSeconds: config.pushTimeoutSeconds, env, onLine: progress });
        if (push.code !== 0) throw new Error(describeFailure("wal-g backup-push", push));
        const before = await listBackups(inv, LIST_TIMEOUT_S);
        const name = pushedBackupName(`${push.stderr}\n${push.stdout}`) ?? before[before.length - 1]?.backup_name;
        const pushed = before.find((b) => b.backup_name === name);
        if (!pushed) throw new Error(`backup-push reported ${name ?? "no name"}, but backup-list does not show it`);
        record.backup_name = pushed.backup_name;
        record.size_bytes = pushed.compressed_size;

        const plan = planRetention(before.map(toBackupInfo), now(), config.retention);
        const kept = plan.keep.map((k) => k.name);
        if (!kept.includes(pushed.backup_name)) throw new Error(`retention plan would delete the new backup ${pushed.backup_name}`);
        record.retention.delete_before = plan.deleteBefore;
        const deleted: string[] = [];
        if (plan.deleteBefore) {
            const r = await walg(inv, ["delete", "before", "FIND_FULL", plan.deleteBefore, "--confirm"], { timeoutSeconds: DELETE_TIMEOUT_S, onLine: progress });
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
