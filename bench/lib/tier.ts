/**
 * The benchmarks' tier: the shared harness (test/support/tier-harness.ts) with the benchmarks'
 * defaults: state in <repo>/.bench/<name> (or $DBTIER_BENCH_DIR/<name>; kept for a look after a
 * run), a failing `down` logged rather than thrown (a part's results are worth more than its teardown).
 */
import { join } from "node:path";
import { REPO, Tier, type TierOptions } from "../../test/support/tier-harness";

export function startBenchTier(name: string, opts: TierOptions = {}): Promise<Tier> {
    return Tier.start(name, { dir: join(process.env.DBTIER_BENCH_DIR || join(REPO, ".bench"), name), onDownFailure: "log", ...opts });
}
