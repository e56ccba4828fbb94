/**
 * Parity of two placements of the same plan: a file the containers get and the file the
 * loopback tier writes must be equal byte for byte once the values each placement names
 * (paths, hosts, ports, the storage endpoint) are replaced by the same token and the secrets
 * are masked. The substitution is explicit: a list of exact literals per placement, never a
 * pattern that could hide a real difference. Pure, so a unit test can prove it catches drift.
 */
import { confString } from "../render/quote";
import type { Placement } from "./placement";
import { WALG_SECRET_KEYS } from "./walg";

/** Files compared between the two placements. */
export type ParityFile =
    | "postgresql.conf"
    | "pg_hba.conf"
    | "pg_ident.conf"
    | "walg.env"
    | "pgbouncer.ini"
    | "userlist.txt"
    | "provision.sql"
    | "backup.json"
    | "drill.json";

interface Tokens {
    /** [literal, token], applied longest literal first. */
    readonly replace: readonly (readonly [string, string])[];
    /** Whole lines only this placement has (pgBouncer's own log and pid file on loopback). */
    readonly dropLines: readonly string[];
}

/** The exact literals a placement puts into the rendered files, each with its token. */
export function placementTokens(p: Placement): Tokens {
    const pg = p.postgres;
    const b = p.pgbouncer;
    const j = p.jobs;
    const paths: [string, string][] = [
        [pg.hbaFile, "<postgres.hbaFile>"],
        [pg.identFile, "<postgres.identFile>"],
        [pg.dataDir, "<postgres.dataDir>"],
        [pg.walgBinary, "<postgres.walgBinary>"],
        [pg.walgEnvFile, "<postgres.walgEnvFile>"],
        [pg.tlsCertFile, "<postgres.tlsCertFile>"],
        [pg.tlsKeyFile, "<postgres.tlsKeyFile>"],
        [b.authFile, "<pgbouncer.authFile>"],
        [b.tlsCertFile, "<pgbouncer.tlsCertFile>"],
        [b.tlsKeyFile, "<pgbouncer.tlsKeyFile>"],
        [j.pgpassFile, "<jobs.pgpassFile>"],
        [j.pgBinDir, "<jobs.pgBinDir>"],
        [j.drillScratch, "<jobs.drillScratch>"],
        [p.storage.endpoint, "<storage.endpoint>"],
    ];
    const contextual: [string, string][] = [
        // postgresql.conf
        [`listen_addresses = ${confString(pg.listenAddresses)}`, "listen_addresses = <postgres.listenAddresses>"],
        [`\nport = ${pg.port}\n`, "\nport = <postgres.port>\n"],
        [`unix_socket_directories = ${confString(pg.socketDir)}`, "unix_socket_directories = <postgres.socketDir>"],
        // pgbouncer.ini
        [`listen_addr = ${b.listenAddr}`, "listen_addr = <pgbouncer.listenAddr>"],
        [`listen_port = ${b.port}`, "listen_port = <pgbouncer.port>"],
        [`host=${pg.host} port=${pg.port} `, "host=<postgres.host> port=<postgres.port> "],
        // pg_hba.conf: the networks TCP logins may come from
        ...(pg.clientNetworks ?? []).map((n): [string, string] => [` ${n} scram-sha-256`, " <postgres.clientNetwork> scram-sha-256"]),
        // walg.env
        [`AWS_REGION='${p.storage.region}'`, "AWS_REGION=<storage.region>"],
        // backup.json
        [`"host": "${pg.host}",\n    "port": ${pg.port},`, `"host": "<postgres.host>",\n    "port": <postgres.port>,`],
    ];
    const dropLines = [
        ...(b.logFile ? [`logfile = ${b.logFile}`] : []),
        ...(b.pidFile ? [`pidfile = ${b.pidFile}`] : []),
        ...(j.drillRunAsUser ? [`  "runAsUser": "${j.drillRunAsUser}",`] : []),
    ];
    return { replace: [...paths, ...contextual].sort((x, y) => y[0].length - x[0].length), dropLines };
}

/** Secrets out of a file: SCRAM verifiers, and the values of the WAL-G env file's secret keys. */
export function maskSecrets(text: string): string {
    let out = text.replace(/SCRAM-SHA-256\$[0-9]+:[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+/g, "<scram-verifier>");
    for (const key of WALG_SECRET_KEYS) out = out.replace(new RegExp(`^${key}=.*$`, "m"), `${key}=<secret>`);
    return out;
}

/** A file of one placement with its placement values tokenised and its secrets masked. */
export function normalise(text: string, p: Placement): string {
    const t = placementTokens(p);
    const kept = text
        .split("\n")
        .filter((line) => !t.dropLines.includes(line))
        .join("\n");
    let out = maskSecrets(kept);
    for (const [literal, token] of t.replace) if (literal !== "") out = out.split(literal).join(token);
    return out;
}

export interface ParityDifference {
    readonly file: ParityFile;
    /** 1-based line of the first difference, and the two lines there. */
    readonly line: number;
    readonly left: string | undefined;
    readonly right: string | undefined;
}

/** The first difference of two placements' files after normalising; undefined when they agree. */
export function parityDifference(
    file: ParityFile,
    left: string,
    leftAt: Placement,
    right: string,
    rightAt: Placement,
): ParityDifference | undefined {
    const a = normalise(left, leftAt).split("\n");
    const b = normalise(right, rightAt).split("\n");
    for (let i = 0; i < Math.max(a.length, b.length); i++) {
        if (a[i] !== b[i]) return { file, line: i + 1, left: a[i], right: b[i] };
    }
    return undefined;
}
