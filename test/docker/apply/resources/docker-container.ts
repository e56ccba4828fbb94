/**
 * docker.Container as the Docker provider creates it: `docker create` with the image,
 * command, env, labels, user, mounts, ports, restart policy, healthcheck, ulimits, first
 * network (with aliases), then the other networks, then the `uploads` copied in as a tar
 * archive before the first start (so secret files never pass through env or argv), then
 * start; `attach` waits for the exit (exit code and, with `logs`, the logs as outputs),
 * `wait` waits for `healthy` within `waitTimeout`, and `mustRun` (the default) requires the
 * container to be running. Every other input is an error (see strict.ts).
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { list, map, NotImplementedError, object } from "../strict";
import { tarOf, type TarFile } from "../tar";
import type { ApplyContext, ResourceImpl } from "../types";
import { durationNs, engineOf, labelMap, sleep } from "./docker-common";

interface Upload {
    file: string;
    content?: string;
    contentBase64?: string;
    /** A file on the machine running the provider (relative to its working directory, the project directory). */
    source?: string;
    /** Only a change trigger for `source`, as in the provider. */
    sourceHash?: string;
    executable?: boolean;
    owner?: string;
    group?: string;
    permissions?: string;
}

const RESTART = new Set(["no", "always", "unless-stopped", "on-failure"]);

function numericId(v: string | undefined, what: string, ctx: ApplyContext): number {
    if (v === undefined) return 0;
    if (!/^\d+$/.test(v))
        throw new NotImplementedError(`${ctx.type}: ${what} "${v}" is not numeric; only numeric owners are implemented (${ctx.urn})`);
    return Number(v);
}

export function uploadArchive(uploads: readonly Upload[], ctx: ApplyContext): Buffer {
    const files: TarFile[] = uploads.map((u) => {
        const given = [u.content, u.contentBase64, u.source].filter((x) => x !== undefined).length;
        if (given !== 1)
            throw new NotImplementedError(`${ctx.type}: upload ${u.file} needs exactly one of content, contentBase64, source (${ctx.urn})`);
        let content: Buffer;
        if (u.source !== undefined) {
            const file = path.resolve(u.source);
            if (!fs.existsSync(file))
                throw new Error(`${ctx.type}: upload ${u.file}: source ${u.source} does not exist in ${process.cwd()} (${ctx.urn})`);
            content = fs.readFileSync(file);
        } else {
            content = u.contentBase64 !== undefined ? Buffer.from(u.contentBase64, "base64") : Buffer.from(u.content ?? "", "utf8");
        }
        if (u.permissions !== undefined && !/^0?[0-7]{3,4}$/.test(u.permissions))
            throw new NotImplementedError(`${ctx.type}: upload ${u.file} permissions "${u.permissions}" (${ctx.urn})`);
        const mode = u.permissions !== undefined ? parseInt(u.permissions, 8) : u.executable ? 0o744 : 0o644;
        if (!u.file.startsWith("/")) throw new NotImplementedError(`${ctx.type}: upload path ${u.file} is not absolute (${ctx.urn})`);
        return { path: u.file, content, mode, uid: numericId(u.owner, "owner", ctx), gid: numericId(u.group, "group", ctx) };
    });
    return tarOf(files);
}

export const dockerContainer: ResourceImpl = {
    providerKind: "docker",
    inputs: {
        name: "string",
        image: "string",
        command: list("string"),
        entrypoints: list("string"),
        envs: list("string"),
        labels: list(object({ label: "string", value: "string" })),
        user: "string",
        workingDir: "string",
        hostname: "string",
        networksAdvanced: list(object({ name: "string", aliases: list("string") })),
        volumes: list(object({ volumeName: "string", containerPath: "string", readOnly: "boolean" })),
        mounts: list(
            object({
                type: "string",
                source: "string",
                target: "string",
                readOnly: "boolean",
                tmpfsOptions: object({ sizeBytes: "number", mode: "number" }),
            }),
        ),
        tmpfs: map("string"),
        uploads: list(
            object({
                file: "string",
                content: "string",
                contentBase64: "string",
                source: "string",
                sourceHash: "string",
                executable: "boolean",
                owner: "string",
                group: "string",
                permissions: "string",
            }),
        ),
        ports: list(object({ internal: "number", external: "number", ip: "string", protocol: "string" })),
        restart: "string",
        maxRetryCount: "number",
        healthcheck: object({ tests: list("string"), interval: "string", timeout: "string", retries: "number", startPeriod: "string" }),
        capabilities: object({ adds: list("string"), drops: list("string") }),
        readOnly: "boolean",
        securityOpts: list("string"),
        memory: "number",
        memorySwap: "number",
        ulimits: list(object({ name: "string", soft: "number", hard: "number" })),
        stopSignal: "string",
        stopTimeout: "number",
        destroyGraceSeconds: "number",
        start: "boolean",
        mustRun: "boolean",
        attach: "boolean",
        logs: "boolean",
        wait: "boolean",
        waitTimeout: "number",
    },
    refuse: refuseUngracefulVolumeHolder,
    async create(inputs, ctx) {
        const engine = engineOf(ctx);
        const name = inputs.name as string;
        if (typeof name !== "string") throw new NotImplementedError(`${ctx.type}: auto-named containers are not implemented (${ctx.urn})`);
        const restart = (inputs.restart as string | undefined) ?? "no";
        if (!RESTART.has(restart)) throw new NotImplementedError(`${ctx.type}: restart "${restart}" (${ctx.urn})`);
        const networks = (inputs.networksAdvanced as { name: string; aliases?: string[] }[] | undefined) ?? [];

        const mounts: Record<string, unknown>[] = [];
        for (const v of (inputs.volumes as { volumeName?: string; containerPath?: string; readOnly?: boolean }[] | undefined) ?? []) {
            if (!v.volumeName || !v.containerPath)
                throw new NotImplementedError(`${ctx.type}: a volume needs volumeName and containerPath (${ctx.urn})`);
            mounts.push({ Type: "volume", Source: v.volumeName, Target: v.containerPath, ReadOnly: v.readOnly === true });
        }
        for (const m of (inputs.mounts as
            | { type: string; source?: string; target: string; readOnly?: boolean; tmpfsOptions?: { sizeBytes?: number; mode?: number } }[]
            | undefined) ?? []) {
            if (m.type !== "volume" && m.type !== "tmpfs")
                throw new NotImplementedError(`${ctx.type}: mount type "${m.type}" is not implemented (volume, tmpfs) (${ctx.urn})`);
            mounts.push({
                Type: m.type,
                Source: m.type === "volume" ? m.source : undefined,
                Target: m.target,
                ReadOnly: m.readOnly === true,
                TmpfsOptions: m.tmpfsOptions ? { SizeBytes: m.tmpfsOptions.sizeBytes, Mode: m.tmpfsOptions.mode } : undefined,
            });
        }
        const exposed: Record<string, object> = {};
        const bindings: Record<string, { HostIp: string; HostPort: string }[]> = {};
        for (const p of (inputs.ports as { internal: number; external?: number; ip?: string; protocol?: string }[] | undefined) ?? []) {
            const key = `${p.internal}/${p.protocol ?? "tcp"}`;
            exposed[key] = {};
            bindings[key] ??= [];
            bindings[key].push({ HostIp: p.ip ?? "0.0.0.0", HostPort: p.external !== undefined ? String(p.external) : "" });
        }
        const hc = inputs.healthcheck as
            | { tests?: string[]; interval?: string; timeout?: string; retries?: number; startPeriod?: string }
            | undefined;
        const caps = inputs.capabilities as { adds?: string[]; drops?: string[] } | undefined;
        const body = {
            Image: inputs.image,
            Cmd: inputs.command,
            Entrypoint: inputs.entrypoints,
            Env: inputs.envs ?? [],
            Labels: labelMap(inputs.labels),
            User: inputs.user,
            WorkingDir: inputs.workingDir,
            Hostname: inputs.hostname,
            ExposedPorts: exposed,
            StopSignal: inputs.stopSignal,
            StopTimeout: inputs.stopTimeout,
            Healthcheck: hc
                ? {
                      Test: hc.tests,
                      Interval: durationNs(hc.interval, "healthcheck.interval"),
                      Timeout: durationNs(hc.timeout, "healthcheck.timeout"),
                      StartPeriod: durationNs(hc.startPeriod, "healthcheck.startPeriod"),
                      Retries: hc.retries,
                  }
                : undefined,
            HostConfig: {
                Mounts: mounts,
                Tmpfs: inputs.tmpfs,
                PortBindings: bindings,
                RestartPolicy: {
                    Name: restart === "no" ? "" : restart,
                    MaximumRetryCount: restart === "on-failure" ? ((inputs.maxRetryCount as number | undefined) ?? 0) : 0,
                },
                CapAdd: caps?.adds,
                CapDrop: caps?.drops,
                ReadonlyRootfs: inputs.readOnly === true,
                SecurityOpt: inputs.securityOpts,
                // As the provider: megabytes in the inputs, bytes in the Engine API.
                Memory: typeof inputs.memory === "number" ? inputs.memory * 1024 * 1024 : undefined,
                MemorySwap: typeof inputs.memorySwap === "number" ? inputs.memorySwap * 1024 * 1024 : undefined,
                Ulimits: ((inputs.ulimits as { name: string; soft: number; hard: number }[] | undefined) ?? []).map((u) => ({
                    Name: u.name,
                    Soft: u.soft,
                    Hard: u.hard,
                })),
                NetworkMode: networks[0]?.name ?? "none",
            },
            NetworkingConfig: networks[0] ? { EndpointsConfig: { [networks[0].name]: { Aliases: networks[0].aliases ?? [] } } } : undefined,
        };
        const created = await engine.json<{ Id: string }>("POST", `/containers/create?name=${encodeURIComponent(name)}`, body);
        const id = created.Id;
        try {
            for (const n of networks.slice(1)) {
                await engine.json("POST", `/networks/${encodeURIComponent(n.name)}/connect`, {
                    Container: id,
                    EndpointConfig: { Aliases: n.aliases ?? [] },
                });
            }
            const uploads = [...((inputs.uploads as Upload[] | undefined) ?? []), ...(await standInCa(ctx, name, networks))];
            // As the provider: one copy per upload, with the Engine API's copyUIDGID exactly when
            // the upload names an owner or a group (which makes dockerd resolve the container's
            // user on the host: moby/moby#34142).
            for (const u of uploads)
                await engine.putArchive(id, "/", uploadArchive([u], ctx), u.owner !== undefined || u.group !== undefined);
            const outputs: Record<string, unknown> = {};
            if (inputs.start !== false) {
                await engine.json("POST", `/containers/${id}/start`, undefined, [304]);
                if (inputs.attach === true) {
                    const w = await engine.json<{ StatusCode: number }>("POST", `/containers/${id}/wait?condition=not-running`);
                    outputs.exitCode = w.StatusCode;
                    if (inputs.logs === true) outputs.containerLogs = await engine.logs(id);
                    ctx.note(`${name} ran to completion, exit code ${w.StatusCode}`);
                } else if (inputs.wait === true) {
                    if (!hc) throw new NotImplementedError(`${ctx.type}: wait needs a healthcheck (${ctx.urn})`);
                    await waitHealthy(ctx, id, name, ((inputs.waitTimeout as number | undefined) ?? 60) * 1000);
                } else if (inputs.mustRun !== false) {
                    await sleep(1000);
                    const s = await engine.inspectContainer(id);
                    if (!s.State.Running)
                        throw new Error(
                            `${ctx.type} ${name}: not running after start (exit ${s.State.ExitCode}); logs:\n${(await engine.logs(id)).slice(-3000)}`,
                        );
                }
            }
            const inspected = await engine.inspectContainer(id);
            outputs.networkDatas = Object.entries(inspected.NetworkSettings?.Networks ?? {}).map(([networkName, n]: [string, any]) => ({
                networkName,
                ipAddress: n.IPAddress,
                ipPrefixLength: n.IPPrefixLen,
                gateway: n.Gateway,
                macAddress: n.MacAddress,
            }));
            return { id, outputs };
        } catch (e) {
            // A failed create leaves nothing behind (the provider taints and the next up replaces).
            await engine.json("DELETE", `/containers/${id}?force=1`, undefined, [404]).catch(() => undefined);
            throw e;
        }
    },
    // As resourceDockerContainerDelete in terraform-provider-docker: a container that is not
    // `attach`ed is stopped with a timeout of destroyGraceSeconds, or 0 when unset (the stop
    // signal, then SIGKILL at once; stopTimeout plays no part), then removed by force.
    async delete(state, ctx) {
        const engine = engineOf(ctx);
        if (state.inputs.attach !== true) {
            const t = destroyGrace(state.inputs);
            await engine.json("POST", `/containers/${state.id}/stop?t=${t}`, undefined, [304, 404]);
        }
        await engine.json("DELETE", `/containers/${state.id}?force=1`, undefined, [404]);
    },
};

function destroyGrace(inputs: Record<string, unknown>): number {
    const g = inputs.destroyGraceSeconds as number | undefined;
    return g !== undefined && g > 0 ? g : 0;
}

/**
 * Stricter than the provider: a long-running container that mounts a volume holds state, and
 * without destroyGraceSeconds the provider would SIGKILL it on every replacement.
 */
function refuseUngracefulVolumeHolder(inputs: Record<string, unknown>, ctx: { type: string; urn: string }): void {
    if (inputs.attach === true || inputs.start === false) return;
    const volumes = [
        ...((inputs.volumes as { volumeName?: string }[] | undefined) ?? []).map((v) => v.volumeName),
        ...((inputs.mounts as { type: string; source?: string }[] | undefined) ?? [])
            .filter((m) => m.type === "volume")
            .map((m) => m.source),
    ];
    if (volumes.length > 0 && destroyGrace(inputs) === 0)
        throw new Error(
            `${ctx.type} ${String(inputs.name)}: mounts volume ${volumes.join(", ")} but sets no destroyGraceSeconds, so a replacement would SIGKILL it (${ctx.urn})`,
        );
}

/**
 * The harness's stand-in CA (targets.trustedCa) for a container on a network of that kind:
 * one more world-readable upload, the way the real service's public CA is already in the
 * image's bundle. Nothing the program declared is changed; the addition is noted.
 */
async function standInCa(ctx: ApplyContext, name: string, networks: { name: string }[]): Promise<Upload[]> {
    const ca = ctx.targets.trustedCa;
    if (!ca) return [];
    for (const n of networks) {
        const inspected = await engineOf(ctx).json<{ Labels?: Record<string, string> }>("GET", `/networks/${encodeURIComponent(n.name)}`);
        if (inspected.Labels?.["db-tier.network"] !== ca.networkLabel) continue;
        ctx.note(`${name}: stand-in CA uploaded as ${ca.file} (on ${n.name})`);
        return [{ file: ca.file, content: ca.pem, permissions: "0644" }];
    }
    return [];
}

async function waitHealthy(ctx: ApplyContext, id: string, name: string, timeoutMs: number): Promise<void> {
    const engine = engineOf(ctx);
    const started = Date.now();
    for (;;) {
        const s = await engine.inspectContainer(id);
        const health = s.State.Health?.Status;
        if (health === "healthy") {
            ctx.note(`${name} healthy after ${Math.round((Date.now() - started) / 1000)} s`);
            return;
        }
        if (!s.State.Running && !s.State.Restarting) {
            throw new Error(
                `${ctx.type} ${name}: exited (${s.State.ExitCode}) before becoming healthy; logs:\n${(await engine.logs(id)).slice(-3000)}`,
            );
        }
        if (Date.now() - started > timeoutMs) {
            throw new Error(
                `${ctx.type} ${name}: not healthy after ${timeoutMs / 1000} s (${health}); logs:\n${(await engine.logs(id)).slice(-3000)}`,
            );
        }
        await sleep(1000);
    }
}
