/**
 * Runs under the real Pulumi engine with the docker and random plugins that
 * scripts/install-providers.sh builds (tools/providers/README.md): an internal network, a
 * volume and a container on them with envs, labels, a mount and a (read-only) volume, an upload,
 * a tmpfs, a health check it waits for, ulimits, capabilities, stop signal and timeout and
 * destroyGraceSeconds, its secret env from a RandomPassword, plus RandomBytes.
 * Every Docker object is named `provider-probe-*`, so a leftover is easy to find and remove.
 *
 * Config: `image` (default debian:bookworm-slim, any image in the engine that has `sleep`),
 * `generation` (an env value: changing it replaces the container), `dockerHost` (default
 * $DOCKER_HOST, passed through an explicit docker.Provider as components/stack.ts does).
 */
import * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import * as random from "@pulumi/random";

const config = new pulumi.Config();
const image = config.get("image") ?? "debian:bookworm-slim";
const generation = config.get("generation") ?? "1";
const host = config.get("dockerHost") ?? process.env.DOCKER_HOST;
const certPath = config.get("dockerCertPath");

const provider = new docker.Provider("provider-probe", { host, ...(certPath ? { certPath } : {}) });
const opts = { provider };

const network = new docker.Network("provider-probe-net", { name: "provider-probe-net", internal: true, driver: "bridge" }, opts);
const volume = new docker.Volume(
    "provider-probe-data",
    { name: "provider-probe-data", labels: [{ label: "db-tier.probe", value: "provider-probe" }] },
    opts,
);
const password = new random.RandomPassword("provider-probe-password", { length: 24, special: false });
const salt = new random.RandomBytes("provider-probe-salt", { length: 16 });

const container = new docker.Container(
    "provider-probe-box",
    {
        name: "provider-probe-box",
        image,
        command: ["sleep", "infinity"],
        // `sleep` as PID 1 ignores SIGTERM: the engine waits destroyGraceSeconds, then kills it.
        destroyGraceSeconds: 2,
        restart: "no",
        envs: [pulumi.interpolate`PROBE_PASSWORD=${password.result}`, `PROBE_GENERATION=${generation}`],
        labels: [
            { label: "db-tier.probe", value: "provider-probe" },
            { label: "db-tier.generation", value: generation },
        ],
        mounts: [{ type: "volume", source: volume.name, target: "/data" }],
        // The older form the tier's components use, read-only.
        volumes: [{ volumeName: volume.name, containerPath: "/data-ro", readOnly: true }],
        uploads: [{ file: "/etc/provider-probe.conf", content: `generation=${generation}\n`, permissions: "0640" }],
        tmpfs: { "/scratch": "rw,size=16m" },
        networksAdvanced: [{ name: network.name, aliases: ["probe"] }],
        capabilities: { drops: ["NET_RAW"] },
        healthcheck: { tests: ["CMD", "test", "-d", "/data"], interval: "2s", timeout: "3s", retries: 3, startPeriod: "1s" },
        ulimits: [{ name: "nofile", soft: 4096, hard: 4096 }],
        stopSignal: "SIGTERM",
        stopTimeout: 2,
        // Waits for the health check to pass, as the tier's postgres and object store do.
        wait: true,
        waitTimeout: 60,
    },
    opts,
);

export const networkId = network.id;
// Computed by the engine's IPAM (components/tier-networks.ts reads it for pg_hba.conf).
export const subnets = network.ipamConfigs.apply((configs) => configs.map((c) => c.subnet));
export const volumeName = volume.name;
export const containerId = container.id;
export const containerName = container.name;
export const passwordResult = password.result; // a secret: `pulumi stack output` prints [secret]
export const saltHex = salt.hex;
