/**
 * The local tier's streaming WAL receiver (the stack's backup.walStreaming, or
 * DBTIER_LOCAL_WAL_STREAMING=1 at `up`, remembered in tier.json): its own process (the loop of render/wal-receive.ts around
 * `wal-g wal-receive`), run as the server OS user like archive_command, logging to
 * logs/wal-receiver.log, with its own replication role whose generated password lives in
 * wal-receiver-secret.json (0600) and, for libpq, in a password file only the server user reads.
 */
import { spawn } from "node:child_process";
import { closeSync, existsSync, openSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { minimalEnv } from "../jobs/proc";
import { scramVerifier } from "../render/scram";
import type { ClusterPlan } from "../plan/cluster-plan";
import { asServer, pidAlive, readPid, sleep, writePrivate } from "./fsutil";
import { generatePassword, type RoleSecret } from "./secrets";
import type { Layout } from "./settings";
import { randomBytes } from "node:crypto";

export interface ReceiverFiles {
    readonly secret: string;
    readonly pgpass: string;
    readonly pid: string;
    readonly log: string;
}

export function receiverFiles(l: Layout): ReceiverFiles {
    return {
        secret: join(l.state, "wal-receiver-secret.json"),
        pgpass: join(l.pg, "wal-receiver.pgpass"),
        pid: join(l.state, "wal-receiver.pid"),
        log: join(l.logs, "wal-receiver.log"),
    };
}

/** The receiver role's password and salt, generated once (kept, so its verifier is stable). */
export function receiverSecret(l: Layout): RoleSecret {
    const f = receiverFiles(l).secret;
    if (existsSync(f)) return JSON.parse(readFileSync(f, "utf8")) as RoleSecret;
    const s: RoleSecret = { password: generatePassword(), salt: randomBytes(16).toString("base64") };
    writePrivate(f, `${JSON.stringify(s)}\n`);
    return s;
}

/** A new password and salt for the receiver role (`rotate`); provisioning converges the role to it. */
export function rotateReceiverSecret(l: Layout): void {
    const s: RoleSecret = { password: generatePassword(), salt: randomBytes(16).toString("base64") };
    writePrivate(receiverFiles(l).secret, `${JSON.stringify(s)}\n`);
}

export function receiverVerifier(l: Layout): string {
    const s = receiverSecret(l);
    return scramVerifier(s.password, s.salt);
}

export function receiverRunning(l: Layout): boolean {
    return pidAlive(readPid(receiverFiles(l).pid));
}

/** Starts the plan's receiver loop (detached, its own process group); false if it already runs. */
export function startWalReceiver(l: Layout, plan: ClusterPlan): boolean {
    if (receiverRunning(l)) return false;
    const f = receiverFiles(l);
    writePrivate(plan.walReceiver.passfile, plan.walReceiver.pgpass(receiverSecret(l).password), { server: true });
    const [cmd, args] = asServer(["/bin/sh", "-c", plan.walReceiver.script]);
    const log = openSync(f.log, "a");
    // Nothing of the caller's environment: the storage keys come from the env file, inside the loop.
    const child = spawn(cmd, args, { detached: true, stdio: ["ignore", log, log], env: minimalEnv() });
    closeSync(log);
    child.unref();
    writeFileSync(f.pid, `${child.pid}\n`);
    return true;
}

/** SIGTERM to the receiver's whole process group (loop, wal-g, a psql), SIGKILL after the grace. */
export async function stopWalReceiver(l: Layout, graceMs = 10_000): Promise<void> {
    const pid = readPid(receiverFiles(l).pid);
    if (pid === undefined || !pidAlive(pid)) return;
    const group = (sig: NodeJS.Signals): void => {
        try {
            process.kill(-pid, sig);
        } catch {
            /* already gone */
        }
    };
    group("SIGTERM");
    const deadline = Date.now() + graceMs;
    while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
    group("SIGKILL");
}
