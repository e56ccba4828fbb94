/**
 * Logging for the jobs: structured JSON lines (one object per line) for machines, and a
 * plain, timestamped text log for the restore drill's restore.log. Known secret values
 * are masked before anything is kept or printed.
 */
import { readFileSync } from "node:fs";

export function jsonLine(obj: Record<string, unknown>): string {
    return JSON.stringify(obj);
}

/** Values of secret-looking keys (KEY, SECRET, PASSWORD, TOKEN) in a KEY='value' env file. */
export function secretValuesOf(envFile: string): string[] {
    let text: string;
    try {
        text = readFileSync(envFile, "utf8");
    } catch {
        return [];
    }
    const values: string[] = [];
    for (const line of text.split("\n")) {
        const m = /^\s*(?:export\s+)?([A-Za-z_][A-Za-z0-9_]*)=(.*)$/.exec(line);
        if (!m || !/KEY|SECRET|PASSWORD|TOKEN/.test(m[1]) || /_TRANSFORM$|_METHOD$/.test(m[1])) continue;
        const raw = m[2].trim();
        const value = raw.startsWith("'") ? raw.slice(1, -1).replace(/'\\''/g, "'") : raw.replace(/^"|"$/g, "");
        if (value.length >= 8) values.push(value);
    }
    return values;
}

export class TextLog {
    private readonly lines: string[] = [];

    constructor(
        private readonly secrets: readonly string[] = [],
        private readonly echo: (line: string) => void = (l) => process.stderr.write(`${l}\n`),
    ) {}

    mask(text: string): string {
        let out = text;
        for (const s of this.secrets) out = out.split(s).join("[redacted]");
        return out;
    }

    add(message: string): void {
        const line = this.mask(`${new Date().toISOString()} ${message}`);
        this.lines.push(line);
        this.echo(line);
    }

    /** Adds a block of output (a child's stderr, a server log) line by line, prefixed. */
    addBlock(prefix: string, text: string): void {
        for (const l of text.split("\n")) if (l.trim() !== "") this.add(`${prefix} ${l}`);
    }

    text(): string {
        return `${this.lines.join("\n")}\n`;
    }
}
