/** Process helpers for benchmarks and fault tests: timing, sampling, shell commands (process trees: test/support/proc-tree.ts). */
import { readFileSync } from "node:fs";
import { run, type RunResult } from "../../jobs/proc";

/** Load average and the number of cores, to print beside every timing. */
export function loadInfo(): { loadavg1: number; loadavg5: number; loadavg15: number; cores: number } {
    const [a, b, c] = readFileSync("/proc/loadavg", "utf8").split(" ").slice(0, 3).map(Number);
    const cores = readFileSync("/proc/cpuinfo", "utf8")
        .split("\n")
        .filter((l) => l.startsWith("processor")).length;
    return { loadavg1: a, loadavg5: b, loadavg15: c, cores };
}

/** Runs a shell command line (bash -c) and fails on a non-zero exit. */
export async function sh(cmd: string, opts: { env?: NodeJS.ProcessEnv; timeoutMs?: number; cwd?: string } = {}): Promise<RunResult> {
    const r = await run("/bin/bash", ["-c", cmd], { env: opts.env ?? process.env, timeoutMs: opts.timeoutMs ?? 3_600_000, cwd: opts.cwd });
    if (r.code !== 0)
        throw new Error(
            `\`${cmd.slice(0, 200)}\` failed (exit ${r.code}${r.timedOut ? ", timed out" : ""}): ${(r.stderr.trim() || r.stdout.trim()).split("\n").slice(-5).join(" | ")}`,
        );
    return r;
}

/** Bytes under a directory (du -sb). */
export async function dirBytes(dir: string): Promise<number> {
    const r = await sh(`du -sb ${JSON.stringify(dir)} | cut -f1`);
    return Number(r.stdout.trim());
}

export const median = (xs: readonly number[]): number => {
    const s = [...xs].sort((a, b) => a - b);
    if (s.length === 0) return Number.NaN;
    return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

export const round = (x: number, d = 2): number => Math.round(x * 10 ** d) / 10 ** d;
