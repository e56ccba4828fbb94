/**
 * Someone who can read the backup bucket (a leaked read-only key, a public-ACL mistake):
 * they download every object. Base backups and WAL are libsodium-encrypted, so a marker
 * row committed before the backup appears in no object, and WAL-G without the key (or with
 * another key) cannot restore; the control shows the marker is plain in the data directory
 * and that WAL-G with the tier's key restores it. No object holds a credential.
 */
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../jobs/proc";
import { startTier, switchAndWaitArchived, type Tier, toolsMissing } from "../support/tier-harness";

const MARKER = "bucket-reader-marker-6b1f0d2e";

function grepTree(dir: string, needle: Buffer): string[] {
    const hits: string[] = [];
    const walk = (d: string): void => {
        for (const e of readdirSync(d)) {
            const p = join(d, e);
            const s = statSync(p);
            if (s.isDirectory()) walk(p);
            else if (s.isFile() && readFileSync(p).includes(needle)) hits.push(p);
        }
    };
    walk(dir);
    return hits;
}

describe.skipIf(toolsMissing().length > 0)("read access to the bucket", () => {
    let t: Tier;
    let v: Record<string, string>;
    let scratch: string;
    let objects: Map<string, Buffer>;

    beforeAll(async () => {
        t = await startTier("bucket");
        v = await t.vars();
        scratch = mkdtempSync(join(tmpdir(), "dbtier-bucket-"));
        const r = await t.psql(v.DATABASE_MIGRATE_URL, [
            "CREATE TABLE secrets_of_tenants (body text)",
            `INSERT INTO secrets_of_tenants SELECT '${MARKER}-' || g FROM generate_series(1, 200) g`,
        ]);
        expect(r.code, r.stderr).toBe(0);
        await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
        const b = await t.cli(["backup"], 300_000);
        expect(b.code, b.stderr).toBe(0);
        objects = new Map();
        for (const key of await t.listKeys("")) objects.set(key, (await t.getObject(key))!);
    });
    afterAll(async () => {
        if (scratch) rmSync(scratch, { recursive: true, force: true });
        await t?.down();
    });

    it("control: the marker is in the clear in the data directory", () => {
        expect(grepTree(t.l.pgData, Buffer.from(MARKER)).length).toBeGreaterThan(0);
    });

    it("no object in the bucket contains the marker, a role password or the storage secret", () => {
        const secrets = JSON.parse(readFileSync(t.l.secrets, "utf8"));
        const needles = [
            MARKER,
            secrets.minio.password,
            secrets.libsodiumKeyHex,
            ...Object.values(secrets.roles as Record<string, { password: string }>).map((r) => r.password),
        ];
        expect([...objects.keys()].some((k) => k.includes("/basebackups_005/"))).toBe(true);
        expect([...objects.keys()].some((k) => k.includes("/wal_005/"))).toBe(true);
        for (const [key, body] of objects) {
            for (const n of needles) expect(body.includes(Buffer.from(n)), `${key} contains a secret or the marker`).toBe(false);
        }
    });

    it("WAL-G without the key, or with another key, cannot restore the backup; with the tier's key it can", {
        timeout: 300_000,
    }, async () => {
        const envText = readFileSync(t.l.walgEnv, "utf8");
        // The reader's WAL-G gives up after its first failed pass (one download at a time, no
        // retry): by default it retries each failed file at halved concurrency with a sleep of
        // a minute or more in between, which a reader can skip and a test need not wait for. The
        // failure is the same on every pass: the reader lacks the key.
        const noRetry = "\nWALG_DOWNLOAD_CONCURRENCY='1'\nWALG_DOWNLOAD_FILE_RETRIES='0'\n";
        const fetchWith = async (
            name: string,
            text: string,
            timeoutMs: number,
        ): Promise<{ ok: boolean; timedOut: boolean; out: string; dir: string }> => {
            const envFile = join(scratch, `${name}.env`);
            writeFileSync(envFile, text, { mode: 0o600 });
            const dir = join(scratch, name);
            const r = await run(
                "/bin/sh",
                ["-c", `set -a && . "$1" && set +a && exec "$2" backup-fetch "$3" LATEST`, "sh", envFile, t.l.walg, dir],
                { timeoutMs },
            );
            return { ok: r.code === 0 && !r.timedOut, timedOut: r.timedOut, out: `${r.stdout}\n${r.stderr}`.slice(-2000), dir };
        };
        const noKey = await fetchWith(
            "nokey",
            envText
                .split("\n")
                .filter((l) => !l.startsWith("WALG_LIBSODIUM_KEY"))
                .join("\n") + noRetry,
            40_000,
        );
        // It fails by itself (an exit, not the test's time bound), and never succeeds.
        expect(noKey, noKey.out).toMatchObject({ ok: false, timedOut: false });
        const other = await fetchWith(
            "otherkey",
            envText.replace(/^WALG_LIBSODIUM_KEY=.*$/m, `WALG_LIBSODIUM_KEY='${"ab".repeat(32)}'`) + noRetry,
            40_000,
        );
        expect(other, other.out).toMatchObject({ ok: false, timedOut: false });
        for (const d of [noKey.dir, other.dir]) if (existsSync(d)) expect(grepTree(d, Buffer.from(MARKER))).toEqual([]);
        const good = await fetchWith("tierkey", envText, 120_000);
        expect(good.ok, good.out).toBe(true);
        expect(grepTree(good.dir, Buffer.from(MARKER)).length).toBeGreaterThan(0);
    });
});
