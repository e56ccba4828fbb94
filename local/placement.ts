/**
 * The loopback placement of the plan: every path under the state dir, 127.0.0.1 and the
 * tier's ports, the embedded MinIO standing in for the stack's R2/B2/MinIO endpoint.
 */
import { join } from "node:path";
import type { Placement } from "../plan/placement";
import { isRoot } from "./fsutil";
import { endpoint, MINIO_REGION } from "./minio";
import { type Layout, type Ports, SERVER_OS_USER, type Tools } from "./settings";

export function loopbackPlacement(l: Layout, p: Ports, t: Tools): Placement {
    return {
        postgres: {
            listenAddresses: "127.0.0.1",
            port: p.postgres,
            clientNetworks: ["127.0.0.1/32"],
            host: "127.0.0.1",
            hbaFile: l.pgHba,
            identFile: l.pgIdent,
            // No socket: nothing but TCP on 127.0.0.1 reaches a loopback tier (and no clash with /var/run/postgresql).
            socketDir: "",
            dataDir: l.pgData,
            walgBinary: l.walg,
            walgEnvFile: l.walgEnv,
            tlsCertFile: l.pgTlsCert,
            tlsKeyFile: l.pgTlsKey,
        },
        pgbouncer: {
            listenAddr: "127.0.0.1",
            port: p.pgbouncer,
            authFile: l.pgbAuth,
            logFile: l.pgbLog,
            pidFile: l.pgbPid,
            tlsCertFile: l.pgbTlsCert,
            tlsKeyFile: l.pgbTlsKey,
        },
        jobs: {
            pgpassFile: l.pgpass,
            pgBinDir: t.pgBinDir,
            drillScratch: l.drillScratch,
            ...(isRoot() ? { drillRunAsUser: SERVER_OS_USER } : {}),
            psqlBinary: join(t.pgBinDir, "psql"),
            walReceiverPassfile: join(l.pg, "wal-receiver.pgpass"),
        },
        storage: { endpoint: endpoint(p.minio), region: MINIO_REGION },
    };
}
