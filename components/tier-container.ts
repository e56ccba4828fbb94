/** What every tier container's arguments share, and how secret files are uploaded. */
import * as pulumi from "@pulumi/pulumi";
import { TierNetworks } from "./tier-networks";

export interface TierContainerArgs {
    /** Docker container name, unique on the host (e.g. `production-app-postgres`). */
    readonly containerName: string;
    /** Cluster the container belongs to (its `db-tier.cluster` label). */
    readonly cluster: string;
    /** Image reference (see TierImages). */
    readonly image: pulumi.Input<string>;
    /** The cluster's networks. */
    readonly networks: TierNetworks;
}

/** uid/gid of `postgres` in both images (the official Postgres image; images/pgbouncer pins it). */
export const POSTGRES_UID = "999";

/** Upload attributes of a secret file: readable by the postgres user only. */
export const SECRET_FILE = { owner: POSTGRES_UID, group: POSTGRES_UID, permissions: "0400" } as const;
