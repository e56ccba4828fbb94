/**
 * One local tier for a benchmark or a fault test: its own state dir and its own free ports,
 * driven through the real CLI (`tsx local/cli.ts up|env|backup|rotate|drill|down`) and the
 * exported functions of local/ and jobs/. The CLI runs with the open-files limit raised to
 * the hard limit, so pgBouncer (started by `up`) can hold 1000 clients.
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from "node:fs";
import { join, resolve } from "node:path";
import { run, type RunResult } from "../../jobs/proc";
import { walg as walgJob, type WalgCall } from "../../jobs/walg";
import { layout, type Layout, missingTools, SERVER_OS_USER, type Tools, tools } from "../../local/settings";
import { Client, type ConnParams, paramsFromDsn } from "./pgwire";
import { alive, killTree, postmasterPid, sleep, waitGone } from "./proc";
export { freePort, freePorts, parseExports } from "../../local/net";
import { freePorts, parseExports } from "../../local/net";

export const REPO = resolve(__dirname, "../..");
export const TSX = join(REPO, "node_modules", ".bin", "tsx");

export function requireTools(extra: readonly string[] = []): Tools {
    const t = tools();
    const missing = [...missingTools(t), join(t.pgBinDir, "pgbench"), ...extra].filter((p) => !existsSync(p));
    if (missing.length > 0) {
        throw new Error(
            `missing tools: ${missing.join(", ")} (run: export DBTIER_TOOLS_BIN="$(bash scripts/install-tools.sh | tail -n1)")`,
        );
    }
    return t;
}

/** Soft open-files limit the CLI and its children get: the hard limit. */
const ULIMIT = `ulimit -n "$(ulimit -Hn)" 2>/dev/null || true`;

export interface TierOptions {
    /** State dir; default <repo>/.bench/<name>. Emptied first. */
    readonly dir?: string;
    /** Extra environment for the CLI (DBTIER_* knobs). */
    readonly env?: NodeJS.ProcessEnv;
    /** Progress lines (default: stderr). */
    readonly log?: (line: string) => void;
}

export class BenchTier {
    readonly l: Layout;
    readonly t: Tools;
    private varsCache: Record<string, string> | undefined;

    private constructor(
        readonly name: string,
        readonly dir: string,
        readonly ports: { postgres: number; pgbouncer: number; minio: number },
        readonly env: NodeJS.ProcessEnv,
        readonly log: (line: string) => void,
    ) {
        this.l = layout(dir);
        this.t = tools(env);
    }

    /** Starts a fresh tier (`up`) in its own state dir with free ports. */
    static async start(name: string, opts: TierOptions = {}): Promise<BenchTier> {
        requireTools();
        const dir = resolve(opts.dir ?? join(REPO, ".bench", name));
        const [postgres, pgbouncer, minio] = await freePorts(3);
        const env: NodeJS.ProcessEnv = {
            ...process.env,
            ...(opts.env ?? {}),
            DBTIER_LOCAL_DIR: dir,
            DBTIER_LOCAL_POSTGRES_PORT: String(postgres),
            DBTIER_LOCAL_PGBOUNCER_PORT: String(pgbouncer),
            DBTIER_LOCAL_MINIO_PORT: String(minio),
        };
        const tier = new BenchTier(
            name,
            dir,
            { postgres, pgbouncer, minio },
            env,
            opts.log ?? ((l) => process.stderr.write(`[${name}] ${l}\n`)),
        );
        // A previous run that died may have left processes behind in this dir: stop them first.
        if (existsSync(dir)) await tier.cli(["down", "--purge"]).catch(() => undefined);
        rmSync(dir, { recursive: true, force: true });
        mkdirSync(dir, { recursive: true, mode: 0o755 });
        await tier.up();
        return tier;
    }

    /** tsx local/cli.ts ARGS, with the raised open-files limit. */
    cli(args: readonly string[], timeoutMs = 600_000, onLine?: (line: string, stream: "stdout" | "stderr") => void): Promise<RunResult> {
        return run("/bin/bash", ["-c", `${ULIMIT}; exec "$0" "$@"`, TSX, join(REPO, "local", "cli.ts"), ...args], {
            env: this.env,
            cwd: REPO,
            timeoutMs,
            onLine,
        });
    }

    async cliOk(args: readonly string[], timeoutMs = 600_000): Promise<RunResult> {
        const r = await this.cli(args, timeoutMs);
        if (r.code !== 0)
            throw new Error(`local ${args.join(" ")} failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-6).join(" | ")}`);
        return r;
    }

    async up(): Promise<void> {
        const t0 = Date.now();
        await this.cliOk(["up"]);
        this.varsCache = undefined;
        this.log(
            `up in ${((Date.now() - t0) / 1000).toFixed(1)} s (postgres ${this.ports.postgres}, pgbouncer ${this.ports.pgbouncer}, minio ${this.ports.minio})`,
        );
    }

    /**
     * `down [--purge]`; then makes sure no Postgres of this tier (primary or drill copy) is
     * left: `down` gives pg_ctl stop 60 s, and a server that cannot archive its last WAL on
     * shutdown outlives that. Such a leftover is SIGKILLed (with its children) and reported.
     */
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
        const before = BenchTier.nofile(pid);
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
        return { before: before.soft, after: BenchTier.nofile(pid).soft };
    }

    async down(purge = true): Promise<void> {
        const pids = [this.postmasterPid(), postmasterPid(join(this.l.drillScratch, "data"))].filter((p): p is number => p !== undefined);
        const r = await this.cli(purge ? ["down", "--purge"] : ["down"]);
        if (r.code !== 0) this.log(`down failed: ${r.stderr.trim()}`);
        for (const pid of pids) {
            if (!alive(pid)) continue;
            this.log(`Postgres ${pid} survived \`down\`: SIGKILL`);
            await waitGone(killTree(pid)).catch((e) => this.log(String(e)));
        }
    }

    async vars(): Promise<Record<string, string>> {
        if (!this.varsCache) this.varsCache = parseExports((await this.cliOk(["env"])).stdout);
        return this.varsCache;
    }

    /** Forget cached DSNs (after `rotate`). */
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

    /** wal-g with the tier's env file, through the jobs' own invocation (env file sourced, time bound). */
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
            timeoutSeconds: call.timeoutSeconds ?? 3600,
            env: { ...pgEnv, ...(call.env ?? {}) },
            overrides: call.overrides,
            onLine: call.onLine,
        });
    }

    postmasterPid(): number | undefined {
        return postmasterPid(this.l.pgData);
    }

    /** Switches WAL and waits until that segment is archived; returns its name. */
    async switchAndWaitArchived(timeoutMs = 120_000): Promise<string> {
        const root = await this.root("postgres");
        const seg = (await this.value(root, "SELECT pg_walfile_name(pg_switch_wal())"))!;
        await this.waitArchived(seg, timeoutMs);
        return seg;
    }

    async waitArchived(segment: string, timeoutMs = 120_000): Promise<void> {
        const root = await this.root("postgres");
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            const last = (await this.value(root, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver")) ?? "";
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

    secrets(): { minio: { user: string; password: string }; libsodiumKeyHex: string; roles: Record<string, { password: string }> } {
        return JSON.parse(readFileSync(this.l.secrets, "utf8"));
    }
}

/** Runs fn with a started tier and always stops it (down --purge unless keep). */
export async function withTier<T>(name: string, fn: (t: BenchTier) => Promise<T>, opts: TierOptions & { keep?: boolean } = {}): Promise<T> {
    const tier = await BenchTier.start(name, opts);
    try {
        return await fn(tier);
    } finally {
        await tier.down(!opts.keep);
    }
}
