/**
 * pgbouncer.ini and its auth file. SCRAM only; the admin console is closed three ways
 * (no admin_users, no stats_users, no Unix socket), so the `pgbouncer` database answers
 * "not allowed" to everyone. Each application database gets a transaction-pooled entry
 * and a session-mode `<db>_migrate` alias for migrations and prepared statements.
 *
 * Tenant safety: by default every server connection is reset (DISCARD ALL) whenever a
 * client releases it, after each transaction in transaction mode too. Without that, a
 * session-level `SET app.current_user_id = ...` (or a temp table, an advisory lock, a
 * `SET ROLE`) stays on the server connection and the next client that sets nothing
 * inherits it: under the RLS pattern of README it reads another tenant's rows.
 */
import { isScramVerifier } from "./scram";
import { MIGRATE_ALIAS_SUFFIX } from "../vocabulary";

export interface PgbouncerTls {
    readonly sslmode: string;
    readonly certFile: string;
    readonly keyFile: string;
}

export interface PgbouncerIniInput {
    readonly listenAddr: string;
    readonly listenPort: number;
    readonly postgresHost: string;
    readonly postgresPort: number;
    readonly databases: readonly string[];
    readonly authFile: string;
    readonly defaultPoolSize: number;
    readonly maxClientConn: number;
    /** Cap on server connections per database, below Postgres' max_connections. */
    readonly maxDbConnections: number;
    readonly logFile?: string;
    readonly pidFile?: string;
    readonly clientTls?: PgbouncerTls;
    /**
     * Reset every server connection after each transaction (server_reset_query_always = 1,
     * DISCARD ALL). Default true. false brings pgBouncer's own default back: a client's
     * session state leaks to the next client of that server connection.
     */
    readonly resetSessionState?: boolean;
}

/** What pgBouncer runs on a server connection a client released: forgets all session state. */
export const SERVER_RESET_QUERY = "DISCARD ALL";

export function renderPgbouncerIni(p: PgbouncerIniInput): string {
    const server = `host=${p.postgresHost} port=${p.postgresPort}`;
    const dbLines = p.databases.flatMap((db) => [
        `${db} = ${server} dbname=${db} pool_mode=transaction`,
        `${db}${MIGRATE_ALIAS_SUFFIX} = ${server} dbname=${db} pool_mode=session`,
    ]);
    const settings: [string, string | number][] = [
        ["listen_addr", p.listenAddr],
        ["listen_port", p.listenPort],
        // No socket: the admin console cannot be reached through one.
        ["unix_socket_dir", ""],
        ["auth_type", "scram-sha-256"],
        ["auth_file", p.authFile],
        ["admin_users", ""],
        ["stats_users", ""],
        ["pool_mode", "transaction"],
        ["default_pool_size", p.defaultPoolSize],
        ["max_client_conn", p.maxClientConn],
        ["max_db_connections", p.maxDbConnections],
        ["ignore_startup_parameters", "extra_float_digits"],
        ["server_reset_query", SERVER_RESET_QUERY],
        // 1: also in transaction mode, after every transaction (pgBouncer runs it only in
        // session mode otherwise). See resetSessionState.
        ["server_reset_query_always", p.resetSessionState === false ? 0 : 1],
        ["log_connections", 1],
        ["log_disconnections", 1],
        ["log_pooler_errors", 1],
        ["verbose", 0],
    ];
    if (p.logFile) settings.push(["logfile", p.logFile]);
    if (p.pidFile) settings.push(["pidfile", p.pidFile]);
    if (p.clientTls) {
        settings.push(
            ["client_tls_sslmode", p.clientTls.sslmode],
            ["client_tls_cert_file", p.clientTls.certFile],
            ["client_tls_key_file", p.clientTls.keyFile],
        );
    }
    return [
        "; Rendered by db-tier. Do not edit: the next deploy rewrites it.",
        "[databases]",
        ...dbLines,
        "",
        "[pgbouncer]",
        ...settings.map(([k, v]) => `${k} = ${v}`),
        "",
    ].join("\n");
}

export interface AuthFileEntry {
    readonly user: string;
    readonly verifier: string;
}

/**
 * userlist.txt: one `"user" "SCRAM-SHA-256$..."` line per pooled role. Root is never
 * listed, so root cannot log in through the pooler. Plaintext is refused outright.
 */
export function renderPgbouncerAuthFile(entries: readonly AuthFileEntry[]): string {
    return entries
        .map((e) => {
            if (!isScramVerifier(e.verifier)) throw new Error(`renderPgbouncerAuthFile: ${e.user} has no SCRAM verifier`);
            if (!/^[a-z_][a-z0-9_]*$/.test(e.user)) throw new Error(`renderPgbouncerAuthFile: bad user name ${e.user}`);
            return `"${e.user}" "${e.verifier}"\n`;
        })
        .join("");
}
