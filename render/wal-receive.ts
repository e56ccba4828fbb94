/**
 * Streaming WAL archiving (opt-in, `backup.walStreaming`): `wal-g wal-receive` holds a
 * replication connection to Postgres through a physical replication slot and uploads the WAL
 * it receives into the same `wal_005/` prefix archive_command writes to. Upstream v3.0.9
 * uploads only complete 16 MB segments, which on a quiet server is no better than
 * archive_timeout; the tier's build carries third_party/wal-g/patches/0002 so the receiver also
 * uploads the segment it is filling, as `<segment>.partial`, every PARTIAL_INTERVAL_SECONDS
 * when it received new WAL. restore_command falls back to that object for the last segment.
 *
 * archive_command stays on (the `wal-archiving-enabled` policy demands it, and it is the
 * archive while the receiver is down): both upload identical complete segments, and
 * WALG_PREVENT_WAL_OVERWRITE compares content, so the second upload of a segment is a no-op.
 *
 * The slot keeps WAL on the primary until the receiver has it; `max_slot_wal_keep_size`
 * (SLOT_WAL_KEEP_SIZE) caps that, so a receiver that is dead for long invalidates its slot
 * instead of filling the disk. The receiver's loop drops a lost slot before it reconnects
 * (wal-receive then creates a fresh one at the server's current position; archive_command has
 * shipped everything in between).
 */
import { shellQuote, sqlLiteral } from "./quote";

/** The replication role: LOGIN REPLICATION, nothing else; a pg_hba `replication` line for it alone. */
export const WAL_RECEIVER_ROLE = "wal_receiver";
/** The physical replication slot wal-receive creates and advances (WALG_SLOTNAME). */
export const WAL_RECEIVE_SLOT = "db_tier_wal_receive";
/** How often the receiver uploads the segment it is filling (patch 0002). */
export const PARTIAL_INTERVAL_SECONDS = 1;
/** max_slot_wal_keep_size: WAL a slot may hold back before PostgreSQL invalidates it. */
export const SLOT_WAL_KEEP_SIZE = "2GB";
/** Pause between two runs of wal-receive when it exits (Postgres down, network). */
export const RESTART_DELAY_SECONDS = 2;

export interface WalReceiveInput {
    readonly walgBinary: string;
    readonly walgEnvFile: string;
    readonly psqlBinary: string;
    /** Postgres as the receiver reaches it (db-only network, or loopback). */
    readonly host: string;
    readonly port: number;
    /** libpq password file with the receiver's line (`host:port:*:wal_receiver:password`). */
    readonly passfile: string;
}

/** The receiver's password file line; `*` covers both the `replication` and the `postgres` database. */
export function walReceiverPgpass(host: string, port: number, password: string): string {
    if (/[:\\\n]/.test(password)) throw new Error("walReceiverPgpass: password must not contain ':', '\\' or a newline");
    return `${host}:${port}:*:${WAL_RECEIVER_ROLE}:${password}\n`;
}

/** Drops the slot only when PostgreSQL has invalidated it (wal_status 'lost'); never an active one. */
export const DROP_LOST_SLOT_SQL = `SELECT pg_drop_replication_slot(slot_name) FROM pg_replication_slots WHERE slot_name = ${sqlLiteral(WAL_RECEIVE_SLOT)} AND wal_status = 'lost' AND NOT active`;

/**
 * The receiver's /bin/sh program: forever (until signalled) drop a lost slot, then run
 * wal-g wal-receive with the env file sourced into the wal-g process only. wal-receive exits
 * on any error (Postgres restarting, a network blip); the loop reconnects, resuming at the
 * slot's position, so no WAL is skipped.
 */
export function walReceiveScript(w: WalReceiveInput): string {
    const pg = `PGHOST=${shellQuote(w.host)} PGPORT=${w.port} PGUSER=${WAL_RECEIVER_ROLE} PGDATABASE=postgres PGPASSFILE="$pgpass" PGCONNECT_TIMEOUT=10`;
    return [
        // libpq ignores a password file that others may read, and the uploaded one is root's
        // 0444 (components/tier-container.ts USER_SECRET_FILE): use a private 0600 copy.
        `umask 077; pgpass="$(mktemp)" && cp ${shellQuote(w.passfile)} "$pgpass" || exit 1`,
        `child=; trap '[ -n "$child" ] && kill "$child" 2>/dev/null; exit 0' TERM INT`,
        `while :; do`,
        `  env ${pg} ${shellQuote(w.psqlBinary)} -X -q -At -c ${shellQuote(DROP_LOST_SLOT_SQL)} >/dev/null || true`,
        `  (set -a && . ${shellQuote(w.walgEnvFile)} && set +a && exec env ${pg} WALG_SLOTNAME=${WAL_RECEIVE_SLOT} WALG_RECEIVE_PARTIAL_INTERVAL=${PARTIAL_INTERVAL_SECONDS}s ${shellQuote(w.walgBinary)} wal-receive) & child=$!`,
        `  wait "$child" || true`,
        `  echo "db-tier: wal-receive exited; restarting in ${RESTART_DELAY_SECONDS} s" >&2`,
        `  sleep ${RESTART_DELAY_SECONDS}`,
        `done`,
    ].join("\n");
}
