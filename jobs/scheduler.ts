/**
 * The long-running loop of the scheduled containers: runs the backup job or the restore
 * drill at each nextRun() of its cron schedule (UTC) and logs JSON lines. The schedule comes
 * from the config, or from DBTIER_BACKUP_SCHEDULE / DBTIER_DRILL_SCHEDULE when set. The drill
 * container runs two: the newest-point drill on that schedule and the oldest-point drill on
 * the config's oldestSchedule, one after the other (they share one scratch volume).
 *
 *   node scheduler.js backup|drill <config.json>
 */
import { readFileSync } from "node:fs";
import { nextRun, parseCron } from "../config/cron";
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

/** One job of a scheduler loop. */
export interface ScheduledJob {
    /** Name in the logs (backup, drill, drill-oldest). */
    readonly job: string;
    readonly schedule: string;
    /** Runs the job once; resolves to true when it succeeded. */
    readonly runOnce: () => Promise<boolean>;
}

export async function runSchedule(kind: JobKind, schedule: string, deps: LoopDeps): Promise<void> {
    return runSchedules([{ job: kind, schedule, runOnce: deps.runOnce }], deps);
}

/**
 * Several jobs, never two at once: wait for the earliest next run, run every job due by then
 * in list order, repeat. Each job's next run is computed from the end of its own last run, so
 * a slot missed while another job ran is run once, late, and a long run is not repeated.
 */
export async function runSchedules(jobs: readonly ScheduledJob[], deps: Omit<LoopDeps, "runOnce">): Promise<void> {
    const crons = jobs.map((j) => parseCron(j.schedule));
    const after = jobs.map(() => deps.now());
    const dueOf = (i: number): Date => {
        const d = nextRun(crons[i], after[i]);
        if (!d) throw new Error(`schedule "${jobs[i].schedule}" has no next run`);
        return d;
    };
    for (let runs = 0; deps.maxRuns === undefined || runs < deps.maxRuns; ) {
        const dues = jobs.map((_, i) => dueOf(i));
        const due = new Date(Math.min(...dues.map((d) => d.getTime())));
        for (let i = 0; i < jobs.length; i++) {
            if (dues[i].getTime() === due.getTime())
                deps.log({ event: "db-tier.scheduler", job: jobs[i].job, schedule: jobs[i].schedule, next_run: due.toISOString() });
        }
        for (let wait = due.getTime() - deps.now().getTime(); wait > 0; wait = due.getTime() - deps.now().getTime()) {
            if (deps.stopped?.()) return;
            await deps.sleep(Math.min(wait, MAX_WAIT_MS));
        }
        for (let i = 0; i < jobs.length; i++) {
            if (dueOf(i).getTime() > deps.now().getTime()) continue;
            if (deps.stopped?.()) return;
            if (deps.maxRuns !== undefined && runs >= deps.maxRuns) return;
            runs++;
            const startedAt = deps.now();
            let ok = false;
            try {
                ok = await jobs[i].runOnce();
            } catch (e) {
                deps.log({ event: "db-tier.scheduler", job: jobs[i].job, error: e instanceof Error ? e.message : String(e) });
            }
            const finishedAt = deps.now();
            after[i] = finishedAt.getTime() > startedAt.getTime() ? finishedAt : startedAt;
            deps.log({
                event: "db-tier.scheduler",
                job: jobs[i].job,
                run_started_at: startedAt.toISOString(),
                run_finished_at: finishedAt.toISOString(),
                ok,
            });
        }
    }
}

function drillJob(job: string, config: DrillJobConfig, schedule: string, point: "newest" | "oldest"): ScheduledJob {
    return {
        job,
        schedule,
        runOnce: async () => {
            const r = await runDrill(config, { point });
            process.stdout.write(
                `${jsonLine({ event: "db-tier.restore-drill", point, status: r.evidence.status, backup_name: r.evidence.backup_name, evidence: r.evidence.evidence_location, uploaded: r.uploaded, error: r.evidence.error })}\n`,
            );
            return r.exitCode === 0;
        },
    };
}

export function jobsOf(kind: JobKind, raw: BackupJobConfig | DrillJobConfig, env: NodeJS.ProcessEnv): ScheduledJob[] {
    const schedule = env[SCHEDULE_ENV[kind]] || raw.schedule;
    if (kind === "backup")
        return [{ job: "backup", schedule, runOnce: async () => (await runBackup(raw as BackupJobConfig)).status === "succeeded" }];
    const drill = raw as DrillJobConfig;
    return [
        drillJob("drill", drill, schedule, "newest"),
        ...(drill.oldestSchedule ? [drillJob("drill-oldest", drill, drill.oldestSchedule, "oldest")] : []),
    ];
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
    const jobs = jobsOf(kind, JSON.parse(readFileSync(configPath, "utf8")) as BackupJobConfig | DrillJobConfig, process.env);
    runSchedules(jobs, {
        now: () => new Date(),
        sleep: (ms) =>
            new Promise((resolve) => {
                const t = setTimeout(resolve, ms);
                wake = () => {
                    clearTimeout(t);
                    resolve();
                };
            }),
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
