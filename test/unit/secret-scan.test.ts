/**
 * The secret scan finds a leak in every form it can take in the engine's text, each form a
 * planted control: raw, JSON-escaped (the TLS key's line breaks as `\n` in `docker inspect`),
 * base64 and base64url at each of the three alignments inside a longer encoded text (an env
 * file or a tar header uploaded as contentBase64), and URL-encoded (a DSN). And it finds
 * nothing where there is nothing: the same texts with a different secret of the same shape.
 */
import { generateKeyPairSync, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { findLeak, pemLines, secretForms } from "../support/secret-scan";

/** A password as random.RandomPassword makes one with specials: every character class URL- and JSON-encoding touch. */
const password = () => `${randomBytes(18).toString("base64")}!#$%&*()-_=+[]{}<>:?"\\/`;
const tlsKey = () => generateKeyPairSync("ec", { namedCurve: "prime256v1" }).privateKey.export({ type: "pkcs8", format: "pem" }) as string;

/** How each form plants `secret` into a longer text. */
const PLANTED: Record<string, (secret: string) => string> = {
    raw: (s) => `POSTGRES_PASSWORD=${s}\n`,
    "JSON-escaped (docker inspect)": (s) => JSON.stringify({ Config: { Env: [`LEAK=${s}`], Labels: { note: s } } }),
    "base64, aligned": (s) => Buffer.from(`${s}\n`).toString("base64"),
    "base64, one byte in": (s) => Buffer.from(`K${s}\n`).toString("base64"),
    "base64, two bytes in": (s) => Buffer.from(`KE${s}\n`).toString("base64"),
    "base64url, one byte in": (s) => Buffer.from(`K${s}`).toString("base64url"),
    "base64url, two bytes in": (s) => Buffer.from(`KE${s}`).toString("base64url"),
    "URL-encoded (a DSN)": (s) => `postgresql://app_user:${encodeURIComponent(s)}@pgbouncer:6432/app?sslmode=require`,
};

describe("the secret scan", () => {
    for (const [form, plant] of Object.entries(PLANTED)) {
        it(`finds a password planted ${form}`, () => {
            const secret = password();
            expect(findLeak(`prefix ${plant(secret)} suffix`, [secret])?.secret).toBe(secret);
        });

        it(`finds a TLS key planted ${form}`, () => {
            const key = tlsKey();
            // The scan holds a key as the lines of its body (what the suite's secretValues() hands it).
            const found = findLeak(plant(key), pemLines(key));
            expect(found, `the key ${form}`).toBeDefined();
        });

        it(`finds nothing ${form} when another secret of the same shape is planted (control)`, () => {
            expect(findLeak(plant(password()), [password()])).toBeUndefined();
            const key = tlsKey();
            expect(findLeak(plant(tlsKey()), pemLines(key))).toBeUndefined();
        });
    }

    it("searches a TLS key by its body's lines, each long enough to be unique", () => {
        const key = tlsKey();
        const lines = pemLines(key);
        expect(lines.length).toBeGreaterThanOrEqual(2);
        for (const l of lines) {
            expect(l.length).toBeGreaterThanOrEqual(16);
            expect(key).toContain(l);
        }
        // The body with its breaks removed, the old search, is in none of the JSON forms.
        const joined = lines.join("");
        expect(JSON.stringify({ content: key }).includes(joined)).toBe(false);
        expect(findLeak(JSON.stringify({ content: key }), lines)).toBeDefined();
    });

    it("derives only forms long enough not to match by chance", () => {
        for (const f of secretForms(password())) expect(f.length).toBeGreaterThanOrEqual(12);
    });
});
