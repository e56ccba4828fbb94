/** Every Postgres has a scheduled backup and a restore drill that runs at least monthly. */
import type { PolicyResource } from "@pulumi/policy";
import { CronError, longestGapDays, parseCron } from "../shared/cron";
import { SCHEDULE_ENV, typeToken } from "../shared/vocabulary";
import { argv, type ContainerInfo, DockerView, envValue, findUpload } from "../lib/docker";
import { asObject, asString } from "../lib/values";
import { stackPolicy } from "../lib/kit";

/** "At least monthly": no gap between two drills longer than the longest month. */
export const MAX_DRILL_GAP_DAYS = 31;
const TIER_COMPONENT = typeToken("DatabaseTier");

function tierOf(r: PolicyResource): PolicyResource | undefined {
    for (let p = r.parent; p; p = p.parent) if (p.type === TIER_COMPONENT) return p;
    return undefined;
}

type Schedule = { state: "ok"; gapDays: number } | { state: "bad"; why: string } | { state: "unknown" };

/** `node …/scheduler.js <backup|drill> <config.json>`: the job runner the scheduled containers run. */
const SCHEDULER = /(^|\/)scheduler(\.[cm]?[jt]s)?$/;

/**
 * The schedule a job container really runs on: the scheduler reads its env var when set and
 * non-empty, else the `schedule` of the config file its command names (an uploaded JSON).
 */
function schedule(c: ContainerInfo, kind: "backup" | "drill", env: string): Schedule {
    const cmd = argv(c.props.command);
    if (cmd === "unknown") return { state: "unknown" };
    const at = (cmd ?? []).findIndex((a) => SCHEDULER.test(a));
    if (!cmd || at < 0 || cmd[at + 1] !== kind) {
        return {
            state: "bad",
            why: `does not run the db-tier scheduler (node …/scheduler.js ${kind} <config.json>), so nothing runs on a schedule`,
        };
    }
    let source: string | undefined;
    let from = env;
    const v = envValue(c.props, env);
    if (v.state === "unknown") return { state: "unknown" };
    if (v.state === "value" && v.value.trim() !== "") source = v.value;
    else {
        const configPath = cmd[at + 2];
        const u = configPath ? findUpload(c.props, configPath) : { state: "absent" as const };
        if (u.state === "unknown" || (u.state === "found" && u.upload.contentUnknown)) return { state: "unknown" };
        if (u.state === "found" && u.upload.content !== undefined) {
            try {
                const s = asString(asObject(JSON.parse(u.upload.content))?.schedule);
                if (s) {
                    source = s;
                    from = `"schedule" of ${configPath}`;
                }
            } catch {
                return { state: "bad", why: `has no ${env} and its config ${configPath} is not valid JSON` };
            }
        }
    }
    if (source === undefined) return { state: "bad", why: `has no ${env} and no "schedule" in an uploaded config` };
    try {
        return { state: "ok", gapDays: longestGapDays(parseCron(source)) };
    } catch (e) {
        if (e instanceof CronError) return { state: "bad", why: `has an invalid ${from}: ${e.message}` };
        throw e;
    }
}

export const restoreDrillScheduled = stackPolicy(
    {
        name: "restore-drill-scheduled",
        description:
            "Every postgres container has a backup container and a restore-drill container that run the db-tier scheduler " +
            `(node …/scheduler.js backup|drill <config>) on a valid schedule (${SCHEDULE_ENV.backup} / ${SCHEDULE_ENV.drill}, else the ` +
            `config's "schedule"), the drill at least monthly (no gap over ${MAX_DRILL_GAP_DAYS} days). A job serves a Postgres when they ` +
            "share a network or the same DatabaseTier.",
        remediationSteps:
            "Deploy the cluster with DatabaseTier, which adds the BackupJob and RestoreDrill containers; set db-tier:backup.schedule " +
            "and db-tier:drill.schedule (5-field UTC cron; the drill at least monthly, e.g. `0 4 1 * *`).",
        severity: "high",
    },
    (resources: readonly PolicyResource[], ctx) => {
        const view = new DockerView(resources);
        const byRole = (role: string) => view.containers.filter((c) => c.role.state === "role" && c.role.role === role);
        const unknownRoles = view.containers.filter((c) => c.role.state === "unknown");
        const serves = (job: ContainerInfo, pg: ContainerInfo): boolean | "unknown" => {
            const tier = tierOf(pg.resource);
            if (tier && tierOf(job.resource) === tier) return true;
            const a = view.effectiveMembership(job);
            const b = view.effectiveMembership(pg);
            if (a.networks.some((n) => b.networks.includes(n))) return true;
            return a.unknown || b.unknown ? "unknown" : false;
        };
        for (const pg of byRole("postgres")) {
            const urn = pg.resource.urn;
            for (const [role, kind, env, label] of [
                ["backup", "backup", SCHEDULE_ENV.backup, "backup"],
                ["restore-drill", "drill", SCHEDULE_ENV.drill, "restore drill"],
            ] as const) {
                const jobs = byRole(role);
                const mine = jobs.filter((j) => serves(j, pg) === true);
                const maybe = jobs.some((j) => serves(j, pg) === "unknown") || unknownRoles.length > 0;
                const results = mine.map((j) => ({ job: j, s: schedule(j, kind, env) }));
                const good = results.filter((x) => x.s.state === "ok" && (role === "backup" || x.s.gapDays <= MAX_DRILL_GAP_DAYS));
                if (good.length > 0) continue;
                if (results.some((x) => x.s.state === "unknown") || (mine.length === 0 && maybe)) {
                    ctx.defer(`the ${label} schedule serving Postgres container ${pg.label}`, urn);
                    continue;
                }
                if (mine.length === 0) {
                    ctx.report(`Postgres container ${pg.label} has no ${role} container (db-tier.role=${role}) serving it.`, urn);
                    continue;
                }
                for (const { job, s } of results) {
                    if (s.state === "bad")
                        ctx.report(`The ${label} container ${job.label} of Postgres container ${pg.label} ${s.why}.`, job.resource.urn);
                    else if (s.state === "ok") {
                        ctx.report(
                            `The restore drill ${job.label} of Postgres container ${pg.label} runs with gaps of up to ${Math.round(s.gapDays)} days; it must run at least monthly (at most ${MAX_DRILL_GAP_DAYS} days apart).`,
                            job.resource.urn,
                        );
                    }
                }
            }
        }
    },
);
