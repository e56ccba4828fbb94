/**
 * Each stack's config, run through the same code as index.ts under the mock runtime,
 * builds the graph the contract describes: containers, networks, labels, memberships.
 */
import { beforeAll, describe, expect, it } from "vitest";
import { deployStack, type DeployedStack } from "../../components";
import { readStackConfig } from "../../config/stack-config";
import { DB_ONLY_MEMBERS, NETWORK_LABEL, ROLE_LABEL } from "../../vocabulary";
import { installMocks, labelOf, loadStackConfig, type RecordedResource, settle } from "../support/mock-runtime";

const CONTAINER = "docker:index/container:Container";
const NETWORK = "docker:index/network:Network";

interface Built {
    stack: DeployedStack;
    resources: RecordedResource[];
}

async function build(name: string): Promise<Built> {
    const resources = await installMocks(name);
    loadStackConfig(
        name,
        {},
        name === "dev"
            ? {}
            : {
                  "db-tier:storageAccessKeyId": "test-access-key-id-0123456789",
                  "db-tier:storageSecretAccessKey": "test-secret-access-key-0123456789abcdef",
                  "db-tier:tlsCertPem": "-----BEGIN CERTIFICATE-----\ntest\n-----END CERTIFICATE-----\n",
                  "db-tier:tlsKeyPem": "-----BEGIN PRIVATE KEY-----\ntest\n-----END PRIVATE KEY-----\n",
              },
    );
    const { values, secrets } = readStackConfig();
    const stack = deployStack(values, secrets);
    await settle();
    return { stack, resources };
}

function containers(b: Built): RecordedResource[] {
    return b.resources.filter((r) => r.type === CONTAINER);
}

function networkKind(b: Built, dockerName: string): string | undefined {
    const n = b.resources.find((r) => r.type === NETWORK && r.inputs.name === dockerName);
    return n ? labelOf(n, NETWORK_LABEL) : undefined;
}

function memberships(b: Built, c: RecordedResource): string[] {
    return (c.inputs.networksAdvanced ?? []).map((n: { name: string }) => networkKind(b, n.name) ?? `unlabeled:${n.name}`).sort();
}

const expectations = {
    dev: { clusters: ["app"], objectStore: true },
    preview: { clusters: ["app", "temporal"], objectStore: false },
    production: { clusters: ["app", "temporal"], objectStore: false },
} as const;

for (const [stackName, want] of Object.entries(expectations)) {
    describe(`stack ${stackName}`, () => {
        let b: Built;
        beforeAll(async () => {
            b = await build(stackName);
        });

        it("creates the five tier containers per cluster, each labelled with its role", () => {
            const roles = containers(b)
                .map((c) => `${labelOf(c, "db-tier.cluster") ?? "-"}:${labelOf(c, ROLE_LABEL)}`)
                .sort();
            const expected = want.clusters.flatMap((k) =>
                ["backup", "pgbouncer", "postgres", "provisioner", "restore-drill"].map((r) => `${k}:${r}`),
            );
            if (want.objectStore) expected.push("-:object-store");
            expect(roles).toEqual(expected.sort());
        });

        it("creates db-only (internal), app and backup-egress networks per cluster", () => {
            const nets = b.resources
                .filter((r) => r.type === NETWORK)
                .map((n) => `${n.inputs.name}:${labelOf(n, NETWORK_LABEL)}:${n.inputs.internal}`)
                .sort();
            const env = b.stack.config.environment;
            expect(nets).toEqual(
                want.clusters
                    .flatMap((k) => [
                        `${env}-${k}-app:app:false`,
                        `${env}-${k}-backup-egress:backup-egress:false`,
                        `${env}-${k}-db-only:db-only:true`,
                    ])
                    .sort(),
            );
        });

        it("keeps Postgres on db-only and backup-egress only, publishing nothing", () => {
            for (const c of containers(b).filter((c) => labelOf(c, ROLE_LABEL) === "postgres")) {
                expect(memberships(b, c)).toEqual(["backup-egress", "db-only"]);
                expect(c.inputs.ports ?? []).toEqual([]);
            }
        });

        it("gives applications only pgbouncer on the app network", () => {
            const onApp = containers(b)
                .filter((c) => memberships(b, c).includes("app"))
                .map((c) => labelOf(c, ROLE_LABEL));
            expect([...new Set(onApp)]).toEqual(["pgbouncer"]);
            for (const c of containers(b).filter((c) => memberships(b, c).includes("db-only"))) {
                expect(DB_ONLY_MEMBERS).toContain(labelOf(c, ROLE_LABEL));
            }
        });

        it("binds every published host port to 127.0.0.1 on dev and publishes nothing elsewhere", () => {
            const published = containers(b).flatMap((c) =>
                (c.inputs.ports ?? []).map((p: { ip: string }) => `${labelOf(c, ROLE_LABEL)}@${p.ip}`),
            );
            if (stackName === "dev") expect(published.sort()).toEqual(["object-store@127.0.0.1", "pgbouncer@127.0.0.1"]);
            else expect(published).toEqual([]);
        });

        it("never puts a secret-like value in a container's environment", () => {
            for (const c of containers(b)) {
                for (const env of c.inputs.envs ?? []) {
                    const [key, value] = String(env).split(/=(.*)/s);
                    if (/PASSWORD|SECRET|KEY|TOKEN/.test(key)) {
                        expect(key, `${c.name}: ${key}`).toMatch(/_FILE$/);
                        expect(value).toMatch(/^\//);
                    }
                }
            }
        });

        it("runs the drill at least monthly and the backup daily, via the container env", () => {
            const envOf = (role: string) =>
                containers(b)
                    .filter((c) => labelOf(c, ROLE_LABEL) === role)
                    .map((c) => c.inputs.envs as string[]);
            for (const envs of envOf("backup")) expect(envs.some((e) => e.startsWith("DBTIER_BACKUP_SCHEDULE="))).toBe(true);
            for (const envs of envOf("restore-drill")) expect(envs.some((e) => e.startsWith("DBTIER_DRILL_SCHEDULE="))).toBe(true);
        });

        it("routes the provider-specific bucket through a custom-endpoint aws provider", () => {
            const provider = b.resources.find((r) => r.type === "pulumi:providers:aws");
            // Provider configuration reaches the engine as strings.
            expect(String(provider?.inputs.s3UsePathStyle)).toBe("true");
            expect(String(provider?.inputs.skipCredentialsValidation)).toBe("true");
            expect(String(provider?.inputs.skipRequestingAccountId)).toBe("true");
            expect(String(provider?.inputs.skipRegionValidation)).toBe("true");
            const endpoint = JSON.stringify(provider?.inputs.endpoints);
            if (stackName === "dev") expect(endpoint).toContain("http://127.0.0.1:19000");
            if (stackName === "preview") {
                expect(endpoint).toContain("r2.cloudflarestorage.com");
                expect(provider?.inputs.region).toBe("auto");
            }
            if (stackName === "production") {
                expect(endpoint).toContain("backblazeb2.com");
                expect(provider?.inputs.region).toBe("us-west-004");
            }
        });
    });
}
