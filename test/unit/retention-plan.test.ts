import { describe, expect, it } from "vitest";
import { type BackupInfo, dayIndex, isoWeekIndex, planRetention } from "../../render/retention-plan";

const DAY = 86_400_000;

/** A nightly backup at 02:00 UTC named after its date. */
function nightly(date: string, permanent = false): BackupInfo {
    const start = new Date(`${date}T02:00:00Z`);
    return { name: `base_${date.replace(/-/g, "")}`, startTime: start, finishTime: new Date(start.getTime() + 600_000), permanent };
}

function days(from: string, to: string, skip: readonly string[] = []): string[] {
    const out: string[] = [];
    for (let t = Date.parse(`${from}T00:00:00Z`); t <= Date.parse(`${to}T00:00:00Z`); t += DAY) {
        const d = new Date(t).toISOString().slice(0, 10);
        if (!skip.includes(d)) out.push(d);
    }
    return out;
}

const n = (d: string): string => `base_${d.replace(/-/g, "")}`;

/** Every input backup ends up in exactly one of keep, deleted by `before`, or targets. */
function expectPartition(input: readonly BackupInfo[], plan: ReturnType<typeof planRetention>): void {
    const all = [...plan.keep.map((k) => k.name), ...plan.deletedByBefore, ...plan.deleteTargets];
    expect(new Set(all).size).toBe(all.length);
    expect(new Set(all)).toEqual(new Set(input.map((b) => b.name)));
    const newest = [...input].sort((a, b) => b.startTime.getTime() - a.startTime.getTime())[0];
    if (newest) expect(plan.keep.map((k) => k.name)).toContain(newest.name);
    for (const b of input.filter((x) => x.permanent)) expect(plan.keep.map((k) => k.name)).toContain(b.name);
}

describe("day and ISO week indexes", () => {
    it("puts Monday 00:00 UTC at the start of a week and Sunday at its end", () => {
        // 2027-01-03 is a Sunday, 2027-01-04 a Monday.
        expect(isoWeekIndex(new Date("2027-01-03T23:59:59Z"))).toBe(isoWeekIndex(new Date("2026-12-28T00:00:00Z")));
        expect(isoWeekIndex(new Date("2027-01-04T00:00:00Z"))).toBe(isoWeekIndex(new Date("2027-01-03T00:00:00Z")) + 1);
        expect(dayIndex(new Date("1970-01-02T00:00:00Z"))).toBe(1);
        expect(isoWeekIndex(new Date("1970-01-05T00:00:00Z"))).toBe(1); // first Monday after the epoch
    });
});

describe("planRetention over 67 nights, Dec 2026 to Feb 2027, one night missed", () => {
    const dates = days("2026-12-01", "2027-02-05", ["2027-02-02"]);
    const backups = dates.map((d) => nightly(d));
    const now = new Date("2027-02-05T12:00:00Z");
    const policy = { daily: 7, weekly: 4, walDays: 30 };

    it("keeps exactly the daily, weekly and PITR-anchor backups", () => {
        const plan = planRetention(backups, now, policy);
        expect(plan.keep).toEqual([
            { name: n("2027-01-06"), reasons: ["pitr-anchor"] },
            // Tomorrow's anchor: without it the anchor could only move once a weekly backup is 30 days old.
            { name: n("2027-01-07"), reasons: ["anchor-successor"] },
            { name: n("2027-01-11"), reasons: ["weekly"] },
            { name: n("2027-01-18"), reasons: ["weekly"] },
            { name: n("2027-01-25"), reasons: ["weekly"] },
            // The missed night (Feb 2) makes the seven daily backups span eight calendar days.
            { name: n("2027-01-29"), reasons: ["daily"] },
            { name: n("2027-01-30"), reasons: ["daily"] },
            { name: n("2027-01-31"), reasons: ["daily"] },
            { name: n("2027-02-01"), reasons: ["daily", "weekly"] },
            { name: n("2027-02-03"), reasons: ["daily"] },
            { name: n("2027-02-04"), reasons: ["daily"] },
            { name: n("2027-02-05"), reasons: ["daily", "newest"] },
        ]);
        expect(plan.deleteBefore).toBe(n("2027-01-06"));
        expect(plan.deletedByBefore).toEqual(days("2026-12-01", "2027-01-05").map(n));
        expect(plan.deleteTargets).toEqual(
            [
                "2027-01-08",
                "2027-01-09",
                "2027-01-10",
                ...days("2027-01-12", "2027-01-17"),
                ...days("2027-01-19", "2027-01-24"),
                "2027-01-26",
                "2027-01-27",
                "2027-01-28",
            ].map(n),
        );
        expectPartition(backups, plan);
    });

    it("counts ISO weeks across the year boundary (week of Mon 2026-12-28 to Sun 2027-01-03)", () => {
        const plan = planRetention(backups, now, { daily: 2, weekly: 8, walDays: 30 });
        expect(plan.keep.filter((k) => k.reasons.includes("weekly")).map((k) => k.name)).toEqual(
            ["2026-12-14", "2026-12-21", "2026-12-28", "2027-01-04", "2027-01-11", "2027-01-18", "2027-01-25", "2027-02-01"].map(n),
        );
        expect(plan.keep.map((k) => k.name)).toEqual(
            [
                "2026-12-14",
                "2026-12-21",
                "2026-12-28",
                "2027-01-04",
                "2027-01-06",
                "2027-01-07",
                "2027-01-11",
                "2027-01-18",
                "2027-01-25",
                "2027-02-01",
                "2027-02-04",
                "2027-02-05",
            ].map(n),
        );
        // The cut is the oldest kept backup (a weekly one older than the anchor), not the anchor.
        expect(plan.deleteBefore).toBe(n("2026-12-14"));
        expect(plan.deletedByBefore).toEqual(days("2026-12-01", "2026-12-13").map(n));
        expectPartition(backups, plan);
    });

    it("anchors on the newest backup that FINISHED at or before now - walDays, even at the horizon itself, and keeps one successor per week", () => {
        const atHorizon = new Date(Date.parse(`2027-01-06T02:10:00Z`) + 30 * DAY);
        const plan = planRetention(backups, atHorizon, { daily: 1, weekly: 0, walDays: 30 });
        expect(plan.keep).toEqual([
            { name: n("2027-01-06"), reasons: ["pitr-anchor"] },
            { name: n("2027-01-07"), reasons: ["anchor-successor"] },
            { name: n("2027-01-11"), reasons: ["anchor-successor"] },
            { name: n("2027-01-18"), reasons: ["anchor-successor"] },
            { name: n("2027-01-25"), reasons: ["anchor-successor"] },
            { name: n("2027-02-01"), reasons: ["anchor-successor"] },
            { name: n("2027-02-05"), reasons: ["daily", "newest"] },
        ]);
        expect(plan.anchor).toBe(n("2027-01-06"));
        expect(plan.promiseMet).toBe(true);
        expect(plan.deleteBefore).toBe(n("2027-01-06"));
        expectPartition(backups, plan);
        // One millisecond earlier the Jan 6 backup has not finished 30 days ago: Jan 5 anchors.
        expect(planRetention(backups, new Date(atHorizon.getTime() - 1), { daily: 1, weekly: 0, walDays: 30 }).anchor).toBe(
            n("2027-01-05"),
        );
    });

    it("keeps every permanent backup and never deletes it, before or after the cut", () => {
        const withPermanent = backups.map((b) =>
            b.name === n("2026-12-10") || b.name === n("2027-01-20") ? { ...b, permanent: true } : b,
        );
        const plan = planRetention(withPermanent, now, policy);
        const kept = plan.keep.map((k) => k.name);
        expect(plan.keep.find((k) => k.name === n("2026-12-10"))?.reasons).toEqual(["permanent"]);
        expect(plan.keep.find((k) => k.name === n("2027-01-20"))?.reasons).toEqual(["permanent"]);
        // The cut stays at the oldest kept backup that is not permanent: WAL-G's delete before
        // skips permanent backups, so the WAL between Dec 10 and Jan 6 is not kept forever.
        expect(plan.deleteBefore).toBe(n("2027-01-06"));
        expect(plan.deletedByBefore).toEqual(days("2026-12-01", "2027-01-05", ["2026-12-10"]).map(n));
        expect(plan.deleteTargets).not.toContain(n("2027-01-20"));
        expect(kept).toHaveLength(14);
        expectPartition(withPermanent, plan);
    });
});

describe("planRetention edge cases", () => {
    it("keeps everything when there are fewer backups than the policy asks for", () => {
        const backups = ["2027-03-01", "2027-03-02", "2027-03-03"].map((d) => nightly(d));
        const plan = planRetention(backups, new Date("2027-03-03T12:00:00Z"), { daily: 7, weekly: 4, walDays: 30 });
        expect(plan.keep).toEqual([
            { name: n("2027-03-01"), reasons: ["daily", "weekly", "pitr-anchor"] },
            { name: n("2027-03-02"), reasons: ["daily"] },
            { name: n("2027-03-03"), reasons: ["daily", "newest"] },
        ]);
        expect(plan.deleteBefore).toBeNull();
        expect(plan.deletedByBefore).toEqual([]);
        expect(plan.deleteTargets).toEqual([]);
    });

    it("plans nothing for no backups", () => {
        expect(planRetention([], new Date(), { daily: 7, weekly: 4, walDays: 30 })).toMatchObject({
            keep: [],
            deleteBefore: null,
            deletedByBefore: [],
            deleteTargets: [],
            anchor: null,
        });
    });

    it("keeps the newest of a day for daily and the oldest of a week for weekly", () => {
        const at = (iso: string, name: string): BackupInfo => ({
            name,
            startTime: new Date(iso),
            finishTime: new Date(iso),
            permanent: false,
        });
        const backups = [
            at("2027-03-01T01:00:00Z", "a"),
            at("2027-03-01T13:00:00Z", "b"),
            at("2027-03-02T01:00:00Z", "c"),
            at("2027-03-02T13:00:00Z", "d"),
        ];
        const plan = planRetention(backups, new Date("2027-03-02T14:00:00Z"), { daily: 2, weekly: 1, walDays: 1 });
        // walDays=1: the horizon is 2027-03-01T14:00, so b is the anchor.
        expect(plan.keep).toEqual([
            { name: "a", reasons: ["weekly"] },
            { name: "b", reasons: ["daily", "pitr-anchor"] },
            { name: "c", reasons: ["anchor-successor"] },
            { name: "d", reasons: ["daily", "newest"] },
        ]);
        expect(plan.deleteBefore).toBeNull();
        expect(plan.deleteTargets).toEqual([]);
        expectPartition(backups, plan);
    });

    it("with no backup old enough, anchors PITR on the oldest backup", () => {
        const backups = days("2027-03-01", "2027-03-10").map((d) => nightly(d));
        const plan = planRetention(backups, new Date("2027-03-10T12:00:00Z"), { daily: 2, weekly: 0, walDays: 30 });
        expect(plan.keep.map((k) => [k.name, k.reasons])).toEqual([
            [n("2027-03-01"), ["pitr-anchor"]],
            [n("2027-03-02"), ["anchor-successor"]],
            [n("2027-03-08"), ["anchor-successor"]],
            [n("2027-03-09"), ["daily"]],
            [n("2027-03-10"), ["daily", "newest"]],
        ]);
        expect(plan.promiseMet).toBe(false);
        expect(plan.deleteBefore).toBeNull();
        expect(plan.deleteTargets).toEqual(days("2027-03-03", "2027-03-07").map(n));
    });

    it("works in compressed time (dayMs = 10 s)", () => {
        const t0 = Date.parse("2027-05-01T00:00:00Z"); // a multiple of 10 s
        const dayMs = 10_000;
        // One backup every 5 s for 60 s: two per compressed day, days 0..5.
        const backups: BackupInfo[] = Array.from({ length: 12 }, (_, i) => ({
            name: `b${String(i).padStart(2, "0")}`,
            startTime: new Date(t0 + i * 5_000 + 1_000),
            finishTime: new Date(t0 + i * 5_000 + 2_000),
            permanent: false,
        }));
        const now = new Date(t0 + 60_000);
        const plan = planRetention(backups, now, { daily: 2, weekly: 0, walDays: 3, dayMs });
        // Horizon t0+30s: newest finish <= it is b05 (t0+27s); b06 is tomorrow's anchor.
        expect(plan.keep).toEqual([
            { name: "b05", reasons: ["pitr-anchor"] },
            { name: "b06", reasons: ["anchor-successor"] },
            { name: "b09", reasons: ["daily"] },
            { name: "b11", reasons: ["daily", "newest"] },
        ]);
        expect(plan.deleteBefore).toBe("b05");
        expect(plan.deletedByBefore).toEqual(["b00", "b01", "b02", "b03", "b04"]);
        expect(plan.deleteTargets).toEqual(["b07", "b08", "b10"]);
        expectPartition(backups, plan);
    });

    it("cuts at the oldest kept non-permanent backup when older ones are permanent", () => {
        const backups = days("2027-03-01", "2027-03-05").map((d, i) => nightly(d, i < 4 && i % 2 === 0));
        const plan = planRetention(backups, new Date("2027-03-05T12:00:00Z"), { daily: 1, weekly: 0, walDays: 1 });
        expectPartition(backups, plan);
        expect(plan.deleteBefore).toBe(n("2027-03-04"));
        expect(plan.deletedByBefore).toEqual([n("2027-03-02")]);
        expect(plan.deleteTargets).toEqual([]);
    });

    it("holds its invariants on random histories", () => {
        let seed = 42;
        const rnd = (): number => {
            seed = (seed * 1103515245 + 12345) % 2 ** 31;
            return seed / 2 ** 31;
        };
        for (let round = 0; round < 200; round++) {
            const count = Math.floor(rnd() * 40);
            const backups: BackupInfo[] = Array.from({ length: count }, (_, i) => {
                const t = Date.parse("2027-01-01T00:00:00Z") + Math.floor(rnd() * 90 * DAY);
                return { name: `b${i}`, startTime: new Date(t), finishTime: new Date(t + 1000), permanent: rnd() < 0.1 };
            });
            const plan = planRetention(backups, new Date("2027-04-01T00:00:00Z"), {
                daily: 1 + Math.floor(rnd() * 8),
                weekly: Math.floor(rnd() * 5),
                walDays: 1 + Math.floor(rnd() * 40),
            });
            expectPartition(backups, plan);
            const kept = new Set(plan.keep.map((k) => k.name));
            const byName = new Map(backups.map((b) => [b.name, b]));
            if (plan.deleteBefore) {
                const cut = byName.get(plan.deleteBefore)!;
                expect(kept.has(cut.name) && !cut.permanent).toBe(true);
                for (const d of plan.deletedByBefore) expect(byName.get(d)!.startTime <= cut.startTime).toBe(true);
                for (const d of plan.deleteTargets) expect(byName.get(d)!.startTime >= cut.startTime).toBe(true);
            } else {
                expect(plan.deletedByBefore).toEqual([]);
            }
        }
    });

    it("rejects a bad policy and duplicate names", () => {
        const b = nightly("2027-03-01");
        expect(() => planRetention([b], new Date(), { daily: -1, weekly: 0, walDays: 1 })).toThrow(/daily/);
        expect(() => planRetention([b], new Date(), { daily: 1, weekly: 0, walDays: 1, dayMs: 0 })).toThrow(/dayMs/);
        expect(() => planRetention([b, b], new Date(), { daily: 1, weekly: 0, walDays: 1 })).toThrow(/unique/);
    });
});
