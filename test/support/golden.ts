/**
 * Golden files: the rendered text of a stack, committed under test/golden/<stack>/, so that a
 * renderer change shows as a reviewed diff. Secrets and generated values are masked by fixed
 * tokens (they change on every run and must never be committed); everything else is compared
 * byte for byte.
 */
import * as fs from "node:fs";
import * as path from "node:path";

export const GOLDEN_ROOT = path.resolve(__dirname, "../golden");
export const UPDATE_COMMAND =
    "npm run golden:update  (= UPDATE_GOLDEN=1 npx vitest run --config vitest.config.ts test/graph/golden.test.ts)";

/** The fixed token a secret value is replaced by. */
export const SECRET_TOKEN = "<secret>";

/** WAL-G / S3 settings whose values are credentials or keys. */
const SECRET_ENV_KEYS = new Set(["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "WALG_LIBSODIUM_KEY", "PGPASSWORD"]);
/** A name that looks like a credential but is not in the list above is masked too: better a masked setting than a leaked key. */
const SECRETISH = /(SECRET|PASSWORD|TOKEN|_KEY$|_KEY_ID$)/;

/** SCRAM-SHA-256 verifiers (salt and keys come from generated secrets); the iteration count stays. */
export function maskScram(text: string): string {
    return text.replace(
        /SCRAM-SHA-256\$(\d+):[A-Za-z0-9+/=]+\$[A-Za-z0-9+/=]+:[A-Za-z0-9+/=]+/g,
        "SCRAM-SHA-256$$$1:<salt>$$<stored-key>:<server-key>",
    );
}

/** The WAL-G env file reduced to its keys and non-secret values. */
export function maskEnvFile(text: string): string {
    return text
        .split("\n")
        .map((line) => {
            const m = /^([A-Z][A-Z0-9_]*)=(.*)$/.exec(line);
            if (!m) return line;
            return SECRET_ENV_KEYS.has(m[1]) || SECRETISH.test(m[1]) ? `${m[1]}=${SECRET_TOKEN}` : line;
        })
        .join("\n");
}

/**
 * A line diff of `expected` (golden) against `actual` (rendered): `-` golden only, `+` rendered
 * only, two lines of context around each change, `@@` with the golden line number.
 */
export function lineDiff(expected: string, actual: string, context = 2): string {
    const a = expected.split("\n");
    const b = actual.split("\n");
    // Longest common subsequence table, from the end (the files are at most a few hundred lines).
    const lcs: number[][] = Array.from({ length: a.length + 1 }, () => new Array<number>(b.length + 1).fill(0));
    for (let i = a.length - 1; i >= 0; i--)
        for (let j = b.length - 1; j >= 0; j--) lcs[i][j] = a[i] === b[j] ? lcs[i + 1][j + 1] + 1 : Math.max(lcs[i + 1][j], lcs[i][j + 1]);
    const ops: { kind: " " | "-" | "+"; text: string; line: number }[] = [];
    let i = 0;
    let j = 0;
    while (i < a.length || j < b.length) {
        if (i < a.length && j < b.length && a[i] === b[j]) {
            ops.push({ kind: " ", text: a[i], line: i + 1 });
            i++;
            j++;
        } else if (j < b.length && (i === a.length || lcs[i][j + 1] > lcs[i + 1][j])) {
            ops.push({ kind: "+", text: b[j], line: i + 1 });
            j++;
        } else {
            ops.push({ kind: "-", text: a[i], line: i + 1 });
            i++;
        }
    }
    const keep = ops.map((_, k) => ops.slice(Math.max(0, k - context), k + context + 1).some((o) => o.kind !== " "));
    const out: string[] = [];
    for (let k = 0; k < ops.length; k++) {
        if (!keep[k]) continue;
        if (k === 0 || !keep[k - 1]) out.push(`@@ golden line ${ops[k].line}`);
        out.push(`${ops[k].kind} ${ops[k].text}`);
    }
    return out.join("\n");
}

/** Every file under `dir`, relative to it, sorted. */
function listFiles(dir: string): string[] {
    if (!fs.existsSync(dir)) return [];
    return (fs.readdirSync(dir, { recursive: true }) as string[])
        .filter((f) => fs.statSync(path.join(dir, f)).isFile())
        .map((f) => f.split(path.sep).join("/"))
        .sort();
}

/**
 * Compares the rendered files of one stack with test/golden/<stack>/ and returns one message
 * per difference (missing, stale or changed file, with its diff). With `update` it rewrites
 * the folder instead and returns nothing.
 */
export function compareGolden(dir: string, rendered: Record<string, string>, update = false): string[] {
    const names = Object.keys(rendered).sort();
    if (update) {
        fs.rmSync(dir, { recursive: true, force: true });
        for (const name of names) {
            fs.mkdirSync(path.dirname(path.join(dir, name)), { recursive: true });
            fs.writeFileSync(path.join(dir, name), rendered[name]);
        }
        return [];
    }
    const problems: string[] = [];
    for (const name of listFiles(dir).filter((f) => !(f in rendered))) problems.push(`${name}: golden file no longer rendered (stale)`);
    for (const name of names) {
        const file = path.join(dir, name);
        if (!fs.existsSync(file)) {
            problems.push(`${name}: rendered but no golden file`);
            continue;
        }
        const golden = fs.readFileSync(file, "utf8");
        if (golden !== rendered[name]) problems.push(`${name} differs from its golden file:\n${lineDiff(golden, rendered[name])}`);
    }
    return problems;
}
