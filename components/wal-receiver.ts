/**
 * Streaming WAL archiving (opt-in, `backup.walStreaming`): `wal-g wal-receive` in its own
 * container, from the Postgres image (same WAL-G build as archive_command), holding a
 * replication connection to postgres:5432 over `db-only` as the `wal_receiver` role
 * (REPLICATION, not superuser, SCRAM) and uploading over `backup-egress`. It is a backup-side
 * process: role label `backup` (the contract's roles; `db-only` admits it), told apart from
 * the scheduled backup job by `db-tier.job=wal-receive`. The loop it runs is
 * render/wal-receive.ts; the slot safety net (max_slot_wal_keep_size) is in postgresql.conf.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { CONTAINER_WAL_RECEIVER_PGPASS, type PostgresPlacement } from "../plan/placement";
import type { WalReceiverPlan } from "../plan/wal-receiver";
import { typeToken } from "../vocabulary";
import { hardening } from "./container-hardening";
import { roleLabels } from "./labels";
import { DESTROY_GRACE_SECONDS, type TierContainerArgs, USER_SECRET_FILE } from "./tier-container";

/** Label that tells the receiver from the other `backup` containers. */
export const JOB_LABEL = "db-tier.job";
export const WAL_RECEIVE_JOB = "wal-receive";

/** Where the receiver's libpq password file is uploaded. */
export const WAL_RECEIVER_PGPASS = CONTAINER_WAL_RECEIVER_PGPASS;

export interface WalReceiverArgs extends TierContainerArgs {
    /** The receiver role's password (secret), from RoleSecrets. */
    readonly password: pulumi.Input<string>;
    /** Rendered WAL-G env file (secret): the same storage, prefix and key as archive_command. */
    readonly walgEnv: pulumi.Input<string>;
    /** The plan's receiver loop and password file (plan/wal-receiver.ts). */
    readonly plan: WalReceiverPlan;
    /** Where the WAL-G env file is placed in the container. */
    readonly placement: PostgresPlacement;
    /** Starts after provisioning made the role. */
    readonly dependsOn: pulumi.Resource[];
}

export class WalReceiver extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly role: string;

    constructor(name: string, args: WalReceiverArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("WalReceiver"), name, args, opts);
        this.role = args.plan.role;
        const pgpass = pulumi.secret(pulumi.output(args.password).apply((p) => args.plan.pgpass(p)));
        const script = args.plan.script;
        this.container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName,
                image: args.image,
                user: "postgres",
                command: ["sh", "-c", script],
                uploads: [
                    { file: args.placement.walgEnvFile, content: pulumi.secret(args.walgEnv), ...USER_SECRET_FILE },
                    { file: args.plan.passfile, content: pgpass, ...USER_SECRET_FILE },
                ],
                networksAdvanced: [{ name: args.networks.dbOnly.name }, { name: args.networks.backupEgress.name }],
                ...hardening("backup", args.limits),
                restart: "unless-stopped",
                // The loop exits on SIGTERM after stopping wal-receive.
                stopSignal: "SIGTERM",
                stopTimeout: DESTROY_GRACE_SECONDS.walReceiver,
                destroyGraceSeconds: DESTROY_GRACE_SECONDS.walReceiver,
                labels: [...roleLabels("backup", args.cluster), { label: JOB_LABEL, value: WAL_RECEIVE_JOB }],
                // Fixed container name: delete before replacing (the provider creates first otherwise).
            },
            { parent: this, dependsOn: args.dependsOn, deleteBeforeReplace: true },
        );
        this.registerOutputs({ container: this.container, role: this.role });
    }
}
