/**
 * postgresql.conf for a tier's Postgres: connection settings plus the WAL archive settings
 * that make point-in-time recovery possible. The same text is uploaded into the container
 * and written by the local tier, and the `wal-archiving-enabled` policy reads it back.
 */
import { confString } from "./quote";
import { SLOT_WAL_KEEP_SIZE } from "./wal-receive";
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

/**
 * WAL-G's exit code for "no such file in storage" (EX_IOERR): v3's wal-fetch exits 74 only
 * when no object of that name exists under any codec's extension (cmd/pg/wal_fetch.go,
 * ArchiveNonExistenceError); every other failure (storage unreachable, wrong key, corrupt
 * object) is a fatal log line and exit 1. Checked against the v3.0.9 binary in
 * test/integration/walg-exit-codes.test.ts.
 */
export const WALG_MISSING_FILE_EXIT = 74;

/** restore_command's internal code for "wal-fetch said missing, but the storage is not readable". */
const STORAGE_UNREADABLE = 201;

/** archive_command: push one segment, bounded in time so a hung upload cannot stall archiving. */
export function archiveCommand(a: ArchiveSettings): string {
    return walgCommand(a, a.pushTimeoutSeconds, `wal-push "%p"`);
}

/**
 * restore_command: fetch one segment. Only "segment missing" (WAL-G's exit 74) ends recovery
 * normally (exit 1). Any other failure (timeout, network, wrong key) exits above 125, which
 * PostgreSQL treats as fatal, so recovery stops instead of silently promoting at an earlier
 * point than the archive holds. The fetch runs in a subshell, so an unreadable env file (`.`
 * exits the shell with 2, which would read as "missing") is fatal too. WAL-G's stderr goes to
 * a file (then to the server log), not a pipe: the wal-prefetch children it forks inherit
 * it, and a pipe would make the shell wait.
 *
 * A segment (a name without a dot: not a .history or .backup file) missing in full is asked
 * for once more as `<segment>.partial`: what the streaming receiver uploads of the segment it
 * was filling (render/wal-receive.ts), zero-padded to full size, so replay runs to its last
 * record and then ends at the zeros. A complete segment always wins; without streaming no
 * .partial exists and the second fetch exits 74 as well.
 *
 * v3.0.9 also exits 74 when the bucket itself does not exist (measured against MinIO in
 * test/integration/walg-exit-codes.test.ts), which would end recovery early and promote. So
 * "missing" counts only when `wal-g st check read` (a listing of the prefix) succeeds.
 */
export function restoreCommand(a: ArchiveSettings): string {
    const fetch = (name: string): string => `(${walgCommand(a, a.fetchTimeoutSeconds, `wal-fetch "${name}" "%p"`)}) 2>>"$f"; rc=$?; `;
    return (
        `f=$(mktemp) || exit 200; ` +
        fetch("%f") +
        `if [ $rc -eq ${WALG_MISSING_FILE_EXIT} ]; then case "%f" in *.*) ;; *) ${fetch("%f.partial")};; esac; fi; ` +
        `if [ $rc -eq ${WALG_MISSING_FILE_EXIT} ]; then (${walgCommand(a, a.fetchTimeoutSeconds, "st check read")}) >>"$f" 2>&1 || rc=${STORAGE_UNREADABLE}; fi; ` +
        `cat "$f" >&2; rm -f "$f"; ` +
        `if [ $rc -eq 0 ]; then exit 0; fi; ` +
        `if [ $rc -eq ${WALG_MISSING_FILE_EXIT} ]; then exit 1; fi; ` +
        `if [ $rc -eq ${STORAGE_UNREADABLE} ]; then echo "db-tier: %f reported missing, but the storage is not readable (wal-g st check read failed); stopping recovery" >&2; exit 200; fi; ` +
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
        // A replication slot (the streaming receiver's) never holds more WAL than this: a
        // receiver that is down for long loses its slot instead of filling the disk.
        ["max_slot_wal_keep_size", confString(SLOT_WAL_KEEP_SIZE)],
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
