/** The local primary: rendered config, initdb with a root password, start/stop, provisioning. */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describeFailure, minimalEnv, run } from "../jobs/proc";
import { renderPgHba } from "../render/pg-hba";
import { renderPostgresqlConf } from "../render/postgresql-conf";
import { renderProvisionSql } from "../render/provision-sql";
import { renderWalgEnv, walgPrefix } from "../render/walg-env";
import { WAL_RECEIVER_ROLE } from "../render/wal-receive";
import { backupSchema } from "../config/schema";
import { receiverVerifier, streamingEnabled } from "./wal-receiver";
import { APP_SERVICE, APP_USER } from "../vocabulary";
import { asServer, ensureDir, writePrivate } from "./fsutil";
import { endpoint, MINIO_REGION } from "./minio";
import { type Secrets, verifier } from "./secrets";
import {
    LOCAL_BUCKET,
    LOCAL_CLUSTER,
    LOCAL_DATABASE,
    LOCAL_ENVIRONMENT,
    LOCAL_ROOT_USER,
    type Layout,
    type Ports,
    type Tools,
} from "./settings";

export const RPO_SECONDS = 60;

/**
 * archive_timeout of the local tier: RPO_SECONDS, or DBTIER_LOCAL_RPO_SECONDS at `up` (the
 * RPO benchmark compares settings). Validated like backup.rpoSeconds.
 */
export function rpoSeconds(env: NodeJS.ProcessEnv = process.env): number {
    const raw = env.DBTIER_LOCAL_RPO_SECONDS;
    if (raw === undefined || raw === "") return RPO_SECONDS;
    return backupSchema.parse({ rpoSeconds: Number(raw) }).rpoSeconds;
}

/** WALG_COMPRESSION_METHOD of the local tier: the config's default, or DBTIER_LOCAL_COMPRESSION. */
export function compression(env: NodeJS.ProcessEnv = process.env): "lz4" | "zstd" | "lzma" {
    const raw = env.DBTIER_LOCAL_COMPRESSION;
    return backupSchema.parse(raw === undefined || raw === "" ? {} : { compression: raw }).compression;
}

export function walgEnvText(s: Secrets, p: Ports): string {
    return renderWalgEnv({
        s3Prefix: walgPrefix(LOCAL_BUCKET, LOCAL_ENVIRONMENT, LOCAL_CLUSTER),
        endpoint: endpoint(p.minio),
        region: MINIO_REGION,
        accessKeyId: s.minio.user,
        secretAccessKey: s.minio.password,
        compression: compression(),
        libsodiumKeyHex: s.libsodiumKeyHex,
        uploadConcurrency: 4,
        downloadConcurrency: 4,
    });
}

export function postgresqlConfText(l: Layout, t: Tools, p: Ports): string {
    return renderPostgresqlConf({
        listenAddresses: "127.0.0.1",
        port: p.postgres,
        maxConnections: 100,
        sharedBuffers: "128MB",
        hbaFile: l.pgHba,
        unixSocketDirectories: "",
        archive: { walgBinary: l.walg, walgEnvFile: l.walgEnv, rpoSeconds: rpoSeconds(), pushTimeoutSeconds: 60, fetchTimeoutSeconds: 60 },
    });
}

/** Writes postgresql.conf, pg_hba.conf and walg.env (owned by the server user); true if any changed. */
export function writeServerConfig(l: Layout, t: Tools, s: Secrets, p: Ports): boolean {
    ensureDir(l.pg, { mode: 0o700, server: true });
    const a = writePrivate(l.pgConf, postgresqlConfText(l, t, p), { server: true });
    const b = writePrivate(
        l.pgHba,
        renderPgHba({ localPeer: false, ...(streamingEnabled(l) ? { replicationRole: WAL_RECEIVER_ROLE } : {}) }),
        { server: true },
    );
    const c = writePrivate(l.walgEnv, walgEnvText(s, p), { server: true });
    return a || b || c;
}

export function writePgpass(l: Layout, s: Secrets, p: Ports): void {
    writePrivate(l.pgpass, `127.0.0.1:${p.postgres}:*:${LOCAL_ROOT_USER}:${s.roles[LOCAL_ROOT_USER].password}\n`);
}

export async function initdb(l: Layout, t: Tools, s: Secrets): Promise<boolean> {
    if (existsSync(join(l.pgData, "PG_VERSION"))) return false;
    ensureDir(l.pg, { mode: 0o700, server: true });
    const pwfile = join(l.pg, "initdb-password");
    writePrivate(pwfile, `${s.roles[LOCAL_ROOT_USER].password}\n`, { server: true });
    try {
        const [cmd, args] = asServer([
            join(t.pgBinDir, "initdb"),
            "-D",
            l.pgData,
            "-U",
            LOCAL_ROOT_USER,
            "--auth=scram-sha-256",
            `--pwfile=${pwfile}`,
            "-E",
            "UTF8",
            "--locale=C",
        ]);
        const r = await run(cmd, args, { timeoutMs: 120_000 });
        if (r.code !== 0) throw new Error(describeFailure("initdb", r));
    } finally {
        rmSync(pwfile, { force: true });
    }
    return true;
}

export async function postgresStatus(l: Layout, t: Tools): Promise<boolean> {
    if (!existsSync(join(l.pgData, "PG_VERSION"))) return false;
    const [cmd, args] = asServer([join(t.pgBinDir, "pg_ctl"), "status", "-D", l.pgData]);
    return (await run(cmd, args)).code === 0;
}

export async function startPostgres(l: Layout, t: Tools): Promise<boolean> {
    if (await postgresStatus(l, t)) return false;
    const [cmd, args] = asServer([
        join(t.pgBinDir, "pg_ctl"),
        "start",
        "-D",
        l.pgData,
        "-l",
        l.pgLog,
        "-w",
        "-t",
        "60",
        "-o",
        `-c config_file=${l.pgConf}`,
    ]);
    // The postmaster, its backends and every archive_command (so wal-g) inherit this
    // environment for the server's whole life: the system PATH and the locale, nothing of
    // the caller's (DSNs, cloud keys). WAL-G's keys come from walg.env, sourced per call.
    const r = await run(cmd, args, { timeoutMs: 90_000, env: minimalEnv() });
    if (r.code !== 0) throw new Error(`${describeFailure("pg_ctl start", r)} (see ${l.pgLog})`);
    return true;
}

export async function reloadPostgres(l: Layout, t: Tools): Promise<void> {
    const [cmd, args] = asServer([join(t.pgBinDir, "pg_ctl"), "reload", "-D", l.pgData]);
    await run(cmd, args);
}

export async function stopPostgres(l: Layout, t: Tools, dataDir = l.pgData): Promise<void> {
    if (!existsSync(join(dataDir, "postmaster.pid"))) return;
    const [cmd, args] = asServer([join(t.pgBinDir, "pg_ctl"), "stop", "-D", dataDir, "-m", "fast", "-w", "-t", "60"]);
    await run(cmd, args, { timeoutMs: 90_000 });
}

/** Runs a psql script as root over TCP (password from the pgpass file); returns stdout. */
export async function psqlFileAsRoot(l: Layout, t: Tools, p: Ports, file: string, database = "postgres"): Promise<string> {
    const r = await run(
        join(t.pgBinDir, "psql"),
        [
            "-X",
            "-q",
            "-At",
            "-v",
            "ON_ERROR_STOP=1",
            "-h",
            "127.0.0.1",
            "-p",
            String(p.postgres),
            "-U",
            LOCAL_ROOT_USER,
            "-d",
            database,
            "-f",
            file,
        ],
        {
            env: minimalEnv({ PGPASSFILE: l.pgpass, PGCONNECT_TIMEOUT: "10" }),
            timeoutMs: 120_000,
        },
    );
    if (r.code !== 0) throw new Error(describeFailure(`psql -f ${file}`, r));
    return r.stdout;
}

/** Renders and runs the provisioning script (roles, databases, grants, WAL-G compat functions); returns its JSON lines. */
export async function provision(l: Layout, t: Tools, s: Secrets, p: Ports): Promise<string[]> {
    writePrivate(
        l.provisionSql,
        renderProvisionSql({
            rootUser: LOCAL_ROOT_USER,
            rootVerifier: verifier(s, LOCAL_ROOT_USER),
            appUserVerifier: verifier(s, APP_USER),
            appServiceVerifier: verifier(s, APP_SERVICE),
            databases: [LOCAL_DATABASE],
            ...(streamingEnabled(l) ? { walReceiverVerifier: receiverVerifier(l) } : {}),
        }),
    );
    const out = await psqlFileAsRoot(l, t, p, l.provisionSql);
    return out.split("\n").filter((x) => x.trim() !== "");
}
