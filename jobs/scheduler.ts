/**
 * The long-running loop of the scheduled containers: runs the backup job or the restore
 * drill at each nextRun() of its cron schedule (UTC) and logs JSON lines. The schedule comes
 * from the config, or from DBTIER_BACKUP_SCHEDULE / DBTIER_DRILL_SCHEDULE when set.
 *
 *   node scheduler.js backup|drill <config.json>
 */
import { readFileSync } from "node:fs";
import { nextRun, parseCron } from "../render/cron";
import type { BackupJobConfig, DrillJobConfig } from "../render/job-config";
import { SCHEDULE_ENV } from "../vocabulary";
import { runBackup } from "./backup-job";
import { jsonLine } from "./log";
import { runDrill } from "./restore-drill";

export type JobKind = "backup" | "drill";

export interface LoopDeps {
    readonly now: () => Date;
    readonly sleep: (ms: number) => Promise<void>;
    /** Runs the job once; resolves to true when it succeeded. */
    readonly runOnce: () => Promise<boolean>;
    readonly log: (obj: Record<string, unknown>) => void;
    /** Stop after this many runs (tests); default: forever. */
    readonly maxRuns?: number;
    readonly stopped?: () => boolean;
}

/** Longest single wait: timers above 2^31-1 ms overflow, and a long wait should re-check the clock. */
const MAX_WAIT_MS = 60 * 60 * 1000;

export async function runSchedule(kind: JobKind, schedule: string, deps: LoopDeps): Promise<void> {
    const cron = parseCron(schedule);
    for (let runs = 0; deps.maxRuns === undefined || runs < deps.maxRuns; runs++) {
        const due = nextRun(cron, deps.now());
        if (!due) throw new Error(`schedule "${schedule}" has no next run`);
        deps.log({ event: "db-tier.scheduler", job: kind, schedule, next_run: due.toISOString() });
        for (let wait = due.getTime() - deps.now().getTime(); wait > 0; wait = due.getTime() - deps.now().getTime()) {
            if (deps.stopped?.()) return;
            await deps.sleep(Math.min(wait, MAX_WAIT_MS));
        }
        if (deps.stopped?.()) return;
        const startedAt = deps.now();
        let ok = false;
        try {
            ok = await deps.runOnce();
        } catch (e) {
            deps.log({ event: "db-tier.scheduler", job: kind, error: e instanceof Error ? e.message : String(e) });
        }
        deps.log({ event: "db-tier.scheduler", job: kind, run_started_at: startedAt.toISOString(), run_finished_at: deps.now().toISOString(), ok });
    }
}

function jobRunner(kind: JobKind, configPath: string): { schedule: string; runOnce: () => Promise<boolean> } {
    const raw = JSON.parse(readFileSync(configPath, "utf8")) as BackupJobConfig | DrillJobConfig;
    const schedule = process.env[SCHEDULE_ENV[kind]] || raw.schedule;
    if (kind === "backup") return { schedule, runOnce: async () => (await runBackup(raw as BackupJobConfig)).status === "succeeded" };
    return {
        schedule,
        runOnce: async () => {
            const r = await runDrill(raw as DrillJobConfig);
            process.stdout.write(`${jsonLine({ event: "db-tier.restore-drill", status: r.evidence.status, backup_name: r.evidence.backup_name, evidence: r.evidence.evidence_location, uploaded: r.uploaded, error: r.evidence.error })}\n`);
            return r.exitCode === 0;
        },
    };
}

if (require.main === module) {
    const [kind, configPath] = process.argv.slice(2);
    if ((kind !== "backup" && kind !== "drill") || !configPath) {
        process.stderr.write("usage: scheduler backup|drill <config.json>\n");
        process.exit(2);
    }
    let stopping = false;
    let wake: (() => void) | undefined;
    for (const sig of ["SIGTERM", "SIGINT"] as const) {
        process.on(sig, () => {
            stopping = true;
            wake?.();
        });
    }
    const { schedule, runOnce } = jobRunner(kind, configPath);
    runSchedule(kind, schedule, {
        now: () => new Date(),
        sleep: (ms) =>
            new Promise((resolve) => {
                const t = setTimeout(resolve, ms);
                wake = () => {
                    clearTimeout(t);
                    resolve();
                };
            }),
        runOnce,
        log: (obj) => process.stdout.write(`${jsonLine(obj)}\n`),
        stopped: () => stopping,
    }).then(
        () => process.exit(0),
        (e) => {
            process.stderr.write(`scheduler: ${e instanceof Error ? e.message : String(e)}\n`);
            process.exit(1);
        },
    );
}
