/** Schedules that never fire, fire too rarely, or fire so often that runs pile up. */
import { describe, expect, it } from "vitest";
import { shortestGapMinutes } from "../../config/rules/schedule";
import { parseCron } from "../../config/cron";
import { catalogueTests } from "../catalogue/assert";

describe("schedules", () => {
    catalogueTests("schedules", 6);

    it("measures the shortest gap between runs, across midnight", () => {
        expect(shortestGapMinutes(parseCron("0 2 * * *"))).toBe(1440);
        expect(shortestGapMinutes(parseCron("*/15 * * * *"))).toBe(15);
        expect(shortestGapMinutes(parseCron("0 * * * *"))).toBe(60);
        expect(shortestGapMinutes(parseCron("0 0,23 * * *"))).toBe(60);
        expect(shortestGapMinutes(parseCron("50 23 * * *"))).toBe(1440);
        expect(shortestGapMinutes(parseCron("0 4 * * 0"))).toBe(Number.POSITIVE_INFINITY);
        // 23:30 on Sunday and 00:10 on Monday are 40 minutes apart.
        expect(shortestGapMinutes(parseCron("10,30 0,23 * * 0,1"))).toBe(20);
    });
});
