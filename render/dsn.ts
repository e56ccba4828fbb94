/**
 * DSNs, built with a real URL builder: every part is percent-encoded and the result is
 * parsed back to prove it round-trips. The invariants of the source stack are checked
 * here too: distinct users per DSN, no superuser in an application DSN, apps only via the pooler.
 */
import { isIP } from "node:net";

export interface DsnParts {
    readonly user: string;
    readonly password: string;
    readonly host: string;
    readonly port: number;
    readonly database: string;
    readonly sslmode: string;
}

export function buildDsn(p: DsnParts): string {
    const url = new URL("postgresql://placeholder");
    // An IPv6 literal goes in brackets, or URL silently keeps the placeholder host.
    url.hostname = isIP(p.host) === 6 ? `[${p.host}]` : p.host;
    url.port = String(p.port);
    url.username = encodeURIComponent(p.user);
    url.password = encodeURIComponent(p.password);
    url.pathname = `/${encodeURIComponent(p.database)}`;
    url.searchParams.set("sslmode", p.sslmode);
    const text = url.toString();
    const back = parseDsn(text);
    if (back.user !== p.user || back.password !== p.password || back.database !== p.database || back.host !== p.host) {
        throw new Error("buildDsn: DSN does not round-trip");
    }
    return text;
}

export function parseDsn(dsn: string): DsnParts {
    const url = new URL(dsn);
    if (url.protocol !== "postgresql:" && url.protocol !== "postgres:") throw new Error(`not a postgresql:// DSN`);
    return {
        user: decodeURIComponent(url.username),
        password: decodeURIComponent(url.password),
        host: url.hostname.replace(/^\[(.*)\]$/, "$1"),
        port: Number(url.port || 5432),
        database: decodeURIComponent(url.pathname.replace(/^\//, "")),
        sslmode: url.searchParams.get("sslmode") ?? "",
    };
}

export interface TierDsns {
    readonly DATABASE_URL: string;
    readonly DATABASE_SERVICE_URL: string;
    readonly DATABASE_MIGRATE_URL: string;
    readonly DATABASE_ROOT_URL: string;
}

export interface DsnExpectations {
    readonly rootUser: string;
    readonly poolerHost: string;
    readonly poolerPort: number;
    readonly sslmode: string;
}

/** Throws, naming the DSN and the rule, when a set of DSNs breaks an invariant. */
export function assertDsnInvariants(d: TierDsns, e: DsnExpectations): void {
    const app = parseDsn(d.DATABASE_URL);
    const service = parseDsn(d.DATABASE_SERVICE_URL);
    const migrate = parseDsn(d.DATABASE_MIGRATE_URL);
    const root = parseDsn(d.DATABASE_ROOT_URL);
    const users = [app.user, service.user, root.user];
    if (new Set(users).size !== users.length) {
        throw new Error(
            `DSN invariant: DATABASE_URL, DATABASE_SERVICE_URL and DATABASE_ROOT_URL must use distinct users (got ${users.join(", ")})`,
        );
    }
    const superusers = new Set([e.rootUser, "postgres"]);
    for (const [name, p] of [
        ["DATABASE_URL", app],
        ["DATABASE_SERVICE_URL", service],
        ["DATABASE_MIGRATE_URL", migrate],
    ] as const) {
        if (superusers.has(p.user)) throw new Error(`DSN invariant: ${name} must not use the superuser name "${p.user}"`);
        if (p.host !== e.poolerHost || p.port !== e.poolerPort) {
            throw new Error(`DSN invariant: ${name} must point at the pooler ${e.poolerHost}:${e.poolerPort} (got ${p.host}:${p.port})`);
        }
    }
    for (const [name, p] of [
        ["DATABASE_URL", app],
        ["DATABASE_SERVICE_URL", service],
        ["DATABASE_MIGRATE_URL", migrate],
        ["DATABASE_ROOT_URL", root],
    ] as const) {
        if (p.sslmode !== e.sslmode) throw new Error(`DSN invariant: ${name} must carry sslmode=${e.sslmode}`);
    }
}
