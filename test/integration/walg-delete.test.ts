/**
 * WAL-G v3.0.9's deletes against real MinIO, checked in the bucket itself (S3 listings, not
 * WAL-G's own backup-list). v3.0.9's DeleteObjects sends `VersionId: ""` for objects of an
 * unversioned bucket (upstream fixed that after v3.0.9, PR 2549), and some stores then delete
 * nothing while answering success. On a versioned bucket (B2 needs versioning for its
 * lifecycle rules) WAL-G lists versions and deletes each one by id, so nothing may be left
 * behind as a hidden version either. Both buckets: `delete target B --confirm` removes every
 * object of B and nothing else; `delete before B --confirm` removes the older backups and the
 * WAL before B's start segment, and keeps B and the WAL from it on.
 */
import { mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import {
    CreateBucketCommand,
    ListObjectsV2Command,
    ListObjectVersionsCommand,
    PutBucketVersioningCommand,
    GetBucketVersioningCommand,
} from "@aws-sdk/client-s3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run, type RunResult } from "../../jobs/proc";
import { startTier, switchAndWaitArchived, type Tier, toolsMissing } from "../support/tier-harness";

const PREFIX = "dev/app/";
const SEGMENT = /^[0-9A-F]{24}$/;

describe.skipIf(toolsMissing().length > 0)("WAL-G v3.0.9 deletes really remove objects from MinIO", () => {
    let t: Tier;
    let v: Record<string, string>;

    /** wal-g with an env file (the tier's, or a variant), as root with the root connection for backup-push. */
    const walg = (envFile: string, args: readonly string[]): Promise<RunResult> =>
        run("/bin/sh", ["-c", `set -a && . "$1" && set +a && shift && exec "$@"`, "sh", envFile, t.l.walg, ...args], {
            env: {
                PATH: process.env.PATH,
                PGHOST: "127.0.0.1",
                PGPORT: String(t.ports.postgres),
                PGUSER: "postgres",
                PGDATABASE: "postgres",
                PGPASSFILE: t.l.pgpass,
            },
            timeoutMs: 170_000,
        });
    const ok = async (envFile: string, args: readonly string[]): Promise<string> => {
        const r = await walg(envFile, args);
        expect(r.code, `wal-g ${args.join(" ")}: ${r.stderr.slice(-1500)}`).toBe(0);
        return r.stdout;
    };

    /** Current objects (ListObjectsV2) and, for a versioned bucket, every version and delete marker. */
    const inventory = async (bucket: string): Promise<{ current: string[]; versions: string[]; markers: string[] }> => {
        const c = t.s3();
        try {
            const current: string[] = [];
            let token: string | undefined;
            do {
                const r = await c.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: PREFIX, ContinuationToken: token }));
                current.push(...(r.Contents ?? []).map((o) => o.Key!));
                token = r.NextContinuationToken;
            } while (token);
            const versions: string[] = [];
            const markers: string[] = [];
            let km: string | undefined;
            let vm: string | undefined;
            do {
                const r = await c.send(
                    new ListObjectVersionsCommand({ Bucket: bucket, Prefix: PREFIX, KeyMarker: km, VersionIdMarker: vm }),
                );
                versions.push(...(r.Versions ?? []).map((o) => o.Key!));
                markers.push(...(r.DeleteMarkers ?? []).map((o) => o.Key!));
                km = r.IsTruncated ? r.NextKeyMarker : undefined;
                vm = r.IsTruncated ? r.NextVersionIdMarker : undefined;
            } while (km);
            return { current: current.sort(), versions: versions.sort(), markers: markers.sort() };
        } finally {
            c.destroy();
        }
    };
    const backupKeys = (keys: string[], name: string): string[] => keys.filter((k) => k.startsWith(`${PREFIX}basebackups_005/${name}`));
    const walSegments = (keys: string[]): string[] =>
        [
            ...new Set(
                keys
                    .filter((k) => k.startsWith(`${PREFIX}wal_005/`))
                    .map((k) => k.slice(`${PREFIX}wal_005/`.length).split(".")[0])
                    .filter((n) => SEGMENT.test(n)),
            ),
        ].sort();
    const listed = async (envFile: string): Promise<string[]> =>
        (JSON.parse(await ok(envFile, ["backup-list", "--json"])) as { backup_name: string }[]).map((b) => b.backup_name).sort();

    /** Three full backups in the bucket of envFile, with WAL switched (and archived) between them. */
    const threeBackups = async (envFile: string): Promise<string[]> => {
        for (let i = 0; i < 3; i++) {
            const w = await t.psql(v.DATABASE_ROOT_URL, `INSERT INTO del_test SELECT g FROM generate_series(1, 5000) g`);
            expect(w.code, w.stderr).toBe(0);
            await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
            await ok(envFile, ["backup-push", t.l.pgData]);
        }
        await switchAndWaitArchived(t, v.DATABASE_ROOT_URL);
        const names = await listed(envFile);
        expect(names).toHaveLength(3);
        return names;
    };

    /** delete target, then delete before, each checked object by object in the bucket. */
    const deleteAndCheck = async (
        bucket: string,
        envFile: string,
        versioned: boolean,
        beforeDeletes?: () => Promise<void>,
    ): Promise<void> => {
        const [b1, b2, b3] = await threeBackups(envFile);
        await beforeDeletes?.();
        const before = await inventory(bucket);
        for (const b of [b1, b2, b3]) expect(backupKeys(before.current, b).length, `${b} has objects`).toBeGreaterThan(1);
        const walBefore = walSegments(before.current);
        const b3Start = b3.slice("base_".length, "base_".length + 24);
        expect(
            walBefore.some((s) => s < b3Start),
            "WAL older than the third backup exists",
        ).toBe(true);

        await ok(envFile, ["delete", "target", b2, "--confirm"]);
        const afterTarget = await inventory(bucket);
        expect(backupKeys(afterTarget.current, b2), `objects of ${b2} left after delete target`).toEqual([]);
        expect(backupKeys(afterTarget.versions, b2), `versions of ${b2} left after delete target`).toEqual([]);
        for (const b of [b1, b3]) expect(backupKeys(afterTarget.current, b)).toEqual(backupKeys(before.current, b));
        expect(walSegments(afterTarget.current)).toEqual(walBefore); // delete target leaves WAL alone
        expect(await listed(envFile)).toEqual([b1, b3]);

        await ok(envFile, ["delete", "before", b3, "--confirm"]);
        const afterBefore = await inventory(bucket);
        expect(backupKeys(afterBefore.current, b1), `objects of ${b1} left after delete before`).toEqual([]);
        expect(backupKeys(afterBefore.versions, b1), `versions of ${b1} left after delete before`).toEqual([]);
        expect(backupKeys(afterBefore.current, b3)).toEqual(backupKeys(before.current, b3));
        const walAfter = walSegments(afterBefore.current);
        expect(
            walAfter.filter((s) => s < b3Start),
            "WAL before the kept backup left",
        ).toEqual([]);
        expect(walAfter).toEqual(walBefore.filter((s) => s >= b3Start));
        expect(
            walSegments(afterBefore.versions).filter((s) => s < b3Start),
            "WAL versions before the kept backup left",
        ).toEqual([]);
        if (versioned) {
            // Deleted by version id: no delete markers, no hidden versions for a lifecycle rule to find.
            expect(afterBefore.markers).toEqual([]);
            expect(afterBefore.versions).toEqual(afterBefore.current);
        }
        expect(await listed(envFile)).toEqual([b3]);
        process.stderr.write(
            `[walg-delete] ${bucket}: ${before.current.length} objects, ${afterBefore.current.length} after delete target + delete before; ${afterBefore.versions.length} versions, ${afterBefore.markers.length} delete markers\n`,
        );
    };

    beforeAll(async () => {
        t = await startTier("walg-delete");
        v = await t.vars();
        const r = await t.psql(v.DATABASE_ROOT_URL, "CREATE TABLE del_test (g int)");
        expect(r.code, r.stderr).toBe(0);
    });
    afterAll(async () => {
        await t?.down();
    });

    it("unversioned bucket (the tier's own): delete target and delete before remove the objects", async () => {
        const c = t.s3();
        const vs = await c.send(new GetBucketVersioningCommand({ Bucket: "db-tier-dev-backups" }));
        c.destroy();
        expect(vs.Status ?? "never enabled").toBe("never enabled");
        await deleteAndCheck("db-tier-dev-backups", t.l.walgEnv, false);
    });

    it("versioned bucket (as B2 needs): every version is deleted, no delete marker left", async () => {
        const bucket = "db-tier-versioned";
        const c = t.s3();
        await c.send(new CreateBucketCommand({ Bucket: bucket }));
        await c.send(new PutBucketVersioningCommand({ Bucket: bucket, VersioningConfiguration: { Status: "Enabled" } }));
        const vs = await c.send(new GetBucketVersioningCommand({ Bucket: bucket }));
        c.destroy();
        expect(vs.Status).toBe("Enabled");
        const env = join(t.dir, "walg-versioned.env");
        const text = readFileSync(t.l.walgEnv, "utf8").replace(/^WALG_S3_PREFIX=.*$/m, `WALG_S3_PREFIX='s3://${bucket}/dev/app'`);
        writeFileSync(env, text, { mode: 0o600 });
        // The server archives into the tier's bucket; copy its WAL over so `delete before` has WAL to remove.
        const copyWal = async (): Promise<void> => {
            const segs = walSegments(await t.listKeys(`${PREFIX}wal_005/`));
            const have = new Set(walSegments((await inventory(bucket)).current));
            for (const s of segs.filter((x) => !have.has(x))) {
                // One directory per segment: wal-fetch prefetches the next segments next to its target.
                mkdirSync(join(t.dir, "walcopy", s), { recursive: true });
                const file = join(t.dir, "walcopy", s, s);
                await ok(t.l.walgEnv, ["wal-fetch", s, file]);
                await ok(env, ["wal-push", file]);
            }
        };
        mkdirSync(join(t.dir, "walcopy"), { recursive: true });
        await deleteAndCheck(bucket, env, true, copyWal);
    });
});
