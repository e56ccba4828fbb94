/** Secrets reach containers as files, never as environment values. */
import { CONTAINER_TYPE, envOf, findUpload, isWithin, mountTargets, normalizePath } from "../lib/docker";
import { resourcePolicy } from "../lib/kit";

/** Environment names that carry secrets (the contract's list, matched anywhere in the name). */
export const SECRET_NAME = /PASSWORD|SECRET|KEY|TOKEN/i;

export const noInlineSecrets = resourcePolicy(
    {
        name: "no-inline-secrets",
        description:
            "No container environment variable with a secret-like name (PASSWORD, SECRET, KEY, TOKEN) carries a value; " +
            "`NAME_FILE=/path` is allowed when the path is a file uploaded into the container or lies on a mounted volume.",
        remediationSteps:
            "Upload the secret as a file (docker.Container `uploads`, content marked secret, mode 0400) and pass " +
            "`NAME_FILE=<that path>` instead of `NAME=<secret>`; the official images read *_FILE variables.",
        severity: "critical",
    },
    [CONTAINER_TYPE],
    (r, ctx) => {
        const env = envOf(r.props);
        if (env.unknown > 0)
            ctx.defer(
                `${env.allUnknown ? "the environment" : `${env.unknown} environment entr${env.unknown === 1 ? "y" : "ies"}`} of container ${r.label}`,
            );
        for (const { name, value } of env.entries) {
            if (!SECRET_NAME.test(name)) continue;
            if (name.toUpperCase().endsWith("_FILE")) {
                if (!value.startsWith("/")) {
                    ctx.report(`Container ${r.label}: ${name} must be an absolute path to a mounted file.`);
                    continue;
                }
                const upload = findUpload(r.props, value);
                if (upload.state === "found") continue;
                const mounts = mountTargets(r.props);
                if (mounts.targets.some((t) => isWithin(value, t))) continue;
                if (upload.state === "unknown" || mounts.unknown) {
                    ctx.defer(`whether ${name} of container ${r.label} points to a mounted file`);
                    continue;
                }
                ctx.report(
                    `Container ${r.label}: ${name} points to ${normalizePath(value)}, which is neither uploaded into the container nor on a mounted volume.`,
                );
            } else if (value !== "") {
                // Never echo the value: it is the secret.
                ctx.report(
                    `Container ${r.label} carries a secret in environment variable ${name}; pass ${name}_FILE pointing to an uploaded file instead.`,
                );
            }
        }
    },
);
