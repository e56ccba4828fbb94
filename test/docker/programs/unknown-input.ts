// A container with an input the applier does not implement (privileged).
import * as docker from "@pulumi/docker";

new docker.Container("c", { name: "strict-c", image: "x", privileged: true });
