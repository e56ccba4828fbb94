/**
 * The retention plan: which base backups to keep and how to delete the rest with WAL-G,
 * decided here, purely, so the backup job only executes it and the unit tests can pin it.
 *
 * Kept: the newest backup of each of the newest `daily` days that have one; the oldest
 * backup of each of the newest `weekly` ISO weeks that have one; the PITR anchor (the
 * newest backup that started at or before now - walDays, or the oldest backup when none
 * is that old), so that with every WAL segment after it each point of the window can be
 * restored; every permanent backup; and always the newest backup.
 *
 * Deleted: everything older than the oldest kept non-permanent backup, in one
 * `wal-g delete before FIND_FULL <deleteBefore> --confirm` (which also removes the WAL
 * before it, and keeps permanent backups with their own WAL); then each remaining
 * non-kept backup with `wal-g delete target <name> --confirm`, which removes only that
 * backup's objects and never WAL (verified against the pinned WAL-G by the integration
 * tests), so the WAL chain from the oldest kept backup onward stays whole.
 */
import type { RetentionPolicy } from "./job-config";

export const DAY_MS = 86_400_000;

export interface BackupInfo {
    readonly name: string;
    readonly startTime: Date;
    readonly finishTime: Date;
    readonly permanent: boolean;
}

export type KeepReason = "daily" | "weekly" | "pitr-anchor" | "permanent" | "newest";

export interface KeptBackup {
    readonly name: string;
    readonly reasons: KeepReason[];
}

export interface RetentionPlan {
    /** Kept backups, oldest first, each with why. */
    readonly keep: KeptBackup[];
    /** Argument of `delete before FIND_FULL`: null when no backup is older than it. */
    readonly deleteBefore: string | null;
    /** Backups `delete before` removes (older than deleteBefore, not permanent), oldest first. */
    readonly deletedByBefore: string[];
    /** Non-kept backups newer than deleteBefore, each removed by `delete target`, oldest first. */
    readonly deleteTargets: string[];
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
    for (const [k, v] of [["daily", p.daily], ["weekly", p.weekly], ["walDays", p.walDays]] as const) {
        if (!Number.isInteger(v) || v < 0) throw new Error(`planRetention: ${k} must be a non-negative integer (got ${v})`);
    }
    if (p.dayMs !== undefined && (!Number.isFinite(p.dayMs) || p.dayMs <= 0)) {
        throw new Error(`planRetention: dayMs must be positive (got ${p.dayMs})`);
    }
}

/** Groups backups (sorted oldest first) by a key, keeping the key order newest first. */
function groupsNewestFirst(sorted: readonly BackupInfo[], key: (b: BackupInfo) => number): BackupInfo[][] {
    const groups = new Map<number, BackupInfo[]>();
    for (const b of sorted) {
        const k = key(b);
        const g = groups.get(k);
        if (g) g.push(b);
        else groups.set(k, [b]);
    }
    return [...groups.entries()].sort((a, b) => b[0] - a[0]).map(([, g]) => g);
}

export function planRetention(backups: readonly BackupInfo[], now: Date, policy: RetentionPolicy): RetentionPlan {
    checkPolicy(policy);
    const dayMs = policy.dayMs ?? DAY_MS;
    const names = new Set(backups.map((b) => b.name));
    if (names.size !== backups.length) throw new Error("planRetention: backup names must be unique");
    if (backups.length === 0) return { keep: [], deleteBefore: null, deletedByBefore: [], deleteTargets: [] };

    const sorted = [...backups].sort((a, b) => a.startTime.getTime() - b.startTime.getTime() || a.name.localeCompare(b.name));
    const reasons = new Map<string, KeepReason[]>();
    const mark = (b: BackupInfo, r: KeepReason): void => {
        const list = reasons.get(b.name) ?? [];
        if (!list.includes(r)) list.push(r);
        reasons.set(b.name, list);
    };

    for (const day of groupsNewestFirst(sorted, (b) => dayIndex(b.startTime, dayMs)).slice(0, policy.daily)) {
        mark(day[day.length - 1], "daily");
    }
    for (const week of groupsNewestFirst(sorted, (b) => isoWeekIndex(b.startTime, dayMs)).slice(0, policy.weekly)) {
        mark(week[0], "weekly");
    }
    const horizon = now.getTime() - policy.walDays * dayMs;
    const old = sorted.filter((b) => b.startTime.getTime() <= horizon);
    mark(old.length > 0 ? old[old.length - 1] : sorted[0], "pitr-anchor");
    for (const b of sorted) if (b.permanent) mark(b, "permanent");
    mark(sorted[sorted.length - 1], "newest");

    const keep = sorted.filter((b) => reasons.has(b.name)).map((b) => ({ name: b.name, reasons: reasons.get(b.name)! }));
    // Permanent backups survive `delete before` (WAL-G skips them and their WAL), so the cut
    // is the oldest kept backup that is not permanent.
    const found = sorted.findIndex((b) => reasons.has(b.name) && !b.permanent);
    const cutIndex = found < 0 ? 0 : found;
    const olderDeletable = sorted.slice(0, cutIndex).filter((b) => !reasons.has(b.name));
    const deleteBefore = found >= 0 && olderDeletable.length > 0 ? sorted[cutIndex].name : null;
    const deleteTargets = sorted.slice(deleteBefore === null ? 0 : cutIndex + 1).filter((b) => !reasons.has(b.name)).map((b) => b.name);
    return { keep, deleteBefore, deletedByBefore: olderDeletable.map((b) => b.name), deleteTargets };
}
