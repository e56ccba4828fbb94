/**
 * SCRAM-SHA-256 verifiers (RFC 5802 / RFC 7677), in the exact text form PostgreSQL stores in
 * pg_authid.rolpassword. Postgres and pgBouncer get the same verifier string, which is what
 * lets pgBouncer 1.18 pass SCRAM through, and no plaintext password reaches SQL or a file.
 */
import { createHash, createHmac, pbkdf2Sync } from "node:crypto";

export const SCRAM_ITERATIONS = 4096;

export interface ScramKeys {
    readonly storedKey: Buffer;
    readonly serverKey: Buffer;
}

/** StoredKey and ServerKey for a password, salt and iteration count. */
export function scramKeys(password: string, salt: Buffer, iterations = SCRAM_ITERATIONS): ScramKeys {
    // PostgreSQL applies SASLprep; for the ASCII passwords the tier generates it is the identity.
    const saltedPassword = pbkdf2Sync(Buffer.from(password, "utf8"), salt, iterations, 32, "sha256");
    const clientKey = createHmac("sha256", saltedPassword).update("Client Key").digest();
    return {
        storedKey: createHash("sha256").update(clientKey).digest(),
        serverKey: createHmac("sha256", saltedPassword).update("Server Key").digest(),
    };
}

/** `SCRAM-SHA-256$<iterations>:<salt b64>$<StoredKey b64>:<ServerKey b64>`. */
export function scramVerifier(password: string, saltBase64: string, iterations = SCRAM_ITERATIONS): string {
    if (!/^[\x20-\x7e]+$/.test(password)) {
        throw new Error("scramVerifier: only printable ASCII passwords are supported (no SASLprep)");
    }
    const salt = Buffer.from(saltBase64, "base64");
    if (salt.length < 16) throw new Error("scramVerifier: salt must be at least 16 bytes");
    const { storedKey, serverKey } = scramKeys(password, salt, iterations);
    return `SCRAM-SHA-256$${iterations}:${salt.toString("base64")}$${storedKey.toString("base64")}:${serverKey.toString("base64")}`;
}

const VERIFIER = /^SCRAM-SHA-256\$\d+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+$/;

/** True for a string in the verifier format (used to refuse anything else in auth files). */
export function isScramVerifier(text: string): boolean {
    return VERIFIER.test(text);
}
