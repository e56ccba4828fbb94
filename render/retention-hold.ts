/**
 * Retention on hold: the fail-safe for a clock that jumps ahead together with storage's
 * (issue 20). When the object store shares the job's host clock (the dev stack's embedded
 * MinIO, a MinIO next to the database), a host clock a year ahead passes the clock check of
 * render/clock-sanity.ts: job and storage agree. Retention would then count the whole window
 * as expired and keep only what its daily and weekly counts happen to hold (the planner
 * simulation kept 20 of 30 days).
 *
 * What gives it away is the schedule: the job runs at least daily, so the backup it has just
 * pushed is at most one schedule gap after the newest earlier one, give or take missed runs.
 * A gap past `holdBoundMs` is not something the schedule explains: either the clock jumped or
 * the job was down that long. Retention cannot tell which, so it deletes nothing, and because
 * the next run would see an ordinary one-day gap (after the jumped backup) and go ahead, the
 * refusal is written down: an object `retention-hold.json` in the cluster's prefix, which every
 * later run finds and obeys until an operator, having checked the clocks, removes it
 * (docs/runbooks/restore.md §9, "Retention on hold"). No lifecycle rule covers that key. Pure.
 */

/** The hold object's key, relative to the cluster's WAL-G prefix (`<environment>/<cluster>/`). */
export const RETENTION_HOLD_OBJECT = "retention-hold.json";

const DAY_MS = 86_400_000;

/**
 * The largest gap between the newest earlier backup and the new one that the schedule
 * explains: three schedule gaps, and never under a week, so that a job down over a long
 * weekend does not need an operator. The price: a jump ahead of less than a week passes, and
 * can shorten the window by as much.
 */
export function holdBoundMs(longestScheduleGapMs: number): number {
    return Math.max(3 * longestScheduleGapMs, 7 * DAY_MS);
}

export interface StoredBackup {
    readonly name: string;
    /** When storage wrote it (its sentinel's Last-Modified), else WAL-G's finish time. */
    readonly at: Date;
}

export interface HoldReadings {
    /** Whether storage already holds RETENTION_HOLD_OBJECT for this cluster. */
    readonly holdPresent: boolean;
    /** The newest backup before the one just pushed; null for the cluster's first. */
    readonly newestEarlier: StoredBackup | null;
    readonly pushed: StoredBackup;
    /** The longest time between two runs the backup schedule allows. */
    readonly longestScheduleGapMs: number;
}

export type HoldDecision =
    | { readonly hold: false }
    | {
          readonly hold: true;
          /** True when this run found the gap and must write the hold object. */
          readonly write: boolean;
          readonly reason: string;
      };

export function decideHold(r: HoldReadings): HoldDecision {
    if (r.holdPresent)
        return {
            hold: true,
            write: false,
            reason: `retention is on hold: ${RETENTION_HOLD_OBJECT} is in the cluster's prefix (docs/runbooks/restore.md §9, "Retention on hold")`,
        };
    if (r.newestEarlier === null) return { hold: false };
    const gap = r.pushed.at.getTime() - r.newestEarlier.at.getTime();
    const bound = holdBoundMs(r.longestScheduleGapMs);
    if (gap <= bound) return { hold: false };
    const days = (ms: number) => (ms / DAY_MS).toFixed(1);
    return {
        hold: true,
        write: true,
        reason:
            `backup ${r.pushed.name} (${r.pushed.at.toISOString()}) comes ${days(gap)} days after the newest earlier one, ` +
            `${r.newestEarlier.name} (${r.newestEarlier.at.toISOString()}); the schedule runs at least every ${days(r.longestScheduleGapMs)} days, ` +
            `so more than ${days(bound)} is a clock that jumped ahead (storage's with it) or a job that was down: retention is put on hold ` +
            `(${RETENTION_HOLD_OBJECT}) until the clocks are checked (docs/runbooks/restore.md §9, "Retention on hold")`,
    };
}

/** The hold object's text: what was seen, for the operator who reads it. */
export function renderHold(decision: { readonly reason: string }, pushed: StoredBackup, newestEarlier: StoredBackup | null): string {
    return `${JSON.stringify(
        {
            reason: decision.reason,
            pushed: { name: pushed.name, at: pushed.at.toISOString() },
            newest_earlier: newestEarlier ? { name: newestEarlier.name, at: newestEarlier.at.toISOString() } : null,
        },
        null,
        2,
    )}\n`;
}
