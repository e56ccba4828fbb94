/**
 * pgBouncer's pools against Postgres' max_connections. pgBouncer keeps a pool per
 * (pgBouncer database, user) of up to default_pool_size server connections, and
 * max_db_connections caps each pgBouncer database separately ("per database ... the
 * PgBouncer database that the client has connected to", pgbouncer(5), 1.18). The tier lists
 * every database twice (`<db>` and `<db>_migrate`) for two pooled users (app_user,
 * app_service), and sets max_db_connections = max_connections - POOLER_HEADROOM
 * (components/pgbouncer.ts). If the pools can want more server connections than Postgres
 * has left after that headroom, clients get "sorry, too many clients already" from Postgres
 * under load instead of queueing in pgBouncer, and root, the provisioner and the backup job
 * compete for the rest.
 */
export const POOLED_USERS = 2;
export const ALIASES_PER_DATABASE = 2;
/** Connections kept for root, the provisioner, the backup job and an operator (superuser_reserved_connections 3 among them). */
export const POOLER_HEADROOM = 10;

export interface PoolBudget {
    readonly wanted: number;
    readonly available: number;
    readonly maxPoolSize: number;
    readonly minMaxConnections: number;
}

export function poolBudget(databases: number, defaultPoolSize: number, maxConnections: number): PoolBudget {
    const available = maxConnections - POOLER_HEADROOM;
    const perDatabase = Math.min(Math.max(1, available), POOLED_USERS * defaultPoolSize);
    const pools = databases * ALIASES_PER_DATABASE;
    return {
        wanted: pools * perDatabase,
        available,
        maxPoolSize: Math.floor(available / (pools * POOLED_USERS)),
        minMaxConnections: pools * POOLED_USERS * defaultPoolSize + POOLER_HEADROOM,
    };
}
