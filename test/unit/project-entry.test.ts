/**
 * `pulumi up` runs the stack program, not the library. The Node.js runtime takes the entry from
 * Pulumi.yaml's `main` and, without one, from package.json's `main` — which here is the
 * library's compiled index for importers (bin/components/index.js): a program that exports
 * classes and creates nothing. Once `npm run build` has run (up:dev runs it), a missing `main`
 * in Pulumi.yaml would make every `up` an empty one. test/integration/pulumi-engine.test.ts
 * runs a program through the real engine with bin/ present.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import yaml from "js-yaml";
import { describe, expect, it } from "vitest";

const REPO = path.resolve(__dirname, "..", "..");

describe("the project's entry point", () => {
    const project = yaml.load(fs.readFileSync(path.join(REPO, "Pulumi.yaml"), "utf8")) as { main?: string };
    const pkg = JSON.parse(fs.readFileSync(path.join(REPO, "package.json"), "utf8")) as { main: string };

    it("names the stack program in Pulumi.yaml, not package.json's library entry", () => {
        expect(project.main).toBe("index.ts");
        expect(path.normalize(project.main as string)).not.toBe(path.normalize(pkg.main));
    });

    it("is a program that deploys the stack from its config", () => {
        const source = fs.readFileSync(path.join(REPO, project.main as string), "utf8");
        expect(source).toMatch(/deployStack\(values, secrets\)/);
    });
});
