/**
 * Every tier container gives code running in it as little as possible: all capabilities
 * dropped and only its role's documented ones added back, no new privileges, not privileged,
 * and limits on memory (no swap) and processes (`ulimit nproc`; the Docker provider has no
 * pids limit).
 */
import { CONTAINER_TYPE, containerRole } from "../lib/docker";
import { resourcePolicy } from "../lib/kit";
import { asArray, asBoolean, asNumber, asObject, asString, containsUnknown, isUnknown, plain } from "../lib/values";
import { ADDED_CAPABILITIES, NO_NEW_PRIVILEGES } from "../shared/vocabulary";

/** `CAP_CHOWN` and `chown` are the engine's CHOWN. */
const capName = (c: string) => c.toUpperCase().replace(/^CAP_/, "");

export const tierContainerHardened = resourcePolicy(
    {
        name: "tier-container-hardened",
        description:
            "A tier container (any db-tier.role) drops ALL capabilities and adds back only its role's documented ones, sets " +
            "no-new-privileges, is not privileged, and has a memory limit without swap (memorySwap = memory) and a process limit (ulimit nproc).",
        remediationSteps:
            "Spread components/container-hardening.ts `hardening(role, limits)` into the container's arguments: " +
            '`capabilities: { drops: ["ALL"], adds: <ADDED_CAPABILITIES[role]> }`, `securityOpts: ["no-new-privileges:true"]`, ' +
            "`memory` and `memorySwap` (MB, equal), and a `nproc` ulimit. Remove `privileged`. docs/SECURITY.md lists each role's capabilities.",
        severity: "high",
    },
    [CONTAINER_TYPE],
    (r, ctx) => {
        const role = containerRole(r.props);
        if (role.state === "unknown") return ctx.defer(`the db-tier.role label of container ${r.label}`);
        if (role.state !== "role") return;
        const what = `${role.role} container ${r.label}`;

        // A value with an unknown part anywhere is decided after `up`, never guessed.
        const caps = plain(r.props.capabilities);
        if (containsUnknown(caps)) ctx.defer(`the capabilities of ${what}`);
        else {
            const c = asObject(caps) ?? {};
            const drops = asArray(c.drops) ?? [];
            const adds = asArray(c.adds) ?? [];
            if (!drops.some((d) => typeof d === "string" && capName(d) === "ALL"))
                ctx.report(`${what} does not drop ALL capabilities (capabilities.drops); it keeps the engine's default set.`);
            const allowed = ADDED_CAPABILITIES[role.role];
            const extra = adds.map((a) => capName(String(a))).filter((a) => !allowed.includes(a));
            if (extra.length > 0)
                ctx.report(
                    `${what} adds capabilities ${extra.join(", ")}; a ${role.role} container may add ${allowed.length > 0 ? allowed.join(", ") : "none"}.`,
                );
        }

        const opts = plain(r.props.securityOpts);
        if (containsUnknown(opts)) ctx.defer(`the securityOpts of ${what}`);
        else if (!(asArray(opts) ?? []).some((o) => typeof o === "string" && /^no-new-privileges(:true|=true)?$/.test(o)))
            ctx.report(`${what} does not set securityOpts ${NO_NEW_PRIVILEGES}: a setuid binary in it could raise privileges.`);

        const privileged = plain(r.props.privileged);
        if (isUnknown(privileged)) ctx.defer(`privileged of ${what}`);
        else if (asBoolean(privileged) === true) ctx.report(`${what} is privileged: every capability and every device of the host.`);

        const memory = plain(r.props.memory);
        const swap = plain(r.props.memorySwap);
        if (isUnknown(memory) || isUnknown(swap)) ctx.defer(`the memory limit of ${what}`);
        else {
            const m = asNumber(memory);
            if (m === undefined || m <= 0) ctx.report(`${what} has no memory limit (memory, MB): one leak can take the host's memory.`);
            else if (asNumber(swap) !== m)
                ctx.report(
                    `${what} has memorySwap ${asNumber(swap) ?? "unset"} instead of its memory ${m}: it may swap (set memorySwap = memory).`,
                );
        }

        const ulimits = plain(r.props.ulimits);
        if (containsUnknown(ulimits)) ctx.defer(`the ulimits of ${what}`);
        else {
            const nproc = (asArray(ulimits) ?? []).map(asObject).find((u) => u && asString(u.name) === "nproc");
            const hard = nproc ? asNumber(nproc.hard) : undefined;
            if (hard === undefined || hard <= 0)
                ctx.report(`${what} has no process limit (a nproc ulimit): a fork bomb in it is bounded only by the host.`);
        }
    },
);
