/**
 * Running a child process: argv only (no shell unless the caller passes one), an optional
 * time bound, stdout and stderr captured, and each line offered to a callback as it comes.
 * A child gets a minimal environment unless the caller names one: the caller's own
 * environment may hold DSNs and cloud credentials (`eval "$(npm run -s local -- env)"`),
 * and servers started from it would keep them for their whole life (/proc/<pid>/environ).
 */
import { spawn } from "node:child_process";

/** The search path every child gets: system directories only, never the caller's PATH. */
export const SYSTEM_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/** Caller variables a child may see: locale and time zone, nothing that can carry a secret. */
const PASSED_THROUGH = /^(LANG|LANGUAGE|LC_[A-Z]+|TZ)$/;

/**
 * The environment of a child process: SYSTEM_PATH, the caller's locale and time zone, and
 * exactly the `extra` variables the child needs (PGPASSFILE, HOME...). Nothing else of the
 * caller's environment reaches it.
 */
export function minimalEnv(extra: Readonly<Record<string, string | undefined>> = {}): NodeJS.ProcessEnv {
    const env: NodeJS.ProcessEnv = { PATH: SYSTEM_PATH };
    for (const [k, v] of Object.entries(process.env)) if (PASSED_THROUGH.test(k) && v !== undefined) env[k] = v;
    for (const [k, v] of Object.entries(extra)) if (v !== undefined) env[k] = v;
    return env;
}

export interface RunOptions {
    /** The child's whole environment; default minimalEnv(). */
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
        const child = spawn(command, args, { env: opts.env ?? minimalEnv(), cwd: opts.cwd, stdio: ["pipe", "pipe", "pipe"] });
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
