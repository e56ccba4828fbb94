/**
 * A local tier per test file: its own state dir under /tmp and its own free ports, started
 * and stopped through the real CLI (`tsx local/cli.ts`). On CI (CI=true) a missing tool
 * fails the file; elsewhere the file is skipped with the reason.
 */
import { existsSync, mkdtempSync, readFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join, resolve } from "node:path";
import { GetObjectCommand, ListObjectsV2Command, S3Client } from "@aws-sdk/client-s3";
import { run, type RunResult } from "../../../jobs/proc";
import { parseDsn } from "../../../render/dsn";
import { layout, type Layout, missingTools, tools } from "../../../local/settings";
export { freePort, freePorts, parseExports } from "../../../local/net";
import { freePorts, parseExports } from "../../../local/net";

export const REPO = resolve(__dirname, "../../..");
const TSX = join(REPO, "node_modules", ".bin", "tsx");
export const PG_BIN = tools().pgBinDir;

/** Missing binaries; throws on CI so a missing tool can never pass as a skip. */
export function toolsMissing(): string[] {
    const missing = [...missingTools(tools()), join(PG_BIN, "pgbench")].filter((p) => !existsSync(p));
    if (missing.length > 0 && process.env.CI === "true") {
        throw new Error(`integration tools missing on CI: ${missing.join(", ")} (scripts/install-tools.sh)`);
    }
    if (missing.length > 0) process.stderr.write(`skipping integration tests: missing ${missing.join(", ")}\n`);
    return missing;
}

export interface Tier {
    readonly dir: string;
    readonly l: Layout;
    readonly ports: { postgres: number; pgbouncer: number; minio: number };
    readonly env: NodeJS.ProcessEnv;
    cli(args: readonly string[], timeoutMs?: number): Promise<RunResult>;
    vars(): Promise<Record<string, string>>;
    /** psql with a DSN (password passed in PGPASSWORD, not argv). */
    psql(dsn: string, sql: string | readonly string[], opts?: { database?: string; extra?: readonly string[] }): Promise<RunResult>;
    /** wal-g with the tier's env file; `pg` adds the root connection (PGHOST, PGPASSFILE...). */
    walg(args: readonly string[], opts?: { pg?: boolean }): Promise<RunResult>;
    s3(): S3Client;
    getObject(key: string): Promise<Buffer | undefined>;
    listKeys(prefix: string): Promise<string[]>;
    down(): Promise<void>;
}

export function psqlWith(
    dsn: string,
    sql: string | readonly string[],
    opts: { database?: string; extra?: readonly string[]; env?: NodeJS.ProcessEnv } = {},
): Promise<RunResult> {
    const p = parseDsn(dsn);
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

export async function startTier(label: string): Promise<Tier> {
    const dir = mkdtempSync(join(tmpdir(), `dbtier-${label}-`));
    const [postgres, pgbouncer, minio] = await freePorts(3);
    const env: NodeJS.ProcessEnv = {
        ...process.env,
        DBTIER_LOCAL_DIR: dir,
        DBTIER_LOCAL_POSTGRES_PORT: String(postgres),
        DBTIER_LOCAL_PGBOUNCER_PORT: String(pgbouncer),
        DBTIER_LOCAL_MINIO_PORT: String(minio),
    };
    const l = layout(dir);
    const cli = (args: readonly string[], timeoutMs = 180_000): Promise<RunResult> =>
        run(TSX, [join(REPO, "local", "cli.ts"), ...args], { env, cwd: REPO, timeoutMs });
    const secrets = (): { minio: { user: string; password: string } } => JSON.parse(readFileSync(l.secrets, "utf8"));
    const s3 = (): S3Client =>
        new S3Client({
            endpoint: `http://127.0.0.1:${minio}`,
            region: "us-east-1",
            forcePathStyle: true,
            credentials: { accessKeyId: secrets().minio.user, secretAccessKey: secrets().minio.password },
            requestChecksumCalculation: "WHEN_REQUIRED",
            responseChecksumValidation: "WHEN_REQUIRED",
        });
    const tier: Tier = {
        dir,
        l,
        ports: { postgres, pgbouncer, minio },
        env,
        cli,
        async vars() {
            const r = await cli(["env"]);
            if (r.code !== 0) throw new Error(`env failed: ${r.stderr}`);
            return parseExports(r.stdout);
        },
        psql: (dsn, sql, opts) => psqlWith(dsn, sql, opts),
        walg: (args, opts) =>
            run("/bin/sh", ["-c", `set -a && . "$1" && set +a && shift && exec "$@"`, "sh", l.walgEnv, l.walg, ...args], {
                env: {
                    PATH: process.env.PATH,
                    ...(opts?.pg
                        ? {
                              PGHOST: "127.0.0.1",
                              PGPORT: String(postgres),
                              PGUSER: "postgres",
                              PGDATABASE: "postgres",
                              PGPASSFILE: l.pgpass,
                          }
                        : {}),
                },
                timeoutMs: 120_000,
            }),
        s3,
        async getObject(key) {
            const c = s3();
            try {
                const r = await c.send(new GetObjectCommand({ Bucket: "db-tier-local", Key: key }));
                return Buffer.from(await r.Body!.transformToByteArray());
            } catch (e) {
                if ((e as { name?: string }).name === "NoSuchKey") return undefined;
                throw e;
            } finally {
                c.destroy();
            }
        },
        async listKeys(prefix) {
            const c = s3();
            const keys: string[] = [];
            let token: string | undefined;
            do {
                const r = await c.send(new ListObjectsV2Command({ Bucket: "db-tier-local", Prefix: prefix, ContinuationToken: token }));
                keys.push(...(r.Contents ?? []).map((o) => o.Key!));
                token = r.NextContinuationToken;
            } while (token);
            c.destroy();
            return keys.sort();
        },
        async down() {
            const r = await cli(["down", "--purge"]);
            if (r.code !== 0) throw new Error(`down failed: ${r.stderr}`);
        },
    };
    const r = await cli(["up"]);
    if (r.code !== 0) {
        await cli(["down", "--purge"]).catch(() => undefined);
        throw new Error(`up failed (exit ${r.code}): ${r.stderr}`);
    }
    return tier;
}

/** Last non-empty line of a command's stdout. */
export function lastLine(text: string): string {
    return text.trim().split("\n").pop() ?? "";
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));

/** Switches WAL and waits until Postgres reports the segment archived. */
export async function switchAndWaitArchived(t: Tier, rootDsn: string): Promise<string> {
    const r = await t.psql(rootDsn, "SELECT pg_walfile_name(pg_switch_wal())");
    if (r.code !== 0) throw new Error(r.stderr);
    const segment = r.stdout.trim();
    const deadline = Date.now() + 60_000;
    for (;;) {
        const a = await t.psql(rootDsn, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
        if (a.stdout.trim() >= segment) return segment;
        if (Date.now() > deadline) throw new Error(`segment ${segment} not archived in 60s (last ${a.stdout.trim()})`);
        await sleep(200);
    }
}
