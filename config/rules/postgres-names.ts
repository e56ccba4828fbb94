/**
 * Names PostgreSQL and pgBouncer reserve or cannot hold.
 *
 * - Identifiers are at most NAMEDATALEN-1 = 63 bytes; a longer name is truncated (database
 *   and role names included), so two long names can become one
 *   (https://www.postgresql.org/docs/15/sql-syntax-lexical.html#SQL-SYNTAX-IDENTIFIERS).
 *   pgBouncer keeps database names in a MAX_DBNAME (64) buffer too, and the tier adds
 *   `<db>_migrate` (MIGRATE_ALIAS_SUFFIX) for every database, so a database name may be at
 *   most 63 - 8 = 55 bytes.
 * - Unquoted identifiers fold to lowercase (same page): `MyDb` in a stack file would be
 *   `mydb` in every psql session, so the tier takes lowercase names only and says so.
 * - `postgres` (the maintenance database), `template0` and `template1` (CREATE DATABASE
 *   copies template1; docs/15/manage-ag-templatedbs.html) exist in every cluster: listing one
 *   would grant app_user CREATE there, and in template1 every later database would inherit
 *   app_user's objects. `pgbouncer` is pgBouncer's admin console database, which the tier
 *   keeps closed; a real database of that name could not be reached through the pooler.
 * - Role names starting with `pg_` are reserved (CREATE ROLE: "role name ... is reserved",
 *   docs/15/sql-createrole.html and predefined-roles.html); `public` and `none` are reserved
 *   words in role specifications (user.c refuses them); `current_user`, `current_role`,
 *   `session_user` mean someone else in GRANT and ALTER ROLE.
 */
import { APP_SERVICE, APP_USER, MIGRATE_ALIAS_SUFFIX } from "../../vocabulary";

/** NAMEDATALEN - 1 in a stock PostgreSQL build. */
export const MAX_IDENTIFIER_BYTES = 63;
/** Longest database name whose `<db>_migrate` alias still fits pgBouncer and PostgreSQL. */
export const MAX_DATABASE_NAME_BYTES = MAX_IDENTIFIER_BYTES - MIGRATE_ALIAS_SUFFIX.length;

export const RESERVED_DATABASES: Readonly<Record<string, string>> = {
    postgres: "is the maintenance database every cluster already has",
    template0: "is the template database every cluster already has",
    template1: "is the template database every cluster already has (CREATE DATABASE copies it)",
    pgbouncer: "is pgBouncer's admin console database, which the tier keeps closed",
};

export const RESERVED_ROLES: Readonly<Record<string, string>> = {
    public: "is reserved by PostgreSQL (PUBLIC means every role)",
    none: "is reserved by PostgreSQL",
    current_user: "means the calling role in GRANT and ALTER ROLE",
    current_role: "means the calling role in GRANT and ALTER ROLE",
    session_user: "means the session's role in GRANT and ALTER ROLE",
    [APP_USER]: "is the tier's application role",
    [APP_SERVICE]: "is the tier's service role",
};

const IDENT = /^[a-z_][a-z0-9_]*$/;

/** The nearest legal identifier, for the example in a message. */
function asIdentifier(name: string): string {
    const folded = name.toLowerCase().replace(/[^a-z0-9_]+/g, "_");
    return folded === "" || folded === "_" ? "app" : /^\d/.test(folded) ? `_${folded}` : folded;
}

/** Shape and case of an unquoted identifier; undefined when fine. */
export function identifierProblem(name: string, maxBytes = MAX_IDENTIFIER_BYTES): string | undefined {
    const bytes = Buffer.byteLength(name, "utf8");
    if (name === "") return "must not be empty (e.g. app)";
    if (!IDENT.test(name)) {
        const folded = name.toLowerCase();
        if (folded !== name && IDENT.test(folded)) {
            return `"${name}" has capital letters; PostgreSQL folds unquoted names to lowercase, so write "${folded}"`;
        }
        return `"${name}" must be a-z, 0-9 and '_', not starting with a digit (e.g. ${asIdentifier(name)})`;
    }
    if (bytes > maxBytes) return `"${name}" is ${bytes} bytes; at most ${maxBytes} fit`;
    return undefined;
}

export function databaseNameProblem(name: string): string | undefined {
    const shape = identifierProblem(name, MAX_IDENTIFIER_BYTES);
    if (shape) return shape;
    if (RESERVED_DATABASES[name]) return `"${name}" ${RESERVED_DATABASES[name]}; name your own database (e.g. app)`;
    if (name.endsWith(MIGRATE_ALIAS_SUFFIX))
        return `"${name}" ends with ${MIGRATE_ALIAS_SUFFIX}, which the tier reserves for the session-mode alias of each database`;
    const bytes = Buffer.byteLength(name, "utf8");
    if (bytes > MAX_DATABASE_NAME_BYTES) {
        return `"${name}" is ${bytes} bytes; at most ${MAX_DATABASE_NAME_BYTES} fit, because its pgBouncer alias ${name}${MIGRATE_ALIAS_SUFFIX} must stay within PostgreSQL's ${MAX_IDENTIFIER_BYTES}`;
    }
    return undefined;
}

export function roleNameProblem(name: string): string | undefined {
    const shape = identifierProblem(name);
    if (shape) return shape;
    if (name.startsWith("pg_"))
        return `"${name}" starts with pg_, which PostgreSQL reserves for its predefined roles (e.g. postgres or dbtier_root)`;
    if (RESERVED_ROLES[name]) return `"${name}" ${RESERVED_ROLES[name]}; choose another name (e.g. postgres)`;
    return undefined;
}

/** `table` or `schema.table`, unquoted (the drill quotes each part as written). */
export function tableNameProblem(name: string): string | undefined {
    const parts = name.split(".");
    if (parts.length > 2 || parts.some((p) => p === "")) return `"${name}" must be table or schema.table (e.g. public.orders)`;
    for (const part of parts) {
        const p = identifierProblem(part);
        if (p) return parts.length === 1 ? p : `${p} (in "${name}")`;
    }
    return undefined;
}
