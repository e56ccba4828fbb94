/**
 * The scheduled restore drills of one cluster: on `schedule` it restores the newest backup,
 * on `oldestSchedule` the oldest point the retention window promises, each into a throwaway
 * instance in its own scratch volume (one at a time), verifies the data as a read-only role
 * created on the copy, and uploads evidence under `restore-tests/YYYY-MM-DD/`. It is on
 * `backup-egress` only: it never touches the primary.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type AmcheckMode, type DrillJobConfig, renderJobConfig } from "../render/job-config";
import { CONTAINER_PATHS, SCHEDULE_ENV, typeToken } from "../vocabulary";
import { JOB_RUNNER } from "./backup-job";
import { roleLabels } from "./labels";
import { secretUpload, type TierContainerArgs } from "./tier-container";

export interface RestoreDrillArgs extends TierContainerArgs {
    readonly environment: string;
    /** 5-field cron, UTC; at least monthly. */
    readonly schedule: string;
    readonly rtoSeconds: number;
    readonly database: string;
    readonly schemaQuery?: string;
    readonly tables: readonly string[];
    readonly minRows: Readonly<Record<string, number>>;
    readonly amcheck: AmcheckMode;
    /** 5-field cron, UTC: the oldest-point drill (see jobs/restore-drill.ts). */
    readonly oldestSchedule: string;
    /** The promised point-in-time window (backup.retention.walDays) in seconds. */
    readonly windowSeconds: number;
    readonly bucketName: pulumi.Input<string>;
    /** Root role of the cluster: the restored copy has the primary's roles; it only prepares the copy. */
    readonly superuser: string;
    readonly walgEnv: pulumi.Input<string>;
}

const SCRATCH = "/var/lib/db-tier-drill";

export class RestoreDrill extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly scratchVolume: docker.Volume;

    constructor(name: string, args: RestoreDrillArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("RestoreDrill"), name, {}, opts);
        this.scratchVolume = new docker.Volume(
            `${name}-scratch`,
            {
                name: `${args.containerName}-scratch`,
                labels: roleLabels("restore-drill", args.cluster),
            },
            { parent: this },
        );
        const config = pulumi.output(args.bucketName).apply(
            (bucket): DrillJobConfig => ({
                environment: args.environment,
                cluster: args.cluster,
                schedule: args.schedule,
                oldestSchedule: args.oldestSchedule,
                windowSeconds: args.windowSeconds,
                walgBinary: CONTAINER_PATHS.walg,
                walgEnvFile: CONTAINER_PATHS.walgEnv,
                pgBinDir: "/usr/lib/postgresql/15/bin",
                scratchDir: SCRATCH,
                rtoSeconds: args.rtoSeconds,
                database: args.database,
                schemaQuery: args.schemaQuery,
                tables: args.tables,
                minRows: args.minRows,
                amcheck: args.amcheck,
                evidenceBucket: bucket,
                superuser: args.superuser,
            }),
        );
        this.container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName,
                image: args.image,
                user: "postgres",
                command: ["node", JOB_RUNNER, "drill", CONTAINER_PATHS.drillConfig],
                envs: [`${SCHEDULE_ENV.drill}=${args.schedule}`],
                uploads: [
                    { file: CONTAINER_PATHS.drillConfig, content: config.apply(renderJobConfig) },
                    secretUpload(CONTAINER_PATHS.walgEnv, args.walgEnv),
                ],
                volumes: [{ volumeName: this.scratchVolume.name, containerPath: SCRATCH }],
                networksAdvanced: [{ name: args.networks.backupEgress.name }],
                restart: "unless-stopped",
                labels: roleLabels("restore-drill", args.cluster),
                // Fixed container name: delete before replacing (the provider creates first otherwise).
            },
            { parent: this, deleteBeforeReplace: true },
        );
        this.registerOutputs({});
    }
}
