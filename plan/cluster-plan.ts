/**
 * Everything one cluster's tier runs, from its validated settings and a placement: the one
 * source both components/ (Docker resources) and local/ (loopback processes) place. Pure: no
 * resources, no files, no processes.
 */
import { type JobsPlan, planJobs } from "./jobs";
import { type PgbouncerPlan, planPgbouncer } from "./pgbouncer";
import type { Placement } from "./placement";
import { type PostgresPlan, planPostgres } from "./postgres";
import { type ProvisionPlan, planProvision } from "./provision";
import type { ClusterSettings } from "./settings";
import { planWalg, type WalgPlan } from "./walg";
import { planWalReceiver, type WalReceiverPlan } from "./wal-receiver";

export interface ClusterPlan {
    readonly settings: ClusterSettings;
    readonly placement: Placement;
    readonly postgres: PostgresPlan;
    readonly pgbouncer: PgbouncerPlan;
    readonly walg: WalgPlan;
    readonly provision: ProvisionPlan;
    readonly jobs: JobsPlan;
    readonly walReceiver: WalReceiverPlan;
}

export function planCluster(settings: ClusterSettings, placement: Placement): ClusterPlan {
    return {
        settings,
        placement,
        postgres: planPostgres(settings, placement.postgres),
        pgbouncer: planPgbouncer(settings, placement),
        walg: planWalg(settings, placement.storage),
        provision: planProvision(settings),
        jobs: planJobs(settings, placement),
        walReceiver: planWalReceiver(settings, placement),
    };
}
