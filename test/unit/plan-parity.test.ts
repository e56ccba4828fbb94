/**
 * The plan is the one source of the tier's parameters, and the parity comparison (plan/parity.ts)
 * the integration test uses really catches drift: two placements of one plan agree on every file,
 * a changed parameter on one side is found at its line, and secrets never decide the outcome.
 */
import { describe, expect, it } from "vitest";
import type { TierConfig } from "../../config/schema";
import { localConfig } from "../../local/stack";
import { BACKUP_PUSH_TIMEOUT_SECONDS } from "../../plan/jobs";
import { type ClusterPlan, planCluster } from "../../plan/cluster-plan";
import { type ParityFile, parityDifference } from "../../plan/parity";
import { POOL_HEADROOM } from "../../plan/pgbouncer";
import { containerPlacement, type Placement } from "../../plan/placement";
import { clusterSettings } from "../../plan/settings";
import { renderJobConfig } from "../../render/job-config";
import { scramVerifier } from "../../render/scram";
import { REPO_ROOT } from "../support/mock-runtime";

const inContainers = containerPlacement({ endpoint: "https://s3.us-west-004.backblazeb2.com", region: "us-west-004" });
/** The containers' placement with a db-only subnet, as the engine assigns one when it creates the network. */
const containers: Placement = { ...inContainers, postgres: { ...inContainers.postgres, clientNetworks: ["10.214.7.0/24"] } };

/** A loopback placement as local/placement.ts builds one, with fixed paths and ports. */
const loopback: Placement = {
    postgres: {
        listenAddresses: "127.0.0.1",
        port: 21000,
        host: "127.0.0.1",
        clientNetworks: ["127.0.0.1/32"],
        hbaFile: "/tmp/plan-unit/pg/pg_hba.conf",
        identFile: "/tmp/plan-unit/pg/pg_ident.conf",
        socketDir: "",
        dataDir: "/tmp/plan-unit/pg/data",
        walgBinary: "/tmp/plan-unit/bin/wal-g",
        walgEnvFile: "/tmp/plan-unit/pg/walg.env",
        tlsCertFile: "/tmp/plan-unit/pg/server.crt",
        tlsKeyFile: "/tmp/plan-unit/pg/server.key",
    },
    pgbouncer: {
        listenAddr: "127.0.0.1",
        port: 21001,
        authFile: "/tmp/plan-unit/pg/userlist.txt",
        logFile: "/tmp/plan-unit/pg/pgbouncer.log",
        pidFile: "/tmp/plan-unit/pg/pgbouncer.pid",
        tlsCertFile: "/tmp/plan-unit/pg/pgbouncer.crt",
        tlsKeyFile: "/tmp/plan-unit/pg/pgbouncer.key",
    },
    jobs: {
        pgpassFile: "/tmp/plan-unit/pgpass",
        pgBinDir: "/usr/lib/postgresql/15/bin",
        drillScratch: "/tmp/plan-unit/drill",
        drillRunAsUser: "postgres",
        psqlBinary: "/usr/lib/postgresql/15/bin/psql",
        walReceiverPassfile: "/tmp/plan-unit/pg/wal-receiver.pgpass",
    },
    storage: { endpoint: "http://127.0.0.1:21002", region: "us-east-1" },
};

/** Each side with its own secrets: parity must not depend on them. */
function files(plan: ClusterPlan, seed: string): Record<ParityFile, string> {
    const v = (role: string) =>
        scramVerifier(`${seed}-${role}-password-0123456789abcdef`, Buffer.from(`${seed}-${role}-salt-0123456789`).toString("base64"));
    return {
        "postgresql.conf": plan.postgres.postgresqlConf,
        "pg_hba.conf": plan.postgres.pgHba(plan.placement.postgres.clientNetworks ?? []),
        "pg_ident.conf": plan.postgres.pgIdent,
        "walg.env": plan.walg.env({
            accessKeyId: `${seed}-key-id`,
            secretAccessKey: `${seed}-secret`,
            libsodiumKeyHex: (seed === "a" ? "a" : "b").repeat(64),
        }),
        "pgbouncer.ini": plan.pgbouncer.ini,
        "userlist.txt": plan.pgbouncer.authFile({ app_user: v("app_user"), app_service: v("app_service") }),
        "provision.sql": plan.provision.sql({
            root: v("root"),
            appUser: v("app_user"),
            appService: v("app_service"),
            walReceiver: v("wal"),
        }),
        "backup.json": renderJobConfig(plan.jobs.backup),
        "drill.json": renderJobConfig(plan.jobs.drill),
    };
}

function differences(left: ClusterPlan, right: ClusterPlan): string[] {
    const a = files(left, "a");
    const b = files(right, "b");
    return (Object.keys(a) as ParityFile[]).flatMap((f) => {
        const d = parityDifference(f, a[f], left.placement, b[f], right.placement);
        return d ? [`${d.file}:${d.line}: ${d.left} | ${d.right}`] : [];
    });
}

const stacks = ["dev", "preview", "production"] as const;
const configs = Object.fromEntries(stacks.map((s) => [s, localConfig(s, REPO_ROOT)])) as Record<(typeof stacks)[number], TierConfig>;

function plansOf(config: TierConfig, cluster: string, edit: (c: TierConfig) => TierConfig = (c) => c): [ClusterPlan, ClusterPlan] {
    const tls = config.sslmode !== "disable";
    return [
        planCluster(clusterSettings(config, cluster, tls), containers),
        planCluster(clusterSettings(edit(config), cluster, tls), loopback),
    ];
}

describe("plan parity (plan/parity.ts)", () => {
    for (const stack of stacks) {
        for (const cluster of configs[stack].clusters.map((c) => c.name)) {
            it(`${stack}/${cluster}: the containers' and the loopback placement of one plan agree on every file`, () => {
                expect(differences(...plansOf(configs[stack], cluster))).toEqual([]);
            });
        }
    }

    it("finds a drifted max_connections (and the pool cap that follows it) at its line", () => {
        const drifted = plansOf(configs.production, "app", (c) => ({
            ...c,
            postgres: { ...c.postgres, maxConnections: c.postgres.maxConnections + 1 },
        }));
        const found = differences(...drifted);
        expect(found).toHaveLength(2);
        expect(found[0]).toMatch(/^postgresql\.conf:\d+: max_connections = 200 \| max_connections = 201$/);
        expect(found[1]).toMatch(/^pgbouncer\.ini:\d+: max_db_connections = 190 \| max_db_connections = 191$/);
    });

    it("finds the drifts the loopback tier used to have: RPO, compression, pool size, schedule, retention", () => {
        const cases: [string, (c: TierConfig) => TierConfig, RegExp][] = [
            [
                "rpo",
                (c) => ({ ...c, backup: { ...c.backup, rpoSeconds: 61 } }),
                /^postgresql\.conf:\d+: archive_timeout = 60 \| archive_timeout = 61$/,
            ],
            [
                "codec",
                (c) => ({ ...c, backup: { ...c.backup, compression: "lz4" } }),
                /^walg\.env:\d+: WALG_COMPRESSION_METHOD='zstd' \| WALG_COMPRESSION_METHOD='lz4'$/,
            ],
            [
                "pool",
                (c) => ({ ...c, pgbouncer: { ...c.pgbouncer, defaultPoolSize: 19 } }),
                /^pgbouncer\.ini:\d+: default_pool_size = 20 \| default_pool_size = 19$/,
            ],
            [
                "schedule",
                (c) => ({ ...c, backup: { ...c.backup, schedule: "0 3 * * *" } }),
                /^backup\.json:\d+: {3}"schedule": "0 2 \* \* \*", \| {3}"schedule": "0 3 \* \* \*",$/,
            ],
            [
                "retention",
                (c) => ({ ...c, backup: { ...c.backup, retention: { ...c.backup.retention, daily: 8 } } }),
                /^backup\.json:\d+: .*"daily": 7,/,
            ],
        ];
        for (const [what, edit, want] of cases) {
            const found = differences(...plansOf(configs.production, "app", edit));
            expect(found.length, what).toBeGreaterThan(0);
            expect(found[0], what).toMatch(want);
        }
    });

    it("does not tokenise what the placement does not name: a changed path elsewhere is a difference", () => {
        const [c, l] = plansOf(configs.dev, "app");
        const moved = planCluster(l.settings, { ...loopback, jobs: { ...loopback.jobs, pgBinDir: "/opt/pg/bin" } });
        // pgBinDir is a placement value on both sides, so moving it is not drift ...
        expect(differences(c, moved)).toEqual([]);
        // ... but the same text with the path spelled differently than the placement says is.
        const a = files(c, "a")["drill.json"];
        const b = files(moved, "b")["drill.json"].replace("/opt/pg/bin", "/opt/pg/bin2");
        expect(parityDifference("drill.json", a, c.placement, b, moved.placement)?.line).toBeGreaterThan(0);
    });
});

describe("plan values (plan/)", () => {
    it("takes every parameter from the stack: pool cap = max_connections - headroom, push timeout, drill schedule, TLS", () => {
        const [p] = plansOf(configs.production, "temporal");
        expect(p.pgbouncer.maxDbConnections).toBe(configs.production.postgres.maxConnections - POOL_HEADROOM);
        expect(p.pgbouncer.nofile).toBe(2 * 1000 + 1024);
        expect(p.jobs.backup.pushTimeoutSeconds).toBe(BACKUP_PUSH_TIMEOUT_SECONDS);
        expect(p.jobs.drill.schedule).toBe("0 4 * * 0");
        expect(p.jobs.drill.database).toBe("temporal");
        expect(p.postgres.tls).toBe(true);
        expect(p.postgres.postgresqlConf).toContain("ssl = 'on'");
        expect(p.pgbouncer.ini).toContain("client_tls_sslmode = require");
        expect(p.walg.prefix).toBe("s3://db-tier-production-backups/production/temporal");
    });

    it("preview compresses with lzma, dev with the default zstd", () => {
        expect(
            plansOf(configs.preview, "app")[1].walg.env({ accessKeyId: "k", secretAccessKey: "s", libsodiumKeyHex: "0".repeat(64) }),
        ).toContain("WALG_COMPRESSION_METHOD='lzma'");
        expect(
            plansOf(configs.dev, "app")[1].walg.env({ accessKeyId: "k", secretAccessKey: "s", libsodiumKeyHex: "0".repeat(64) }),
        ).toContain("WALG_COMPRESSION_METHOD='zstd'");
    });

    it("refuses a cluster the stack does not have, naming the ones it has", () => {
        expect(() => clusterSettings(configs.production, "nope")).toThrow(
            /cluster "nope" is not in stack production: use one of app, temporal/,
        );
    });
});
