/**
 * PostgreSQL timelines, purely: WAL file names, LSNs, and the `.history` files WAL-G archives
 * into wal_005/ when a restore promotes. A restore in place (runbook §3) starts timeline N+1
 * in the same prefix; from then on only what lies on the new timeline's ancestry can be
 * restored to a point on it ("requested timeline 2 is not a child of this server's history").
 *
 * A history file of timeline N lists, one line per ancestor, `<parent tli> <switch LSN> <reason>`:
 * the parent's WAL up to the switch point belongs to N's history, the rest of the parent
 * (written after the branch by the server that was abandoned) does not.
 */

/** Bytes per WAL segment: the tier never changes initdb's default. */
export const WAL_SEGMENT_BYTES = 16 * 1024 * 1024;
const SEGMENTS_PER_XLOGID = 0x1_0000_0000 / WAL_SEGMENT_BYTES;

export interface WalSegment {
    readonly timeline: number;
    /** Segment number (LSN / segment size). */
    readonly segno: number;
}

/** One stretch of the current timeline's ancestry: `timeline` from beginLsn up to endLsn (null = still running). */
export interface AncestryEntry {
    readonly timeline: number;
    readonly beginLsn: number;
    readonly endLsn: number | null;
}

export interface HistoryLine {
    readonly parent: number;
    readonly switchLsn: number;
}

/** "16/B374D848" → 0x16B374D848. */
export function parseLsn(text: string): number {
    const m = /^([0-9A-Fa-f]{1,8})\/([0-9A-Fa-f]{1,8})$/.exec(text.trim());
    if (!m) throw new Error(`not an LSN: "${text}"`);
    return parseInt(m[1], 16) * 0x1_0000_0000 + parseInt(m[2], 16);
}

export function formatLsn(lsn: number): string {
    return `${Math.floor(lsn / 0x1_0000_0000)
        .toString(16)
        .toUpperCase()}/${(lsn % 0x1_0000_0000).toString(16).toUpperCase()}`;
}

export function segmentOf(lsn: number): number {
    return Math.floor(lsn / WAL_SEGMENT_BYTES);
}

/** "000000020000000100000003" → timeline 2, segment 0x103 (with 16 MiB segments). */
export function parseWalFileName(name: string): WalSegment | null {
    const m = /^([0-9A-F]{8})([0-9A-F]{8})([0-9A-F]{8})/.exec(name);
    if (!m) return null;
    const seg = parseInt(m[3], 16);
    if (seg >= SEGMENTS_PER_XLOGID) return null;
    return { timeline: parseInt(m[1], 16), segno: parseInt(m[2], 16) * SEGMENTS_PER_XLOGID + seg };
}

export function walFileName(s: WalSegment): string {
    const hex = (n: number): string => n.toString(16).toUpperCase().padStart(8, "0");
    return `${hex(s.timeline)}${hex(Math.floor(s.segno / SEGMENTS_PER_XLOGID))}${hex(s.segno % SEGMENTS_PER_XLOGID)}`;
}

/** "00000002.history" → 2; anything else → null. */
export function historyFileTimeline(name: string): number | null {
    const m = /^([0-9A-F]{8})\.history/.exec(name);
    return m ? parseInt(m[1], 16) : null;
}

/**
 * Parses a timeline history file. Comment and blank lines are skipped as PostgreSQL does;
 * parents must increase and switch points must not go backwards, or the file is refused.
 */
export function parseTimelineHistory(text: string): HistoryLine[] {
    const lines: HistoryLine[] = [];
    for (const raw of text.split("\n")) {
        const line = raw.trim();
        if (line === "" || line.startsWith("#")) continue;
        const m = /^(\d+)\s+([0-9A-Fa-f]{1,8}\/[0-9A-Fa-f]{1,8})(\s|$)/.exec(line);
        if (!m) throw new Error(`timeline history: unreadable line "${line}"`);
        const entry = { parent: Number(m[1]), switchLsn: parseLsn(m[2]) };
        const prev = lines[lines.length - 1];
        if (prev && (entry.parent <= prev.parent || entry.switchLsn < prev.switchLsn)) {
            throw new Error(`timeline history: line "${line}" does not follow the one before it`);
        }
        lines.push(entry);
    }
    return lines;
}

/**
 * The ancestry of `current`, oldest first, from its history file (undefined for timeline 1,
 * which has none). Without the history file of a timeline above 1, PostgreSQL itself assumes
 * it has no parent, so nothing of an older timeline can be restored onto it: the ancestry
 * is then the timeline alone.
 */
export function ancestryOf(current: number, history: readonly HistoryLine[] | undefined): AncestryEntry[] {
    if (!Number.isInteger(current) || current < 1) throw new Error(`ancestryOf: bad timeline ${current}`);
    const lines = current === 1 ? [] : (history ?? []);
    const out: AncestryEntry[] = [];
    let begin = 0;
    for (const l of lines) {
        if (l.parent >= current) throw new Error(`timeline history of ${current} names parent ${l.parent}`);
        out.push({ timeline: l.parent, beginLsn: begin, endLsn: l.switchLsn });
        begin = l.switchLsn;
    }
    out.push({ timeline: current, beginLsn: begin, endLsn: null });
    return out;
}

/**
 * Whether a backup (its timeline and WAL range) lies on the ancestry: its timeline is an
 * ancestor and the backup was consistent before that timeline branched off.
 */
export function onAncestry(ancestry: readonly AncestryEntry[], timeline: number, startLsn: number, finishLsn: number): boolean {
    return ancestry.some((e) => e.timeline === timeline && startLsn >= e.beginLsn && (e.endLsn === null || finishLsn <= e.endLsn));
}

/**
 * The timeline whose file PostgreSQL reads for a segment while replaying along the ancestry:
 * the newest timeline that had begun by that segment (the segment holding a switch point is
 * read from the child, which copied the parent's part of it).
 */
export function expectedTimeline(ancestry: readonly AncestryEntry[], segno: number): number {
    let tli = ancestry[0].timeline;
    for (const e of ancestry) if (segmentOf(e.beginLsn) <= segno) tli = e.timeline;
    return tli;
}

/**
 * The lowest segment from which every segment up to `head` is present on the ancestry
 * (head + 1 when even head is missing): a backup starting at or above it can be restored to
 * any point up to the end of `head`.
 */
export function contiguousWalFrom(ancestry: readonly AncestryEntry[], present: ReadonlySet<string>, head: number): number {
    let n = head;
    while (n >= 0 && present.has(segmentKey(expectedTimeline(ancestry, n), n))) n--;
    return n + 1;
}

export function segmentKey(timeline: number, segno: number): string {
    return `${timeline}:${segno}`;
}
