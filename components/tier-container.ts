/** What every tier container's arguments share, and how secret files are uploaded. */
import type * as docker from "@pulumi/docker";
import * as pulumi from "@pulumi/pulumi";
import { createHash } from "node:crypto";
import * as fs from "node:fs";
import * as path from "node:path";
import type { ContainerLimits } from "../plan/container-limits";
import type { TierNetworks } from "./tier-networks";

export interface TierContainerArgs {
    /** Docker container name, unique on the host (e.g. `production-app-postgres`). */
    readonly containerName: string;
    /** Cluster the container belongs to (its `db-tier.cluster` label). */
    readonly cluster: string;
    /** Image reference (see TierImages). */
    readonly image: pulumi.Input<string>;
    /** The cluster's networks. */
    readonly networks: TierNetworks;
    /** Memory and process limits (plan/container-limits.ts). */
    readonly limits: ContainerLimits;
}

/**
 * How long a replacement or `pulumi destroy` lets each container stop before it is killed
 * (the container's `destroyGraceSeconds`). The Docker provider stops a container with a
 * timeout of 0 unless this is set, whatever `stopTimeout` says (resourceDockerContainerDelete
 * in terraform-provider-docker): the stop signal and SIGKILL at once. Postgres would then skip
 * its shutdown checkpoint and start in crash recovery after every password rotation; the WAL
 * receiver would lose the open segment's tail; MinIO could cut an upload. `stopTimeout` stays
 * set to the same value for the engine's own stops (`docker stop`, a daemon restart).
 */
export const DESTROY_GRACE_SECONDS = {
    /** Fast shutdown (SIGINT): the checkpoint and the last archive_command. */
    postgres: 120,
    /** The loop stops wal-receive and lets WAL-G flush the open segment. */
    walReceiver: 30,
    /** MinIO finishes the uploads in flight. */
    objectStore: 30,
    /** A base backup in flight is abandoned (no sentinel, never listed as a backup): the scheduler exits. */
    backup: 30,
    restoreDrill: 30,
    /** SIGTERM is pgBouncer's immediate shutdown; the grace only lets it close its sockets. */
    pgbouncer: 10,
} as const;

/** uid/gid of `postgres` in both images (the official Postgres image; images/pgbouncer pins it). */
export const POSTGRES_UID = "999";

/**
 * Upload attributes of a secret file in the Postgres container, which starts as root (its
 * entrypoint drops to postgres): owned by postgres, readable by it only.
 */
export const SECRET_FILE = { owner: POSTGRES_UID, group: POSTGRES_UID, permissions: "0400" } as const;

/**
 * Upload attributes of a secret file in a container that runs as a non-root user (its `user`,
 * or its image's USER): root's, readable by every uid in the container (0444), no owner given.
 * The docker provider sets an upload's owner only through the Engine API's copyUIDGID, which
 * resolves the container's user on the HOST, not in the container (moby/moby#34142): the
 * upload fails where the host has no such user ("getent unable to find entry"), and is chowned
 * to the host's uid where it has one (a host's Debian `postgres` is not the images' 999), which
 * would leave a 0400 file unreadable. Each of these containers runs one service under one uid
 * and nothing else, so the file is readable by that service and root; no other container and
 * no host user can read a container's files.
 */
export const USER_SECRET_FILE = { permissions: "0444" } as const;

/**
 * Where secret files wait for the Docker provider during `pulumi up`: relative to the project
 * directory, which is the working directory of both the program and the provider plugins the
 * CLI starts, so the path (part of the container's inputs) is the same on every machine.
 */
export const SECRET_FILES_DIR = ".db-tier/secret-files";

const written = new Set<string>();
let cleanupInstalled = false;

function writeSecretFile(relative: string, text: string): void {
    const file = path.resolve(relative);
    fs.mkdirSync(path.dirname(file), { recursive: true, mode: 0o700 });
    fs.chmodSync(path.dirname(file), 0o700);
    fs.writeFileSync(file, text, { mode: 0o600 });
    fs.chmodSync(file, 0o600);
    written.add(file);
    if (!cleanupInstalled) {
        cleanupInstalled = true;
        // The provider has read every file by the time the program exits: the engine answers a
        // registration only after the resource's create or update is done. A run cut short by a
        // signal removes them too, then dies of that signal as it would have.
        process.once("exit", removeSecretFiles);
        for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
            const onSignal = () => {
                removeSecretFiles();
                process.removeListener(signal, onSignal);
                if (process.listenerCount(signal) === 0) process.kill(process.pid, signal);
            };
            process.on(signal, onSignal);
        }
    }
}

function removeSecretFiles(): void {
    for (const f of written) fs.rmSync(f, { force: true });
    written.clear();
    for (const dir of [path.resolve(SECRET_FILES_DIR), path.dirname(path.resolve(SECRET_FILES_DIR))]) {
        try {
            fs.rmdirSync(dir); // only when empty: another run's files stay
        } catch {
            break;
        }
    }
}

/**
 * One secret file for a container's `uploads`. The engine cannot keep a secret inside one
 * element of a list: it marks the container's whole `uploads` input secret
 * (annotateSecrets in the engine's provider plugin: "for an array, if any value ... is a
 * secret, the entire output array is marked as a secret"), and every postgresql.conf or
 * pgbouncer.ini change would then preview as `[secret]`. So a secret file is not uploaded by
 * `content` but by `source`: the program writes it (0600, in a 0700 directory, only during
 * `up`, removed when the program exits) and the Docker provider reads it from there. The
 * container's inputs, and so the state and every diff, hold only the path and a SHA-256 of
 * the file, never its text, and the configuration files beside it stay readable. The
 * contents are generated or supplied secrets of high entropy, so the hash reveals nothing
 * usable; a changed secret changes the hash, which shows as a replacement in the preview.
 */
export function secretUpload(
    file: string,
    content: pulumi.Input<string>,
    attributes: { owner?: string; group?: string; permissions?: string } = USER_SECRET_FILE,
): docker.types.input.ContainerUpload {
    const placed = pulumi.output(content).apply((text) => {
        const hash = createHash("sha256").update(`db-tier secret file\0${file}\0`).update(text).digest("hex");
        const relative = `${SECRET_FILES_DIR}/${hash}`;
        if (!pulumi.runtime.isDryRun()) writeSecretFile(relative, text);
        return { relative, hash };
    });
    return {
        file,
        // Neither reveals the content (see above), so neither is a secret.
        source: pulumi.unsecret(placed.apply((p) => p.relative)),
        sourceHash: pulumi.unsecret(placed.apply((p) => p.hash)),
        ...attributes,
    };
}

/** The text an upload puts into the container: its content, or the secret file it was written to (while the program runs). */
export function uploadText(upload: { content?: string; contentBase64?: string; source?: string }): string | undefined {
    if (typeof upload.content === "string") return upload.content;
    if (typeof upload.contentBase64 === "string") return Buffer.from(upload.contentBase64, "base64").toString("utf8");
    if (typeof upload.source === "string" && fs.existsSync(path.resolve(upload.source)))
        return fs.readFileSync(path.resolve(upload.source), "utf8");
    return undefined;
}
