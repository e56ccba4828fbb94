/**
 * pgBouncer in front of one cluster: the only door applications have. On `app` and
 * `db-only`, listening on 6432; SCRAM pass-through with the same verifiers Postgres
 * stores; admin console closed; root absent from the auth file.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { type AuthFileEntry, renderPgbouncerAuthFile, renderPgbouncerIni } from "../render/pgbouncer";
import { CONTAINER_PATHS, PGBOUNCER_PORT, POSTGRES_PORT, typeToken } from "../vocabulary";
import { roleLabels } from "./labels";
import { secretUpload, type TierContainerArgs } from "./tier-container";

export interface PgBouncerTlsArgs {
    readonly sslmode: string;
    readonly certPem: pulumi.Input<string>;
    readonly keyPem: pulumi.Input<string>;
}

export interface PgBouncerArgs extends TierContainerArgs {
    readonly databases: readonly string[];
    /** app_user and app_service with their verifiers (secrets). Root is never listed. */
    readonly users: readonly { user: string; verifier: pulumi.Input<string> }[];
    readonly defaultPoolSize: number;
    readonly maxClientConn: number;
    /** DISCARD ALL after every transaction (default true): see render/pgbouncer.ts. */
    readonly resetSessionState?: boolean;
    /** Postgres' max_connections; pgBouncer stays below it. */
    readonly postgresMaxConnections: number;
    /** Publish 6432 on this host address and port (optional). */
    readonly publish?: { readonly ip: string; readonly port: number };
    readonly tls?: PgBouncerTlsArgs;
    /** Start only after Postgres exists. */
    readonly postgres: pulumi.Resource;
}

const TLS_CERT = "/etc/pgbouncer/tls.crt";
const TLS_KEY = "/etc/pgbouncer/tls.key";

export class PgBouncer extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly host = "pgbouncer";
    public readonly port = PGBOUNCER_PORT;
    public readonly ini: string;

    constructor(name: string, args: PgBouncerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("PgBouncer"), name, {}, opts);
        this.ini = renderPgbouncerIni({
            listenAddr: "*",
            listenPort: PGBOUNCER_PORT,
            postgresHost: "postgres",
            postgresPort: POSTGRES_PORT,
            databases: args.databases,
            authFile: CONTAINER_PATHS.pgbouncerAuthFile,
            defaultPoolSize: args.defaultPoolSize,
            maxClientConn: args.maxClientConn,
            resetSessionState: args.resetSessionState ?? true,
            // Leave headroom for the provisioner, backups and an operator's psql.
            maxDbConnections: Math.max(1, args.postgresMaxConnections - 10),
            clientTls: args.tls ? { sslmode: args.tls.sslmode, certFile: TLS_CERT, keyFile: TLS_KEY } : undefined,
        });
        const authFile = pulumi.secret(
            pulumi
                .all(args.users.map((u) => pulumi.all([u.user, u.verifier])))
                .apply((pairs) => renderPgbouncerAuthFile(pairs.map(([user, verifier]): AuthFileEntry => ({ user, verifier })))),
        );
        const uploads: docker.types.input.ContainerUpload[] = [
            { file: CONTAINER_PATHS.pgbouncerIni, content: this.ini },
            secretUpload(CONTAINER_PATHS.pgbouncerAuthFile, authFile),
        ];
        if (args.tls) {
            // A certificate is public (it may come from secret config): readable in the diff.
            uploads.push(
                { file: TLS_CERT, content: pulumi.unsecret(pulumi.output(args.tls.certPem)) },
                secretUpload(TLS_KEY, args.tls.keyPem),
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
                ports: args.publish ? [{ internal: PGBOUNCER_PORT, external: args.publish.port, ip: args.publish.ip }] : [],
                healthcheck: {
                    tests: ["CMD-SHELL", `pg_isready -h 127.0.0.1 -p ${PGBOUNCER_PORT}`],
                    interval: "10s",
                    timeout: "5s",
                    retries: 6,
                },
                // A descriptor per client and per server connection, plus slack.
                ulimits: [{ name: "nofile", soft: 2 * args.maxClientConn + 1024, hard: 2 * args.maxClientConn + 1024 }],
                restart: "unless-stopped",
                labels: roleLabels("pgbouncer", args.cluster),
                // Fixed container name (and published port): the Docker provider creates a replacement
                // before deleting the old one, which would collide, so delete first.
            },
            { parent: this, dependsOn: [args.postgres], deleteBeforeReplace: true },
        );
        this.registerOutputs({});
    }
}
