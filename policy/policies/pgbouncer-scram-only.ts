/** pgBouncer authenticates clients with SCRAM-SHA-256 and nothing else. */
import { CONTAINER_TYPE } from "../lib/docker";
import { resourcePolicy } from "../lib/kit";
import { runningPgbouncerIni } from "../lib/pgbouncer-ini";
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
        const found = runningPgbouncerIni(r, ctx, "its auth_type", "; run `pgbouncer <uploaded ini>`");
        if (!found) return;
        const { ini, conf } = found;
        const auth = conf.settings.get("auth_type");
        if (auth === undefined)
            ctx.report(`pgbouncer container ${r.label} sets no auth_type in ${ini}, so pgBouncer uses its default, md5.`);
        else if (auth.toLowerCase() !== "scram-sha-256")
            ctx.report(`pgbouncer container ${r.label} uses auth_type = ${auth} in ${ini}; only scram-sha-256 is allowed.`);
    },
);
