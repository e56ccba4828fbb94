/**
 * RTO and restore throughput. Per pgbench scale, in one run on one tier:
 *   - copy: `cp -a` of the data directory (without pg_wal and postmaster.pid) plus `sync`,
 *     the physical limit of this machine for the same bytes;
 *   - WAL-G through the restore drill's own code (jobs/restore-drill runDrill): backup-fetch,
 *     WAL replay to the end of the archive, promotion, and the check (count of
 *     pgbench_accounts at least scale x 100000) — lz4, zstd and lzma backups, two download
 *     concurrencies, over the tier's plain-HTTP MinIO and over the TLS front pgBackRest needs;
 *   - pgBackRest (Debian) backing up the same cluster to the same MinIO (through the TLS front,
 *     its own WAL archive via a second archive_command), restoring into the same scratch
 *     directory, then the same start/promote/check — lz4 and zst, process-max 1 and 4.
 * The time of a restore is from its start to the passing check; MB/s = dataset bytes (the data
 * directory without pg_wal) / that time. The page cache is dropped before each timed run.
 */
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import * as pg from "../../jobs/instance";
import { runDrill } from "../../jobs/restore-drill";
import { writePrivate, ensureDir } from "../../local/fsutil";
import { startPostgres, stopPostgres } from "../../local/postgres";
import { context, drillConfig } from "../../local/tier";
import { SERVER_OS_USER } from "../../local/settings";
import { type BenchOptions, dropCaches, fmt, must, type PartContext, pgbenchInit, walgEnvVariant } from "../lib/common";
import { dirBytes, median, round, sh } from "../lib/proc";
import { startBenchTier } from "../lib/tier";
import { freePort, type Tier } from "../../test/support/tier-harness";
import { selfSignedCert, startTlsProxy, type TlsProxy } from "../lib/tls-proxy";

export interface RestoreRun {
    readonly total_s: number;
    /** Download + unpack (backup-fetch / pgbackrest restore / cp + sync). */
    readonly fetch_s: number;
    /** Start, WAL replay, promotion. */
    readonly recovery_s: number;
    /** The check query after promotion. */
    readonly check_s: number;
}

export interface RestoreRow {
    readonly scale: number;
    readonly method: "copy" | "walg" | "pgbackrest";
    readonly transport: "disk" | "http" | "tls";
    readonly compression: "none" | "lz4" | "zstd" | "lzma" | "zst";
    /** WALG_DOWNLOAD_CONCURRENCY or pgBackRest process-max; null for the copy. */
    readonly concurrency: number | null;
    readonly runs: RestoreRun[];
    readonly median_total_s: number;
    readonly median_fetch_s: number;
    /** dataset bytes / median total (MB = 10^6 bytes). */
    readonly mb_s: number;
    readonly fetch_mb_s: number;
    /** Bytes the backup occupies in the bucket (compressed, encrypted). */
    readonly stored_bytes: number | null;
    /** Time of the backup that was restored (backup-push / pgbackrest backup). */
    readonly backup_s: number | null;
}

export interface ScaleInfo {
    readonly scale: number;
    readonly dataset_bytes: number;
    readonly init_s: number;
}

export interface RestoreData {
    readonly scales: ScaleInfo[];
    readonly rows: RestoreRow[];
    readonly caches_dropped: boolean;
    readonly reps: number;
    readonly concurrencies: number[];
    readonly lzma_max_scale: number;
    readonly not_run: string[];
    readonly notes: string[];
}

const STANZA = "bench";

export async function restoreBench(ctx: PartContext, o: BenchOptions): Promise<RestoreData> {
    const scales = o.scales ?? (o.quick ? [1, 5, 10] : [10, 50, 200]);
    const concurrencies = o.concurrencies ?? [1, 4];
    const reps = o.reps ?? (o.quick ? 1 : 3);
    const lzmaMax = o.lzmaMaxScale ?? Number.POSITIVE_INFINITY;
    const skip = o.skip ?? new Set<string>();
    const rows: RestoreRow[] = [];
    const infos: ScaleInfo[] = [];
    const notRun: string[] = [];
    const notes: string[] = [];
    let cachesDropped = true;

    const t = await startBenchTier("restore", { log: ctx.log });
    ctx.defer("restore tier down", () => t.down());
    const v = await t.vars();
    const c = context(t.env);
    const base = drillConfig(c);
    const spec: pg.InstanceSpec = {
        pgBinDir: t.t.pgBinDir,
        scratchDir: base.scratchDir,
        runAsUser: SERVER_OS_USER,
        walgBinary: t.l.walg,
        walgEnvFile: t.l.walgEnv,
    };

    // TLS front for pgBackRest (and WAL-G, like for like).
    const certs = await selfSignedCert(join(t.dir, "tls"));
    const proxy: TlsProxy = await startTlsProxy(await freePort(), t.ports.minio, certs.cert, certs.key);
    ctx.defer("TLS proxy stop", () => proxy.stop());
    const httpsEndpoint = `https://127.0.0.1:${proxy.port}`;

    const usePgbackrest = !skip.has("pgbackrest");
    const br = usePgbackrest ? await setupPgbackrest(t, proxy.port, ctx) : undefined;
    // Runs before the proxy stops (cleanups run last first): without the TLS front, the second
    // archive_command would fail and Postgres could not archive its last WAL and shut down.
    if (br) ctx.defer("pgBackRest archive_command reset", () => br.detach());

    const timed = async (what: string, fn: () => Promise<RestoreRun>): Promise<RestoreRun[]> => {
        const out: RestoreRun[] = [];
        for (let i = 0; i < reps; i++) {
            cachesDropped = (await dropCaches()) && cachesDropped;
            const r = await fn();
            ctx.log(
                `${what}: ${r.total_s.toFixed(1)} s (fetch ${r.fetch_s.toFixed(1)} s, recovery ${r.recovery_s.toFixed(1)} s, check ${r.check_s.toFixed(1)} s)`,
            );
            out.push(r);
        }
        return out;
    };

    for (const scale of scales) {
        ctx.log(`scale ${scale}: pgbench -i`);
        const initS = await pgbenchInit(t, scale);
        const root = await t.root("postgres");
        await t.sql(root, "CHECKPOINT");
        await t.switchAndWaitArchived(600_000);
        await t.waitArchiveDrained();
        const bytes = (await dirBytes(t.l.pgData)) - (await dirBytes(join(t.l.pgData, "pg_wal")));
        infos.push({ scale, dataset_bytes: bytes, init_s: round(initS, 1) });
        ctx.log(`scale ${scale}: dataset ${(bytes / 1e6).toFixed(0)} MB (init ${initS.toFixed(0)} s)`);
        const add = (r: Omit<RestoreRow, "median_total_s" | "median_fetch_s" | "mb_s" | "fetch_mb_s">): void => {
            const mt = median(r.runs.map((x) => x.total_s));
            const mf = median(r.runs.map((x) => x.fetch_s));
            rows.push({
                ...r,
                median_total_s: round(mt),
                median_fetch_s: round(mf),
                mb_s: round(bytes / 1e6 / mt, 1),
                fetch_mb_s: round(bytes / 1e6 / mf, 1),
            });
        };
        const checks = { tables: ["public.pgbench_accounts"], minRows: { "public.pgbench_accounts": scale * 100_000 } };

        // 1. The physical limit: a plain copy of the same bytes.
        const copyDir = join(t.dir, "copy");
        const copyRuns = await timed(`scale ${scale} copy`, async () => {
            rmSync(copyDir, { recursive: true, force: true });
            const t0 = Date.now();
            await sh(
                `mkdir -p ${q(copyDir)} && cd ${q(t.l.pgData)} && for f in * ; do case "$f" in pg_wal|postmaster.pid) ;; *) cp -a "$f" ${q(copyDir)}/ ;; esac; done && sync`,
            );
            const s = (Date.now() - t0) / 1000;
            return { total_s: round(s), fetch_s: round(s), recovery_s: 0, check_s: 0 };
        });
        rmSync(copyDir, { recursive: true, force: true });
        add({
            scale,
            method: "copy",
            transport: "disk",
            compression: "none",
            concurrency: null,
            runs: copyRuns,
            stored_bytes: null,
            backup_s: null,
        });

        // 2. WAL-G through the drill: lzma first, then zstd, then lz4 (the drill restores the newest backup).
        const walgPass = async (compression: "lz4" | "zstd" | "lzma"): Promise<void> => {
            const push = await walgPush(t, compression);
            ctx.log(
                `scale ${scale}: wal-g backup-push ${compression}: ${push.seconds.toFixed(1)} s, ${(push.stored / 1e6).toFixed(0)} MB stored`,
            );
            const variants: { transport: "http" | "tls"; conc: number }[] = concurrencies.map((conc) => ({
                transport: "http" as const,
                conc,
            }));
            if (compression !== "lzma" && usePgbackrest) variants.push({ transport: "tls", conc: Math.max(...concurrencies) });
            for (const { transport, conc } of variants) {
                const env = walgEnvVariant(t, `${transport}-c${conc}`, {
                    WALG_DOWNLOAD_CONCURRENCY: String(conc),
                    // AWS_CA_BUNDLE too: the SDK prefers it to SSL_CERT_FILE, and Postgres (so restore_command)
                    // inherits whatever AWS_CA_BUNDLE the shell that ran `up` had.
                    ...(transport === "tls" ? { AWS_ENDPOINT: httpsEndpoint, SSL_CERT_FILE: certs.cert, AWS_CA_BUNDLE: certs.cert } : {}),
                });
                const runs = await timed(`scale ${scale} wal-g ${compression} ${transport} c${conc}`, () =>
                    drillRun(t, { ...base, ...checks, walgEnvFile: env, rtoSeconds: 7200 }),
                );
                add({
                    scale,
                    method: "walg",
                    transport,
                    compression,
                    concurrency: conc,
                    runs,
                    stored_bytes: push.stored,
                    backup_s: round(push.seconds, 1),
                });
            }
        };
        if (scale <= lzmaMax && !skip.has("lzma")) await walgPass("lzma");
        else
            notRun.push(
                `WAL-G lzma at scale ${scale} (lzma compresses at a few MB/s in WAL-G's pure-Go codec; run with --lzma-max-scale ${scale})`,
            );
        if (!skip.has("zstd")) await walgPass("zstd");
        else notRun.push(`WAL-G zstd at scale ${scale} (--skip zstd)`);
        if (!skip.has("lz4")) await walgPass("lz4");
        else notRun.push(`WAL-G lz4 at scale ${scale} (--skip lz4)`);

        // 3. pgBackRest, same data, same MinIO (through the TLS front), same scratch directory.
        if (br) {
            for (const compression of ["lz4", "zst"] as const) {
                const b = await br.backup(compression);
                ctx.log(
                    `scale ${scale}: pgbackrest backup ${compression}: ${b.seconds.toFixed(1)} s, ${(b.stored / 1e6).toFixed(0)} MB stored (${b.label})`,
                );
                for (const conc of concurrencies) {
                    const runs = await timed(`scale ${scale} pgbackrest ${compression} p${conc}`, () =>
                        br.restore(b.label, conc, spec, scale * 100_000),
                    );
                    add({
                        scale,
                        method: "pgbackrest",
                        transport: "tls",
                        compression,
                        concurrency: conc,
                        runs,
                        stored_bytes: b.stored,
                        backup_s: round(b.seconds, 1),
                    });
                }
            }
        } else {
            notRun.push(`pgBackRest at scale ${scale} (--skip pgbackrest)`);
        }
        await t.sql(await t.root(), "DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_tellers, pgbench_history");
    }
    if (!cachesDropped) notes.push("The page cache could not be dropped (not root?): reads may have come from memory.");
    void v;
    return { scales: infos, rows, caches_dropped: cachesDropped, reps, concurrencies, lzma_max_scale: lzmaMax, not_run: notRun, notes };
}

const q = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

async function walgPush(t: Tier, compression: "lz4" | "zstd" | "lzma"): Promise<{ seconds: number; stored: number; name: string }> {
    const t0 = Date.now();
    const r = await t.walg(["backup-push", t.l.pgData], {
        pg: true,
        overrides: { WALG_COMPRESSION_METHOD: compression },
        timeoutSeconds: 7200,
    });
    const seconds = (Date.now() - t0) / 1000;
    if (r.code !== 0) throw new Error(`wal-g backup-push (${compression}) failed: ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    const list = await t.walg(["backup-list", "--detail", "--json"]);
    const backups = JSON.parse(list.stdout) as { backup_name: string; compressed_size: number; start_time: string }[];
    const newest = must(backups.sort((a, b) => Date.parse(a.start_time) - Date.parse(b.start_time)).pop(), "newest backup");
    return { seconds, stored: newest.compressed_size, name: newest.backup_name };
}

/** One restore drill (runDrill, the code `npm run local -- drill` runs); times from its log lines. */
async function drillRun(t: Tier, config: ReturnType<typeof drillConfig>): Promise<RestoreRun> {
    const marks: Record<string, number> = {};
    const echo = (line: string): void => {
        const at = Date.parse(line.slice(0, 24));
        if (line.includes(" restoring base_")) marks.fetch = at;
        else if (line.includes("starting the throwaway instance")) marks.start = at;
        else if (line.includes("recovery finished and promoted")) marks.promoted = at;
        else if (line.includes(" row counts: ")) marks.checked = at;
    };
    const outDir = join(t.dir, "drill-out");
    const r = await runDrill(config, { outDir, echo });
    rmSync(outDir, { recursive: true, force: true });
    if (r.evidence.status !== "passed") throw new Error(`drill failed: ${r.evidence.error}`);
    const started = Date.parse(r.evidence.restore_started_at);
    for (const k of ["fetch", "start", "promoted", "checked"]) if (marks[k] === undefined) throw new Error(`drill log has no ${k} line`);
    return {
        total_s: round((marks.checked - started) / 1000),
        fetch_s: round((marks.start - marks.fetch) / 1000),
        recovery_s: round((marks.promoted - marks.start) / 1000),
        check_s: round((marks.checked - marks.promoted) / 1000),
    };
}

interface Pgbackrest {
    /** Back to the tier's own archive_command (ALTER SYSTEM RESET, reload). */
    detach(): Promise<void>;
    backup(compression: "lz4" | "zst"): Promise<{ seconds: number; stored: number; label: string }>;
    restore(label: string, processMax: number, spec: pg.InstanceSpec, minRows: number): Promise<RestoreRun>;
}

/**
 * pgBackRest next to WAL-G on the bench tier only: a Unix socket and a peer line for it
 * (pgBackRest reaches Postgres through a socket; the tier has none), and a second
 * archive_command so pgBackRest has its own WAL archive. Set with ALTER SYSTEM, which the
 * drill's restores leave behind (it sets postgresql.auto.conf aside).
 */
async function setupPgbackrest(t: Tier, tlsPort: number, ctx: PartContext): Promise<Pgbackrest> {
    const dir = join(t.l.pg, "pgbackrest");
    for (const d of [dir, join(dir, "sock"), join(dir, "lock"), join(dir, "log")]) ensureDir(d, { mode: 0o700, server: true });
    const s = t.secrets();
    const conf = join(dir, "pgbackrest.conf");
    writePrivate(
        conf,
        [
            "[global]",
            "repo1-type=s3",
            "repo1-s3-endpoint=127.0.0.1",
            `repo1-storage-port=${tlsPort}`,
            "repo1-storage-verify-tls=n",
            "repo1-s3-bucket=db-tier-dev-backups",
            `repo1-s3-key=${s.minio.user}`,
            `repo1-s3-key-secret=${s.minio.password}`,
            "repo1-s3-region=us-east-1",
            "repo1-s3-uri-style=path",
            "repo1-path=/bench/pgbackrest",
            // Client-side encryption, as WAL-G's libsodium key: both pay for it.
            "repo1-cipher-type=aes-256-cbc",
            `repo1-cipher-pass=${randomBytes(24).toString("hex")}`,
            "repo1-retention-full=100",
            "start-fast=y",
            "log-level-console=warn",
            "log-level-file=off",
            `lock-path=${join(dir, "lock")}`,
            `log-path=${join(dir, "log")}`,
            "",
            `[${STANZA}]`,
            `pg1-path=${t.l.pgData}`,
            `pg1-port=${t.ports.postgres}`,
            `pg1-socket-path=${join(dir, "sock")}`,
            "pg1-user=postgres",
            "",
        ].join("\n"),
        { server: true },
    );
    const hba = join(dir, "pg_hba.conf");
    writePrivate(hba, `local all postgres peer\n${readFileSync(t.l.pgHba, "utf8")}`, { server: true });
    const root = await t.root("postgres");
    const archive = must(await t.value(root, "SHOW archive_command"), "archive_command");
    const lit = (x: string): string => `'${x.replace(/'/g, "''")}'`;
    await t.sql(root, `ALTER SYSTEM SET unix_socket_directories = ${lit(join(dir, "sock"))}`);
    await t.sql(root, `ALTER SYSTEM SET hba_file = ${lit(hba)}`);
    await t.sql(
        root,
        `ALTER SYSTEM SET archive_command = ${lit(`${archive} && pgbackrest --config=${conf} --stanza=${STANZA} archive-push %p`)}`,
    );
    await stopPostgres(t.l, t.t);
    await startPostgres(t.l, t.t);
    const br = (args: string, timeoutMs = 7_200_000) =>
        sh(`runuser -u ${SERVER_OS_USER} -- pgbackrest --config=${q(conf)} --stanza=${STANZA} ${args}`, { timeoutMs });
    await br("stanza-create");
    await br("check");
    ctx.log("pgBackRest: stanza created, check passed (archive through the TLS front)");

    const info = async (): Promise<{ label: string; repoSize: number }[]> => {
        const r = await br("info --output=json");
        const j = JSON.parse(r.stdout) as { backup: { label: string; info: { repository: { delta: number } } }[] }[];
        return (j[0]?.backup ?? []).map((b) => ({ label: b.label, repoSize: b.info.repository.delta }));
    };

    return {
        async detach() {
            await t.sql(root, "ALTER SYSTEM RESET archive_command");
            await t.sql(root, "SELECT pg_reload_conf()");
        },
        async backup(compression) {
            const before = new Set((await info()).map((b) => b.label));
            const t0 = Date.now();
            await br(`--type=full --compress-type=${compression} --process-max=4 backup`);
            const seconds = (Date.now() - t0) / 1000;
            const added = (await info()).filter((b) => !before.has(b.label));
            if (added.length !== 1) throw new Error(`pgbackrest backup: expected one new backup, got ${added.length}`);
            return { seconds, stored: added[0].repoSize, label: added[0].label };
        },
        async restore(label, processMax, spec, minRows) {
            await pg.stop(spec);
            rmSync(spec.scratchDir, { recursive: true, force: true });
            ensureDir(spec.scratchDir, { mode: 0o700, server: true });
            const data = pg.dataDir(spec);
            const t0 = Date.now();
            await br(`--pg1-path=${q(data)} --set=${label} --process-max=${processMax} restore`);
            const t1 = Date.now();
            // Everything but pgBackRest's recovery settings goes: this copy gets the drill's config.
            const auto = join(data, "postgresql.auto.conf");
            const kept = readFileSync(auto, "utf8")
                .split("\n")
                .filter((l) => !/^\s*(unix_socket_directories|hba_file|archive_command)\s*=/.test(l));
            writeFileSync(auto, kept.join("\n"));
            for (const [path, text] of Object.entries(pg.configFiles(spec))) writeFileSync(path, text, { mode: 0o600 });
            await sh(`chown -R ${SERVER_OS_USER}: ${q(spec.scratchDir)} && chmod 0700 ${q(data)} ${q(spec.scratchDir)}`);
            await pg.start(spec);
            await pg.waitPromoted(spec, "postgres", "app", Date.now() + 3_600_000);
            const t2 = Date.now();
            const n = Number(await pg.queryValue(spec, "postgres", "app", "SELECT count(*) FROM public.pgbench_accounts"));
            const t3 = Date.now();
            if (n < minRows) throw new Error(`pgBackRest restore: ${n} rows in pgbench_accounts, expected ${minRows}`);
            await pg.stop(spec);
            for (const e of existsSync(spec.scratchDir) ? readdirSync(spec.scratchDir) : [])
                rmSync(join(spec.scratchDir, e), { recursive: true, force: true });
            return {
                total_s: round((t3 - t0) / 1000),
                fetch_s: round((t1 - t0) / 1000),
                recovery_s: round((t2 - t1) / 1000),
                check_s: round((t3 - t2) / 1000),
            };
        },
    };
}

export function restoreSummary(d: RestoreData): string[] {
    return d.rows.map(
        (r) =>
            `scale ${String(r.scale).padStart(3)} ${r.method.padEnd(10)} ${r.transport.padEnd(4)} ${r.compression.padEnd(4)} c=${String(r.concurrency ?? "-").padEnd(2)} ` +
            `${fmt(r.median_total_s).padStart(7)} s  ${fmt(r.mb_s).padStart(7)} MB/s (fetch ${fmt(r.fetch_mb_s)} MB/s)`,
    );
}
