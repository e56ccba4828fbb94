/**
 * Where the local tier lives and which ports it uses. State goes under
 * ${DBTIER_LOCAL_DIR:-<repo>/.local-tier}; ports come from DBTIER_LOCAL_{POSTGRES,PGBOUNCER,MINIO}_PORT
 * (defaults 15432, 16432, 19000, clear of a Postgres on 5432) and are recorded at the first
 * `up`, so later verbs find the tier without the variables.
 */
import { existsSync, readFileSync } from "node:fs";
import { homedir } from "node:os";
import { join, resolve } from "node:path";

/**
 * The root role the loopback tier's secrets are kept for. The environment, cluster, databases
 * and bucket come from the stack (local/plan.ts); a stack with another rootUser is refused.
 */
export const LOCAL_ROOT_USER = "postgres";
/** The Debian OS user that runs Postgres and pgBouncer when the CLI runs as root. */
export const SERVER_OS_USER = "postgres";

export interface Ports {
    readonly postgres: number;
    readonly pgbouncer: number;
    readonly minio: number;
}

export const DEFAULT_PORTS: Ports = { postgres: 15432, pgbouncer: 16432, minio: 19000 };

export interface Tools {
    readonly walg: string;
    readonly minio: string;
    readonly pgBinDir: string;
    readonly pgbouncer: string;
}

export interface Layout {
    readonly state: string;
    /** wal-g copied here at `up`: the server user must be able to run it (a tools dir under /root is not). */
    readonly walg: string;
    readonly tierJson: string;
    readonly secrets: string;
    readonly pgpass: string;
    readonly provisionSql: string;
    readonly backupJson: string;
    readonly drillJson: string;
    /** Optional overrides of the drill's checks: {tables, minRows, schemaQuery, rtoSeconds}. */
    readonly drillChecks: string;
    readonly drillScratch: string;
    readonly drills: string;
    readonly logs: string;
    readonly minioData: string;
    readonly minioPid: string;
    readonly minioLog: string;
    /** Owned by the server OS user: everything Postgres and pgBouncer read or write. */
    readonly pg: string;
    readonly pgData: string;
    readonly pgConf: string;
    readonly pgHba: string;
    readonly pgIdent: string;
    /** The stand-in TLS pair as Postgres and pgBouncer read it (sslmode other than disable). */
    readonly pgTlsCert: string;
    readonly pgTlsKey: string;
    readonly pgbTlsCert: string;
    readonly pgbTlsKey: string;
    readonly walgEnv: string;
    readonly pgLog: string;
    readonly pgbIni: string;
    readonly pgbAuth: string;
    readonly pgbPid: string;
    readonly pgbLog: string;
}

export function repoRoot(): string {
    return resolve(__dirname, "..");
}

export function stateDir(env: NodeJS.ProcessEnv = process.env): string {
    return resolve(env.DBTIER_LOCAL_DIR || join(repoRoot(), ".local-tier"));
}

export function layout(state: string): Layout {
    const pg = join(state, "pg");
    return {
        state,
        walg: join(state, "bin", "wal-g"),
        tierJson: join(state, "tier.json"),
        secrets: join(state, "secrets.json"),
        pgpass: join(state, "pgpass"),
        provisionSql: join(state, "provision.sql"),
        backupJson: join(state, "backup.json"),
        drillJson: join(state, "drill.json"),
        drillChecks: join(state, "drill-checks.json"),
        drillScratch: join(state, "drill"),
        drills: join(state, "drills"),
        logs: join(state, "logs"),
        minioData: join(state, "minio"),
        minioPid: join(state, "minio.pid"),
        minioLog: join(state, "logs", "minio.log"),
        pg,
        pgData: join(pg, "data"),
        pgConf: join(pg, "postgresql.conf"),
        pgHba: join(pg, "pg_hba.conf"),
        pgIdent: join(pg, "pg_ident.conf"),
        pgTlsCert: join(pg, "server.crt"),
        pgTlsKey: join(pg, "server.key"),
        pgbTlsCert: join(pg, "pgbouncer.crt"),
        pgbTlsKey: join(pg, "pgbouncer.key"),
        walgEnv: join(pg, "walg.env"),
        pgLog: join(pg, "postgres.log"),
        pgbIni: join(pg, "pgbouncer.ini"),
        pgbAuth: join(pg, "userlist.txt"),
        pgbPid: join(pg, "pgbouncer.pid"),
        pgbLog: join(pg, "pgbouncer.log"),
    };
}

function portFrom(env: NodeJS.ProcessEnv, name: string): number | undefined {
    const raw = env[name];
    if (raw === undefined || raw === "") return undefined;
    const p = Number(raw);
    if (!Number.isInteger(p) || p < 1 || p > 65535) throw new Error(`${name}="${raw}" is not a port`);
    return p;
}

/** Ports: explicit env vars, else what the first `up` recorded, else the defaults. */
export function ports(l: Layout, env: NodeJS.ProcessEnv = process.env): Ports {
    const recorded: Partial<Ports> = existsSync(l.tierJson) ? (JSON.parse(readFileSync(l.tierJson, "utf8")).ports ?? {}) : {};
    return {
        postgres: portFrom(env, "DBTIER_LOCAL_POSTGRES_PORT") ?? recorded.postgres ?? DEFAULT_PORTS.postgres,
        pgbouncer: portFrom(env, "DBTIER_LOCAL_PGBOUNCER_PORT") ?? recorded.pgbouncer ?? DEFAULT_PORTS.pgbouncer,
        minio: portFrom(env, "DBTIER_LOCAL_MINIO_PORT") ?? recorded.minio ?? DEFAULT_PORTS.minio,
    };
}

/**
 * The binaries: Go-built ones from the directory scripts/install-tools.sh prints
 * (DBTIER_TOOLS_BIN, else ${DBTIER_TOOLS:-~/.cache/db-tier-tools}/bin), the rest from Debian.
 */
export function tools(env: NodeJS.ProcessEnv = process.env): Tools {
    const bin = env.DBTIER_TOOLS_BIN || join(env.DBTIER_TOOLS || join(homedir(), ".cache", "db-tier-tools"), "bin");
    return {
        walg: join(bin, "wal-g"),
        minio: join(bin, "minio"),
        pgBinDir: env.DBTIER_PG_BIN || "/usr/lib/postgresql/15/bin",
        pgbouncer: env.DBTIER_PGBOUNCER || "/usr/sbin/pgbouncer",
    };
}

export function missingTools(t: Tools): string[] {
    return [
        t.walg,
        t.minio,
        join(t.pgBinDir, "postgres"),
        join(t.pgBinDir, "initdb"),
        join(t.pgBinDir, "pg_ctl"),
        join(t.pgBinDir, "psql"),
        t.pgbouncer,
    ].filter((p) => !existsSync(p));
}
