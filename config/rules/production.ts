/**
 * What an environment named for production must have: no embedded object store (its own
 * rule in schema.ts) and every connection encrypted. A DSN with sslmode disable or prefer
 * would send the application's password in the clear (prefer falls back to plain text
 * whenever TLS fails), so production admits only the modes that refuse an unencrypted link.
 */

/** Environment names that mean production. */
export const PRODUCTION_ENVIRONMENTS = /^(prod|production|prd|live)(-|$)/;

/** The sslmodes a production environment may use. */
export const PRODUCTION_SSL_MODES = ["require", "verify-ca", "verify-full"] as const;

export function isProductionEnvironment(environment: string): boolean {
    return PRODUCTION_ENVIRONMENTS.test(environment);
}

/** Why this sslmode is refused in this environment, or undefined. */
export function productionSslmodeProblem(environment: string, sslmode: string): string | undefined {
    if (!isProductionEnvironment(environment)) return undefined;
    if ((PRODUCTION_SSL_MODES as readonly string[]).includes(sslmode)) return undefined;
    return `must be one of ${PRODUCTION_SSL_MODES.join(", ")} in environment ${environment} (got ${sslmode}): production connections are encrypted, and the TLS secrets (tlsCertPem, tlsKeyPem) are required there`;
}
