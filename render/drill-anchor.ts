/**
 * Which backup an oldest-point drill restores, and to where. Pure.
 *
 * The anchor is the oldest base backup still in storage whose history leads to the current
 * timeline: on the current timeline itself, or on an ancestor and finished before the point
 * where the history left that ancestor (a backup that ends after the fork holds changes the
 * current timeline never had, and recovery refuses it). The current timeline is the highest
 * one WAL-G's wal-show reports. The restore replays to the oldest point the window promises,
 * now - window, when the anchor is older than that; to the anchor's own end otherwise.
 *
 * This is the drill's own reading of storage, kept small on purpose: the retention planner
 * (render/retention-plan.ts) is the authority on what it promises to keep, and once it exposes
 * its anchor the drill should restore exactly that.
 */

/** One backup as `wal-g backup-list --detail --json` describes it (the fields used here). */
export interface AnchorBackup {
    readonly backup_name: string;
    readonly wal_file_name: string;
    readonly start_time: string;
    readonly finish_time: string;
    readonly finish_lsn: number;
}

/** One timeline as `wal-g wal-show --detailed-json` describes it (the fields used here). */
export interface TimelineInfo {
    readonly id: number;
    readonly parent_id: number;
    readonly switch_point_lsn: number;
}

/** The timeline of a backup: the first 8 hex digits of its first WAL file's name. */
export function backupTimeline(b: AnchorBackup): number {
    const tli = Number.parseInt(b.wal_file_name.slice(0, 8), 16);
    if (!Number.isInteger(tli) || tli < 1) throw new Error(`backup ${b.backup_name}: no timeline in WAL file name "${b.wal_file_name}"`);
    return tli;
}

/**
 * The current timeline's ancestry: timeline id to the LSN where history left it (Infinity
 * for the current timeline itself).
 */
export function ancestry(timelines: readonly TimelineInfo[]): Map<number, number> {
    const out = new Map<number, number>();
    if (timelines.length === 0) return out;
    const byId = new Map(timelines.map((t) => [t.id, t]));
    let cur: TimelineInfo | undefined = [...timelines].sort((a, b) => b.id - a.id)[0];
    let leftAt = Number.POSITIVE_INFINITY;
    while (cur && !out.has(cur.id)) {
        out.set(cur.id, leftAt);
        if (!cur.parent_id) break;
        leftAt = cur.switch_point_lsn;
        cur = byId.get(cur.parent_id) ?? { id: cur.parent_id, parent_id: 0, switch_point_lsn: 0 };
    }
    return out;
}

export interface AnchorChoice {
    readonly backup: AnchorBackup;
    readonly timeline: number;
    readonly currentTimeline: number;
    /** Backups left out because their timeline is not on the current timeline's history. */
    readonly offHistory: string[];
}

/** The oldest backup on the current timeline's ancestry, or undefined when none is. */
export function chooseAnchor(backups: readonly AnchorBackup[], timelines: readonly TimelineInfo[]): AnchorChoice | undefined {
    const tree = ancestry(timelines);
    const current = tree.size > 0 ? Math.max(...timelines.map((t) => t.id)) : Math.max(0, ...backups.map(backupTimeline));
    if (tree.size === 0 && current > 0) tree.set(current, Number.POSITIVE_INFINITY);
    const offHistory: string[] = [];
    const usable = backups.filter((b) => {
        const leftAt = tree.get(backupTimeline(b));
        const ok = leftAt !== undefined && b.finish_lsn <= leftAt;
        if (!ok) offHistory.push(b.backup_name);
        return ok;
    });
    const oldest = usable.sort((a, b) => Date.parse(a.start_time) - Date.parse(b.start_time))[0];
    return oldest ? { backup: oldest, timeline: backupTimeline(oldest), currentTimeline: current, offHistory } : undefined;
}

/** Where the oldest-point restore stops: now - window when the anchor is older, else its own end. */
export function oldestTarget(anchor: AnchorBackup, now: Date, windowSeconds: number): { time: Date } | { immediate: true } {
    const windowStart = now.getTime() - windowSeconds * 1000;
    return Date.parse(anchor.finish_time) < windowStart ? { time: new Date(windowStart) } : { immediate: true };
}
