// A db-only network created without a `name` (the engine auto-names it `private-<7 hex>`) and
// an unlabeled application container attached to it by that engine-made name.
import * as docker from "@pulumi/docker";
import { NETWORK_LABEL } from "../../../vocabulary";

const dbOnly = new docker.Network("private", { internal: true, labels: [{ label: NETWORK_LABEL, value: "db-only" }] });
new docker.Container("web", { image: "example/web:1", networksAdvanced: [{ name: dbOnly.name }] });
