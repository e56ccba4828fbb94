import { defineConfig } from "vitest/config";

// Unit, graph and policy tests. Integration tests (real binaries) have their own config.
// Two workers: vitest's default is one fewer than the cores, which on a 2-core machine is one,
// and many of these files wait on child processes (tsx programs, npm pack) rather than compute.
export default defineConfig({
    test: {
        maxWorkers: 2,
        minWorkers: 1,
        include: ["test/unit/**/*.test.ts", "test/graph/**/*.test.ts", "test/policy/**/*.test.ts"],
        testTimeout: 60_000,
        hookTimeout: 60_000,
        pool: "forks",
    },
});
