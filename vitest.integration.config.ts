import { defineConfig } from "vitest/config";

// Integration tests against the real binaries, and the attacks (test/security) that must fail on them. Each file starts its own local tier (own
// state dir, own ports); files run one after another so two tiers never compete for the
// machine's two cores.
export default defineConfig({
    test: {
        include: ["test/integration/**/*.test.ts", "test/security/**/*.test.ts"],
        fileParallelism: false,
        pool: "forks",
        globalSetup: ["test/support/global-setup.ts"],
        testTimeout: 180_000,
        hookTimeout: 180_000,
    },
});
