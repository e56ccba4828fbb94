import { defineConfig } from "vitest/config";

// Unit, graph and policy tests. Integration tests (real binaries) have their own config.
export default defineConfig({
    test: {
        include: ["test/unit/**/*.test.ts", "test/graph/**/*.test.ts", "test/policy/**/*.test.ts"],
        testTimeout: 60_000,
        hookTimeout: 60_000,
        pool: "forks",
    },
});
