/**
 * Golden files: for each stack, the text the components declare under the mock runtime
 * (postgresql.conf, pg_hba.conf, pg_ident.conf, the WAL-G config keys, pgbouncer.ini and its
 * auth file, provisioning SQL, the backup-job and drill configs, bucket lifecycle rules) equals
 * test/golden/<stack>/ byte for byte, secrets and generated values masked. A renderer change
 * therefore shows as a reviewed diff of those files; regenerate them with UPDATE_GOLDEN=1.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import { deployStack } from "../../components";
import { readStackConfig } from "../../config/stack-config";
import { CONTAINER_PATHS, ROLE_LABEL } from "../../vocabulary";
import { compareGolden, GOLDEN_ROOT, maskEnvFile, maskScram, UPDATE_COMMAND } from "../support/golden";
import {
    installMocks,
    labelOf,
    loadStackConfig,
    PLACEHOLDER_SECRET,
    type RecordedResource,
    settle,
    uploadAt,
} from "../support/mock-runtime";

const CONTAINER = "docker:index/container:Container";
const LIFECYCLE = "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration";
const STACK_SECRETS = {
    "db-tier:storageAccessKeyId": "golden-access-key-id-0123456789",
    "db-tier:storageSecretAccessKey": "golden-secret-access-key-0123456789abcdef",
    "db-tier:tlsCertPem": "-----BEGIN CERTIFICATE-----\ngolden\n-----END CERTIFICATE-----\n",
    "db-tier:tlsKeyPem": "-----BEGIN PRIVATE KEY-----\ngolden-key\n-----END PRIVATE KEY-----\n",
};
const update = process.env.UPDATE_GOLDEN === "1";

/** Golden file name → [role, container path, mask] of the upload it holds, per cluster. */
const FILES: Record<string, [string, string, (t: string) => string]> = {
    "postgresql.conf": ["postgres", CONTAINER_PATHS.postgresConf, (t) => t],
    "pg_hba.conf": ["postgres", CONTAINER_PATHS.pgHba, (t) => t],
    "pg_ident.conf": ["postgres", CONTAINER_PATHS.pgIdent, (t) => t],
    "walg.env": ["postgres", CONTAINER_PATHS.walgEnv, maskEnvFile],
    "backup-walg.env": ["backup", CONTAINER_PATHS.walgEnv, maskEnvFile],
    "drill-walg.env": ["restore-drill", CONTAINER_PATHS.walgEnv, maskEnvFile],
    "pgbouncer.ini": ["pgbouncer", CONTAINER_PATHS.pgbouncerIni, (t) => t],
    "userlist.txt": ["pgbouncer", CONTAINER_PATHS.pgbouncerAuthFile, maskScram],
    "provision.sql": ["provisioner", CONTAINER_PATHS.provisionSql, maskScram],
    "backup.json": ["backup", CONTAINER_PATHS.backupConfig, (t) => t],
    "drill.json": ["restore-drill", CONTAINER_PATHS.drillConfig, (t) => t],
};

interface Rendered {
    files: Record<string, string>;
    /** Raw secret values of this run, none of which may reach a golden file. */
    secrets: string[];
}

async function render(stackName: string): Promise<Rendered> {
    const resources: RecordedResource[] = await installMocks(stackName);
    loadStackConfig(stackName, {}, stackName === "dev" ? {} : STACK_SECRETS);
    const { values, secrets } = readStackConfig();
    deployStack(values, secrets);
    await settle();
    const files: Record<string, string> = {};
    const raw: string[] = [PLACEHOLDER_SECRET, ...Object.values(STACK_SECRETS).filter((s) => !s.includes("CERTIFICATE"))];
    const containers = resources.filter((r) => r.type === CONTAINER);
    const clusters = [...new Set(containers.map((c) => labelOf(c, "db-tier.cluster")).filter((c): c is string => !!c))].sort();
    for (const cluster of clusters) {
        const byRole = (role: string) => {
            const hits = containers.filter((c) => labelOf(c, "db-tier.cluster") === cluster && labelOf(c, ROLE_LABEL) === role);
            expect(hits.length, `${stackName} ${cluster} ${role}`).toBe(1);
            return hits[0];
        };
        for (const [name, [role, file, mask]] of Object.entries(FILES)) {
            const text = uploadAt(byRole(role), file);
            expect(text, `${stackName} ${cluster} ${role} ${file}`).toBeTypeOf("string");
            files[`${cluster}/${name}`] = mask(text!);
        }
        raw.push(uploadAt(byRole("postgres"), CONTAINER_PATHS.rootPasswordFile)!.trim());
        for (const line of uploadAt(byRole("postgres"), CONTAINER_PATHS.walgEnv)!.split("\n")) {
            const m = /^(AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|WALG_LIBSODIUM_KEY)='(.*)'$/.exec(line);
            if (m) raw.push(m[2]);
        }
    }
    const lifecycles = resources
        .filter((r) => r.type === LIFECYCLE)
        .map((r) => ({ resource: r.name, bucket: r.inputs.bucket, rules: r.inputs.rules }));
    expect(lifecycles.length, `${stackName} lifecycle configurations`).toBeGreaterThan(0);
    files["lifecycle.json"] = `${JSON.stringify(lifecycles, null, 2)}\n`;
    return { files, secrets: raw.filter((s) => s.length >= 8) };
}

beforeAll(() => {
    // Secret files are written relative to the working directory; keep this run's out of the repository.
    process.chdir(fs.mkdtempSync(path.join(os.tmpdir(), "golden-")));
});

for (const stackName of ["dev", "preview", "production"]) {
    describe(`golden files of stack ${stackName}`, () => {
        let r: Rendered;
        beforeAll(async () => {
            r = await render(stackName);
        }, 120_000);

        it("renders the files of every cluster and the lifecycle rules", () => {
            const clusters = stackName === "dev" ? ["app"] : ["app", "temporal"];
            const want = [...clusters.flatMap((c) => Object.keys(FILES).map((f) => `${c}/${f}`)), "lifecycle.json"].sort();
            expect(Object.keys(r.files).sort()).toEqual(want);
        });

        it("masks every secret of the run: no key, password or verifier reaches a golden file", () => {
            expect(r.secrets.length).toBeGreaterThanOrEqual(4);
            for (const [name, text] of Object.entries(r.files)) {
                for (const s of r.secrets) expect(text.includes(s), `${name} holds a secret value`).toBe(false);
                expect(text, name).not.toMatch(/SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]{8,}\$/);
            }
        });

        it(`equals test/golden/${stackName}/ byte for byte`, () => {
            const problems = compareGolden(path.join(GOLDEN_ROOT, stackName), r.files, update);
            const message = `${problems.join("\n\n")}\n\nIf the change is intended, regenerate and review the diff:\n  ${UPDATE_COMMAND}`;
            if (problems.length > 0) expect.fail(message);
            expect(problems).toEqual([]);
        });
    });
}
