/**
 * pgbouncer.ini and its auth file. SCRAM only; the admin console is closed three ways
 * (no admin_users, no stats_users, no Unix socket), so the `pgbouncer` database answers
 * "not allowed" to everyone. Each application database gets a transaction-pooled entry
 * and a session-mode `<db>_migrate` alias for migrations and prepared statements.
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
}

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
        ["server_reset_query", "DISCARD ALL"],
        ["log_connections", 1],
        ["log_disconnections", 1],
        ["log_pooler_errors", 1],
        ["verbose", 0],
    ];
    if (p.logFile) settings.push(["logfile", p.logFile]);
    if (p.pidFile) settings.push(["pidfile", p.pidFile]);
    if (p.clientTls) {
        settings.push(["client_tls_sslmode", p.clientTls.sslmode], ["client_tls_cert_file", p.clientTls.certFile], ["client_tls_key_file", p.clientTls.keyFile]);
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
