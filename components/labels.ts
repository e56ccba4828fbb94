/** Docker labels of the contract, built in one place so every component spells them alike. */
import { type ContainerRole, NETWORK_LABEL, type NetworkKind, ROLE_LABEL } from "../vocabulary";

export function roleLabels(role: ContainerRole, cluster?: string): { label: string; value: string }[] {
    const labels: { label: string; value: string }[] = [{ label: ROLE_LABEL, value: role }];
    if (cluster) labels.push({ label: "db-tier.cluster", value: cluster });
    return labels;
}

export function networkLabels(kind: NetworkKind, cluster: string): { label: string; value: string }[] {
    return [
        { label: NETWORK_LABEL, value: kind },
        { label: "db-tier.cluster", value: cluster },
    ];
}
