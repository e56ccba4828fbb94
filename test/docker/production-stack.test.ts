/**
 * The production stack (Pulumi.production.yaml) applied to the test engine: both clusters
 * (app, temporal), TLS (sslmode=require), B2 lifecycle rules and versioning. Stand-ins
 * (see stacks.ts): the local test engine for `ssh://deploy@db-1.internal`; a MinIO container
 * for Backblaze B2 serving TLS as s3.us-west-004.backblazeb2.com:443 on backup-egress (the
 * stack's endpoint, unchanged) with a per-run CA the containers on backup-egress trust, and
 * reached by the applier on 127.0.0.1; real values for the secrets the offline check only has
 * placeholders for (external-secrets.json).
 */
import { GetBucketLifecycleConfigurationCommand, GetBucketVersioningCommand } from "@aws-sdk/client-s3";
import { afterAll, describe, expect, it } from "vitest";
import type { Engine } from "./apply/engine";
import { docker, MINIO_IMAGE, PGBOUNCER_IMAGE, POSTGRES_IMAGE, psqlIn, requireEngine, s3Client, throwaway } from "./harness";
import { setupOnce } from "./setup-once";
import { B2_HOST, B2_STANDIN_NAME, productionStack, type ProductionStack, STANDIN_CA_FILE } from "./stacks";
import * as hardening from "./hardening-checks";
import * as checks from "./tier-checks";

const CLUSTERS = ["app", "temporal"] as const;
let engine: Engine;
let prod: ProductionStack;
let applyNotes: string[] = [];
const cluster: Record<string, checks.ClusterUnderTest> = {};
const oldSecrets: string[] = [];

setupOnce(async () => {
    engine = await requireEngine();
    prod = await productionStack(engine);
    const report = await prod.run.apply();
    applyNotes = report.notes;
    const s3 = s3Client(prod.s3Endpoint, prod.accessKeyId, prod.secretAccessKey, prod.caPem);
    for (const name of CLUSTERS) {
        cluster[name] = {
            run: prod.run,
            engine,
            environment: "production",
            cluster: name,
            bucket: "db-tier-production-backups",
            s3,
            storageInside: `${B2_HOST}:443`,
            storageNameIsTierOnly: false,
            storageContainers: [B2_STANDIN_NAME],
        };
    }
}, 1_800_000);

afterAll(async () => {
    if (process.env.DBTIER_DOCKER_KEEP) return;
    await prod?.run.destroy();
    await prod?.stopStandIn();
});

const tierContainers = () => prod.run.containers().map((x) => String(x.inputs.name));

describe("the production stack's two clusters on a real engine (MinIO with TLS standing in for B2)", () => {
    it("creates both clusters' containers on the engine mapped for the ssh host, every one running (healthy where it has a check)", async () => {
        expect(tierContainers().sort()).toEqual(
            CLUSTERS.flatMap((c) =>
                ["backup", "pgbouncer", "postgres", "provisioner", "restore-drill"].map((r) => `production-${c}-${r}`),
            ).sort(),
        );
        expect(prod.run.resources("pulumi:providers:docker").map((p) => p.inputs.host)).toEqual(["ssh://deploy@db-1.internal"]);
        for (const c of CLUSTERS) await checks.expectHealthy(cluster[c]);
        // Hardened as the dev stack's (test/docker/dev-stack.test.ts probes them from inside).
        for (const c of CLUSTERS) expect((await hardening.expectHardenedSettings(cluster[c])).length).toBe(5);
    });

    it("keeps B2's endpoint as the stack has it; only containers on backup-egress get the stand-in's CA, and TLS is verified", async () => {
        const storage = prod.run.resources("pulumi:providers:aws")[0];
        const endpoints = storage.inputs.endpoints;
        expect(typeof endpoints === "string" ? JSON.parse(endpoints) : endpoints).toEqual([
            { s3: "https://s3.us-west-004.backblazeb2.com" },
        ]);
        const onEgress = new Set(["postgres", "backup", "restore-drill"]);
        for (const ct of prod.run.containers()) {
            const role = (ct.inputs.labels as { label: string; value: string }[]).find((l) => l.label === "db-tier.role")!.value;
            const nets = (ct.inputs.networksAdvanced as { name: string }[]).map((n) => n.name);
            if (role === "provisioner") continue; // exited, and on db-only only: nothing to exec into
            const has = await docker(engine, ["exec", String(ct.inputs.name), "test", "-f", STANDIN_CA_FILE]);
            expect(has.code === 0, `${ct.inputs.name} (${nets.join(", ")}) has the CA`).toBe(onEgress.has(role));
        }
        // Attack: WAL-G on backup-egress with the image's bundle but without the stand-in's CA
        // refuses the certificate (so the trust comes from that file and TLS is verified);
        // with the CA added to the bundle the same listing succeeds (control). Keys on stdin; one
        // retry (WALG_S3_MAX_RETRIES), or the default 15 retries outlast the timeout and hide the error.
        const egress = checks.net(cluster.app, "backup-egress");
        const walgLs = (withCa: boolean) =>
            throwaway(engine, {
                networks: [egress],
                image: POSTGRES_IMAGE,
                timeoutMs: 120_000,
                stdin: `${prod.accessKeyId}\n${prod.secretAccessKey}\n${withCa ? prod.caPem : ""}`,
                script: [
                    "read -r AWS_ACCESS_KEY_ID; read -r AWS_SECRET_ACCESS_KEY; export AWS_ACCESS_KEY_ID AWS_SECRET_ACCESS_KEY",
                    "cat > /tmp/ca.pem",
                    withCa
                        ? "cat /etc/ssl/certs/ca-certificates.crt /tmp/ca.pem > /tmp/bundle.pem; export SSL_CERT_FILE=/tmp/bundle.pem"
                        : ":",
                    `WALG_S3_PREFIX=s3://db-tier-production-backups AWS_ENDPOINT=https://${B2_HOST} AWS_REGION=us-west-004 AWS_S3_FORCE_PATH_STYLE=true WALG_S3_MAX_RETRIES=1 timeout 60 wal-g st ls`,
                ].join("; "),
            });
        const without = await walgLs(false);
        expect(without.code).not.toBe(0);
        expect(without.stderr).toMatch(/x509: certificate signed by unknown authority|failed to verify certificate/);
        const withCa = await walgLs(true);
        expect(withCa.code, withCa.stderr).toBe(0);
        expect(withCa.stdout).toMatch(/^type\s+size\s+last modified\s+name/); // the listing (the bucket may be empty yet)
    });

    it("puts the B2 bucket's versioning and lifecycle rules on the store (what the stand-in lacks is reported, not hidden)", async () => {
        const s3 = cluster.app.s3;
        expect((await s3.send(new GetBucketVersioningCommand({ Bucket: "db-tier-production-backups" }))).Status).toBe("Enabled");
        const rules = (await s3.send(new GetBucketLifecycleConfigurationCommand({ Bucket: "db-tier-production-backups" }))).Rules ?? [];
        const recorded = prod.run.resources("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")[0].inputs.rules as {
            id: string;
            noncurrentVersionExpiration?: unknown;
            expiration?: unknown;
            abortIncompleteMultipartUpload?: unknown;
        }[];
        const sent = recorded.filter((r) => r.expiration || r.noncurrentVersionExpiration);
        expect(rules.map((r) => r.ID).sort()).toEqual(sent.map((r) => r.id).sort());
        expect(rules.some((r) => r.NoncurrentVersionExpiration?.NoncurrentDays)).toBe(true);
        // B2 needs an abort rule (policy backup-bucket-lifecycle); the stand-in cannot take it,
        // so the applier left it out, and said so for each rule.
        const withAbort = recorded.filter((r) => r.abortIncompleteMultipartUpload);
        expect(withAbort.length).toBeGreaterThan(0);
        for (const r of withAbort)
            expect(
                applyNotes.some((n) => n.includes(`rule ${r.id}`)),
                r.id,
            ).toBe(true);
    });

    for (const name of CLUSTERS) {
        describe(`cluster ${name}`, () => {
            it("archives WAL from inside the Postgres container to the store over backup-egress", async () => {
                await checks.expectWalArchived(cluster[name]);
            });

            it("serves the three DSNs (sslmode=require) through pgbouncer:6432 to an app container, with SET LOCAL RLS", async () => {
                const d = prod.run.dsns(name);
                expect(new URL(d.DATABASE_URL).searchParams.get("sslmode")).toBe("require");
                await checks.expectDsnsWork(cluster[name], "notes");
                const app = [checks.net(cluster[name], "app")];
                const tls = await psqlIn(engine, app, d.DATABASE_URL, "\\conninfo");
                expect(tls.code, tls.stderr).toBe(0);
                expect(tls.stdout).toMatch(/SSL connection/);
                // Attack: the same credentials without TLS are refused by pgBouncer.
                const plain = await psqlIn(engine, app, d.DATABASE_URL.replace("sslmode=require", "sslmode=disable"), "SELECT 1");
                expect(plain.code).not.toBe(0);
            });

            it("keeps postgres:5432, the store and every other tier address closed to the app network (pgbouncer open)", async () => {
                await checks.expectAppBoundary(cluster[name]);
            });

            it("lets a container on no tier network reach nothing of the tier", async () => {
                await checks.expectNoTierNetworkReachesNothing(cluster[name]);
            });

            it("keeps Postgres closed to backup-egress (the B2 stand-in's network) and db-only without a way out", async () => {
                await checks.expectBackupEgressBoundary(cluster[name]);
                await checks.expectDbOnlyHasNoWayOut(cluster[name]);
            });

            it("takes a base backup and passes a restore drill with evidence under restore-tests/", async () => {
                await checks.expectBaseBackup(cluster[name]);
                const evidence = await checks.expectDrillPasses(cluster[name]);
                expect(String(evidence.evidence_location)).toContain(`/production/${name}/`);
            });
        });
    }

    it("keeps the two clusters apart: app's pgbouncer is closed from temporal's app network", async () => {
        const { pgbouncerApp } = await checks.tierAddresses(cluster.app);
        const r = await (await import("./harness")).tcpProbe(
            engine,
            [checks.net(cluster.temporal, "app")],
            [pgbouncerApp, "pgbouncer:6432"],
        );
        expect(r[pgbouncerApp]).toBe("closed");
        expect(r["pgbouncer:6432"]).toBe("open"); // temporal's own pgbouncer (control)
    });

    it("shows no secret (passwords, libsodium keys, storage keys, TLS key) in docker inspect or docker history", async () => {
        oldSecrets.push(...prod.run.secretValues());
        expect(oldSecrets).toEqual(expect.arrayContaining([prod.accessKeyId, prod.secretAccessKey]));
        await checks.expectNoSecretsOnEngine(engine, tierContainers(), [POSTGRES_IMAGE, PGBOUNCER_IMAGE, MINIO_IMAGE], oldSecrets);
    });

    it("brings Postgres back under its restart policy after kill -9, with every committed row", async () => {
        await checks.expectSurvivesKill9(cluster.app, "notes");
    });

    it("converges rotated passwords of both clusters on a second apply: old DSNs fail, new ones work", async () => {
        const before = Object.fromEntries(CLUSTERS.map((c) => [c, prod.run.dsns(c)]));
        const passwords = prod.run
            .resources("random:index/randomPassword:RandomPassword")
            .filter((r) => /-(root|app-user|app-service)-password$/.test(r.name));
        expect(passwords).toHaveLength(6);
        const report = await prod.run.apply(passwords.map((p) => p.urn));
        expect(
            report.steps
                .filter((s) => /Container::production-(app|temporal)-provisioner-container$/.test(s.urn))
                .filter((s) => s.kind !== "delete")
                .map((s) => s.kind),
        ).toEqual(["replace", "replace"]);
        for (const c of CLUSTERS) {
            await checks.expectHealthy(cluster[c]);
            const after = prod.run.dsns(c);
            const app = [checks.net(cluster[c], "app")];
            for (const key of ["DATABASE_URL", "DATABASE_SERVICE_URL", "DATABASE_MIGRATE_URL"] as const) {
                expect(after[key]).not.toBe(before[c][key]);
                const old = await psqlIn(engine, app, before[c][key], "SELECT 1");
                expect(old.code, `old ${c} ${key}`).not.toBe(0);
                expect(old.stderr).toMatch(/SASL authentication failed|password authentication failed/);
                const now = await psqlIn(engine, app, after[key], "SELECT 1");
                expect(now.code, `new ${c} ${key}: ${now.stderr}`).toBe(0);
            }
        }
        await checks.expectNoSecretsOnEngine(
            engine,
            tierContainers(),
            [POSTGRES_IMAGE, PGBOUNCER_IMAGE, MINIO_IMAGE],
            [...oldSecrets, ...prod.run.secretValues()],
        );
    });
});
