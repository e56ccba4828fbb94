/**
 * WAL archiving through WAL-G to MinIO: segments land under the cluster's prefix
 * dev/app/wal_005/, encrypted; wal-verify passes; the backup job's log line; the bucket's
 * lifecycle rules; `up` is idempotent; secret files are private.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { GetBucketLifecycleConfigurationCommand } from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { renderLifecycleRules } from "../../render/lifecycle";
import { walgFileExtension } from "../../render/walg-env";
import { compression } from "../../local/postgres";
import { readPid } from "../../local/fsutil";
import { startTier, switchAndWaitArchived, type Tier, toolsMissing } from "../support/tier-harness";

/** The tier's codec (the config default, as the local tier renders it) and its object suffix. */
const CODEC = compression();
const EXT = walgFileExtension(CODEC);
/** The magic number a bare frame of that codec starts with: an encrypted object must not. */
const FRAME_MAGIC = {
    lz4: Buffer.from([0x04, 0x22, 0x4d, 0x18]),
    zstd: Buffer.from([0x28, 0xb5, 0x2f, 0xfd]),
    lzma: Buffer.from([0xfd, 0x37, 0x7a, 0x58]),
}[CODEC];
const MARKER = "DBTIER-PLAINTEXT-MARKER-7f3a";

describe.skipIf(toolsMissing().length > 0)("WAL archiving to object storage", () => {
    let t: Tier;
    let v: Record<string, string>;

    beforeAll(async () => {
        t = await startTier("archive");
        v = await t.vars();
    });
    afterAll(async () => {
        await t?.down();
    });

    it("archives segments under dev/app/wal_005/, encrypted, and WAL-G with the key reads them back", async () => {
        const w = await t.psql(v.DATABASE_ROOT_URL, [
            "CREATE TABLE IF NOT EXISTS markers (id serial PRIMARY KEY, body text)",
            `INSERT INTO markers (body) SELECT '${MARKER}-' || g FROM generate_series(1, 200) g`,
        ]);
        expect(w.stderr).toBe("");
        const segment = await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
        const keys = await t.listKeys("dev/app/wal_005/");
        expect(keys).toContain(`dev/app/wal_005/${segment}${EXT}`);
        expect(keys.every((k) => k.startsWith("dev/app/wal_005/"))).toBe(true);

        const stored = (await t.getObject(`dev/app/wal_005/${segment}${EXT}`))!;
        expect(stored.length).toBeGreaterThan(0);
        expect(stored.subarray(0, 4).equals(FRAME_MAGIC)).toBe(false); // not a bare frame: encrypted
        expect(stored.includes(Buffer.from(MARKER))).toBe(false);

        const out = join(t.dir, "fetched-segment");
        const f = await t.walg(["wal-fetch", segment, out]);
        expect(f.code, f.stderr).toBe(0);
        expect(readFileSync(out).includes(Buffer.from(MARKER))).toBe(true);
    });

    it("takes a base backup and logs one JSON line with the contract's fields; wal-verify passes", async () => {
        const r = await t.cli(["backup"]);
        expect(r.code, r.stderr).toBe(0);
        const lines = r.stdout.trim().split("\n");
        expect(lines).toHaveLength(1);
        const rec = JSON.parse(lines[0]);
        expect(rec).toMatchObject({ event: "db-tier.backup", status: "succeeded", environment: "dev", cluster: "app" });
        expect(rec.backup_name).toMatch(/^base_[0-9A-F]{24}$/);
        expect(rec.size_bytes).toBeGreaterThan(0);
        expect(Date.parse(rec.finished_at)).toBeGreaterThanOrEqual(Date.parse(rec.started_at));
        expect(rec.retention).toEqual({ kept: [rec.backup_name], deleted: [], delete_before: null });
        expect(rec.wal_verify.integrity.status).toBe("OK");
        expect(rec.wal_verify.timeline.status).toBe("OK");
        expect(rec.error).toBeUndefined();

        await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
        // wal-verify asks the primary for its current segment: give it the root connection.
        const wv = await t.walg(["wal-verify", "integrity", "--json"], { pg: true });
        expect(wv.code, wv.stderr).toBe(0);
        expect(JSON.parse(wv.stdout.slice(wv.stdout.indexOf("{"))).integrity.status).toBe("OK");
        expect((await t.listKeys("dev/app/basebackups_005/")).some((k) => k.includes(rec.backup_name))).toBe(true);
    });

    it("gives the bucket the lifecycle rules renderLifecycleRules renders for MinIO", async () => {
        const c = t.s3();
        const lc = await c.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "db-tier-dev-backups" }));
        c.destroy();
        const want = renderLifecycleRules({ provider: "minio", backupPrefixes: ["dev/app/"], safetyNetDays: 90, evidenceDays: 400 });
        expect(
            (lc.Rules ?? [])
                .map((r) => ({ id: r.ID, prefix: r.Filter?.Prefix ?? r.Prefix, days: r.Expiration?.Days }))
                .sort((a, b) => a.id!.localeCompare(b.id!)),
        ).toEqual(want.map((r) => ({ id: r.id, prefix: r.prefix, days: r.expirationDays })).sort((a, b) => a.id.localeCompare(b.id)));
    });

    it("a second `up` changes nothing: same processes, provisioning reports unchanged", async () => {
        const pids = [readPid(t.l.minioPid), readPid(t.l.pgbPid), readPid(join(t.l.pgData, "postmaster.pid"))];
        const r = await t.cli(["up"]);
        expect(r.code, r.stderr).toBe(0);
        expect([readPid(t.l.minioPid), readPid(t.l.pgbPid), readPid(join(t.l.pgData, "postmaster.pid"))]).toEqual(pids);
        const actions = r.stdout
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l).action);
        expect(actions).toEqual(["unchanged", "unchanged", "unchanged"]);
    });

    it("keeps secret files private (0600) and never prints a password outside `env`", async () => {
        for (const f of [t.l.secrets, t.l.pgpass, t.l.walgEnv, t.l.pgbAuth, t.l.provisionSql]) {
            expect((statSync(f).mode & 0o777).toString(8), f).toBe("600");
        }
        const secrets = JSON.parse(readFileSync(t.l.secrets, "utf8"));
        const values: string[] = [
            secrets.minio.password,
            secrets.libsodiumKeyHex,
            ...Object.values(secrets.roles).map((r) => (r as { password: string }).password),
        ];
        const outputs = await Promise.all([t.cli(["up"]), t.cli(["backup"])]);
        const logs = [t.l.pgLog, t.l.pgbLog, ...readdirSync(t.l.logs).map((f) => join(t.l.logs, f))].map((f) => readFileSync(f, "utf8"));
        for (const text of [...outputs.flatMap((o) => [o.stdout, o.stderr]), ...logs]) {
            for (const s of values) expect(text.includes(s)).toBe(false);
        }
    });
});
