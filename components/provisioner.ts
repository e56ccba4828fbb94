/**
 * The one-shot convergence run: psql as root, applying the rendered SQL. It connects over
 * Postgres' Unix socket (a volume both containers mount) with peer authentication, so it
 * needs no password and converges even a root password that drifted (a restored or stale
 * volume); it sits on `db-only` only.
 * Replaced (so re-run) whenever the SQL, a verifier or Postgres changes, and on every
 * `pulumi up` unless convergeEveryUp is off: create-or-update, never create-or-skip.
 * Its log holds one JSON line per role, the rotation evidence.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import type { PostgresPlacement } from "../plan/placement";
import type { ProvisionPlan } from "../plan/provision";
import { PROVISION_SESSION_OPTIONS } from "../render/provision-sql";
import { CONTAINER_PATHS, typeToken } from "../vocabulary";
import { hardening } from "./container-hardening";
import { roleLabels } from "./labels";
import { secretUpload, type TierContainerArgs } from "./tier-container";

export interface ProvisionerArgs extends TierContainerArgs {
    /** The plan's provisioning SQL (plan/provision.ts), a function of the verifiers. */
    readonly plan: ProvisionPlan;
    /** Postgres' socket directory and port in the container. */
    readonly placement: PostgresPlacement;
    /** SCRAM verifiers (secrets); walReceiver only with backup.walStreaming. */
    readonly verifiers: {
        readonly root: pulumi.Input<string>;
        readonly appUser: pulumi.Input<string>;
        readonly appService: pulumi.Input<string>;
        readonly walReceiver?: pulumi.Input<string>;
    };
    /** The Postgres container; its id is part of the run's identity. */
    readonly postgres: docker.Container;
    /** Postgres' socket directory volume. */
    readonly socketVolume: docker.Volume;
    /** Re-run on every deployment (the plan's "ALTER ROLE on every deploy"). */
    readonly convergeEveryUp: boolean;
}

export class Provisioner extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    /** The rendered SQL (secret: it holds verifiers). */
    public readonly sql: pulumi.Output<string>;

    constructor(name: string, args: ProvisionerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("Provisioner"), name, args, opts);
        const v = args.verifiers;
        this.sql = pulumi.secret(
            pulumi
                .all([v.root, v.appUser, v.appService, v.walReceiver])
                .apply(([root, appUser, appService, walReceiver]) => args.plan.sql({ root, appUser, appService, walReceiver })),
        );
        const envs: pulumi.Input<string>[] = [
            `PGHOST=${args.placement.socketDir}`,
            `PGPORT=${args.placement.port}`,
            `PGUSER=${args.plan.rootUser}`,
            "PGDATABASE=postgres",
            "PGCONNECT_TIMEOUT=10",
            `PGOPTIONS=${PROVISION_SESSION_OPTIONS}`,
            // A hash, not the SQL: a changed verifier or database list changes it. The hash
            // reveals nothing usable, so it is unsecreted to keep the env list readable.
            pulumi.interpolate`DBTIER_SQL_SHA256=${pulumi.unsecret(this.sql.apply((s) => createHash("sha256").update(s).digest("hex")))}`,
            pulumi.interpolate`DBTIER_POSTGRES_ID=${args.postgres.id}`,
        ];
        if (args.convergeEveryUp) envs.push(`DBTIER_CONVERGE_AT=${new Date().toISOString()}`);
        this.container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName,
                image: args.image,
                user: "postgres",
                command: [
                    "sh",
                    "-c",
                    `for i in $(seq 60); do pg_isready -q && break; sleep 2; done; exec psql -X -q -At -v ON_ERROR_STOP=1 -f ${CONTAINER_PATHS.provisionSql}`,
                ],
                envs,
                uploads: [secretUpload(CONTAINER_PATHS.provisionSql, this.sql)],
                volumes: [{ volumeName: args.socketVolume.name, containerPath: args.placement.socketDir }],
                networksAdvanced: [{ name: args.networks.dbOnly.name }],
                ...hardening("provisioner", args.limits),
                restart: "no",
                mustRun: false,
                attach: true,
                logs: true,
                labels: roleLabels("provisioner", args.cluster),
            },
            { parent: this, dependsOn: [args.postgres], deleteBeforeReplace: true },
        );
        this.registerOutputs({ container: this.container, sql: this.sql });
    }
}
