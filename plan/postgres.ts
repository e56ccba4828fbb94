/** Postgres' files of one cluster: postgresql.conf, pg_hba.conf and pg_ident.conf. */
import { renderPgHba, renderPgIdent } from "../render/pg-hba";
import { renderPostgresqlConf } from "../render/postgresql-conf";
import { WAL_RECEIVER_ROLE } from "../render/wal-receive";
import { PEER_MAP } from "../vocabulary";
import type { PostgresPlacement } from "./placement";
import type { ClusterSettings } from "./settings";

export interface PostgresPlan {
    readonly postgresqlConf: string;
    /**
     * pg_hba.conf for the networks TCP logins may come from (render/pg-hba.ts): the
     * placement's `clientNetworks` on loopback; in containers the db-only network's subnet,
     * which the engine assigns when it creates the network (components/postgres-server.ts).
     */
    readonly pgHba: (clientNetworks: readonly string[]) => string;
    readonly pgIdent: string;
    /** TLS is on (ssl = on): the certificate and key must be placed at the placement's paths. */
    readonly tls: boolean;
}

export function planPostgres(s: ClusterSettings, p: PostgresPlacement): PostgresPlan {
    const postgresqlConf = renderPostgresqlConf({
        listenAddresses: p.listenAddresses,
        port: p.port,
        maxConnections: s.postgres.maxConnections,
        sharedBuffers: s.postgres.sharedBuffers,
        hbaFile: p.hbaFile,
        identFile: p.identFile,
        unixSocketDirectories: p.socketDir,
        archive: {
            walgBinary: p.walgBinary,
            walgEnvFile: p.walgEnvFile,
            rpoSeconds: s.backup.rpoSeconds,
            // One bound for both directions: a hung wal-fetch in recovery is as bad as a hung push.
            pushTimeoutSeconds: s.backup.archivePushTimeoutSeconds,
            fetchTimeoutSeconds: s.backup.archivePushTimeoutSeconds,
        },
        extra: s.tls ? { ssl: "on", ssl_cert_file: p.tlsCertFile, ssl_key_file: p.tlsKeyFile } : undefined,
    });
    // The socket (where there is one) admits the OS user postgres as root only, by the peer map.
    const pgHba = (clientNetworks: readonly string[]) =>
        renderPgHba({
            clientNetworks,
            localPeer: true,
            peerMap: PEER_MAP,
            ...(s.backup.walStreaming ? { replicationRole: WAL_RECEIVER_ROLE } : {}),
        });
    const pgIdent = renderPgIdent(PEER_MAP, [{ osUser: "postgres", role: s.cluster.rootUser }]);
    return { postgresqlConf, pgHba, pgIdent, tls: s.tls };
}
