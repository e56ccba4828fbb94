/**
 * Readers for the configuration files the containers really run with: postgresql.conf (with
 * its include directives and the server's command-line overrides) and pgbouncer.ini (with
 * %include), resolved against the files uploaded into the same container. A file the
 * policy cannot read (not uploaded, uploaded from a host path, not known yet) is reported
 * as such, so a policy never assumes what it did not see.
 */
import { normalizePath, type Upload } from "./docker";

export interface ResolvedConfig {
    /** Effective settings, lower-case names, last definition wins. */
    readonly settings: Map<string, string>;
    /** Why the effective configuration cannot be fully known from what is deployed. */
    readonly unreadable: string[];
    /** Files whose content is not known yet (preview). */
    readonly unknownFiles: string[];
    /** Lines the server would reject. */
    readonly syntaxErrors: string[];
}

function dirname(p: string): string {
    const n = normalizePath(p);
    return n.slice(0, n.lastIndexOf("/")) || "/";
}

function resolvePath(base: string, p: string): string {
    return normalizePath(p.startsWith("/") ? p : `${dirname(base)}/${p}`);
}

function uploadMap(uploads: readonly Upload[]): Map<string, Upload> {
    const m = new Map<string, Upload>();
    for (const u of uploads) m.set(normalizePath(u.file), u);
    return m;
}

// ---------------------------------------------------------------------------------------------
// postgresql.conf
// ---------------------------------------------------------------------------------------------

interface ConfLine {
    readonly name: string;
    readonly value: string;
}

/** Parses one postgresql.conf line (as PostgreSQL's GUC lexer does); null for blank/comment. */
export function parseConfLine(line: string): ConfLine | null | { error: string } {
    const m = /^\s*([A-Za-z_][A-Za-z0-9_.$-]*)\s*(=\s*)?(.*)$/.exec(line);
    if (!m) {
        return /^\s*(#.*)?$/.test(line) ? null : { error: line.trim() };
    }
    const name = m[1].toLowerCase();
    let rest = m[3];
    let value: string;
    if (rest.startsWith("'")) {
        let i = 1;
        value = "";
        let closed = false;
        while (i < rest.length) {
            const ch = rest[i];
            if (ch === "'" && rest[i + 1] === "'") {
                value += "'";
                i += 2;
            } else if (ch === "\\" && i + 1 < rest.length) {
                const next = rest[i + 1];
                value += next === "n" ? "\n" : next === "t" ? "\t" : next;
                i += 2;
            } else if (ch === "'") {
                closed = true;
                i++;
                break;
            } else {
                value += ch;
                i++;
            }
        }
        if (!closed) return { error: line.trim() };
        rest = rest.slice(i);
    } else {
        const end = rest.search(/[\s#']/);
        value = end < 0 ? rest : rest.slice(0, end);
        rest = end < 0 ? "" : rest.slice(end);
        if (value === "") return { error: line.trim() };
    }
    if (!/^\s*(#.*)?$/.test(rest)) return { error: line.trim() };
    return { name, value };
}

/**
 * The effective settings of a postgresql.conf among the uploaded files: includes are
 * followed (include, include_if_exists), include_dir cannot be verified.
 */
export function resolvePostgresqlConf(path: string, uploads: readonly Upload[]): ResolvedConfig {
    const files = uploadMap(uploads);
    const out: ResolvedConfig = { settings: new Map(), unreadable: [], unknownFiles: [], syntaxErrors: [] };
    const visit = (file: string, depth: number, ifExists: boolean): void => {
        if (depth > 10) {
            out.unreadable.push(`includes nest deeper than 10 levels at ${file}`);
            return;
        }
        const u = files.get(normalizePath(file));
        if (!u) {
            if (!ifExists) out.unreadable.push(`${file} is not uploaded into the container`);
            else out.unreadable.push(`include_if_exists ${file} is not uploaded (something else may provide it)`);
            return;
        }
        if (u.contentUnknown) {
            out.unknownFiles.push(file);
            return;
        }
        if (u.fromHostFile) {
            out.unreadable.push(`${file} is uploaded from a host file, which the policy cannot read`);
            return;
        }
        for (const line of (u.content ?? "").split(/\r?\n/)) {
            const parsed = parseConfLine(line);
            if (parsed === null) continue;
            if ("error" in parsed) {
                out.syntaxErrors.push(`${file}: ${parsed.error}`);
                continue;
            }
            if (parsed.name === "include" || parsed.name === "include_if_exists") {
                visit(resolvePath(file, parsed.value), depth + 1, parsed.name === "include_if_exists");
            } else if (parsed.name === "include_dir") {
                out.unreadable.push(`include_dir ${parsed.value} in ${file} cannot be verified`);
            } else {
                out.settings.set(parsed.name, parsed.value);
            }
        }
    };
    visit(path, 0, false);
    return out;
}

/** What a container command tells the postgres server. */
export interface PostgresInvocation {
    /** The command starts the postgres server (directly or through the image's entrypoint). */
    readonly runsPostgres: boolean;
    /** Settings given on the command line (-c name=value, --name=value): they override the file. */
    readonly settings: Map<string, string>;
}

const PG_OPTS_WITH_ARG = new Set(["B", "d", "D", "h", "k", "N", "o", "p", "r", "S", "C", "E", "f", "j", "x"]);

export function parsePostgresCommand(args: readonly string[]): PostgresInvocation {
    const settings = new Map<string, string>();
    let rest = [...args];
    // The official image's entrypoint runs `postgres "$@"` when the first argument is a flag.
    if (rest.length > 0 && /(^|\/)docker-entrypoint(\.sh)?$/.test(rest[0])) rest = rest.slice(1);
    let runsPostgres = false;
    if (rest.length > 0 && /(^|\/)postgres$/.test(rest[0])) {
        runsPostgres = true;
        rest = rest.slice(1);
    } else if (rest.length > 0 && rest[0].startsWith("-")) {
        runsPostgres = true;
    }
    if (!runsPostgres) return { runsPostgres, settings };
    const set = (kv: string): void => {
        const eq = kv.indexOf("=");
        if (eq > 0) settings.set(kv.slice(0, eq).replace(/-/g, "_").toLowerCase(), kv.slice(eq + 1));
    };
    for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        if (a === "-c") set(rest[++i] ?? "");
        else if (a.startsWith("-c")) set(a.slice(2));
        else if (a.startsWith("--")) set(a.slice(2));
        else if (a === "-D") settings.set("data_directory", rest[++i] ?? "");
        else if (/^-[A-Za-z]$/.test(a) && PG_OPTS_WITH_ARG.has(a[1])) i++;
    }
    return { runsPostgres, settings };
}

/** A PostgreSQL time setting in seconds (default unit s), or undefined when malformed. */
export function pgSeconds(value: string): number | undefined {
    const m = /^\s*(-?\d+(?:\.\d+)?)\s*(us|ms|s|min|h|d)?\s*$/.exec(value);
    if (!m) return undefined;
    const n = Number(m[1]);
    const factor: Record<string, number> = { us: 1e-6, ms: 1e-3, s: 1, min: 60, h: 3600, d: 86400 };
    return n * factor[m[2] ?? "s"];
}

/** PostgreSQL's boolean spellings. */
export function pgBool(value: string): boolean | undefined {
    const v = value.trim().toLowerCase();
    if (["on", "true", "yes", "1", "t", "y"].includes(v)) return true;
    if (["off", "false", "no", "0", "f", "n"].includes(v)) return false;
    return undefined;
}

// ---------------------------------------------------------------------------------------------
// pgbouncer.ini
// ---------------------------------------------------------------------------------------------

/** The effective [pgbouncer] section of an ini among the uploaded files (%include followed). */
export function resolvePgbouncerIni(path: string, uploads: readonly Upload[]): ResolvedConfig {
    const files = uploadMap(uploads);
    const out: ResolvedConfig = { settings: new Map(), unreadable: [], unknownFiles: [], syntaxErrors: [] };
    let section = "";
    const visit = (file: string, depth: number): void => {
        if (depth > 10) {
            out.unreadable.push(`%include nests deeper than 10 levels at ${file}`);
            return;
        }
        const u = files.get(normalizePath(file));
        if (!u) {
            out.unreadable.push(`${file} is not uploaded into the container`);
            return;
        }
        if (u.contentUnknown) {
            out.unknownFiles.push(file);
            return;
        }
        if (u.fromHostFile) {
            out.unreadable.push(`${file} is uploaded from a host file, which the policy cannot read`);
            return;
        }
        for (const rawLine of (u.content ?? "").split(/\r?\n/)) {
            const line = rawLine.trim();
            if (line === "" || line.startsWith(";") || line.startsWith("#")) continue;
            const inc = /^%include\s+(.+)$/.exec(line);
            if (inc) {
                visit(resolvePath(file, inc[1].trim()), depth + 1);
                continue;
            }
            const sec = /^\[\s*([^\]]+?)\s*\]$/.exec(line);
            if (sec) {
                section = sec[1].toLowerCase();
                continue;
            }
            const kv = /^([^=]+?)\s*=\s*(.*)$/.exec(line);
            if (!kv) {
                out.syntaxErrors.push(`${file}: ${line}`);
                continue;
            }
            if (section !== "pgbouncer") continue;
            let value = kv[2].trim();
            if (/^"(.*)"$/.test(value)) value = value.slice(1, -1);
            out.settings.set(kv[1].trim().toLowerCase(), value);
        }
    };
    visit(path, 0);
    return out;
}

/** The ini file a pgbouncer command line runs with (its last non-option argument). */
export function pgbouncerIniPath(args: readonly string[]): string | undefined {
    let rest = [...args];
    if (rest.length > 0 && /(^|\/)pgbouncer$/.test(rest[0])) rest = rest.slice(1);
    else if (rest.length > 0 && !rest[0].startsWith("-")) {
        // Some other program: only a bare ini path as the image's argument counts.
        if (!(rest.length === 1 && rest[0].endsWith(".ini"))) return undefined;
    }
    let ini: string | undefined;
    for (let i = 0; i < rest.length; i++) {
        const a = rest[i];
        if (a === "-u" || a === "--user") i++;
        else if (!a.startsWith("-")) ini = a;
    }
    return ini;
}
