/**
 * The scheduled backup job of one cluster: `backup-push` on the configured cron, then the
 * retention the planner computes, then `wal-verify`, one JSON log line per run. Runs as
 * the postgres user from the Postgres image, reading the data volume (read-only) and
 * reaching Postgres over `db-only` and storage over `backup-egress`.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type BackupJobConfig, renderJobConfig, type RetentionPolicy } from "../render/job-config";
import { CONTAINER_PATHS, POSTGRES_PORT, SCHEDULE_ENV, typeToken } from "../vocabulary";
import { roleLabels } from "./labels";
import { secretUpload, type TierContainerArgs } from "./tier-container";

/** Where the image keeps the compiled job runner. */
export const JOB_RUNNER = "/opt/db-tier/bin/jobs/scheduler.js";

export interface BackupJobArgs extends TierContainerArgs {
    readonly environment: string;
    /** 5-field cron, UTC. */
    readonly schedule: string;
    readonly retention: RetentionPolicy;
    readonly pushTimeoutSeconds: number;
    readonly rootUser: string;
    readonly rootPassword: pulumi.Input<string>;
    readonly walgEnv: pulumi.Input<string>;
    readonly dataVolume: docker.Volume;
    readonly postgres: pulumi.Resource;
}

export class BackupJob extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly config: BackupJobConfig;

    constructor(name: string, args: BackupJobArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("BackupJob"), name, {}, opts);
        this.config = {
            environment: args.environment,
            cluster: args.cluster,
            schedule: args.schedule,
            walgBinary: CONTAINER_PATHS.walg,
            walgEnvFile: CONTAINER_PATHS.walgEnv,
            pgData: `${CONTAINER_PATHS.pgData}/pgdata`,
            postgres: {
                host: "postgres",
                port: POSTGRES_PORT,
                user: args.rootUser,
                passfile: CONTAINER_PATHS.pgpass,
                database: "postgres",
            },
            retention: args.retention,
            pushTimeoutSeconds: 6 * 3600,
        };
        const pgpass = pulumi.secret(pulumi.output(args.rootPassword).apply((p) => `postgres:${POSTGRES_PORT}:*:${args.rootUser}:${p}\n`));
        this.container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName,
                image: args.image,
                user: "postgres",
                command: ["node", JOB_RUNNER, "backup", CONTAINER_PATHS.backupConfig],
                envs: [`${SCHEDULE_ENV.backup}=${args.schedule}`],
                uploads: [
                    { file: CONTAINER_PATHS.backupConfig, content: renderJobConfig(this.config) },
                    secretUpload(CONTAINER_PATHS.walgEnv, args.walgEnv),
                    secretUpload(CONTAINER_PATHS.pgpass, pgpass),
                ],
                // WAL-G reads the data directory; it never needs to write it.
                volumes: [{ volumeName: args.dataVolume.name, containerPath: CONTAINER_PATHS.pgData, readOnly: true }],
                networksAdvanced: [{ name: args.networks.dbOnly.name }, { name: args.networks.backupEgress.name }],
                restart: "unless-stopped",
                labels: roleLabels("backup", args.cluster),
                // Fixed container name: delete before replacing (the provider creates first otherwise).
            },
            { parent: this, dependsOn: [args.postgres], deleteBeforeReplace: true },
        );
        this.registerOutputs({});
    }
}
