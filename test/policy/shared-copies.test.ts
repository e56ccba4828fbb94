/**
 * policy/shared/ holds generated copies of the root modules the pack needs (it may import
 * nothing outside policy/): each must equal its source under the generated header, so a
 * vocabulary or cron change cannot leave the published pack behind.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { expectedCopy, header, SHARED, syncShared } from "../../scripts/sync-policy-shared";

const ROOT = path.resolve(__dirname, "..", "..");

describe("policy/shared", () => {
    it.each(SHARED.map((s) => [s.copy, s.source]))("%s is the generated copy of %s (run scripts/sync-policy-shared.ts)", (copy, source) => {
        const have = fs.readFileSync(path.join(ROOT, copy), "utf8");
        expect(have.startsWith(header(source))).toBe(true);
        expect(have).toBe(expectedCopy(source));
    });

    it("the check notices a stale copy, and the sync repairs it", () => {
        const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "shared-"));
        for (const { source, copy } of SHARED) {
            fs.mkdirSync(path.dirname(path.join(tmp, source)), { recursive: true });
            fs.copyFileSync(path.join(ROOT, source), path.join(tmp, source));
            fs.mkdirSync(path.dirname(path.join(tmp, copy)), { recursive: true });
            fs.copyFileSync(path.join(ROOT, copy), path.join(tmp, copy));
        }
        expect(syncShared(false, tmp)).toEqual([]);
        fs.appendFileSync(path.join(tmp, "vocabulary.ts"), "export const ADDED = 1;\n");
        expect(syncShared(false, tmp)).toEqual(["policy/shared/vocabulary.ts"]);
        expect(syncShared(true, tmp)).toEqual(["policy/shared/vocabulary.ts"]);
        expect(syncShared(false, tmp)).toEqual([]);
        fs.rmSync(tmp, { recursive: true, force: true });
    });

    it("no policy module imports the root copies instead", () => {
        const walk = (d: string): string[] =>
            fs
                .readdirSync(d, { withFileTypes: true })
                .flatMap((e) =>
                    e.isDirectory()
                        ? e.name === "node_modules"
                            ? []
                            : walk(path.join(d, e.name))
                        : e.name.endsWith(".ts")
                          ? [path.join(d, e.name)]
                          : [],
                );
        for (const f of walk(path.join(ROOT, "policy"))) {
            expect(fs.readFileSync(f, "utf8"), path.relative(ROOT, f)).not.toMatch(
                /from\s+["'](\.\.\/)+(vocabulary|render|config|components)\b/,
            );
        }
    });
});
