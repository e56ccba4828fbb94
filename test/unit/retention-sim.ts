/**
 * A simulated cluster and bucket for replaying retention night after night: WAL segments per
 * timeline, base backups with WAL-G's names, timeline history files, permanent marks, a
 * job clock that can jump, and the bucket's lifecycle rules applied by object age. Deletes
 * behave as WAL-G v3.0.9's do (internal/databases/postgres/delete_util.go, verified against
 * the binary by test/integration/retention*.test.ts): `delete before` removes every object
 * whose (timeline, segment) in its name sorts below the target's, except permanent backups
 * and their own WAL range; history files are never touched; `delete target` removes one
 * backup's objects and no WAL.
 *
 * The checks (restorablePointAt, ...) are written against the simulation's own record of
 * which timeline wrote each segment, not with the planner's helpers, so a planner bug cannot
 * hide in a shared function.
 */
import { checkClocks, correctBackupTimes, refusalMessage } from "../../render/clock-sanity";
import { decideHold } from "../../render/retention-hold";
import type { LifecycleRule } from "../../render/lifecycle";
import type { RetentionPolicy } from "../../render/job-config";
import type { BackupInfo, RetentionPlan, TimelineContext } from "../../render/retention-plan";
import { type HistoryLine, WAL_SEGMENT_BYTES, walFileName } from "../../render/timeline-history";

export const DAY = 86_400_000;
export const HOUR = 3_600_000;
const PREFIX = "dev/app/";
/** Segments the cluster fills per hour. */
const SEGMENTS_PER_HOUR = 1;

export type Planner = (
    backups: readonly BackupInfo[],
    now: Date,
    policy: RetentionPolicy,
    context?: TimelineContext,
) => Pick<RetentionPlan, "keep" | "deleteBefore" | "deleteTargets">;

interface SimBackup {
    readonly name: string;
    readonly timeline: number;
    readonly startSeg: number;
    readonly finishSeg: number;
    /** As WAL-G records them: the job's clock. */
    readonly startTime: Date;
    readonly finishTime: Date;
    /** Storage's time the objects were written: true time, unless hostSkewMs puts storage's clock off. */
    readonly storedAt: number;
    permanent: boolean;
    /** Storage's time its metadata object was last written (backup-mark rewrites only that). */
    metaAt: number;
    /** True time it was pushed (storedAt differs while the host clock, which storage shares, is off). */
    readonly trueAt: number;
}

export interface NightResult {
    readonly ok: boolean;
    readonly error?: string;
    readonly deleted: string[];
}

export class World {
    now: number;
    timeline = 1;
    /** The next segment to fill. */
    seg = 1;
    /** Which timeline wrote each segment of the current lineage. */
    lineage = new Map<number, number>();
    /** Every segment in the bucket: "tl:seg" -> true time it was pushed. */
    wal = new Map<string, number>();
    /** History files in the bucket: timeline -> {lines, pushed at}. */
    history = new Map<number, { lines: HistoryLine[]; at: number }>();
    backups = new Map<string, SimBackup>();
    /** Every backup ever pushed, with the timeline lineage it was written on. */
    pushed: SimBackup[] = [];
    /** True times of the restores in place. */
    switches: number[] = [];
    /** True time each deleted or expired backup went. */
    deletedAt = new Map<string, number>();
    /**
     * How far the host clock that storage shares is off true time (0: storage keeps true
     * time). A clock that jumps with storage's: render/retention-hold.ts.
     */
    hostSkewMs = 0;
    /** Whether the bucket holds the retention-hold object. */
    hold = false;
    /** Segments the permanent backups need, recorded when marked. */
    private maxTimeline = 1;

    constructor(start: number) {
        this.now = start;
    }

    /** Lets true time pass, filling segments on the current timeline. */
    advance(ms: number): void {
        const end = this.now + ms;
        const step = HOUR / SEGMENTS_PER_HOUR;
        while (this.now + step <= end) {
            this.now += step;
            this.fill();
        }
        this.now = end;
    }

    /** Storage's clock. */
    storeClock(): number {
        return this.now + this.hostSkewMs;
    }

    private fill(): void {
        this.wal.set(`${this.timeline}:${this.seg}`, this.storeClock());
        this.lineage.set(this.seg, this.timeline);
        this.seg++;
    }

    /** backup-push with the job clock `jobClock`: starts in the current segment, which it then switches. */
    pushBackup(jobClock: number): SimBackup {
        const name = `base_${walFileName({ timeline: this.timeline, segno: this.seg })}`;
        const b: SimBackup = {
            name,
            timeline: this.timeline,
            startSeg: this.seg,
            finishSeg: this.seg,
            startTime: new Date(jobClock - 60_000),
            finishTime: new Date(jobClock),
            storedAt: this.storeClock(),
            permanent: false,
            metaAt: this.storeClock(),
            trueAt: this.now,
        };
        this.fill();
        this.backups.set(name, b);
        this.pushed.push(b);
        return b;
    }

    mark(name: string): void {
        const b = this.backups.get(name);
        if (!b) throw new Error(`mark: no backup ${name}`);
        b.permanent = true;
        b.metaAt = this.storeClock();
    }

    /** Restore in place to the segment written at `targetTime`, as runbook §3 does: a new timeline. */
    pitr(targetTime: number): void {
        let target = -1;
        for (const [seg, tl] of this.lineage) if (this.wal.get(`${tl}:${seg}`)! <= targetTime && seg > target) target = seg;
        if (target < 0) throw new Error("pitr: no WAL at the target");
        const parent = this.timeline;
        const newTl = Math.max(this.maxTimeline, ...this.history.keys()) + 1;
        this.maxTimeline = newTl;
        const lines = [
            ...(this.history.get(parent)?.lines ?? []),
            { parent, switchLsn: target * WAL_SEGMENT_BYTES + WAL_SEGMENT_BYTES / 2 },
        ];
        this.history.set(newTl, { lines, at: this.storeClock() });
        for (const seg of [...this.lineage.keys()]) if (seg >= target) this.lineage.delete(seg);
        this.timeline = newTl;
        this.switches.push(this.now);
        this.seg = target; // the child rewrites the switch segment under its own timeline
        this.fill();
    }

    /** The ancestry of the current timeline as [timeline, first segment, last segment] from the lineage. */
    private expectedAt(seg: number): number | undefined {
        return this.lineage.get(seg);
    }

    /** Whether a backup in the bucket restores onto the current lineage and replays to the newest segment. */
    restorableToHead(b: SimBackup): boolean {
        if (!this.backups.has(b.name)) return false;
        for (let s = b.startSeg; s <= b.finishSeg; s++) if (this.expectedAt(s) !== b.timeline) return false;
        for (let s = b.startSeg; s < this.seg; s++) {
            const tl = this.expectedAt(s);
            if (tl === undefined || !this.wal.has(`${tl}:${s}`)) return false;
        }
        return true;
    }

    /** The oldest true time the bucket restores to on the current lineage, with WAL to now. */
    oldestRestorable(): number | null {
        let best: number | null = null;
        for (const b of this.backups.values()) if (this.restorableToHead(b) && (best === null || b.storedAt < best)) best = b.storedAt;
        return best;
    }

    onLineage(b: SimBackup): boolean {
        for (let s = b.startSeg; s <= b.finishSeg; s++) if (this.expectedAt(s) !== b.timeline) return false;
        return true;
    }

    /** Permanent backups present with their own WAL. */
    permanentIntact(): string[] {
        const broken: string[] = [];
        for (const b of this.pushed.filter((x) => x.permanent)) {
            const ok =
                this.backups.has(b.name) &&
                Array.from({ length: b.finishSeg - b.startSeg + 1 }, (_, i) => b.startSeg + i).every((s) =>
                    this.wal.has(`${b.timeline}:${s}`),
                );
            if (!ok) broken.push(b.name);
        }
        return broken;
    }

    /** Applies lifecycle expiration rules by object age (true time), as the store would. */
    applyLifecycle(rules: readonly LifecycleRule[]): void {
        const expired = (key: string, writtenAt: number): boolean =>
            rules.some(
                (r) =>
                    r.expirationDays !== undefined && key.startsWith(r.prefix) && this.storeClock() - writtenAt >= r.expirationDays * DAY,
            );
        for (const b of [...this.backups.values()]) {
            // The tar partitions and the sentinel keep their push time; only metadata.json is rewritten by a mark.
            const dataGone =
                expired(`${PREFIX}basebackups_005/${b.name}/tar_partitions/part_1.tar.lz4`, b.storedAt) ||
                expired(`${PREFIX}basebackups_005/${b.name}_backup_stop_sentinel.json`, b.storedAt);
            if (dataGone || expired(`${PREFIX}basebackups_005/${b.name}/metadata.json`, b.metaAt)) this.drop(b.name);
        }
        for (const [k, at] of [...this.wal]) {
            const [tl, seg] = k.split(":").map(Number);
            if (expired(`${PREFIX}wal_005/${walFileName({ timeline: tl, segno: seg })}.lz4`, at)) this.wal.delete(k);
        }
        for (const [tl, h] of [...this.history])
            if (expired(`${PREFIX}wal_005/${tl.toString(16).padStart(8, "0").toUpperCase()}.history.lz4`, h.at)) this.history.delete(tl);
    }

    /** `wal-g delete before FIND_FULL name`. */
    deleteBefore(name: string): void {
        const t = this.backups.get(name);
        if (!t) throw new Error(`delete before: no backup ${name}`);
        const less = (tl: number, seg: number): boolean => tl < t.timeline || (tl === t.timeline && seg < t.startSeg);
        const permanentWal = new Set<string>();
        for (const b of this.backups.values())
            if (b.permanent) for (let s = b.startSeg; s <= b.finishSeg; s++) permanentWal.add(`${b.timeline}:${s}`);
        for (const b of [...this.backups.values()]) if (!b.permanent && less(b.timeline, b.startSeg)) this.drop(b.name);
        for (const k of [...this.wal.keys()]) {
            const [tl, seg] = k.split(":").map(Number);
            if (less(tl, seg) && !permanentWal.has(k)) this.wal.delete(k);
        }
    }

    /** `wal-g delete target name`. */
    deleteTarget(name: string): void {
        const b = this.backups.get(name);
        if (!b) throw new Error(`delete target: no backup ${name}`);
        if (b.permanent) throw new Error(`delete target: ${name} is permanent`);
        this.drop(name);
    }

    private drop(name: string): void {
        this.backups.delete(name);
        this.deletedAt.set(name, this.now);
    }

    /** What `backup-list --detail --json` plus the sentinels' Last-Modified tell the job. */
    listForJob(): BackupInfo[] {
        return [...this.backups.values()].map((b) => ({
            name: b.name,
            startTime: b.startTime,
            finishTime: b.finishTime,
            permanent: b.permanent,
            timeline: b.timeline,
            startLsn: b.startSeg * WAL_SEGMENT_BYTES + 40,
            finishLsn: b.finishSeg * WAL_SEGMENT_BYTES + 4000,
            storedAt: new Date(b.storedAt),
        }));
    }

    walForJob(): { timeline: number; segno: number }[] {
        return [...this.wal.keys()].map((k) => {
            const [timeline, segno] = k.split(":").map(Number);
            return { timeline, segno };
        });
    }
}

export interface JobOptions {
    readonly planner: Planner;
    readonly policy: RetentionPolicy;
    /** The job's clock offset from the host's (storage's) clock, this run. */
    readonly skewMs?: number;
    /** The old job: no clock check, no timeline context, plans with the job's clock. */
    readonly legacy?: boolean;
    /** The job before the hold (render/retention-hold.ts): the control of its test. */
    readonly noHold?: boolean;
}

/** One run of the backup job (jobs/backup-job.ts), against the simulated bucket. */
export function runJob(w: World, o: JobOptions): NightResult {
    const job = w.storeClock() + (o.skewMs ?? 0);
    const earlier = w.listForJob();
    const pushed = w.pushBackup(job);
    const listed = w.listForJob();
    let now: Date;
    let backups: BackupInfo[] = listed;
    if (o.legacy) {
        now = new Date(job);
        backups = listed.map(({ name, startTime, finishTime, permanent }) => ({ name, startTime, finishTime, permanent }));
    } else {
        const newestWal = Math.max(...w.wal.values());
        const verdict = checkClocks({
            jobAtPushEnd: new Date(job),
            jobNow: new Date(job + 1000),
            storageAtPush: new Date(pushed.storedAt),
            earlierBackupsStoredAt: earlier.map((b) => b.storedAt!),
            earlierBackupsFinished: earlier.map((b) => ({ name: b.name, finishTime: b.finishTime, storedAt: b.storedAt })),
            newestWalStoredAt: Number.isFinite(newestWal) ? new Date(newestWal) : null,
        });
        if (!verdict.ok) return { ok: false, error: refusalMessage(verdict.problems), deleted: [] };
        // As jobs/backup-job.ts: a gap the daily schedule cannot explain holds retention.
        const stored = (b: BackupInfo) => ({ name: b.name, at: b.storedAt ?? b.finishTime });
        const newestEarlier = earlier.map(stored).sort((a, b) => b.at.getTime() - a.at.getTime())[0] ?? null;
        const hold = o.noHold
            ? ({ hold: false } as const)
            : decideHold({
                  holdPresent: w.hold,
                  newestEarlier,
                  pushed: { name: pushed.name, at: new Date(pushed.storedAt) },
                  longestScheduleGapMs: DAY,
              });
        if (hold.hold) {
            if (hold.write) w.hold = true;
            return { ok: false, error: `retention deleted nothing: ${hold.reason}`, deleted: [] };
        }
        now = verdict.now;
        backups = correctBackupTimes(listed).backups;
    }
    const context = o.legacy ? undefined : { currentTimeline: w.timeline, history: w.history.get(w.timeline)?.lines, wal: w.walForJob() };
    const plan = o.planner(backups, now, o.policy, context);
    if (!plan.keep.some((k) => k.name === pushed.name)) return { ok: false, error: "plan would delete the new backup", deleted: [] };
    const deleted: string[] = [];
    const before = new Set(w.backups.keys());
    if (plan.deleteBefore) w.deleteBefore(plan.deleteBefore);
    for (const t of plan.deleteTargets) {
        if (w.backups.has(t)) w.deleteTarget(t);
    }
    for (const n of before) if (!w.backups.has(n)) deleted.push(n);
    return { ok: true, deleted };
}

/** A small seeded PRNG (mulberry32): the same seed replays the same nights. */
export function prng(seed: number): () => number {
    let a = seed >>> 0;
    return () => {
        a = (a + 0x6d2b79f5) >>> 0;
        let t = a;
        t = Math.imul(t ^ (t >>> 15), t | 1);
        t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}
