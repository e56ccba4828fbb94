/**
 * docker.Image (local build, no push) and docker.RemoteImage. Images are built by the test
 * engine from the Dockerfile and context the resource names, with the classic builder (the
 * CLI here has no buildx); the engine's layer cache makes a rebuild of unchanged inputs cheap.
 * Nothing can be pulled on these machines, so a RemoteImage must already be on the engine
 * (built by the image script); otherwise it is an error, never a silent substitute.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { map, NotImplementedError, object } from "../strict";
import type { ResourceImpl } from "../types";
import { checkImageInputs } from "../../harness";
import { engineOf } from "./docker-common";

export const dockerImage: ResourceImpl = {
    providerKind: "docker",
    inputs: {
        imageName: "string",
        build: object({ context: "string", dockerfile: "string", platform: "string", args: map("string"), target: "string" }),
        skipPush: "boolean",
        buildOnPreview: "boolean",
    },
    async create(inputs, ctx) {
        const engine = engineOf(ctx);
        if (inputs.skipPush !== true)
            throw new NotImplementedError(`${ctx.type}: pushing to a registry is not implemented; set skipPush (${ctx.urn})`);
        const imageName = inputs.imageName as string;
        const build = (inputs.build ?? {}) as {
            context?: string;
            dockerfile?: string;
            platform?: string;
            args?: Record<string, string>;
            target?: string;
        };
        const context = path.resolve(build.context ?? ".");
        const dockerfile = path.resolve(context, build.dockerfile ?? "Dockerfile");
        if (!fs.existsSync(dockerfile)) throw new NotImplementedError(`${ctx.type}: Dockerfile ${dockerfile} does not exist (${ctx.urn})`);
        const version = await engine.json<{ Os: string; Arch: string }>("GET", "/version");
        const enginePlatform = `${version.Os}/${version.Arch}`;
        // The classic builder builds for the engine's platform only; another one is an error.
        if (build.platform && build.platform !== enginePlatform) {
            throw new NotImplementedError(
                `${ctx.type}: platform ${build.platform} differs from the test engine's ${enginePlatform} (${ctx.urn})`,
            );
        }
        const prebuilt = ctx.targets.prebuiltImages?.[imageName];
        if (
            prebuilt &&
            path.resolve(prebuilt.dockerfile) === dockerfile &&
            path.resolve(prebuilt.context) === context &&
            !build.args &&
            !build.target
        ) {
            const res = await engine.raw("GET", `/images/${encodeURIComponent(imageName)}/json`);
            if (res.status === 404)
                throw new Error(
                    `${ctx.type} ${ctx.name}: ${imageName} is not on the test engine: run scripts/docker-images.sh (${ctx.urn})`,
                );
            const image = JSON.parse(res.body.toString("utf8")) as { Id: string; Config?: { Labels?: Record<string, string> } };
            if (!image.Config?.Labels?.["db-tier.inputs"])
                throw new Error(
                    `${ctx.type} ${ctx.name}: ${imageName} on the engine was not built by scripts/docker-images.sh (no db-tier.inputs label)`,
                );
            // The label must be this run's inputs, not any earlier build's.
            checkImageInputs(imageName, image.Config.Labels);
            ctx.note(`${imageName}: prebuilt by scripts/docker-images.sh from ${dockerfile} (${image.Id.slice(0, 19)})`);
            return {
                id: image.Id,
                outputs: {
                    imageName,
                    repoDigest: image.Id,
                    baseImageName: imageName,
                    context,
                    dockerfile,
                    platform: build.platform ?? enginePlatform,
                    registryServer: "",
                },
            };
        }
        const args = ["build", "-q", "-t", imageName, "-f", dockerfile];
        for (const [k, v] of Object.entries(build.args ?? {})) args.push("--build-arg", `${k}=${v}`);
        if (build.target) args.push("--target", build.target);
        args.push(context);
        const started = Date.now();
        const r = await engine.cli(args, { timeoutMs: 30 * 60_000 });
        if (r.code !== 0)
            throw new Error(
                `${ctx.type} ${ctx.name}: docker build of ${dockerfile} failed (exit ${r.code}):\n${(r.stderr + r.stdout).slice(-4000)}`,
            );
        const image = await engine.json<{ Id: string }>("GET", `/images/${encodeURIComponent(imageName)}/json`);
        ctx.note(`built ${imageName} (${image.Id.slice(0, 19)}) in ${Math.round((Date.now() - started) / 1000)} s`);
        // A local-only image's repoDigest is its image ID (the provider's documented behaviour).
        return {
            id: image.Id,
            outputs: {
                imageName,
                repoDigest: image.Id,
                baseImageName: imageName,
                context,
                dockerfile,
                platform: build.platform ?? enginePlatform,
                registryServer: "",
            },
        };
    },
    async delete() {
        // Like the provider with the image kept locally: built images stay on the engine.
    },
};

export const dockerRemoteImage: ResourceImpl = {
    providerKind: "docker",
    inputs: { name: "string", keepLocally: "boolean" },
    async create(inputs, ctx) {
        const name = inputs.name as string;
        const res = await engineOf(ctx).raw("GET", `/images/${encodeURIComponent(name)}/json`);
        if (res.status === 404)
            throw new NotImplementedError(
                `${ctx.type}: ${name} is not on the test engine and no registry can be reached from here (${ctx.urn})`,
            );
        const image = JSON.parse(res.body.toString("utf8")) as { Id: string; RepoDigests?: string[] };
        return { id: `${image.Id}${name}`, outputs: { imageId: image.Id, repoDigest: image.RepoDigests?.[0] ?? image.Id } };
    },
    async delete() {},
};
