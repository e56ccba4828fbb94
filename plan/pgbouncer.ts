/** pgBouncer's files of one cluster: pgbouncer.ini, the auth file (from the verifiers), its open-file limit. */
import { renderPgbouncerAuthFile, renderPgbouncerIni } from "../render/pgbouncer";
import { APP_SERVICE, APP_USER } from "../vocabulary";
import type { Placement } from "./placement";
import type { ClusterSettings } from "./settings";

/** Server connections Postgres keeps for the provisioner, the backup job and an operator's psql. */
export const POOL_HEADROOM = 10;

/** Open files beyond one per client and one per server connection. */
export const NOFILE_SLACK = 1024;

/** The two pooled roles; root is never in the auth file. */
export const POOLED_ROLES = [APP_USER, APP_SERVICE] as const;

export interface PgbouncerPlan {
    readonly ini: string;
    /** max_db_connections: Postgres' max_connections less the headroom. */
    readonly maxDbConnections: number;
    /** Open-file limit (soft = hard) pgBouncer needs for max_client_conn. */
    readonly nofile: number;
    readonly maxClientConn: number;
    readonly defaultPoolSize: number;
    /** The auth file, from the pooled roles' SCRAM verifiers (secret text). */
    authFile(verifiers: Readonly<Record<(typeof POOLED_ROLES)[number], string>>): string;
}

export function planPgbouncer(s: ClusterSettings, p: Placement): PgbouncerPlan {
    const maxDbConnections = Math.max(1, s.postgres.maxConnections - POOL_HEADROOM);
    const b = p.pgbouncer;
    const ini = renderPgbouncerIni({
        listenAddr: b.listenAddr,
        listenPort: b.port,
        postgresHost: p.postgres.host,
        postgresPort: p.postgres.port,
        databases: s.cluster.databases,
        authFile: b.authFile,
        defaultPoolSize: s.pgbouncer.defaultPoolSize,
        maxClientConn: s.pgbouncer.maxClientConn,
        resetSessionState: s.pgbouncer.resetSessionState,
        maxDbConnections,
        ...(b.logFile ? { logFile: b.logFile } : {}),
        ...(b.pidFile ? { pidFile: b.pidFile } : {}),
        clientTls: s.tls ? { sslmode: s.sslmode, certFile: b.tlsCertFile, keyFile: b.tlsKeyFile } : undefined,
    });
    return {
        ini,
        maxDbConnections,
        nofile: 2 * s.pgbouncer.maxClientConn + NOFILE_SLACK,
        maxClientConn: s.pgbouncer.maxClientConn,
        defaultPoolSize: s.pgbouncer.defaultPoolSize,
        authFile: (v) => renderPgbouncerAuthFile(POOLED_ROLES.map((user) => ({ user, verifier: v[user] }))),
    };
}
