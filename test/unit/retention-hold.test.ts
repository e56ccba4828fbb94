/**
 * The retention hold's decision (render/retention-hold.ts): a gap between the newest earlier
 * backup and the new one past the bound holds retention and writes the hold object; a hold
 * already in storage is obeyed whatever the gap; the cluster's first backup and ordinary gaps
 * pass. The night-by-night consequences are in retention-nights.test.ts.
 */
import { describe, expect, it } from "vitest";
import { decideHold, holdBoundMs, RETENTION_HOLD_OBJECT, renderHold } from "../../render/retention-hold";

const DAY = 86_400_000;
const t0 = Date.parse("2027-03-01T02:00:00Z");
const at = (days: number) => new Date(t0 + days * DAY);
const backup = (name: string, days: number) => ({ name, at: at(days) });

describe("the retention hold", () => {
    it("is bounded by three schedule gaps and never less than a week", () => {
        expect(holdBoundMs(DAY)).toBe(7 * DAY);
        expect(holdBoundMs(3_600_000)).toBe(7 * DAY);
        expect(holdBoundMs(3 * DAY)).toBe(9 * DAY);
    });

    it("passes the cluster's first backup and a gap within the bound", () => {
        expect(decideHold({ holdPresent: false, newestEarlier: null, pushed: backup("b1", 0), longestScheduleGapMs: DAY })).toEqual({
            hold: false,
        });
        for (const days of [1, 4, 7]) {
            expect(
                decideHold({ holdPresent: false, newestEarlier: backup("a", 0), pushed: backup("b", days), longestScheduleGapMs: DAY })
                    .hold,
                `${days} days`,
            ).toBe(false);
        }
    });

    it("holds and writes the hold object past the bound, naming both backups and the gap", () => {
        const d = decideHold({
            holdPresent: false,
            newestEarlier: backup("base_A", 0),
            pushed: backup("base_B", 365),
            longestScheduleGapMs: DAY,
        });
        expect(d).toMatchObject({ hold: true, write: true });
        if (!d.hold) throw new Error("unreachable");
        expect(d.reason).toMatch(/backup base_B \(2028-02-29T02:00:00.000Z\) comes 365.0 days after the newest earlier one, base_A/);
        expect(d.reason).toContain(RETENTION_HOLD_OBJECT);
        const text = JSON.parse(renderHold(d, backup("base_B", 365), backup("base_A", 0)));
        expect(text).toEqual({
            reason: d.reason,
            pushed: { name: "base_B", at: "2028-02-29T02:00:00.000Z" },
            newest_earlier: { name: "base_A", at: "2027-03-01T02:00:00.000Z" },
        });
    });

    it("obeys a hold in storage even after an ordinary gap, without writing it again", () => {
        const d = decideHold({ holdPresent: true, newestEarlier: backup("a", 0), pushed: backup("b", 1), longestScheduleGapMs: DAY });
        expect(d).toMatchObject({ hold: true, write: false });
        if (d.hold) expect(d.reason).toMatch(/^retention is on hold: retention-hold.json is in the cluster's prefix/);
    });
});
