/**
 * Clock sanity before retention deletes anything (issue 15, case 3): one backup run with the
 * host clock a year ahead deleted the anchor and a third of the window, and reported success.
 *
 * Three clocks are read: the job's own; the storage's, as the Last-Modified the store gave
 * the backup the job has just pushed (its stop sentinel, the last object backup-push
 * writes, so it must match the job's clock when the push returned); and the history the
 * storage already holds (when earlier backups and the newest WAL were written). Retention
 * deletes only when they agree within `boundMs`; the time it plans with is the minimum of
 * the job's and the storage's clocks, so a clock ahead never makes a backup look older
 * than it is. The storage clock is the reference for backups written under a wrong job
 * clock: `correctBackupTimes` re-dates them by when storage says they were written.
 */
import type { BackupInfo } from "./retention-plan";

/** Default tolerance between clocks. */
export const CLOCK_BOUND_MS = 5 * 60_000;

export interface ClockReadings {
    /** The job's clock right after backup-push returned (it writes the sentinel last). */
    readonly jobAtPushEnd: Date;
    /** The job's clock now, after the push and the listings. */
    readonly jobNow: Date;
    /** Storage's Last-Modified of the pushed backup's sentinel; null when it could not be read. */
    readonly storageAtPush: Date | null;
    /** Storage's Last-Modified of every other backup's sentinel (earlier runs). */
    readonly earlierBackupsStoredAt: readonly Date[];
    /** Times WAL-G recorded for the earlier backups (their finish time, the clock of the job that took them). */
    readonly earlierBackupsFinished: readonly { name: string; finishTime: Date; storedAt?: Date }[];
    /** Storage's Last-Modified of the newest WAL object; null when there is none. */
    readonly newestWalStoredAt: Date | null;
}

export type ClockVerdict =
    | { readonly ok: true; readonly now: Date; readonly notes: string[] }
    | { readonly ok: false; readonly problems: string[]; readonly notes: string[] };

const iso = (t: number): string => new Date(t).toISOString();

export function checkClocks(r: ClockReadings, boundMs = CLOCK_BOUND_MS): ClockVerdict {
    const problems: string[] = [];
    const notes: string[] = [];
    const job0 = r.jobAtPushEnd.getTime();
    const job = r.jobNow.getTime();
    if (!Number.isFinite(job0) || !Number.isFinite(job)) problems.push("the job's clock gave no valid time");
    if (job < job0) problems.push(`the job's clock ran backwards during the run (${iso(job0)} then ${iso(job)})`);
    if (r.storageAtPush === null || !Number.isFinite(r.storageAtPush.getTime())) {
        problems.push("storage gave no time for the backup just pushed, so the job's clock cannot be checked");
    } else {
        const s = r.storageAtPush.getTime();
        // Storage stamped the sentinel moments before the push returned.
        if (Math.abs(s - job0) > boundMs) {
            problems.push(
                `the job's clock (${iso(job0)} when the push returned) and storage's (${iso(s)} for the backup just pushed) disagree by ${Math.round(Math.abs(job0 - s) / 1000)} s, more than ${boundMs / 1000} s`,
            );
        }
        for (const t of r.earlierBackupsStoredAt) {
            if (t.getTime() > s + boundMs)
                problems.push(
                    `storage holds a backup written at ${iso(t.getTime())}, after the one just pushed (${iso(s)}): time ran backwards`,
                );
        }
        if (r.newestWalStoredAt && r.newestWalStoredAt.getTime() > Math.max(s, job) + boundMs) {
            problems.push(
                `storage holds WAL written at ${iso(r.newestWalStoredAt.getTime())}, in the future of both clocks: time ran backwards`,
            );
        }
    }
    for (const b of r.earlierBackupsFinished) {
        const f = b.finishTime.getTime();
        if (f <= job + boundMs) continue;
        // A backup stamped in the future by a job whose clock was ahead: harmless when storage
        // dates it sanely (it is re-dated by correctBackupTimes); time running backwards otherwise.
        if (b.storedAt && b.storedAt.getTime() <= job + boundMs)
            notes.push(`backup ${b.name} says it finished at ${iso(f)}; storage wrote it at ${b.storedAt.toISOString()}: dated by storage`);
        else problems.push(`backup ${b.name} finished at ${iso(f)}, after the job's clock (${iso(job)}): time ran backwards`);
    }
    const storage = r.storageAtPush;
    if (problems.length > 0 || storage === null) return { ok: false, problems, notes };
    // Storage's clock now is at least what it stamped on the sentinel: the minimum of the two
    // is at or before both clocks' now (early by the seconds since the sentinel, never late).
    return { ok: true, now: new Date(Math.min(job, storage.getTime())), notes };
}

/**
 * Backups whose recorded finish and storage write time disagree by more than the bound were
 * taken under a wrong clock: their times are moved to storage's (start shifted by the same
 * amount, keeping the backup's duration). Returns the corrected list and the names moved.
 */
export function correctBackupTimes(backups: readonly BackupInfo[], boundMs = CLOCK_BOUND_MS): { backups: BackupInfo[]; moved: string[] } {
    const moved: string[] = [];
    const out = backups.map((b) => {
        if (!b.storedAt) return b;
        const shift = b.storedAt.getTime() - b.finishTime.getTime();
        if (Math.abs(shift) <= boundMs) return b;
        moved.push(b.name);
        return { ...b, startTime: new Date(b.startTime.getTime() + shift), finishTime: b.storedAt };
    });
    return { backups: out, moved };
}

/** The job's refusal, one line: what the backup record carries and the job fails with. */
export function refusalMessage(problems: readonly string[]): string {
    return `clock check failed, retention deleted nothing: ${problems.join("; ")}`;
}
