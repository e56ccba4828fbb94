/**
 * DatabaseTier used directly, as an engineer importing the library would: validation before
 * any child exists, children named `${name}-suffix` under the tier, a remote Docker provider
 * handed down, the schedules and rendered files of the containers.
 */
import * as docker from "@pulumi/docker";
import { describe, expect, it } from "vitest";
import { DatabaseTier, type DatabaseTierArgs } from "../../components";
import { CONTAINER_PATHS, ROLE_LABEL } from "../../vocabulary";
import { installMocks, labelOf, plain, settle, uploadAt } from "../support/mock-runtime";

const args: DatabaseTierArgs = {
    environment: "staging",
    cluster: { name: "app", databases: ["app", "litellm"] },
    storage: {
        provider: "minio",
        bucketName: "db-tier-staging",
        endpoint: "http://minio.internal:9000",
        region: "us-east-1",
        accessKeyId: "key-id",
        secretAccessKey: "secret-key-0123456789",
    },
    images: { postgres: "registry.example/db-tier-postgres:1", pgbouncer: "registry.example/db-tier-pgbouncer:1" },
    backup: { rpoSeconds: 30, schedule: "15 1 * * *" },
    drill: { schedule: "0 5 * * 1", tables: ["users"], minRows: { users: 1 } },
};

describe("DatabaseTier", () => {
    it("rejects a bad argument with the field's name before registering anything", async () => {
        const recorded = await installMocks("tier-bad");
        expect(() => new DatabaseTier("bad", { ...args, backup: { rpoSeconds: 900 } })).toThrow(
            "backup.rpoSeconds: must be between 10 and 300 seconds",
        );
        expect(() => new DatabaseTier("bad", { ...args, cluster: { name: "Bad Name" } })).toThrow("cluster.name: must be 1-32 characters");
        await settle();
        expect(recorded).toEqual([]);
    });

    it("names children after the tier, hands the Docker provider down, and renders the archive settings", async () => {
        const recorded = await installMocks("tier-ok");
        const remote = new docker.Provider("remote", { host: "ssh://deploy@db-1.example" });
        const tier = new DatabaseTier("main", { ...args, dockerProvider: remote });
        await settle();
        const containers = recorded.filter((r) => r.type === "docker:index/container:Container");
        expect(containers.map((c) => c.name).sort()).toEqual([
            "main-backup-container",
            "main-pgbouncer-container",
            "main-postgres-container",
            "main-provisioner-container",
            "main-restore-drill-container",
        ]);
        for (const c of containers) expect(c.provider, c.name).toMatch(/::remote::/);
        expect(containers.map((c) => c.inputs.name).sort()).toEqual([
            "staging-app-backup",
            "staging-app-pgbouncer",
            "staging-app-postgres",
            "staging-app-provisioner",
            "staging-app-restore-drill",
        ]);

        const postgres = containers.find((c) => labelOf(c, ROLE_LABEL) === "postgres")!;
        const conf = uploadAt(postgres, CONTAINER_PATHS.postgresConf)!;
        expect(conf).toContain("archive_mode = on");
        expect(conf).toContain("archive_timeout = 30");
        expect(conf).toMatch(/archive_command = '.*timeout -k 10 120 .*wal-g.* wal-push "%p"'/);
        expect(postgres.inputs.command).toEqual(["postgres", "-c", `config_file=${CONTAINER_PATHS.postgresConf}`]);
        expect(tier.backupPrefix).toBe("s3://db-tier-staging/staging/app");

        const backup = containers.find((c) => labelOf(c, ROLE_LABEL) === "backup")!;
        expect(backup.inputs.envs).toContain("DBTIER_BACKUP_SCHEDULE=15 1 * * *");
        expect(backup.inputs.volumes).toEqual([
            { volumeName: "staging-app-postgres-data", containerPath: CONTAINER_PATHS.pgData, readOnly: true },
        ]);
        const drill = containers.find((c) => labelOf(c, ROLE_LABEL) === "restore-drill")!;
        expect(drill.inputs.envs).toContain("DBTIER_DRILL_SCHEDULE=0 5 * * 1");
        const drillConfig = JSON.parse(uploadAt(drill, CONTAINER_PATHS.drillConfig)!);
        expect(drillConfig).toMatchObject({
            database: "app",
            tables: ["users"],
            minRows: { users: 1 },
            evidenceBucket: "db-tier-staging",
            rtoSeconds: 3600,
        });

        const pgbouncer = containers.find((c) => labelOf(c, ROLE_LABEL) === "pgbouncer")!;
        const ini = uploadAt(pgbouncer, CONTAINER_PATHS.pgbouncerIni)!;
        expect(ini).toContain("app = host=postgres port=5432 dbname=app pool_mode=transaction");
        expect(ini).toContain("litellm_migrate = host=postgres port=5432 dbname=litellm pool_mode=session");
        expect(ini).toMatch(/^auth_type = scram-sha-256$/m);

        // The provisioner converges over the shared socket with peer auth: no password file.
        const provisioner = containers.find((c) => labelOf(c, ROLE_LABEL) === "provisioner")!;
        expect(provisioner.inputs.volumes).toEqual([
            { volumeName: "staging-app-postgres-socket", containerPath: CONTAINER_PATHS.socketDir },
        ]);
        expect(provisioner.inputs.envs).toContain(`PGHOST=${CONTAINER_PATHS.socketDir}`);
        expect(plain<{ file: string }[]>(provisioner.inputs.uploads).map((u) => u.file)).toEqual([CONTAINER_PATHS.provisionSql]);
        expect(uploadAt(postgres, CONTAINER_PATHS.pgIdent)).toContain("dbtier postgres postgres");
        expect(uploadAt(postgres, CONTAINER_PATHS.pgHba)).toContain("local all all peer map=dbtier");

        const volume = recorded.find((r) => r.type === "docker:index/volume:Volume" && r.inputs.name === "staging-app-postgres-data");
        expect(volume).toBeDefined();
    });
});
