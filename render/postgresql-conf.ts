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
    /** pg_ident.conf, when the hba file uses an ident map. */
    readonly identFile?: string;
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
 * What WAL-G prints when a file is not in storage, `%f` being the file asked for: the only
 * sign of it before exit code 74 existed. Naming the file keeps "bucket does not exist"
 * from passing for the end of the archive.
 */
export const WALG_MISSING_FILE_MESSAGE = "Archive '%f' does not exist";

/**
 * restore_command: fetch one segment. Only "segment missing" ends recovery normally (exit
 * 1): WAL-G's exit 74, or, for WAL-G releases that exit 1 on every error (v1.1.1), exit 1
 * together with its "Archive '<name>' does not exist." message. Any other failure (timeout,
 * network, wrong key) exits above 125, which PostgreSQL treats as fatal, so recovery stops
 * instead of silently promoting at an earlier point than the archive holds. The fetch runs in
 * a subshell, so an unreadable env file (`.` exits the shell with 2, which would read as
 * "missing") is fatal too. WAL-G's stderr goes to a file (then to the server log), not a
 * pipe: the wal-prefetch children it forks inherit it, and a pipe would make the shell wait.
 */
export function restoreCommand(a: ArchiveSettings): string {
    return (
        `f=$(mktemp) || exit 200; ` +
        `(${walgCommand(a, a.fetchTimeoutSeconds, `wal-fetch "%f" "%p"`)}) 2>"$f"; rc=$?; ` +
        `cat "$f" >&2; missing=0; grep -qF "${WALG_MISSING_FILE_MESSAGE}" "$f" && missing=1; rm -f "$f"; ` +
        `if [ $rc -eq 0 ]; then exit 0; fi; ` +
        `if [ $rc -eq ${WALG_MISSING_FILE_EXIT} ] || { [ $rc -eq 1 ] && [ $missing -eq 1 ]; }; then exit 1; fi; ` +
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
        ...(c.identFile ? ([["ident_file", confString(c.identFile)]] as [string, string][]) : []),
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

