/** The local pgBouncer: the plan's ini and auth file, started as a daemon, reloaded with SIGHUP. */
import { describeFailure, minimalEnv, run } from "../jobs/proc";
import type { ClusterPlan } from "../plan/cluster-plan";
import { APP_SERVICE, APP_USER } from "../vocabulary";
import { asServer, isRoot, pidAlive, portOpen, readPid, stopPid, waitFor, writePrivate } from "./fsutil";
import { localTier } from "./plan";
import { type Secrets, verifier } from "./secrets";
import { type Layout, type Ports, repoRoot, type Tools, tools } from "./settings";
import { DEFAULT_STACK, localConfig } from "./stack";
import type { TlsPair } from "./tls";

/** The default (dev) stack's pool settings, for reports that describe a default loopback tier. */
const DEV_POOL = localConfig(DEFAULT_STACK, repoRoot()).pgbouncer;
export const POOL_SIZE = DEV_POOL.defaultPoolSize;
export const MAX_CLIENT_CONN = DEV_POOL.maxClientConn;

/** The plan of the tier in `l` (its recorded stack and cluster), with resetSessionState forced when given. */
function planOf(l: Layout, p: Ports, reset?: boolean): ClusterPlan {
    const env = reset === undefined ? process.env : { ...process.env, DBTIER_LOCAL_PGBOUNCER_RESET: reset ? "1" : "0" };
    return localTier(l, p, tools(), {}, env).plan;
}

/**
 * Writes the plan's pgbouncer.ini and auth file (and, with TLS, the stand-in pair); true if
 * any changed. `reset` overrides pgbouncer.resetSessionState (the pool-reset benchmark).
 */
export function writePgbouncerConfig(
    l: Layout,
    s: Secrets,
    p: Ports,
    reset?: boolean,
    plan: ClusterPlan = planOf(l, p, reset),
    tls?: TlsPair,
): boolean {
    const at = plan.placement.pgbouncer;
    const changed = [
        writePrivate(l.pgbIni, plan.pgbouncer.ini, { server: true }),
        writePrivate(at.authFile, plan.pgbouncer.authFile({ [APP_USER]: verifier(s, APP_USER), [APP_SERVICE]: verifier(s, APP_SERVICE) }), {
            server: true,
        }),
        ...(plan.postgres.tls && tls
            ? [
                  writePrivate(at.tlsCertFile, tls.certPem, { mode: 0o644, server: true }),
                  writePrivate(at.tlsKeyFile, tls.keyPem, { server: true }),
              ]
            : []),
    ];
    return changed.some(Boolean);
}

export function pgbouncerRunning(l: Layout): boolean {
    return pidAlive(readPid(l.pgbPid));
}

export async function startPgbouncer(l: Layout, t: Tools, p: Ports, nofile: number = planOf(l, p).pgbouncer.nofile): Promise<boolean> {
    if (pgbouncerRunning(l)) return false;
    // runuser resets the open-files limit to 1024, below what max_client_conn needs (a
    // descriptor per client and per server connection): raise it to the plan's, for pgBouncer alone.
    const argv = [t.pgbouncer, "-d", l.pgbIni];
    const [cmd, args] = asServer(isRoot() ? ["prlimit", `--nofile=${nofile}:${nofile}`, "--", ...argv] : argv);
    // The daemon keeps this environment for its life: nothing of the caller's.
    const r = await run(cmd, args, { timeoutMs: 30_000, env: minimalEnv() });
    if (r.code !== 0) throw new Error(`${describeFailure("pgbouncer -d", r)} (see ${l.pgbLog})`);
    await waitFor(`pgBouncer on 127.0.0.1:${p.pgbouncer}`, () => portOpen(p.pgbouncer), 30_000);
    return true;
}

/** SIGHUP: pgBouncer re-reads its ini and auth file. */
export function reloadPgbouncer(l: Layout): void {
    const pid = readPid(l.pgbPid);
    if (pid === undefined || !pidAlive(pid)) throw new Error("pgBouncer is not running");
    process.kill(pid, "SIGHUP");
}

export async function stopPgbouncer(l: Layout): Promise<void> {
    await stopPid(readPid(l.pgbPid), 15_000, "SIGTERM");
}
