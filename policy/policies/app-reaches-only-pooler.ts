/**
 * Applications reach the database only through pgBouncer: no application container on the
 * tier's private networks, and no tier container opens another door on the host.
 */
import type { PolicyResource } from "@pulumi/policy";
import type { ContainerRole } from "../shared/vocabulary";
import { DockerView, publishedPorts } from "../lib/docker";
import { stackPolicy } from "../lib/kit";
import { isUnknown, plain } from "../lib/values";

export interface AppReachesOnlyPoolerConfig {
    /** Host addresses a published port may bind (pgBouncer, the embedded object store). */
    readonly allowedHostAddresses: string[];
}

/** Docker's own networks, which are never a tier network (and need no declaration in the stack). */
const NON_TIER_NETWORKS: readonly string[] = ["bridge", "default", "host", "none"];

/** Tier containers that may publish a port (on an allowed address): the pooler and the dev object store. */
const MAY_PUBLISH: readonly ContainerRole[] = ["pgbouncer", "object-store"];

export const appReachesOnlyPooler = stackPolicy<AppReachesOnlyPoolerConfig>(
    {
        name: "app-reaches-only-pooler",
        description:
            "No container without a db-tier.role label (an application container) is on a `db-only` or `backup-egress` network, " +
            "and no tier container publishes a port except pgBouncer and the object store, each only on an allowed host address.",
        remediationSteps:
            "Put application containers on the cluster's `app` network and connect them to `pgbouncer:6432` with the DSN outputs. " +
            "If a tier container must be published, bind it to an address listed in this policy's `allowedHostAddresses` " +
            "(policy/config/<stack>.json); a dev stack binds 127.0.0.1 only.",
        severity: "critical",
        configSchema: {
            properties: {
                allowedHostAddresses: {
                    type: "array",
                    items: { type: "string", minLength: 1 },
                    default: ["127.0.0.1"],
                    description: "Host addresses a published pgBouncer or object-store port may bind. 0.0.0.0 means every address.",
                },
            },
        },
        defaults: { allowedHostAddresses: ["127.0.0.1"] },
    },
    (resources: readonly PolicyResource[], ctx) => {
        const view = new DockerView(resources);
        const allowed = ctx.config.allowedHostAddresses;
        for (const c of view.containers) {
            const urn = c.resource.urn;
            const m = view.effectiveMembership(c);
            const private_ = m.networks.filter(
                (n) => n.kind.state === "kind" && (n.kind.kind === "db-only" || n.kind.kind === "backup-egress"),
            );
            if (c.role.state === "unknown") {
                if (private_.length > 0) ctx.defer(`the db-tier.role label of container ${c.label}`, urn);
                continue;
            }
            if (c.role.state === "app") {
                for (const n of private_) {
                    const kind = n.kind.state === "kind" ? n.kind.kind : "";
                    const what =
                        c.role.label !== undefined
                            ? `its db-tier.role "${c.role.label}" is not a tier role`
                            : "it has no db-tier.role label";
                    ctx.report(
                        `Application container ${c.label} (${what}) is on ${kind} network ${n.label}; applications may reach only pgBouncer, on the app network.`,
                        urn,
                    );
                }
                // Fail closed: an attachment this policy cannot resolve might be a private network.
                if (view.hasTierNetworks()) {
                    for (const why of m.unresolved) {
                        ctx.report(
                            `Cannot resolve what application container ${c.label} is attached to: ${why}. Failing closed: it may be on a db-only or backup-egress network.`,
                            urn,
                        );
                    }
                    for (const name of m.foreign.filter((f) => !NON_TIER_NETWORKS.includes(f))) {
                        ctx.report(
                            `Cannot resolve what application container ${c.label} is attached to: network "${name}" is no docker.Network of this stack (by name or id), ` +
                                "so this policy cannot tell whether it is a db-only or backup-egress network. Failing closed: declare it in this stack with its db-tier.network label, or attach the container to the tier's app network.",
                            urn,
                        );
                    }
                }
                if (m.unknown) ctx.defer(`the networks of application container ${c.label}`, urn);
                for (const n of m.networks) {
                    if (n.kind.state === "unknown") ctx.defer(`the db-tier.network label of network ${n.label}`, n.resource.urn);
                }
                continue;
            }
            // A tier container: is it a door on the host?
            const role = c.role.role;
            if (role === "postgres") continue; // postgres-no-published-ports owns that question
            const { ports, unknown, publishAll } = publishedPorts(c.props);
            if (unknown) ctx.defer(`the ports of ${role} container ${c.label}`, urn);
            if (publishAll === "unknown") ctx.defer(`publishAllPorts of ${role} container ${c.label}`, urn);
            if (publishAll === true)
                ctx.report(`${role} container ${c.label} sets publishAllPorts, which publishes on every host address.`, urn);
            const mode = plain(c.props.networkMode);
            if (isUnknown(mode)) ctx.defer(`networkMode of ${role} container ${c.label}`, urn);
            if (mode === "host")
                ctx.report(`${role} container ${c.label} uses host networking, so everything it listens on is on the host.`, urn);
            for (const p of ports) {
                if (!MAY_PUBLISH.includes(role)) {
                    ctx.report(
                        `${role} container ${c.label} publishes port ${p.internal ?? "?"} on the host; only pgBouncer and the object store may publish.`,
                        urn,
                    );
                    continue;
                }
                if (p.ipUnknown) {
                    ctx.defer(`the host address of ${role} container ${c.label}'s port ${p.internal ?? "?"}`, urn);
                    continue;
                }
                const ip = p.ip === undefined || p.ip === "" ? "0.0.0.0" : p.ip;
                if (!allowed.includes(ip)) {
                    const every = ip === "0.0.0.0" || ip === "::" ? " (every host address)" : "";
                    ctx.report(
                        `${role} container ${c.label} publishes port ${p.internal ?? "?"} on ${ip}${every}; allowed host addresses: ${allowed.join(", ") || "none"}.`,
                        urn,
                    );
                }
            }
        }
    },
);
