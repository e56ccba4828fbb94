// An unlabeled application container on the tier's db-only network.
import * as docker from "@pulumi/docker";
import { deploy } from "./tier";

const stack = deploy();
const tier = stack.tiers.app;
new docker.Container("web", {
    name: "dev-web",
    image: "example/web:1",
    envs: ["PORT=8080"],
    networksAdvanced: [{ name: tier.networks.dbOnly.name }],
});
