/**
 * A copied stack file: the environment must be the stack's name, or two stacks would share a
 * backup prefix (s3://<bucket>/<environment>/<cluster>/) and one's retention would delete the
 * other's backups. Checked through readStackConfig under the mock runtime, as `pulumi up` runs it.
 */
import { describe, expect, it } from "vitest";
import { environmentProblem } from "../../config/stack-config";
import { catalogueTests } from "../catalogue/assert";
import { installMocks, loadStackConfig } from "../support/mock-runtime";

describe("a copied stack file", () => {
    catalogueTests("copied-stack", 3);

    it("refuses Pulumi.preview.yaml's config in a stack named staging, before any resource", async () => {
        const recorded = await installMocks("staging");
        loadStackConfig("preview");
        const { readStackConfig } = await import("../../config/stack-config");
        expect(() => readStackConfig()).toThrow(
            'db-tier:environment: is "preview" in stack "staging": the environment must be the stack\'s name (write staging)',
        );
        expect(recorded).toEqual([]);
    });

    it("accepts the three real stacks, whose environments are their names", () => {
        for (const s of ["dev", "preview", "production"]) expect(environmentProblem(s, s)).toBeUndefined();
        expect(environmentProblem("production", "prod")).toContain("(write prod)");
    });
});
