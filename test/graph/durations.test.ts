/**
 * Every health check duration of every stack is written in Go's time.Duration.String() form:
 * the docker provider reads a container's health check back in that form ("1m0s", not "60s"),
 * so any other spelling is a change on every `pulumi preview` (found by the first preview
 * through the real engine, test/docker/dev-stack.test.ts: `~ dev-app-postgres-container
 * update [diff: ~healthcheck]`).
 */
import { describe, expect, it } from "vitest";
import { deployStack } from "../../components/stack";
import { readStackConfig } from "../../config/stack-config";
import { installMocks, loadStackConfig, plain, settle } from "../support/mock-runtime";

/** Go's Duration.String() of a whole number of seconds. */
function goDuration(seconds: number): string {
    if (seconds === 0) return "0s";
    const h = Math.floor(seconds / 3600);
    const m = Math.floor((seconds % 3600) / 60);
    const s = seconds % 60;
    return h > 0 ? `${h}h${m}m${s}s` : m > 0 ? `${m}m${s}s` : `${s}s`;
}

/** The seconds a Docker duration string means ("90s", "1m30s", "2h"). */
function secondsOf(d: string): number {
    const m = /^(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?$/.exec(d);
    if (!m || d === "") throw new Error(`not a whole-second duration: ${d}`);
    return Number(m[1] ?? 0) * 3600 + Number(m[2] ?? 0) * 60 + Number(m[3] ?? 0);
}

describe("health check durations", () => {
    it("goDuration is Go's form", () => {
        expect([5, 10, 60, 90, 3600, 3661].map(goDuration)).toEqual(["5s", "10s", "1m0s", "1m30s", "1h0m0s", "1h1m1s"]);
    });

    it.each(["dev", "preview", "production"])("the %s stack writes each one as the provider reads it back", async (stack) => {
        const recorded = await installMocks(stack);
        loadStackConfig(
            stack,
            {},
            {
                "db-tier:storageAccessKeyId": "test-access-key-id-0123456789",
                "db-tier:storageSecretAccessKey": "test-secret-access-key-0123456789",
                "db-tier:tlsCertPem": "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
                "db-tier:tlsKeyPem": "-----BEGIN PRIVATE KEY-----\nMIIE\n-----END PRIVATE KEY-----\n",
            },
        );
        const { values, secrets } = readStackConfig();
        deployStack(values, secrets);
        await settle();
        let seen = 0;
        for (const c of recorded.filter((r) => r.type === "docker:index/container:Container")) {
            const h = plain(c.inputs.healthcheck) as Record<string, unknown> | undefined;
            for (const key of ["interval", "timeout", "startPeriod", "startInterval"]) {
                const v = h?.[key];
                if (typeof v !== "string") continue;
                seen++;
                expect(v, `${c.name} healthcheck.${key}`).toBe(goDuration(secondsOf(v)));
            }
        }
        expect(seen).toBeGreaterThan(3);
    });
});
