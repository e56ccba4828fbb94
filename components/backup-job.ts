/**
 * The scheduled backup job of one cluster: `backup-push` on the configured cron, then the
 * retention the planner computes, then `wal-verify`, one JSON log line per run. Runs as
 * the postgres user from the Postgres image, reading the data volume (read-only) and
 * reaching Postgres over `db-only` and storage over `backup-egress`.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { CONTAINER_JOB_RUNNER } from "../plan/placement";
import { type BackupJobConfig, renderJobConfig } from "../render/job-config";
import { CONTAINER_PATHS, SCHEDULE_ENV, typeToken } from "../vocabulary";
import { hardening } from "./container-hardening";
import { roleLabels } from "./labels";
import { DESTROY_GRACE_SECONDS, secretUpload, type TierContainerArgs } from "./tier-container";

/** Where the image keeps the compiled job runner. */
export const JOB_RUNNER = CONTAINER_JOB_RUNNER;

export interface BackupJobArgs extends TierContainerArgs {
    /** The plan's backup job config (plan/jobs.ts): schedule, retention, push timeout, paths. */
    readonly config: BackupJobConfig;
    readonly rootPassword: pulumi.Input<string>;
    readonly walgEnv: pulumi.Input<string>;
    readonly dataVolume: docker.Volume;
    readonly postgres: pulumi.Resource;
}

export class BackupJob extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly config: BackupJobConfig;

    constructor(name: string, args: BackupJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("BackupJob"), name, args, opts);
        this.config = args.config;
        const pg = args.config.postgres;
        const pgpass = pulumi.secret(
            pulumi.output(args.rootPassword).apply(
                (p) => `${pg.host}:${pg.port}:*:${pg.user}:${p}
`,
            ),
        );
        this.container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName,
                image: args.image,
                user: "postgres",
                command: ["node", JOB_RUNNER, "backup", CONTAINER_PATHS.backupConfig],
                envs: [`${SCHEDULE_ENV.backup}=${args.config.schedule}`],
                uploads: [
                    { file: CONTAINER_PATHS.backupConfig, content: renderJobConfig(this.config) },
                    secretUpload(args.config.walgEnvFile, args.walgEnv),
                    secretUpload(pg.passfile, pgpass),
                ],
                // WAL-G reads the data directory; it never needs to write it.
                volumes: [{ volumeName: args.dataVolume.name, containerPath: CONTAINER_PATHS.pgData, readOnly: true }],
                networksAdvanced: [{ name: args.networks.dbOnly.name }, { name: args.networks.backupEgress.name }],
                ...hardening("backup", args.limits),
                restart: "unless-stopped",
                stopTimeout: DESTROY_GRACE_SECONDS.backup,
                destroyGraceSeconds: DESTROY_GRACE_SECONDS.backup,
                labels: roleLabels("backup", args.cluster),
                // Fixed container name: delete before replacing (the provider creates first otherwise).
            },
            { parent: this, dependsOn: [args.postgres], deleteBeforeReplace: true },
        );
        this.registerOutputs({ container: this.container, config: this.config });
    }
}
