/** Setup for the engine test files. */
import { beforeAll, beforeEach } from "vitest";

/**
 * beforeAll that, when it fails (no engine, no image, a failed apply), fails every test of
 * the file with its error instead of leaving them skipped: a missing engine is a failure.
 */
export function setupOnce(fn: () => Promise<void>, timeoutMs: number): void {
    let error: unknown;
    beforeAll(async () => {
        try {
            await fn();
        } catch (e) {
            error = e;
        }
    }, timeoutMs);
    beforeEach(() => {
        if (error) throw error;
    });
}
