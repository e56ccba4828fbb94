/**
 * The pure renderers: exact shapes that the policies and the real-binary tests rely on.
 * (That Postgres, pgBouncer and WAL-G accept this text is proven in test/integration.)
 */
import { describe, expect, it } from "vitest";
import { renderLifecycleRules } from "../../render/lifecycle";
import { archiveCommand, renderPostgresqlConf, restoreCommand } from "../../render/postgresql-conf";
import { renderPgbouncerAuthFile, renderPgbouncerIni } from "../../render/pgbouncer";
import { renderProvisionSql } from "../../render/provision-sql";
import { scramVerifier } from "../../render/scram";
import { renderWalgEnv, walgPrefix } from "../../render/walg-env";

const archive = {
    walgBinary: "/usr/local/bin/wal-g",
    walgEnvFile: "/run/db-tier/walg.env",
    rpoSeconds: 60,
    pushTimeoutSeconds: 120,
    fetchTimeoutSeconds: 300,
};

describe("postgresql.conf", () => {
    const conf = renderPostgresqlConf({
        listenAddresses: "*",
        port: 5432,
        maxConnections: 100,
        sharedBuffers: "128MB",
        hbaFile: "/etc/postgresql/pg_hba.conf",
        unixSocketDirectories: "/var/run/postgresql",
        archive,
    });

    it("turns archiving on with a bounded wal-push and archive_timeout = RPO", () => {
        expect(conf).toMatch(/^wal_level = replica$/m);
        expect(conf).toMatch(/^archive_mode = on$/m);
        expect(conf).toMatch(/^archive_timeout = 60$/m);
        expect(archiveCommand(archive)).toBe(
            `set -a && . '/run/db-tier/walg.env' && set +a && timeout -k 10 120 '/usr/local/bin/wal-g' wal-push "%p"`,
        );
        // Inside the conf the shell's single quotes are doubled.
        expect(conf).toContain(
            `archive_command = 'set -a && . ''/run/db-tier/walg.env'' && set +a && timeout -k 10 120 ''/usr/local/bin/wal-g'' wal-push "%p"'`,
        );
    });

    it("ends recovery only on WAL-G's missing-segment exit and aborts on any other failure", () => {
        const cmd = restoreCommand(archive);
        expect(cmd).toContain(`wal-fetch "%f" "%p"`);
        // exit 74 (WAL-G v3: no such object) and nothing else; no message parsing
        expect(cmd).toContain("[ $rc -eq 74 ]");
        expect(cmd).not.toContain("grep");
        expect(cmd).toMatch(/exit 200$/);
    });

    it("never logs statements and stores SCRAM passwords", () => {
        expect(conf).toMatch(/^log_statement = 'none'$/m);
        expect(conf).toMatch(/^password_encryption = 'scram-sha-256'$/m);
    });
});

describe("WAL-G env file", () => {
    const env = renderWalgEnv({
        s3Prefix: walgPrefix("db-tier-dev", "dev", "app"),
        endpoint: "http://object-store:9000",
        region: "us-east-1",
        accessKeyId: "AKID",
        secretAccessKey: "it's-a-secret",
        compression: "lz4",
        libsodiumKeyHex: "ab".repeat(32),
        uploadConcurrency: 4,
        downloadConcurrency: 4,
    });
    it("shell-quotes every value and enables encryption and overwrite protection", () => {
        expect(env).toContain("WALG_S3_PREFIX='s3://db-tier-dev/dev/app'");
        expect(env).toContain(`AWS_SECRET_ACCESS_KEY='it'\\''s-a-secret'`);
        expect(env).toContain(`WALG_LIBSODIUM_KEY='${"ab".repeat(32)}'`);
        expect(env).toContain("WALG_LIBSODIUM_KEY_TRANSFORM='hex'");
        expect(env).toContain("WALG_PREVENT_WAL_OVERWRITE='true'");
        expect(env).toContain("AWS_S3_FORCE_PATH_STYLE='true'");
    });
    it("refuses a key that is not 32 bytes of hex", () => {
        expect(() =>
            renderWalgEnv({
                s3Prefix: "s3://b-1/x",
                endpoint: "e",
                region: "r",
                accessKeyId: "a",
                secretAccessKey: "s",
                compression: "lz4",
                libsodiumKeyHex: "abc",
                uploadConcurrency: 1,
                downloadConcurrency: 1,
            }),
        ).toThrow("64 lowercase hex");
    });
});

describe("pgbouncer", () => {
    const ini = renderPgbouncerIni({
        listenAddr: "*",
        listenPort: 6432,
        postgresHost: "postgres",
        postgresPort: 5432,
        databases: ["app"],
        authFile: "/etc/pgbouncer/userlist.txt",
        defaultPoolSize: 20,
        maxClientConn: 1000,
        maxDbConnections: 90,
    });
    it("closes the admin console and allows SCRAM only", () => {
        for (const line of [
            "auth_type = scram-sha-256",
            "admin_users = ",
            "stats_users = ",
            "unix_socket_dir = ",
            "listen_port = 6432",
            "default_pool_size = 20",
            "max_client_conn = 1000",
        ]) {
            expect(ini.split("\n")).toContain(line);
        }
        expect(ini).toContain("app = host=postgres port=5432 dbname=app pool_mode=transaction");
        expect(ini).toContain("app_migrate = host=postgres port=5432 dbname=app pool_mode=session");
        expect(ini).not.toMatch(/user=/);
    });
    it("writes verifiers only, never a plaintext password", () => {
        const v = scramVerifier("a".repeat(40), Buffer.alloc(16, 1).toString("base64"));
        expect(renderPgbouncerAuthFile([{ user: "app_user", verifier: v }])).toBe(`"app_user" "${v}"\n`);
        expect(() => renderPgbouncerAuthFile([{ user: "app_user", verifier: "a".repeat(40) }])).toThrow("has no SCRAM verifier");
    });
});

describe("provisioning SQL", () => {
    const salt = Buffer.alloc(16, 2).toString("base64");
    const input = {
        rootUser: "postgres",
        rootVerifier: scramVerifier("r".repeat(40), salt),
        appUserVerifier: scramVerifier("u".repeat(40), salt),
        appServiceVerifier: scramVerifier("s".repeat(40), salt),
        databases: ["app", "litellm"],
    };
    const sql = renderProvisionSql(input);
    it("always ALTERs every role with its verifier and attributes", () => {
        expect(sql).toContain(
            `ALTER ROLE "app_user" WITH LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION INHERIT NOBYPASSRLS PASSWORD '${input.appUserVerifier}';`,
        );
        expect(sql).toContain(
            `ALTER ROLE "app_service" WITH LOGIN NOSUPERUSER NOCREATEROLE NOCREATEDB NOREPLICATION INHERIT BYPASSRLS PASSWORD '${input.appServiceVerifier}';`,
        );
        expect(sql).toContain(`ALTER ROLE "postgres" WITH PASSWORD '${input.rootVerifier}';`);
    });
    it("creates each database only when missing and stops on the first error", () => {
        expect(sql).toMatch(/^\\set ON_ERROR_STOP on$/m);
        expect(sql).toContain(`SELECT format('CREATE DATABASE %I OWNER %I', 'litellm', 'postgres')`);
        // One CREATE DATABASE per database, plus the one that closes every database to PUBLIC.
        expect(sql.match(/CREATE DATABASE %I OWNER %I[^\n]*\n[^\n]*\\gexec/g)).toHaveLength(2);
        expect(sql).toContain("REVOKE ALL ON DATABASE %I FROM PUBLIC");
    });
    it("contains no plaintext password", () => {
        for (const p of ["r", "u", "s"]) expect(sql).not.toContain(p.repeat(40));
    });
});

describe("lifecycle rules", () => {
    it("never expires backup prefixes inside the window they were configured for", () => {
        for (const provider of ["minio", "r2", "b2"] as const) {
            const rules = renderLifecycleRules({ provider, backupPrefixes: ["dev/app/"], safetyNetDays: 90, evidenceDays: 400 });
            for (const r of rules.filter((r) => r.expirationDays !== undefined && r.prefix !== "restore-tests/"))
                expect(r.expirationDays).toBe(90);
            expect(rules.some((r) => r.abortIncompleteMultipartUploadDays !== undefined)).toBe(provider !== "minio");
            expect(rules.some((r) => r.noncurrentVersionExpirationDays !== undefined)).toBe(provider === "b2");
        }
    });
});
