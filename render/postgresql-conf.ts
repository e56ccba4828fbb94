/**
 * postgresql.conf for a tier's Postgres: connection settings plus the WAL archive settings
 * that make point-in-time recovery possible. The same text is uploaded into the container
 * and written by the local tier, and the `wal-archiving-enabled` policy reads it back.
 */
import { confString } from "./quote";
import { walgCommand } from "./walg-command";

export interface ArchiveSettings {
    /** Path of the wal-g binary where Postgres runs. */
    readonly walgBinary: string;
    /** Path of the rendered WAL-G env file (storage settings and keys). */
    readonly walgEnvFile: string;
    /** archive_timeout: the longest a quiet server waits before shipping a partial segment. */
    readonly rpoSeconds: number;
    /** A wal-push that takes longer is killed; Postgres keeps the segment and retries. */
    readonly pushTimeoutSeconds: number;
    /** A wal-fetch that takes longer is an error (never "segment missing"). */
    readonly fetchTimeoutSeconds: number;
}

export interface PostgresConfInput {
    readonly listenAddresses: string;
    readonly port: number;
    readonly maxConnections: number;
    readonly sharedBuffers: string;
    readonly hbaFile: string;
    /** Where the Unix socket lives; '' disables it. */
    readonly unixSocketDirectories: string;
    readonly archive: ArchiveSettings;
    /** Extra settings appended verbatim (recovery targets of a restore, say). */
    readonly extra?: Readonly<Record<string, string | number>>;
}

/** WAL-G's exit code for "no such file in storage" (EX_IOERR). */
export const WALG_MISSING_FILE_EXIT = 74;

/** archive_command: push one segment, bounded in time so a hung upload cannot stall archiving. */
export function archiveCommand(a: ArchiveSettings): string {
    return walgCommand(a, a.pushTimeoutSeconds, `wal-push "%p"`);
}

/**
 * restore_command: fetch one segment. Only WAL-G's "missing" exit (74) ends recovery
 * normally (exit 1); any other failure (timeout, network, wrong key) exits above 125,
 * which PostgreSQL treats as fatal, so recovery stops instead of silently promoting at
 * an earlier point than the archive holds.
 */
export function restoreCommand(a: ArchiveSettings): string {
    return (
        `${walgCommand(a, a.fetchTimeoutSeconds, `wal-fetch "%f" "%p"`)}; rc=$?; ` +
        `if [ $rc -eq 0 ]; then exit 0; fi; ` +
        `if [ $rc -eq ${WALG_MISSING_FILE_EXIT} ]; then exit 1; fi; ` +
        `echo "db-tier: wal-fetch %f failed with exit $rc; stopping recovery" >&2; exit 200`
    );
}

export function renderPostgresqlConf(c: PostgresConfInput): string {
    const settings: [string, string | number][] = [
        ["listen_addresses", confString(c.listenAddresses)],
        ["port", c.port],
        ["max_connections", c.maxConnections],
        ["shared_buffers", confString(c.sharedBuffers)],
        ["hba_file", confString(c.hbaFile)],
        ["unix_socket_directories", confString(c.unixSocketDirectories)],
        ["password_encryption", confString("scram-sha-256")],
        ["# WAL archiving (WAL-G): RPO is bounded by archive_timeout", ""],
        ["wal_level", "replica"],
        ["archive_mode", "on"],
        ["archive_command", confString(archiveCommand(c.archive))],
        ["archive_timeout", c.archive.rpoSeconds],
        ["restore_command", confString(restoreCommand(c.archive))],
        ["recovery_target_timeline", confString("latest")],
        ["# Logging: statements are never logged, so no secret can reach a log line", ""],
        ["log_statement", confString("none")],
        ["log_min_error_statement", "panic"],
        ["log_connections", "on"],
        ["log_line_prefix", confString("%m [%p] %q%u@%d ")],
        ["log_timezone", confString("UTC")],
        ["timezone", confString("UTC")],
    ];
    for (const [k, v] of Object.entries(c.extra ?? {})) settings.push([k, typeof v === "number" ? v : confString(v)]);
    const lines = settings.map(([k, v]) => (k.startsWith("#") ? `\n${k}` : `${k} = ${v}`));
    return `# Rendered by db-tier. Do not edit: the next deploy rewrites it.\n${lines.join("\n")}\n`;
}

