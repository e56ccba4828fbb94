/**
 * The three networks of one cluster. `db-only` is internal (no route out) and holds
 * Postgres and the tier's own jobs; `app` is where applications meet pgBouncer;
 * `backup-egress` is Postgres' and the backup jobs' way to object storage, which no
 * application may join.
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { typeToken } from "../vocabulary";
import { networkLabels } from "./labels";

export interface TierNetworksArgs {
    /** Prefix of the Docker network names, e.g. `production-app`. Unique per Docker host. */
    readonly namePrefix: string;
    /** Cluster the networks belong to (label only). */
    readonly cluster: string;
}

export class TierNetworks extends pulumi.ComponentResource {
    public readonly dbOnly: docker.Network;
    public readonly app: docker.Network;
    public readonly backupEgress: docker.Network;
    /**
     * The subnets the engine gave `db-only`, the only addresses Postgres admits TCP logins
     * from (pg_hba.conf). Known once the network exists: unknown in the preview that creates it.
     */
    public readonly dbOnlySubnets: pulumi.Output<string[]>;

    constructor(name: string, args: TierNetworksArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("TierNetworks"), name, args, opts);
        this.dbOnly = new docker.Network(
            `${name}-db-only`,
            {
                name: `${args.namePrefix}-db-only`,
                driver: "bridge",
                internal: true,
                labels: networkLabels("db-only", args.cluster),
            },
            { parent: this },
        );
        this.app = new docker.Network(
            `${name}-app`,
            {
                name: `${args.namePrefix}-app`,
                driver: "bridge",
                internal: false,
                labels: networkLabels("app", args.cluster),
            },
            { parent: this },
        );
        this.backupEgress = new docker.Network(
            `${name}-backup-egress`,
            {
                name: `${args.namePrefix}-backup-egress`,
                driver: "bridge",
                // Not internal: R2 and B2 are on the internet, and an embedded MinIO publishes
                // its API to the host through this network (internal networks publish nothing).
                internal: false,
                labels: networkLabels("backup-egress", args.cluster),
            },
            { parent: this },
        );
        this.dbOnlySubnets = this.dbOnly.ipamConfigs.apply((configs) => subnetsOf(`${args.namePrefix}-db-only`, configs));
        this.registerOutputs({ dbOnly: this.dbOnly, app: this.app, backupEgress: this.backupEgress, dbOnlySubnets: this.dbOnlySubnets });
    }
}

/**
 * A network's subnets from the engine's IPAM record. None is an error, not a fallback to
 * 0.0.0.0/0: pg_hba.conf would otherwise admit every network Postgres is on.
 */
export function subnetsOf(network: string, configs: readonly { subnet?: string }[] | undefined): string[] {
    const subnets = (configs ?? []).map((c) => c.subnet).filter((s): s is string => typeof s === "string" && s !== "");
    if (subnets.length === 0)
        throw new Error(`network ${network}: the Docker engine reports no subnet (ipamConfigs), so pg_hba.conf cannot be narrowed to it`);
    return subnets;
}
