/** The provisioning SQL of one cluster, as a function of the roles' SCRAM verifiers. */
import { renderProvisionSql } from "../render/provision-sql";
import type { ClusterSettings } from "./settings";

export interface ProvisionVerifiers {
    readonly root: string;
    readonly appUser: string;
    readonly appService: string;
    /** Only with backup.walStreaming. */
    readonly walReceiver?: string;
}

export interface ProvisionPlan {
    readonly rootUser: string;
    readonly databases: readonly string[];
    /** The WAL receiver role is provisioned (backup.walStreaming). */
    readonly walReceiver: boolean;
    sql(v: ProvisionVerifiers): string;
}

export function planProvision(s: ClusterSettings): ProvisionPlan {
    const walReceiver = s.backup.walStreaming;
    return {
        rootUser: s.cluster.rootUser,
        databases: s.cluster.databases,
        walReceiver,
        sql: (v) => {
            if (walReceiver && !v.walReceiver)
                throw new Error("provisioning: backup.walStreaming is on but the wal_receiver verifier is missing");
            return renderProvisionSql({
                rootUser: s.cluster.rootUser,
                rootVerifier: v.root,
                appUserVerifier: v.appUser,
                appServiceVerifier: v.appService,
                databases: s.cluster.databases,
                ...(walReceiver && v.walReceiver ? { walReceiverVerifier: v.walReceiver } : {}),
            });
        },
    };
}
