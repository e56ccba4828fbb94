/** The streaming WAL receiver of one cluster (backup.walStreaming): its loop and its password file. */
import { WAL_RECEIVER_ROLE, walReceiverPgpass, walReceiveScript } from "../render/wal-receive";
import type { Placement } from "./placement";
import type { ClusterSettings } from "./settings";

export interface WalReceiverPlan {
    readonly enabled: boolean;
    readonly role: string;
    /** The /bin/sh loop around `wal-g wal-receive`. */
    readonly script: string;
    readonly passfile: string;
    pgpass(password: string): string;
}

export function planWalReceiver(s: ClusterSettings, p: Placement): WalReceiverPlan {
    return {
        enabled: s.backup.walStreaming,
        role: WAL_RECEIVER_ROLE,
        script: walReceiveScript({
            walgBinary: p.postgres.walgBinary,
            walgEnvFile: p.postgres.walgEnvFile,
            psqlBinary: p.jobs.psqlBinary,
            host: p.postgres.host,
            port: p.postgres.port,
            passfile: p.jobs.walReceiverPassfile,
        }),
        passfile: p.jobs.walReceiverPassfile,
        pgpass: (password) => walReceiverPgpass(p.postgres.host, p.postgres.port, password),
    };
}
