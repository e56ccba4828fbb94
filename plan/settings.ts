/**
 * The validated settings of one cluster: what the plan is computed from. Both the stack
 * config (config/schema.ts, through clusterSettings) and DatabaseTier's validated arguments
 * have this shape, so the containers and the loopback tier start from the same values.
 */
import type { BackupConfig, ClusterConfig, DrillConfig, PgbouncerConfig, PostgresConfig, TierConfig } from "../config/schema";
import type { StorageProvider } from "../render/lifecycle";

export type SslMode = TierConfig["sslmode"];

export interface ClusterSettings {
    readonly environment: string;
    readonly cluster: ClusterConfig;
    readonly storage: { readonly provider: StorageProvider; readonly bucketName: string };
    readonly backup: BackupConfig;
    readonly drill: DrillConfig;
    readonly pgbouncer: PgbouncerConfig;
    readonly postgres: PostgresConfig;
    readonly sslmode: SslMode;
    /** A TLS certificate and key are supplied (required unless sslmode is `disable`). */
    readonly tls: boolean;
}

/** One cluster of a validated stack config; throws naming the clusters when there is no such one. */
export function clusterSettings(config: TierConfig, clusterName: string, tls: boolean = config.sslmode !== "disable"): ClusterSettings {
    const cluster = config.clusters.find((c) => c.name === clusterName);
    if (!cluster) {
        throw new Error(
            `cluster "${clusterName}" is not in stack ${config.environment}: use one of ${config.clusters.map((c) => c.name).join(", ")}`,
        );
    }
    return {
        environment: config.environment,
        cluster,
        storage: { provider: config.storage.provider, bucketName: config.storage.bucket },
        backup: config.backup,
        drill: config.drill,
        pgbouncer: config.pgbouncer,
        postgres: config.postgres,
        sslmode: config.sslmode,
        tls,
    };
}
