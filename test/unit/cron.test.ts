import { describe, expect, it } from "vitest";
import { CronError, longestGapDays, nextRun, parseCron } from "../../config/cron";

const next = (expr: string, after: string): string | undefined => nextRun(parseCron(expr), new Date(after))?.toISOString();

describe("parseCron", () => {
    it("parses lists, ranges, steps and stars", () => {
        const s = parseCron("*/15 2,14 1-3 */6 1-5");
        expect([...s.minutes]).toEqual([0, 15, 30, 45]);
        expect([...s.hours]).toEqual([2, 14]);
        expect([...s.daysOfMonth]).toEqual([1, 2, 3]);
        expect([...s.months]).toEqual([1, 7]);
        expect([...s.daysOfWeek]).toEqual([1, 2, 3, 4, 5]);
        expect(s.domRestricted).toBe(true);
        expect(s.dowRestricted).toBe(true);
    });

    it("treats day-of-week 7 as Sunday and N/step as N to the maximum", () => {
        expect([...parseCron("0 0 * * 7").daysOfWeek]).toEqual([0]);
        expect([...parseCron("50/5 * * * *").minutes]).toEqual([50, 55]);
    });

    it.each([
        ["0 2 * *", /5 fields/],
        ["60 2 * * *", /minute "60" is outside 0-59/],
        ["0 24 * * *", /hour/],
        ["0 0 0 * *", /day of month/],
        ["0 0 * 13 *", /month/],
        ["0 0 * * 8", /day of week/],
        ["0 0 5-1 * *", /day of month "5-1"/],
        ["*/0 * * * *", /step/],
        ["a * * * *", /minute "a" is not a number/],
        ["0 0 30 2 *", /never runs/],
    ])("rejects %j", (expr, message) => {
        expect(() => parseCron(expr)).toThrow(CronError);
        expect(() => parseCron(expr)).toThrow(message);
    });
});

describe("nextRun", () => {
    it("is strictly after the given time, in UTC", () => {
        expect(next("0 2 * * *", "2027-01-01T01:59:59Z")).toBe("2027-01-01T02:00:00.000Z");
        expect(next("0 2 * * *", "2027-01-01T02:00:00Z")).toBe("2027-01-02T02:00:00.000Z");
        expect(next("0 2 * * *", "2027-01-01T02:00:30Z")).toBe("2027-01-02T02:00:00.000Z");
    });

    it("crosses month and year boundaries", () => {
        expect(next("30 23 31 12 *", "2026-12-31T23:30:00Z")).toBe("2027-12-31T23:30:00.000Z");
        expect(next("0 4 1 * *", "2027-01-31T05:00:00Z")).toBe("2027-02-01T04:00:00.000Z");
        expect(next("0 0 29 2 *", "2027-03-01T00:00:00Z")).toBe("2028-02-29T00:00:00.000Z");
    });

    it("runs on either day field when both are restricted (cron's OR rule)", () => {
        // The 13th, or any Friday. 2027-08-06 is a Friday, 2027-08-13 also one.
        expect(next("0 12 13 * 5", "2027-08-01T00:00:00Z")).toBe("2027-08-06T12:00:00.000Z");
        expect(next("0 12 10 * 5", "2027-08-07T00:00:00Z")).toBe("2027-08-10T12:00:00.000Z");
    });

    it("picks the earliest hour and minute of a run day", () => {
        expect(next("45,5 3,1 * * *", "2027-01-01T00:00:00Z")).toBe("2027-01-01T01:05:00.000Z");
        expect(next("45,5 3,1 * * *", "2027-01-01T01:05:00Z")).toBe("2027-01-01T01:45:00.000Z");
        expect(next("45,5 3,1 * * *", "2027-01-01T03:45:00Z")).toBe("2027-01-02T01:05:00.000Z");
    });

    it("every minute", () => {
        expect(next("* * * * *", "2027-01-01T00:00:00.500Z")).toBe("2027-01-01T00:01:00.000Z");
    });
});

describe("longestGapDays", () => {
    it("is one day for a daily schedule", () => {
        expect(longestGapDays(parseCron("0 2 * * *"))).toBe(1);
    });

    it("is seven days for a weekly schedule", () => {
        expect(longestGapDays(parseCron("0 4 * * 0"))).toBe(7);
    });

    it("is 31 days for the first of every month (31-day months)", () => {
        expect(longestGapDays(parseCron("0 4 1 * *"))).toBe(31);
    });

    it("spans years for a leap-day schedule", () => {
        expect(longestGapDays(parseCron("0 0 29 2 *"))).toBeGreaterThan(365 * 3);
    });

    it("subtracts the time within the day", () => {
        // Runs 00:00 and 12:00 daily: the gap is from 12:00 to 00:00 the next day.
        expect(longestGapDays(parseCron("0 0,12 * * *"))).toBe(0.5);
    });
});
