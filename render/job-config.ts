/**
 * Configuration of the two scheduled jobs (backup, restore drill), rendered as JSON files
 * and uploaded into their containers; the local tier writes the same JSON. Secrets are not
 * in here: they stay in the WAL-G env file and the pgpass file these configs point to.
 */
import { RESTORE_EVIDENCE_PREFIX } from "../vocabulary";

export interface RetentionPolicy {
    /** Newest daily base backups kept (newest backup of each of the newest N days with one). */
    readonly daily: number;
    /** Newest weekly base backups kept (oldest backup of each of the newest N ISO weeks with one). */
    readonly weekly: number;
    /** Point-in-time window: a base backup at or before now - walDays and all WAL after it are kept. */
    readonly walDays: number;
    /** Length of a "day" in ms; 86400000 except in compressed-time tests. */
    readonly dayMs?: number;
}

export interface PgConnection {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    /** A pgpass file with the password; never the password itself. */
    readonly passfile: string;
    readonly database: string;
}

export interface BackupJobConfig {
    readonly environment: string;
    readonly cluster: string;
    readonly schedule: string;
    readonly walgBinary: string;
    readonly walgEnvFile: string;
    /** Data directory of the cluster (the backup container mounts the data volume here). */
    readonly pgData: string;
    readonly postgres: PgConnection;
    readonly retention: RetentionPolicy;
    /** Bound on one backup-push, in seconds. */
    readonly pushTimeoutSeconds: number;
}

/**
 * pg_amcheck over the restored copy: off, heap and B-tree structure, or that plus a check
 * that every heap tuple is in every index (heapallindexed: slower, catches more).
 */
export type AmcheckMode = "off" | "heap-and-btree" | "heapallindexed";
export const AMCHECK_MODES: readonly AmcheckMode[] = ["off", "heap-and-btree", "heapallindexed"];

export interface DrillJobConfig {
    readonly environment: string;
    readonly cluster: string;
    /** When the newest-point drill runs (5-field cron, UTC). */
    readonly schedule: string;
    /**
     * When the oldest-point drill runs (restores the oldest point the retention window
     * promises); absent: never on a schedule (`drill --point oldest` still works).
     */
    readonly oldestSchedule?: string;
    /** The promised point-in-time window in seconds (backup.retention.walDays days). */
    readonly windowSeconds?: number;
    readonly walgBinary: string;
    readonly walgEnvFile: string;
    /** Directory holding postgres, pg_ctl, psql, pg_amcheck of the same major version. */
    readonly pgBinDir: string;
    /** Scratch space for the throwaway instance; emptied afterwards. */
    readonly scratchDir: string;
    /** OS user to run the throwaway Postgres as when the drill runs as root. */
    readonly runAsUser?: string;
    /**
     * The cluster's root role, used over the trusted scratch socket only to prepare the copy
     * (create the drill role, grant, install amcheck); it never evaluates an object an
     * application role can create or replace. The checks run as DRILL_ROLE. Default "postgres".
     */
    readonly superuser?: string;
    readonly rtoSeconds: number;
    readonly database: string;
    /** Schema-version query (runs read-only as the drill role); default: Drizzle's migrations table when it is a plain table. */
    readonly schemaQuery?: string;
    /** Tables that must exist (every user table is counted anyway). */
    readonly tables: readonly string[];
    readonly minRows: Readonly<Record<string, number>>;
    /** Default "heapallindexed". */
    readonly amcheck?: AmcheckMode;
    /** Bucket the evidence is uploaded to, under evidenceKeyPrefix(). */
    readonly evidenceBucket: string;
}

/** The oldest-point drill's default cadence: monthly, half a month away from the newest-point drill's default. */
export const DEFAULT_OLDEST_DRILL_SCHEDULE = "0 5 15 * *";

/**
 * `restore-tests/YYYY-MM-DD/<environment>/<cluster>/<HHMMSS>Z-<point>/`: one folder per drill
 * run. Two drills of one day (the nightly newest-point drill and the oldest-point drill that
 * follows it on its day, or a drill started by hand) each keep their own evidence; a folder
 * per day would let the later one overwrite the earlier one's.
 */
export function evidenceKeyPrefix(date: Date, environment: string, cluster: string, point: "newest" | "oldest"): string {
    const iso = date.toISOString();
    return `${RESTORE_EVIDENCE_PREFIX}${iso.slice(0, 10)}/${environment}/${cluster}/${iso.slice(11, 19).replace(/:/g, "")}Z-${point}/`;
}

export function renderJobConfig(c: BackupJobConfig | DrillJobConfig): string {
    return `${JSON.stringify(c, null, 2)}\n`;
}
