import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { BAD_INPUTS, GOOD_INPUTS } from "../catalogue/bad-inputs";
import { errorOf, expectProblems } from "../catalogue/assert";

describe("bad-input catalogue", () => {
    it("holds at least 100 cases and 30 valid edge cases", () => {
        expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(100);
        expect(GOOD_INPUTS.length).toBeGreaterThanOrEqual(30);
    });
    it("has no two cases with the same title", () => {
        const titles = BAD_INPUTS.map((c) => c.title);
        expect(titles.filter((t, i) => titles.indexOf(t) !== i)).toEqual([]);
    });
    for (const c of BAD_INPUTS) {
        it(`rejects: ${c.title}`, () => expectProblems(c.run, c.problems));
    }
    for (const c of GOOD_INPUTS) {
        it(`accepts: ${c.title}`, () => {
            const e = errorOf(c.run);
            expect(e instanceof ConfigError ? e.problems : e).toBeUndefined();
        });
    }
});

describe("docs/configuration.md", () => {
    it("lists the rules and the catalogue exactly as the code reports them", async () => {
        const fs = await import("node:fs");
        const path = await import("node:path");
        const { updatedDoc } = await import("../../scripts/config-docs");
        const current = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "configuration.md"), "utf8");
        expect(updatedDoc(current)).toBe(current);
    });
    it("lists a rule next to every key a catalogue case refuses", async () => {
        const { renderRules } = await import("../../scripts/config-docs");
        const rules = renderRules();
        for (const key of [
            "storage.bucket",
            "clusters[].databases",
            "clusters[].rootUser",
            "hostBindAddress",
            "dockerHost",
            "postgres.sharedBuffers",
            "postgres.image",
            "pgbouncer.publishPort",
            "drill.tables / drill.minRows",
            "environment",
        ]) {
            expect(rules).toMatch(new RegExp(`\\| \`${key.replace(/[[\]./]/g, "\\$&")}\` \\| [^|]+ \\| \\d`));
        }
    });
});
