/**
 * What the tests prove about one applied cluster on the engine, shared by the dev and the
 * production stack. Each attack (a connection that must fail) runs next to a control (the
 * same probe on the legitimate path, which must succeed), so a broken probe cannot pass.
 */
import { GetObjectCommand, type S3Client } from "@aws-sdk/client-s3";
import { expect } from "vitest";
import type { Engine } from "./apply/engine";
import { findLeak } from "../support/secret-scan";
import { addresses, docker, listKeys, psqlIn, type StackView, tcpProbe, throwaway, waitFor } from "./harness";

export interface ClusterUnderTest {
    /** The stack's state: applied by the applier or by the real engine. */
    readonly run: StackView;
    readonly engine: Engine;
    readonly environment: string;
    readonly cluster: string;
    readonly bucket: string;
    readonly s3: S3Client;
    /** Host:port of object storage inside backup-egress (the embedded MinIO or the B2 stand-in). */
    readonly storageInside: string;
    /**
     * Whether the storage name must not open from `app`: true for the embedded MinIO (a tier
     * name); false for B2's public name, which `app` (not internal: apps may use the internet)
     * reaches wherever DNS resolves it. The stand-in's own addresses are probed either way.
     */
    readonly storageNameIsTierOnly: boolean;
    /** Names of containers that hold object storage (their IPs must be unreachable from apps). */
    readonly storageContainers: readonly string[];
}

export const net = (c: ClusterUnderTest, kind: "app" | "db-only" | "backup-egress") => `${c.environment}-${c.cluster}-${kind}`;
const name = (c: ClusterUnderTest, role: string) => `${c.environment}-${c.cluster}-${role}`;

/**
 * Every container of the cluster is running (healthy where it has a health check); the
 * provisioner ran, exited 0 and converged the three roles (plus `extraRoles`: `wal_receiver`
 * with backup.walStreaming).
 */
export async function expectHealthy(c: ClusterUnderTest, extraRoles: readonly string[] = []): Promise<void> {
    for (const role of ["postgres", "pgbouncer", "backup", "restore-drill"]) {
        const s = await waitFor(
            `${name(c, role)} running${role === "postgres" || role === "pgbouncer" ? " and healthy" : ""}`,
            120_000,
            async () => {
                const s = await c.engine.inspectContainer(name(c, role));
                if (!s.State.Running) return undefined;
                if (s.Config.Healthcheck && s.State.Health?.Status !== "healthy") return undefined;
                return s;
            },
        );
        expect(s.Config.Labels["db-tier.role"]).toBe(role);
        expect(s.HostConfig.RestartPolicy.Name).toBe("unless-stopped");
        if (role === "postgres" || role === "pgbouncer") expect(s.State.Health.Status).toBe("healthy");
    }
    const p = await c.engine.inspectContainer(name(c, "provisioner"));
    expect(p.State.Status).toBe("exited");
    expect(p.State.ExitCode).toBe(0);
    const prov = c.run.container("provisioner", c.cluster);
    expect(prov.outputs.exitCode).toBe(0);
    const converged = convergedRoles(String(prov.outputs.containerLogs));
    expect(converged.map((l) => l.role).sort()).toEqual(["app_service", "app_user", "postgres", ...extraRoles].sort());
}

/** The provisioner's evidence lines (its log also carries psql's NOTICEs). */
export function convergedRoles(logs: string): { role: string; action: string }[] {
    return logs
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l) as { event: string; role: string; action: string })
        .filter((l) => l.event === "db-tier.role-converged");
}

/** psql as the root role over the Postgres socket inside its container (peer auth, no password). */
export async function rootSql(c: ClusterUnderTest, sql: string, database = "postgres"): Promise<string> {
    const r = await docker(c.engine, [
        "exec",
        "-u",
        "postgres",
        name(c, "postgres"),
        "psql",
        "-X",
        "-q",
        "-At",
        "-v",
        "ON_ERROR_STOP=1",
        "-d",
        database,
        "-c",
        sql,
    ]);
    if (r.code !== 0) throw new Error(`psql in ${name(c, "postgres")}: ${r.stderr}`);
    return r.stdout.trim();
}

/** WAL segments reach the bucket from inside the Postgres container (its only route out is backup-egress). */
export async function expectWalArchived(c: ClusterUnderTest): Promise<string[]> {
    const pg = await c.engine.inspectContainer(name(c, "postgres"));
    expect(Object.keys(pg.NetworkSettings.Networks).sort()).toEqual([net(c, "backup-egress"), net(c, "db-only")].sort());
    await rootSql(
        c,
        "CREATE TABLE IF NOT EXISTS wal_probe (t timestamptz DEFAULT now()); INSERT INTO wal_probe DEFAULT VALUES; SELECT pg_switch_wal();",
    );
    const prefix = `${c.environment}/${c.cluster}/wal_005/`;
    const keys = await waitFor(`WAL in s3://${c.bucket}/${prefix}`, 150_000, async () => {
        const k = await listKeys(c.s3, c.bucket, prefix);
        return k.length > 0 ? k : undefined;
    });
    const stats = await rootSql(c, "SELECT archived_count > 0 AND failed_count = 0 FROM pg_stat_archiver");
    expect(stats).toBe("t");
    return keys;
}

/** The three DSNs from an application container on `app`, with the seeds' SET LOCAL RLS pattern. */
export async function expectDsnsWork(c: ClusterUnderTest, table: string): Promise<void> {
    const d = c.run.dsns(c.cluster);
    const app = [net(c, "app")];
    for (const dsn of [d.DATABASE_URL, d.DATABASE_SERVICE_URL, d.DATABASE_MIGRATE_URL]) {
        const u = new URL(dsn);
        expect(`${u.hostname}:${u.port}`).toBe("pgbouncer:6432");
    }
    const ok = async (dsn: string, sql: string | string[]) => {
        const r = await psqlIn(c.engine, app, dsn, sql);
        expect(r.code, r.stderr).toBe(0);
        return r.stdout.trim();
    };
    await ok(d.DATABASE_MIGRATE_URL, [
        `CREATE TABLE ${table} (id serial PRIMARY KEY, owner text NOT NULL, body text)`,
        `ALTER TABLE ${table} ENABLE ROW LEVEL SECURITY`,
        `ALTER TABLE ${table} FORCE ROW LEVEL SECURITY`,
        `CREATE POLICY tenant_isolation ON ${table} USING (owner = current_setting('app.current_user_id', true)) WITH CHECK (owner = current_setting('app.current_user_id', true))`,
        `GRANT SELECT, INSERT ON ${table} TO app_service`,
        `GRANT USAGE ON SEQUENCE ${table}_id_seq TO app_service`,
    ]);
    await ok(d.DATABASE_SERVICE_URL, `INSERT INTO ${table} (owner, body) VALUES ('alice', 'a1'), ('alice', 'a2'), ('bob', 'b1')`);
    expect(await ok(d.DATABASE_SERVICE_URL, `SELECT count(*) FROM ${table}`)).toBe("3");
    expect(await ok(d.DATABASE_URL, `SELECT count(*) FROM ${table}`)).toBe("0"); // no tenant set: fail closed
    expect(await ok(d.DATABASE_URL, ["BEGIN", "SET LOCAL app.current_user_id = 'alice'", `SELECT count(*) FROM ${table}`, "COMMIT"])).toBe(
        "2",
    );
    expect(
        await ok(d.DATABASE_URL, [
            "BEGIN",
            "SET LOCAL app.current_user_id = 'bob'",
            `SELECT string_agg(body, ',') FROM ${table}`,
            "COMMIT",
        ]),
    ).toBe("b1");
    const forged = await psqlIn(c.engine, app, d.DATABASE_URL, [
        "BEGIN",
        "SET LOCAL app.current_user_id = 'alice'",
        `INSERT INTO ${table} (owner, body) VALUES ('bob', 'forged')`,
        "COMMIT",
    ]);
    expect(forged.code).not.toBe(0);
    expect(forged.stderr).toMatch(/row-level security/);
    expect(await ok(d.DATABASE_MIGRATE_URL, "SELECT current_user || ':' || current_setting('transaction_isolation')")).toMatch(
        /^app_user:/,
    );
}

/** An address of the tier and the network it lives on (where a container may reach it). */
export interface TierAddress {
    readonly target: string;
    readonly network: string;
    /** Something listens there: a container on `network` connects (false: nothing may, ever). */
    readonly listens: boolean;
}

/** Every address of the tier an application must not reach (host:port by IP), and pgBouncer's on `app`. */
export async function tierAddresses(c: ClusterUnderTest): Promise<{ forbidden: string[]; addresses: TierAddress[]; pgbouncerApp: string }> {
    const pg = await addresses(c.engine, name(c, "postgres"));
    const pgb = await addresses(c.engine, name(c, "pgbouncer"));
    const list: TierAddress[] = [
        { target: `${pg[net(c, "db-only")]}:5432`, network: net(c, "db-only"), listens: true },
        // Postgres listens on its db-only address only: on backup-egress nothing answers.
        { target: `${pg[net(c, "backup-egress")]}:5432`, network: net(c, "backup-egress"), listens: false },
        { target: `${pgb[net(c, "db-only")]}:6432`, network: net(c, "db-only"), listens: true },
    ];
    const port = c.storageInside.split(":").pop();
    for (const s of c.storageContainers) {
        for (const [network, ip] of Object.entries(await addresses(c.engine, s)))
            list.push({ target: `${ip}:${port}`, network, listens: true });
    }
    return { forbidden: list.map((a) => a.target), addresses: list, pgbouncerApp: `${pgb[net(c, "app")]}:6432` };
}

/**
 * A closed probe proves a boundary only if the port is open to someone: each listening
 * address opens from a container on its own network (positive control, by IP).
 */
export async function expectAddressesListen(c: ClusterUnderTest, list: readonly TierAddress[]): Promise<void> {
    const byNetwork = new Map<string, string[]>();
    for (const a of list.filter((x) => x.listens)) byNetwork.set(a.network, [...(byNetwork.get(a.network) ?? []), a.target]);
    expect(byNetwork.size).toBeGreaterThan(0);
    for (const [network, targets] of byNetwork) {
        const r = await tcpProbe(c.engine, [network], targets);
        for (const t of targets) expect(r[t], `${t} from ${network} (control: it listens)`).toBe("open");
    }
}

/** From `app`: pgbouncer:6432 opens (control); postgres:5432 by name and every other tier address, by IP, do not. */
export async function expectAppBoundary(c: ClusterUnderTest): Promise<void> {
    const { forbidden, addresses: list, pgbouncerApp } = await tierAddresses(c);
    const closed = ["postgres:5432", ...(c.storageNameIsTierOnly ? [c.storageInside] : []), ...forbidden];
    const r = await tcpProbe(c.engine, [net(c, "app")], ["pgbouncer:6432", pgbouncerApp, ...closed]);
    expect(r["pgbouncer:6432"]).toBe("open");
    expect(r[pgbouncerApp]).toBe("open");
    for (const p of closed) expect(r[p], `${p} from the app network`).toBe("closed");
    await expectAddressesListen(c, list);
}

/** From a container on no tier network: nothing of the tier, not even pgbouncer (which opens from `app`). */
export async function expectNoTierNetworkReachesNothing(c: ClusterUnderTest): Promise<void> {
    const { forbidden, pgbouncerApp } = await tierAddresses(c);
    const probes = [pgbouncerApp, "pgbouncer:6432", "postgres:5432", ...forbidden];
    const r = await tcpProbe(c.engine, [], probes);
    for (const p of probes) expect(r[p], `${p} from the default bridge`).toBe("closed");
    // Control: the same probe opens pgbouncer's address from `app`.
    expect((await tcpProbe(c.engine, [net(c, "app")], [pgbouncerApp]))[pgbouncerApp]).toBe("open");
}

/** An IPv4 CIDR as pg_hba_file_rules shows it: address and netmask. */
function addressAndMask(cidr: string): string {
    const [address, bits] = cidr.split("/");
    const mask = Number(bits) === 0 ? 0 : (0xffffffff << (32 - Number(bits))) >>> 0;
    return `${address}|${[24, 16, 8, 0].map((sh) => (mask >>> sh) & 255).join(".")}`;
}

/**
 * backup-egress holds the object store and the drill, which must not be able to try
 * passwords against Postgres: from there no Postgres address answers (it listens on its
 * db-only address alone), while the same container reaches the store (control) and a
 * container on db-only reaches Postgres (control). The server's own pg_hba rules (as loaded)
 * admit TCP logins from the db-only subnet only.
 */
export async function expectBackupEgressBoundary(c: ClusterUnderTest): Promise<void> {
    const pg = await addresses(c.engine, name(c, "postgres"));
    const dbOnlyAddress = `${pg[net(c, "db-only")]}:5432`;
    const attacks = [`${pg[net(c, "backup-egress")]}:5432`, dbOnlyAddress];
    const r = await tcpProbe(c.engine, [net(c, "backup-egress")], [c.storageInside, ...attacks]);
    expect(r[c.storageInside], `${c.storageInside} from backup-egress (control)`).toBe("open");
    for (const t of attacks) expect(r[t], `${t} from backup-egress`).toBe("closed");
    expect((await tcpProbe(c.engine, [net(c, "db-only")], [dbOnlyAddress]))[dbOnlyAddress], "postgres from db-only (control)").toBe("open");

    const dbOnly = await c.engine.json<{ IPAM: { Config: { Subnet: string }[] } }>("GET", `/networks/${net(c, "db-only")}`);
    const subnets = dbOnly.IPAM.Config.map((x) => x.Subnet).filter((x) => x.includes("."));
    expect(subnets.length).toBeGreaterThan(0);
    const rules = (
        await rootSql(
            c,
            "SELECT type || '|' || coalesce(address, '') || '|' || coalesce(netmask, '') || '|' || coalesce(error, '') FROM pg_hba_file_rules ORDER BY line_number",
        )
    ).split("\n");
    const tcp = rules.filter((l) => !l.startsWith("local|"));
    expect(tcp.length).toBeGreaterThan(0);
    for (const rule of tcp) {
        const [type, address, netmask, error] = rule.split("|");
        expect(error, rule).toBe("");
        expect(type, rule).toBe("host");
        expect(subnets.map(addressAndMask), rule).toContain(`${address}|${netmask}`);
    }
}

/**
 * db-only has no way out: from a container on it, addresses outside it on this machine do not
 * open (pgBouncer's `app` address, the object store's backup-egress address), while
 * pgBouncer's db-only address does; each outside address opens from its own network (control).
 * Only this machine's own container addresses are probed, never one outside it.
 */
export async function expectDbOnlyHasNoWayOut(c: ClusterUnderTest): Promise<void> {
    const pgb = await addresses(c.engine, name(c, "pgbouncer"));
    const inside = `${pgb[net(c, "db-only")]}:6432`;
    const outside: TierAddress[] = [{ target: `${pgb[net(c, "app")]}:6432`, network: net(c, "app"), listens: true }];
    const port = c.storageInside.split(":").pop();
    for (const s of c.storageContainers) {
        const ip = (await addresses(c.engine, s))[net(c, "backup-egress")];
        if (ip) outside.push({ target: `${ip}:${port}`, network: net(c, "backup-egress"), listens: true });
    }
    expect(outside.length).toBeGreaterThan(1);
    const r = await tcpProbe(c.engine, [net(c, "db-only")], [inside, ...outside.map((o) => o.target)]);
    expect(r[inside], `${inside} from db-only (control)`).toBe("open");
    for (const o of outside) expect(r[o.target], `${o.target} (on ${o.network}) from db-only`).toBe("closed");
    await expectAddressesListen(c, outside);
}

/** The backup job container takes a base backup now (its job runner, as its schedule would). */
export async function expectBaseBackup(c: ClusterUnderTest): Promise<void> {
    const r = await docker(
        c.engine,
        ["exec", name(c, "backup"), "node", "/opt/db-tier/bin/jobs/backup-job.js", "/run/db-tier/backup.json"],
        undefined,
        900_000,
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`.slice(-3000)).toBe(0);
    const keys = await listKeys(c.s3, c.bucket, `${c.environment}/${c.cluster}/basebackups_005/`);
    expect(keys.some((k) => k.endsWith("_backup_stop_sentinel.json"))).toBe(true);
}

/** The restore drill container restores the latest backup and leaves passing evidence in the bucket. */
export async function expectDrillPasses(c: ClusterUnderTest): Promise<Record<string, unknown>> {
    const r = await docker(
        c.engine,
        ["exec", name(c, "restore-drill"), "node", "/opt/db-tier/bin/jobs/restore-drill.js", "/run/db-tier/drill.json"],
        undefined,
        900_000,
    );
    expect(r.code, `${r.stdout}\n${r.stderr}`.slice(-3000)).toBe(0);
    const keys = (await listKeys(c.s3, c.bucket, "restore-tests/")).filter(
        (k) => k.includes(`/${c.environment}/${c.cluster}/`) && k.endsWith("evidence.json"),
    );
    expect(keys.length).toBeGreaterThan(0);
    const newest = keys.sort().pop()!;
    const body = await (await c.s3.send(new GetObjectCommand({ Bucket: c.bucket, Key: newest }))).Body!.transformToString();
    const evidence = JSON.parse(body) as Record<string, unknown>;
    expect(evidence.status).toBe("passed");
    expect((evidence.checks as { status: string }[]).every((x) => x.status !== "failed")).toBe(true);
    return evidence;
}

/** kill -9 of Postgres' main process: the restart policy brings it back with every committed row. */
export async function expectSurvivesKill9(c: ClusterUnderTest, table: string): Promise<void> {
    const d = c.run.dsns(c.cluster);
    const app = [net(c, "app")];
    const insert = await psqlIn(c.engine, app, d.DATABASE_SERVICE_URL, [
        `INSERT INTO ${table} (owner, body) SELECT 'carol', 'c' || g FROM generate_series(1, 500) g`,
        `SELECT count(*) FROM ${table}`,
    ]);
    expect(insert.code, insert.stderr).toBe(0);
    const committed = insert.stdout.trim();
    const before = await c.engine.inspectContainer(name(c, "postgres"));
    expect(before.State.Pid).toBeGreaterThan(0);
    process.kill(before.State.Pid, "SIGKILL");
    const after = await waitFor("postgres restarted and healthy", 180_000, async () => {
        const s = await c.engine.inspectContainer(name(c, "postgres"));
        return s.RestartCount > before.RestartCount && s.State.Running && s.State.Health?.Status === "healthy" ? s : undefined;
    });
    expect(after.State.Pid).not.toBe(before.State.Pid);
    const count = await waitFor("rows through pgbouncer after the restart", 60_000, async () => {
        const r = await psqlIn(c.engine, app, d.DATABASE_SERVICE_URL, `SELECT count(*) FROM ${table}`);
        return r.code === 0 ? r.stdout.trim() : undefined;
    });
    expect(count).toBe(committed);
}

/**
 * Secrets never show in `docker inspect` or `docker logs` of any tier container nor in
 * `docker history`/`inspect` of any image: not as they are, nor JSON-, URL- or base64-encoded.
 */
export async function expectNoSecretsOnEngine(engine: Engine, containers: string[], images: string[], secrets: string[]): Promise<void> {
    expect(secrets.length).toBeGreaterThan(0);
    const texts: [string, string][] = [];
    for (const ct of containers) {
        texts.push([`docker inspect ${ct}`, (await docker(engine, ["inspect", ct])).stdout]);
        const logs = await docker(engine, ["logs", ct]);
        texts.push([`docker logs ${ct}`, `${logs.stdout}${logs.stderr}`]);
    }
    for (const im of images) {
        texts.push([`docker history ${im}`, (await docker(engine, ["history", "--no-trunc", im])).stdout]);
        texts.push([`docker image inspect ${im}`, (await docker(engine, ["image", "inspect", im])).stdout]);
    }
    for (const [what, text] of texts) {
        if (!what.startsWith("docker logs")) expect(text.length, what).toBeGreaterThan(100);
        const leak = findLeak(text, secrets);
        expect(
            leak === undefined,
            `a secret (${leak?.secret.length} chars${leak?.form === leak?.secret ? "" : ", encoded"}) in ${what}`,
        ).toBe(true);
    }
}

/**
 * The drill restores exactly what was written: the rows committed before the newest base
 * backup and one committed after it (only WAL replay brings that one back). The evidence's
 * row count for the table must equal the primary's, and the restored copy, kept running for
 * this look (--keep-port), must hold the very same rows.
 */
export async function expectDrillRestoresExactly(c: ClusterUnderTest, table: string): Promise<void> {
    const d = c.run.dsns(c.cluster);
    const app = [net(c, "app")];
    const sql = async (dsn: string, q: string | string[]) => {
        const r = await psqlIn(c.engine, app, dsn, q);
        expect(r.code, r.stderr).toBe(0);
        return r.stdout.trim();
    };
    const marker = `after-backup-${Date.now()}`;
    const beforeInsert = new Date(await rootSql(c, "SELECT to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS.MS\"Z\"')"));
    await sql(d.DATABASE_SERVICE_URL, `INSERT INTO ${table} (owner, body) VALUES ('dave', '${marker}')`);
    // The segment holding that commit reaches the bucket (the drill replays what is archived).
    const segment = await rootSql(c, "SELECT pg_walfile_name(pg_current_wal_lsn())");
    await rootSql(c, "SELECT pg_switch_wal()");
    await waitFor(`segment ${segment} archived`, 120_000, async () => {
        const last = await rootSql(c, "SELECT coalesce(last_archived_wal, '') FROM pg_stat_archiver");
        return /^[0-9A-F]{24}$/.test(last) && last >= segment ? last : undefined;
    });
    const rows = (await sql(d.DATABASE_SERVICE_URL, `SELECT id || ':' || owner || ':' || body FROM ${table} ORDER BY id`)).split("\n");
    expect(rows).toContain(rows.find((r) => r.endsWith(`:dave:${marker}`)));

    const port = 55432;
    const drill = name(c, "restore-drill");
    const r = await docker(
        c.engine,
        ["exec", drill, "node", "/opt/db-tier/bin/jobs/restore-drill.js", "/run/db-tier/drill.json", "--keep-port", String(port)],
        undefined,
        900_000,
    );
    try {
        expect(r.code, `${r.stdout}\n${r.stderr}`.slice(-3000)).toBe(0);
        const keys = (await listKeys(c.s3, c.bucket, "restore-tests/")).filter(
            (k) => k.includes(`/${c.environment}/${c.cluster}/`) && k.endsWith("evidence.json"),
        );
        const newest = keys.sort().pop()!;
        const evidence = JSON.parse(
            await (await c.s3.send(new GetObjectCommand({ Bucket: c.bucket, Key: newest }))).Body!.transformToString(),
        ) as { status: string; database: string; recovered_to: string; row_counts: Record<string, number>; checks: { status: string }[] };
        expect(evidence.status).toBe("passed");
        expect(evidence.checks.every((x) => x.status !== "failed")).toBe(true);
        const database = new URL(d.DATABASE_SERVICE_URL).pathname.slice(1);
        const key = database === evidence.database ? `public.${table}` : `${database}.public.${table}`;
        expect(evidence.row_counts[key], `row_counts: ${JSON.stringify(evidence.row_counts)}`).toBe(rows.length);
        // Replay went past the backup, to (at least) the commit that came after it.
        expect(new Date(evidence.recovered_to).getTime()).toBeGreaterThan(beforeInsert.getTime());
        // The restored copy itself, through the kept port inside the drill container, as app_service (BYPASSRLS).
        const password = decodeURIComponent(new URL(d.DATABASE_SERVICE_URL).password);
        const copy = await docker(
            c.engine,
            [
                "exec",
                "-i",
                drill,
                "sh",
                "-c",
                `read -r PGPASSWORD; export PGPASSWORD; exec psql -X -q -At -h 127.0.0.1 -p ${port} -U app_service -d ${database} -c "SELECT id || ':' || owner || ':' || body FROM ${table} ORDER BY id"`,
            ],
            `${password}\n`,
        );
        expect(copy.code, copy.stderr).toBe(0);
        expect(copy.stdout.trim().split("\n")).toEqual(rows);
    } finally {
        await docker(c.engine, [
            "exec",
            drill,
            "/usr/lib/postgresql/15/bin/pg_ctl",
            "stop",
            "-D",
            "/var/lib/db-tier-drill/data",
            "-m",
            "fast",
        ]);
    }
}

/**
 * kill -9 of the postmaster while an application writes: one INSERT per transaction through
 * pgBouncer, each acknowledged body printed as it commits. After the restart every
 * acknowledged row is there (commits are durable the moment they are acknowledged), writes
 * go on, and WAL archiving resumes: a new segment reaches the bucket.
 */
export async function expectSurvivesKill9UnderLoad(c: ClusterUnderTest, table: string, seconds = 30): Promise<void> {
    const d = c.run.dsns(c.cluster);
    const app = [net(c, "app")];
    const owner = `load${Date.now()}`;
    const database = new URL(d.DATABASE_SERVICE_URL).pathname.slice(1);
    // The DSN on stdin; each psql is its own connection, so a refused one is simply retried.
    const writer = throwaway(c.engine, {
        networks: app,
        stdin: `${d.DATABASE_SERVICE_URL}\n`,
        timeoutMs: (seconds + 60) * 1000,
        script: [
            "read -r url",
            `end=$(( $(date +%s) + ${seconds} )); i=0`,
            'while [ "$(date +%s)" -lt "$end" ]; do',
            "  i=$((i + 1))",
            `  if out=$(PGCONNECT_TIMEOUT=3 psql "$url" -X -q -At -v ON_ERROR_STOP=1 -c "INSERT INTO ${table} (owner, body) VALUES ('${owner}', 'w$i') RETURNING body" 2>/dev/null); then echo "ack $out $(date +%s%3N)"; else echo "fail w$i $(date +%s%3N)"; sleep 0.2; fi`,
            "done",
        ].join("\n"),
    });
    const before = await c.engine.inspectContainer(name(c, "postgres"));
    const keysBefore = new Set(await listKeys(c.s3, c.bucket, `${c.environment}/${c.cluster}/wal_005/`));
    await waitFor("the writer's first commits", 30_000, async () =>
        Number(await rootSql(c, `SELECT count(*) FROM ${table} WHERE owner = '${owner}'`, database)) >= 20 ? true : undefined,
    );
    const killedAt = Date.now();
    process.kill(before.State.Pid, "SIGKILL");
    await waitFor("postgres restarted and healthy", 180_000, async () => {
        const s = await c.engine.inspectContainer(name(c, "postgres"));
        return s.RestartCount > before.RestartCount && s.State.Running && s.State.Health?.Status === "healthy" ? s : undefined;
    });
    const w = await writer;
    expect(w.code, w.stderr).toBe(0);
    const lines = w.stdout.trim().split("\n");
    const acked = lines.filter((l) => l.startsWith("ack ")).map((l) => l.split(" "));
    expect(acked.filter(([, , at]) => Number(at) < killedAt).length, "commits before the kill").toBeGreaterThan(10);
    expect(acked.filter(([, , at]) => Number(at) > killedAt).length, "commits after the restart").toBeGreaterThan(0);
    process.stderr.write(
        `kill -9 under load: ${acked.length} commits acknowledged, ${lines.length - acked.length} attempts refused while Postgres restarted\n`,
    );
    const stored = new Set(
        (await rootSql(c, `SELECT body FROM ${table} WHERE owner = '${owner}'`, database)).split("\n").filter((x) => x !== ""),
    );
    const lost = acked.map(([, body]) => body).filter((b) => !stored.has(b));
    expect(lost, "acknowledged commits missing after kill -9").toEqual([]);
    // Archiving resumes after crash recovery: a segment switched now reaches the bucket.
    await rootSql(c, "SELECT pg_switch_wal()");
    await waitFor("a new WAL segment in the bucket after the restart", 150_000, async () => {
        const now = await listKeys(c.s3, c.bucket, `${c.environment}/${c.cluster}/wal_005/`);
        const fresh = now.filter((k) => !keysBefore.has(k) && /\/[0-9A-F]{24}(\.[a-z0-9]+)*$/.test(k));
        return fresh.length > 0 ? fresh : undefined;
    });
    expect(await rootSql(c, "SELECT failed_count = 0 OR last_archived_time > last_failed_time FROM pg_stat_archiver")).toBe("t");
}
