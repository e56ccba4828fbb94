/** A Postgres container publishes nothing on the host: it is reachable on db-only only. */
import { CONTAINER_TYPE, publishedPorts } from "../lib/docker";
import { resourcePolicy } from "../lib/kit";
import { hasRole } from "../lib/roles";
import { isUnknown, plain } from "../lib/values";

export const postgresNoPublishedPorts = resourcePolicy(
    {
        name: "postgres-no-published-ports",
        description:
            "A postgres container (db-tier.role=postgres) publishes no port on the host: no ports, no publishAllPorts, no host networking.",
        remediationSteps:
            "Remove `ports` (and `publishAllPorts`, `networkMode: host`) from the Postgres container. Applications connect " +
            "through pgBouncer on the `app` network; operators use `docker exec` or a pgBouncer port published on loopback.",
        severity: "critical",
    },
    [CONTAINER_TYPE],
    (r, ctx) => {
        if (!hasRole(r, "postgres", ctx)) return;
        const { ports, unknown, publishAll } = publishedPorts(r.props);
        for (const p of ports) {
            const where = `${p.ipUnknown ? "<address not known yet>" : p.ip || "0.0.0.0"}:${p.external ?? "<random>"}`;
            ctx.report(
                `Postgres container ${r.label} publishes port ${p.internal ?? "?"} on the host at ${where}; Postgres must be reachable only on its db-only network.`,
            );
        }
        if (unknown) ctx.defer(`the ports of Postgres container ${r.label}`);
        if (publishAll === true)
            ctx.report(`Postgres container ${r.label} sets publishAllPorts, which publishes 5432 on every host address.`);
        if (publishAll === "unknown") ctx.defer(`publishAllPorts of Postgres container ${r.label}`);
        const mode = plain(r.props.networkMode);
        if (mode === "host") ctx.report(`Postgres container ${r.label} uses host networking, so 5432 listens on the host itself.`);
        if (isUnknown(mode)) ctx.defer(`networkMode of Postgres container ${r.label}`);
    },
);
