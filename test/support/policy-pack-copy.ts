/**
 * The policy pack as a user installs it, for `pulumi preview --policy-pack <dir>` under the real
 * engine: a copy of policy/ outside the repository (its node_modules left out) with its own
 * dependencies from its lockfile. Returns the copy's directory.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { minimalEnv, run } from "../../jobs/proc";

const POLICY_DIR = path.resolve(__dirname, "..", "..", "policy");

export async function installPolicyPackCopy(into: string, timeoutMs: number): Promise<string> {
    const pack = path.join(into, "policy");
    fs.cpSync(POLICY_DIR, pack, { recursive: true, filter: (src) => !src.includes(`${path.sep}node_modules`) });
    const npm = await run("npm", ["ci", "--no-audit", "--no-fund", "--ignore-scripts", "--prefer-offline"], {
        cwd: pack,
        env: minimalEnv({ HOME: os.homedir() }),
        timeoutMs,
    });
    if (npm.code !== 0) throw new Error(`npm ci of the policy pack copy failed (exit ${npm.code}):\n${npm.stderr}`);
    return pack;
}
