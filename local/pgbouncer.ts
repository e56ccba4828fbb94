/** The local pgBouncer: rendered ini and auth file, started as a daemon, reloaded with SIGHUP. */
import { renderPgbouncerAuthFile, renderPgbouncerIni } from "../render/pgbouncer";
import { APP_SERVICE, APP_USER } from "../vocabulary";
import { describeFailure, minimalEnv, run } from "../jobs/proc";
import { asServer, isRoot, pidAlive, portOpen, readPid, stopPid, waitFor, writePrivate } from "./fsutil";
import { type Secrets, verifier } from "./secrets";
import { LOCAL_DATABASE, type Layout, type Ports, type Tools } from "./settings";

export const POOL_SIZE = 20;
export const MAX_CLIENT_CONN = 1000;

/** Open files pgBouncer may hold: clients + server connections + slack. */
export const PGBOUNCER_NOFILE = 4096;

/**
 * DBTIER_LOCAL_PGBOUNCER_RESET=0 turns the per-transaction reset off (the config's
 * `pgbouncer.resetSessionState: false`); the pooling benchmark uses it to measure the cost.
 */
export function resetSessionState(env: NodeJS.ProcessEnv = process.env): boolean {
    const v = env.DBTIER_LOCAL_PGBOUNCER_RESET;
    if (v === undefined || v === "" || v === "1") return true;
    if (v === "0") return false;
    throw new Error(`DBTIER_LOCAL_PGBOUNCER_RESET="${v}": use 1 (reset, the default) or 0`);
}

/** Writes pgbouncer.ini and userlist.txt; true if either changed. */
export function writePgbouncerConfig(l: Layout, s: Secrets, p: Ports, reset: boolean = resetSessionState()): boolean {
    const ini = renderPgbouncerIni({
        listenAddr: "127.0.0.1",
        listenPort: p.pgbouncer,
        postgresHost: "127.0.0.1",
        postgresPort: p.postgres,
        databases: [LOCAL_DATABASE],
        authFile: l.pgbAuth,
        defaultPoolSize: POOL_SIZE,
        maxClientConn: MAX_CLIENT_CONN,
        maxDbConnections: POOL_SIZE,
        resetSessionState: reset,
        logFile: l.pgbLog,
        pidFile: l.pgbPid,
    });
    const auth = renderPgbouncerAuthFile([
        { user: APP_USER, verifier: verifier(s, APP_USER) },
        { user: APP_SERVICE, verifier: verifier(s, APP_SERVICE) },
    ]);
    const a = writePrivate(l.pgbIni, ini, { server: true });
    const b = writePrivate(l.pgbAuth, auth, { server: true });
    return a || b;
}

export function pgbouncerRunning(l: Layout): boolean {
    return pidAlive(readPid(l.pgbPid));
}

export async function startPgbouncer(l: Layout, t: Tools, p: Ports): Promise<boolean> {
    if (pgbouncerRunning(l)) return false;
    // runuser resets the open-files limit to 1024, below what max_client_conn 1000 needs
    // (a descriptor per client and per server connection): raise it for pgBouncer alone.
    const argv = [t.pgbouncer, "-d", l.pgbIni];
    const [cmd, args] = asServer(isRoot() ? ["prlimit", `--nofile=${PGBOUNCER_NOFILE}:${PGBOUNCER_NOFILE}`, "--", ...argv] : argv);
    // The daemon keeps this environment for its life: nothing of the caller's.
    const r = await run(cmd, args, { timeoutMs: 30_000, env: minimalEnv() });
    if (r.code !== 0) throw new Error(`${describeFailure("pgbouncer -d", r)} (see ${l.pgbLog})`);
    await waitFor(`pgBouncer on 127.0.0.1:${p.pgbouncer}`, () => portOpen(p.pgbouncer), 30_000);
    return true;
}

/** SIGHUP: pgBouncer re-reads its ini and auth file. */
export function reloadPgbouncer(l: Layout): void {
    const pid = readPid(l.pgbPid);
    if (!pidAlive(pid)) throw new Error("pgBouncer is not running");
    process.kill(pid!, "SIGHUP");
}

export async function stopPgbouncer(l: Layout): Promise<void> {
    await stopPid(readPid(l.pgbPid), 15_000, "SIGTERM");
}
