/**
 * What the pinned WAL-G (v3.0.9) exits with when wal-fetch cannot deliver a segment, on the
 * real binary against the tier's MinIO, and what the rendered restore_command makes of it:
 * only a segment that is not in storage may end recovery (wal-fetch 74, restore_command 1);
 * a wrong key, wrong credentials, a missing bucket or an unreachable endpoint must stop it
 * (restore_command 200), never read as "end of archive".
 */
import { spawnSync } from "node:child_process";
import { existsSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../jobs/proc";
import { restoreCommand, WALG_MISSING_FILE_EXIT } from "../../render/postgresql-conf";
import { freePort, startTier, switchAndWaitArchived, type Tier, toolsMissing } from "../support/tier-harness";

/**
 * The time bound on wal-fetch, here and in the rendered restore_command: an endpoint that never
 * answers is retried by WAL-G until the bound ends it (exit 124), whatever the bound is, so a
 * short one proves the same; the successful fetches of this file take well under a second.
 */
const FETCH_BOUND_SECONDS = 10;

describe.skipIf(toolsMissing().length > 0)("wal-fetch exit codes of WAL-G v3.0.9", () => {
    let t: Tier;
    let segment: string;

    /** A copy of the tier's env file with some settings replaced. */
    const variant = (name: string, set: Record<string, string>): string => {
        const lines = readFileSync(t.l.walgEnv, "utf8")
            .split("\n")
            .filter((l) => !Object.keys(set).some((k) => l.startsWith(`${k}=`)));
        const path = join(t.dir, `walg-${name}.env`);
        writeFileSync(
            path,
            `${lines.join("\n")}\n${Object.entries(set)
                .map(([k, v]) => `${k}='${v}'`)
                .join("\n")}\n`,
            { mode: 0o600 },
        );
        return path;
    };
    const fetch = async (envFile: string, name: string): Promise<{ code: number | null; stderr: string; seconds: number }> => {
        const out = join(t.dir, "fetched");
        rmSync(out, { force: true });
        const t0 = Date.now();
        // wal-fetch's prefetch children outlive a killed wal-fetch and keep inherited pipes open:
        // give them a file and /dev/null, not this process's pipes.
        const log = join(t.dir, "fetch.log");
        const r = await run(
            "/bin/sh",
            [
                "-c",
                `set -a && . "$1" && set +a && timeout -k 5 ${FETCH_BOUND_SECONDS} "$2" wal-fetch "$3" "$4" >/dev/null 2>"$5"`,
                "sh",
                envFile,
                t.l.walg,
                name,
                out,
                log,
            ],
            {
                env: { PATH: process.env.PATH },
                timeoutMs: 60_000,
            },
        );
        return { code: r.code, stderr: existsSync(log) ? readFileSync(log, "utf8") : r.stderr, seconds: (Date.now() - t0) / 1000 };
    };
    /** The rendered restore_command, run by /bin/sh as Postgres would, with %f and %p filled in. */
    const restoreCmd = (envFile: string, name: string): { status: number | null; stderr: string } => {
        const out = join(t.dir, "RECOVERYXLOG");
        rmSync(out, { force: true });
        const cmd = restoreCommand({
            walgBinary: t.l.walg,
            walgEnvFile: envFile,
            rpoSeconds: 60,
            pushTimeoutSeconds: 60,
            fetchTimeoutSeconds: FETCH_BOUND_SECONDS,
        })
            .replace(/%f/g, name)
            .replace(/%p/g, out);
        // As Postgres runs it, minus the pipes: stdout to /dev/null (prefetch children inherit it).
        const r = spawnSync("/bin/sh", ["-c", cmd], { encoding: "utf8", timeout: 150_000, stdio: ["ignore", "ignore", "pipe"] });
        return { status: r.status, stderr: r.stderr };
    };

    beforeAll(async () => {
        t = await startTier("walg-exit");
        const v = await t.vars();
        const w = await t.psql(v.DATABASE_ROOT_URL, "CREATE TABLE exit_codes AS SELECT g FROM generate_series(1, 1000) g");
        expect(w.code, w.stderr).toBe(0);
        segment = await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
    });
    afterAll(async () => {
        await t?.down();
    });

    it("control: fetches an archived segment (exit 0), and restore_command delivers it", async () => {
        const r = await fetch(t.l.walgEnv, segment);
        expect(r.code, r.stderr).toBe(0);
        const rc = restoreCmd(t.l.walgEnv, segment);
        expect(rc.status, rc.stderr).toBe(0);
        expect(existsSync(join(t.dir, "RECOVERYXLOG"))).toBe(true);
    });

    it("exits 74 for a segment that is not in storage; restore_command ends recovery (1)", async () => {
        const missing = "0000000100000000000000FE";
        const r = await fetch(t.l.walgEnv, missing);
        expect(r.code, r.stderr).toBe(WALG_MISSING_FILE_EXIT);
        const h = await fetch(t.l.walgEnv, "00000002.history");
        expect(h.code, h.stderr).toBe(WALG_MISSING_FILE_EXIT);
        expect(restoreCmd(t.l.walgEnv, missing).status).toBe(1);
    });

    // Each failure: restore_command must stop recovery (200), whatever wal-fetch exits with.
    // wal-fetch's own code is asserted as measured on v3.0.9: 1 for a wrong key or wrong
    // credentials, 74 ("does not exist") for a bucket that does not exist -- which is why
    // restore_command checks that the storage is readable before it believes a "missing" --
    // and the time bound (124) for an endpoint that never answers (WAL-G retries).
    const failures: [string, () => Promise<Record<string, string>>, (code: number | null) => boolean][] = [
        ["the wrong libsodium key", async () => ({ WALG_LIBSODIUM_KEY: "cd".repeat(32) }), (c) => c === 1],
        ["a wrong secret key", async () => ({ AWS_SECRET_ACCESS_KEY: "not-the-secret-key-0123456789" }), (c) => c === 1],
        [
            "a bucket that does not exist",
            async () => ({ WALG_S3_PREFIX: "s3://no-such-bucket-dbtier/dev/app" }),
            (c) => c === WALG_MISSING_FILE_EXIT,
        ],
        ["an unreachable endpoint", async () => ({ AWS_ENDPOINT: `http://127.0.0.1:${await freePort()}` }), (c) => c === 124],
    ];
    for (const [what, settings, expected] of failures) {
        it(`stops recovery (restore_command 200) for ${what}`, async () => {
            const env = variant(what.replace(/\W+/g, "-"), await settings());
            const r = await fetch(env, segment);
            process.stderr.write(
                `[walg-exit] ${what}: wal-fetch exit ${r.code} after ${r.seconds.toFixed(1)} s: ${r.stderr.trim().split("\n").pop()}\n`,
            );
            expect(expected(r.code), `wal-fetch exit ${r.code}: ${r.stderr.slice(-500)}`).toBe(true);
            const rc = restoreCmd(env, segment);
            expect(rc.status, rc.stderr).toBe(200);
            expect(rc.stderr).toContain("stopping recovery");
        }, 200_000);
    }
});
