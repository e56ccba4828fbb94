/**
 * Timeline history files, the ancestry they give, and the planner's use of it: a backup of
 * an abandoned timeline never anchors, WAL-G's (timeline, segment) delete order is planned
 * for, a WAL gap holds every delete below it, and the clocks are checked before deleting.
 */
import { describe, expect, it } from "vitest";
import { checkClocks, correctBackupTimes, refusalMessage } from "../../render/clock-sanity";
import { type BackupInfo, planRetention } from "../../render/retention-plan";
import {
    ancestryOf,
    expectedTimeline,
    formatLsn,
    historyFileTimeline,
    onAncestry,
    parseLsn,
    parseTimelineHistory,
    parseWalFileName,
    WAL_SEGMENT_BYTES,
    walFileName,
} from "../../render/timeline-history";

const DAY = 86_400_000;
const SEG = WAL_SEGMENT_BYTES;

describe("timeline history files", () => {
    // As PostgreSQL 15 writes them (timeline.c: "%u\t%X/%X\t%s").
    const history3 = "1\t0/5000A28\tbefore 2027-01-15 09:30:00+00\n\n2\t0/9000060\tno recovery target specified\n";

    it("parses LSNs, WAL file names and history file names", () => {
        expect(parseLsn("16/B374D848")).toBe(0x16b374d848);
        expect(formatLsn(0x16b374d848)).toBe("16/B374D848");
        expect(parseWalFileName("000000020000000100000003")).toEqual({ timeline: 2, segno: 0x103 });
        expect(walFileName({ timeline: 2, segno: 0x103 })).toBe("000000020000000100000003");
        expect(parseWalFileName("00000002.history")).toBeNull();
        expect(parseWalFileName("0000000200000001000001FF")).toBeNull(); // no segment 0x1FF with 16 MiB segments
        expect(historyFileTimeline("00000003.history.lz4")).toBe(3);
        expect(historyFileTimeline("000000030000000000000001.lz4")).toBeNull();
    });

    it("gives the ancestry, oldest first, with each timeline's stretch of WAL", () => {
        const lines = parseTimelineHistory(history3);
        expect(lines).toEqual([
            { parent: 1, switchLsn: 0x5000a28 },
            { parent: 2, switchLsn: 0x9000060 },
        ]);
        const anc = ancestryOf(3, lines);
        expect(anc).toEqual([
            { timeline: 1, beginLsn: 0, endLsn: 0x5000a28 },
            { timeline: 2, beginLsn: 0x5000a28, endLsn: 0x9000060 },
            { timeline: 3, beginLsn: 0x9000060, endLsn: null },
        ]);
        // The switch segment is read from the child, which copied the parent's part of it.
        expect(expectedTimeline(anc, 4)).toBe(1);
        expect(expectedTimeline(anc, 5)).toBe(2);
        expect(expectedTimeline(anc, 9)).toBe(3);
        // A backup of timeline 1 that finished after the branch is not in timeline 3's history.
        expect(onAncestry(anc, 1, 0x2000028, 0x3000100)).toBe(true);
        expect(onAncestry(anc, 1, 0x6000028, 0x6000100)).toBe(false);
        expect(onAncestry(anc, 2, 0x6000028, 0x6000100)).toBe(true);
        expect(onAncestry(anc, 2, 0xa000028, 0xa000100)).toBe(false); // timeline 2 after its own branch
    });

    it("without a history file, a timeline above 1 has no parent (as PostgreSQL assumes)", () => {
        expect(ancestryOf(2, undefined)).toEqual([{ timeline: 2, beginLsn: 0, endLsn: null }]);
        expect(ancestryOf(1, undefined)).toEqual([{ timeline: 1, beginLsn: 0, endLsn: null }]);
    });

    it("refuses a history file that is not one", () => {
        expect(() => parseTimelineHistory("garbage\n")).toThrow(/unreadable/);
        expect(() => parseTimelineHistory("2\t0/5000000\tx\n1\t0/6000000\ty\n")).toThrow(/does not follow/);
        expect(() => ancestryOf(2, parseTimelineHistory("2\t0/5000000\tx\n"))).toThrow(/parent 2/);
    });
});

/** A backup named as WAL-G names it, on a timeline, starting in a segment. */
function backup(timeline: number, segno: number, day: number, permanent = false): BackupInfo {
    const start = new Date(Date.parse("2027-01-01T02:00:00Z") + day * DAY);
    return {
        name: `base_${walFileName({ timeline, segno })}`,
        startTime: start,
        finishTime: new Date(start.getTime() + 60_000),
        permanent,
        timeline,
        startLsn: segno * SEG + 40,
        finishLsn: segno * SEG + 4000,
    };
}

function wal(timeline: number, from: number, to: number): { timeline: number; segno: number }[] {
    return Array.from({ length: to - from + 1 }, (_, i) => ({ timeline, segno: from + i }));
}

describe("planRetention across a timeline switch", () => {
    // Timeline 1: a backup every day in segments 10, 20, ... 400 (days 0..39). On day 39 a
    // restore in place to day 25 (segment 255) starts timeline 2; timeline 1's days 26..39 are
    // abandoned. Timeline 2: backups on days 40..75 from segment 410 up (segno numbers of a new
    // timeline continue from the switch point, 255, but backups start later).
    const switchLsn = 255 * SEG + SEG / 2;
    const history = [{ parent: 1, switchLsn }];
    const tl1 = Array.from({ length: 40 }, (_, d) => backup(1, 10 + d * 10, d));
    const tl2 = Array.from({ length: 36 }, (_, d) => backup(2, 260 + d * 10, 40 + d));
    const segments = [...wal(1, 1, 400), ...wal(2, 255, 620)];
    const policy = { daily: 7, weekly: 5, walDays: 30 };

    it("never anchors on the abandoned timeline and deletes it with `delete before` once the anchor is on timeline 2", () => {
        const now = new Date(Date.parse("2027-01-01T12:00:00Z") + 75 * DAY);
        const plan = planRetention([...tl1, ...tl2], now, policy, { currentTimeline: 2, history, wal: segments });
        expect(plan.promiseMet).toBe(true);
        // Horizon: day 45 12:00; the newest timeline-2 backup finished by then is day 45's.
        expect(plan.anchor).toBe(tl2[5].name);
        expect(plan.currentTimeline).toBe(2);
        // Everything of timeline 1 sorts below a timeline-2 backup in WAL-G's order, even the
        // abandoned backups of days 26..39, which are "younger" by start time than some kept ones.
        expect(plan.deleteBefore).toBe(tl2[0].name === plan.keep[0].name ? tl2[0].name : plan.keep[0].name);
        expect(new Set(plan.deletedByBefore)).toEqual(
            new Set([...tl1.map((b) => b.name), ...tl2.filter((b) => plan.deleteBefore && b.name < plan.deleteBefore).map((b) => b.name)]),
        );
        for (const k of plan.keep) expect(k.name.startsWith("base_00000002"), k.name).toBe(true);
    });

    it("on the days right after the switch, anchors on a timeline-1 backup from before the branch and keeps the abandoned ones of the window", () => {
        const now = new Date(Date.parse("2027-01-01T12:00:00Z") + 45 * DAY);
        const plan = planRetention([...tl1, ...tl2.slice(0, 6)], now, policy, {
            currentTimeline: 2,
            history,
            wal: segments.filter((s) => s.timeline === 1 || s.segno <= 320),
        });
        // Horizon day 15: tl1[15] (segment 160) is before the branch (255) and restorable via timeline 2.
        expect(plan.anchor).toBe(tl1[15].name);
        // The cut is the oldest kept backup, a weekly one (5 weeks) older than the anchor.
        expect(plan.deleteBefore).toBe(plan.keep[0].name);
        expect(plan.keep[0].reasons).toEqual(["weekly"]);
        const kept = new Map(plan.keep.map((k) => [k.name, k.reasons]));
        // Abandoned timeline-1 backups (days 25..39: segment 260 on, after the branch at 255) count
        // for no daily or weekly rule and anchor nothing; younger than the horizon, they are kept
        // as "other-timeline" (a mistaken restore can be undone within the window).
        for (const b of tl1.slice(25)) {
            expect(kept.get(b.name), b.name).toEqual(["other-timeline"]);
        }
        // The seven daily backups of timeline 2's history: its six days, then day 24 of timeline 1
        // (before the branch), not the abandoned days 25..39 that are newer by start time.
        expect([...kept.entries()].filter(([, r]) => r.includes("daily")).map(([n]) => n)).toEqual([
            tl1[24].name,
            ...tl2.slice(0, 6).map((b) => b.name),
        ]);
    });

    it("the planner the issue describes (start time only, no timelines) would have anchored on an abandoned backup", () => {
        // Horizon at day 35: by start time alone the newest backup at or before it is tl1[35],
        // abandoned. The planner anchors on tl1[25] instead, the last one before the branch.
        const now = new Date(Date.parse("2027-01-01T12:00:00Z") + 65 * DAY);
        const plan = planRetention([...tl1, ...tl2.slice(0, 26)], now, policy, { currentTimeline: 2, history, wal: segments });
        expect(plan.anchor).not.toBe(tl1[35].name);
        expect(plan.anchor).toBe(tl1[24].name); // tl1[25] starts in segment 260 > 255: after the branch
        expect(plan.deleteBefore).toBe(tl1[24].name);
    });
});

describe("planRetention with a WAL gap", () => {
    const backups = Array.from({ length: 50 }, (_, d) => backup(1, 10 + d * 10, d));
    const now = new Date(Date.parse("2027-01-01T12:00:00Z") + 49 * DAY);

    it("anchors on the oldest backup after the gap and deletes nothing below it while the window is short", () => {
        // Segment 305 is missing: backups from day 30 on (segment 310) restore to now, older ones do not.
        const segments = [...wal(1, 1, 304), ...wal(1, 306, 600)];
        const plan = planRetention(backups, now, { daily: 7, weekly: 4, walDays: 30 }, { wal: segments });
        expect(plan.promiseMet).toBe(false);
        expect(plan.anchor).toBe(backups[30].name);
        expect(plan.deleteBefore).toBeNull();
        for (const b of backups.slice(0, 30)) expect(plan.keep.map((k) => k.name)).toContain(b.name);
    });

    it("with the gap filled, anchors walDays back and deletes below", () => {
        const plan = planRetention(backups, now, { daily: 7, weekly: 4, walDays: 30 }, { wal: wal(1, 1, 600) });
        expect(plan.promiseMet).toBe(true);
        expect(plan.anchor).toBe(backups[19].name); // day 19 12:00 horizon; day 19's finished 02:01
        expect(plan.deleteBefore).toBe(backups[19].name);
    });

    it("never anchors on a permanent backup (delete before would spare only its own WAL)", () => {
        const marked = backups.map((b, i) => (i === 19 ? { ...b, permanent: true } : b));
        // (backups[19] would anchor were it not permanent: see the test above.)
        const plan = planRetention(marked, now, { daily: 7, weekly: 4, walDays: 30 }, { wal: wal(1, 1, 600) });
        expect(plan.anchor).toBe(backups[18].name);
        expect(plan.keep.find((k) => k.name === backups[19].name)?.reasons).toEqual(["permanent"]);
    });
});

describe("clock sanity", () => {
    const t = Date.parse("2027-03-01T02:00:00Z");
    const base = {
        jobAtPushEnd: new Date(t + 100_500),
        jobNow: new Date(t + 120_000),
        storageAtPush: new Date(t + 100_000),
        earlierBackupsStoredAt: [new Date(t - DAY)],
        earlierBackupsFinished: [{ name: "base_a", finishTime: new Date(t - DAY), storedAt: new Date(t - DAY) }],
        newestWalStoredAt: new Date(t + 101_000),
    };

    it("agrees when the clocks agree, and plans with the earlier of them", () => {
        const v = checkClocks(base);
        expect(v).toEqual({ ok: true, now: new Date(t + 100_000), notes: [] });
    });

    it("refuses when the job's clock is a year ahead, 40 days behind, or 6 minutes off", () => {
        for (const off of [365 * DAY, -40 * DAY, 6 * 60_000, -6 * 60_000]) {
            const v = checkClocks({ ...base, jobAtPushEnd: new Date(t + off + 100_500), jobNow: new Date(t + off + 120_000) });
            expect(v.ok, String(off)).toBe(false);
            if (!v.ok)
                expect(refusalMessage(v.problems)).toMatch(
                    /^clock check failed, retention deleted nothing: the job's clock .* and storage's .* disagree by/,
                );
        }
        // 4 minutes is within the bound.
        expect(
            checkClocks({ ...base, jobAtPushEnd: new Date(t + 240_000), jobNow: new Date(t + 360_000), storageAtPush: new Date(t) }).ok,
        ).toBe(true);
    });

    it("refuses when time ran backwards: a backup or WAL storage wrote after the one just pushed", () => {
        expect(checkClocks({ ...base, earlierBackupsStoredAt: [new Date(t + 30 * DAY)] }).ok).toBe(false);
        expect(checkClocks({ ...base, newestWalStoredAt: new Date(t + DAY) }).ok).toBe(false);
        expect(checkClocks({ ...base, jobNow: new Date(t - 1000) }).ok).toBe(false);
        const v = checkClocks({ ...base, earlierBackupsFinished: [{ name: "base_b", finishTime: new Date(t + 30 * DAY) }] });
        expect(v.ok).toBe(false);
        if (!v.ok) expect(v.problems.join()).toMatch(/backup base_b finished .* after the job's clock/);
    });

    it("refuses when storage gave no time", () => {
        const v = checkClocks({ ...base, storageAtPush: null });
        expect(v.ok).toBe(false);
        if (!v.ok) expect(v.problems.join()).toMatch(/storage gave no time/);
    });

    it("re-dates by storage a backup once taken under a clock a year ahead, instead of refusing forever", () => {
        const future = { name: "base_f", finishTime: new Date(t + 365 * DAY), storedAt: new Date(t - 2 * DAY) };
        const v = checkClocks({ ...base, earlierBackupsFinished: [future] });
        expect(v.ok).toBe(true);
        if (v.ok) expect(v.notes.join()).toMatch(/base_f .* dated by storage/);
        const b: BackupInfo = {
            name: "base_f",
            startTime: new Date(t + 365 * DAY - 60_000),
            finishTime: future.finishTime,
            permanent: false,
            storedAt: future.storedAt,
        };
        const fixed = correctBackupTimes([b]);
        expect(fixed.moved).toEqual(["base_f"]);
        expect(fixed.backups[0].finishTime).toEqual(future.storedAt);
        expect(fixed.backups[0].startTime).toEqual(new Date(t - 2 * DAY - 60_000));
        // Within the bound nothing moves.
        expect(correctBackupTimes([{ ...b, finishTime: new Date(t), storedAt: new Date(t + 1000) }]).moved).toEqual([]);
    });
});
