/**
 * Process trees from /proc, for the tier harness, the benchmarks and the fault tests: which
 * processes descend from a server, killing a whole tree at once, waiting until it is gone.
 */
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";

import { pidAlive as alive } from "../../local/fsutil";

/** Whether a process exists (EPERM: it does, under another user): the loopback tier's own check. */
export { alive };

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

interface ProcInfo {
    readonly pid: number;
    readonly ppid: number;
    readonly cmdline: string;
}

export function processes(): ProcInfo[] {
    const out: ProcInfo[] = [];
    for (const e of readdirSync("/proc")) {
        if (!/^\d+$/.test(e)) continue;
        try {
            const stat = readFileSync(`/proc/${e}/stat`, "utf8");
            // pid (comm) state ppid ...: comm may hold spaces and parentheses.
            const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
            const cmdline = readFileSync(`/proc/${e}/cmdline`, "utf8").split("\0").join(" ").trim();
            out.push({ pid: Number(e), ppid: Number(rest[1]), cmdline });
        } catch {
            /* the process ended while we looked */
        }
    }
    return out;
}

/** pid and every descendant of it. */
export function tree(root: number): number[] {
    const all = processes();
    const kids = new Map<number, number[]>();
    for (const p of all) kids.set(p.ppid, [...(kids.get(p.ppid) ?? []), p.pid]);
    const out: number[] = [];
    const stack = [root];
    while (stack.length > 0) {
        const pid = stack.pop()!;
        out.push(pid);
        stack.push(...(kids.get(pid) ?? []));
    }
    return out;
}

/** Descendants of root whose command line matches. */
export function descendantsMatching(root: number, re: RegExp): ProcInfo[] {
    const pids = new Set(tree(root));
    return processes().filter((p) => pids.has(p.pid) && p.pid !== root && re.test(p.cmdline));
}

/**
 * SIGKILL a whole process tree at once: stop every member first (SIGSTOP), so none can react
 * to its parent's death (an archiver child finishing its upload, say), then kill them all.
 */
export function killTree(root: number): number[] {
    const pids = tree(root);
    for (const p of pids) {
        try {
            process.kill(p, "SIGSTOP");
        } catch {
            /* gone */
        }
    }
    // Children forked between the listing and the stop: take the tree again.
    const all = [...new Set([...pids, ...tree(root)])];
    for (const p of all) {
        try {
            process.kill(p, "SIGKILL");
        } catch {
            /* gone */
        }
    }
    return all;
}

/**
 * Waits until the processes are gone from the process table, zombies included: an orphan's
 * zombie waits for init to reap it (on this machine's init, up to ~2 s), and while it exists
 * `pg_ctl status` takes a killed postmaster for a running one.
 */
export async function waitGone(pids: readonly number[], timeoutMs = 30_000): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (pids.some((p) => existsSync(`/proc/${p}`))) {
        if (Date.now() > deadline)
            throw new Error(`processes still present after ${timeoutMs} ms: ${pids.filter((p) => existsSync(`/proc/${p}`)).join(" ")}`);
        await sleep(50);
    }
}

export function postmasterPid(pgData: string): number | undefined {
    const f = join(pgData, "postmaster.pid");
    if (!existsSync(f)) return undefined;
    const pid = Number(readFileSync(f, "utf8").split("\n")[0]);
    return Number.isInteger(pid) && pid > 0 && alive(pid) ? pid : undefined;
}
