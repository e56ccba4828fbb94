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
import { WAL_RECEIVER_ROLE, walReceiverPgpass, walReceiveScript } from "../render/wal-receive";
import { CONTAINER_PATHS, POSTGRES_PORT, typeToken } from "../vocabulary";
import { roleLabels } from "./labels";
import { SECRET_FILE, type TierContainerArgs } from "./tier-container";

/** Label that tells the receiver from the other `backup` containers. */
export const JOB_LABEL = "db-tier.job";
export const WAL_RECEIVE_JOB = "wal-receive";

/** Where the receiver's libpq password file is uploaded. */
export const WAL_RECEIVER_PGPASS = "/run/db-tier/wal-receiver.pgpass";

export interface WalReceiverArgs extends TierContainerArgs {
    /** The receiver role's password (secret), from RoleSecrets. */
    readonly password: pulumi.Input<string>;
    /** Rendered WAL-G env file (secret): the same storage, prefix and key as archive_command. */
    readonly walgEnv: pulumi.Input<string>;
    /** Postgres host on `db-only`. */
    readonly postgresHost: string;
    /** Starts after provisioning made the role. */
    readonly dependsOn: pulumi.Resource[];
}

export class WalReceiver extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly role = WAL_RECEIVER_ROLE;

    constructor(name: string, args: WalReceiverArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("WalReceiver"), name, {}, opts);
        const pgpass = pulumi.secret(pulumi.output(args.password).apply((p) => walReceiverPgpass(args.postgresHost, POSTGRES_PORT, p)));
        const script = walReceiveScript({
            walgBinary: CONTAINER_PATHS.walg,
            walgEnvFile: CONTAINER_PATHS.walgEnv,
            psqlBinary: "psql",
            host: args.postgresHost,
            port: POSTGRES_PORT,
            passfile: WAL_RECEIVER_PGPASS,
        });
        this.container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName,
                image: args.image,
                user: "postgres",
                command: ["sh", "-c", script],
                uploads: [
                    { file: CONTAINER_PATHS.walgEnv, content: pulumi.secret(args.walgEnv), ...SECRET_FILE },
                    { file: WAL_RECEIVER_PGPASS, content: pgpass, ...SECRET_FILE },
                ],
                networksAdvanced: [{ name: args.networks.dbOnly.name }, { name: args.networks.backupEgress.name }],
                restart: "unless-stopped",
                // The loop exits on SIGTERM after stopping wal-receive.
                stopSignal: "SIGTERM",
                stopTimeout: 30,
                labels: [...roleLabels("backup", args.cluster), { label: JOB_LABEL, value: WAL_RECEIVE_JOB }],
            },
            { parent: this, dependsOn: args.dependsOn },
        );
        this.registerOutputs({});
    }
}
