/**
 * Every policy of the pack against fixtures: compliant stacks (minio, R2, B2) with no
 * mandatory violation from any policy, and for each thing a policy forbids a fixture
 * broken in exactly that place, which that policy (and only the listed others) reports.
 */
import { describe, expect, it } from "vitest";
import { POLICY_NAMES, type PolicyName, RESTORE_EVIDENCE_PREFIX, SCHEDULE_ENV, CONTAINER_PATHS } from "../../vocabulary";
import { policies } from "../../policy/policies";
import {
    check,
    compliant,
    editUpload,
    type Fixture,
    mandatory,
    names,
    type Rec,
    roleLabels,
    setEnv,
    T,
    BUCKET,
    labels,
    addTier,
    addBucket,
    FixtureStack,
    backupJobConfig,
} from "./fixtures";
import type { PackConfig } from "../../policy/lib/pack-config";

interface Case {
    readonly title: string;
    readonly provider?: "minio" | "r2" | "b2";
    readonly build?: () => Fixture;
    readonly mutate: (f: Fixture, get: (urn: string) => Rec) => void;
    /** Other policies this breakage also (rightly) violates. */
    readonly alsoFires?: PolicyName[];
    readonly message?: RegExp;
    readonly packConfig?: PackConfig;
}

const appContainerOn = (f: Fixture, network: string, extra: Record<string, unknown> = {}) =>
    f.s.add(T.container, "intruder", { name: "intruder", image: "example/app:1", networksAdvanced: [{ name: network }], ...extra });

const CASES: Record<PolicyName, Case[]> = {
    "postgres-no-published-ports": [
        {
            title: "a port published on loopback",
            mutate: (f, g) => {
                g(f.tier.postgres).inputs.ports = [{ internal: 5432, external: 15432, ip: "127.0.0.1" }];
            },
            message: /publishes port 5432/,
        },
        {
            title: "publishAllPorts",
            mutate: (f, g) => {
                g(f.tier.postgres).inputs.publishAllPorts = true;
            },
            message: /publishAllPorts/,
        },
        {
            title: "host networking",
            mutate: (f, g) => {
                g(f.tier.postgres).inputs.networkMode = "host";
            },
            alsoFires: ["postgres-network-isolation"],
            message: /host networking/,
        },
    ],
    "postgres-network-isolation": [
        {
            title: "joins the app network",
            mutate: (f, g) => void g(f.tier.postgres).inputs.networksAdvanced.push({ name: "test-app-app" }),
            message: /app network/,
        },
        {
            title: "joins an unlabeled network",
            mutate: (f, g) => {
                f.s.add(T.network, "extra", { name: "extra", internal: true });
                g(f.tier.postgres).inputs.networksAdvanced.push({ name: "extra" });
            },
            message: /no db-tier.network label/,
        },
        {
            title: "joins a network outside the stack",
            mutate: (f, g) => void g(f.tier.postgres).inputs.networksAdvanced.push({ name: "shared-lan" }),
            message: /not a db-tier network/,
        },
        {
            title: "falls back to the default bridge",
            mutate: (f, g) => {
                delete g(f.tier.postgres).inputs.networksAdvanced;
            },
            message: /default bridge/,
        },
    ],
    "db-only-network-members": [
        {
            title: "a db-only network that is not internal",
            mutate: (f, g) => {
                g(f.tier.dbOnly).inputs.internal = false;
            },
            message: /not internal/,
        },
        {
            title: "the object store on db-only",
            mutate: (f, g) => void g(f.objectStore!).inputs.networksAdvanced.push({ name: "test-app-db-only" }),
            message: /role object-store is on db-only/,
        },
        {
            title: "an unlabeled application container on db-only",
            mutate: (f) => void appContainerOn(f, "test-app-db-only"),
            alsoFires: ["app-reaches-only-pooler"],
            message: /application container/,
        },
    ],
    "app-reaches-only-pooler": [
        {
            title: "an unlabeled container on db-only",
            mutate: (f) => void appContainerOn(f, "test-app-db-only"),
            alsoFires: ["db-only-network-members"],
            message: /Application container "intruder".*db-only/,
        },
        {
            title: "an unlabeled container on backup-egress",
            mutate: (f) => void appContainerOn(f, "test-app-backup-egress"),
            message: /backup-egress/,
        },
        {
            title: "a container whose role label is not a tier role, on backup-egress",
            mutate: (f) => void appContainerOn(f, "test-app-backup-egress", { labels: labels({ "db-tier.role": "worker" }) }),
            message: /"worker" is not a tier role/,
        },
        {
            title: "a container sharing postgres' network namespace",
            mutate: (f) =>
                void f.s.add(T.container, "sidecar", { name: "sidecar", image: "x", networkMode: "container:test-app-postgres" }),
            message: /Application container "sidecar"/,
            alsoFires: ["db-only-network-members"],
        },
        {
            title: "pgBouncer published on every address",
            mutate: (f, g) => {
                g(f.tier.pgbouncer).inputs.ports = [{ internal: 6432, external: 6432 }];
            },
            message: /0\.0\.0\.0 \(every host address\)/,
        },
        {
            title: "pgBouncer published on a LAN address",
            mutate: (f, g) => {
                g(f.tier.pgbouncer).inputs.ports = [{ internal: 6432, external: 6432, ip: "10.0.0.5" }];
            },
            message: /10\.0\.0\.5/,
        },
        {
            title: "the backup job publishes a port",
            mutate: (f, g) => {
                g(f.tier.backup).inputs.ports = [{ internal: 9999, external: 9999, ip: "127.0.0.1" }];
            },
            message: /only pgBouncer and the object store may publish/,
        },
        {
            title: "the object store published on 0.0.0.0",
            mutate: (f, g) => {
                g(f.objectStore!).inputs.ports = [{ internal: 9000, external: 19000, ip: "0.0.0.0" }];
            },
            message: /object-store container/,
        },
    ],
    "pgbouncer-scram-only": [
        {
            title: "auth_type = md5",
            mutate: (f, g) =>
                editUpload(g(f.tier.pgbouncer), CONTAINER_PATHS.pgbouncerIni, (t) =>
                    t.replace("auth_type = scram-sha-256", "auth_type = md5"),
                ),
            message: /auth_type = md5/,
        },
        {
            title: "no auth_type (md5 by default)",
            mutate: (f, g) => editUpload(g(f.tier.pgbouncer), CONTAINER_PATHS.pgbouncerIni, (t) => t.replace(/^auth_type = .*$/m, "")),
            message: /default, md5/,
        },
        {
            title: "an %include that switches to trust",
            mutate: (f, g) => {
                const r = g(f.tier.pgbouncer);
                editUpload(r, CONTAINER_PATHS.pgbouncerIni, (t) => `${t}%include /etc/pgbouncer/extra.ini\n`);
                r.inputs.uploads.push({ file: "/etc/pgbouncer/extra.ini", content: "[pgbouncer]\nauth_type = trust\n" });
            },
            message: /auth_type = trust/,
        },
        {
            title: "runs an ini the tier did not upload",
            mutate: (f, g) => {
                g(f.tier.pgbouncer).inputs.command = ["pgbouncer", "/etc/pgbouncer/other.ini"];
            },
            alsoFires: ["pgbouncer-admin-console-closed"],
            message: /not uploaded/,
        },
        {
            title: "the image's default command",
            mutate: (f, g) => {
                delete g(f.tier.pgbouncer).inputs.command;
            },
            alsoFires: ["pgbouncer-admin-console-closed"],
            message: /does not start pgbouncer with an ini file/,
        },
    ],
    "pgbouncer-admin-console-closed": [
        {
            title: "admin_users set",
            mutate: (f, g) =>
                editUpload(g(f.tier.pgbouncer), CONTAINER_PATHS.pgbouncerIni, (t) => t.replace("admin_users = ", "admin_users = app_user")),
            message: /admin_users = app_user/,
        },
        {
            title: "stats_users set",
            mutate: (f, g) =>
                editUpload(g(f.tier.pgbouncer), CONTAINER_PATHS.pgbouncerIni, (t) => t.replace("stats_users = ", "stats_users = monitor")),
            message: /stats_users = monitor/,
        },
        {
            title: "auth_type = any",
            mutate: (f, g) =>
                editUpload(g(f.tier.pgbouncer), CONTAINER_PATHS.pgbouncerIni, (t) =>
                    t.replace("auth_type = scram-sha-256", "auth_type = any"),
                ),
            alsoFires: ["pgbouncer-scram-only"],
            message: /auth_type = any/,
        },
        {
            title: "the Unix socket on a mounted volume",
            mutate: (f, g) => {
                const r = g(f.tier.pgbouncer);
                editUpload(r, CONTAINER_PATHS.pgbouncerIni, (t) => t.replace("unix_socket_dir = ", "unix_socket_dir = /var/run/pgbouncer"));
                r.inputs.volumes = [{ hostPath: "/srv/sockets", containerPath: "/var/run" }];
            },
            message: /Unix socket in \/var\/run\/pgbouncer/,
        },
        {
            title: "the default socket dir /tmp on a mounted volume",
            mutate: (f, g) => {
                const r = g(f.tier.pgbouncer);
                editUpload(r, CONTAINER_PATHS.pgbouncerIni, (t) => t.replace(/^unix_socket_dir = .*$/m, ""));
                r.inputs.volumes = [{ volumeName: "shared-tmp", containerPath: "/tmp" }];
            },
            message: /\/tmp/,
        },
    ],
    "wal-archiving-enabled": [
        {
            title: "archive_timeout above the ceiling",
            mutate: (f, g) =>
                editUpload(g(f.tier.postgres), CONTAINER_PATHS.postgresConf, (t) =>
                    t.replace("archive_timeout = 60", "archive_timeout = 600"),
                ),
            message: /above the RPO ceiling of 300 s/,
        },
        {
            title: "archive_timeout in minutes above the ceiling",
            mutate: (f, g) =>
                editUpload(g(f.tier.postgres), CONTAINER_PATHS.postgresConf, (t) =>
                    t.replace("archive_timeout = 60", "archive_timeout = '10min'"),
                ),
            message: /600 s/,
        },
        {
            title: "archive_timeout 0",
            mutate: (f, g) =>
                editUpload(g(f.tier.postgres), CONTAINER_PATHS.postgresConf, (t) =>
                    t.replace("archive_timeout = 60", "archive_timeout = 0"),
                ),
            message: /disables it/,
        },
        {
            title: "archive_timeout above a stack's tighter RPO",
            mutate: () => undefined,
            packConfig: { "wal-archiving-enabled": { rpoSeconds: 30 } },
            message: /above the RPO ceiling of 30 s/,
        },
        {
            title: "archive_mode off",
            mutate: (f, g) =>
                editUpload(g(f.tier.postgres), CONTAINER_PATHS.postgresConf, (t) => t.replace("archive_mode = on", "archive_mode = off")),
            message: /archive_mode = off/,
        },
        {
            title: "archive_mode absent",
            mutate: (f, g) => editUpload(g(f.tier.postgres), CONTAINER_PATHS.postgresConf, (t) => t.replace("archive_mode = on", "")),
            message: /default, off/,
        },
        {
            title: "an archive_command that is not WAL-G",
            mutate: (f, g) =>
                editUpload(g(f.tier.postgres), CONTAINER_PATHS.postgresConf, (t) =>
                    t.replace(/^archive_command = .*$/m, "archive_command = 'cp %p /archive/%f'"),
                ),
            message: /does not push %p with WAL-G/,
        },
        {
            title: "archive_library set",
            mutate: (f, g) =>
                editUpload(g(f.tier.postgres), CONTAINER_PATHS.postgresConf, (t) => `${t}archive_library = 'basic_archive'\n`),
            message: /archive_library/,
        },
        {
            title: "wal_level minimal",
            mutate: (f, g) =>
                editUpload(g(f.tier.postgres), CONTAINER_PATHS.postgresConf, (t) =>
                    t.replace("wal_level = replica", "wal_level = minimal"),
                ),
            message: /wal_level = minimal/,
        },
        {
            title: "archive_mode turned off on the command line",
            mutate: (f, g) => void g(f.tier.postgres).inputs.command.push("-c", "archive_mode=off"),
            message: /archive_mode = off on the command line/,
        },
        {
            title: "the uploaded conf is not the config_file",
            mutate: (f, g) => {
                g(f.tier.postgres).inputs.command = ["postgres"];
            },
            message: /does not point config_file/,
        },
        {
            title: "the image's default command",
            mutate: (f, g) => {
                delete g(f.tier.postgres).inputs.command;
            },
            message: /default command/,
        },
        {
            title: "config_file not uploaded",
            mutate: (f, g) => {
                g(f.tier.postgres).inputs.command = ["postgres", "-c", "config_file=/etc/postgresql/other.conf"];
            },
            message: /not uploaded/,
        },
        {
            title: "an include that turns archiving off",
            mutate: (f, g) => {
                const r = g(f.tier.postgres);
                editUpload(r, CONTAINER_PATHS.postgresConf, (t) => `${t}include 'override.conf'\n`);
                r.inputs.uploads.push({ file: "/etc/postgresql/override.conf", content: "archive_mode = off\n" });
            },
            message: /archive_mode = off/,
        },
    ],
    "backup-bucket-lifecycle": [
        {
            title: "no lifecycle configuration",
            mutate: (f) => f.s.remove(f.bucket.lifecycle),
            message: /has no lifecycle configuration/,
        },
        {
            title: "a safety net inside the retention window",
            mutate: (f, g) =>
                void g(f.bucket.lifecycle).inputs.rules.push({
                    id: "net",
                    status: "Enabled",
                    filter: { prefix: "test/app/" },
                    expiration: { days: 30 },
                }),
            message: /expires prefix "test\/app\/" after 30 days/,
        },
        {
            title: "a whole-bucket expiry that also deletes evidence",
            mutate: (f, g) =>
                void g(f.bucket.lifecycle).inputs.rules.push({
                    id: "tidy",
                    status: "Enabled",
                    filter: { prefix: "" },
                    expiration: { days: 14 },
                }),
            message: /rule "tidy".*restore-drill evidence/,
        },
        {
            title: "evidence expired inside the window",
            mutate: (f, g) => {
                g(f.bucket.lifecycle).inputs.rules.find((r: any) => r.filter.prefix === RESTORE_EVIDENCE_PREFIX).expiration.days = 7;
            },
            message: /restore-drill evidence/,
        },
        {
            title: "a safety net inside the window the deployed backup job keeps (walDays 90)",
            mutate: (f, g) => {
                g(f.bucket.lifecycle).inputs.rules.push({
                    id: "net",
                    status: "Enabled",
                    filter: { prefix: "test/app/" },
                    expiration: { days: 90 },
                });
                editUpload(g(f.tier.backup), CONTAINER_PATHS.backupConfig, () => backupJobConfig({ daily: 7, weekly: 4, walDays: 90 }));
            },
            message: /90-day retention window/,
        },
        {
            title: "an expiry by date",
            mutate: (f, g) => {
                g(f.bucket.lifecycle).inputs.rules[0].expiration = { date: "2027-01-01T00:00:00Z" };
            },
            message: /on 2027-01-01/,
        },
        {
            title: "R2 without an abort-multipart rule",
            provider: "r2",
            mutate: (f, g) => {
                g(f.bucket.lifecycle).inputs.rules = g(f.bucket.lifecycle).inputs.rules.filter(
                    (r: any) => !r.abortIncompleteMultipartUpload,
                );
            },
            message: /Cloudflare R2.*multipart/,
        },
        {
            title: "B2 without an abort-multipart rule",
            provider: "b2",
            mutate: (f, g) => {
                g(f.bucket.lifecycle).inputs.rules = g(f.bucket.lifecycle).inputs.rules.filter(
                    (r: any) => !r.abortIncompleteMultipartUpload,
                );
            },
            message: /Backblaze B2.*multipart/,
        },
        {
            title: "B2 without a noncurrent-version rule",
            provider: "b2",
            mutate: (f, g) => {
                g(f.bucket.lifecycle).inputs.rules = g(f.bucket.lifecycle).inputs.rules.filter((r: any) => !r.noncurrentVersionExpiration);
            },
            message: /noncurrent versions/,
        },
        { title: "B2 without versioning", provider: "b2", mutate: (f) => f.s.remove(f.bucket.versioning!), message: /without versioning/ },
        {
            title: "R2 with the abort rule limited to one prefix",
            provider: "r2",
            mutate: (f, g) => {
                g(f.bucket.lifecycle).inputs.rules.find((r: any) => r.abortIncompleteMultipartUpload).filter = { prefix: "test/" };
            },
            message: /multipart/,
        },
    ],
    "backup-bucket-private": [
        {
            title: "a public-read ACL on the bucket",
            mutate: (f, g) => {
                g(f.bucket.bucket).inputs.acl = "public-read";
            },
            message: /public ACL public-read/,
        },
        {
            title: "a bucket policy allowing Principal *",
            mutate: (f) =>
                void f.s.add(T.bucketPolicy, "open", {
                    bucket: BUCKET,
                    policy: JSON.stringify({
                        Version: "2012-10-17",
                        Statement: [
                            {
                                Sid: "Everyone",
                                Effect: "Allow",
                                Principal: "*",
                                Action: "s3:GetObject",
                                Resource: `arn:aws:s3:::${BUCKET}/*`,
                            },
                        ],
                    }),
                }),
            message: /opens backup bucket "db-tier-test-backups" to everyone \(Everyone\)/,
        },
        {
            title: "a bucket policy allowing {AWS: *}",
            mutate: (f) =>
                void f.s.add(T.bucketPolicy, "open", {
                    bucket: BUCKET,
                    policy: { Statement: [{ Effect: "Allow", Principal: { AWS: ["*"] }, Action: "s3:*" }] },
                }),
            message: /to everyone/,
        },
        {
            title: "a BucketAcl granting AllUsers",
            mutate: (f) =>
                void f.s.add(T.bucketAcl, "acl", {
                    bucket: BUCKET,
                    accessControlPolicy: {
                        grants: [
                            { grantee: { type: "Group", uri: "http://acs.amazonaws.com/groups/global/AllUsers" }, permission: "READ" },
                        ],
                        owner: { id: "x" },
                    },
                }),
            message: /grants everyone/,
        },
        {
            title: "a public object in the bucket",
            mutate: (f) => void f.s.add(T.bucketObject, "leak", { bucket: BUCKET, key: "x", acl: "public-read" }),
            message: /object "leak"/,
        },
    ],
    "no-inline-secrets": [
        {
            title: "an inline Postgres password",
            mutate: (f, g) => {
                const r = g(f.tier.postgres);
                setEnv(r, "POSTGRES_PASSWORD_FILE", undefined);
                setEnv(r, "POSTGRES_PASSWORD", "hunter2hunter2hunter2hunter2hunter2");
            },
            message: /secret in environment variable POSTGRES_PASSWORD;/,
        },
        {
            title: "an inline storage key on the backup job",
            mutate: (f, g) => setEnv(g(f.tier.backup), "AWS_SECRET_ACCESS_KEY", "abc"),
            message: /AWS_SECRET_ACCESS_KEY/,
        },
        {
            title: "an inline token on an application container",
            mutate: (f, g) => setEnv(g(f.tier.appContainer), "API_TOKEN", "t0k3n"),
            message: /API_TOKEN/,
        },
        {
            title: "a _FILE variable that points nowhere",
            mutate: (f, g) => setEnv(g(f.tier.postgres), "POSTGRES_PASSWORD_FILE", "/run/secrets/missing"),
            message: /neither uploaded/,
        },
        {
            title: "a relative _FILE path",
            mutate: (f, g) => setEnv(g(f.tier.postgres), "POSTGRES_PASSWORD_FILE", "root-password"),
            message: /absolute path/,
        },
    ],
    "generated-secret-strength": [
        {
            title: "a 16-character password",
            mutate: (f, g) => {
                g(f.tier.rootPassword).inputs.length = 16;
            },
            message: /16 characters long/,
        },
        { title: "a password with no length", mutate: (f, g) => void delete g(f.tier.rootPassword).inputs.length, message: /unspecified/ },
    ],
    "tier-container-hardened": [
        {
            title: "a pgBouncer that keeps the engine's default capabilities (no capabilities)",
            mutate: (f, g) => {
                delete g(f.tier.pgbouncer).inputs.capabilities;
            },
            message: /pgbouncer container .* does not drop ALL capabilities/,
        },
        {
            title: "a backup job that drops some capabilities but not ALL",
            mutate: (f, g) => {
                g(f.tier.backup).inputs.capabilities = { drops: ["NET_RAW", "MKNOD"] };
            },
            message: /backup container .* does not drop ALL/,
        },
        {
            title: "a pgBouncer that adds NET_ADMIN back",
            mutate: (f, g) => {
                g(f.tier.pgbouncer).inputs.capabilities = { drops: ["ALL"], adds: ["NET_ADMIN"] };
            },
            message: /adds capabilities NET_ADMIN; a pgbouncer container may add none/,
        },
        {
            title: "a Postgres that adds CAP_SYS_ADMIN beside its documented ones",
            mutate: (f, g) => {
                const c = g(f.tier.postgres).inputs.capabilities;
                g(f.tier.postgres).inputs.capabilities = { ...c, adds: [...c.adds, "CAP_SYS_ADMIN"] };
            },
            message: /adds capabilities SYS_ADMIN; a postgres container may add CHOWN, DAC_OVERRIDE, FOWNER, SETGID, SETUID/,
        },
        {
            title: "a restore drill without no-new-privileges",
            mutate: (f, g) => {
                g(f.tier.drill).inputs.securityOpts = ["apparmor=docker-default"];
            },
            message: /restore-drill container .* does not set securityOpts no-new-privileges:true/,
        },
        {
            title: "a privileged provisioner",
            mutate: (f, g) => {
                g(f.tier.provisioner).inputs.privileged = true;
            },
            message: /provisioner container .* is privileged/,
        },
        {
            title: "a Postgres without a memory limit",
            mutate: (f, g) => {
                delete g(f.tier.postgres).inputs.memory;
            },
            message: /postgres container .* has no memory limit/,
        },
        {
            title: "an object store that may swap (memorySwap above memory)",
            mutate: (f, g) => {
                g(f.objectStore!).inputs.memorySwap = 4096;
            },
            message: /object-store container .* has memorySwap 4096 instead of its memory 512/,
        },
        {
            title: "a pgBouncer without a process limit (its nofile ulimit only)",
            mutate: (f, g) => {
                g(f.tier.pgbouncer).inputs.ulimits = [{ name: "nofile", soft: 4096, hard: 4096 }];
            },
            message: /pgbouncer container .* has no process limit/,
        },
    ],
    "restore-drill-scheduled": [
        { title: "no restore drill", mutate: (f) => f.s.remove(f.tier.drill), message: /no restore-drill container/ },
        { title: "no backup job", mutate: (f) => f.s.remove(f.tier.backup), message: /no backup container/ },
        {
            title: "a yearly drill",
            mutate: (f, g) => setEnv(g(f.tier.drill), SCHEDULE_ENV.drill, "0 4 1 1 *"),
            message: /at least monthly/,
        },
        {
            title: "a drill only in 31-day months",
            mutate: (f, g) => setEnv(g(f.tier.drill), SCHEDULE_ENV.drill, "0 4 31 * *"),
            message: /gaps of up to 6\d days/,
        },
        {
            title: "a drill without a schedule",
            mutate: (f, g) => setEnv(g(f.tier.drill), SCHEDULE_ENV.drill, undefined),
            message: /has no DBTIER_DRILL_SCHEDULE/,
        },
        {
            title: "a backup with an invalid schedule",
            mutate: (f, g) => setEnv(g(f.tier.backup), SCHEDULE_ENV.backup, "every night"),
            message: /invalid DBTIER_BACKUP_SCHEDULE/,
        },
        {
            title: "a drill container that does not run the scheduler (the label and env are only claims)",
            mutate: (f, g) => {
                g(f.tier.drill).inputs.command = ["sleep", "infinity"];
            },
            message: /does not run the db-tier scheduler/,
        },
        {
            title: "a yearly drill schedule in the uploaded config (no env override)",
            mutate: (f, g) => {
                const r = g(f.tier.drill);
                setEnv(r, SCHEDULE_ENV.drill, undefined);
                editUpload(r, CONTAINER_PATHS.drillConfig, () => JSON.stringify({ schedule: "0 4 1 1 *" }));
            },
            message: /at least monthly/,
        },
        {
            title: "a second cluster without its own drill",
            build: () => {
                const f = compliant();
                const second = addTier(f.s, "temporal");
                f.s.remove(second.drill);
                return f;
            },
            mutate: () => undefined,
            message: /"test-temporal-postgres" has no restore-drill container/,
        },
        {
            title: "a drill container's role label removed",
            mutate: (f, g) => {
                g(f.tier.drill).inputs.labels = [];
            },
            alsoFires: ["app-reaches-only-pooler"],
            message: /no restore-drill container/,
        },
    ],
};

describe("the pack", () => {
    it("holds every policy of the contract, each with a description, remediation steps and mandatory as the default", () => {
        expect(policies.map((p) => p.name).sort()).toEqual([...POLICY_NAMES].sort());
        for (const p of policies) {
            expect(p.description.length, p.name).toBeGreaterThan(20);
            expect(p.remediationSteps?.length ?? 0, p.name).toBeGreaterThan(20);
            expect(p.enforcementLevel, p.name).toBe("mandatory");
        }
    });

    it("has a config schema for the RPO ceiling (300 s), the retention window and the host addresses (127.0.0.1)", () => {
        const schema = (name: string, prop: string) =>
            policies.find((p) => p.name === name)!.configSchema!.properties[prop] as { default?: unknown };
        expect(schema("wal-archiving-enabled", "rpoSeconds").default).toBe(300);
        expect(schema("backup-bucket-lifecycle", "retentionDays").default).toBe(30);
        expect(schema("app-reaches-only-pooler", "allowedHostAddresses").default).toEqual(["127.0.0.1"]);
    });
});

describe.each(["minio", "r2", "b2"] as const)("a compliant stack on %s", (provider) => {
    it("violates no policy", async () => {
        const v = await check(compliant(provider).s.records);
        expect(v).toEqual([]);
    });
});

it("a compliant stack with two clusters violates no policy", async () => {
    const s = new FixtureStack();
    addTier(s, "app");
    addTier(s, "temporal");
    addBucket(s, "b2", ["test/app/", "test/temporal/"]);
    expect(await check(s.records)).toEqual([]);
});

it("an S3 bucket that is not a backup bucket (no BackupBucket parent) is not judged by the bucket policies", async () => {
    const f = compliant();
    f.s.add(T.bucket, "assets", { bucket: "public-assets", acl: "public-read" });
    expect(await check(f.s.records)).toEqual([]);
});

for (const name of POLICY_NAMES) {
    describe(name, () => {
        it("has at least one violating fixture", () => expect(CASES[name].length).toBeGreaterThan(0));
        it.each(CASES[name].map((c) => [c.title, c] as const))("forbids %s", async (_title, c) => {
            const f = c.build ? c.build() : compliant(c.provider ?? "minio");
            c.mutate(f, (urn) => f.s.get(urn));
            const v = mandatory(await check(f.s.records, c.packConfig));
            const mine = v.filter((x) => x.policy === name);
            expect(mine.length, JSON.stringify(v, null, 1)).toBeGreaterThan(0);
            if (c.message) expect(mine.map((x) => x.message).join("\n")).toMatch(c.message);
            expect(names(v)).toEqual([name, ...(c.alsoFires ?? [])].sort());
            for (const x of mine) expect(x.urn).toMatch(/^urn:pulumi:test::db-tier::/);
        });
    });
}

it("a drill scheduled by its uploaded config alone (no env) is scheduled", async () => {
    const f = compliant();
    const r = f.s.get(f.tier.drill);
    setEnv(r, SCHEDULE_ENV.drill, undefined);
    editUpload(r, CONTAINER_PATHS.drillConfig, () => JSON.stringify({ schedule: "0 4 1 * *" }));
    expect(await check(f.s.records)).toEqual([]);
});

it("the violation names the offending resource's URN", async () => {
    const f = compliant();
    f.s.get(f.tier.postgres).inputs.ports = [{ internal: 5432, external: 5432 }];
    const [v] = mandatory(await check(f.s.records));
    expect(v.urn).toBe(f.tier.postgres);
    expect(v.urn).toBe(
        "urn:pulumi:test::db-tier::db-tier:index:DatabaseTier$db-tier:index:PostgresServer$docker:index/container:Container::test-app-postgres-container",
    );
});

it("no violation message echoes an inline secret", async () => {
    const f = compliant();
    setEnv(f.s.get(f.tier.backup), "WALG_LIBSODIUM_KEY", "0123456789abcdef-very-secret");
    const v = await check(f.s.records);
    expect(v.length).toBeGreaterThan(0);
    expect(JSON.stringify(v)).not.toContain("very-secret");
});

it("a role label on a container the tier did not build is believed only as far as it goes: a fake postgres is held to the postgres rules", async () => {
    const f = compliant();
    f.s.add(T.container, "fake-pg", {
        name: "fake-pg",
        image: "postgres:15",
        labels: roleLabels("postgres"),
        networksAdvanced: [{ name: "test-app-db-only" }],
        ports: [{ internal: 5432, external: 5432 }],
    });
    const got = names(mandatory(await check(f.s.records)));
    expect(got).toContain("postgres-no-published-ports");
    expect(got).toContain("wal-archiving-enabled");
    expect(got).toContain("restore-drill-scheduled");
});
