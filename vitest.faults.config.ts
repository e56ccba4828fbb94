import { defineConfig } from "vitest/config";

// Fault tests against the real local tier (test/faults). Each file starts its own tier (own
// state dir under /tmp, own ports); files run one after another so two tiers never compete
// for the machine's two cores. `*.long.test.ts` (the 2-minute storage outage, the full WAL
// disk) run only with DBTIER_FAULTS_LONG=1, which scripts/faults.sh sets; without it they are
// not collected at all, so a long test is never reported as a skipped "pass".
const long = process.env.DBTIER_FAULTS_LONG === "1";

export default defineConfig({
    test: {
        include: ["test/faults/**/*.test.ts"],
        exclude: long ? [] : ["test/faults/**/*.long.test.ts"],
        fileParallelism: false,
        pool: "forks",
        globalSetup: ["test/support/global-setup.ts"],
        testTimeout: 300_000,
        hookTimeout: 300_000,
    },
});
