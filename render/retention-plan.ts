/**
 * The retention plan: which base backups to keep and how to delete the rest with WAL-G,
 * decided here, purely, so the backup job only executes it and the tests can replay it
 * night after night (test/unit/retention-nights.test.ts).
 *
 * The promise, every night: a point `walDays` back on the CURRENT timeline can be restored
 * (a backup on the current timeline's ancestry that finished at or before now - walDays,
 * with every WAL segment from it to the newest one on that ancestry), plus the newest backup
 * of each of the newest `daily` days and the oldest of each of the newest `weekly` ISO weeks,
 * plus every permanent backup.
 *
 * Kept, with why:
 * - `pitr-anchor`: the newest restorable, non-permanent ancestry backup that finished at or
 *   before the horizon (now - walDays). Held until a younger one crosses the horizon.
 * - `anchor-successor`: the oldest restorable ancestry backup of each ISO week younger than
 *   the horizon. These are the future anchors: without them the daily/weekly rules drop a
 *   backup (a weekly one at 28 days) before it is old enough to anchor a 30-day window, the
 *   anchor never moves, `delete before` never runs and WAL piles up (issue 15, case 2).
 *   With them the anchor is at most a week (plus missed nights) older than the window.
 * - `daily`, `weekly`: counted over ancestry backups only; a backup of an abandoned
 *   timeline cannot restore the current one.
 * - `other-timeline`: a backup off the ancestry (a timeline abandoned by a restore in place)
 *   younger than the horizon, unless `delete before` removes it anyway (see below): it lets
 *   a mistaken restore be undone within the window.
 * - `permanent`: every permanent backup. `newest`: the newest backup, always.
 * - `window-short`: when no restorable backup is old enough (a young cluster, a WAL gap),
 *   the promise cannot be met; nothing older than the oldest restorable backup, and nothing
 *   off the ancestry, is deleted then.
 *
 * Deleted, only with the two WAL-G v3.0.9 commands whose effect the integration tests check
 * on MinIO (test/integration/retention*.test.ts):
 * - `delete before FIND_FULL <anchor>`: WAL-G (without --use-sentinel-time) orders every
 *   object of the prefix by the timeline and segment number in its name and deletes each one
 *   below the anchor's (internal/databases/postgres/delete_util.go: timelineAndSegmentNoLess),
 *   backups and WAL alike, on EVERY timeline below the anchor's, except permanent backups and
 *   the WAL segments of their own start..finish range. History files carry no segment
 *   number and are never deleted. The cut is the kept non-permanent backup lowest in that
 *   order (the anchor, or an older weekly one), so nothing kept sorts below it.
 * - `delete target <name>`: only that backup's objects under basebackups_005/, never WAL
 *   (internal/delete_handler.go: DeleteTarget); it refuses permanent backups.
 * Not used: `delete retain` (counts backups, knows no window), `delete garbage` (anchors on
 * the oldest non-permanent backup by start time, which after a timeline switch can be a
 * backup whose timeline sorts above older kept ones, and then deletes those).
 */
import type { RetentionPolicy } from "./job-config";
import {
    type AncestryEntry,
    ancestryOf,
    contiguousWalFrom,
    type HistoryLine,
    onAncestry,
    parseWalFileName,
    segmentKey,
    segmentOf,
    WAL_SEGMENT_BYTES,
    type WalSegment,
} from "./timeline-history";

export const DAY_MS = 86_400_000;

export interface BackupInfo {
    readonly name: string;
    readonly startTime: Date;
    readonly finishTime: Date;
    readonly permanent: boolean;
    /** Timeline: the first 8 hex digits of the backup's WAL file name. Default: from the name, else 1. */
    readonly timeline?: number;
    /** WAL range of the backup. Default: the start segment in the name (a test may omit both). */
    readonly startLsn?: number;
    readonly finishLsn?: number;
    /** When storage says the backup was written (its sentinel's Last-Modified, the storage clock). */
    readonly storedAt?: Date;
}

/** What the planner knows about timelines and WAL; every field optional for a plain history. */
export interface TimelineContext {
    /** The timeline the primary runs on. Default: the newest backup's. */
    readonly currentTimeline?: number;
    /** Lines of the current timeline's history file (none for timeline 1). */
    readonly history?: readonly HistoryLine[];
    /** The WAL segments in storage. Without it every ancestry backup counts as restorable. */
    readonly wal?: readonly WalSegment[];
}

export type KeepReason =
    | "daily"
    | "weekly"
    | "pitr-anchor"
    | "anchor-successor"
    | "other-timeline"
    | "permanent"
    | "newest"
    | "window-short";

export interface KeptBackup {
    readonly name: string;
    readonly reasons: KeepReason[];
}

export interface RetentionPlan {
    /** Kept backups, oldest first (by start time), each with why. */
    readonly keep: KeptBackup[];
    /** Argument of `delete before FIND_FULL`: null when nothing is to go that way. */
    readonly deleteBefore: string | null;
    /** Backups `delete before` removes (sorting below deleteBefore, not permanent), oldest first. */
    readonly deletedByBefore: string[];
    /** Non-kept backups not removed by `delete before`, each removed by `delete target`, oldest first. */
    readonly deleteTargets: string[];
    /** The backup that holds the point-in-time window open (null: no restorable backup). */
    readonly anchor: string | null;
    /** Whether the anchor reaches back to now - walDays on the current timeline. */
    readonly promiseMet: boolean;
    readonly currentTimeline: number;
    /** The oldest point the kept backups and WAL restore to on the current timeline. */
    readonly oldestRestorable: Date | null;
}

/** Day number since the epoch, in units of dayMs. */
export function dayIndex(t: Date, dayMs = DAY_MS): number {
    return Math.floor(t.getTime() / dayMs);
}

/** ISO week number since the epoch (weeks start on Monday; day 0, 1970-01-01, was a Thursday). */
export function isoWeekIndex(t: Date, dayMs = DAY_MS): number {
    return Math.floor((dayIndex(t, dayMs) + 3) / 7);
}

function checkPolicy(p: RetentionPolicy): void {
    for (const [k, v] of [
        ["daily", p.daily],
        ["weekly", p.weekly],
        ["walDays", p.walDays],
    ] as const) {
        if (!Number.isInteger(v) || v < 0) throw new Error(`planRetention: ${k} must be a non-negative integer (got ${v})`);
    }
    if (p.dayMs !== undefined && (!Number.isFinite(p.dayMs) || p.dayMs <= 0)) {
        throw new Error(`planRetention: dayMs must be positive (got ${p.dayMs})`);
    }
}

interface Item {
    readonly b: BackupInfo;
    readonly timeline: number;
    readonly startLsn: number;
    readonly finishLsn: number;
    /** [timeline, segment] as WAL-G reads them from the backup's name: its delete order. */
    readonly key: readonly [number, number];
    /** The latest time any clock gives the backup's end: a backup counts as old only by all of them. */
    readonly doneAt: number;
}

/** WAL-G's `delete before` order: timeline first, then segment number. */
export function walgLess(a: { key: readonly [number, number] }, b: { key: readonly [number, number] }): boolean {
    return a.key[0] < b.key[0] || (a.key[0] === b.key[0] && a.key[1] < b.key[1]);
}

function normalize(backups: readonly BackupInfo[]): Item[] {
    // Names without a WAL file name (unit tests) get synthetic LSNs in start-time order.
    const byTime = [...backups].sort((a, b) => a.startTime.getTime() - b.startTime.getTime() || a.name.localeCompare(b.name));
    return byTime.map((b, i) => {
        const fromName = parseWalFileName(b.name.replace(/^base_/, ""));
        const timeline = b.timeline ?? fromName?.timeline ?? 1;
        const startLsn = b.startLsn ?? (fromName ? fromName.segno * WAL_SEGMENT_BYTES : (i + 1) * WAL_SEGMENT_BYTES);
        const finishLsn = b.finishLsn ?? startLsn;
        const key: [number, number] = fromName ? [fromName.timeline, fromName.segno] : [timeline, segmentOf(startLsn)];
        const doneAt = Math.max(b.finishTime.getTime(), b.startTime.getTime(), b.storedAt?.getTime() ?? -Infinity);
        return { b, timeline, startLsn, finishLsn, key, doneAt };
    });
}

/** Groups items (sorted oldest first) by a key, keeping the key order newest first. */
function groupsNewestFirst(sorted: readonly Item[], key: (i: Item) => number): Item[][] {
    const groups = new Map<number, Item[]>();
    for (const it of sorted) {
        const k = key(it);
        const g = groups.get(k);
        if (g) g.push(it);
        else groups.set(k, [it]);
    }
    return [...groups.entries()].sort((a, b) => b[0] - a[0]).map(([, g]) => g);
}

export function planRetention(
    backups: readonly BackupInfo[],
    now: Date,
    policy: RetentionPolicy,
    context: TimelineContext = {},
): RetentionPlan {
    checkPolicy(policy);
    const dayMs = policy.dayMs ?? DAY_MS;
    const names = new Set(backups.map((b) => b.name));
    if (names.size !== backups.length) throw new Error("planRetention: backup names must be unique");
    const items = normalize(backups);
    const newest = items[items.length - 1];
    const currentTimeline = context.currentTimeline ?? newest?.timeline ?? 1;
    const empty = {
        keep: [],
        deleteBefore: null,
        deletedByBefore: [],
        deleteTargets: [],
        anchor: null,
        promiseMet: false,
        currentTimeline,
        oldestRestorable: null,
    };
    if (items.length === 0) return empty;

    const ancestry = ancestryOf(currentTimeline, context.history);
    const onAnc = items.filter((i) => onAncestry(ancestry, i.timeline, i.startLsn, i.finishLsn));
    const restorable = restorableTest(ancestry, onAnc, context.wal, currentTimeline);

    const reasons = new Map<string, KeepReason[]>();
    const mark = (i: Item, r: KeepReason): void => {
        const list = reasons.get(i.b.name) ?? [];
        if (!list.includes(r)) list.push(r);
        reasons.set(i.b.name, list);
    };

    for (const day of groupsNewestFirst(onAnc, (i) => dayIndex(i.b.startTime, dayMs)).slice(0, policy.daily))
        mark(day[day.length - 1], "daily");
    for (const week of groupsNewestFirst(onAnc, (i) => isoWeekIndex(i.b.startTime, dayMs)).slice(0, policy.weekly)) mark(week[0], "weekly");

    const horizon = now.getTime() - policy.walDays * dayMs;
    // A permanent backup never anchors: `delete before` spares only its own WAL range, so
    // the WAL from it to the next kept backup would go and it would restore to its end only.
    const candidates = onAnc.filter((i) => !i.b.permanent && restorable(i));
    const old = candidates.filter((i) => i.doneAt <= horizon);
    const promiseMet = old.length > 0;
    const anchor = promiseMet ? old[old.length - 1] : candidates[0];
    if (anchor) mark(anchor, "pitr-anchor");
    const younger = candidates.filter((i) => i.doneAt > horizon && (!anchor || i.b.startTime.getTime() > anchor.b.startTime.getTime()));
    // Marked only where no other rule keeps the backup already: the reason says what holds it.
    for (const week of groupsNewestFirst(younger, (i) => isoWeekIndex(i.b.startTime, dayMs)))
        if (!reasons.has(week[0].b.name)) mark(week[0], "anchor-successor");
    for (const i of items) if (i.b.permanent) mark(i, "permanent");
    mark(newest, "newest");

    const ancNames = new Set(onAnc.map((i) => i.b.name));
    if (!promiseMet) {
        // Nothing at or below the anchor (older restore points before a gap) and nothing off
        // the ancestry goes while the window is short.
        for (const i of items)
            if (!reasons.has(i.b.name) && (!ancNames.has(i.b.name) || !anchor || !walgLess(anchor, i))) mark(i, "window-short");
    }

    // The cut: the kept non-permanent backup lowest in WAL-G's order. `delete before` takes
    // everything below it, so it must be kept itself and nothing kept may sort below it.
    let deleteBefore: string | null = null;
    let byBefore: Item[] = [];
    const keptSorted = items
        .filter((i) => reasons.has(i.b.name) && !i.b.permanent)
        .sort((a, b) => (walgLess(a, b) ? -1 : walgLess(b, a) ? 1 : 0));
    const cut = keptSorted[0];
    if (cut) {
        const below = items.filter((i) => !i.b.permanent && walgLess(i, cut));
        if (below.length > 0) {
            deleteBefore = cut.b.name;
            byBefore = below;
        }
    }
    const goneByBefore = new Set(byBefore.map((i) => i.b.name));
    for (const i of items) {
        if (goneByBefore.has(i.b.name) || reasons.has(i.b.name)) continue;
        if (!ancNames.has(i.b.name) && i.b.startTime.getTime() > horizon) mark(i, "other-timeline");
    }

    const keep = items.flatMap((i) => {
        const why = reasons.get(i.b.name);
        return why ? [{ name: i.b.name, reasons: why }] : [];
    });
    const deleteTargets = items.filter((i) => !reasons.has(i.b.name) && !goneByBefore.has(i.b.name)).map((i) => i.b.name);
    return {
        keep,
        deleteBefore,
        deletedByBefore: byBefore.map((i) => i.b.name),
        deleteTargets,
        anchor: anchor?.b.name ?? null,
        promiseMet,
        currentTimeline,
        oldestRestorable: anchor ? new Date(anchor.doneAt) : null,
    };
}

/** Which ancestry backups have every WAL segment from their start to the newest on the ancestry. */
function restorableTest(
    ancestry: readonly AncestryEntry[],
    onAnc: readonly Item[],
    wal: readonly WalSegment[] | undefined,
    current: number,
): (i: Item) => boolean {
    if (wal === undefined) return () => true;
    const present = new Set(wal.map((s) => segmentKey(s.timeline, s.segno)));
    let head = -1;
    for (const s of wal) if (s.timeline === current && s.segno > head) head = s.segno;
    for (const i of onAnc) head = Math.max(head, segmentOf(i.finishLsn));
    const from = contiguousWalFrom(ancestry, present, head);
    return (i) => segmentOf(i.startLsn) >= from && segmentOf(i.finishLsn) <= head;
}

export interface PromisedPoint {
    /** The backup to restore (the anchor). */
    readonly backupName: string;
    readonly timeline: number;
    /** The oldest promised point: now - walDays, or the anchor's end when the window is still short. */
    readonly targetTime: Date;
    /** False while no restorable backup is old enough (young cluster, WAL gap). */
    readonly promiseMet: boolean;
}

/**
 * The oldest point the retention promise covers right now, and the backup that reaches it:
 * what a drill of the window's far end restores (`--target-time targetTime` from
 * `backupName`). Null when no restorable backup exists.
 */
export function oldestPromisedPoint(
    backups: readonly BackupInfo[],
    now: Date,
    policy: RetentionPolicy,
    context: TimelineContext = {},
): PromisedPoint | null {
    const plan = planRetention(backups, now, policy, context);
    if (plan.anchor === null || plan.oldestRestorable === null) return null;
    const b = normalize(backups).find((i) => i.b.name === plan.anchor);
    if (!b) throw new Error(`retention plan: anchor ${plan.anchor} is not among the backups it was planned from`);
    const horizon = now.getTime() - policy.walDays * (policy.dayMs ?? DAY_MS);
    return {
        backupName: plan.anchor,
        timeline: b.timeline,
        targetTime: new Date(Math.max(horizon, plan.oldestRestorable.getTime())),
        promiseMet: plan.promiseMet,
    };
}
