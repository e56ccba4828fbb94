/**
 * The two images every cluster runs, built once per stack from the Dockerfiles shipped in
 * this package (or taken from config): Postgres 15 with WAL-G and the job runner, and
 * Debian's pgBouncer 1.18, the same versions the integration tests run.
 */
import * as docker from "@pulumi/docker";
import * as fs from "node:fs";
import * as path from "node:path";
import * as pulumi from "@pulumi/pulumi";
import { typeToken } from "../vocabulary";

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

export class TierImages extends pulumi.ComponentResource {
    public readonly postgres: pulumi.Output<string>;
    public readonly pgbouncer: pulumi.Output<string>;

    constructor(name: string, args: TierImagesArgs, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("TierImages"), name, {}, opts);
        this.postgres = args.postgresImage ? pulumi.output(args.postgresImage) : this.build(name, "postgres");
        this.pgbouncer = args.pgbouncerImage ? pulumi.output(args.pgbouncerImage) : this.build(name, "pgbouncer");
        this.registerOutputs({ postgres: this.postgres, pgbouncer: this.pgbouncer });
    }

    private build(name: string, which: "postgres" | "pgbouncer"): pulumi.Output<string> {
        const root = packageRoot();
        const image = new docker.Image(`${name}-${which}`, {
            imageName: `db-tier/${which}:local`,
            build: {
                context: root,
                dockerfile: path.join(root, "images", which, "Dockerfile"),
                platform: "linux/amd64",
            },
            skipPush: true,
            buildOnPreview: false,
        }, { parent: this });
        // The content-addressed reference, so a rebuilt image replaces the containers.
        return pulumi.all([image.repoDigest, image.imageName]).apply(([digest, imageName]) => digest || imageName);
    }
}
