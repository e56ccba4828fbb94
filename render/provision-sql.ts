/**
 * The convergence script the provisioner runs as root with psql. Create-or-update, never
 * create-or-skip: every run ends with `ALTER ROLE ... PASSWORD '<SCRAM verifier>'` and the
 * role's attributes, and prints one JSON line per role (role, action, timestamp) as the
 * rotation evidence. Running it twice leaves the same catalog.
 */
import { APP_SERVICE, APP_USER } from "../vocabulary";
import { sqlIdent, sqlLiteral } from "./quote";
import { isScramVerifier } from "./scram";
import { WAL_RECEIVE_SLOT, WAL_RECEIVER_ROLE } from "./wal-receive";

export interface RoleSpec {
    readonly name: string;
    readonly verifier: string;
    /** Attributes set on every run; `null` leaves attributes alone (root keeps SUPERUSER). */
    readonly attributes: RoleAttributes | null;
}

export interface RoleAttributes {
    readonly bypassRls: boolean;
    /** REPLICATION: only the WAL receiver's role (streaming WAL archiving). */
    readonly replication?: boolean;
}

export interface ProvisionInput {
    readonly rootUser: string;
    readonly rootVerifier: string;
    readonly appUserVerifier: string;
    readonly appServiceVerifier: string;
    readonly databases: readonly string[];
    /**
     * With streaming WAL archiving (`backup.walStreaming`): the verifier of the receiver's
     * replication role. Absent: that role, if an earlier run made it, loses LOGIN and
     * REPLICATION, and an inactive receiver slot is dropped (it would hold WAL back).
     */
    readonly walReceiverVerifier?: string;
}

/** The roles of the model, in the order they are converged. */
export function roleSpecs(p: ProvisionInput): RoleSpec[] {
    return [
        { name: p.rootUser, verifier: p.rootVerifier, attributes: null },
        { name: APP_USER, verifier: p.appUserVerifier, attributes: { bypassRls: false } },
        { name: APP_SERVICE, verifier: p.appServiceVerifier, attributes: { bypassRls: true } },
        ...(p.walReceiverVerifier
            ? [{ name: WAL_RECEIVER_ROLE, verifier: p.walReceiverVerifier, attributes: { bypassRls: false, replication: true } }]
            : []),
    ];
}

function attributeClause(a: RoleAttributes): string {
    return `LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB ${a.replication ? "REPLICATION" : "NOREPLICATION"} INHERIT ${a.bypassRls ? "BYPASSRLS" : "NOBYPASSRLS"}`;
}

/** True when the current catalog row already matches the wanted attributes. */
function attributesMatch(a: RoleAttributes): string {
    return `b.rolcanlogin AND NOT b.rolsuper AND NOT b.rolcreaterole AND NOT b.rolcreatedb AND b.rolreplication = ${a.replication === true} AND b.rolinherit AND b.rolbypassrls = ${a.bypassRls}`;
}

function convergeRole(r: RoleSpec, ord: number): string {
    if (!isScramVerifier(r.verifier)) throw new Error(`renderProvisionSql: role ${r.name} has no SCRAM verifier`);
    const same = r.attributes
        ? `b.rolpassword = ${sqlLiteral(r.verifier)} AND ${attributesMatch(r.attributes)}`
        : `b.rolpassword = ${sqlLiteral(r.verifier)}`;
    const alter = r.attributes
        ? `ALTER ROLE ${sqlIdent(r.name)} WITH ${attributeClause(r.attributes)} PASSWORD ${sqlLiteral(r.verifier)};`
        : `ALTER ROLE ${sqlIdent(r.name)} WITH PASSWORD ${sqlLiteral(r.verifier)};`;
    return `DO $converge$
DECLARE b record; act text;
BEGIN
  SELECT * INTO b FROM pg_authid WHERE rolname = ${sqlLiteral(r.name)};
  IF NOT FOUND THEN
    CREATE ROLE ${sqlIdent(r.name)};
    act := 'created';
  ELSIF ${same} THEN
    act := 'unchanged';
  ELSE
    act := 'updated';
  END IF;
  ${alter}
  INSERT INTO pg_temp.dbtier_converged VALUES (${ord}, ${sqlLiteral(r.name)}, act);
END
$converge$;`;
}

function databaseGrants(db: string, rootUser: string): string {
    const d = sqlIdent(db);
    const u = sqlIdent(APP_USER);
    const s = sqlIdent(APP_SERVICE);
    return `SELECT format('CREATE DATABASE %I OWNER %I', ${sqlLiteral(db)}, ${sqlLiteral(rootUser)})
  WHERE NOT EXISTS (SELECT FROM pg_database WHERE datname = ${sqlLiteral(db)}) \\gexec
REVOKE ALL ON DATABASE ${d} FROM PUBLIC;
GRANT CONNECT, TEMPORARY ON DATABASE ${d} TO ${u}, ${s};
-- Migrations run as app_user (through the session-mode alias): it may create schemas.
GRANT CREATE ON DATABASE ${d} TO ${u};
\\connect ${d}
${PIN_SEARCH_PATH}
REVOKE ALL ON SCHEMA public FROM PUBLIC;
GRANT USAGE, CREATE ON SCHEMA public TO ${u};
GRANT USAGE ON SCHEMA public TO ${s};
GRANT SELECT, INSERT, UPDATE, DELETE ON ALL TABLES IN SCHEMA public TO ${s};
GRANT USAGE, SELECT, UPDATE ON ALL SEQUENCES IN SCHEMA public TO ${s};
ALTER DEFAULT PRIVILEGES FOR ROLE ${u} IN SCHEMA public GRANT SELECT, INSERT, UPDATE, DELETE ON TABLES TO ${s};
ALTER DEFAULT PRIVILEGES FOR ROLE ${u} IN SCHEMA public GRANT USAGE, SELECT, UPDATE ON SEQUENCES TO ${s};
\\connect postgres
${PIN_SEARCH_PATH}`;
}

/**
 * Every session of the script (each \\connect starts one) resolves names in pg_catalog
 * only: root never calls a function or operator an application role put in public
 * (CVE-2018-1058's trap), even if a later edit adds an unqualified call.
 */
const PIN_SEARCH_PATH = "SET search_path = pg_catalog;";

/**
 * PGOPTIONS of the provisioning psql: sent in the startup packet of every session of the
 * script (libpq reads PGOPTIONS for each \\connect too), where they outrank ALTER DATABASE
 * and ALTER ROLE settings. `role=none`: a database-level `SET role` (set by anyone who can
 * alter a database) would otherwise turn root's session into that role's, and provisioning
 * would run, or fail halfway, with its rights. `search_path=pg_catalog`: from the first
 * statement on, before PIN_SEARCH_PATH.
 */
export const PROVISION_SESSION_OPTIONS = "-c role=none -c search_path=pg_catalog";

/**
 * Least privilege outside the application databases. PostgreSQL grants PUBLIC CONNECT and
 * TEMPORARY on every database and USAGE on every public schema: PUBLIC loses both
 * everywhere, the public schema of template1 included, which every new database copies, so
 * a database created later starts with a closed schema too. Root (superuser) is not bound by
 * these grants; nothing else of the tier connects to postgres or template1 (pgBouncer
 * serves only the application databases; WAL-G uses root or the replication protocol).
 */
function clusterHardening(): string {
    // Every database that accepts connections, also one created by hand since the last
    // run (CREATE DATABASE gives PUBLIC CONNECT and TEMPORARY; the ACL is not copied from
    // the template). The application databases then grant their two roles by name.
    return `SELECT format('REVOKE ALL ON DATABASE %I FROM PUBLIC', datname) FROM pg_catalog.pg_database WHERE datallowconn ORDER BY datname \\gexec
\\connect template1
${PIN_SEARCH_PATH}
REVOKE ALL ON SCHEMA public FROM PUBLIC;
\\connect postgres
${PIN_SEARCH_PATH}
REVOKE ALL ON SCHEMA public FROM PUBLIC;`;
}

/** The psql script (run with `psql -X -q -At -f`). Its stdout is the JSON evidence lines. */
export function renderProvisionSql(p: ProvisionInput): string {
    const roles = roleSpecs(p);
    return `-- Rendered by db-tier: converge roles, databases and grants. Safe to run any number of times.
\\set ON_ERROR_STOP on
\\set QUIET on
SET client_min_messages = warning;
${PIN_SEARCH_PATH}
CREATE TEMP TABLE dbtier_converged (ord int, role text, action text);
BEGIN;
${roles.map((r, i) => convergeRole(r, i)).join("\n")}
COMMIT;
SELECT json_build_object('event', 'db-tier.role-converged', 'role', role, 'action', action,
  'at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text
  FROM pg_temp.dbtier_converged ORDER BY ord;
${clusterHardening()}
${p.databases.map((db) => databaseGrants(db, p.rootUser)).join("\n")}
${walReceiverAccess(p.walReceiverVerifier !== undefined)}
-- Clusters provisioned for WAL-G v1 carry its pg_start_backup/pg_stop_backup wrappers in
-- database postgres; WAL-G v3 calls PostgreSQL 15's own functions, so they go.
DROP FUNCTION IF EXISTS public.pg_start_backup(text, boolean, boolean);
DROP FUNCTION IF EXISTS public.pg_stop_backup(boolean);`;
}

/**
 * The WAL receiver reads its slot and wal_segment_size over one ordinary connection to
 * database postgres (PUBLIC lost CONNECT there), then streams over the replication protocol
 * (pg_hba's `replication` line names this role alone). Without streaming, a role and slot
 * left from an earlier configuration are disarmed: an abandoned slot would keep WAL forever.
 */
function walReceiverAccess(streaming: boolean): string {
    const role = sqlIdent(WAL_RECEIVER_ROLE);
    if (streaming) return `GRANT CONNECT ON DATABASE postgres TO ${role};`;
    return `DO $disarm$
BEGIN
  IF EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${sqlLiteral(WAL_RECEIVER_ROLE)}) THEN
    ALTER ROLE ${role} WITH NOLOGIN NOREPLICATION;
  END IF;
  PERFORM pg_catalog.pg_drop_replication_slot(slot_name) FROM pg_catalog.pg_replication_slots
    WHERE slot_name = ${sqlLiteral(WAL_RECEIVE_SLOT)} AND NOT active;
END
$disarm$;`;
}
