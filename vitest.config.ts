import { defineConfig } from "vitest/config";

const ALL = ["test/unit/**/*.test.ts", "test/graph/**/*.test.ts", "test/policy/**/*.test.ts"];
/**
 * Files that must get a fresh module registry: test/graph/program.test.ts imports index.ts,
 * whose top level runs the stack program once per import, so a registry shared with another
 * file would hand it the module another file already ran.
 */
const NEEDS_ISOLATION = ["test/graph/program.test.ts"];

// Unit, graph and policy tests. Integration tests (real binaries) have their own config.
// Two workers: vitest's default is one fewer than the cores, which on a 2-core machine is one,
// and many of these files wait on child processes (tsx programs, npm pack) rather than compute.
// Without isolation a worker loads @pulumi/pulumi and the tier's modules once for all its files
// instead of once per file: measured on 2 cores, 126 s and 238 CPU-seconds for the suite
// instead of 182 s and 348 (each file still installs its own mocks and config).
export default defineConfig({
    test: {
        maxWorkers: 2,
        minWorkers: 1,
        testTimeout: 60_000,
        hookTimeout: 60_000,
        pool: "forks",
        projects: [
            { extends: true, test: { name: "shared-registry", include: ALL, exclude: NEEDS_ISOLATION, isolate: false } },
            { extends: true, test: { name: "own-registry", include: NEEDS_ISOLATION, isolate: true } },
        ],
    },
});
