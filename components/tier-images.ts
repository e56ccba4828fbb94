/**
 * The images every cluster runs, built once per stack from the Dockerfiles shipped in this
 * package (or taken from config): Postgres 15 with WAL-G and the job runner, and Debian's
 * pgBouncer 1.18, the same versions the integration tests run. The dev stack's MinIO image
 * is built the same way by ObjectStore (localImage "minio").
 *
 * The Dockerfiles build only from `debian:bookworm-slim` and Debian packages; WAL-G and MinIO
 * are build inputs staged in images/staged/ (`scripts/docker-images.sh stage`), so the
 * images run the binaries the test suite ran (images/staged/README.md).
 */
import * as docker from "@pulumi/docker";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { typeToken } from "../vocabulary";

/** The images built from images/<name>/Dockerfile. */
export const LOCAL_IMAGES = ["postgres", "pgbouncer", "minio"] as const;
export type LocalImageName = (typeof LOCAL_IMAGES)[number];

/** Tag of a locally built image: what scripts/docker-images.sh builds for the test engine. */
export function localImageTag(which: LocalImageName): string {
    return `db-tier/${which}:local`;
}

export interface TierImagesArgs {
    /** Use this Postgres image instead of building images/postgres. */
    readonly postgresImage?: string;
    /** Use this pgBouncer image instead of building images/pgbouncer. */
    readonly pgbouncerImage?: string;
}

/**
 * The package root, the Docker build context: the nearest directory above this file that
 * holds images/postgres/Dockerfile (components/ in the repo, bin/components/ when installed).
 */
export function packageRoot(from = __dirname): string {
    for (let dir = from; ; dir = path.dirname(dir)) {
        if (fs.existsSync(path.join(dir, "images", "postgres", "Dockerfile"))) return dir;
        if (path.dirname(dir) === dir) throw new Error(`db-tier: images/postgres/Dockerfile not found above ${from}`);
    }
}

/**
 * Builds images/<which>/Dockerfile with the package root as context and returns the image
 * reference containers should use: the content-addressed digest when the engine reports
 * one, so a rebuilt image replaces the containers.
 */
export function localImage(name: string, which: LocalImageName, parent: pulumi.Resource): pulumi.Output<string> {
    const root = packageRoot();
    const image = new docker.Image(
        `${name}-${which}`,
        {
            imageName: localImageTag(which),
            build: {
                context: root,
                dockerfile: path.join(root, "images", which, "Dockerfile"),
                platform: "linux/amd64",
            },
            skipPush: true,
            buildOnPreview: false,
        },
        { parent },
    );
    return pulumi.all([image.repoDigest, image.imageName]).apply(([digest, imageName]) => digest || imageName);
}

export class TierImages extends pulumi.ComponentResource {
    public readonly postgres: pulumi.Output<string>;
    public readonly pgbouncer: pulumi.Output<string>;

    constructor(name: string, args: TierImagesArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("TierImages"), name, args, opts);
        this.postgres = args.postgresImage ? pulumi.output(args.postgresImage) : localImage(name, "postgres", this);
        this.pgbouncer = args.pgbouncerImage ? pulumi.output(args.pgbouncerImage) : localImage(name, "pgbouncer", this);
        this.registerOutputs({ postgres: this.postgres, pgbouncer: this.pgbouncer });
    }
}
