/**
 * Fault tests share this: a tier per file in its own /tmp state dir and free ports (through
 * test/support/tier-harness.ts, which drives the real CLI), and small waits. A missing tool fails the
 * file (Tier.start throws): a fault test never turns into a skip.
 */
import { readdirSync, readFileSync, statSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { randomBytes } from "node:crypto";
import { sleep } from "../support/proc-tree";
import { Tier } from "../support/tier-harness";
import { walObjects } from "../support/tier-s3";

// The pinned AWS SDK warns that its 2027 releases need Node 22 (as local/cli.ts, keep it quiet).
process.removeAllListeners("warning");
process.on("warning", (w) => {
    if (!`${w.name} ${w.message}`.includes("NodeVersionSupportWarning")) process.stderr.write(`${w.name}: ${w.message}\n`);
});

/** DBTIER_FAULTS_LONG=1 (scripts/faults.sh): the long variants (2-minute outage, full WAL disk). */
export const LONG = process.env.DBTIER_FAULTS_LONG === "1";

/** A fault test deliberately breaks its tier, so a failing `down` afterwards is logged, not thrown. */
export async function startFaultTier(name: string): Promise<Tier> {
    const dir = join(tmpdir(), `dbtier-fault-${name}-${randomBytes(3).toString("hex")}`);
    return Tier.start(name, { dir, log: (l) => process.stderr.write(`[fault:${name}] ${l}\n`), onDownFailure: "log" });
}

export async function until<T>(
    what: string,
    fn: () => Promise<T | undefined | false> | T | undefined | false,
    timeoutMs: number,
    everyMs = 250,
): Promise<T> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
        const v = await fn();
        if (v !== undefined && v !== false) return v as T;
        if (Date.now() > deadline) throw new Error(`timed out after ${timeoutMs / 1000} s waiting for ${what}`);
        await sleep(everyMs);
    }
}

/** Names of the segments waiting for archiving (.ready files). */
export function readySegments(t: Tier): string[] {
    return readdirSync(join(t.l.pgData, "pg_wal", "archive_status"))
        .filter((f) => f.endsWith(".ready"))
        .map((f) => f.replace(/\.ready$/, ""))
        .sort();
}

/** WAL segment files present in pg_wal. */
export function walSegmentsOnDisk(t: Tier): string[] {
    return readdirSync(join(t.l.pgData, "pg_wal"))
        .filter((f) => /^[0-9A-F]{24}$/.test(f))
        .sort();
}

export function logSize(path: string): number {
    try {
        return statSync(path).size;
    } catch {
        return 0;
    }
}

export function logSince(path: string, from: number): string {
    try {
        return readFileSync(path).subarray(from).toString("utf8");
    } catch {
        return "";
    }
}

/** Segment names under wal_005/ in the bucket (extension stripped). */
export async function archivedSegments(t: Tier): Promise<string[]> {
    return (await walObjects(t))
        .map((o) => o.Key!.slice(o.Key!.lastIndexOf("/") + 1).replace(/\.(lz4|lzma|zst|br)$/, ""))
        .filter((k) => /^[0-9A-F]{24}$/.test(k))
        .sort();
}

export function segNo(name: string): number {
    return parseInt(name.slice(8, 16), 16) * 256 + parseInt(name.slice(16, 24), 16);
}

/** Gaps in a sorted list of segment names of one timeline: the missing names' numbers. */
export function gaps(segments: readonly string[]): number[] {
    const nums = segments.map(segNo).sort((a, b) => a - b);
    const out: number[] = [];
    for (let i = 1; i < nums.length; i++) for (let n = nums[i - 1] + 1; n < nums[i]; n++) out.push(n);
    return out;
}

/** wal-g wal-verify integrity timeline --json, with the primary connection it needs. */
export async function walVerify(t: Tier): Promise<{ integrity: string; timeline: string; raw: string }> {
    const r = await t.walg(["wal-verify", "integrity", "timeline", "--json"], { pg: true, timeoutSeconds: 300 });
    if (r.code !== 0) throw new Error(`wal-verify failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-3).join(" | ")}`);
    const j = JSON.parse(r.stdout.slice(r.stdout.indexOf("{"))) as { integrity?: { status: string }; timeline?: { status: string } };
    return { integrity: j.integrity?.status ?? "?", timeline: j.timeline?.status ?? "?", raw: r.stdout };
}

/** Backups the storage lists as restorable (what the drill chooses from). */
export async function listedBackups(t: Tier): Promise<string[]> {
    const r = await t.walg(["backup-list", "--detail", "--json"], { timeoutSeconds: 120 });
    if (r.code !== 0) throw new Error(`backup-list failed: ${r.stderr}`);
    const text = r.stdout.trim();
    return text === "" ? [] : (JSON.parse(text) as { backup_name: string }[]).map((b) => b.backup_name).sort();
}
