/**
 * Streaming WAL archiving (`backup.walStreaming`, components/wal-receiver.ts) on a real
 * engine: the dev stack with `db-tier:backup.walStreaming: true`, everything else as in
 * dev-stack.test.ts. The receiver is its own container from the Postgres image; the proof
 * that WAL arrives through it (and not through archive_command) is a `.partial` object of
 * the segment Postgres is still writing, newer than a commit, with no segment switch.
 */
import { ListObjectsV2Command } from "@aws-sdk/client-s3";
import { afterAll, describe, expect, it } from "vitest";
import type { Engine } from "./apply/engine";
import { addresses, psqlIn, requireEngine, s3Client, waitFor } from "./harness";
import { setupOnce } from "./setup-once";
import { type DevStack, devStack } from "./stacks";
import * as hardening from "./hardening-checks";
import * as checks from "./tier-checks";

const RECEIVER = "dev-app-wal-receiver";
let engine: Engine;
let dev: DevStack;
let c: checks.ClusterUnderTest;

const secretOf = (name: RegExp) => {
    const r = dev.run.resources("random:index/randomPassword:RandomPassword").find((x) => name.test(x.name));
    if (!r) throw new Error(`no password ${name}`);
    return String(r.outputs.result);
};

setupOnce(async () => {
    engine = await requireEngine();
    dev = await devStack(engine, { walStreaming: true });
    await dev.run.apply();
    c = {
        run: dev.run,
        engine,
        environment: "dev",
        cluster: "app",
        bucket: "db-tier-dev-backups",
        s3: s3Client(dev.s3Endpoint, secretOf(/object-store-access-key$/), secretOf(/object-store-secret-key$/)),
        storageInside: "object-store:9000",
        storageNameIsTierOnly: true,
        storageContainers: ["dev-object-store"],
    };
}, 1_800_000);

afterAll(async () => {
    if (!process.env.DBTIER_DOCKER_KEEP) await dev?.run.destroy();
});

/** Objects under a prefix with their modification times. */
async function objects(prefix: string): Promise<{ key: string; modified: Date }[]> {
    const out: { key: string; modified: Date }[] = [];
    let token: string | undefined;
    do {
        const r = await c.s3.send(new ListObjectsV2Command({ Bucket: c.bucket, Prefix: prefix, ContinuationToken: token }));
        for (const o of r.Contents ?? []) out.push({ key: o.Key!, modified: o.LastModified! });
        token = r.IsTruncated ? r.NextContinuationToken : undefined;
    } while (token);
    return out;
}

describe("the WAL receiver container (backup.walStreaming) on a real engine", () => {
    it("runs as its own container (role backup, job wal-receive) on db-only and backup-egress only, streaming from postgres", async () => {
        await checks.expectHealthy(c, ["wal_receiver"]);
        const s = await engine.inspectContainer(RECEIVER);
        expect(s.State.Running).toBe(true);
        expect(s.Config.Labels["db-tier.role"]).toBe("backup");
        expect(s.Config.Labels["db-tier.job"]).toBe("wal-receive");
        expect((await hardening.expectHardenedSettings(c)).map(([n]) => n)).toContain(RECEIVER);
        expect(s.Config.User).toBe("postgres");
        expect(s.HostConfig.RestartPolicy.Name).toBe("unless-stopped");
        expect(Object.keys(s.NetworkSettings.Networks).sort()).toEqual([checks.net(c, "backup-egress"), checks.net(c, "db-only")].sort());
        const ip = (await addresses(engine, RECEIVER))[checks.net(c, "db-only")];
        const streaming = await waitFor("the receiver's replication connection", 90_000, async () => {
            const r = await checks.rootSql(c, "SELECT usename || '|' || state || '|' || host(client_addr) FROM pg_stat_replication");
            return r.includes("wal_receiver|streaming|") ? r : undefined;
        });
        expect(streaming.split("\n")).toEqual([`wal_receiver|streaming|${ip}`]);
        const slot = await checks.rootSql(
            c,
            "SELECT slot_type || '|' || active FROM pg_replication_slots WHERE slot_name = 'db_tier_wal_receive'",
        );
        expect(slot).toBe("physical|true"); // boolean to text in a concatenation
    });

    it("uploads a commit's WAL through the receiver within 10 s, with no segment switch (the .partial of the open segment)", async () => {
        const archivedBefore = await checks.rootSql(c, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
        const committedAt = Date.now();
        await checks.rootSql(
            c,
            "CREATE TABLE IF NOT EXISTS stream_probe (t timestamptz DEFAULT now()); INSERT INTO stream_probe DEFAULT VALUES",
        );
        const segment = await checks.rootSql(c, "SELECT pg_walfile_name(pg_current_wal_lsn())");
        expect(segment).toMatch(/^[0-9A-F]{24}$/);
        const prefix = `dev/app/wal_005/${segment}.partial`;
        // MinIO's clock is this machine's; its LastModified has second resolution.
        const found = await waitFor(`a ${prefix}* object newer than the commit`, 10_000, async () => {
            const fresh = (await objects(prefix)).filter((o) => o.modified.getTime() >= Math.floor(committedAt / 1000) * 1000);
            return fresh.length > 0 ? fresh : undefined;
        });
        const seconds = (Date.now() - committedAt) / 1000;
        process.stderr.write(`wal-receiver: ${found[0].key} ${seconds.toFixed(1)} s after the commit\n`);
        expect(seconds).toBeLessThanOrEqual(12);
        // No switch happened and archive_command has not shipped this segment: the object came
        // from the receiver (archive_command never writes .partial objects).
        expect(await checks.rootSql(c, "SELECT pg_walfile_name(pg_current_wal_lsn())")).toBe(segment);
        const archivedNow = await checks.rootSql(c, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
        expect(archivedNow < segment, `archiver at ${archivedNow} (before: ${archivedBefore})`).toBe(true);
    });

    it("holds no secret in docker inspect (its replication password, the libsodium key, the storage keys)", async () => {
        const secrets = dev.run.secretValues();
        expect(secrets).toContain(secretOf(/wal-receiver-password$/));
        await checks.expectNoSecretsOnEngine(engine, [RECEIVER], [], secrets);
    });

    it("rotates its password: the receiver is replaced under the same name (deleted first), streams again, and the old password fails", async () => {
        const password = dev.run
            .resources("random:index/randomPassword:RandomPassword")
            .find((r) => /wal-receiver-password$/.test(r.name))!;
        const old = String(password.outputs.result);
        const oldId = (await engine.inspectContainer(RECEIVER)).Id;
        const report = await dev.run.apply([password.urn]);
        const steps = (re: RegExp) => report.steps.filter((s) => re.test(s.urn)).map((s) => s.kind);
        // deleteBeforeReplace: the old container goes first, or the new one would collide on its name.
        expect(steps(/Container::dev-app-wal-receiver-container$/)).toEqual(["delete", "replace"]);
        expect(steps(/Container::dev-app-provisioner-container$/)).toContain("replace");
        const now = String(secretOf(/wal-receiver-password$/));
        expect(now).not.toBe(old);
        const s = await engine.inspectContainer(RECEIVER);
        expect(s.Id).not.toBe(oldId);
        expect(s.State.Running).toBe(true);
        const ip = (await addresses(engine, RECEIVER))[checks.net(c, "db-only")];
        await waitFor("the new receiver's replication connection", 90_000, async () => {
            const r = await checks.rootSql(c, "SELECT usename || '|' || state || '|' || host(client_addr) FROM pg_stat_replication");
            return r.split("\n").includes(`wal_receiver|streaming|${ip}`) ? r : undefined;
        });
        // The role's password converged: the old one no longer logs in, the new one does (control).
        const login = (pw: string) =>
            psqlIn(
                engine,
                [checks.net(c, "db-only")],
                `postgresql://wal_receiver:${encodeURIComponent(pw)}@postgres:5432/postgres`,
                "SELECT 1",
            );
        const refused = await login(old);
        expect(refused.code).not.toBe(0);
        expect(refused.stderr).toMatch(/password authentication failed/);
        const admitted = await login(now);
        expect(admitted.code, admitted.stderr).toBe(0);
        await checks.expectNoSecretsOnEngine(engine, [RECEIVER], [], [old, ...dev.run.secretValues()]);
    });
});
