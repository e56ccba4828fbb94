/**
 * What an intruder gets inside a tier container (components/container-hardening.ts), asked of
 * the running containers themselves, each attack next to a control that shows the probe works:
 * the settings as the engine holds them; the capabilities and no_new_privs of the processes,
 * read from /proc; writes into the image's own directories; a setuid-root binary planted in a
 * volume (it raises a container without no-new-privileges to uid 0, and does not raise ours);
 * a fork bomb in pgBouncer (it stops at the process limit, Postgres still starts backends,
 * pgBouncer still serves).
 */
import { expect } from "vitest";
import { ADDED_CAPABILITIES, type ContainerRole, NO_NEW_PRIVILEGES, ROLE_LABEL } from "../../vocabulary";
import { docker, psqlIn, throwaway, waitFor } from "./harness";
import { type ClusterUnderTest, net, rootSql } from "./tier-checks";

/** Linux capability numbers (include/uapi/linux/capability.h) of the ones a tier container may add. */
const CAP_BITS: Readonly<Record<string, number>> = { CHOWN: 0, DAC_OVERRIDE: 1, FOWNER: 3, SETGID: 6, SETUID: 7 };

/** The /proc/PID/status capability mask of a list of capabilities, as 16 hex digits. */
export function capMask(caps: readonly string[]): string {
    let mask = 0n;
    for (const c of caps) {
        if (CAP_BITS[c] === undefined) throw new Error(`capMask: no bit known for ${c}`);
        mask |= 1n << BigInt(CAP_BITS[c]);
    }
    return mask.toString(16).padStart(16, "0");
}

/** Cap*, NoNewPrivs and Uid lines of /proc/<pid>/status read inside `container` as `user`. */
async function procStatus(c: ClusterUnderTest, container: string, user: string, pid: string): Promise<Record<string, string>> {
    const r = await docker(c.engine, ["exec", "-u", user, container, "cat", `/proc/${pid}/status`]);
    expect(r.code, r.stderr).toBe(0);
    return Object.fromEntries(
        r.stdout
            .split("\n")
            .map((l) => /^(\w+):\s+(.*)$/.exec(l))
            .filter((m): m is RegExpExecArray => m !== null)
            .map((m) => [m[1], m[2]]),
    );
}

/** The stack's containers with a tier role (the cluster's and the object store), by their labels on the engine. */
export async function tierContainers(c: ClusterUnderTest): Promise<[string, ContainerRole][]> {
    const all: { Names: string[]; Labels: Record<string, string> }[] = await c.engine.json("GET", "/containers/json?all=1");
    return all
        .filter((x) => x.Labels[ROLE_LABEL] !== undefined && x.Names[0].startsWith(`/${c.environment}-`))
        .filter((x) => x.Labels["db-tier.cluster"] === c.cluster || x.Labels[ROLE_LABEL] === "object-store")
        .map((x): [string, ContainerRole] => [x.Names[0].slice(1), x.Labels[ROLE_LABEL] as ContainerRole])
        .sort();
}

/** Every container as the engine holds it: ALL dropped, only the role's capabilities added, no-new-privileges, limits. */
export async function expectHardenedSettings(c: ClusterUnderTest): Promise<[string, ContainerRole][]> {
    const containers = await tierContainers(c);
    for (const [name, role] of containers) {
        const s = await c.engine.inspectContainer(name);
        const h = s.HostConfig;
        expect(h.CapDrop, name).toEqual(["ALL"]);
        // The provider sends CAP_CHOWN for CHOWN; the engine keeps what it was sent.
        const added = (h.CapAdd ?? []).map((x: string) => x.replace(/^CAP_/, "")).sort();
        expect(added, name).toEqual([...ADDED_CAPABILITIES[role]].sort());
        expect(h.SecurityOpt, name).toContain(NO_NEW_PRIVILEGES);
        expect(h.Privileged, name).toBe(false);
        expect(h.Memory, name).toBeGreaterThan(0);
        expect(h.MemorySwap, `${name}: no swap`).toBe(h.Memory);
        const nproc = (h.Ulimits ?? []).find((u: { Name: string }) => u.Name === "nproc");
        expect(nproc?.Hard, `${name}: process limit`).toBeGreaterThan(0);
    }
    return containers;
}

/**
 * Inside Postgres and pgBouncer: the service process (PID 1) has no capability in any set
 * but Postgres' bounding set (its entrypoint's documented ones), and no_new_privs; the
 * service user cannot write into /, /etc or /usr.
 */
export async function expectNoPrivilegesInside(c: ClusterUnderTest): Promise<void> {
    const p = `${c.environment}-${c.cluster}`;
    for (const [container, role] of [
        [`${p}-postgres`, "postgres"],
        [`${p}-pgbouncer`, "pgbouncer"],
    ] as const) {
        const status = await procStatus(c, container, "postgres", "1");
        expect(status.Uid.split(/\s+/), `${container}: PID 1 runs as 999`).toEqual(["999", "999", "999", "999"]);
        for (const set of ["CapInh", "CapPrm", "CapEff", "CapAmb"]) expect(status[set], `${container} ${set}`).toBe("0000000000000000");
        expect(status.CapBnd, `${container} CapBnd`).toBe(capMask(ADDED_CAPABILITIES[role]));
        expect(status.NoNewPrivs, container).toBe("1");
        // Root in the container (docker exec, which only the engine's admin can do) has the bounding set and no more.
        const root = await procStatus(c, container, "root", "self");
        expect(root.CapEff, `${container}: root's effective set`).toBe(capMask(ADDED_CAPABILITIES[role]));
        for (const dir of ["/", "/etc", "/usr"]) {
            const w = await docker(c.engine, [
                "exec",
                "-u",
                "postgres",
                container,
                "sh",
                "-c",
                `echo x > ${dir.replace(/\/$/, "")}/intruder`,
            ]);
            expect(w.code, `${container}: a write into ${dir} must fail`).not.toBe(0);
            expect(w.stderr).toMatch(/Permission denied|Read-only file system/);
        }
    }
}

/**
 * A setuid-root copy of `id`, planted in Postgres' socket volume by root (whose CHOWN and
 * FOWNER allow it), does not raise the postgres user inside the tier's container
 * (no-new-privileges); the control runs the same file from the same volume in a throwaway
 * container without the option, where it does make uid 0.
 */
export async function expectSetuidDoesNotRaise(c: ClusterUnderTest, image: string): Promise<void> {
    const container = `${c.environment}-${c.cluster}-postgres`;
    const volume = `${container}-socket`;
    const probe = "/var/run/postgresql/.setuid-probe";
    const plant = await docker(c.engine, ["exec", "-u", "root", container, "sh", "-c", `cp /usr/bin/id ${probe} && chmod 4755 ${probe}`]);
    expect(plant.code, plant.stderr).toBe(0);
    try {
        const mode = await docker(c.engine, ["exec", container, "stat", "-c", "%a %U", probe]);
        expect(mode.stdout.trim()).toBe("4755 root");
        const inTier = await docker(c.engine, ["exec", "-u", "postgres", container, probe, "-u"]);
        expect(inTier.code, inTier.stderr).toBe(0);
        expect(inTier.stdout.trim(), "euid of a setuid-root binary under no-new-privileges").toBe("999");
        const control = await docker(c.engine, [
            "run",
            "--rm",
            "--network",
            "none",
            "-u",
            "999",
            "-v",
            `${volume}:/var/run/postgresql`,
            "--entrypoint",
            probe,
            image,
            "-u",
        ]);
        expect(control.code, control.stderr).toBe(0);
        expect(control.stdout.trim(), "control: the same binary without no-new-privileges").toBe("0");
    } finally {
        await docker(c.engine, ["exec", "-u", "root", container, "rm", "-f", probe]);
    }
}

/** Processes of a container, as the host sees them (docker top forks nothing inside it). */
async function processCount(c: ClusterUnderTest, container: string): Promise<number> {
    const r = await docker(c.engine, ["top", container]);
    expect(r.code, r.stderr).toBe(0);
    return r.stdout.trim().split("\n").length - 1;
}

/**
 * A fork bomb run as pgBouncer's user inside its container stops at the container's process
 * limit; meanwhile Postgres still starts a backend for a new connection (its own, higher
 * limit), a client still gets answers through pgBouncer, and nothing is killed for memory.
 * The bomb's processes are `sleep 20`: they end by themselves.
 */
export async function expectForkBombContained(c: ClusterUnderTest): Promise<void> {
    const pgbouncer = `${c.environment}-${c.cluster}-pgbouncer`;
    const limit = (await c.engine.inspectContainer(pgbouncer)).HostConfig.Ulimits.find((u: { Name: string }) => u.Name === "nproc").Hard;
    const before = await processCount(c, pgbouncer);
    const bomb = await docker(c.engine, ["exec", "-d", pgbouncer, "sh", "-c", "while :; do sleep 20 & done"]);
    expect(bomb.code, bomb.stderr).toBe(0);
    try {
        // The limit counts every task of uid 999 on the host (Postgres' and the jobs' too): the bomb fills the rest.
        const peak = await waitFor("the fork bomb at its limit", 15_000, async () => {
            const n = await processCount(c, pgbouncer);
            return n > limit / 2 ? n : undefined;
        });
        await new Promise((r) => setTimeout(r, 2000));
        const held = await processCount(c, pgbouncer);
        expect(held, `processes in ${pgbouncer} (limit ${limit})`).toBeLessThanOrEqual(limit);
        expect(held).toBeGreaterThanOrEqual(peak - 50);
        // A new direct connection: Postgres forks a backend while the bomb holds its processes.
        expect(await rootSql(c, "SELECT 'backend started'")).toBe("backend started");
        const pooled = await psqlIn(c.engine, [net(c, "app")], c.run.dsns(c.cluster).DATABASE_SERVICE_URL, "SELECT 'through pgbouncer'");
        expect(pooled.code, pooled.stderr).toBe(0);
        expect(pooled.stdout.trim()).toBe("through pgbouncer");
    } finally {
        await waitFor("the bomb's processes gone", 60_000, async () => ((await processCount(c, pgbouncer)) <= before ? true : undefined));
    }
    const s = await c.engine.inspectContainer(pgbouncer);
    expect(s.State.Running).toBe(true);
    expect(s.State.OOMKilled, "killed for memory").toBe(false);
    expect(s.RestartCount, "pgBouncer restarted").toBe(0);
}

/**
 * Postgres under its memory limit survives a pooled load: pgbench's select-only transactions
 * from `clients` clients through pgbouncer:6432 (transaction pooling, app_user) for `seconds`,
 * its tables made through the session-mode alias as a migration would make them. Every
 * transaction succeeds, and Postgres is neither killed for memory nor restarted. The tables go
 * afterwards.
 */
export async function expectSurvivesPooledLoad(c: ClusterUnderTest, image: string, clients = 40, seconds = 15): Promise<void> {
    const postgres = `${c.environment}-${c.cluster}-postgres`;
    const before = await c.engine.inspectContainer(postgres);
    const d = c.run.dsns(c.cluster);
    const pgbench = (dsn: string, args: string, timeoutMs = 300_000) =>
        throwaway(c.engine, {
            networks: [net(c, "app")],
            image,
            stdin: `${dsn}\n`,
            script: `read -r url; exec pgbench ${args} "$url"`,
            timeoutMs,
        });
    const init = await pgbench(d.DATABASE_MIGRATE_URL, "-i -s 2 -q");
    expect(init.code, init.stderr).toBe(0);
    try {
        const run = await pgbench(d.DATABASE_URL, `-S -n -c ${clients} -j 2 -T ${seconds}`);
        expect(run.code, `${run.stdout}\n${run.stderr}`).toBe(0);
        expect(run.stdout).toMatch(/number of failed transactions: 0 /);
        const tps = /tps = ([\d.]+)/.exec(run.stdout)?.[1];
        expect(Number(tps)).toBeGreaterThan(0);
        const stats = await docker(c.engine, ["stats", "--no-stream", "--format", "{{.MemUsage}}", postgres]);
        console.log(`pooled load: ${clients} clients ${seconds} s, ${tps} tps; ${postgres} memory ${stats.stdout.trim()}`);
    } finally {
        const drop = await psqlIn(
            c.engine,
            [net(c, "app")],
            d.DATABASE_MIGRATE_URL,
            "DROP TABLE IF EXISTS pgbench_accounts, pgbench_branches, pgbench_history, pgbench_tellers",
        );
        expect(drop.code, drop.stderr).toBe(0);
    }
    const after = await c.engine.inspectContainer(postgres);
    expect(after.HostConfig.Memory).toBeGreaterThan(0);
    expect(after.State.OOMKilled, "Postgres killed for memory").toBe(false);
    expect(after.RestartCount, "Postgres restarted").toBe(before.RestartCount);
    expect(after.State.StartedAt).toBe(before.State.StartedAt);
}
