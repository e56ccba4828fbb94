/**
 * Hole 3: servers inherit the caller's environment. The tier is started (`up`) and backed up
 * (`backup`) from a shell that has run `eval "$(npm run -s local -- env)"` and holds the
 * user's own cloud keys; then the environment of every process the tier runs is read from
 * /proc/<pid>/environ: the postmaster and its children, pgBouncer, MinIO, and the WAL-G
 * processes of archive_command (wal-push) and of the backup job (backup-push), caught live.
 * None may carry a DSN, a password, the caller's AWS_* keys or a tier secret it does not
 * need; WAL-G holds exactly the storage settings of walg.env, and MinIO reads its root
 * credentials from 0600 files. `env` itself prints S3_* names, never AWS_*.
 */
import { mkdtempSync, readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, type RunResult } from "../../jobs/proc";
import { layout, type Layout } from "../../local/settings";
import { freePorts, parseExports, psqlWith, REPO, toolsMissing } from "../support/tier-harness";

/** Every value the caller's shell holds that no tier process may inherit contains this. */
const MARK = "LEAKMARK7c1e";

const CONTRACT_ENV = [
    "DATABASE_URL",
    "DATABASE_SERVICE_URL",
    "DATABASE_ROOT_URL",
    "DATABASE_MIGRATE_URL",
    "PGBOUNCER_PORT",
    "POSTGRES_PORT",
    "S3_ENDPOINT",
    "S3_BUCKET",
    "S3_ACCESS_KEY_ID",
    "S3_SECRET_ACCESS_KEY",
    "WALG_ENV_FILE",
];

/** What a careful user's shell looks like after `eval "$(npm run -s local -- env)"`, plus their own AWS keys. */
const CALLER_ENV: Record<string, string> = {
    DATABASE_URL: `postgresql://app_user:${MARK}-app@127.0.0.1:1/app`,
    DATABASE_SERVICE_URL: `postgresql://app_service:${MARK}-svc@127.0.0.1:1/app`,
    DATABASE_ROOT_URL: `postgresql://postgres:${MARK}-root@127.0.0.1:1/app`,
    DATABASE_MIGRATE_URL: `postgresql://app_user:${MARK}-mig@127.0.0.1:1/app_migrate`,
    S3_ACCESS_KEY_ID: `${MARK}-s3id`,
    S3_SECRET_ACCESS_KEY: `${MARK}-s3secret`,
    AWS_ACCESS_KEY_ID: `AKIA${MARK}`,
    AWS_SECRET_ACCESS_KEY: `${MARK}-awssecret`,
    AWS_SESSION_TOKEN: `${MARK}-awstoken`,
    AWS_PROFILE: `${MARK}-profile`,
    PGPASSWORD: `${MARK}-pgpassword`,
    PGUSER: `${MARK}user`,
    WALG_LIBSODIUM_KEY: `${MARK}-libsodium`,
    MY_APP_API_TOKEN: `${MARK}-token`,
};

interface Proc {
    readonly pid: number;
    readonly argv: string[];
    readonly env: Record<string, string>;
}

function readProc(pid: number): Proc | undefined {
    try {
        const argv = readFileSync(`/proc/${pid}/cmdline`, "utf8").split("\0").filter(Boolean);
        const env = Object.fromEntries(
            readFileSync(`/proc/${pid}/environ`, "utf8")
                .split("\0")
                .filter(Boolean)
                .map((kv) => [kv.slice(0, kv.indexOf("=")), kv.slice(kv.indexOf("=") + 1)]),
        );
        return { pid, argv, env };
    } catch {
        return undefined; // gone already
    }
}

function allPids(): number[] {
    return readdirSync("/proc")
        .filter((d) => /^\d+$/.test(d))
        .map(Number);
}

function ppid(pid: number): number | undefined {
    try {
        const stat = readFileSync(`/proc/${pid}/stat`, "utf8");
        return Number(stat.slice(stat.lastIndexOf(")") + 2).split(" ")[1]);
    } catch {
        return undefined;
    }
}

/** Polls /proc until `stop` resolves, keeping every process whose argv matches. */
async function catchLive(match: (argv: string[]) => boolean, stop: Promise<unknown>): Promise<Proc[]> {
    const seen = new Map<number, Proc>();
    let done = false;
    void stop.finally(() => (done = true));
    while (!done) {
        for (const pid of allPids()) {
            if (seen.has(pid)) continue;
            const p = readProc(pid);
            if (p && match(p.argv)) seen.set(pid, p);
        }
        await new Promise((r) => setImmediate(r));
    }
    return [...seen.values()];
}

/** This tier's wal-g (its own copy in the state dir; other tiers may run on the machine at the same time). */
const isWalg =
    (binary: string, verb: string) =>
    (argv: string[]): boolean =>
        argv[0] === binary && argv.includes(verb);

describe.skipIf(toolsMissing().length > 0)("process environments", () => {
    let dir: string;
    let l: Layout;
    let env: NodeJS.ProcessEnv;
    let secrets: { minio: { user: string; password: string }; libsodiumKeyHex: string; roles: Record<string, { password: string }> };
    let walgEnvFile: Record<string, string>;
    const cli = (args: string[], timeoutMs = 180_000): Promise<RunResult> =>
        run(join(REPO, "node_modules", ".bin", "tsx"), [join(REPO, "local", "cli.ts"), ...args], { env, cwd: REPO, timeoutMs });

    /** Values no process except the one that needs them may hold. */
    const tierSecrets = (): string[] => [
        secrets.minio.password,
        secrets.libsodiumKeyHex,
        ...Object.values(secrets.roles).map((r) => r.password),
    ];

    /** The assertions every tier process must pass. */
    const expectClean = (p: Proc, what: string, allowed: { storageKeys?: boolean } = {}): void => {
        const label = `${what} (pid ${p.pid}: ${p.argv.slice(0, 3).join(" ")})`;
        for (const [k, val] of Object.entries(p.env)) {
            expect(val.includes(MARK), `${label}: ${k} comes from the caller's shell`).toBe(false);
            expect(/^(DATABASE_|S3_|PGPASSWORD$|MY_APP_)/.test(k), `${label}: ${k}`).toBe(false);
            expect(/postgres(ql)?:\/\/[^@\s]*:[^@\s]*@/.test(val), `${label}: ${k} holds a DSN with a password`).toBe(false);
            if (!allowed.storageKeys) expect(/^(AWS_|WALG_)/.test(k), `${label}: ${k}`).toBe(false);
        }
        const values = Object.values(p.env).join("\n");
        for (const s of tierSecrets()) {
            if (allowed.storageKeys && (s === secrets.minio.password || s === secrets.libsodiumKeyHex)) continue;
            expect(values.includes(s), `${label} holds a tier secret it does not need`).toBe(false);
        }
    };

    beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), "dbtier-environ-"));
        l = layout(dir);
        const [postgres, pgbouncer, minio] = await freePorts(3);
        env = {
            ...process.env,
            ...CALLER_ENV,
            DBTIER_LOCAL_DIR: dir,
            DBTIER_LOCAL_POSTGRES_PORT: String(postgres),
            DBTIER_LOCAL_PGBOUNCER_PORT: String(pgbouncer),
            DBTIER_LOCAL_MINIO_PORT: String(minio),
        };
        const r = await cli(["up"]);
        if (r.code !== 0) {
            await cli(["down", "--purge"]).catch(() => undefined);
            throw new Error(`up failed: ${r.stderr}`);
        }
        secrets = JSON.parse(readFileSync(l.secrets, "utf8"));
        walgEnvFile = parseExports(
            readFileSync(l.walgEnv, "utf8")
                .split("\n")
                .map((x) => `export ${x}`)
                .join("\n"),
        );
    });
    afterAll(async () => {
        if (dir) await cli(["down", "--purge"]);
    });

    it("`env` prints exactly the contract's names: storage keys as S3_*, never AWS_*", async () => {
        const r = await cli(["env"]);
        expect(r.code, r.stderr).toBe(0);
        const vars = parseExports(r.stdout);
        expect(Object.keys(vars).sort()).toEqual([...CONTRACT_ENV].sort());
        expect(r.stdout).not.toMatch(/AWS_/);
        expect(vars.S3_ACCESS_KEY_ID).toBe(secrets.minio.user);
        expect(vars.S3_SECRET_ACCESS_KEY).toBe(secrets.minio.password);
        // The printed DSNs work (the legitimate path): pooled, service, migrate alias, root direct.
        for (const name of ["DATABASE_URL", "DATABASE_SERVICE_URL", "DATABASE_MIGRATE_URL", "DATABASE_ROOT_URL"]) {
            const q = await psqlWith(vars[name], "SELECT current_user");
            expect(q.code, `${name}: ${q.stderr}`).toBe(0);
        }
    });

    it("the postmaster and every Postgres child have only PATH, locale and what runuser/pg_ctl set", () => {
        const pm = Number(readFileSync(join(l.pgData, "postmaster.pid"), "utf8").split("\n")[0]);
        const procs = [pm, ...allPids().filter((p) => ppid(p) === pm)].map(readProc).filter((p): p is Proc => !!p);
        // PWD comes from the shell pg_ctl starts the postmaster with; PGSYSCONFDIR and
        // PGLOCALEDIR are set by postgres itself (its compiled-in paths).
        expect(procs.length).toBeGreaterThan(3); // postmaster, checkpointer, walwriter, archiver...
        for (const p of procs) {
            expectClean(p, "postgres");
            expect(
                Object.keys(p.env).filter(
                    (k) =>
                        !/^(PATH|LANG|LANGUAGE|LC_[A-Z]+|TZ|HOME|USER|LOGNAME|SHELL|PWD|PGDATA|PG_GRANDPARENT_PID|PGSYSCONFDIR|PGLOCALEDIR)$/.test(
                            k,
                        ),
                ),
                `postgres pid ${p.pid}`,
            ).toEqual([]);
        }
    });

    it("pgBouncer has only PATH, locale and what runuser sets", () => {
        const p = readProc(Number(readFileSync(l.pgbPid, "utf8").trim()));
        expect(p, "pgbouncer running").toBeDefined();
        expectClean(p!, "pgbouncer");
        expect(Object.keys(p!.env).filter((k) => !/^(PATH|LANG|LANGUAGE|LC_[A-Z]+|TZ|HOME|USER|LOGNAME|SHELL)$/.test(k))).toEqual([]);
    });

    it("MinIO gets its root credentials by 0600 file, not by value", () => {
        const p = readProc(Number(readFileSync(l.minioPid, "utf8").trim()));
        expect(p, "minio running").toBeDefined();
        expectClean(p!, "minio");
        expect(p!.env.MINIO_ROOT_USER).toBeUndefined();
        expect(p!.env.MINIO_ROOT_PASSWORD).toBeUndefined();
        for (const f of [p!.env.MINIO_ROOT_USER_FILE, p!.env.MINIO_ROOT_PASSWORD_FILE]) {
            expect(f).toBeTruthy();
            expect(statSync(f).mode & 0o777).toBe(0o600);
        }
        expect(readFileSync(p!.env.MINIO_ROOT_PASSWORD_FILE, "utf8")).toBe(secrets.minio.password);
        expect(
            Object.keys(p!.env).filter(
                (k) =>
                    !/^(PATH|LANG|LANGUAGE|LC_[A-Z]+|TZ|HOME|MINIO_ROOT_USER_FILE|MINIO_ROOT_PASSWORD_FILE|MINIO_BROWSER|MINIO_UPDATE)$/.test(
                        k,
                    ),
            ),
        ).toEqual([]);
    });

    it("archive_command's wal-g (wal-push) holds the walg.env settings and nothing of the caller's", async () => {
        const root = `postgresql://postgres:${encodeURIComponent(secrets.roles.postgres.password)}@127.0.0.1:${env.DBTIER_LOCAL_POSTGRES_PORT}/postgres`;
        const work = (async () => {
            for (let i = 0; i < 8; i++) {
                const r = await psqlWith(root, [
                    "CREATE TABLE IF NOT EXISTS churn (x int)",
                    "INSERT INTO churn SELECT generate_series(1, 1000)",
                    "SELECT pg_switch_wal()",
                ]);
                expect(r.code, r.stderr).toBe(0);
                await new Promise((res) => setTimeout(res, 700));
            }
        })();
        const caught = await catchLive(isWalg(l.walg, "wal-push"), work);
        expect(caught.length, "no wal-push was caught while 8 segments were archived").toBeGreaterThan(0);
        for (const p of caught) {
            expectClean(p, "wal-g wal-push", { storageKeys: true });
            // The storage key it holds is the tier's own, from walg.env, not the caller's AWS_*.
            expect(p.env.AWS_ACCESS_KEY_ID).toBe(secrets.minio.user);
            expect(p.env.AWS_SESSION_TOKEN).toBeUndefined();
            expect(p.env.AWS_PROFILE).toBeUndefined();
            const extra = Object.keys(p.env).filter(
                (k) =>
                    !(k in walgEnvFile) &&
                    !/^(PATH|LANG|LANGUAGE|LC_[A-Z]+|TZ|HOME|USER|LOGNAME|SHELL|PGDATA|PG_GRANDPARENT_PID|PGSYSCONFDIR|PGLOCALEDIR|PWD|SHLVL|_)$/.test(
                        k,
                    ),
            );
            expect(extra, "wal-push environment beyond walg.env and the base").toEqual([]);
        }
    });

    it("the backup job's wal-g (backup-push) holds walg.env and its libpq settings, nothing of the caller's", async () => {
        const backup = cli(["backup"], 300_000);
        const caught = await catchLive(isWalg(l.walg, "backup-push"), backup);
        const r = await backup;
        expect(r.code, r.stderr).toBe(0);
        expect(caught.length).toBeGreaterThan(0);
        for (const p of caught) {
            expectClean(p, "wal-g backup-push", { storageKeys: true });
            expect(p.env.AWS_ACCESS_KEY_ID).toBe(secrets.minio.user);
            expect(p.env.PGPASSFILE).toBe(l.pgpass);
            expect(p.env.PGPASSWORD).toBeUndefined();
            const extra = Object.keys(p.env).filter(
                (k) =>
                    !(k in walgEnvFile) &&
                    !/^(PATH|LANG|LANGUAGE|LC_[A-Z]+|TZ|HOME|PWD|SHLVL|_|PGHOST|PGPORT|PGUSER|PGPASSFILE|PGDATABASE)$/.test(k),
            );
            expect(extra, "backup-push environment beyond walg.env, libpq and the base").toEqual([]);
        }
    });

    it("every file that holds a secret is 0600", () => {
        const files = [
            l.secrets,
            l.pgpass,
            l.walgEnv,
            l.pgbAuth,
            join(dir, "minio-credentials", "root-password"),
            join(dir, "minio-credentials", "root-user"),
        ];
        for (const f of files) expect(statSync(f).mode & 0o777, f).toBe(0o600);
    });
});
