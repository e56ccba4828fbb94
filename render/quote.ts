/** Quoting for the text formats the renderers write. One place, so every renderer agrees. */

/** A POSIX shell single-quoted word; safe for any byte but NUL. */
export function shellQuote(value: string): string {
    if (value.includes("\0")) throw new Error("shellQuote: NUL byte");
    return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A postgresql.conf string value: single quotes, embedded quotes doubled. */
export function confString(value: string): string {
    if (/[\n\r]/.test(value)) throw new Error("confString: newline in a postgresql.conf value");
    return `'${value.replace(/'/g, "''")}'`;
}

/** A SQL string literal (standard_conforming_strings=on). */
export function sqlLiteral(value: string): string {
    if (value.includes("\0")) throw new Error("sqlLiteral: NUL byte");
    return `'${value.replace(/'/g, "''")}'`;
}

/** A SQL identifier, always double-quoted. */
export function sqlIdent(name: string): string {
    return `"${name.replace(/"/g, '""')}"`;
}
