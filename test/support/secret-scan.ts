/**
 * How the suite searches a text for a leaked secret: the forms a secret takes when it leaks
 * into `docker inspect` JSON, logs, a state file or an encoded upload. Used by the Docker
 * suite's scans (test/docker/tier-checks.ts expectNoSecretsOnEngine, the state scans) and
 * proved form by form, with a planted control each, in test/unit/secret-scan.test.ts.
 */

/**
 * The lines of a PEM's base64 body: a leak carries them with its own line breaks (raw, or
 * `\n` in JSON), so each line is searched for, not the body with its breaks removed.
 */
export function pemLines(pem: string): string[] {
    return pem
        .replace(/-----[^-]+-----/g, "")
        .split(/\s+/)
        .filter((l) => l.length >= 16);
}

/**
 * The forms a leaked secret could take in the engine's text: as it is, JSON-escaped, URL-encoded
 * (DSNs), and base64 or base64url inside a longer encoded text (an env file, a tar header), where
 * its encoding depends on its offset: for each of the three alignments, the characters that
 * encode the secret's bytes alone.
 */
export function secretForms(secret: string): string[] {
    const forms = new Set([secret, JSON.stringify(secret).slice(1, -1), encodeURIComponent(secret)]);
    for (let offset = 0; offset < 3; offset++) {
        const encoded = Buffer.concat([Buffer.alloc(offset), Buffer.from(secret, "utf8")]);
        for (const alphabet of ["base64", "base64url"] as const) {
            const text = encoded.toString(alphabet).replace(/=+$/, "");
            // The first group mixes the padding bytes in (when offset > 0), the last one may be partial.
            const inner = text.slice(offset === 0 ? 0 : 4, text.length - 4);
            if (inner.length >= 12) forms.add(inner);
        }
    }
    return [...forms];
}

/** The first form of any of `secrets` found in `text` (and whose secret it is), or undefined. */
export function findLeak(text: string, secrets: readonly string[]): { secret: string; form: string } | undefined {
    for (const secret of secrets) {
        const form = secretForms(secret).find((f) => text.includes(f));
        if (form !== undefined) return { secret, form };
    }
    return undefined;
}
