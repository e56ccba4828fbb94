// The db-only network is created without `internal`, so its members get a route out.
import { NETWORK_LABEL } from "../../../vocabulary";
import { deploy, editResource } from "./tier";

deploy({
    transformations: [
        editResource("docker:index/network:Network", (p) =>
            p.labels.some((l: { label: string; value: string }) => l.label === NETWORK_LABEL && l.value === "db-only")
                ? { ...p, internal: false }
                : p,
        ),
    ],
});
