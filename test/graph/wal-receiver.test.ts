/**
 * backup.walStreaming under the mock runtime: the receiver is its own container (role label
 * `backup`, `db-tier.job=wal-receive`) on db-only and backup-egress only, from the Postgres
 * image, with its password only in an uploaded secret file; Postgres admits exactly that role
 * to replication; provisioning makes it REPLICATION and nothing more. Off (the default):
 * none of it exists, and provisioning disarms a role and slot left from an earlier run. The
 * real stack with streaming on passes every policy (`policy:check`, exit 0).
 */
import path from "node:path";
import { describe, expect, it } from "vitest";
import { DatabaseTier, type DatabaseTierArgs } from "../../components";
import { JOB_LABEL, WAL_RECEIVER_PGPASS } from "../../components/wal-receiver";
import { run } from "../../jobs/proc";
import { CONTAINER_PATHS, ROLE_LABEL } from "../../vocabulary";
import { installMocks, labelOf, mockSubnet, plain, REPO_ROOT, settle, uploadAt } from "../support/mock-runtime";

const args: DatabaseTierArgs = {
    environment: "staging",
    cluster: { name: "app" },
    storage: {
        provider: "minio",
        bucketName: "db-tier-staging",
        endpoint: "http://minio.internal:9000",
        region: "us-east-1",
        accessKeyId: "key-id",
        secretAccessKey: "secret-key-0123456789",
    },
    images: { postgres: "registry.example/db-tier-postgres:1", pgbouncer: "registry.example/db-tier-pgbouncer:1" },
};

const CONTAINER = "docker:index/container:Container";

describe("streaming WAL archiving (backup.walStreaming)", () => {
    it("deploys wal-receive as its own backup-side container with its own replication role", async () => {
        const recorded = await installMocks("walstream-on");
        new DatabaseTier("main", { ...args, backup: { walStreaming: true } });
        await settle();
        const containers = recorded.filter((r) => r.type === CONTAINER);
        const receiver = containers.find((c) => c.name === "main-wal-receiver-container")!;
        expect(receiver).toBeDefined();
        expect(labelOf(receiver, ROLE_LABEL)).toBe("backup");
        expect(labelOf(receiver, JOB_LABEL)).toBe("wal-receive");
        expect(receiver.inputs.image).toBe("registry.example/db-tier-postgres:1");
        expect(
            plain(receiver.inputs.networksAdvanced)
                .map((n: { name: string }) => n.name)
                .sort(),
        ).toEqual(["staging-app-backup-egress", "staging-app-db-only"]);
        expect(receiver.inputs.ports ?? []).toEqual([]);
        const script = plain<string[]>(receiver.inputs.command).join(" ");
        expect(script).toContain("wal-receive");
        expect(script).toContain("WALG_SLOTNAME=db_tier_wal_receive");
        // libpq ignores a world-readable password file: the script uses a private 0600 copy.
        expect(script).toContain(`umask 077; pgpass="$(mktemp)" && cp '${WAL_RECEIVER_PGPASS}' "$pgpass"`);
        expect(script).toContain('PGPASSFILE="$pgpass"');

        const pgpass = uploadAt(receiver, WAL_RECEIVER_PGPASS)!;
        const password = pgpass.trim().split(":").pop()!;
        expect(pgpass).toMatch(/^postgres:5432:\*:wal_receiver:[A-Za-z0-9]{40}\n$/);
        // The password is in the secret upload only: not in the command, env, labels.
        expect(JSON.stringify(plain([receiver.inputs.command, receiver.inputs.envs ?? [], receiver.inputs.labels]))).not.toContain(
            password,
        );
        // The uploads are a Pulumi secret as a whole: never shown in a diff.
        expect(JSON.stringify(receiver.inputs.uploads)).toMatch(/^\{"4dabf18193072939515e22adb298388d":"1b47061264138c4ac30d75fd1eb44270"/);

        const postgres = containers.find((c) => labelOf(c, ROLE_LABEL) === "postgres")!;
        const hba = uploadAt(postgres, CONTAINER_PATHS.pgHba)!;
        // Replication only from the db-only subnet, where the receiver is.
        expect(hba.split("\n").filter((l) => /^\w+\s+replication\s/.test(l))).toEqual([
            `host replication wal_receiver ${mockSubnet("staging-app-db-only")} scram-sha-256`,
        ]);
        expect(uploadAt(postgres, CONTAINER_PATHS.postgresConf)).toMatch(/^max_slot_wal_keep_size = '\d+GB'$/m);

        const provisioner = containers.find((c) => labelOf(c, ROLE_LABEL) === "provisioner")!;
        const sql = uploadAt(provisioner, CONTAINER_PATHS.provisionSql)!;
        expect(sql).toMatch(
            /ALTER ROLE "wal_receiver" WITH LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB REPLICATION INHERIT NOBYPASSRLS PASSWORD 'SCRAM-SHA-256\$4096:/,
        );
        expect(sql).not.toContain(password);
        expect(sql).toContain(`GRANT CONNECT ON DATABASE postgres TO "wal_receiver";`);
        // The application roles stay NOREPLICATION.
        expect(sql).toMatch(/ALTER ROLE "app_user" WITH LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION/);
    });

    it("off by default: no receiver, no replication line, and provisioning disarms a leftover role and slot", async () => {
        const recorded = await installMocks("walstream-off");
        new DatabaseTier("main", args);
        await settle();
        const containers = recorded.filter((r) => r.type === CONTAINER);
        expect(containers.some((c) => labelOf(c, JOB_LABEL) !== undefined)).toBe(false);
        expect(recorded.some((r) => r.name.includes("wal-receiver"))).toBe(false);
        const postgres = containers.find((c) => labelOf(c, ROLE_LABEL) === "postgres")!;
        expect(uploadAt(postgres, CONTAINER_PATHS.pgHba)).not.toMatch(/replication/);
        const sql = uploadAt(containers.find((c) => labelOf(c, ROLE_LABEL) === "provisioner")!, CONTAINER_PATHS.provisionSql)!;
        expect(sql).toContain(`ALTER ROLE "wal_receiver" WITH NOLOGIN NOREPLICATION;`);
        expect(sql).toMatch(/pg_drop_replication_slot\(slot_name\)[\s\S]*slot_name = 'db_tier_wal_receive' AND NOT active/);
    });

    it("the real dev stack with streaming on passes every policy", async () => {
        const r = await run(
            path.join(REPO_ROOT, "node_modules", ".bin", "tsx"),
            [
                path.join(REPO_ROOT, "scripts", "policy-check.ts"),
                "--stack",
                "dev",
                "--program",
                path.join(REPO_ROOT, "test", "policy", "programs", "wal-streaming.ts"),
            ],
            {
                cwd: REPO_ROOT,
                env: { ...process.env },
                timeoutMs: 170_000,
            },
        );
        expect(r.code, r.stderr + r.stdout).toBe(0);
        expect(r.stdout).toBe("");
        expect(r.stderr).toMatch(/0 mandatory/);
    }, 180_000);
});
