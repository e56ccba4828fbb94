/**
 * The local tier's generated secrets, in <state>/secrets.json (mode 0600): MinIO's root
 * credentials, the WAL-G libsodium key, and each role's password and SCRAM salt. Salts are
 * generated once and kept, so the verifiers (and so provisioning) are stable between runs;
 * `rotate` makes new passwords and salts.
 */
import { randomBytes, randomInt } from "node:crypto";
import { existsSync, readFileSync } from "node:fs";
import { scramVerifier } from "../render/scram";
import { APP_SERVICE, APP_USER, MIN_SECRET_LENGTH } from "../vocabulary";
import { writePrivate } from "./fsutil";
import { LOCAL_ROOT_USER } from "./settings";

export const PASSWORD_LENGTH = 40;

export interface RoleSecret {
    readonly password: string;
    readonly salt: string;
}

export interface Secrets {
    readonly minio: { readonly user: string; readonly password: string };
    readonly libsodiumKeyHex: string;
    readonly roles: Readonly<Record<string, RoleSecret>>;
}

const ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789";

export function generatePassword(length = PASSWORD_LENGTH): string {
    if (length < MIN_SECRET_LENGTH) throw new Error(`passwords are at least ${MIN_SECRET_LENGTH} characters`);
    return Array.from({ length }, () => ALPHABET[randomInt(ALPHABET.length)]).join("");
}

function newRole(): RoleSecret {
    return { password: generatePassword(), salt: randomBytes(16).toString("base64") };
}

export const ROLE_NAMES = [LOCAL_ROOT_USER, APP_USER, APP_SERVICE] as const;

export function generateSecrets(): Secrets {
    return {
        minio: { user: `dbtier${randomBytes(4).toString("hex")}`, password: generatePassword() },
        libsodiumKeyHex: randomBytes(32).toString("hex"),
        roles: Object.fromEntries(ROLE_NAMES.map((r) => [r, newRole()])),
    };
}

/** New passwords and salts for every role; storage keys stay. */
export function rotated(s: Secrets): Secrets {
    return { ...s, roles: Object.fromEntries(ROLE_NAMES.map((r) => [r, newRole()])) };
}

export function loadSecrets(path: string): Secrets | undefined {
    return existsSync(path) ? (JSON.parse(readFileSync(path, "utf8")) as Secrets) : undefined;
}

export function saveSecrets(path: string, s: Secrets): void {
    writePrivate(path, `${JSON.stringify(s, null, 2)}\n`);
}

export function verifier(s: Secrets, role: string): string {
    const r = s.roles[role];
    if (!r) throw new Error(`no secret for role ${role}`);
    return scramVerifier(r.password, r.salt);
}
