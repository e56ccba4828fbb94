/**
 * One PostgreSQL 15 server: a named data volume that outlives the container (and
 * `pulumi destroy`), the rendered postgresql.conf and pg_hba.conf, the WAL-G env file and
 * the root password as uploaded files, a pg_isready healthcheck, no published ports, and
 * membership of `db-only` and `backup-egress` only.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { renderPgHba, renderPgIdent } from "../render/pg-hba";
import { renderPostgresqlConf } from "../render/postgresql-conf";
import { CONTAINER_PATHS, PEER_MAP, POSTGRES_PORT, typeToken } from "../vocabulary";
import { roleLabels } from "./labels";
import { POSTGRES_UID, secretUpload, type TierContainerArgs } from "./tier-container";

export interface PostgresServerArgs extends TierContainerArgs {
    readonly rootUser: string;
    /** Root password (secret); written to a file, read by the image's entrypoint at initdb. */
    readonly rootPassword: pulumi.Input<string>;
    /** Rendered WAL-G env file (secret). */
    readonly walgEnv: pulumi.Input<string>;
    readonly rpoSeconds: number;
    readonly archivePushTimeoutSeconds: number;
    readonly maxConnections: number;
    readonly sharedBuffers: string;
    /** Streaming WAL archiving: pg_hba admits this role (alone) to replication connections. */
    readonly replicationRole?: string;
    /** Server certificate and key: when set, Postgres offers TLS (ssl = on) to clients that ask for it. */
    readonly tls?: { readonly certPem: pulumi.Input<string>; readonly keyPem: pulumi.Input<string> };
}

const TLS_CERT = "/etc/postgresql/tls.crt";
const TLS_KEY = "/etc/postgresql/tls.key";

export class PostgresServer extends pulumi.ComponentResource {
    public readonly container: docker.Container;
    public readonly dataVolume: docker.Volume;
    /** Postgres' Unix socket directory, shared with the provisioner (peer auth, no password). */
    public readonly socketVolume: docker.Volume;
    /** Host name of the server on the `db-only` network. */
    public readonly host = "postgres";
    public readonly port = POSTGRES_PORT;
    /** The rendered postgresql.conf, exactly as uploaded. */
    public readonly postgresqlConf: string;

    constructor(name: string, args: PostgresServerArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("PostgresServer"), name, {}, opts);
        this.postgresqlConf = renderPostgresqlConf({
            listenAddresses: "*",
            port: POSTGRES_PORT,
            maxConnections: args.maxConnections,
            sharedBuffers: args.sharedBuffers,
            hbaFile: CONTAINER_PATHS.pgHba,
            identFile: CONTAINER_PATHS.pgIdent,
            unixSocketDirectories: CONTAINER_PATHS.socketDir,
            archive: {
                walgBinary: CONTAINER_PATHS.walg,
                walgEnvFile: CONTAINER_PATHS.walgEnv,
                rpoSeconds: args.rpoSeconds,
                pushTimeoutSeconds: args.archivePushTimeoutSeconds,
                fetchTimeoutSeconds: args.archivePushTimeoutSeconds,
            },
            extra: args.tls ? { ssl: "on", ssl_cert_file: TLS_CERT, ssl_key_file: TLS_KEY } : undefined,
        });
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
                      file: TLS_CERT,
                      content: pulumi.unsecret(pulumi.output(args.tls.certPem)),
                      owner: POSTGRES_UID,
                      group: POSTGRES_UID,
                      permissions: "0444",
                  },
                  secretUpload(TLS_KEY, args.tls.keyPem),
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
                    `PGDATA=${CONTAINER_PATHS.pgData}/pgdata`,
                    "POSTGRES_INITDB_ARGS=--auth-host=scram-sha-256 --auth-local=peer --data-checksums",
                ],
                uploads: [
                    { file: CONTAINER_PATHS.postgresConf, content: this.postgresqlConf },
                    {
                        file: CONTAINER_PATHS.pgHba,
                        content: renderPgHba({
                            localPeer: true,
                            peerMap: PEER_MAP,
                            ...(args.replicationRole ? { replicationRole: args.replicationRole } : {}),
                        }),
                    },
                    {
                        file: CONTAINER_PATHS.pgIdent,
                        content: renderPgIdent(PEER_MAP, [{ osUser: "postgres", role: args.rootUser }]),
                    },
                    secretUpload(CONTAINER_PATHS.walgEnv, args.walgEnv),
                    secretUpload(CONTAINER_PATHS.rootPasswordFile, args.rootPassword),
                    ...tlsUploads,
                ],
                volumes: [
                    { volumeName: this.dataVolume.name, containerPath: CONTAINER_PATHS.pgData },
                    { volumeName: this.socketVolume.name, containerPath: CONTAINER_PATHS.socketDir },
                ],
                networksAdvanced: [{ name: args.networks.dbOnly.name, aliases: [this.host] }, { name: args.networks.backupEgress.name }],
                healthcheck: {
                    tests: ["CMD-SHELL", `pg_isready -h 127.0.0.1 -p ${POSTGRES_PORT} -U ${args.rootUser} -d postgres`],
                    interval: "10s",
                    timeout: "5s",
                    retries: 6,
                    startPeriod: "60s",
                },
                restart: "unless-stopped",
                // Postgres flushes and archives on SIGINT ("fast" shutdown); give it time.
                stopSignal: "SIGINT",
                stopTimeout: 120,
                wait: true,
                waitTimeout: 300,
                labels: roleLabels("postgres", args.cluster),
            },
            { parent: this, deleteBeforeReplace: true },
        );
        this.registerOutputs({});
    }
}
