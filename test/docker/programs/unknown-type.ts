// A program with a resource type the applier does not implement (docker.Service).
import * as docker from "@pulumi/docker";

new docker.Network("net", { name: "strict-net", driver: "bridge" });
new docker.Service("svc", { name: "strict-svc", taskSpec: { containerSpec: { image: "x" } } });
