/**
 * The scheduled restore drills of one cluster: on `schedule` it restores the newest backup,
 * on `oldestSchedule` the oldest point the retention window promises, each into a throwaway
 * instance in its own scratch volume (one at a time), verifies the data as a read-only role
 * created on the copy, and uploads evidence under `restore-tests/YYYY-MM-DD/`. It is on
 * `backup-egress` only: it never touches the primary.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type DrillJobConfig, renderJobConfig } from "../render/job-config";
import { CONTAINER_PATHS, SCHEDULE_ENV, typeToken } from "../vocabulary";
import { JOB_RUNNER } from "./backup-job";
import { hardening } from "./container-hardening";
import { roleLabels } from "./labels";
import { DESTROY_GRACE_SECONDS, secretUpload, type TierContainerArgs } from "./tier-container";

export interface RestoreDrillArgs extends TierContainerArgs {
    /** The plan's drill config (plan/jobs.ts): schedules, RTO, checks, the window, paths. */
    readonly config: DrillJobConfig;
    readonly walgEnv: pulumi.Input<string>;
}

export class RestoreDrill extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly scratchVolume: docker.Volume;
    public readonly config: DrillJobConfig;

    constructor(name: string, args: RestoreDrillArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("RestoreDrill"), name, args, opts);
        this.config = args.config;
        this.scratchVolume = new docker.Volume(
            `${name}-scratch`,
            {
                name: `${args.containerName}-scratch`,
                labels: roleLabels("restore-drill", args.cluster),
            },
            { parent: this },
        );
        this.container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName,
                image: args.image,
                user: "postgres",
                command: ["node", JOB_RUNNER, "drill", CONTAINER_PATHS.drillConfig],
                envs: [`${SCHEDULE_ENV.drill}=${args.config.schedule}`],
                uploads: [
                    { file: CONTAINER_PATHS.drillConfig, content: renderJobConfig(args.config) },
                    secretUpload(args.config.walgEnvFile, args.walgEnv),
                ],
                volumes: [{ volumeName: this.scratchVolume.name, containerPath: args.config.scratchDir }],
                networksAdvanced: [{ name: args.networks.backupEgress.name }],
                ...hardening("restore-drill", args.limits),
                restart: "unless-stopped",
                stopTimeout: DESTROY_GRACE_SECONDS.restoreDrill,
                destroyGraceSeconds: DESTROY_GRACE_SECONDS.restoreDrill,
                labels: roleLabels("restore-drill", args.cluster),
                // Fixed container name: delete before replacing (the provider creates first otherwise).
            },
            { parent: this, deleteBeforeReplace: true },
        );
        this.registerOutputs({ container: this.container, scratchVolume: this.scratchVolume, config: this.config });
    }
}
