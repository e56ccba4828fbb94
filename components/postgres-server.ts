/**
 * One PostgreSQL 15 server: a named data volume that outlives the container (and
 * `pulumi destroy`), the rendered postgresql.conf and pg_hba.conf, the WAL-G env file and
 * the root password as uploaded files, a pg_isready healthcheck, no published ports, and
 * membership of `db-only` and `backup-egress` only.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import type { PostgresPlan } from "../plan/postgres";
import type { PostgresPlacement } from "../plan/placement";
import { CONTAINER_PATHS, typeToken } from "../vocabulary";
import { hardening } from "./container-hardening";
import { roleLabels } from "./labels";
import { DESTROY_GRACE_SECONDS, POSTGRES_UID, SECRET_FILE, secretUpload, type TierContainerArgs } from "./tier-container";

export interface PostgresServerArgs extends TierContainerArgs {
    readonly rootUser: string;
    /** Root password (secret); written to a file, read by the image's entrypoint at initdb. */
    readonly rootPassword: pulumi.Input<string>;
    /** Rendered WAL-G env file (secret). */
    readonly walgEnv: pulumi.Input<string>;
    /** The plan's postgresql.conf, pg_hba.conf and pg_ident.conf (plan/postgres.ts). */
    readonly plan: PostgresPlan;
    /** Where the plan puts Postgres' files in the container (plan/placement.ts containerPlacement). */
    readonly placement: PostgresPlacement;
    /** Server certificate and key: when set, Postgres offers TLS (ssl = on) to clients that ask for it. */
    readonly tls?: { readonly certPem: pulumi.Input<string>; readonly keyPem: pulumi.Input<string> };
}

export class PostgresServer extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly dataVolume: docker.Volume;
    /** Postgres' Unix socket directory, shared with the provisioner (peer auth, no password). */
    public readonly socketVolume: docker.Volume;
    /** Host name of the server on the `db-only` network. */
    public readonly host: string;
    public readonly port: number;
    /** The rendered postgresql.conf, exactly as uploaded. */
    public readonly postgresqlConf: string;

    constructor(name: string, args: PostgresServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("PostgresServer"), name, args, opts);
        const at = args.placement;
        if (args.plan.tls !== (args.tls !== undefined)) {
            throw new Error(
                `PostgresServer ${name}: the plan says TLS ${args.plan.tls ? "on" : "off"} but a certificate is ${args.tls ? "" : "not "}given`,
            );
        }
        this.host = at.host;
        this.port = at.port;
        this.postgresqlConf = args.plan.postgresqlConf;
        // Kept on `pulumi destroy` and on replacement of the container: it is the data.
        this.dataVolume = new docker.Volume(
            `${name}-data`,
            {
                name: `${args.containerName}-data`,
                labels: roleLabels("postgres", args.cluster),
            },
            { parent: this, retainOnDelete: true },
        );
        this.socketVolume = new docker.Volume(
            `${name}-socket`,
            {
                name: `${args.containerName}-socket`,
                labels: roleLabels("postgres", args.cluster),
            },
            { parent: this },
        );
        const tlsUploads = args.tls
            ? [
                  // A certificate is public (it may come from secret config): readable in the diff.
                  {
                      file: at.tlsCertFile,
                      content: pulumi.unsecret(pulumi.output(args.tls.certPem)),
                      owner: POSTGRES_UID,
                      group: POSTGRES_UID,
                      permissions: "0444",
                  },
                  secretUpload(at.tlsKeyFile, args.tls.keyPem, SECRET_FILE),
              ]
            : [];
        this.container = new docker.Container(
            `${name}-container`,
            {
                name: args.containerName,
                image: args.image,
                command: ["postgres", "-c", `config_file=${CONTAINER_PATHS.postgresConf}`],
                envs: [
                    `POSTGRES_USER=${args.rootUser}`,
                    `POSTGRES_PASSWORD_FILE=${CONTAINER_PATHS.rootPasswordFile}`,
                    `PGDATA=${at.dataDir}`,
                    "POSTGRES_INITDB_ARGS=--auth-host=scram-sha-256 --auth-local=peer --data-checksums",
                ],
                uploads: [
                    { file: CONTAINER_PATHS.postgresConf, content: this.postgresqlConf },
                    // Logins only from db-only: not from backup-egress, where the object store and the drill are.
                    { file: at.hbaFile, content: args.networks.dbOnlySubnets.apply((subnets) => args.plan.pgHba(subnets)) },
                    { file: at.identFile, content: args.plan.pgIdent },
                    secretUpload(at.walgEnvFile, args.walgEnv, SECRET_FILE),
                    secretUpload(CONTAINER_PATHS.rootPasswordFile, args.rootPassword, SECRET_FILE),
                    ...tlsUploads,
                ],
                volumes: [
                    { volumeName: this.dataVolume.name, containerPath: CONTAINER_PATHS.pgData },
                    { volumeName: this.socketVolume.name, containerPath: at.socketDir },
                ],
                networksAdvanced: [{ name: args.networks.dbOnly.name, aliases: [this.host] }, { name: args.networks.backupEgress.name }],
                healthcheck: {
                    tests: ["CMD-SHELL", `pg_isready -h 127.0.0.1 -p ${at.port} -U ${args.rootUser} -d postgres`],
                    interval: "10s",
                    timeout: "5s",
                    retries: 6,
                    // Go's own form of 60 s: the provider reads the health check back with
                    // time.Duration.String(), so "60s" would show as a change on every preview.
                    startPeriod: "1m0s",
                },
                // Starts as root only to prepare its directories, then drops to uid 999 (ADDED_CAPABILITIES).
                ...hardening("postgres", args.limits),
                restart: "unless-stopped",
                // Postgres flushes and archives on SIGINT ("fast" shutdown); give it time.
                stopSignal: "SIGINT",
                stopTimeout: DESTROY_GRACE_SECONDS.postgres,
                destroyGraceSeconds: DESTROY_GRACE_SECONDS.postgres,
                wait: true,
                waitTimeout: 300,
                labels: roleLabels("postgres", args.cluster),
            },
            { parent: this, deleteBeforeReplace: true },
        );
        this.registerOutputs({
            container: this.container,
            dataVolume: this.dataVolume,
            socketVolume: this.socketVolume,
            host: this.host,
            port: this.port,
            postgresqlConf: this.postgresqlConf,
        });
    }
}
