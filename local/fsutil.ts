/** File and process helpers of the local tier: private files, ownership, pid files, ports. */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from "node:fs";
import { createConnection } from "node:net";
import { SERVER_OS_USER } from "./settings";

export const isRoot = (): boolean => process.getuid?.() === 0;

let serverIds: { uid: number; gid: number } | undefined;
/** uid/gid of the server OS user (postgres) when we are root; undefined otherwise. */
export function serverOwner(): { uid: number; gid: number } | undefined {
    if (!isRoot()) return undefined;
    if (!serverIds) {
        const uid = Number(execFileSync("id", ["-u", SERVER_OS_USER]).toString().trim());
        const gid = Number(execFileSync("id", ["-g", SERVER_OS_USER]).toString().trim());
        serverIds = { uid, gid };
    }
    return serverIds;
}

/** argv run as the server OS user (runuser) when we are root, else as ourselves. */
export function asServer(argv: readonly string[]): [string, string[]] {
    return isRoot() ? ["runuser", ["-u", SERVER_OS_USER, "--", ...argv]] : [argv[0], argv.slice(1)];
}

/** Writes a file atomically with the given mode (0600 by default), optionally owned by the server user. */
export function writePrivate(path: string, text: string, opts: { mode?: number; server?: boolean } = {}): boolean {
    const mode = opts.mode ?? 0o600;
    const same = existsSync(path) && readFileSync(path, "utf8") === text;
    if (!same) {
        const tmp = `${path}.tmp-${process.pid}`;
        writeFileSync(tmp, text, { mode });
        renameSync(tmp, path);
    }
    chmodSync(path, mode);
    const owner = opts.server ? serverOwner() : undefined;
    if (owner) chownSync(path, owner.uid, owner.gid);
    return !same;
}

export function ensureDir(path: string, opts: { mode?: number; server?: boolean } = {}): void {
    mkdirSync(path, { recursive: true, mode: opts.mode ?? 0o755 });
    chmodSync(path, opts.mode ?? 0o755);
    const owner = opts.server ? serverOwner() : undefined;
    if (owner) chownSync(path, owner.uid, owner.gid);
}

export function pidAlive(pid: number | undefined): boolean {
    if (!pid) return false;
    try {
        process.kill(pid, 0);
        return true;
    } catch (e) {
        return (e as NodeJS.ErrnoException).code === "EPERM";
    }
}

export function readPid(path: string): number | undefined {
    if (!existsSync(path)) return undefined;
    const pid = Number(readFileSync(path, "utf8").split("\n")[0].trim());
    return Number.isInteger(pid) && pid > 0 ? pid : undefined;
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

export function portOpen(port: number, host = "127.0.0.1"): Promise<boolean> {
    return new Promise((resolve) => {
        const s = createConnection({ port, host });
        s.once("connect", () => {
            s.destroy();
            resolve(true);
        });
        s.once("error", () => resolve(false));
        s.setTimeout(1000, () => {
            s.destroy();
            resolve(false);
        });
    });
}

export async function waitFor(what: string, check: () => Promise<boolean> | boolean, timeoutMs: number): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000}s waiting for ${what}`);
        await sleep(200);
    }
}

/** SIGTERM, then wait for the process to go (SIGKILL after the grace period). */
export async function stopPid(pid: number | undefined, graceMs = 15_000, signal: NodeJS.Signals = "SIGTERM"): Promise<void> {
    if (pid === undefined || !pidAlive(pid)) return;
    process.kill(pid, signal);
    const deadline = Date.now() + graceMs;
    while (pidAlive(pid) && Date.now() < deadline) await sleep(100);
    if (pidAlive(pid)) process.kill(pid, "SIGKILL");
}
