/**
 * Retention replayed night after night against a simulated bucket (test/unit/retention-sim.ts):
 * each night the lifecycle rules act, the backup job pushes a backup and applies its plan,
 * and the promise is checked with true time. The four named cases are issue 15's; each fails
 * with the planner, job and lifecycle rules as they were before it (see the report: run with
 * RETENTION_PLANNER=<old retention-plan.ts> RETENTION_LIFECYCLE=<old lifecycle.ts>
 * RETENTION_LEGACY_JOB=1).
 */
import { beforeAll, describe, expect, it } from "vitest";
import type { RetentionPolicy } from "../../render/job-config";
import { renderLifecycleRules as currentLifecycle, type LifecycleRule } from "../../render/lifecycle";
import { isoWeekIndex, oldestPromisedPoint, planRetention as currentPlanner } from "../../render/retention-plan";
import { DAY, HOUR, type NightResult, type Planner, prng, runJob, World } from "./retention-sim";

let planner: Planner = currentPlanner;
let lifecycleOf: typeof currentLifecycle = currentLifecycle;
const legacy = process.env.RETENTION_LEGACY_JOB === "1";
beforeAll(async () => {
    if (process.env.RETENTION_PLANNER) planner = (await import(process.env.RETENTION_PLANNER)).planRetention;
    if (process.env.RETENTION_LIFECYCLE) lifecycleOf = (await import(process.env.RETENTION_LIFECYCLE)).renderLifecycleRules;
});

const START = Date.parse("2027-01-04T00:00:00Z"); // a Monday
const DEFAULT: RetentionPolicy = { daily: 7, weekly: 4, walDays: 30 };
const rules = (): LifecycleRule[] =>
    lifecycleOf({ provider: "minio", backupPrefixes: ["dev/app/"], safetyNetDays: 90, evidenceDays: 400 } as Parameters<
        typeof currentLifecycle
    >[0]);

interface Night {
    /** Skip the backup this night. */
    readonly missed?: boolean;
    /** A second run at 14:00. */
    readonly double?: boolean;
    /** Job clock offset this night. */
    readonly skewMs?: number;
    /** Mark this night's backup permanent. */
    readonly markPermanent?: boolean;
    /** Restore in place at 10:00 to this many hours before. */
    readonly pitrHoursBack?: number;
    /** From this night on, the host clock storage shares is this far off (before the run). */
    readonly hostSkewMs?: number;
    /** An operator lifts the retention hold before the run. */
    readonly liftHold?: boolean;
}

interface Replay {
    readonly world: World;
    readonly results: NightResult[];
    readonly failures: string[];
}

/** The promise on one night, with true time; returns what is broken. */
function promiseBroken(w: World, policy: RetentionPolicy, firstBackup: number): string[] {
    const broken: string[] = [];
    const horizon = w.now - policy.walDays * DAY;
    if (horizon >= firstBackup + HOUR) {
        const oldest = w.oldestRestorable();
        if (oldest === null || oldest > horizon) {
            broken.push(
                `oldest restorable point ${oldest === null ? "none" : `${((w.now - oldest) / DAY).toFixed(2)} days`} back, promised ${policy.walDays}`,
            );
        }
    }
    // The newest `daily` days and `weekly` weeks, by true time, among backups on the current
    // lineage, leaving out days and weeks that also hold a backup of an abandoned timeline
    // (which of two backups of a day is "the newest" changes with the switch), and backups
    // deleted before the latest switch, when the lineage was another one. A backup taken
    // under a skewed clock counts by when storage wrote it, as the job re-dates it.
    const lastSwitch = w.switches[w.switches.length - 1] ?? -Infinity;
    const lineage = w.pushed.filter((b) => !((w.deletedAt.get(b.name) ?? Infinity) < lastSwitch));
    const dayOf = (t: number): number => Math.floor(t / DAY);
    const abandonedDays = new Set(lineage.filter((b) => !w.onLineage(b)).map((b) => dayOf(b.storedAt)));
    const abandonedWeeks = new Set(lineage.filter((b) => !w.onLineage(b)).map((b) => isoWeekIndex(new Date(b.storedAt))));
    const onLin = lineage.filter((b) => w.onLineage(b));
    const days = [...new Set(onLin.map((b) => dayOf(b.storedAt)))].sort((a, b) => b - a).slice(0, policy.daily);
    for (const d of days) {
        if (abandonedDays.has(d)) continue;
        const newest = onLin.filter((b) => dayOf(b.storedAt) === d).sort((a, b) => b.storedAt - a.storedAt)[0];
        if (!w.backups.has(newest.name))
            broken.push(`daily backup ${newest.name} of ${new Date(d * DAY).toISOString().slice(0, 10)} is gone`);
    }
    const weeks = [...new Set(onLin.map((b) => isoWeekIndex(new Date(b.storedAt))))].sort((a, b) => b - a).slice(0, policy.weekly);
    for (const wk of weeks) {
        if (abandonedWeeks.has(wk)) continue;
        const oldest = onLin.filter((b) => isoWeekIndex(new Date(b.storedAt)) === wk).sort((a, b) => a.storedAt - b.storedAt)[0];
        if (!w.backups.has(oldest.name)) broken.push(`weekly backup ${oldest.name} is gone`);
    }
    for (const p of w.permanentIntact()) broken.push(`permanent backup ${p} or its WAL is gone`);
    return broken;
}

function replay(nights: readonly Night[], policy: RetentionPolicy = DEFAULT, opts: { noHold?: boolean } = {}): Replay {
    const w = new World(START);
    const results: NightResult[] = [];
    const failures: string[] = [];
    let first: number | null = null;
    nights.forEach((n, i) => {
        w.advance(2 * HOUR); // 02:00
        if (n.hostSkewMs !== undefined) w.hostSkewMs = n.hostSkewMs;
        if (n.liftHold) w.hold = false;
        w.applyLifecycle(rules());
        const run = (skewMs: number): NightResult => {
            const r = runJob(w, { planner, policy, skewMs, legacy, noHold: opts.noHold });
            const name = w.pushed[w.pushed.length - 1].name;
            if (n.markPermanent) w.mark(name);
            first ??= w.pushed[0].storedAt;
            return r;
        };
        if (!n.missed) results.push(run(n.skewMs ?? 0));
        w.advance(8 * HOUR); // 10:00
        if (n.pitrHoursBack !== undefined) w.pitr(w.now - n.pitrHoursBack * HOUR);
        w.advance(4 * HOUR); // 14:00
        if (n.double && !n.missed) results.push(run(0));
        if (first !== null)
            for (const b of promiseBroken(w, policy, first))
                failures.push(`night ${i + 1} (${new Date(w.now).toISOString().slice(0, 10)}): ${b}`);
        w.advance(10 * HOUR); // midnight
    });
    return { world: w, results, failures };
}

const plain = (count: number, extra: Record<number, Night> = {}): Night[] => Array.from({ length: count }, (_, i) => extra[i + 1] ?? {});

describe("issue 15, case by case, night after night", () => {
    it("case 1: after a restore in place to timeline 2 the window stays restorable on timeline 2 (7 daily / 5 weekly / 30 days)", () => {
        // Forty nights, then a restore to 10 days back, then 80 nights on timeline 2.
        const r = replay(plain(120, { 40: { pitrHoursBack: 10 * 24 } }), { daily: 7, weekly: 5, walDays: 30 });
        expect(r.failures).toEqual([]);
        expect(r.world.timeline).toBe(2);
        // By the end the anchor is a timeline-2 backup and nothing of timeline 1 is left.
        expect([...r.world.backups.values()].every((b) => b.timeline === 2)).toBe(true);
        expect([...r.world.wal.keys()].every((k) => k.startsWith("2:"))).toBe(true);
        expect(r.results.every((x) => x.ok)).toBe(true);
    });

    it("case 2: with the default policy the anchor moves, `delete before` runs and WAL stays about 30 days deep for 200 nights", () => {
        const r = replay(plain(200));
        expect(r.failures).toEqual([]);
        const w = r.world;
        const oldestWal = Math.min(...w.wal.values());
        // At most a week (the next anchor's ISO week) beyond the window, never 90 days of WAL.
        expect((w.now - oldestWal) / DAY).toBeLessThan(30 + 8);
        expect((w.now - w.oldestRestorable()!) / DAY).toBeGreaterThanOrEqual(30);
        expect(w.backups.size).toBeLessThanOrEqual(7 + 4 + 3);
    });

    it("case 3: a run with the job clock a year ahead, or 40 days behind, deletes nothing and fails loudly", () => {
        const r = replay(plain(80, { 45: { skewMs: 365 * DAY }, 50: { skewMs: -40 * DAY }, 55: { skewMs: 20 * 60_000 } }));
        expect(r.failures).toEqual([]);
        for (const night of [45, 50, 55]) {
            expect(r.results[night - 1].ok, `night ${night}`).toBe(false);
            expect(r.results[night - 1].error).toMatch(/clock check failed, retention deleted nothing: the job's clock/);
            expect(r.results[night - 1].deleted).toEqual([]);
        }
        // The other nights still delete (a backup dated a year ahead does not stall retention).
        expect(r.results.slice(55).filter((x) => x.ok && x.deleted.length > 0).length).toBeGreaterThan(10);
        expect(r.results.filter((x) => !x.ok)).toHaveLength(3);
    });

    it("a host clock a year ahead that storage shares: the first run puts retention on hold, every later run obeys it, the true window stays whole", () => {
        const nights = plain(50, { 45: { hostSkewMs: 365 * DAY } });
        const r = replay(nights);
        const w = r.world;
        // The clock check cannot see it: job and storage agree.
        expect(r.results[44].ok).toBe(false);
        expect(r.results[44].error).toMatch(/comes 366\.0 days after the newest earlier one.*retention is put on hold/);
        for (const x of r.results.slice(45)) {
            expect(x.ok).toBe(false);
            expect(x.error).toMatch(/^retention deleted nothing: retention is on hold: retention-hold\.json/);
        }
        expect(r.results.slice(44).flatMap((x) => x.deleted)).toEqual([]);
        // By true time, the window is whole: a backup pushed 30 true days ago or earlier still restores to now.
        const restorable = w.pushed.filter((b) => w.backups.has(b.name) && w.restorableToHead(b)).map((b) => b.trueAt);
        expect((w.now - Math.min(...restorable)) / DAY).toBeGreaterThanOrEqual(30);
    });

    it("the same jump without the hold loses most of the true window (control)", () => {
        // Five nights after the jump: the window of true time reaches back to night 20.
        const r = replay(plain(50, { 45: { hostSkewMs: 365 * DAY } }), DEFAULT, { noHold: true });
        const w = r.world;
        expect(r.results.slice(44).every((x) => x.ok)).toBe(true);
        const restorable = w.pushed.filter((b) => w.backups.has(b.name) && w.restorableToHead(b)).map((b) => b.trueAt);
        expect((w.now - Math.min(...restorable)) / DAY).toBeLessThan(30);
    });

    it("an operator who lifts the hold (the clock is right: a year really passed) lets retention run again", () => {
        const r = replay(plain(80, { 45: { hostSkewMs: 365 * DAY }, 60: { liftHold: true } }));
        expect(r.results[58].ok).toBe(false);
        expect(r.results[59].ok).toBe(true);
        expect(r.results.slice(59).flatMap((x) => x.deleted).length).toBeGreaterThan(0);
        expect(r.results.slice(60).every((x) => x.ok)).toBe(true);
    });

    it("a job down for five days, then back: no hold (the bound is a week)", () => {
        const r = replay(plain(60, { 40: { missed: true }, 41: { missed: true }, 42: { missed: true }, 43: { missed: true } }));
        expect(r.failures).toEqual([]);
        expect(r.results.every((x) => x.ok)).toBe(true);
    });

    it("case 4: a permanent backup and its WAL survive 200 nights of retention and lifecycle rules", () => {
        const r = replay(plain(200, { 5: { markPermanent: true } }));
        expect(r.failures).toEqual([]);
        const p = r.world.pushed[4];
        expect(p.permanent).toBe(true);
        expect(r.world.backups.has(p.name)).toBe(true);
        expect(r.world.permanentIntact()).toEqual([]);
    });
});

describe("retention over 200 random nights (seeded)", () => {
    for (const seed of [1, 2, 3, 4, 5, 6, 7, 8]) {
        it(`keeps the promise on every night, seed ${seed}`, () => {
            const rnd = prng(seed);
            const policy: RetentionPolicy = {
                daily: 1 + Math.floor(rnd() * 10),
                weekly: Math.floor(rnd() * 6),
                walDays: 3 + Math.floor(rnd() * 40),
            };
            const pitrNights = new Set([60 + Math.floor(rnd() * 40), 130 + Math.floor(rnd() * 40)]);
            const nights: Night[] = Array.from({ length: 200 }, (_, i) => {
                const x = rnd();
                if (pitrNights.has(i)) return { pitrHoursBack: 1 + Math.floor(rnd() * 24 * Math.min(policy.walDays, 12)) };
                if (x < 0.07) return { missed: true };
                if (x < 0.14) return { double: true };
                if (x < 0.17) return { skewMs: (rnd() < 0.5 ? -1 : 1) * (10 * 60_000 + rnd() * 400 * DAY) };
                if (x < 0.19) return { skewMs: (rnd() - 0.5) * 4 * 60_000 }; // within the bound: not refused
                if (x < 0.21) return { markPermanent: true };
                return {};
            });
            const r = replay(nights, policy);
            expect(r.failures, JSON.stringify(policy)).toEqual([]);
            // Refusals are exactly the nights with a clock beyond the bound.
            const refused = r.results.filter((x) => !x.ok);
            for (const x of refused) expect(x.error).toMatch(/^clock check failed/);
            // WAL does not pile up: at most the window, a week for the next anchor, the missed
            // nights around it, and the WAL of permanent backups.
            const perm = new Set(r.world.pushed.filter((b) => b.permanent).map((b) => `${b.timeline}:${b.startSeg}`));
            const nonPermWal = [...r.world.wal].filter(([k]) => !perm.has(k)).map(([, at]) => at);
            if (nonPermWal.length > 0)
                expect((r.world.now - Math.min(...nonPermWal)) / DAY, JSON.stringify(policy)).toBeLessThan(policy.walDays + 7 + 10);
        });
    }
});

describe("oldestPromisedPoint (for the drill of the window's far end)", () => {
    it("names the anchor and the point walDays back once the window is full", () => {
        const r = replay(plain(45));
        const w = r.world;
        const now = new Date(w.now);
        const point = oldestPromisedPoint(w.listForJob(), now, DEFAULT, { currentTimeline: w.timeline, wal: w.walForJob() });
        expect(point).not.toBeNull();
        expect(point!.promiseMet).toBe(true);
        expect(point!.targetTime.getTime()).toBe(now.getTime() - 30 * DAY);
        const anchor = w.backups.get(point!.backupName)!;
        expect(anchor.storedAt).toBeLessThanOrEqual(point!.targetTime.getTime());
        expect(w.restorableToHead(anchor)).toBe(true);
    });

    it("falls back to the oldest backup's end while the cluster is younger than the window", () => {
        const r = replay(plain(5));
        const now = new Date(r.world.now);
        const point = oldestPromisedPoint(r.world.listForJob(), now, DEFAULT, { wal: r.world.walForJob() });
        expect(point!.promiseMet).toBe(false);
        expect(point!.backupName).toBe(r.world.pushed[0].name);
        expect(point!.targetTime.getTime()).toBe(r.world.pushed[0].storedAt);
    });
});
