/**
 * The restore drill's checks on the restored copy. Root (the cluster's superuser) prepares the
 * copy without evaluating anything an application role can create or replace; every check
 * then runs as DRILL_ROLE through psql or pg_amcheck spawned with an explicit minimal
 * environment (jobs/instance.ts clientEnv) over the scratch socket. See render/drill-sql.ts
 * for why each statement is safe.
 */
import { randomBytes } from "node:crypto";
import { join } from "node:path";
import {
    DATABASE_FACTS_SQL,
    DATABASES_SQL,
    DRILL_ROLE,
    drillRoleFactsSql,
    ENABLED_EVENT_TRIGGERS_SQL,
    MIGRATIONS_FACTS_SQL,
    MIGRATIONS_VERSION_SQL,
    type MigrationsFacts,
    migrationsRefusal,
    parseCounts,
    parseDatabaseFacts,
    parseTableFacts,
    renderCopyCount,
    renderCountQuery,
    renderCreateDrillRole,
    renderDatabaseSetup,
    renderDisableEventTriggers,
    renderSchemaQuery,
    roleExistsSql,
    rowCountKey,
    type TableFacts,
    TABLE_FACTS_SQL,
} from "../render/drill-sql";
import type { AmcheckMode } from "../render/job-config";
import { type CheckStatus, type DrillCheck, DRILL_JOB, type Finding } from "./evidence";
import * as pg from "./instance";
import type { TextLog } from "./log";
import { run } from "./proc";

/** Tables per count statement: each holds a lock until its transaction ends (max_locks_per_transaction). */
const COUNT_BATCH = 200;

const msg = (e: unknown): string => (e instanceof Error ? e.message : String(e));
const seconds = (ms: number): number => Math.round(ms / 10) / 100;

export interface CheckOutcome {
    readonly status: CheckStatus;
    readonly detail: string;
}

/** Runs one check, timing it; a throw is a failed check with the error as its detail. */
export async function timed(checks: DrillCheck[], name: string, role: string, fn: () => Promise<CheckOutcome>): Promise<DrillCheck> {
    const t0 = Date.now();
    let out: CheckOutcome;
    try {
        out = await fn();
    } catch (e) {
        out = { status: "failed", detail: msg(e) };
    }
    const check: DrillCheck = { name, status: out.status, role, duration_seconds: seconds(Date.now() - t0), detail: out.detail };
    checks.push(check);
    return check;
}

export interface CopyContext {
    readonly spec: pg.InstanceSpec;
    readonly superuser: string;
    /** The database the schema check and unqualified config table names refer to. */
    readonly mainDatabase: string;
    readonly log: TextLog;
    readonly checks: DrillCheck[];
    readonly findings: Finding[];
    /** The RTO deadline (ms since the epoch): checks are bounded by what is left of it, at least a minute. */
    readonly deadline: number;
}

/** What is left of the RTO budget for one check, at least a minute (a check still gets to say why it failed). */
export const budgetMs = (c: CopyContext): number => Math.max(60_000, c.deadline - Date.now());

/**
 * Root's part, before any check: disable event triggers (they would run at the setup's DDL),
 * create the drill role, install amcheck into a fresh schema, grant SELECT on user tables.
 * Returns the databases to check; throws when the copy cannot be prepared.
 */
export async function prepareCopy(c: CopyContext, amcheck: AmcheckMode): Promise<string[]> {
    const su = c.superuser;
    let databases: string[] = [];
    const check = await timed(c.checks, "drill-role-setup", su, async () => {
        databases = await pg.queryLines(c.spec, su, c.mainDatabase, DATABASES_SQL);
        if (Number(await pg.queryValue(c.spec, su, c.mainDatabase, roleExistsSql(DRILL_ROLE))) !== 0) {
            throw new Error(
                `a role named ${DRILL_ROLE} already exists in the backup: refusing to run checks as a role someone else defined`,
            );
        }
        await pg.queryLines(c.spec, su, c.mainDatabase, renderCreateDrillRole(DRILL_ROLE, databases));
        const disabled: string[] = [];
        for (const db of databases) {
            const triggers = await pg.queryLines(c.spec, su, db, ENABLED_EVENT_TRIGGERS_SQL);
            if (triggers.length > 0) {
                await pg.queryLines(c.spec, su, db, renderDisableEventTriggers(triggers));
                for (const t of triggers) {
                    disabled.push(`${db}.${t}`);
                    c.findings.push({
                        kind: "event-trigger-disabled",
                        database: db,
                        object: t,
                        detail: "disabled on the restored copy before the drill's setup DDL, so it could not run as root",
                    });
                }
            }
            const facts = parseDatabaseFacts(await pg.queryValue(c.spec, su, db, DATABASE_FACTS_SQL));
            const amcheckSchema = amcheck === "off" ? null : `dbtier_drill_${randomBytes(4).toString("hex")}`;
            const setup = renderDatabaseSetup({ role: DRILL_ROLE, facts, amcheckSchema });
            if (setup !== "") await pg.queryLines(c.spec, su, db, setup);
        }
        const role = await pg.queryValue(c.spec, su, c.mainDatabase, drillRoleFactsSql(DRILL_ROLE));
        c.log.add(`drill role on the restored copy: ${role}`);
        return {
            status: "passed",
            detail: `created ${DRILL_ROLE} on the restored copy (${role}); granted CONNECT, USAGE and SELECT on user schemas and tables${amcheck === "off" ? "" : ", EXECUTE on amcheck in a fresh schema"} in ${databases.join(", ")}; event triggers disabled: ${disabled.join(", ") || "none"}`,
        };
    });
    if (check.status !== "passed") throw new Error(`preparing the restored copy: ${check.detail}`);
    return databases;
}

interface CountResult {
    readonly counts: Record<string, number | null>;
    readonly errors: string[];
    readonly viaCopy: number;
    readonly tables: number;
}

/** Counts one database's tables as the drill role: count(*) where planning is inert, COPY otherwise. */
async function countDatabase(c: CopyContext, db: string, tables: readonly TableFacts[]): Promise<CountResult> {
    const counts: Record<string, number | null> = {};
    const errors: string[] = [];
    const key = (t: TableFacts): string => rowCountKey(db, c.mainDatabase, t.schema, t.table);
    const plain = tables.filter((t) => !t.expressions);
    const risky = tables.filter((t) => t.expressions);
    for (let i = 0; i < plain.length; i += COUNT_BATCH) {
        const batch = plain.slice(i, i + COUNT_BATCH);
        const r = await pg.psql(c.spec, DRILL_ROLE, db, renderCountQuery(batch), { readOnly: true, timeoutMs: budgetMs(c) });
        const got = r.code === 0 ? parseCounts(r.stdout) : new Map<number, number>();
        if (r.code !== 0) errors.push(`${db}: ${pg.psqlError(r)}`);
        batch.forEach((t, j) => {
            counts[key(t)] = got.get(j) ?? null;
        });
    }
    if (risky.length > 0) {
        const script = risky.flatMap((t, i) =>
            /[\n\r]/.test(t.schema + t.table) ? [] : [`\\echo '#' ${i}`, ...renderCopyCount(t), "\\echo '#' :ERROR"],
        );
        const r = await pg.psql(c.spec, DRILL_ROLE, db, script.join("\n"), { readOnly: true, stopOnError: false, timeoutMs: budgetMs(c) });
        // Lines: "# i", the count, "# false|true".
        const lines = r.stdout.split("\n");
        const got = new Map<number, number>();
        for (let i = 0; i + 2 < lines.length; i++) {
            const head = /^# (\d+)$/.exec(lines[i]);
            if (head && /^\d+$/.test(lines[i + 1]) && lines[i + 2] === "# false") got.set(Number(head[1]), Number(lines[i + 1]));
        }
        risky.forEach((t, i) => {
            counts[key(t)] = got.get(i) ?? null;
            if (!got.has(i))
                errors.push(
                    `${key(t)}: ${
                        r.stderr
                            .trim()
                            .split("\n")
                            .find((l) => l.includes(t.table)) ?? pg.psqlError(r)
                    }`,
                );
        });
    }
    return { counts, errors, viaCopy: risky.length, tables: tables.length };
}

/** Row counts of every user table in every database, and the RLS findings, as the drill role. */
export async function countAllRows(
    c: CopyContext,
    databases: readonly string[],
    rowCounts: Record<string, number | null>,
): Promise<DrillCheck> {
    return timed(c.checks, "row-counts", DRILL_ROLE, async () => {
        let tables = 0;
        let viaCopy = 0;
        const errors: string[] = [];
        for (const db of databases) {
            let facts: TableFacts[];
            try {
                facts = parseTableFacts(await pg.queryValue(c.spec, DRILL_ROLE, db, TABLE_FACTS_SQL, { readOnly: true }));
            } catch (e) {
                errors.push(`${db}: reading pg_catalog: ${msg(e)}`);
                continue;
            }
            for (const t of facts.filter((f) => f.rls && !f.rlsForced)) {
                c.findings.push({
                    kind: "rls-not-forced",
                    database: db,
                    object: `${t.schema}.${t.table}`,
                    detail: `row level security is enabled but not forced: its owner ${t.owner} bypasses the policies (ALTER TABLE ... FORCE ROW LEVEL SECURITY)`,
                });
            }
            const r = await countDatabase(c, db, facts);
            Object.assign(rowCounts, r.counts);
            errors.push(...r.errors);
            tables += r.tables;
            viaCopy += r.viaCopy;
        }
        if (errors.length > 0)
            return { status: "failed", detail: `${errors.length} table(s) or database(s) not counted: ${errors.slice(0, 5).join("; ")}` };
        if (tables === 0) return { status: "skipped", detail: `no user tables in ${databases.join(", ")}` };
        return {
            status: "passed",
            detail: `${tables} table(s) in ${databases.length} database(s) counted${viaCopy > 0 ? ` (${viaCopy} by COPY, without planning: their indexes or statistics have expressions)` : ""}`,
        };
    });
}

/** "items" or "public.items" (the config's names) to the row_counts key of the main database. */
export function configTableKey(name: string): string {
    return name.includes(".") ? name : `public.${name}`;
}

/** Checks of the configured tables and their minimum row counts, against the counts already taken. */
export function checkConfiguredTables(
    c: CopyContext,
    tables: readonly string[],
    minRows: Readonly<Record<string, number>>,
    rowCounts: Record<string, number | null>,
): void {
    for (const name of [...new Set([...tables, ...Object.keys(minRows)])]) {
        const key = configTableKey(name);
        const n = rowCounts[key];
        const min = minRows[name];
        let out: CheckOutcome;
        if (!(key in rowCounts)) out = { status: "failed", detail: `no table ${key} in database ${c.mainDatabase}` };
        else if (n === null || n === undefined) out = { status: "failed", detail: `${key} could not be counted` };
        else if (min === undefined) out = { status: "passed", detail: `${n} rows` };
        else out = { status: n >= min ? "passed" : "failed", detail: `${n} rows, at least ${min} required` };
        c.checks.push({ name: `rows:${name}`, status: out.status, role: DRILL_ROLE, duration_seconds: 0, detail: out.detail });
    }
}

/**
 * The schema version: a configured query (read-only, as the drill role), else Drizzle's
 * migrations table once pg_catalog says it is a plain table that planning cannot run code for.
 */
export async function schemaVersion(c: CopyContext, schemaQuery: string | undefined, ev: { schema_version: unknown }): Promise<DrillCheck> {
    return timed(c.checks, "schema", DRILL_ROLE, async () => {
        let sql: string;
        let source: string;
        if (schemaQuery) {
            sql = renderSchemaQuery(schemaQuery);
            source = "the configured schemaQuery";
        } else {
            const factsText = await pg.queryValue(c.spec, DRILL_ROLE, c.mainDatabase, MIGRATIONS_FACTS_SQL, { readOnly: true });
            if (factsText === "")
                return { status: "skipped", detail: "no schemaQuery configured and no drizzle.__drizzle_migrations table" };
            const facts = JSON.parse(factsText) as MigrationsFacts;
            const refusal = migrationsRefusal(facts);
            if (refusal) return { status: "failed", detail: refusal };
            sql = MIGRATIONS_VERSION_SQL;
            source = `drizzle.__drizzle_migrations (plain table owned by ${facts.owner})`;
        }
        const row = await pg.queryValue(c.spec, DRILL_ROLE, c.mainDatabase, sql, { readOnly: true });
        if (row === "") throw new Error(`${source} returned no rows`);
        const obj = JSON.parse(row) as Record<string, unknown>;
        const values = Object.values(obj);
        ev.schema_version = values.length === 1 ? values[0] : obj;
        return { status: "passed", detail: `schema version ${JSON.stringify(ev.schema_version)} from ${source}` };
    });
}

/**
 * pg_amcheck over every database, as the drill role. With heapallindexed, amcheck evaluates
 * index expressions as the table's owner inside a security-restricted operation (PostgreSQL's
 * fix of CVE-2022-1552), so even that runs no application code with more than its owner's rights.
 */
export async function runAmcheck(c: CopyContext, mode: AmcheckMode): Promise<DrillCheck> {
    return timed(c.checks, "amcheck", DRILL_ROLE, async () => {
        if (mode === "off") return { status: "skipped", detail: "disabled by drill.amcheck = off" };
        const args = [
            "-h",
            c.spec.scratchDir,
            "-p",
            String(pg.port(c.spec)),
            "-U",
            DRILL_ROLE,
            "--all",
            "--jobs",
            "2",
            ...(mode === "heapallindexed" ? ["--heapallindexed"] : []),
        ];
        const r = await run(join(c.spec.pgBinDir, "pg_amcheck"), args, { env: pg.clientEnv(c.spec, true), timeoutMs: budgetMs(c) });
        const out = `${r.stdout}\n${r.stderr}`.trim();
        if (out !== "") c.log.addBlock("[pg_amcheck]", out.split("\n").slice(0, 200).join("\n"));
        if (r.code === 0)
            return {
                status: "passed",
                detail: `pg_amcheck --all${mode === "heapallindexed" ? " --heapallindexed" : ""}: no corruption in heap tables and B-tree indexes`,
            };
        const first = out
            .split("\n")
            .filter((l) => l.trim() !== "")
            .slice(0, 3)
            .join(" | ");
        return { status: "failed", detail: `pg_amcheck ${r.timedOut ? "timed out" : `exit ${r.code}`}: ${first}` };
    });
}

/** The drill's rule: a restore passes only when at least one check actually verified data. */
export const DATA_CHECKS = ["row-counts", "schema", "amcheck"] as const;

export function dataGate(checks: DrillCheck[]): DrillCheck {
    const data = checks.filter((k) => (DATA_CHECKS as readonly string[]).includes(k.name));
    const passed = data.filter((k) => k.status === "passed").map((k) => k.name);
    const check: DrillCheck =
        passed.length > 0
            ? {
                  name: "data-verified",
                  status: "passed",
                  role: DRILL_JOB,
                  duration_seconds: 0,
                  detail: `data verified by ${passed.join(", ")}`,
              }
            : {
                  name: "data-verified",
                  status: "failed",
                  role: DRILL_JOB,
                  duration_seconds: 0,
                  detail: `no data check passed (${data.map((k) => `${k.name}: ${k.status}`).join(", ") || "none ran"}): a restore that verified no data does not pass`,
              };
    checks.push(check);
    return check;
}
