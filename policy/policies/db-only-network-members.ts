/** A db-only network is internal and holds only the tier's own database containers. */
import type { PolicyResource } from "@pulumi/policy";
import { DB_ONLY_MEMBERS } from "../shared/vocabulary";
import { DockerView } from "../lib/docker";
import { stackPolicy } from "../lib/kit";
import { asBoolean, isUnknown, plain } from "../lib/values";

export const dbOnlyNetworkMembers = stackPolicy(
    {
        name: "db-only-network-members",
        description:
            `A \`db-only\` network is internal (no route out) and its members are only ${DB_ONLY_MEMBERS.join(", ")} containers ` +
            "(by their db-tier.role labels; an unlabeled container is an application container).",
        remediationSteps:
            "Create db-only networks with `internal: true`. Take every other container off them: applications belong on the " +
            "`app` network with pgBouncer, the object store on `backup-egress`.",
        severity: "high",
    },
    (resources: readonly PolicyResource[], ctx) => {
        const view = new DockerView(resources);
        const dbOnly = view.networks.filter((n) => n.kind.state === "kind" && n.kind.kind === "db-only");
        for (const n of view.networks) {
            if (n.kind.state === "unknown") ctx.defer(`the db-tier.network label of network ${n.label}`, n.resource.urn);
        }
        for (const n of dbOnly) {
            const internal = plain(n.props.internal);
            if (isUnknown(internal)) ctx.defer(`whether db-only network ${n.label} is internal`, n.resource.urn);
            else if (asBoolean(internal) !== true) {
                ctx.report(`db-only network ${n.label} is not internal, so its members have a route out of the host.`, n.resource.urn);
            }
        }
        for (const c of view.containers) {
            const allowed = c.role.state === "role" && DB_ONLY_MEMBERS.includes(c.role.role);
            if (allowed) continue;
            const m = view.effectiveMembership(c);
            const on = m.networks.filter((n) => dbOnly.includes(n));
            for (const n of on) {
                if (c.role.state === "unknown")
                    ctx.defer(`the db-tier.role label of container ${c.label} on db-only network ${n.label}`, c.resource.urn);
                else if (c.role.state === "app") {
                    const what = c.role.label !== undefined ? `role "${c.role.label}", which is not a tier role` : "no db-tier.role label";
                    ctx.report(
                        `Container ${c.label} (${what}: an application container) is on db-only network ${n.label}.`,
                        c.resource.urn,
                    );
                } else {
                    ctx.report(
                        `Container ${c.label} with role ${c.role.role} is on db-only network ${n.label}; only ${DB_ONLY_MEMBERS.join(", ")} may be.`,
                        c.resource.urn,
                    );
                }
            }
            // Fail closed: an attachment that cannot be resolved may be a db-only network.
            if (view.hasTierNetworks()) {
                const who = c.role.state === "role" ? `${c.role.role} container ${c.label}` : `container ${c.label}`;
                for (const why of m.unresolved) {
                    ctx.report(
                        `Cannot resolve what ${who} is attached to: ${why}. Failing closed: it may be on a db-only network, where only ${DB_ONLY_MEMBERS.join(", ")} may be.`,
                        c.resource.urn,
                    );
                }
            }
            if (m.unknown && dbOnly.length > 0) ctx.defer(`the networks of container ${c.label}`, c.resource.urn);
        }
    },
);
