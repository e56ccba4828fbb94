/** Postgres joins only its db-only network and its backup-egress route. */
import type { PolicyResource } from "@pulumi/policy";
import { POSTGRES_NETWORKS } from "../shared/vocabulary";
import { DockerView } from "../lib/docker";
import { stackPolicy } from "../lib/kit";

export const postgresNetworkIsolation = stackPolicy(
    {
        name: "postgres-network-isolation",
        description:
            "A postgres container is on no network other than `db-only` and `backup-egress` (by the networks' db-tier.network labels).",
        remediationSteps:
            "Attach Postgres only to its cluster's `db-only` network (with the `postgres` alias) and its `backup-egress` network " +
            "(networksAdvanced, by network name). Applications reach Postgres through pgBouncer on the `app` network.",
        severity: "critical",
    },
    (resources: readonly PolicyResource[], ctx) => {
        const view = new DockerView(resources);
        for (const c of view.containers) {
            if (c.role.state === "unknown") {
                ctx.defer(`the db-tier.role label of container ${c.label}`, c.resource.urn);
                continue;
            }
            if (c.role.state !== "role" || c.role.role !== "postgres") continue;
            const m = view.effectiveMembership(c);
            const urn = c.resource.urn;
            if (m.host) ctx.report(`Postgres container ${c.label} uses host networking.`, urn);
            if (m.defaultBridge)
                ctx.report(`Postgres container ${c.label} joins no named network, so Docker puts it on the default bridge.`, urn);
            for (const why of m.unresolved) {
                ctx.report(
                    `Cannot resolve what Postgres container ${c.label} is attached to: ${why}. Failing closed: Postgres may join only ${POSTGRES_NETWORKS.join(" and ")}.`,
                    urn,
                );
            }
            for (const name of m.foreign) {
                ctx.report(`Postgres container ${c.label} joins network "${name}", which is not a db-tier network of this stack.`, urn);
            }
            for (const n of m.networks) {
                if (n.kind.state === "unknown") ctx.defer(`the db-tier.network label of network ${n.label}`, n.resource.urn);
                else if (n.kind.state === "none") {
                    ctx.report(
                        `Postgres container ${c.label} joins network ${n.label}, which has no db-tier.network label (only ${POSTGRES_NETWORKS.join(" and ")} are allowed).`,
                        urn,
                    );
                } else if (!POSTGRES_NETWORKS.includes(n.kind.kind)) {
                    ctx.report(
                        `Postgres container ${c.label} joins the ${n.kind.kind} network ${n.label}; Postgres may only join ${POSTGRES_NETWORKS.join(" and ")}.`,
                        urn,
                    );
                }
            }
            if (m.unknown) ctx.defer(`the networks of Postgres container ${c.label}`, urn);
        }
    },
);
