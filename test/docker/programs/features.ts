// Every container input the applier implements, on a small graph (test/docker/applier-engine.test.ts).
import * as docker from "@pulumi/docker";

const image = process.env.DBTIER_PGBOUNCER_IMAGE ?? "db-tier/pgbouncer:local";
const a = new docker.Network("feat-a", {
    name: "feat-a",
    driver: "bridge",
    internal: true,
    labels: [{ label: "db-tier.network", value: "db-only" }],
});
const b = new docker.Network("feat-b", { driver: "bridge" });
const vol = new docker.Volume("feat-vol", { name: "feat-vol", labels: [{ label: "feat", value: "yes" }] });

const main = new docker.Container("feat-main", {
    name: "feat-main",
    image,
    entrypoints: ["sh", "-c"],
    // Exits 0 on its stop signal, given the time: destroyGraceSeconds below.
    command: ["trap 'exit 0' INT; sleep 600 & wait"],
    user: "postgres",
    workingDir: "/tmp",
    hostname: "feathost",
    envs: ["FEAT=1"],
    labels: [{ label: "feat.role", value: "main" }],
    networksAdvanced: [{ name: a.name, aliases: ["alpha", "beta"] }, { name: b.name }],
    volumes: [{ volumeName: vol.name, containerPath: "/data", readOnly: true }],
    mounts: [{ type: "tmpfs", target: "/scratch", tmpfsOptions: { sizeBytes: 1048576 } }],
    uploads: [
        // No owner: with one, the provider copies with copyUIDGID, which looks `user` up on the host (moby/moby#34142).
        { file: "/run/feat/secret", content: "feat-secret-content", permissions: "0444" },
        { file: "/run/feat/tool.sh", content: "#!/bin/sh\necho tool\n", executable: true },
    ],
    capabilities: { drops: ["ALL"], adds: ["CHOWN"] },
    securityOpts: ["no-new-privileges"],
    memory: 96,
    memorySwap: 96,
    restart: "on-failure",
    maxRetryCount: 2,
    stopSignal: "SIGINT",
    stopTimeout: 5,
    destroyGraceSeconds: 5,
    ulimits: [{ name: "nofile", soft: 2048, hard: 4096 }],
    healthcheck: { tests: ["CMD-SHELL", "test -r /run/feat/secret"], interval: "1s", timeout: "2s", retries: 3, startPeriod: "1s" },
    wait: true,
    waitTimeout: 60,
});

new docker.Container("feat-readonly", {
    name: "feat-readonly",
    image,
    command: ["sleep", "600"],
    readOnly: true,
    tmpfs: { "/tmp": "size=1m" },
    networksAdvanced: [{ name: b.name }],
    ports: [{ internal: 6432, external: Number(process.env.FEAT_PORT ?? 0) || undefined, ip: "127.0.0.1" }],
});

const once = new docker.Container(
    "feat-once",
    {
        name: "feat-once",
        image,
        command: ["sh", "-c", "echo hello from once; exit 3"],
        restart: "no",
        mustRun: false,
        attach: true,
        logs: true,
        networksAdvanced: [{ name: a.name }],
    },
    { dependsOn: [main] },
);

export const autoNamed = b.name;
export const onceExit = once.exitCode;
export const onceLogs = once.containerLogs;
