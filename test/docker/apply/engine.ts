/**
 * A small Docker Engine API client over the test engine's Unix socket: what the applier and
 * the tests need (JSON requests, tar uploads into containers, logs), nothing else. Only the
 * socket named by DBTIER_DOCKER_HOST (or DOCKER_HOST) is ever used, so the tests can never
 * reach another daemon by accident.
 */
import * as http from "node:http";
import { spawn } from "node:child_process";

export class EngineError extends Error {
    constructor(
        message: string,
        readonly status?: number,
    ) {
        super(message);
        this.name = "EngineError";
    }
}

/** `unix:///path/to/docker.sock` → the socket path; anything else is refused. */
export function socketPathOf(host: string): string {
    const m = /^unix:\/\/(\/.+)$/.exec(host);
    if (!m) throw new EngineError(`test engine host must be unix:///path (got ${JSON.stringify(host)})`);
    return m[1];
}

/** The test engine's host, from the environment H5a's engine script sets up. */
export function testEngineHost(): string {
    const host = process.env.DBTIER_DOCKER_HOST ?? process.env.DOCKER_HOST;
    if (!host)
        throw new EngineError("no test engine: DBTIER_DOCKER_HOST (or DOCKER_HOST) is not set; start it with scripts/docker-engine.sh");
    return host;
}

export interface EngineResponse {
    readonly status: number;
    readonly body: Buffer;
}

const API = "/v1.41";

export class Engine {
    readonly socketPath: string;

    constructor(readonly host: string = testEngineHost()) {
        this.socketPath = socketPathOf(host);
    }

    raw(
        method: string,
        path: string,
        body?: Buffer | string,
        headers: Record<string, string> = {},
        timeoutMs = 600_000,
    ): Promise<EngineResponse> {
        return new Promise((resolve, reject) => {
            const req = http.request({ socketPath: this.socketPath, method, path: `${API}${path}`, headers, timeout: timeoutMs }, (res) => {
                const chunks: Buffer[] = [];
                res.on("data", (c: Buffer) => chunks.push(c));
                res.on("end", () => resolve({ status: res.statusCode ?? 0, body: Buffer.concat(chunks) }));
                res.on("error", reject);
            });
            req.on("timeout", () => req.destroy(new EngineError(`${method} ${path}: timed out after ${timeoutMs} ms`)));
            req.on("error", (e) =>
                reject(new EngineError(`${method} ${path}: ${(e as Error).message} (is the test engine running on ${this.host}?)`)),
            );
            if (body !== undefined) req.write(body);
            req.end();
        });
    }

    /** A JSON request; non-2xx answers become EngineError with the engine's message. */
    async json<T = any>(method: string, path: string, body?: unknown, okStatuses: number[] = []): Promise<T> {
        const payload = body === undefined ? undefined : JSON.stringify(body);
        const res = await this.raw(method, path, payload, payload ? { "Content-Type": "application/json" } : {});
        if ((res.status < 200 || res.status >= 300) && !okStatuses.includes(res.status)) {
            let msg = res.body.toString("utf8");
            try {
                msg = JSON.parse(msg).message ?? msg;
            } catch {
                /* plain text */
            }
            throw new EngineError(`${method} ${path}: ${res.status} ${msg.trim()}`, res.status);
        }
        if (res.body.length === 0) return undefined as T;
        try {
            return JSON.parse(res.body.toString("utf8")) as T;
        } catch {
            return res.body.toString("utf8") as T;
        }
    }

    async ping(): Promise<void> {
        const res = await this.raw("GET", "/_ping", undefined, {}, 5000);
        if (res.status !== 200) throw new EngineError(`test engine on ${this.host} answers ${res.status} to /_ping`);
    }

    async exists(kind: "containers" | "networks" | "volumes" | "images", nameOrId: string): Promise<boolean> {
        const path =
            kind === "containers"
                ? `/containers/${encodeURIComponent(nameOrId)}/json`
                : `/${kind}/${encodeURIComponent(nameOrId)}${kind === "images" ? "/json" : ""}`;
        const res = await this.raw("GET", path);
        if (res.status === 404) return false;
        if (res.status === 200) return true;
        throw new EngineError(`GET ${path}: ${res.status} ${res.body.toString("utf8")}`, res.status);
    }

    inspectContainer(nameOrId: string): Promise<any> {
        return this.json("GET", `/containers/${encodeURIComponent(nameOrId)}/json`);
    }

    /** stdout and stderr of a container, demultiplexed (no TTY). */
    async logs(nameOrId: string): Promise<string> {
        const res = await this.raw("GET", `/containers/${encodeURIComponent(nameOrId)}/logs?stdout=1&stderr=1`);
        if (res.status !== 200) throw new EngineError(`logs of ${nameOrId}: ${res.status} ${res.body.toString("utf8")}`, res.status);
        return demux(res.body);
    }

    /** Copies a tar archive into a container (created or running), extracted at `path`. */
    async putArchive(nameOrId: string, path: string, tar: Buffer, copyUIDGID = false): Promise<void> {
        const query = `path=${encodeURIComponent(path)}${copyUIDGID ? "&copyUIDGID=true" : ""}`;
        const res = await this.raw("PUT", `/containers/${encodeURIComponent(nameOrId)}/archive?${query}`, tar, {
            "Content-Type": "application/x-tar",
        });
        if (res.status !== 200) throw new EngineError(`upload into ${nameOrId}: ${res.status} ${res.body.toString("utf8")}`, res.status);
    }

    /** Runs the docker CLI against the test engine only (builds, which need .dockerignore handling). */
    cli(
        args: string[],
        opts: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {},
    ): Promise<{ code: number; stdout: string; stderr: string }> {
        return runCli(this.host, args, opts);
    }
}

export function runCli(
    host: string,
    args: string[],
    opts: { input?: string | Buffer; env?: Record<string, string>; timeoutMs?: number } = {},
): Promise<{ code: number; stdout: string; stderr: string }> {
    return new Promise((resolve, reject) => {
        // Only this engine: DOCKER_HOST pinned, no context or config that could point elsewhere.
        const env = { ...process.env, DOCKER_HOST: host, DOCKER_CONTEXT: "", DOCKER_BUILDKIT: "0", ...(opts.env ?? {}) };
        delete (env as Record<string, string | undefined>).DOCKER_CONTEXT;
        const child = spawn("docker", args, { env, stdio: ["pipe", "pipe", "pipe"] });
        const out: Buffer[] = [];
        const err: Buffer[] = [];
        child.stdout.on("data", (c: Buffer) => out.push(c));
        child.stderr.on("data", (c: Buffer) => err.push(c));
        const timer = opts.timeoutMs ? setTimeout(() => child.kill("SIGKILL"), opts.timeoutMs) : undefined;
        child.on("error", reject);
        // A command that exits before it reads its input (a container that failed at once, a
        // refused login) closes the pipe: EPIPE on our write. That is its result, not a crash
        // of the test process; and a command that says it succeeded without its input did not.
        let stdinError: Error | undefined;
        child.stdin.on("error", (e) => (stdinError = e));
        child.on("close", (code) => {
            if (timer) clearTimeout(timer);
            const stderr =
                Buffer.concat(err).toString("utf8") + (stdinError ? `\n(its input was not delivered: ${stdinError.message})` : "");
            resolve({ code: stdinError && code === 0 ? -1 : (code ?? -1), stdout: Buffer.concat(out).toString("utf8"), stderr });
        });
        child.stdin.end(opts.input ?? "");
    });
}

/** The engine's multiplexed stream (8-byte frame headers) as text. */
export function demux(buf: Buffer): string {
    const parts: Buffer[] = [];
    let i = 0;
    while (i + 8 <= buf.length && buf[i] <= 2 && buf[i + 1] === 0 && buf[i + 2] === 0 && buf[i + 3] === 0) {
        const size = buf.readUInt32BE(i + 4);
        parts.push(buf.subarray(i + 8, i + 8 + size));
        i += 8 + size;
    }
    if (i === 0) return buf.toString("utf8");
    return Buffer.concat(parts).toString("utf8");
}
