/**
 * pgBouncer in front of one cluster: the only door applications have. On `app` and
 * `db-only`, listening on 6432; SCRAM pass-through with the same verifiers Postgres
 * stores; admin console closed; root absent from the auth file.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { PgbouncerPlan } from "../plan/pgbouncer";
import type { PgbouncerPlacement } from "../plan/placement";
import { APP_SERVICE, APP_USER, CONTAINER_PATHS, typeToken } from "../vocabulary";
import { hardening } from "./container-hardening";
import { roleLabels } from "./labels";
import { DESTROY_GRACE_SECONDS, secretUpload, type TierContainerArgs } from "./tier-container";

export interface PgBouncerTlsArgs {
    readonly certPem: pulumi.Input<string>;
    readonly keyPem: pulumi.Input<string>;
}

export interface PgBouncerArgs extends TierContainerArgs {
    /** The plan's pgbouncer.ini, auth file and open-file limit (plan/pgbouncer.ts). */
    readonly plan: PgbouncerPlan;
    /** Where the plan puts pgBouncer's files in the container (plan/placement.ts containerPlacement). */
    readonly placement: PgbouncerPlacement;
    /** SCRAM verifiers (secrets) of app_user and app_service. Root is never listed. */
    readonly verifiers: { readonly appUser: pulumi.Input<string>; readonly appService: pulumi.Input<string> };
    /** Publish 6432 on this host address and port (optional). */
    readonly publish?: { readonly ip: string; readonly port: number };
    readonly tls?: PgBouncerTlsArgs;
    /** Start only after Postgres exists. */
    readonly postgres: pulumi.Resource;
}

export class PgBouncer extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly host = "pgbouncer";
    public readonly port: number;
    public readonly ini: string;

    constructor(name: string, args: PgBouncerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("PgBouncer"), name, args, opts);
        const at = args.placement;
        this.port = at.port;
        this.ini = args.plan.ini;
        const authFile = pulumi.secret(
            pulumi
                .all([args.verifiers.appUser, args.verifiers.appService])
                .apply(([appUser, appService]) => args.plan.authFile({ [APP_USER]: appUser, [APP_SERVICE]: appService })),
        );
        const uploads: docker.types.input.ContainerUpload[] = [
            { file: CONTAINER_PATHS.pgbouncerIni, content: this.ini },
            secretUpload(at.authFile, authFile),
        ];
        if (args.tls) {
            // A certificate is public (it may come from secret config): readable in the diff.
            uploads.push(
                { file: at.tlsCertFile, content: pulumi.unsecret(pulumi.output(args.tls.certPem)) },
                secretUpload(at.tlsKeyFile, args.tls.keyPem),
            );
        }
        this.container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName,
                image: args.image,
                command: ["pgbouncer", CONTAINER_PATHS.pgbouncerIni],
                user: "postgres",
                uploads,
                networksAdvanced: [
                    { name: args.networks.app.name, aliases: [this.host] },
                    { name: args.networks.dbOnly.name, aliases: [this.host] },
                ],
                ports: args.publish ? [{ internal: at.port, external: args.publish.port, ip: args.publish.ip }] : [],
                healthcheck: {
                    tests: ["CMD-SHELL", `pg_isready -h 127.0.0.1 -p ${at.port}`],
                    interval: "10s",
                    timeout: "5s",
                    retries: 6,
                },
                ...hardening("pgbouncer", args.limits, [{ name: "nofile", soft: args.plan.nofile, hard: args.plan.nofile }]),
                restart: "unless-stopped",
                stopTimeout: DESTROY_GRACE_SECONDS.pgbouncer,
                destroyGraceSeconds: DESTROY_GRACE_SECONDS.pgbouncer,
                labels: roleLabels("pgbouncer", args.cluster),
                // Fixed container name (and published port): the Docker provider creates a replacement
                // before deleting the old one, which would collide, so delete first.
            },
            { parent: this, dependsOn: [args.postgres], deleteBeforeReplace: true },
        );
        this.registerOutputs({ container: this.container, host: this.host, port: this.port, ini: this.ini });
    }
}
