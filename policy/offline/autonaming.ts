/**
 * Auto-naming as the engine's providers do it, for the offline recorder. A resource whose
 * name property is left out gets `<logical name>-<7 random hex digits>` from its provider's
 * Check (the Terraform bridge's AutoName: `resource.NewUniqueHex(name + "-", 7, maxlen)`),
 * before any policy sees it, during preview as well as up. Without this the offline check
 * would see a docker.Network with no `name` while the containers attach to a name the engine
 * made up, and could not tell which network they are on.
 *
 * The suffix is derived from the URN (deterministic, so `policy:check` prints the same lines
 * on every run); the engine draws it at random, which no policy may depend on.
 */
import * as crypto from "node:crypto";

/** Every resource type whose name the policies resolve (policy/lib/docker.ts, s3.ts), and its name property. */
export const AUTONAMED: Readonly<Record<string, { readonly property: string; readonly lowercase: boolean }>> = {
    "docker:index/network:Network": { property: "name", lowercase: false },
    "docker:index/container:Container": { property: "name", lowercase: false },
    "docker:index/volume:Volume": { property: "name", lowercase: false },
    // The AWS provider lowercases bucket auto-names (S3 bucket names are lowercase).
    "aws:s3/bucket:Bucket": { property: "bucket", lowercase: true },
    "aws:s3/bucketV2:BucketV2": { property: "bucket", lowercase: true },
};

/** Length of the random suffix, as the bridge's AutoName uses. */
export const AUTONAME_SUFFIX_LENGTH = 7;

export function autoName(type: string, logicalName: string, urn: string): string {
    const rule = AUTONAMED[type];
    const base = rule?.lowercase ? logicalName.toLowerCase() : logicalName;
    const suffix = crypto.createHash("sha256").update(`autoname/${urn}`).digest("hex").slice(0, AUTONAME_SUFFIX_LENGTH);
    return `${base}-${suffix}`;
}

/**
 * The inputs as the provider's Check returns them: the name property filled in when the
 * program left it out (a `bucketPrefix` asks the AWS provider for prefix + random instead).
 * Returns undefined when nothing changes.
 */
export function withAutoName(
    type: string,
    logicalName: string,
    urn: string,
    inputs: Record<string, unknown>,
): Record<string, unknown> | undefined {
    const rule = AUTONAMED[type];
    if (!rule) return undefined;
    const current = inputs[rule.property];
    if (current !== undefined && current !== null && current !== "") return undefined;
    const prefix = rule.property === "bucket" ? inputs.bucketPrefix : undefined;
    const name =
        typeof prefix === "string" && prefix !== "" ? `${prefix}${autoName(type, "", urn).slice(1)}` : autoName(type, logicalName, urn);
    return { ...inputs, [rule.property]: name };
}
