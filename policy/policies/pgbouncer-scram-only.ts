/** pgBouncer authenticates clients with SCRAM-SHA-256 and nothing else. */
import { CONTAINER_TYPE, argv, uploadsOf } from "../lib/docker";
import { pgbouncerIniPath, resolvePgbouncerIni } from "../lib/config-files";
import { resourcePolicy } from "../lib/kit";
import { hasRole } from "../lib/roles";

export const pgbouncerScramOnly = resourcePolicy(
    {
        name: "pgbouncer-scram-only",
        description:
            "A pgbouncer container runs with an uploaded pgbouncer.ini whose `auth_type` is `scram-sha-256` (read from the file its command names, includes followed).",
        remediationSteps:
            "Render pgbouncer.ini with render/pgbouncer.ts (`auth_type = scram-sha-256`, SCRAM verifiers in the auth file), " +
            "upload it into the container and start `pgbouncer <that path>`. md5, plain, trust, any, hba and cert are not allowed.",
        severity: "high",
    },
    [CONTAINER_TYPE],
    (r, ctx) => {
        if (!hasRole(r, "pgbouncer", ctx)) return;
        const cmd = argv(r.props.command);
        if (cmd === "unknown") return ctx.defer(`the command of pgbouncer container ${r.label}`);
        const ini = cmd ? pgbouncerIniPath(cmd) : undefined;
        if (!ini) {
            ctx.report(`pgbouncer container ${r.label} does not start pgbouncer with an ini file on its command line, so its auth_type cannot be verified; run \`pgbouncer <uploaded ini>\`.`);
            return;
        }
        const { uploads, unknownFiles } = uploadsOf(r.props);
        const conf = resolvePgbouncerIni(ini, uploads);
        if (conf.unknownFiles.length > 0 || (unknownFiles && conf.unreadable.length > 0)) {
            return ctx.defer(`the pgbouncer.ini of pgbouncer container ${r.label}`);
        }
        for (const why of conf.unreadable) ctx.report(`pgbouncer container ${r.label}: ${why}, so its auth_type cannot be verified.`);
        if (conf.unreadable.length > 0) return;
        const auth = conf.settings.get("auth_type");
        if (auth === undefined) ctx.report(`pgbouncer container ${r.label} sets no auth_type in ${ini}, so pgBouncer uses its default, md5.`);
        else if (auth.toLowerCase() !== "scram-sha-256") ctx.report(`pgbouncer container ${r.label} uses auth_type = ${auth} in ${ini}; only scram-sha-256 is allowed.`);
    },
);
