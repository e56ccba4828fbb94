/**
 * The loopback CLI (local/cli.ts) compiled once per test run, so each of the suite's CLI calls
 * starts in plain node (about 1 s) instead of tsx (about 2.7 s, most of it CPU: tsx
 * loads esbuild and transforms every module on each start). It is the same source through
 * the same compiler tsx uses (esbuild, one file in, one file out, no bundling, so each module
 * keeps its own `require.main` check and `__dirname`), laid out like the repository so
 * local/settings.ts's repoRoot() finds the stack files (Pulumi.*.yaml, linked, never copied).
 * The restore runbook test still runs `npm run local` as a user does (through tsx).
 *
 * Used by vitest's globalSetup (test/support/global-setup.ts) for the integration and fault
 * suites; the harness (tier-harness.ts) runs it when DBTIER_TEST_CLI names it, tsx otherwise.
 */
import { readdirSync, symlinkSync } from "node:fs";
import { join, relative } from "node:path";
import { build } from "esbuild";

/** The folders the CLI's imports reach (an import outside them fails the first CLI call loudly). */
const SOURCE_DIRS = ["local", "jobs", "render", "config", "plan"] as const;

function tsFiles(repo: string, dir: string): string[] {
    return readdirSync(join(repo, dir), { recursive: true, withFileTypes: true })
        .filter((e) => e.isFile() && e.name.endsWith(".ts") && !e.name.endsWith(".d.ts"))
        .map((e) => relative(repo, join(e.parentPath, e.name)));
}

/**
 * Compiles the CLI's sources from `repo` into `out` (which must sit inside repo/node_modules,
 * so packages resolve from the repository's node_modules) and returns the entry's path.
 */
export async function compileCli(repo: string, out: string): Promise<string> {
    const entryPoints = [...SOURCE_DIRS.flatMap((d) => tsFiles(repo, d)), "vocabulary.ts"].map((f) => join(repo, f));
    await build({
        entryPoints,
        outdir: out,
        outbase: repo,
        bundle: false,
        platform: "node",
        target: "node20",
        format: "cjs",
        sourcemap: "inline",
        logLevel: "warning",
    });
    for (const f of readdirSync(repo).filter((n) => /^Pulumi\..*ya?ml$/.test(n))) symlinkSync(join(repo, f), join(out, f));
    return join(out, "local", "cli.js");
}
