/** The verbs of `npm run local -- VERB`, one function each. Progress goes to stderr. */
import {
    chmodSync,
    copyFileSync,
    existsSync,
    mkdirSync,
    readFileSync,
    renameSync,
    rmSync,
    statSync,
    utimesSync,
    writeFileSync,
} from "node:fs";
import { dirname, join } from "node:path";
import { runBackup } from "../jobs/backup-job";
import { type DrillArgs, runDrill } from "../jobs/restore-drill";
import { buildDsn } from "../render/dsn";
import type { BackupJobConfig, DrillJobConfig } from "../render/job-config";
import { renderJobConfig } from "../render/job-config";
import { shellQuote, sqlIdent, sqlLiteral } from "../render/quote";
import { APP_SERVICE, APP_USER, MIGRATE_ALIAS_SUFFIX } from "../vocabulary";
import { ensureDir, writePrivate } from "./fsutil";
import { endpoint, ensureBucket, standInRules, startMinio, stopMinio } from "./minio";
import { type LocalTier, localTier, type Selection } from "./plan";
import { standInTls, type TlsPair } from "./tls";
import { receiverRunning, rotateReceiverSecret, startWalReceiver, stopWalReceiver } from "./wal-receiver";
import { pgbouncerRunning, reloadPgbouncer, startPgbouncer, stopPgbouncer, writePgbouncerConfig } from "./pgbouncer";
import { initdb, provision, psqlFileAsRoot, reloadPostgres, startPostgres, stopPostgres, writePgpass, writeServerConfig } from "./postgres";
import { generateSecrets, loadSecrets, rotated, saveSecrets, type Secrets, verifier } from "./secrets";
import { LOCAL_ROOT_USER, type Layout, layout, missingTools, type Ports, ports, stateDir, type Tools, tools } from "./settings";

export interface Ctx {
    readonly l: Layout;
    readonly p: Ports;
    readonly t: Tools;
    /** The stack, cluster and plan this tier runs (local/plan.ts). */
    readonly tier: LocalTier;
    readonly out: (line: string) => void;
    readonly info: (line: string) => void;
}

export function context(env: NodeJS.ProcessEnv = process.env, ask: Selection = {}): Ctx {
    const l = layout(stateDir(env));
    const p = ports(l, env);
    const t = tools(env);
    let tier: LocalTier | undefined;
    return {
        l,
        p,
        t,
        // Computed on first use: `down` must work even when the stack file no longer validates.
        get tier(): LocalTier {
            tier ??= localTier(l, p, t, ask, env);
            return tier;
        },
        out: (line) => process.stdout.write(`${line}\n`),
        info: (line) => process.stderr.write(`local: ${line}\n`),
    };
}

function requireSecrets(c: Ctx): Secrets {
    const s = loadSecrets(c.l.secrets);
    if (!s) throw new Error(`no local tier in ${c.l.state}: run \`npm run local -- up\` first`);
    return s;
}

export function backupConfig(c: Ctx): BackupJobConfig {
    return c.tier.plan.jobs.backup;
}

/** The plan's drill config, with the checks of drill-checks.json (tests, an operator's rehearsal) on top. */
export function drillConfig(c: Ctx): DrillJobConfig {
    const base = c.tier.plan.jobs.drill;
    if (!existsSync(c.l.drillChecks)) return base;
    const o = JSON.parse(readFileSync(c.l.drillChecks, "utf8")) as Partial<
        Pick<DrillJobConfig, "tables" | "minRows" | "schemaQuery" | "rtoSeconds" | "database" | "amcheck" | "windowSeconds">
    >;
    return { ...base, ...o };
}

/** A copy of wal-g in the state dir, runnable by the server user (archive/restore commands). */
function installWalg(c: Ctx): void {
    ensureDir(dirname(c.l.walg), { mode: 0o755 });
    const src = statSync(c.t.walg);
    const same = existsSync(c.l.walg) && statSync(c.l.walg).size === src.size && statSync(c.l.walg).mtimeMs === src.mtimeMs;
    if (same) return;
    const tmp = `${c.l.walg}.tmp-${process.pid}`;
    copyFileSync(c.t.walg, tmp);
    chmodSync(tmp, 0o755);
    utimesSync(tmp, src.atime, src.mtime);
    renameSync(tmp, c.l.walg);
}

export async function up(c: Ctx): Promise<void> {
    const missing = missingTools(c.t);
    if (missing.length > 0) throw new Error(`missing tools: ${missing.join(", ")} (run scripts/install-tools.sh)`);
    const { plan, bucket, stack, cluster, config } = c.tier;
    c.info(
        `stack ${stack}, cluster ${cluster}${config.clusters.length > 1 ? ` (of ${config.clusters.map((k) => k.name).join(", ")}; --cluster NAME for another)` : ""}`,
    );
    ensureDir(c.l.state, { mode: 0o755 });
    ensureDir(c.l.logs, { mode: 0o755 });
    let secrets = loadSecrets(c.l.secrets);
    if (!secrets) {
        secrets = generateSecrets();
        saveSecrets(c.l.secrets, secrets);
        c.info("generated secrets (MinIO credentials stand in for the stack's storage keys; libsodium key, role passwords and salts)");
    }
    const walStreaming = plan.walReceiver.enabled;
    writeFileSync(c.l.tierJson, `${JSON.stringify({ ports: c.p, stack, cluster, walStreaming }, null, 2)}\n`);
    installWalg(c);
    let tls: TlsPair | undefined;
    if (plan.postgres.tls) {
        tls = await standInTls(c.l);
        c.info(`sslmode ${plan.settings.sslmode}: a self-signed certificate stands in for db-tier:tlsCertPem/tlsKeyPem`);
    }

    if (await startMinio(c.l, c.t, secrets, c.p.minio))
        c.info(`MinIO started on ${endpoint(c.p.minio)} (standing in for ${config.storage.provider})`);
    await ensureBucket(secrets, c.p.minio, bucket);
    const left = bucket.rules.filter((r) => !standInRules(bucket).includes(r)).map((r) => r.id);
    c.info(
        `bucket ${bucket.bucketName} has its lifecycle rules${left.length ? ` (left out on the MinIO stand-in: ${left.join(", ")})` : ""}`,
    );

    const changed = writeServerConfig(c.l, plan, secrets, tls);
    if (await initdb(c.l, c.t, secrets)) c.info(`initdb: ${c.l.pgData}`);
    writePgpass(plan, secrets);
    if (await startPostgres(c.l, c.t)) c.info(`Postgres started on 127.0.0.1:${c.p.postgres} (WAL-G archiving to ${plan.walg.prefix})`);
    else if (changed) await reloadPostgres(c.l, c.t);

    for (const line of await provision(c.l, c.t, plan, secrets, c.p)) c.out(line);

    const pgbChanged = writePgbouncerConfig(c.l, secrets, c.p, undefined, plan, tls);
    if (await startPgbouncer(c.l, c.t, c.p, plan.pgbouncer.nofile)) c.info(`pgBouncer started on 127.0.0.1:${c.p.pgbouncer}`);
    else if (pgbChanged) reloadPgbouncer(c.l);

    if (walStreaming) {
        if (startWalReceiver(c.l, plan)) c.info("WAL receiver started (wal-g wal-receive over a replication slot)");
    } else if (receiverRunning(c.l)) {
        await stopWalReceiver(c.l);
        c.info("WAL receiver stopped (streaming is off)");
    }

    writePrivate(c.l.backupJson, renderJobConfig(backupConfig(c)), { mode: 0o644 });
    writePrivate(c.l.drillJson, renderJobConfig(drillConfig(c)), { mode: 0o644 });
    c.info(`up: state in ${c.l.state}`);
}

export function envLines(c: Ctx): string[] {
    const s = requireSecrets(c);
    const { settings } = c.tier.plan;
    const database = settings.cluster.databases[0];
    const dsn = (user: string, port: number, db: string): string =>
        buildDsn({ user, password: s.roles[user].password, host: "127.0.0.1", port, database: db, sslmode: settings.sslmode });
    const vars: [string, string][] = [
        ["DATABASE_URL", dsn(APP_USER, c.p.pgbouncer, database)],
        ["DATABASE_SERVICE_URL", dsn(APP_SERVICE, c.p.pgbouncer, database)],
        ["DATABASE_ROOT_URL", dsn(LOCAL_ROOT_USER, c.p.postgres, database)],
        // app_user through the session-mode alias: migrations, prepared statements.
        ["DATABASE_MIGRATE_URL", dsn(APP_USER, c.p.pgbouncer, `${database}${MIGRATE_ALIAS_SUFFIX}`)],
        ["PGBOUNCER_PORT", String(c.p.pgbouncer)],
        ["POSTGRES_PORT", String(c.p.postgres)],
        ["S3_ENDPOINT", endpoint(c.p.minio)],
        ["S3_BUCKET", c.tier.bucket.bucketName],
        // Tier-specific names, never AWS_*: `eval "$(npm run -s local -- env)"` must not
        // shadow the user's own cloud credentials in that shell.
        ["S3_ACCESS_KEY_ID", s.minio.user],
        ["S3_SECRET_ACCESS_KEY", s.minio.password],
        ["WALG_ENV_FILE", c.l.walgEnv],
    ];
    return vars.map(([k, v]) => `export ${k}=${shellQuote(v)}`);
}

/**
 * New passwords for every role, converged like a deploy would. Root goes first, on its own:
 * the provisioning script reconnects (\connect) per database, and each reconnect reads the
 * pgpass file again, so a script that changes root's password midway cannot finish with
 * either the old or the new password. So: (1) ALTER ROLE root with the old password, keep
 * the new one; (2) the whole rendered provisioning with the new one (root then "unchanged",
 * the application roles "updated"). Each step prints its JSON evidence lines.
 */
export async function rotate(c: Ctx): Promise<void> {
    const old = requireSecrets(c);
    const next = rotated(old);
    writePgpass(c.tier.plan, old);
    c.out(await alterRootPassword(c, verifier(next, LOCAL_ROOT_USER)));
    const rootDone: Secrets = { ...old, roles: { ...old.roles, [LOCAL_ROOT_USER]: next.roles[LOCAL_ROOT_USER] } };
    saveSecrets(c.l.secrets, rootDone);
    writePgpass(c.tier.plan, rootDone);
    // The WAL receiver's role too: provisioning converges it to the new secret, then the
    // receiver restarts with the new password file (its open stream was authenticated with the old one).
    const streaming = c.tier.plan.walReceiver.enabled;
    if (streaming) rotateReceiverSecret(c.l);
    for (const line of await provision(c.l, c.t, c.tier.plan, next, c.p)) c.out(line);
    saveSecrets(c.l.secrets, next);
    writePgbouncerConfig(c.l, next, c.p, undefined, c.tier.plan);
    if (pgbouncerRunning(c.l)) reloadPgbouncer(c.l);
    if (streaming && receiverRunning(c.l)) {
        await stopWalReceiver(c.l);
        startWalReceiver(c.l, c.tier.plan);
    }
    c.info(
        `rotated the passwords of every role${streaming ? " (the WAL receiver's included; the receiver restarted)" : ""}; pgBouncer reloaded`,
    );
}

async function alterRootPassword(c: Ctx, rootVerifier: string): Promise<string> {
    const file = join(c.l.state, "rotate-root.sql");
    writePrivate(
        file,
        `\\set ON_ERROR_STOP on
ALTER ROLE ${sqlIdent(LOCAL_ROOT_USER)} WITH PASSWORD ${sqlLiteral(rootVerifier)};
SELECT json_build_object('event', 'db-tier.role-converged', 'role', ${sqlLiteral(LOCAL_ROOT_USER)}, 'action', 'updated',
  'at', to_char(clock_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.MS"Z"'))::text;
`,
    );
    try {
        return (await psqlFileAsRoot(c.l, c.t, c.p, file)).trim();
    } finally {
        rmSync(file, { force: true });
    }
}

export async function backup(c: Ctx): Promise<number> {
    requireSecrets(c);
    const r = await runBackup(backupConfig(c));
    return r.status === "succeeded" ? 0 : 1;
}

export async function drill(c: Ctx, opts: DrillArgs): Promise<number> {
    requireSecrets(c);
    const outDir = join(c.l.drills, new Date().toISOString().replace(/[:.]/g, "-"));
    mkdirSync(outDir, { recursive: true });
    const r = await runDrill(drillConfig(c), { ...opts, outDir });
    c.info(
        `drill ${r.evidence.status}${r.evidence.error ? `: ${r.evidence.error}` : ""}; evidence ${r.uploaded ? "uploaded to" : "NOT uploaded to"} ${r.evidence.evidence_location}`,
    );
    c.out(r.evidencePath);
    return r.exitCode;
}

export async function down(c: Ctx, purge: boolean): Promise<void> {
    await stopWalReceiver(c.l);
    await stopPgbouncer(c.l);
    await stopPostgres(c.l, c.t, join(c.l.drillScratch, "data"));
    await stopPostgres(c.l, c.t);
    await stopMinio(c.l);
    c.info("stopped pgBouncer, Postgres, MinIO");
    if (purge) {
        rmSync(c.l.state, { recursive: true, force: true });
        c.info(`purged ${c.l.state}`);
    }
}
