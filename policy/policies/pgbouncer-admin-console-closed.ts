/** pgBouncer's admin console (the `pgbouncer` database) cannot be reached from outside its container. */
import { CONTAINER_TYPE, isWithin, mountTargets } from "../lib/docker";
import { resourcePolicy } from "../lib/kit";
import { runningPgbouncerIni } from "../lib/pgbouncer-ini";
import { hasRole } from "../lib/roles";

/** pgBouncer's compiled-in default for unix_socket_dir. */
const DEFAULT_SOCKET_DIR = "/tmp";

export const pgbouncerAdminConsoleClosed = resourcePolicy(
    {
        name: "pgbouncer-admin-console-closed",
        description:
            "A pgbouncer's admin console is closed to the network: `admin_users` and `stats_users` are empty, `auth_type` is not " +
            "`any`, and its Unix socket (if any) is not on a mounted volume that something outside the container can reach.",
        remediationSteps:
            "Leave `admin_users` and `stats_users` empty and set `unix_socket_dir =` (empty) in pgbouncer.ini, as " +
            "render/pgbouncer.ts does. Inspect pgBouncer with `docker exec` and its logs instead of the console.",
        severity: "high",
    },
    [CONTAINER_TYPE],
    (r, ctx) => {
        if (!hasRole(r, "pgbouncer", ctx)) return;
        const found = runningPgbouncerIni(r, ctx, "its admin console settings");
        if (!found) return;
        const { conf } = found;
        for (const key of ["admin_users", "stats_users"]) {
            const v = (conf.settings.get(key) ?? "").trim();
            if (v !== "")
                ctx.report(`pgbouncer container ${r.label} lists ${key} = ${v}, who can open the admin console over the network.`);
        }
        if ((conf.settings.get("auth_type") ?? "").toLowerCase() === "any") {
            ctx.report(`pgbouncer container ${r.label} uses auth_type = any, which lets any user log in to the admin console.`);
        }
        const socketDir = (conf.settings.get("unix_socket_dir") ?? DEFAULT_SOCKET_DIR).trim();
        if (socketDir !== "") {
            const mounts = mountTargets(r.props);
            const shared = mounts.targets.find((t) => isWithin(socketDir, t));
            if (shared)
                ctx.report(
                    `pgbouncer container ${r.label} puts its Unix socket in ${socketDir}, on the mount ${shared}, so the console is reachable from outside the container.`,
                );
            else if (mounts.unknown) ctx.defer(`the mounts of pgbouncer container ${r.label}`);
        }
    },
);
