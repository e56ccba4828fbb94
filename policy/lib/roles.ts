/** Shared guards of the container policies: "is this a <role> container?", unknowns deferred. */
import type { ContainerRole } from "../shared/vocabulary";
import { containerRole } from "./docker";
import type { CheckContext, ResourceView } from "./kit";

/**
 * True when the container carries `db-tier.role=<role>`. While the label is unknown the
 * question is deferred and the container is skipped.
 */
export function hasRole(r: ResourceView, role: ContainerRole, ctx: CheckContext<object>): boolean {
    const read = containerRole(r.props);
    if (read.state === "unknown") {
        ctx.defer(`the db-tier.role label of container ${r.label}`);
        return false;
    }
    return read.state === "role" && read.role === role;
}
