/**
 * Parity of the containers and the loopback tier, per stack: the files `npm run local -- up
 * --stack S --cluster C` writes equal the uploads the components declare for that stack and
 * cluster (recorded with the mock runtime, as the graph tests record them), byte for byte once
 * the values the two placements name are tokenised and the secrets masked (plan/parity.ts; its
 * unit test proves it catches drift). The running servers then report the stack's values.
 * pgBouncer's SHOW is closed (admin console off), so pgBouncer is checked by its ini (above) and
 * by whether it admits a client without TLS (it must not when the stack's sslmode requires TLS);
 * max_db_connections is not probed with connections here.
 * One tier at a time: up, compare, SHOW, down.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { deployStack } from "../../components";
import { readStackConfig } from "../../config/stack-config";
import { loopbackPlacement } from "../../local/placement";
import { type ParityFile, parityDifference } from "../../plan/parity";
import type { Placement } from "../../plan/placement";
import { CONTAINER_PATHS } from "../../vocabulary";
import { installMocks, loadStackConfig, mockSubnet, type RecordedResource, settle, uploadAt } from "../support/mock-runtime";
import { psqlWith, Tier } from "../support/tier-harness";
import { readFileSync } from "node:fs";

const CASES = [
    ["dev", "app"],
    ["preview", "app"],
    ["production", "app"],
    ["production", "temporal"],
] as const;

/**
 * The `--secret` values each stack file says it is given: storage keys off dev (embedded MinIO),
 * the TLS pair on production only (sslmode require). The components turn TLS on when a pair is
 * given, the loopback tier when sslmode is not disable: with these secrets the two agree.
 */
const STORAGE_KEYS = {
    "db-tier:storageAccessKeyId": "parity-access-key-id-0123456789",
    "db-tier:storageSecretAccessKey": "parity-secret-access-key-0123456789abcdef",
};
const TLS_PAIR = {
    "db-tier:tlsCertPem": "-----BEGIN CERTIFICATE-----\nparity\n-----END CERTIFICATE-----\n",
    "db-tier:tlsKeyPem": "-----BEGIN PRIVATE KEY-----\nparity\n-----END PRIVATE KEY-----\n",
};
const SECRETS: Record<string, Record<string, string>> = { dev: {}, preview: STORAGE_KEYS, production: { ...STORAGE_KEYS, ...TLS_PAIR } };

interface Declared {
    readonly placement: Placement;
    readonly files: Record<ParityFile, string>;
    readonly maxConnections: number;
    readonly sharedBuffers: string;
    readonly rpoSeconds: number;
    readonly sslmode: string;
}

function container(resources: RecordedResource[], name: string): RecordedResource {
    const c = resources.find((r) => r.type === "docker:index/container:Container" && r.inputs.name === name);
    if (!c) throw new Error(`no container ${name} in the recorded program`);
    return c;
}

function upload(c: RecordedResource, file: string): string {
    const text = uploadAt(c, file);
    if (text === undefined) throw new Error(`${c.inputs.name} uploads nothing at ${file}`);
    return text;
}

/** What the components declare for one stack's clusters, recorded under the mock runtime. */
async function declared(stack: string): Promise<Record<string, Declared>> {
    const resources = await installMocks(stack);
    loadStackConfig(stack, {}, SECRETS[stack]);
    const { values, secrets } = readStackConfig();
    const deployed = deployStack(values, secrets);
    await settle();
    const out: Record<string, Declared> = {};
    for (const [cluster, tier] of Object.entries(deployed.tiers)) {
        const at = tier.plan.placement;
        const prefix = `${deployed.config.environment}-${cluster}`;
        const pg = container(resources, `${prefix}-postgres`);
        // The db-only subnet the (mocked) engine gave the network: the containers' pg_hba.conf names it.
        const placement: Placement = { ...at, postgres: { ...at.postgres, clientNetworks: [mockSubnet(`${prefix}-db-only`)] } };
        const pgb = container(resources, `${prefix}-pgbouncer`);
        out[cluster] = {
            placement,
            files: {
                "postgresql.conf": upload(pg, CONTAINER_PATHS.postgresConf),
                "pg_hba.conf": upload(pg, at.postgres.hbaFile),
                "pg_ident.conf": upload(pg, at.postgres.identFile),
                "walg.env": upload(pg, at.postgres.walgEnvFile),
                "pgbouncer.ini": upload(pgb, CONTAINER_PATHS.pgbouncerIni),
                "userlist.txt": upload(pgb, at.pgbouncer.authFile),
                "provision.sql": upload(container(resources, `${prefix}-provisioner`), CONTAINER_PATHS.provisionSql),
                "backup.json": upload(container(resources, `${prefix}-backup`), CONTAINER_PATHS.backupConfig),
                "drill.json": upload(container(resources, `${prefix}-restore-drill`), CONTAINER_PATHS.drillConfig),
            },
            maxConnections: deployed.config.postgres.maxConnections,
            sharedBuffers: deployed.config.postgres.sharedBuffers,
            rpoSeconds: deployed.config.backup.rpoSeconds,
            sslmode: deployed.config.sslmode,
        };
    }
    return out;
}

/** The files a loopback tier wrote, by the same names. */
function written(t: Tier): Record<ParityFile, string> {
    const read = (f: string) => readFileSync(f, "utf8");
    return {
        "postgresql.conf": read(t.l.pgConf),
        "pg_hba.conf": read(t.l.pgHba),
        "pg_ident.conf": read(t.l.pgIdent),
        "walg.env": read(t.l.walgEnv),
        "pgbouncer.ini": read(t.l.pgbIni),
        "userlist.txt": read(t.l.pgbAuth),
        "provision.sql": read(t.l.provisionSql),
        "backup.json": read(t.l.backupJson),
        "drill.json": read(t.l.drillJson),
    };
}

describe("parity: the loopback tier runs what the containers declare", () => {
    const recorded: Record<string, Record<string, Declared>> = {};
    let tier: Tier | undefined;
    const stop = async (): Promise<void> => {
        const t = tier;
        tier = undefined;
        await t?.down();
    };

    beforeAll(async () => {
        for (const stack of new Set(CASES.map(([s]) => s))) recorded[stack] = await declared(stack);
    });

    afterAll(stop);

    for (const [stack, cluster] of CASES) {
        it(`${stack}/${cluster}: same files (placement tokenised, secrets masked), and the servers report the stack's values`, async () => {
            const want = recorded[stack][cluster];
            // A failed case must not leave its tier running under the next one.
            await stop();
            tier = await Tier.start(`parity-${stack}-${cluster}`, { env: { DBTIER_LOCAL_STACK: stack, DBTIER_LOCAL_CLUSTER: cluster } });
            const t = tier;
            const local = written(t);
            const localAt = loopbackPlacement(t.l, t.ports, t.t);
            const diffs = (Object.keys(want.files) as ParityFile[])
                .map((f) => parityDifference(f, want.files[f], want.placement, local[f], localAt))
                .filter((d) => d !== undefined);
            expect(diffs).toEqual([]);

            const root = await t.root("postgres");
            const setting = (name: string) => t.value(root, `SELECT setting FROM pg_settings WHERE name = '${name}'`);
            expect(await setting("max_connections")).toBe(String(want.maxConnections));
            expect(await t.value(root, "SELECT current_setting('shared_buffers')")).toBe(want.sharedBuffers);
            expect(await setting("archive_timeout")).toBe(String(want.rpoSeconds));
            expect(await setting("archive_mode")).toBe("on");
            const archive = (await setting("archive_command")) ?? "";
            expect(archive).toContain(`. '${t.l.walgEnv}'`);
            expect(archive).toMatch(/timeout -k 10 \d+ '[^']+\/wal-g' wal-push "%p"$/);
            expect(await setting("ssl")).toBe(want.sslmode === "disable" ? "off" : "on");

            // pgBouncer: a client without TLS is admitted exactly when the stack's sslmode is disable.
            const vars = await t.vars();
            const plain = await psqlWith(vars.DATABASE_URL, "SELECT 1", { env: { PGSSLMODE: "disable" } });
            expect(plain.code === 0, plain.stderr).toBe(want.sslmode === "disable");
            if (want.sslmode !== "disable") {
                const tls = await psqlWith(vars.DATABASE_URL, "SELECT ssl FROM pg_stat_ssl WHERE pid = pg_backend_pid()", {
                    env: { PGSSLMODE: "require" },
                });
                expect(tls.code, tls.stderr).toBe(0);
            }
            await stop();
        }, 900_000);
    }
});
