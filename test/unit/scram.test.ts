/**
 * The SCRAM-SHA-256 verifier, checked against RFC 7677's published test vector and against
 * an independent computation with WebCrypto (a different implementation of PBKDF2/HMAC).
 */
import { webcrypto } from "node:crypto";
import { describe, expect, it } from "vitest";
import { isScramVerifier, scramKeys, scramVerifier } from "../../render/scram";

describe("scramKeys", () => {
    it("reproduces RFC 7677's test vector (user/pencil, salt W22ZaJ0SNY7soEsUEjb6gQ==, 4096)", () => {
        // RFC 7677 section 3: the server signature is HMAC(ServerKey, AuthMessage).
        const salt = Buffer.from("W22ZaJ0SNY7soEsUEjb6gQ==", "base64");
        const { serverKey } = scramKeys("pencil", salt, 4096);
        const authMessage =
            "n=user,r=rOprNGfwEbeRWgbNEkqO,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096,c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0";
        const { createHmac } = require("node:crypto") as typeof import("node:crypto");
        const serverSignature = createHmac("sha256", serverKey).update(authMessage).digest("base64");
        expect(serverSignature).toBe("6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
    });
});

describe("scramVerifier", () => {
    it("matches an independent WebCrypto computation", async () => {
        const password = "Zx9dQ2mN4pL7sK1vB8cR5tY3wE6uI0oA";
        const salt = Buffer.from("0123456789abcdef");
        const subtle = webcrypto.subtle;
        const base = await subtle.importKey("raw", Buffer.from(password), "PBKDF2", false, ["deriveBits"]);
        const salted = Buffer.from(await subtle.deriveBits({ name: "PBKDF2", hash: "SHA-256", salt, iterations: 4096 }, base, 256));
        const hmacKey = await subtle.importKey("raw", salted, { name: "HMAC", hash: "SHA-256" }, false, ["sign"]);
        const clientKey = Buffer.from(await subtle.sign("HMAC", hmacKey, Buffer.from("Client Key")));
        const serverKey = Buffer.from(await subtle.sign("HMAC", hmacKey, Buffer.from("Server Key")));
        const storedKey = Buffer.from(await subtle.digest("SHA-256", clientKey));
        const expected = `SCRAM-SHA-256$4096:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
        expect(scramVerifier(password, salt.toString("base64"))).toBe(expected);
    });

    it("is recognised by isScramVerifier and refuses short salts and non-ASCII passwords", () => {
        const v = scramVerifier("password-password-password-12345", Buffer.alloc(16, 7).toString("base64"));
        expect(isScramVerifier(v)).toBe(true);
        expect(isScramVerifier(`md5${"0".repeat(32)}`)).toBe(false);
        expect(() => scramVerifier("x".repeat(32), Buffer.alloc(8).toString("base64"))).toThrow("salt must be at least 16 bytes");
        expect(() => scramVerifier("pässwörd".repeat(4), Buffer.alloc(16).toString("base64"))).toThrow("printable ASCII");
    });
});
