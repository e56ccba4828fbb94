/**
 * The drill's throwaway Postgres: written config, start, wait for promotion, query, stop.
 * It listens on a Unix socket inside its scratch directory (plus 127.0.0.1:<keepPort> when
 * it is kept for inspection); its pg_hba trusts that socket only.
 */
import { existsSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { sessionOptions } from "../render/drill-sql";
import { renderPgHba } from "../render/pg-hba";
import { renderPostgresqlConf } from "../render/postgresql-conf";
import { shellQuote } from "../render/quote";
import { describeFailure, run, type RunResult } from "./proc";

export interface InstanceSpec {
    readonly pgBinDir: string;
    readonly scratchDir: string;
    /** OS user that runs postgres when we are root. */
    readonly runAsUser?: string;
    readonly walgBinary: string;
    readonly walgEnvFile: string;
    readonly keepPort?: number;
}

/** Port of the socket-only instance (only names the socket file). */
export const SOCKET_ONLY_PORT = 5432;

export function dataDir(s: InstanceSpec): string {
    return join(s.scratchDir, "data");
}
export function port(s: InstanceSpec): number {
    return s.keepPort ?? SOCKET_ONLY_PORT;
}
export function serverLog(s: InstanceSpec): string {
    return join(s.scratchDir, "postgres.log");
}
const confPath = (s: InstanceSpec): string => join(s.scratchDir, "postgresql.conf");
const hbaPath = (s: InstanceSpec): string => join(s.scratchDir, "pg_hba.conf");

function asServerUser(s: InstanceSpec, argv: string[]): [string, string[]] {
    if (s.runAsUser && process.getuid?.() === 0) return ["runuser", ["-u", s.runAsUser, "--", ...argv]];
    return [argv[0], argv.slice(1)];
}

/** "2027-01-01 10:00:00.123+00": recovery_target_time refuses ISO 8601's "T...Z" form. */
export function pgTimestamp(d: Date): string {
    return `${d.toISOString().replace("T", " ").replace("Z", "")}+00`;
}

/** Where recovery stops: the end of WAL, a time, or the backup's own consistent end ("immediate"). */
export type RecoveryTarget = { readonly time: Date } | { readonly immediate: true } | undefined;

function targetSettings(t: RecoveryTarget): Record<string, string> {
    if (t === undefined) return {};
    if ("immediate" in t) return { recovery_target: "immediate" };
    return { recovery_target_time: pgTimestamp(t.time), recovery_target_inclusive: "on" };
}

export function renderRecoveryConf(s: InstanceSpec, target?: RecoveryTarget): string {
    return renderPostgresqlConf({
        listenAddresses: s.keepPort ? "127.0.0.1" : "",
        port: port(s),
        maxConnections: 20,
        sharedBuffers: "64MB",
        hbaFile: hbaPath(s),
        unixSocketDirectories: s.scratchDir,
        archive: { walgBinary: s.walgBinary, walgEnvFile: s.walgEnvFile, rpoSeconds: 60, pushTimeoutSeconds: 60, fetchTimeoutSeconds: 120 },
        extra: {
            // Never archive from a restored copy: its new timeline would land in the primary's prefix.
            archive_mode: "off",
            // No queries during recovery, so a smaller max_connections than the primary's is fine.
            hot_standby: "off",
            unix_socket_permissions: "0700",
            recovery_target_action: "promote",
            ...targetSettings(target),
        },
    });
}

/**
 * The scratch socket only, while the drill restores and checks: a kept instance's TCP logins
 * (the primary's roles, SCRAM) open only after the checks (openKeptPort), so no application
 * role can change the copy between the drill's catalog reads and its checks.
 */
export function renderRecoveryHba(s: InstanceSpec, opts: { tcp?: boolean } = {}): string {
    const tcp =
        s.keepPort && opts.tcp
            ? renderPgHba({ localPeer: false, clientNetworks: ["127.0.0.1/32"] })
                  .split("\n")
                  .filter((l) => l.startsWith("host "))
            : [];
    const closed = s.keepPort && !opts.tcp ? ["host all all 0.0.0.0/0 reject", "host all all ::/0 reject"] : [];
    return [
        "# Rendered by db-tier for a restore drill: the scratch socket only (plus SCRAM on 127.0.0.1 once kept).",
        "local all all trust",
        ...tcp,
        ...closed,
        "",
    ].join("\n");
}

export function configFiles(s: InstanceSpec, target?: RecoveryTarget): Record<string, string> {
    return {
        [confPath(s)]: renderRecoveryConf(s, target),
        [hbaPath(s)]: renderRecoveryHba(s),
        [join(dataDir(s), "recovery.signal")]: "",
    };
}

export async function start(s: InstanceSpec): Promise<void> {
    const [cmd, args] = asServerUser(s, [
        join(s.pgBinDir, "pg_ctl"),
        "start",
        "-W",
        "-D",
        dataDir(s),
        "-l",
        serverLog(s),
        "-o",
        `-c config_file=${shellQuote(confPath(s))}`,
    ]);
    const r = await run(cmd, args, { timeoutMs: 60_000 });
    if (r.code !== 0) throw new Error(describeFailure("pg_ctl start", r));
}

/** The postmaster's pid, or undefined when none is running for this data directory. */
export function runningPid(s: InstanceSpec): number | undefined {
    const pidFile = join(dataDir(s), "postmaster.pid");
    if (!existsSync(pidFile)) return undefined;
    const pid = Number(readFileSync(pidFile, "utf8").split("\n")[0]);
    if (!Number.isInteger(pid) || pid <= 0) return undefined;
    try {
        process.kill(pid, 0);
        return pid;
    } catch {
        return undefined;
    }
}

export interface SessionOpts {
    /** Drill-role sessions: read-only by default in the startup packet too. */
    readonly readOnly?: boolean;
    readonly timeoutMs?: number;
    /** psql's ON_ERROR_STOP (default on). */
    readonly stopOnError?: boolean;
}

/**
 * The explicit, minimal environment of every client the drill runs against the copy (psql,
 * pg_amcheck): no WAL-G env file, no storage secret, no password, nothing of the caller's
 * environment but PATH; the session settings go in the startup packet (see sessionOptions).
 */
export function clientEnv(s: InstanceSpec, readOnly: boolean): NodeJS.ProcessEnv {
    return {
        PATH: process.env.PATH ?? "/usr/bin:/bin",
        PGCONNECT_TIMEOUT: "5",
        PGPASSFILE: join(s.scratchDir, "no-pgpass"),
        PGOPTIONS: sessionOptions(readOnly),
    };
}

/** Runs a psql script (on stdin) as `user` over the scratch socket. */
export async function psql(s: InstanceSpec, user: string, database: string, sql: string, opts: SessionOpts = {}): Promise<RunResult> {
    const stop = opts.stopOnError ?? true;
    return run(
        join(s.pgBinDir, "psql"),
        [
            "-X",
            "-q",
            "-At",
            "-v",
            `ON_ERROR_STOP=${stop ? 1 : 0}`,
            "-h",
            s.scratchDir,
            "-p",
            String(port(s)),
            "-U",
            user,
            "-d",
            database,
            "-f",
            "-",
        ],
        {
            timeoutMs: opts.timeoutMs ?? 120_000,
            input: `${sql}\n`,
            env: clientEnv(s, opts.readOnly ?? false),
        },
    );
}

/** psql's error line, for messages. */
export function psqlError(r: RunResult): string {
    const lines = r.stderr.trim().split("\n");
    return (
        lines
            .find((l) => /ERROR:|FATAL:|error:/.test(l))
            ?.replace(/^psql:\S*\s*/, "")
            .trim() ??
        (lines[0] || `psql exit ${r.code}`)
    );
}

/** The script's output lines, or throws with psql's error. */
export async function queryLines(s: InstanceSpec, user: string, database: string, sql: string, opts: SessionOpts = {}): Promise<string[]> {
    const r = await psql(s, user, database, sql, opts);
    if (r.code !== 0) throw new Error(psqlError(r));
    return r.stdout.split("\n").filter((l) => l !== "");
}

/** One value (first column of the first row), or throws with psql's error. */
export async function queryValue(s: InstanceSpec, user: string, database: string, sql: string, opts: SessionOpts = {}): Promise<string> {
    return (await queryLines(s, user, database, sql, opts))[0] ?? "";
}

const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/**
 * Waits until recovery has ended and the server accepts queries (pg_is_in_recovery() is
 * false). Throws when the server exits (a failed recovery) or at the deadline.
 */
export async function waitPromoted(s: InstanceSpec, user: string, database: string, deadline: number): Promise<void> {
    const startedAt = Date.now();
    for (;;) {
        const pid = runningPid(s);
        if (pid === undefined && Date.now() - startedAt > 5_000) {
            throw new Error(`postgres exited during recovery: ${fatalLine(s) ?? lastLogLines(s, 4)}`);
        }
        if (pid !== undefined) {
            const r = await psql(s, user, database, "SELECT pg_catalog.pg_is_in_recovery()");
            if (r.code === 0 && r.stdout.trim() === "f") return;
        }
        if (Date.now() > deadline) throw new Error("recovery did not finish within the RTO");
        await sleep(250);
    }
}

/**
 * Refusals of our own polling connections while the server starts or stops: FATAL lines
 * that say nothing about why the server stopped.
 */
const CONNECTION_REFUSAL = /the database system is (not accepting connections|starting up|shutting down|in recovery mode)/;

/** The server log's last FATAL or PANIC message, which says why the server stopped. */
export function fatalLine(s: InstanceSpec): string | undefined {
    try {
        const lines = readFileSync(serverLog(s), "utf8")
            .split("\n")
            .filter((l) => /\b(FATAL|PANIC):/.test(l));
        const cause = lines.filter((l) => !CONNECTION_REFUSAL.test(l)).pop() ?? lines.pop();
        return cause?.replace(/^.*?\b(FATAL|PANIC):\s*/, "$1: ");
    } catch {
        return undefined;
    }
}

export function lastLogLines(s: InstanceSpec, n: number): string {
    try {
        return readFileSync(serverLog(s), "utf8").trim().split("\n").slice(-n).join(" | ");
    } catch {
        return "(no server log)";
    }
}

/** Opens a kept instance's TCP logins once the checks are done: new pg_hba, then a reload. */
export async function openKeptPort(s: InstanceSpec): Promise<void> {
    writeFileSync(hbaPath(s), renderRecoveryHba(s, { tcp: true }), { mode: 0o600 });
    const [cmd, args] = asServerUser(s, [join(s.pgBinDir, "pg_ctl"), "reload", "-D", dataDir(s)]);
    const r = await run(cmd, args, { timeoutMs: 30_000 });
    if (r.code !== 0) throw new Error(describeFailure("pg_ctl reload", r));
}

/** The cluster's system identifier from pg_control: its high 32 bits are initdb's Unix time. */
export async function initdbTime(s: InstanceSpec): Promise<Date | undefined> {
    const r = await run(join(s.pgBinDir, "pg_controldata"), [dataDir(s)], {
        env: { PATH: process.env.PATH, LC_ALL: "C" },
        timeoutMs: 30_000,
    });
    const m = /Database system identifier:\s+(\d+)/.exec(r.stdout);
    return m ? new Date(Number(BigInt(m[1]) >> 32n) * 1000) : undefined;
}

export async function stop(s: InstanceSpec): Promise<void> {
    if (runningPid(s) === undefined) return;
    const [cmd, args] = asServerUser(s, [join(s.pgBinDir, "pg_ctl"), "stop", "-D", dataDir(s), "-m", "fast", "-w", "-t", "60"]);
    const r = await run(cmd, args, { timeoutMs: 90_000 });
    if (r.code !== 0 && runningPid(s) !== undefined) throw new Error(describeFailure("pg_ctl stop", r));
}
