/**
 * The pgbouncer.ini a pgbouncer container really runs: the file its command names, with its
 * includes, from the container's uploads. Shared by the pgBouncer policies so they read it
 * the same way, defer alike while it is unknown, and report alike when it cannot be read.
 */
import { argv, uploadsOf } from "./docker";
import { pgbouncerIniPath, type ResolvedConfig, resolvePgbouncerIni } from "./config-files";
import type { CheckContext, ResourceView } from "./kit";

/**
 * The resolved ini, or undefined after deferring or reporting. `what` names what the policy
 * checks ("its auth_type"); `hint` is appended to the no-ini-on-the-command-line report.
 */
export function runningPgbouncerIni<C>(
    r: ResourceView,
    ctx: CheckContext<C>,
    what: string,
    hint = "",
): { ini: string; conf: ResolvedConfig } | undefined {
    const cmd = argv(r.props.command);
    if (cmd === "unknown") {
        ctx.defer(`the command of pgbouncer container ${r.label}`);
        return undefined;
    }
    const ini = cmd ? pgbouncerIniPath(cmd) : undefined;
    if (!ini) {
        ctx.report(
            `pgbouncer container ${r.label} does not start pgbouncer with an ini file on its command line, so ${what} cannot be verified${hint}.`,
        );
        return undefined;
    }
    const { uploads, unknownFiles } = uploadsOf(r.props);
    const conf = resolvePgbouncerIni(ini, uploads);
    if (conf.unknownFiles.length > 0 || (unknownFiles && conf.unreadable.length > 0)) {
        ctx.defer(`the pgbouncer.ini of pgbouncer container ${r.label}`);
        return undefined;
    }
    for (const why of conf.unreadable) ctx.report(`pgbouncer container ${r.label}: ${why}, so ${what} cannot be verified.`);
    return conf.unreadable.length > 0 ? undefined : { ini, conf };
}
