/**
 * Running a child process: argv only (no shell unless the caller passes one), an optional
 * time bound, stdout and stderr captured, and each line offered to a callback as it comes.
 */
import { spawn } from "node:child_process";

export interface RunOptions {
    readonly env?: NodeJS.ProcessEnv;
    readonly cwd?: string;
    /** Kill the child (SIGTERM, then SIGKILL 5 s later) after this many ms. */
    readonly timeoutMs?: number;
    readonly input?: string;
    /** Called for every complete line of stdout and stderr. */
    readonly onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

export interface RunResult {
    readonly code: number | null;
    readonly signal: NodeJS.Signals | null;
    readonly stdout: string;
    readonly stderr: string;
    readonly timedOut: boolean;
}

export function run(command: string, args: readonly string[], opts: RunOptions = {}): Promise<RunResult> {
    return new Promise((resolve, reject) => {
        const child = spawn(command, args, { env: opts.env ?? process.env, cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        let timedOut = false;
        const pending = { stdout: "", stderr: "" };
        const feed = (stream: "stdout" | "stderr", chunk: Buffer): void => {
            (stream === "stdout" ? out : err).push(chunk);
            if (!opts.onLine) return;
            const text = pending[stream] + chunk.toString("utf8");
            const lines = text.split("\n");
            pending[stream] = lines.pop() ?? "";
            for (const l of lines) opts.onLine(l, stream);
        };
        child.stdout.on("data", (c: Buffer) => feed("stdout", c));
        child.stderr.on("data", (c: Buffer) => feed("stderr", c));
        let killer: NodeJS.Timeout | undefined;
        const timer =
            opts.timeoutMs === undefined
                ? undefined
                : setTimeout(() => {
                      timedOut = true;
                      child.kill("SIGTERM");
                      killer = setTimeout(() => child.kill("SIGKILL"), 5_000);
                  }, opts.timeoutMs);
        child.on("error", (e) => {
            if (timer) clearTimeout(timer);
            reject(e);
        });
        child.on("close", (code, signal) => {
            if (timer) clearTimeout(timer);
            if (killer) clearTimeout(killer);
            for (const stream of ["stdout", "stderr"] as const) {
                if (opts.onLine && pending[stream]) opts.onLine(pending[stream], stream);
            }
            resolve({ code, signal, stdout: Buffer.concat(out).toString("utf8"), stderr: Buffer.concat(err).toString("utf8"), timedOut });
        });
        child.stdin.on("error", () => undefined);
        child.stdin.end(opts.input ?? "");
    });
}

/** A one-line description of a failed run, for logs and errors (never the environment). */
export function describeFailure(what: string, r: RunResult): string {
    const why = r.timedOut ? "timed out" : r.signal ? `killed by ${r.signal}` : `exit ${r.code}`;
    const tail = (r.stderr.trim() || r.stdout.trim()).split("\n").slice(-3).join(" | ");
    return `${what} failed (${why})${tail ? `: ${tail}` : ""}`;
}
