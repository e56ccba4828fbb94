/**
 * The tier's vocabulary: every name that components, policies, the local tier and the
 * tests must agree on is spelled here once. The values are fixed by ../shared/CONTRACT.md.
 */

/** Label on every docker.Container the tier creates: what the container is. */
export const ROLE_LABEL = "db-tier.role";
/** Label on every docker.Network the tier creates: what the network is for. */
export const NETWORK_LABEL = "db-tier.network";

export const CONTAINER_ROLES = ["postgres", "pgbouncer", "backup", "provisioner", "restore-drill", "object-store"] as const;
export type ContainerRole = (typeof CONTAINER_ROLES)[number];

export const NETWORK_KINDS = ["db-only", "app", "backup-egress"] as const;
export type NetworkKind = (typeof NETWORK_KINDS)[number];

/** Roles allowed on a `db-only` network. Applications and the object store are not. */
export const DB_ONLY_MEMBERS: readonly ContainerRole[] = ["postgres", "pgbouncer", "backup", "provisioner", "restore-drill"];

/** Networks a Postgres container may join: its private network and its way to storage. */
export const POSTGRES_NETWORKS: readonly NetworkKind[] = ["db-only", "backup-egress"];

/** Component type token, `db-tier:index:<ClassName>`. */
export function typeToken(className: string): string {
    return `db-tier:index:${className}`;
}

export const POSTGRES_PORT = 5432;
export const PGBOUNCER_PORT = 6432;
/** The database the session-mode alias of a pooled database is called: `<db>_migrate`. */
export const MIGRATE_ALIAS_SUFFIX = "_migrate";

/** Application role names of the three-role model (root's name comes from config). */
export const APP_USER = "app_user";
export const APP_SERVICE = "app_service";

/** Paths inside the containers; the policies read the uploads at these paths. */
export const CONTAINER_PATHS = {
    postgresConf: "/etc/postgresql/postgresql.conf",
    pgHba: "/etc/postgresql/pg_hba.conf",
    pgIdent: "/etc/postgresql/pg_ident.conf",
    /** Postgres' socket directory; a volume shared with the provisioner. */
    socketDir: "/var/run/postgresql",
    walgEnv: "/run/db-tier/walg.env",
    rootPasswordFile: "/run/db-tier/root-password",
    pgpass: "/run/db-tier/pgpass",
    provisionSql: "/run/db-tier/provision.sql",
    drillConfig: "/run/db-tier/drill.json",
    backupConfig: "/run/db-tier/backup.json",
    pgbouncerIni: "/etc/pgbouncer/pgbouncer.ini",
    pgbouncerAuthFile: "/etc/pgbouncer/userlist.txt",
    pgData: "/var/lib/postgresql/data",
    walg: "/usr/local/bin/wal-g",
} as const;

/** Environment variables that carry schedules on the scheduled containers. */
export const SCHEDULE_ENV = {
    backup: "DBTIER_BACKUP_SCHEDULE",
    drill: "DBTIER_DRILL_SCHEDULE",
} as const;

/** The pg_ident.conf map of the socket: OS user `postgres` may act as the root role. */
export const PEER_MAP = "dbtier";

/** Object-key prefix of restore-drill evidence: `restore-tests/YYYY-MM-DD/...`. */
export const RESTORE_EVIDENCE_PREFIX = "restore-tests/";

/** The policies of the pack, by name (see CONTRACT.md). */
export const POLICY_NAMES = [
    "postgres-no-published-ports",
    "postgres-network-isolation",
    "db-only-network-members",
    "app-reaches-only-pooler",
    "pgbouncer-scram-only",
    "pgbouncer-admin-console-closed",
    "wal-archiving-enabled",
    "backup-bucket-lifecycle",
    "backup-bucket-private",
    "no-inline-secrets",
    "generated-secret-strength",
    "restore-drill-scheduled",
    "tier-container-hardened",
] as const;
export type PolicyName = (typeof POLICY_NAMES)[number];

/**
 * The capabilities a tier container adds back after dropping ALL (docs/SECURITY.md says why,
 * per container). Only the Postgres container starts as root: its entrypoint prepares the data
 * and socket directories for uid 999 and drops to it (setpriv), which clears every capability
 * of the server process; every other tier container runs as its image's non-root user from the
 * start and needs none.
 */
export const ADDED_CAPABILITIES: Readonly<Record<ContainerRole, readonly string[]>> = {
    postgres: ["CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"],
    pgbouncer: [],
    backup: [],
    provisioner: [],
    "restore-drill": [],
    "object-store": [],
};

/** The security option that keeps a setuid binary or file capability from raising privileges. */
export const NO_NEW_PRIVILEGES = "no-new-privileges:true";

/** Upper bound of the RPO setting; archive_timeout never exceeds it. */
export const MAX_RPO_SECONDS = 300;
/** Shortest generated secret the tier (and the policy pack) accepts. */
export const MIN_SECRET_LENGTH = 32;
