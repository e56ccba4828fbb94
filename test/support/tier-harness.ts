/**
 * One loopback tier for an integration test, a fault test or a benchmark: its own state dir
 * and its own free ports, driven through the real CLI (`local/cli.ts up|env|backup|rotate|
 * drill|down`, compiled once per test run: cliCommand()), so what is tested is what `npm run
 * local` does. The CLI runs with the open-files limit raised to the hard limit, so pgBouncer
 * (started by `up`) can hold 1000 clients.
 *
 * Tools: Tier.start throws when one is missing (a fault test or a benchmark never turns into a
 * skip); integration files ask toolsMissing() first, which throws on CI (CI=true) and
 * elsewhere prints the reason the file is skipped.
 *
 * Ports: free loopback ports; with DBTIER_TEST_PORTS=LOW-HIGH, free ports from that range only
 * (for machines where several people start tiers at once).
 */
import { existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import type { S3Client } from "@aws-sdk/client-s3";
import { run, type RunResult } from "../../jobs/proc";
import { type WalgCall, walg as walgJob } from "../../jobs/walg";
import { freePort as anyFreePort, parseExports } from "../../local/net";
import { type Layout, layout, missingTools, SERVER_OS_USER, type Tools, tools } from "../../local/settings";
import { type ConnParams, Client, paramsFromDsn } from "./pgwire";
import { alive, killTree, postmasterPid, sleep, waitGone } from "./proc-tree";
import { getObject, listObjects, tierS3Client, tierStorage } from "./tier-s3";

export { parseExports, sleep };

export const REPO = resolve(__dirname, "../..");
export const TSX = join(REPO, "node_modules", ".bin", "tsx");
export const PG_BIN = tools().pgBinDir;

/** The binaries a tier needs (pgbench included) plus `extra`, that are not there. */
export function missingTierTools(extra: readonly string[] = []): string[] {
    const t = tools();
    return [...missingTools(t), join(t.pgBinDir, "pgbench"), ...extra].filter((p) => !existsSync(p));
}

/** The tools, or an error naming what is missing and how to install it. */
export function requireTools(extra: readonly string[] = []): Tools {
    const missing = missingTierTools(extra);
    if (missing.length > 0) {
        throw new Error(
            `missing tools: ${missing.join(", ")} (run: export DBTIER_TOOLS_BIN="$(bash scripts/install-tools.sh | tail -n1)")`,
        );
    }
    return tools();
}

/** Missing binaries; throws on CI so a missing tool can never pass as a skip. */
export function toolsMissing(): string[] {
    const missing = missingTierTools();
    if (missing.length > 0 && process.env.CI === "true") {
        throw new Error(`integration tools missing on CI: ${missing.join(", ")} (scripts/install-tools.sh)`);
    }
    if (missing.length > 0) process.stderr.write(`skipping integration tests: missing ${missing.join(", ")}\n`);
    return missing;
}

function portRange(): { low: number; high: number } | undefined {
    const raw = process.env.DBTIER_TEST_PORTS;
    if (!raw) return undefined;
    const m = /^(\d+)-(\d+)$/.exec(raw.trim());
    const low = Number(m?.[1]);
    const high = Number(m?.[2]);
    if (!m || low < 1024 || high > 65535 || low > high) throw new Error(`DBTIER_TEST_PORTS="${raw}" is not LOW-HIGH (1024-65535)`);
    return { low, high };
}

function bindable(port: number): Promise<boolean> {
    return new Promise((resolveBind) => {
        const srv = createServer();
        srv.once("error", () => resolveBind(false));
        srv.listen(port, "127.0.0.1", () => srv.close(() => resolveBind(true)));
    });
}

const handedOut = new Set<number>();

/** A free loopback port (from DBTIER_TEST_PORTS when set), not handed out before by this process. */
export async function freePort(): Promise<number> {
    const range = portRange();
    if (!range) return anyFreePort();
    const span = range.high - range.low + 1;
    const start = Math.floor(Math.random() * span);
    for (let i = 0; i < span; i++) {
        const port = range.low + ((start + i) % span);
        if (handedOut.has(port) || !(await bindable(port))) continue;
        handedOut.add(port);
        return port;
    }
    throw new Error(`no free port in DBTIER_TEST_PORTS=${process.env.DBTIER_TEST_PORTS}`);
}

export async function freePorts(n: number): Promise<number[]> {
    const ports = new Set<number>();
    while (ports.size < n) ports.add(await freePort());
    return [...ports];
}

/** psql with a DSN (password passed in PGPASSWORD, not argv). */
export function psqlWith(
    dsn: string,
    sql: string | readonly string[],
    opts: { database?: string; extra?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
    const p = paramsFromDsn(dsn);
    const commands = typeof sql === "string" ? [sql] : sql;
    return run(
        join(PG_BIN, "psql"),
        ["-X", "-q", "-At", "-v", "ON_ERROR_STOP=1", ...(opts.extra ?? []), ...commands.flatMap((c) => ["-c", c])],
        {
            env: {
                PATH: process.env.PATH,
                PGHOST: p.host,
                PGPORT: String(p.port),
                PGUSER: p.user,
                PGPASSWORD: p.password,
                PGDATABASE: opts.database ?? p.database,
                PGSSLMODE: "disable",
                PGCONNECT_TIMEOUT: "10",
                ...(opts.env ?? {}),
            },
            timeoutMs: 60_000,
        },
    );
}

/**
 * How the harness starts the loopback CLI: the copy the suite's globalSetup compiled
 * (DBTIER_TEST_CLI, test/support/compiled-cli.ts) in plain node, else `tsx local/cli.ts`.
 */
export function cliCommand(): string[] {
    const compiled = process.env.DBTIER_TEST_CLI;
    return compiled ? [process.execPath, compiled] : [TSX, join(REPO, "local", "cli.ts")];
}

/** Soft open-files limit the CLI and its children get: the hard limit. */
const ULIMIT = `ulimit -n "$(ulimit -Hn)" 2>/dev/null || true`;

export interface TierOptions {
    /** State dir, emptied first; default a new directory dbtier-<name>-XXXXXX under the system temp dir. */
    readonly dir?: string;
    /** Extra environment for the CLI (DBTIER_* knobs). */
    readonly env?: NodeJS.ProcessEnv;
    /** Progress lines (default: stderr). */
    readonly log?: (line: string) => void;
    /** Time bound of a CLI call (default 600 s). */
    readonly cliTimeoutMs?: number;
    /** Time bound of a wal-g call (default 3600 s). */
    readonly walgTimeoutSeconds?: number;
    /** A failing `down`: "throw" (default) or only "log" it (benchmarks, fault tests that broke the tier on purpose). */
    readonly onDownFailure?: "throw" | "log";
}

export interface TierSecrets {
    minio: { user: string; password: string };
    libsodiumKeyHex: string;
    roles: Record<string, { password: string }>;
}

export class Tier {
    readonly l: Layout;
    readonly t: Tools;
    private varsCache: Record<string, string> | undefined;

    private constructor(
        readonly name: string,
        readonly dir: string,
        readonly ports: { postgres: number; pgbouncer: number; minio: number },
        readonly env: NodeJS.ProcessEnv,
        readonly log: (line: string) => void,
        private readonly opts: TierOptions,
    ) {
        this.l = layout(dir);
        this.t = tools(env);
    }

    /**
     * Starts a fresh tier (`up`) in its own state dir with free ports; a failed `up` is torn down
     * and thrown. Test files run side by side (vitest workers, npm test's lanes), and a port
     * found free can be taken by another tier before this one's server binds it: when a
     * server's log says so, the tier starts again on new ports (twice at most), and says so.
     */
    static async start(name: string, opts: TierOptions = {}): Promise<Tier> {
        requireTools();
        const dir = resolve(opts.dir ?? mkdtempSync(join(tmpdir(), `dbtier-${name}-`)));
        for (let attempt = 1; ; attempt++) {
            const tier = await Tier.create(name, dir, opts);
            try {
                await tier.up();
                return tier;
            } catch (e) {
                const taken = tier.portTakenMeanwhile();
                await tier.cli(["down", "--purge"]).catch(() => undefined);
                if (taken === undefined || attempt === 3) throw e;
                tier.log(`${taken}: starting again on new ports`);
            }
        }
    }

    /** A tier on new free ports in `dir` (emptied; anything a dead run left there stopped first), not started. */
    private static async create(name: string, dir: string, opts: TierOptions): Promise<Tier> {
        const [postgres, pgbouncer, minio] = await freePorts(3);
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            ...(opts.env ?? {}),
            DBTIER_LOCAL_DIR: dir,
            DBTIER_LOCAL_POSTGRES_PORT: String(postgres),
            DBTIER_LOCAL_PGBOUNCER_PORT: String(pgbouncer),
            DBTIER_LOCAL_MINIO_PORT: String(minio),
        };
        const log = opts.log ?? ((l: string) => process.stderr.write(`[${name}] ${l}\n`));
        const tier = new Tier(name, dir, { postgres, pgbouncer, minio }, env, log, opts);
        // A previous run that died may have left processes behind in this dir: stop them first.
        if (existsSync(dir) && readdirSync(dir).length > 0) await tier.cli(["down", "--purge"]).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        return tier;
    }

    /** After a failed `up`: the server log line saying its port was taken, if one does. */
    private portTakenMeanwhile(): string | undefined {
        for (const file of [this.l.pgLog, this.l.pgbLog, this.l.minioLog]) {
            const text = existsSync(file) ? readFileSync(file, "utf8") : "";
            const line = text.split("\n").find((l) => /address already in use/i.test(l));
            if (line) return `${file}: ${line.trim()}`;
        }
        return undefined;
    }

    /** local/cli.ts ARGS (cliCommand()), with the raised open-files limit. Any verb but `env` forgets the cached DSNs. */
    cli(args: readonly string[], timeoutMs?: number, onLine?: (line: string, stream: "stdout" | "stderr") => void): Promise<RunResult> {
        if (args[0] !== "env") this.varsCache = undefined;
        return run("/bin/bash", ["-c", `${ULIMIT}; exec "$0" "$@"`, ...cliCommand(), ...args], {
            env: this.env,
            cwd: REPO,
            timeoutMs: timeoutMs ?? this.opts.cliTimeoutMs ?? 600_000,
            onLine,
        });
    }

    async cliOk(args: readonly string[], timeoutMs?: number): Promise<RunResult> {
        const r = await this.cli(args, timeoutMs);
        if (r.code !== 0)
            throw new Error(`local ${args.join(" ")} failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-6).join(" | ")}`);
        return r;
    }

    async up(): Promise<void> {
        const t0 = Date.now();
        await this.cliOk(["up"]);
        this.log(
            `up in ${((Date.now() - t0) / 1000).toFixed(1)} s (postgres ${this.ports.postgres}, pgbouncer ${this.ports.pgbouncer}, minio ${this.ports.minio})`,
        );
    }

    /**
     * `down [--purge]`; then makes sure no Postgres of this tier (primary or drill copy) is
     * left: `down` gives pg_ctl stop 60 s, and a server that cannot archive its last WAL on
     * shutdown outlives that. Such a leftover is SIGKILLed (with its children) and reported.
     */
    async down(purge = true): Promise<void> {
        const pids = [this.postmasterPid(), postmasterPid(join(this.l.drillScratch, "data"))].filter((p): p is number => p !== undefined);
        const r = await this.cli(purge ? ["down", "--purge"] : ["down"]);
        for (const pid of pids) {
            if (!alive(pid)) continue;
            this.log(`Postgres ${pid} survived \`down\`: SIGKILL`);
            await waitGone(killTree(pid)).catch((e) => this.log(String(e)));
        }
        if (r.code === 0) return;
        if (this.opts.onDownFailure === "log") this.log(`down failed: ${r.stderr.trim()}`);
        else throw new Error(`down failed (exit ${r.code}): ${r.stderr}`);
    }

    /** Soft and hard open-files limits of a running process (from /proc/<pid>/limits). */
    static nofile(pid: number): { soft: number; hard: number } {
        const line = readFileSync(`/proc/${pid}/limits`, "utf8")
            .split("\n")
            .find((l) => l.startsWith("Max open files"))!;
        const [soft, hard] = line.replace("Max open files", "").trim().split(/\s+/).map(Number);
        return { soft, hard };
    }

    /**
     * pgBouncer's open-files limit, raised in place to its hard limit (prlimit). `up` starts it
     * through runuser, whose pam_limits resets the soft limit to 1024 whatever the caller had,
     * below what max_client_conn 1000 needs (pgBouncer logs "max expected fd use: 1132"), so at
     * 1000 clients accept() fails with "Too many open files". Returns the limits before/after.
     */
    async raisePgbouncerNofile(): Promise<{ before: number; after: number }> {
        const pid = Number(readFileSync(this.l.pgbPid, "utf8").trim().split("\n")[0]);
        const before = Tier.nofile(pid);
        // As the server user: prlimit on another user's process needs CAP_SYS_RESOURCE, which a container may lack.
        const r = await run("runuser", [
            "-u",
            SERVER_OS_USER,
            "--",
            "prlimit",
            "--pid",
            String(pid),
            `--nofile=${before.hard}:${before.hard}`,
        ]);
        if (r.code !== 0) throw new Error(`prlimit on pgBouncer failed: ${r.stderr.trim()}`);
        return { before: before.soft, after: Tier.nofile(pid).soft };
    }

    /** What `env` prints (DSNs, S3 settings), cached until the next other CLI verb. */
    async vars(): Promise<Record<string, string>> {
        if (!this.varsCache) this.varsCache = parseExports((await this.cliOk(["env"])).stdout);
        return this.varsCache;
    }

    /** Forget cached DSNs (after a rotation this harness did not run). */
    refresh(): void {
        this.varsCache = undefined;
    }

    /** Root, directly to Postgres (database app unless given). */
    async root(database?: string): Promise<ConnParams> {
        const p = paramsFromDsn((await this.vars()).DATABASE_ROOT_URL);
        return database ? { ...p, database } : p;
    }

    /** app_user through pgBouncer (DATABASE_URL). */
    async app(): Promise<ConnParams> {
        return paramsFromDsn((await this.vars()).DATABASE_URL);
    }

    /** app_user directly to Postgres, bypassing pgBouncer (benchmarks only). */
    async appDirect(): Promise<ConnParams> {
        return { ...(await this.app()), port: this.ports.postgres };
    }

    async sql(p: ConnParams, sql: string): Promise<(string | null)[][]> {
        const c = await Client.connect(p);
        try {
            return await c.query(sql);
        } finally {
            await c.close();
        }
    }

    async value(p: ConnParams, sql: string): Promise<string | null> {
        return (await this.sql(p, sql))[0]?.[0] ?? null;
    }

    /** psql with a DSN (password passed in PGPASSWORD, not argv). */
    psql(dsn: string, sql: string | readonly string[], opts?: { database?: string; extra?: readonly string[] }): Promise<RunResult> {
        return psqlWith(dsn, sql, opts);
    }

    /**
     * wal-g with the tier's env file, through the jobs' own invocation (env file sourced, time
     * bound, nothing of this process's environment); `pg` adds the root connection (PGHOST, PGPASSFILE...).
     */
    walg(args: readonly string[], call: Partial<WalgCall> & { pg?: boolean; walgEnvFile?: string } = {}): Promise<RunResult> {
        const pgEnv: Record<string, string> = call.pg
            ? {
                  PGHOST: "127.0.0.1",
                  PGPORT: String(this.ports.postgres),
                  PGUSER: "postgres",
                  PGDATABASE: "postgres",
                  PGPASSFILE: this.l.pgpass,
              }
            : {};
        return walgJob({ walgBinary: this.l.walg, walgEnvFile: call.walgEnvFile ?? this.l.walgEnv }, args, {
            timeoutSeconds: call.timeoutSeconds ?? this.opts.walgTimeoutSeconds ?? 3600,
            env: { ...pgEnv, ...(call.env ?? {}) },
            overrides: call.overrides,
            onLine: call.onLine,
        });
    }

    postmasterPid(): number | undefined {
        return postmasterPid(this.l.pgData);
    }

    /** Switches WAL and waits until that segment is archived; returns its name. */
    async switchAndWaitArchived(timeoutMs = 120_000, root?: ConnParams): Promise<string> {
        const via = root ?? (await this.root("postgres"));
        const seg = (await this.value(via, "SELECT pg_walfile_name(pg_switch_wal())"))!;
        await this.waitArchived(seg, timeoutMs, via);
        return seg;
    }

    async waitArchived(segment: string, timeoutMs = 120_000, root?: ConnParams): Promise<void> {
        const via = root ?? (await this.root("postgres"));
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const last = (await this.value(via, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")) ?? "";
            if (last >= segment) return;
            if (Date.now() > deadline)
                throw new Error(`segment ${segment} not archived within ${timeoutMs / 1000} s (last archived: ${last || "none"})`);
            await sleep(250);
        }
    }

    /** Waits until no segment waits for archiving (.ready files in pg_wal/archive_status). */
    async waitArchiveDrained(timeoutMs = 600_000): Promise<void> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const r = await run("/bin/sh", [
                "-c",
                `ls ${JSON.stringify(join(this.l.pgData, "pg_wal", "archive_status"))} | grep -c '\\.ready$' || true`,
            ]);
            if (Number(r.stdout.trim()) === 0) return;
            if (Date.now() > deadline) throw new Error(`archive did not drain within ${timeoutMs / 1000} s`);
            await sleep(500);
        }
    }

    secrets(): TierSecrets {
        return JSON.parse(readFileSync(this.l.secrets, "utf8"));
    }

    /** Bucket and key prefix of the tier's backups, from its WAL-G env file (so tests need not spell "local/app"). */
    storage(): { bucket: string; prefix: string } {
        return tierStorage(this);
    }

    /** An S3 client on the tier's MinIO (destroy() it when done). */
    s3(): S3Client {
        return tierS3Client(this);
    }

    /** An object of the tier's bucket, or undefined when there is no such key. */
    getObject(key: string): Promise<Buffer | undefined> {
        return getObject(this, key);
    }

    /** The keys under a prefix of the tier's bucket, sorted. */
    async listKeys(prefix: string): Promise<string[]> {
        return (await listObjects(this, prefix)).map((o) => o.Key!);
    }
}

/** A tier for one integration or security test file (CLI calls bounded at 180 s, wal-g at 120 s). */
export function startTier(label: string): Promise<Tier> {
    return Tier.start(label, { cliTimeoutMs: 180_000, walgTimeoutSeconds: 120 });
}

/** Last non-empty line of a command's stdout. */
export function lastLine(text: string): string {
    return text.trim().split("\n").pop() ?? "";
}

/** Switches WAL through the given root DSN and waits (60 s) until Postgres reports the segment archived. */
export function switchAndWaitArchived(t: Tier, rootDsn: string): Promise<string> {
    return t.switchAndWaitArchived(60_000, paramsFromDsn(rootDsn));
}
