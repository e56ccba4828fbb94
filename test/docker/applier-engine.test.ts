/**
 * The applier against the engine on a small program that uses every container input it
 * implements (programs/features.ts): each input must show up in `docker inspect` or inside
 * the container, a second apply without changes touches nothing, and destroy removes it all.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { execFile } from "node:child_process";
import { promisify } from "node:util";
import { afterAll, describe, expect, it } from "vitest";
import type { Engine } from "./apply/engine";
import type { StackState } from "./apply/types";
import { docker, freePorts, PGBOUNCER_IMAGE, requireEngine, ROOT } from "./harness";
import { setupOnce } from "./setup-once";

const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
let engine: Engine;
let dir: string;
let port: number;
let first: { steps: { urn: string; kind: string }[] };

async function cli(extra: string[]): Promise<{ steps: { urn: string; kind: string }[]; error?: string }> {
    const args = [
        path.join(__dirname, "apply", "cli.ts"),
        "--stack",
        "dev",
        "--state",
        path.join(dir, "state.json"),
        "--targets",
        path.join(dir, "targets.json"),
        "--program",
        path.join(__dirname, "programs", "features.ts"),
        ...extra,
    ];
    const r = await promisify(execFile)(TSX, args, { cwd: ROOT, env: { ...process.env, FEAT_PORT: String(port) } }).catch(
        (e) => e as { stdout: string; stderr: string },
    );
    const out = JSON.parse(r.stdout.trim().split("\n").pop()!);
    if (out.error) throw new Error(`${out.error}\n${r.stderr}`);
    return out;
}
const state = (): StackState => JSON.parse(fs.readFileSync(path.join(dir, "state.json"), "utf8"));
const byName = (n: string) => state().resources.find((r) => r.name === n)!;

setupOnce(async () => {
    engine = await requireEngine([PGBOUNCER_IMAGE]);
    for (const n of ["feat-main", "feat-readonly", "feat-once"]) await docker(engine, ["rm", "-f", n]);
    for (const n of ["feat-a"]) await docker(engine, ["network", "rm", n]);
    await docker(engine, ["volume", "rm", "feat-vol"]);
    dir = fs.mkdtempSync(path.join(os.tmpdir(), "applier-engine-"));
    [port] = await freePorts(1);
    fs.writeFileSync(path.join(dir, "targets.json"), JSON.stringify({ engineHost: engine.host, dockerHosts: {}, s3Endpoints: {} }));
    first = await cli([]);
}, 1_800_000);

afterAll(async () => {
    if (dir && fs.existsSync(path.join(dir, "state.json"))) await cli(["--destroy", "--include-retained"]).catch(() => undefined);
});

describe("the applier on the engine", () => {
    it("creates every resource of the program, in dependency order", () => {
        expect(first.steps.map((s) => s.kind).every((k) => k === "create")).toBe(true);
        expect(first.steps.length).toBe(6);
        const order = first.steps.map((s) => s.urn.split("::").pop());
        expect(order.indexOf("feat-once")).toBeGreaterThan(order.indexOf("feat-main"));
    });

    it("names an unnamed network like the engine: <logical name>-<7 hex>", () => {
        expect(String(byName("feat-b").inputs.name)).toMatch(/^feat-b-[0-9a-f]{7}$/);
    });

    it("applies env, labels, user, workdir, hostname, entrypoint, mounts, caps, security opts, restart, stop signal, ulimits, healthcheck and aliases", async () => {
        const s = await engine.inspectContainer("feat-main");
        expect(s.Config.Env).toContain("FEAT=1");
        expect(s.Config.Labels["feat.role"]).toBe("main");
        expect(s.Config.User).toBe("postgres");
        expect(s.Config.WorkingDir).toBe("/tmp");
        expect(s.Config.Hostname).toBe("feathost");
        expect(s.Config.Entrypoint).toEqual(["sh", "-c"]);
        expect(s.Config.Cmd).toEqual(["trap 'exit 0' INT; sleep 600 & wait"]);
        expect(s.Config.StopSignal).toBe("SIGINT");
        expect(s.Config.StopTimeout).toBe(5);
        expect(s.Config.Healthcheck.Test).toEqual(["CMD-SHELL", "test -r /run/feat/secret"]);
        expect(s.Config.Healthcheck.Interval).toBe(1e9);
        expect(s.State.Health.Status).toBe("healthy");
        expect(s.HostConfig.RestartPolicy).toEqual({ Name: "on-failure", MaximumRetryCount: 2 });
        expect(s.HostConfig.CapDrop).toEqual(["ALL"]);
        expect(s.HostConfig.CapAdd).toEqual(["CHOWN"]);
        expect(s.HostConfig.SecurityOpt).toEqual(["no-new-privileges"]);
        expect(s.HostConfig.Ulimits).toEqual([{ Name: "nofile", Soft: 2048, Hard: 4096 }]);
        expect([s.HostConfig.Memory, s.HostConfig.MemorySwap]).toEqual([96 * 1024 * 1024, 96 * 1024 * 1024]);
        const data = s.Mounts.find((m: { Destination: string }) => m.Destination === "/data");
        expect([data.Type, data.Name, data.RW]).toEqual(["volume", "feat-vol", false]);
        expect(s.HostConfig.Mounts.find((m: { Target: string }) => m.Target === "/scratch")).toMatchObject({
            Type: "tmpfs",
            TmpfsOptions: { SizeBytes: 1048576 },
        });
        expect(s.NetworkSettings.Networks["feat-a"].Aliases).toEqual(expect.arrayContaining(["alpha", "beta"]));
        expect(Object.keys(s.NetworkSettings.Networks).sort()).toEqual(["feat-a", byName("feat-b").inputs.name].sort());
        const net = await engine.json("GET", "/networks/feat-a");
        expect(net.Internal).toBe(true);
        expect(net.Labels["db-tier.network"]).toBe("db-only");
    });

    it("uploads files before the start with their mode, root's when no owner is named, never through env or argv", async () => {
        const r = await docker(engine, ["exec", "-u", "0", "feat-main", "stat", "-c", "%a %u %g", "/run/feat/secret", "/run/feat/tool.sh"]);
        expect(r.stdout.trim().split("\n")).toEqual(["444 0 0", "744 0 0"]);
        const inspect = (await docker(engine, ["inspect", "feat-main"])).stdout;
        expect(inspect).not.toContain("feat-secret-content");
    });

    it("makes a read-only root filesystem with a tmpfs and publishes a port on 127.0.0.1 only", async () => {
        const s = await engine.inspectContainer("feat-readonly");
        expect(s.HostConfig.ReadonlyRootfs).toBe(true);
        expect(s.HostConfig.Tmpfs).toEqual({ "/tmp": "size=1m" });
        expect(s.HostConfig.PortBindings["6432/tcp"]).toEqual([{ HostIp: "127.0.0.1", HostPort: String(port) }]);
        const w = await docker(engine, ["exec", "feat-readonly", "sh", "-c", "touch /etc/x 2>&1; touch /tmp/x && echo tmp-ok"]);
        expect(w.stdout).toMatch(/Read-only file system/);
        expect(w.stdout).toMatch(/tmp-ok/);
    });

    it("runs an attached container to completion after its dependency and keeps its exit code and logs as outputs", () => {
        const once = byName("feat-once");
        expect(once.outputs.exitCode).toBe(3);
        expect(once.outputs.containerLogs).toBe("hello from once\n");
        expect(state().outputs.onceExit).toBe(3);
    });

    it("changes nothing on a second apply with the same inputs", async () => {
        const ids = Object.fromEntries(state().resources.map((r) => [r.urn, r.id]));
        const again = await cli([]);
        expect(again.steps.map((s) => s.kind)).toEqual(Array(6).fill("same"));
        expect(Object.fromEntries(state().resources.map((r) => [r.urn, r.id]))).toEqual(ids);
    });

    it("destroys everything, the retained ones included when asked; a container with destroyGraceSeconds gets to stop cleanly", async () => {
        const since = Math.floor(Date.now() / 1000) - 1;
        await cli(["--destroy", "--include-retained"]);
        for (const c of ["feat-main", "feat-readonly", "feat-once"]) expect(await engine.exists("containers", c)).toBe(false);
        // The engine's own record of how each stopped: feat-main ran its SIGINT trap (exit 0)
        // within its grace; feat-readonly (sleep as PID 1, no grace) was killed (137).
        const filters = encodeURIComponent(JSON.stringify({ type: ["container"], event: ["die"] }));
        const events = (await engine.raw("GET", `/events?since=${since}&until=${Math.ceil(Date.now() / 1000) + 1}&filters=${filters}`)).body
            .toString("utf8")
            .trim()
            .split("\n")
            .map((l) => JSON.parse(l) as { Actor: { Attributes: Record<string, string> } });
        const exitOf = (n: string) => events.find((e) => e.Actor.Attributes.name === n)?.Actor.Attributes.exitCode;
        expect(exitOf("feat-main")).toBe("0");
        expect(exitOf("feat-readonly")).toBe("137");
        expect(await engine.exists("networks", "feat-a")).toBe(false);
        expect(await engine.exists("volumes", "feat-vol")).toBe(false);
    });
});
