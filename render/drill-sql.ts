/**
 * The SQL the restore drill runs on its restored, throwaway copy, and the parsers of what it
 * prints. Pure: no connections here (jobs/drill-checks.ts runs it).
 *
 * Who runs what. The cluster's root only does setup that evaluates no object an application
 * role can create or replace: reads of pg_catalog, ALTER EVENT TRIGGER ... DISABLE, CREATE
 * ROLE, GRANT, CREATE EXTENSION amcheck into a fresh schema. Every check runs as DRILL_ROLE,
 * created on the copy only: not superuser, owns nothing, read-only, search_path pinned to
 * pg_catalog, SELECT on user tables and EXECUTE on amcheck, nothing else (not
 * pg_read_all_data: that also reads pg_authid's password verifiers).
 *
 * Why counts are safe. Planning a SELECT loads the table's index expressions, index
 * predicates and statistics expressions and constant-folds them: an IMMUTABLE function with
 * constant arguments runs right there, as the querying role (measured on PostgreSQL 15). So a
 * table whose catalog entry has any such expression is counted with COPY TO, which reads the
 * heap without the planner; the others with count(*). BYPASSRLS means no policy expression
 * is ever evaluated either. Names are always schema-qualified and quoted.
 */
import { sqlIdent, sqlLiteral } from "./quote";

/** The role the drill's checks run as; it exists on the restored copy only. */
export const DRILL_ROLE = "dbtier_drill";

/** Schemas that hold no user tables. */
const SYSTEM_SCHEMAS = "('pg_catalog', 'information_schema', 'pg_toast')";
const NOT_TEMP_SCHEMA = (col: string): string => `${col} NOT LIKE 'pg\\_temp\\_%' AND ${col} NOT LIKE 'pg\\_toast\\_temp\\_%'`;

/**
 * Settings sent in the startup packet (PGOPTIONS) of every drill connection. They outrank
 * ALTER DATABASE/ROLE ... SET, which a database's owner (an application role) could have used
 * to move pg_catalog behind its own schema or to break the checks with a 1 ms timeout.
 */
export function sessionOptions(readOnly: boolean): string {
    return [
        "search_path=pg_catalog",
        // ALTER DATABASE ... SET role = '<owner>' would otherwise turn even root's session into the owner's.
        "role=none",
        `default_transaction_read_only=${readOnly ? "on" : "off"}`,
        "DateStyle=ISO",
        "TimeZone=UTC",
        "statement_timeout=0",
        "lock_timeout=0",
        // Constraint exclusion would load (and constant-fold) CHECK and partition constraints.
        "constraint_exclusion=off",
        "jit=off",
        "client_min_messages=warning",
    ]
        .map((s) => `-c ${s}`)
        .join(" ");
}

/** Enabled event triggers: they would fire for the setup's DDL (CREATE EXTENSION, GRANT). */
export const ENABLED_EVENT_TRIGGERS_SQL = "SELECT evtname FROM pg_catalog.pg_event_trigger WHERE evtenabled <> 'D' ORDER BY evtname";

/** ALTER EVENT TRIGGER fires no event trigger itself (commands on event triggers never do). */
export function renderDisableEventTriggers(names: readonly string[]): string {
    return names.map((n) => `ALTER EVENT TRIGGER ${sqlIdent(n)} DISABLE;`).join("\n");
}

/** Databases the drill checks: every one that accepts connections. */
export const DATABASES_SQL = "SELECT datname FROM pg_catalog.pg_database WHERE datallowconn ORDER BY datname";

export function roleExistsSql(role: string): string {
    return `SELECT pg_catalog.count(*) FROM pg_catalog.pg_roles WHERE rolname = ${sqlLiteral(role)}`;
}

/** The drill role and its CONNECT grants (databases and roles are shared objects: no event trigger fires). */
export function renderCreateDrillRole(role: string, databases: readonly string[]): string {
    const r = sqlIdent(role);
    return [
        `CREATE ROLE ${r} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOINHERIT BYPASSRLS;`,
        `ALTER ROLE ${r} SET search_path = pg_catalog;`,
        `ALTER ROLE ${r} SET default_transaction_read_only = on;`,
        ...databases.map((d) => `GRANT CONNECT ON DATABASE ${sqlIdent(d)} TO ${r};`),
    ].join("\n");
}

/** What the setup of one database needs to know, read from pg_catalog as root. */
export interface DatabaseFacts {
    /** Schemas that may hold user tables. */
    readonly schemas: string[];
    /** Schema of an amcheck extension the primary already had, else null. */
    readonly amcheckSchema: string | null;
}

export const DATABASE_FACTS_SQL = `SELECT pg_catalog.json_build_object(
  'schemas', COALESCE((SELECT pg_catalog.json_agg(nspname ORDER BY nspname) FROM pg_catalog.pg_namespace
                       WHERE nspname NOT IN ${SYSTEM_SCHEMAS} AND ${NOT_TEMP_SCHEMA("nspname")}), '[]'),
  'amcheckSchema', (SELECT n.nspname FROM pg_catalog.pg_extension e JOIN pg_catalog.pg_namespace n ON n.oid = e.extnamespace WHERE e.extname = 'amcheck')
)::text`;

export function parseDatabaseFacts(text: string): DatabaseFacts {
    const o = JSON.parse(text) as { schemas: string[]; amcheckSchema: string | null };
    return { schemas: o.schemas ?? [], amcheckSchema: o.amcheckSchema ?? null };
}

export interface DatabaseSetup {
    readonly role: string;
    readonly facts: DatabaseFacts;
    /** A schema name no object of the copy uses (random suffix), for amcheck; null: no amcheck. */
    readonly amcheckSchema: string | null;
}

/**
 * Grants for one database. amcheck goes into a fresh schema root owns, so no function an
 * application role placed in a schema it owns can stand in for bt_index_check (an overload
 * with a better-matching signature would win). An amcheck the primary had is moved there.
 */
export function renderDatabaseSetup(s: DatabaseSetup): string {
    const r = sqlIdent(s.role);
    const lines: string[] = [];
    if (s.amcheckSchema !== null) {
        const schema = sqlIdent(s.amcheckSchema);
        lines.push(`CREATE SCHEMA ${schema};`);
        if (s.facts.amcheckSchema !== null) {
            lines.push(`ALTER EXTENSION amcheck SET SCHEMA ${schema};`, "ALTER EXTENSION amcheck UPDATE;");
        } else {
            lines.push(`CREATE EXTENSION amcheck SCHEMA ${schema};`);
        }
        lines.push(`GRANT USAGE ON SCHEMA ${schema} TO ${r};`, `GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA ${schema} TO ${r};`);
    }
    for (const n of s.facts.schemas) {
        lines.push(`GRANT USAGE ON SCHEMA ${sqlIdent(n)} TO ${r};`, `GRANT SELECT ON ALL TABLES IN SCHEMA ${sqlIdent(n)} TO ${r};`);
    }
    return lines.join("\n");
}

/** One user table as pg_catalog describes it. */
export interface TableFacts {
    readonly schema: string;
    readonly table: string;
    readonly owner: string;
    readonly rls: boolean;
    readonly rlsForced: boolean;
    /** Index expressions/predicates, statistics expressions or partition-key expressions: planning would evaluate them. */
    readonly expressions: boolean;
    /** A column to COPY (fixed-width first), or null for a table without columns. */
    readonly copyColumn: string | null;
}

/** Every plain table (relkind 'r', partitions included) of the database, as the drill role. */
export const TABLE_FACTS_SQL = `SELECT COALESCE(pg_catalog.json_agg(pg_catalog.json_build_object(
  'schema', n.nspname, 'table', c.relname, 'owner', pg_catalog.pg_get_userbyid(c.relowner),
  'rls', c.relrowsecurity, 'rlsForced', c.relforcerowsecurity,
  'expressions',
     EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL))
  OR EXISTS (SELECT FROM pg_catalog.pg_statistic_ext s WHERE s.stxrelid = c.oid AND s.stxexprs IS NOT NULL)
  OR (c.relispartition AND EXISTS (SELECT FROM pg_catalog.pg_partition_ancestors(c.oid) a
                                   JOIN pg_catalog.pg_partitioned_table p ON p.partrelid = a.relid WHERE p.partexprs IS NOT NULL)),
  'copyColumn', (SELECT a.attname FROM pg_catalog.pg_attribute a JOIN pg_catalog.pg_type t ON t.oid = a.atttypid
                 WHERE a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped ORDER BY (t.typlen < 0), a.attnum LIMIT 1)
) ORDER BY n.nspname, c.relname), '[]')::text
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ${SYSTEM_SCHEMAS} AND ${NOT_TEMP_SCHEMA("n.nspname")}`;

export function parseTableFacts(text: string): TableFacts[] {
    const rows = JSON.parse(text) as TableFacts[];
    if (!Array.isArray(rows)) throw new Error("table facts: not a JSON array");
    return rows;
}

export const qualified = (schema: string, table: string): string => `${sqlIdent(schema)}.${sqlIdent(table)}`;

/** One read-only statement counting each table (ONLY: children are counted on their own); rows "index|count". */
export function renderCountQuery(tables: readonly TableFacts[]): string {
    if (tables.length === 0) throw new Error("renderCountQuery: no tables");
    const parts = tables.map((t, i) => `SELECT ${i}, pg_catalog.count(*) FROM ONLY ${qualified(t.schema, t.table)}`);
    return `BEGIN READ ONLY;\n${parts.join("\nUNION ALL ")};\nCOMMIT;`;
}

/** psql commands that COPY one column of a table to /dev/null and print the row count. */
export function renderCopyCount(t: TableFacts): string[] {
    const cols = t.copyColumn === null ? "" : ` (${sqlIdent(t.copyColumn)})`;
    return [`\\copy ${qualified(t.schema, t.table)}${cols} TO '/dev/null'`, "\\echo :ROW_COUNT"];
}

/** Parses "index|count" lines into counts by index. */
export function parseCounts(stdout: string): Map<number, number> {
    const out = new Map<number, number>();
    for (const line of stdout.split("\n")) {
        const m = /^(\d+)\|(\d+)$/.exec(line.trim());
        if (m) out.set(Number(m[1]), Number(m[2]));
    }
    return out;
}

/**
 * A row_counts key: "schema.table" in the drill's database (the names the config's tables and
 * minRows use), "database.schema.table" in the others. A part with anything but [a-z0-9_] is
 * double-quoted, so keys stay unambiguous.
 */
export function rowCountKey(database: string, mainDatabase: string, schema: string, table: string): string {
    const part = (s: string): string => (/^[a-z_][a-z0-9_]*$/.test(s) ? s : sqlIdent(s));
    return [...(database === mainDatabase ? [] : [database]), schema, table].map(part).join(".");
}

/** Drizzle's migrations table, as pg_catalog describes it (null: no such relation). */
export interface MigrationsFacts {
    readonly relkind: string;
    readonly owner: string;
    readonly expressions: boolean;
    readonly hasId: boolean;
}

export const DRIZZLE_SCHEMA = "drizzle";
export const DRIZZLE_TABLE = "__drizzle_migrations";

/** Facts of drizzle.__drizzle_migrations whatever kind of relation it is, without touching it. */
export const MIGRATIONS_FACTS_SQL = `SELECT pg_catalog.json_build_object(
  'relkind', c.relkind, 'owner', pg_catalog.pg_get_userbyid(c.relowner),
  'expressions',
     EXISTS (SELECT FROM pg_catalog.pg_index i WHERE i.indrelid = c.oid AND (i.indexprs IS NOT NULL OR i.indpred IS NOT NULL))
  OR EXISTS (SELECT FROM pg_catalog.pg_statistic_ext s WHERE s.stxrelid = c.oid AND s.stxexprs IS NOT NULL),
  'hasId', EXISTS (SELECT FROM pg_catalog.pg_attribute a WHERE a.attrelid = c.oid AND a.attname = 'id' AND a.attnum > 0 AND NOT a.attisdropped)
)::text
FROM pg_catalog.pg_class c JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = ${sqlLiteral(DRIZZLE_SCHEMA)} AND c.relname = ${sqlLiteral(DRIZZLE_TABLE)}`;

const RELKIND: Record<string, string> = {
    r: "table",
    v: "view",
    m: "materialized view",
    f: "foreign table",
    p: "partitioned table",
    S: "sequence",
    c: "composite type",
    i: "index",
};

/** Why the migrations table must not be read, or null when it is a plain table safe to read. */
export function migrationsRefusal(f: MigrationsFacts): string | null {
    const what = `${DRIZZLE_SCHEMA}.${DRIZZLE_TABLE}`;
    if (f.relkind !== "r")
        return `${what} is a ${RELKIND[f.relkind] ?? `relation of kind ${f.relkind}`} owned by ${f.owner}, not a plain table: not read`;
    if (f.expressions) return `${what} (owned by ${f.owner}) has index or statistics expressions that planning would evaluate: not read`;
    if (!f.hasId) return `${what} (owned by ${f.owner}) has no id column`;
    return null;
}

/** The newest migration as one JSON object; only after migrationsRefusal() said null. */
export const MIGRATIONS_VERSION_SQL = `BEGIN READ ONLY;
SELECT pg_catalog.row_to_json(q)::text FROM (SELECT * FROM ${qualified(DRIZZLE_SCHEMA, DRIZZLE_TABLE)} ORDER BY "id" DESC LIMIT 1) q;
COMMIT;`;

/** An operator-configured schema query, read-only, as one JSON object. */
export function renderSchemaQuery(query: string): string {
    const q = query.trim().replace(/;+\s*$/, "");
    return `BEGIN READ ONLY;\nSELECT pg_catalog.row_to_json(q)::text FROM (${q}) q LIMIT 1;\nCOMMIT;`;
}

/** The drill role as the server sees it, to put in the evidence. */
export function drillRoleFactsSql(role: string): string {
    return `SELECT pg_catalog.json_build_object('role', rolname, 'superuser', rolsuper, 'bypassrls', rolbypassrls, 'createrole', rolcreaterole,
  'createdb', rolcreatedb, 'replication', rolreplication, 'settings', (SELECT setconfig FROM pg_catalog.pg_db_role_setting WHERE setrole = r.oid AND setdatabase = 0),
  'member_of', (SELECT COALESCE(pg_catalog.json_agg(m.roleid::regrole::text), '[]') FROM pg_catalog.pg_auth_members m WHERE m.member = r.oid),
  'owns', (SELECT pg_catalog.count(*) FROM pg_catalog.pg_class WHERE relowner = r.oid))::text
FROM pg_catalog.pg_roles r WHERE rolname = ${sqlLiteral(role)}`;
}
