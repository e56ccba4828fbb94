// Postgres also joins its cluster's app network.
import { deploy, editContainer } from "./tier";

deploy({
    transformations: [editContainer("postgres", (p) => ({ ...p, networksAdvanced: [...p.networksAdvanced, { name: "dev-app-app" }] }))],
});
