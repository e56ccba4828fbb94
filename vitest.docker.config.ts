import { defineConfig } from "vitest/config";

// The tier on a real Docker engine (test/docker): the applier's own tests, then the dev and
// production stacks applied to the test engine. One file at a time: each stack runs a
// whole tier and the machine has two cores. Long timeouts: an apply builds, starts and
// waits for health checks; a drill restores a base backup.
export default defineConfig({
    test: {
        include: ["test/docker/**/*.test.ts"],
        fileParallelism: false,
        pool: "forks",
        testTimeout: 600_000,
        hookTimeout: 900_000,
    },
});
