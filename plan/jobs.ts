/**
 * The two scheduled jobs of one cluster (render/job-config.ts): the backup job (backup-push,
 * retention, wal-verify) and the restore drills, with their schedules.
 */
import type { BackupJobConfig, DrillJobConfig } from "../render/job-config";
import type { Placement } from "./placement";
import type { ClusterSettings } from "./settings";

/**
 * Bound on one backup-push. Not a config key: a base backup of a large cluster takes hours,
 * and a hung push is what the bound is for (the next night's run starts fresh).
 */
export const BACKUP_PUSH_TIMEOUT_SECONDS = 6 * 3600;

export interface Schedules {
    /** Base backups (5-field cron, UTC). */
    readonly backup: string;
    /** Newest-point restore drill. */
    readonly drill: string;
    /** Oldest-point restore drill. */
    readonly oldestPointDrill: string;
}

export interface JobsPlan {
    readonly schedules: Schedules;
    readonly backup: BackupJobConfig;
    readonly drill: DrillJobConfig;
}

export function planJobs(s: ClusterSettings, p: Placement): JobsPlan {
    const schedules: Schedules = {
        backup: s.backup.schedule,
        drill: s.drill.schedule,
        oldestPointDrill: s.drill.oldestPointSchedule,
    };
    const backup: BackupJobConfig = {
        environment: s.environment,
        cluster: s.cluster.name,
        schedule: schedules.backup,
        walgBinary: p.postgres.walgBinary,
        walgEnvFile: p.postgres.walgEnvFile,
        pgData: p.postgres.dataDir,
        postgres: {
            host: p.postgres.host,
            port: p.postgres.port,
            user: s.cluster.rootUser,
            passfile: p.jobs.pgpassFile,
            database: "postgres",
        },
        retention: s.backup.retention,
        pushTimeoutSeconds: BACKUP_PUSH_TIMEOUT_SECONDS,
    };
    const drill: DrillJobConfig = {
        environment: s.environment,
        cluster: s.cluster.name,
        schedule: schedules.drill,
        oldestSchedule: schedules.oldestPointDrill,
        // The oldest point the drill restores is the oldest one the retention window promises.
        windowSeconds: s.backup.retention.walDays * 86_400,
        walgBinary: p.postgres.walgBinary,
        walgEnvFile: p.postgres.walgEnvFile,
        pgBinDir: p.jobs.pgBinDir,
        scratchDir: p.jobs.drillScratch,
        ...(p.jobs.drillRunAsUser ? { runAsUser: p.jobs.drillRunAsUser } : {}),
        rtoSeconds: s.drill.rtoSeconds,
        database: s.drill.database ?? s.cluster.databases[0],
        schemaQuery: s.drill.schemaQuery,
        tables: s.drill.tables,
        minRows: s.drill.minRows,
        amcheck: s.drill.amcheck,
        evidenceBucket: s.storage.bucketName,
        superuser: s.cluster.rootUser,
    };
    return { schedules, backup, drill };
}
