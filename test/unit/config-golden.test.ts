/**
 * The golden-file comparison (test/support/golden.ts) can fail: a changed, missing or stale
 * file is reported with the lines that differ, and masking leaves no secret behind.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { describe, expect, it } from "vitest";
import { compareGolden, GOLDEN_ROOT, lineDiff, maskEnvFile, maskScram, SECRET_TOKEN } from "../support/golden";

/** The committed golden files of the dev stack, by name. */
function devGolden(): Record<string, string> {
    const dir = path.join(GOLDEN_ROOT, "dev");
    const names = (fs.readdirSync(dir, { recursive: true }) as string[]).filter((f) => fs.statSync(path.join(dir, f)).isFile());
    return Object.fromEntries(names.map((n) => [n.split(path.sep).join("/"), fs.readFileSync(path.join(dir, n), "utf8")]));
}

function copyOf(files: Record<string, string>): string {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "golden-unit-"));
    compareGolden(dir, files, true);
    return dir;
}

describe("golden comparison", () => {
    it("passes when the rendered files equal the golden ones", () => {
        const files = devGolden();
        expect(Object.keys(files)).toContain("app/postgresql.conf");
        expect(compareGolden(copyOf(files), files)).toEqual([]);
    });

    it("reports a changed line of postgresql.conf with the golden and the rendered line", () => {
        const files = devGolden();
        const dir = copyOf(files);
        const changed = {
            ...files,
            "app/postgresql.conf": files["app/postgresql.conf"].replace(/^archive_timeout = .*$/m, "archive_timeout = 5"),
        };
        expect(changed["app/postgresql.conf"]).not.toBe(files["app/postgresql.conf"]);
        const problems = compareGolden(dir, changed);
        expect(problems.length).toBe(1);
        expect(problems[0]).toMatch(/^app\/postgresql\.conf differs/);
        expect(problems[0]).toMatch(/^- archive_timeout = 60$/m);
        expect(problems[0]).toMatch(/^\+ archive_timeout = 5$/m);
        // Only the change and its context, not the whole file.
        expect(problems[0]).not.toContain("log_timezone");
    });

    it("reports a file no longer rendered and a file with no golden copy", () => {
        const files = devGolden();
        const dir = copyOf(files);
        const { "app/pg_ident.conf": _gone, ...rest } = files;
        const problems = compareGolden(dir, { ...rest, "app/new.conf": "x\n" });
        expect(problems.sort()).toEqual([
            "app/new.conf: rendered but no golden file",
            "app/pg_ident.conf: golden file no longer rendered (stale)",
        ]);
    });

    it("update rewrites the folder: stale files go, changed files take the rendered text", () => {
        const dir = copyOf({ "a.conf": "old\n", "b.conf": "stale\n" });
        compareGolden(dir, { "a.conf": "new\n" }, true);
        expect(fs.readdirSync(dir)).toEqual(["a.conf"]);
        expect(fs.readFileSync(path.join(dir, "a.conf"), "utf8")).toBe("new\n");
    });
});

describe("line diff", () => {
    it("marks removed and added lines and keeps the equal ones out of the way", () => {
        const before = ["a", "b", "c", "d", "e", "f", "g", "h"].join("\n");
        const after = ["a", "b", "c", "D", "e", "f", "g", "h", "i"].join("\n");
        expect(lineDiff(before, after, 1)).toBe(
            ["@@ golden line 3", "  c", "- d", "+ D", "  e", "@@ golden line 8", "  h", "+ i"].join("\n"),
        );
    });

    it("is empty for equal texts", () => {
        expect(lineDiff("a\nb\n", "a\nb\n")).toBe("");
    });
});

describe("masking", () => {
    it("replaces the salt and keys of SCRAM verifiers, keeping the iteration count", () => {
        const v =
            "SCRAM-SHA-256$4096:t79HXA5q0IvYPdltp+++ng==$X3Hc7KczVqXOK21HjvGhVd3Ek3pzvmqV5GWyuVBEE7Q=:UiiwP5Ut5Aj9Rt5zqvJCYVE5eqWmTHVEvT4wJJefjj0=";
        expect(maskScram(`"app_user" "${v}"\n`)).toBe('"app_user" "SCRAM-SHA-256$4096:<salt>$<stored-key>:<server-key>"\n');
    });

    it("keeps the WAL-G keys and non-secret values, replaces credentials and the encryption key", () => {
        const env = [
            "# comment",
            "WALG_S3_PREFIX='s3://b/dev/app'",
            "AWS_ACCESS_KEY_ID='AKIA123'",
            "AWS_SECRET_ACCESS_KEY='s3cr3t'",
            "WALG_LIBSODIUM_KEY='abcd'",
            "WALG_LIBSODIUM_KEY_TRANSFORM='hex'",
            "SOME_NEW_TOKEN='t'",
        ].join("\n");
        const masked = maskEnvFile(env);
        expect(masked).toContain("WALG_S3_PREFIX='s3://b/dev/app'");
        expect(masked).toContain("WALG_LIBSODIUM_KEY_TRANSFORM='hex'");
        expect(masked).toContain(`AWS_ACCESS_KEY_ID=${SECRET_TOKEN}`);
        expect(masked).toContain(`SOME_NEW_TOKEN=${SECRET_TOKEN}`);
        for (const s of ["AKIA123", "s3cr3t", "'abcd'", "'t'"]) expect(masked).not.toContain(s);
    });
});
