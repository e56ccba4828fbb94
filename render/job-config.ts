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

export interface DrillJobConfig {
    readonly environment: string;
    readonly cluster: string;
    readonly schedule: string;
    readonly walgBinary: string;
    readonly walgEnvFile: string;
    /** Directory holding postgres, pg_ctl, psql of the same major version. */
    readonly pgBinDir: string;
    /** Scratch space for the throwaway instance; emptied afterwards. */
    readonly scratchDir: string;
    /** OS user to run the throwaway Postgres as when the drill runs as root. */
    readonly runAsUser?: string;
    /**
     * Role the checks connect as over the scratch socket (trusted, never reachable from
     * outside): the cluster's root user, so row counts see every row. Default "postgres".
     */
    readonly superuser?: string;
    readonly rtoSeconds: number;
    readonly database: string;
    /** Schema-version query; default: Drizzle's migrations table when it exists. */
    readonly schemaQuery?: string;
    readonly tables: readonly string[];
    readonly minRows: Readonly<Record<string, number>>;
    /** Bucket the evidence is uploaded to, under evidenceKeyPrefix(). */
    readonly evidenceBucket: string;
}

export const DEFAULT_SCHEMA_QUERY = "SELECT * FROM drizzle.__drizzle_migrations ORDER BY id DESC LIMIT 1";

/** `restore-tests/YYYY-MM-DD/<environment>/<cluster>/`: one folder per drill, per cluster. */
export function evidenceKeyPrefix(date: Date, environment: string, cluster: string): string {
    return `${RESTORE_EVIDENCE_PREFIX}${date.toISOString().slice(0, 10)}/${environment}/${cluster}/`;
}

export function renderJobConfig(c: BackupJobConfig | DrillJobConfig): string {
    return `${JSON.stringify(c, null, 2)}\n`;
}
