import { defineConfig } from "vitest/config";

// Integration tests against the real binaries, and the attacks (test/security) that must fail
// on them. Each file starts its own local tier (own state dir under the system temp dir, own
// free ports), so two files can run at once: measured on 2 cores, a tier keeps a core busy
// about half of the time (restores, backups and waits), so two workers fill the idle half.
export default defineConfig({
    test: {
        include: ["test/integration/**/*.test.ts", "test/security/**/*.test.ts"],
        fileParallelism: true,
        maxWorkers: 2,
        minWorkers: 1,
        pool: "forks",
        globalSetup: ["test/support/global-setup.ts"],
        testTimeout: 180_000,
        hookTimeout: 180_000,
    },
});
