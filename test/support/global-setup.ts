/**
 * vitest globalSetup of the integration and fault suites: compiles the loopback CLI once
 * (compiled-cli.ts) into a directory of its own under node_modules/.cache, so two suites
 * running at once never share one, and names it to the workers in DBTIER_TEST_CLI (they are
 * started after this runs and inherit the environment). Removed when the run ends.
 */
import { mkdirSync, mkdtempSync, rmSync } from "node:fs";
import { join } from "node:path";
import { repoRoot } from "../../local/settings";
import { compileCli } from "./compiled-cli";

const REPO = repoRoot();

export default async function setup(): Promise<() => void> {
    const cache = join(REPO, "node_modules", ".cache");
    mkdirSync(cache, { recursive: true });
    const out = mkdtempSync(join(cache, "db-tier-cli-"));
    process.env.DBTIER_TEST_CLI = await compileCli(REPO, out);
    return () => rmSync(out, { recursive: true, force: true });
}
