/** Postgres archives every WAL segment with WAL-G, at least every RPO seconds. */
import { MAX_RPO_SECONDS } from "../shared/vocabulary";
import { argv, CONTAINER_TYPE, uploadsOf } from "../lib/docker";
import { parsePostgresCommand, pgBool, pgSeconds, resolvePostgresqlConf } from "../lib/config-files";
import { resourcePolicy } from "../lib/kit";
import { hasRole } from "../lib/roles";

export interface WalArchivingConfig {
    /** RPO ceiling: archive_timeout must be at or below it. */
    readonly rpoSeconds: number;
}

/** A WAL-G push of the segment Postgres hands over (%p), however the binary is quoted. */
const WALG_PUSH = /(^|[\s'"/;&|(])wal-g['"]?\s+wal-push\s+['"]?%p\b/;

export const walArchivingEnabled = resourcePolicy<WalArchivingConfig>(
    {
        name: "wal-archiving-enabled",
        description:
            "A postgres container starts the server with `config_file` pointing at an uploaded postgresql.conf in which " +
            "(with command-line overrides applied) archive_mode is on, archive_command pushes %p with WAL-G, and " +
            "archive_timeout is at most the configured RPO (default 300 s).",
        remediationSteps:
            "Start Postgres as `postgres -c config_file=/etc/postgresql/postgresql.conf` with that file rendered by " +
            "render/postgresql-conf.ts and uploaded; keep archive_mode = on, archive_command = '... wal-g wal-push \"%p\"' and " +
            "archive_timeout at or below the stack's RPO (db-tier:backup.rpoSeconds). Do not override them with -c flags.",
        severity: "critical",
        configSchema: {
            properties: {
                rpoSeconds: {
                    type: "integer",
                    minimum: 1,
                    maximum: MAX_RPO_SECONDS,
                    default: MAX_RPO_SECONDS,
                    description: "RPO ceiling in seconds: archive_timeout must be at or below it.",
                },
            },
        },
        defaults: { rpoSeconds: MAX_RPO_SECONDS },
    },
    [CONTAINER_TYPE],
    (r, ctx) => {
        if (!hasRole(r, "postgres", ctx)) return;
        const who = `Postgres container ${r.label}`;
        const entrypoint = argv(r.props.entrypoint);
        const command = argv(r.props.command);
        if (entrypoint === "unknown" || command === "unknown") return ctx.defer(`the command of ${who}`);
        if (!command || command.length === 0) {
            ctx.report(
                `${who} runs the image's default command, so the uploaded postgresql.conf is not used; start it with -c config_file=<uploaded file>.`,
            );
            return;
        }
        const inv = parsePostgresCommand([...(entrypoint ?? []), ...command]);
        if (!inv.runsPostgres) {
            ctx.report(`${who}'s command does not start the postgres server directly, so its archive settings cannot be verified.`);
            return;
        }
        const configFile = inv.settings.get("config_file");
        if (!configFile) {
            ctx.report(
                `${who} does not point config_file at an uploaded postgresql.conf, so the server uses the data directory's own file, which the tier does not deploy.`,
            );
            return;
        }
        const { uploads, unknownFiles } = uploadsOf(r.props);
        const conf = resolvePostgresqlConf(configFile, uploads);
        if (conf.unknownFiles.length > 0 || (unknownFiles && conf.unreadable.length > 0)) {
            return ctx.defer(`the postgresql.conf of ${who}`);
        }
        if (conf.unreadable.length > 0) {
            for (const why of conf.unreadable) ctx.report(`${who}: config_file ${why}, so its archive settings cannot be verified.`);
            return;
        }
        for (const line of conf.syntaxErrors)
            ctx.report(`${who}: postgresql.conf line "${line}" is not valid; the server would not start.`);
        const settings = new Map(conf.settings);
        for (const [k, v] of inv.settings) settings.set(k, v);
        const from = (k: string) => (inv.settings.has(k) ? "on the command line" : `in ${configFile}`);

        const mode = settings.get("archive_mode");
        if (mode === undefined) ctx.report(`${who} leaves archive_mode at its default, off.`);
        else if (mode.toLowerCase() !== "always" && pgBool(mode) !== true)
            ctx.report(`${who} sets archive_mode = ${mode} ${from("archive_mode")}; it must be on.`);

        const walLevel = settings.get("wal_level");
        if (walLevel !== undefined && walLevel.toLowerCase() === "minimal")
            ctx.report(`${who} sets wal_level = minimal ${from("wal_level")}, which cannot archive.`);

        const library = settings.get("archive_library");
        if (library !== undefined && library.trim() !== "")
            ctx.report(`${who} sets archive_library = '${library}' ${from("archive_library")}, which replaces the WAL-G archive_command.`);

        const cmd = settings.get("archive_command");
        if (cmd === undefined || cmd.trim() === "")
            ctx.report(`${who} has no archive_command; it must push each segment with WAL-G (wal-g wal-push "%p").`);
        else if (!WALG_PUSH.test(cmd))
            ctx.report(`${who}'s archive_command ${from("archive_command")} does not push %p with WAL-G (wal-g wal-push "%p").`);

        const rpo = ctx.config.rpoSeconds;
        const timeout = settings.get("archive_timeout");
        if (timeout === undefined)
            ctx.report(
                `${who} leaves archive_timeout at its default, 0 (never forces a segment switch), so a quiet server may never archive; set it at or below ${rpo} s.`,
            );
        else {
            const seconds = pgSeconds(timeout);
            if (seconds === undefined)
                ctx.report(`${who} sets archive_timeout = ${timeout} ${from("archive_timeout")}, which is not a valid time.`);
            else if (seconds <= 0)
                ctx.report(
                    `${who} sets archive_timeout = ${timeout} ${from("archive_timeout")}, which disables it; set it at or below ${rpo} s.`,
                );
            else if (seconds > rpo)
                ctx.report(
                    `${who} sets archive_timeout = ${timeout} ${from("archive_timeout")} (${seconds} s), above the RPO ceiling of ${rpo} s.`,
                );
        }
    },
);
