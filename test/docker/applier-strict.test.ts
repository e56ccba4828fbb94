/**
 * The applier's strictness and its update semantics, without an engine: an unknown type or
 * input is an error naming it (never dropped); the dev and production stacks use nothing it
 * lacks (the control); same inputs keep a resource, changed inputs or --replace replace it.
 */
import { execFile } from "node:child_process";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { promisify } from "node:util";
import { describe, expect, it } from "vitest";
import { Applier } from "./apply/applier";
import { NotImplementedError } from "./apply/strict";
import type { Targets } from "./apply/types";

const ROOT = path.resolve(__dirname, "..", "..");
const TSX = path.join(ROOT, "node_modules", ".bin", "tsx");
const targets: Targets = { engineHost: "unix:///nonexistent/docker.sock", dockerHosts: {}, s3Endpoints: {} };

const reg = (type: string, inputs: Record<string, unknown>, name = "r") => ({
    type,
    name,
    urn: `urn:pulumi:t::p::${type}::${name}`,
    inputs,
    deleteBeforeReplace: false,
    retainOnDelete: false,
});

async function checkOnly(stack: string, program?: string): Promise<{ code: number; out: Record<string, unknown> }> {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "applier-strict-"));
    fs.writeFileSync(path.join(dir, "targets.json"), JSON.stringify(targets));
    const args = [
        path.join(__dirname, "apply", "cli.ts"),
        "--stack",
        stack,
        "--state",
        path.join(dir, "state.json"),
        "--targets",
        path.join(dir, "targets.json"),
        "--check-only",
    ];
    if (program) args.push("--program", program);
    try {
        const r = await promisify(execFile)(TSX, args, { cwd: ROOT });
        return { code: 0, out: JSON.parse(r.stdout.trim().split("\n").pop()!) };
    } catch (e) {
        const err = e as { code: number; stdout: string };
        return { code: err.code, out: JSON.parse(err.stdout.trim().split("\n").pop()!) };
    } finally {
        fs.rmSync(dir, { recursive: true, force: true });
    }
}

describe("strict inputs", () => {
    const a = () => new Applier(targets, undefined, [], true);

    it("rejects a resource type it does not implement, naming it", async () => {
        await expect(a().register(reg("docker:index/service:Service", { name: "s" }))).rejects.toThrow(
            /docker:index\/service:Service: resource type not implemented/,
        );
    });

    it("rejects a top-level input it does not implement, naming type and property", async () => {
        await expect(a().register(reg("docker:index/container:Container", { name: "c", image: "i", privileged: true }))).rejects.toThrow(
            /docker:index\/container:Container: input "privileged" is not implemented/,
        );
    });

    it("rejects a nested input it does not implement, with its path", async () => {
        await expect(
            a().register(
                reg("docker:index/container:Container", {
                    name: "c",
                    image: "i",
                    volumes: [
                        { volumeName: "v", containerPath: "/a" },
                        { hostPath: "/etc", containerPath: "/b" },
                    ],
                }),
            ),
        ).rejects.toThrow(/input "volumes\[1\]\.hostPath" is not implemented/);
        await expect(
            a().register(reg("docker:index/network:Network", { name: "n", ipamConfigs: [{ subnet: "10.0.0.0/24" }] })),
        ).rejects.toThrow(/input "ipamConfigs"/);
    });

    it("refuses a long-running container that mounts a volume without destroyGraceSeconds (the provider would SIGKILL it)", async () => {
        await expect(
            a().register(
                reg("docker:index/container:Container", {
                    name: "c",
                    image: "i",
                    volumes: [{ volumeName: "data", containerPath: "/data" }],
                }),
            ),
        ).rejects.toThrow(/c: mounts volume data but sets no destroyGraceSeconds/);
    });

    it("rejects a value of another kind than it implements", async () => {
        await expect(a().register(reg("docker:index/container:Container", { name: "c", image: "i", restart: 3 }))).rejects.toThrow(
            /input "restart" is a number/,
        );
    });

    it("accepts what it implements (control)", async () => {
        await expect(
            a().register(
                reg("docker:index/container:Container", {
                    name: "c",
                    image: "i",
                    restart: "no",
                    readOnly: true,
                    capabilities: { drops: ["ALL"] },
                }),
            ),
        ).resolves.toBeDefined();
    });

    it("fails a program with an unknown type and one with an unknown input, through the CLI", async () => {
        const t = await checkOnly("dev", path.join(__dirname, "programs", "unknown-type.ts"));
        expect(t.code).toBe(1);
        expect(String(t.out.error)).toMatch(/docker:index\/service:Service: resource type not implemented/);
        const i = await checkOnly("dev", path.join(__dirname, "programs", "unknown-input.ts"));
        expect(i.code).toBe(1);
        expect(String(i.out.error)).toMatch(/input "privileged" is not implemented/);
    }, 120_000);

    it("implements every type and input of the dev and production stacks (control)", async () => {
        for (const stack of ["dev", "production"]) {
            const r = await checkOnly(stack);
            expect(r.out.error, stack).toBeUndefined();
            expect(r.code).toBe(0);
            expect(r.out.outputs).toEqual(
                expect.arrayContaining(["DATABASE_URL", "DATABASE_SERVICE_URL", "DATABASE_MIGRATE_URL", "backupEncryptionKeys"]),
            );
        }
    }, 120_000);
});

describe("update semantics (providerless resources, no engine)", () => {
    const pw = (length: number) => reg("random:index/randomPassword:RandomPassword", { length, special: false }, "pw");

    it("generates real random values: two creates differ", async () => {
        const one = await new Applier(targets, undefined).register(pw(40));
        const two = await new Applier(targets, undefined).register(pw(40));
        expect(String(one.outputs.result)).toMatch(/^[A-Za-z0-9]{40}$/);
        expect(one.outputs.result).not.toBe(two.outputs.result);
    });

    it("keeps a resource whose inputs did not change, replaces one whose inputs did, and honours --replace", async () => {
        const first = new Applier(targets, undefined);
        const created = await first.register(pw(40));
        const state = await first.finish({});

        const same = new Applier(targets, state);
        expect((await same.register(pw(40))).outputs.result).toBe(created.outputs.result);
        expect(same.steps.map((s) => s.kind)).toEqual(["same"]);

        const changed = new Applier(targets, state);
        const longer = await changed.register(pw(48));
        expect(String(longer.outputs.result)).toHaveLength(48);
        expect(changed.steps.map((s) => s.kind)).toEqual(["replace"]);

        const forced = new Applier(targets, state, [pw(40).urn]);
        expect((await forced.register(pw(40))).outputs.result).not.toBe(created.outputs.result);
        expect(forced.steps.map((s) => s.kind)).toEqual(["replace"]);
    });

    it("deletes what the program no longer registers, and only forgets retained resources", async () => {
        const first = new Applier(targets, undefined);
        await first.register(pw(40));
        await first.register({ ...reg("random:index/randomBytes:RandomBytes", { length: 32 }, "kept"), retainOnDelete: true });
        const next = new Applier(targets, await first.finish({}));
        const state = await next.finish({});
        expect(state.resources).toEqual([]);
        expect(next.steps.map((s) => [s.kind, s.type])).toEqual([
            ["forget", "random:index/randomBytes:RandomBytes"],
            ["delete", "random:index/randomPassword:RandomPassword"],
        ]);
    });

    it("is an error, not a guess, when a provider host or endpoint is not mapped", async () => {
        const a = new Applier(targets, undefined);
        await a.register(reg("pulumi:providers:docker", { host: "ssh://deploy@db-1.internal" }, "docker"));
        await expect(
            a.register({
                ...reg("docker:index/network:Network", { name: "n" }),
                provider: "urn:pulumi:t::p::pulumi:providers:docker::docker",
            }),
        ).rejects.toThrow(/host "ssh:\/\/deploy@db-1.internal" is not mapped/);
        expect(NotImplementedError).toBeDefined();
    });
});
