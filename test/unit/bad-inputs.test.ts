import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { BAD_INPUTS } from "../catalogue/bad-inputs";

describe("bad-input catalogue", () => {
    it("holds at least 30 cases", () => {
        expect(BAD_INPUTS.length).toBeGreaterThanOrEqual(30);
    });
    for (const c of BAD_INPUTS) {
        it(`rejects: ${c.title}`, () => {
            let error: unknown;
            try {
                c.run();
            } catch (e) {
                error = e;
            }
            expect(error).toBeInstanceOf(ConfigError);
            expect((error as ConfigError).problems).toEqual(c.problems);
        });
    }
});

describe("docs/configuration.md", () => {
    it("lists the catalogue exactly as the code reports it", async () => {
        const fs = await import("node:fs");
        const path = await import("node:path");
        const { updatedDoc } = await import("../../scripts/config-docs");
        const current = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "configuration.md"), "utf8");
        expect(updatedDoc(current)).toBe(current);
    });
});
