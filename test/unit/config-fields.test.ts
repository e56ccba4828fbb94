/**
 * The field reference of docs/configuration.md comes from the schema (config/fields.ts):
 * every key is described, the defaults it prints are the ones parsing applies, the ranges are
 * the ones parsing enforces, and each printed error is what the schema says for that mistake.
 */
import { describe, expect, it } from "vitest";
import { z } from "zod";
import { problemsOf } from "../../config/errors";
import { fieldsOf } from "../../config/fields";
import { tierConfigSchema } from "../../config/schema";
import { mistakeError, renderFields } from "../../scripts/config-docs";

const BASE = {
    environment: "dev",
    storage: { provider: "minio", bucket: "db-tier-dev-backups", endpoint: "http://127.0.0.1:9000" },
    clusters: [{ name: "app" }],
};
const fields = fieldsOf(tierConfigSchema);

/** The value at `a.b[].c` of a parsed config (list elements: the first). */
function at(value: unknown, key: string): unknown {
    return key.split(".").reduce<unknown>((v, part) => {
        const o = v as Record<string, unknown>;
        return part.endsWith("[]") ? (o[part.slice(0, -2)] as unknown[])[0] : o?.[part];
    }, value);
}

describe("config fields from the schema", () => {
    it("lists the nested keys of every section", () => {
        const keys = fields.map((f) => f.key);
        for (const k of [
            "environment",
            "storage.bucket",
            "clusters[].databases",
            "backup.retention.walDays",
            "drill.minRows",
            "postgres.sharedBuffers",
        ])
            expect(keys).toContain(k);
        expect(keys.length).toBeGreaterThanOrEqual(40);
    });

    it("every key has a description", () => {
        expect(fields.filter((f) => f.description.trim() === "").map((f) => f.key)).toEqual([]);
    });

    it("the defaults it prints are the values parsing fills in", () => {
        const parsed = tierConfigSchema.parse(BASE);
        const withDefault = fields.filter((f) => f.default !== "required" && f.default !== "none");
        expect(withDefault.length).toBeGreaterThan(25);
        for (const f of withDefault) {
            const v = at(parsed, f.key);
            const shown = Array.isArray(v) ? `[${v.join(", ")}]` : v && typeof v === "object" ? "{}" : String(v);
            expect(shown, f.key).toBe(f.default);
        }
    });

    it("the ranges it prints are the ones parsing enforces, at both ends", () => {
        for (const f of fields) {
            const m = /^(\d+)–(\d+)$/.exec(f.allowed);
            if (!m || f.type !== "integer") continue;
            const set = (v: number) => {
                const c = structuredClone(BASE) as Record<string, any>;
                const parts = f.key.split(".");
                let o = c;
                for (const p of parts.slice(0, -1)) o = o[p] ??= {};
                o[parts.at(-1)!] = v;
                return problemsOf(tierConfigSchema, c, "db-tier").filter((p) => p.startsWith(`db-tier:${f.key}:`));
            };
            expect(set(Number(m[1]) - 1).length, `${f.key} below ${m[1]}`).toBeGreaterThan(0);
            expect(set(Number(m[2]) + 1).length, `${f.key} above ${m[2]}`).toBeGreaterThan(0);
        }
    });

    it("enums print their options", () => {
        expect(fields.find((f) => f.key === "backup.compression")?.allowed).toBe("lz4, zstd, lzma");
        expect(fields.find((f) => f.key === "storage.provider")?.default).toBe("required");
    });

    it("a field without .describe() has an empty description, which renderFields refuses", () => {
        const toy = fieldsOf(z.object({ a: z.number().int().min(1).max(9).default(3), b: z.string().optional().describe("b") }));
        expect(toy).toMatchObject([
            { key: "a", type: "integer", default: "3", allowed: "1–9", description: "" },
            { key: "b", type: "string", default: "none", description: "b" },
        ]);
        expect(renderFields()).toContain("| `backup.rpoSeconds` | integer | `60` | 10–300 |");
    });

    it("a mistake the schema accepts is refused by the generator", () => {
        expect(() => mistakeError("backup.rpoSeconds", 60)).toThrow(/is accepted/);
        expect(mistakeError("backup.compression", "gzip")).toBe('db-tier:backup.compression: must be one of lz4, zstd, lzma (got "gzip")');
    });
});
