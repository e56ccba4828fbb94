/** The local primary: rendered config, initdb with a root password, start/stop, provisioning. */
import { existsSync, rmSync } from "node:fs";
import { join } from "node:path";
import { describeFailure, minimalEnv, run } from "../jobs/proc";
import { PROVISION_SESSION_OPTIONS } from "../render/provision-sql";
import type { ClusterPlan } from "../plan/cluster-plan";
import { APP_SERVICE, APP_USER } from "../vocabulary";
import { asServer, ensureDir, writePrivate } from "./fsutil";
import { type Secrets, verifier } from "./secrets";
import { type Layout, LOCAL_ROOT_USER, type Ports, repoRoot, type Tools } from "./settings";
import { DEFAULT_STACK, envOverrides, localConfig } from "./stack";
import type { TlsPair } from "./tls";
import { receiverVerifier } from "./wal-receiver";

/**
 * WALG_COMPRESSION_METHOD of a loopback tier of the default stack: DBTIER_LOCAL_COMPRESSION,
 * else the dev stack's backup.compression (validated like `pulumi up` validates it).
 */
export function compression(env: NodeJS.ProcessEnv = process.env): "lz4" | "zstd" | "lzma" {
    return localConfig(DEFAULT_STACK, repoRoot(), envOverrides(env)).backup.compression;
}

/** The WAL-G env file: the plan's, with MinIO's root credentials standing in for the stack's storage keys. */
export function walgEnvText(plan: ClusterPlan, s: Secrets): string {
    return plan.walg.env({ accessKeyId: s.minio.user, secretAccessKey: s.minio.password, libsodiumKeyHex: s.libsodiumKeyHex });
}

/**
 * Writes the plan's postgresql.conf, pg_hba.conf, pg_ident.conf, walg.env and (with TLS) the
 * stand-in certificate and key, all owned by the server user; true if any changed.
 */
export function writeServerConfig(l: Layout, plan: ClusterPlan, s: Secrets, tls?: TlsPair): boolean {
    if (plan.provision.rootUser !== LOCAL_ROOT_USER) {
        throw new Error(
            `cluster ${plan.settings.cluster.name}: rootUser "${plan.provision.rootUser}": the loopback tier runs rootUser ${LOCAL_ROOT_USER} only`,
        );
    }
    if (plan.postgres.tls && !tls) throw new Error("the plan has TLS on (sslmode is not disable) but no certificate was given");
    ensureDir(l.pg, { mode: 0o700, server: true });
    const at = plan.placement.postgres;
    const changed = [
        writePrivate(l.pgConf, plan.postgres.postgresqlConf, { server: true }),
        writePrivate(at.hbaFile, plan.postgres.pgHba(at.clientNetworks ?? []), { server: true }),
        writePrivate(at.identFile, plan.postgres.pgIdent, { server: true }),
        writePrivate(at.walgEnvFile, walgEnvText(plan, s), { server: true }),
        ...(plan.postgres.tls && tls
            ? [
                  writePrivate(at.tlsCertFile, tls.certPem, { mode: 0o644, server: true }),
                  writePrivate(at.tlsKeyFile, tls.keyPem, { server: true }),
              ]
            : []),
    ];
    return changed.some(Boolean);
}

/** Root's pgpass line for the plan's backup job connection (host, port, role). */
export function writePgpass(plan: ClusterPlan, s: Secrets): void {
    const pg = plan.jobs.backup.postgres;
    writePrivate(pg.passfile, `${pg.host}:${pg.port}:*:${pg.user}:${s.roles[LOCAL_ROOT_USER].password}\n`);
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
            env: minimalEnv({ PGPASSFILE: l.pgpass, PGCONNECT_TIMEOUT: "10", PGOPTIONS: PROVISION_SESSION_OPTIONS }),
            timeoutMs: 120_000,
        },
    );
    if (r.code !== 0) throw new Error(describeFailure(`psql -f ${file}`, r));
    return r.stdout;
}

/** Runs the plan's provisioning script (roles, databases, grants, WAL-G compat functions); returns its JSON lines. */
export async function provision(l: Layout, t: Tools, plan: ClusterPlan, s: Secrets, p: Ports): Promise<string[]> {
    writePrivate(
        l.provisionSql,
        plan.provision.sql({
            root: verifier(s, LOCAL_ROOT_USER),
            appUser: verifier(s, APP_USER),
            appService: verifier(s, APP_SERVICE),
            ...(plan.provision.walReceiver ? { walReceiver: receiverVerifier(l) } : {}),
        }),
    );
    const out = await psqlFileAsRoot(l, t, p, l.provisionSql);
    return out.split("\n").filter((x) => x.trim() !== "");
}
