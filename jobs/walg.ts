/**
 * Invoking WAL-G from the jobs: always through walgCommand() (the env file is sourced into
 * the wal-g child only, under a time bound), and parsing what it prints.
 */
import type { BackupInfo } from "../render/retention-plan";
import { shellQuote } from "../render/quote";
import { walgCommand, type WalgInvocation } from "../render/walg-command";
import { minimalEnv, run, type RunResult } from "./proc";

export interface WalgCall {
    readonly timeoutSeconds: number;
    /** Extra environment for the wal-g child (PGHOST and friends). */
    readonly env?: Readonly<Record<string, string>>;
    /** Settings that must win over the env file (set after it is sourced, via env(1)). */
    readonly overrides?: Readonly<Record<string, string>>;
    readonly onLine?: (line: string, stream: "stdout" | "stderr") => void;
}

export function walg(w: WalgInvocation, args: readonly string[], call: WalgCall): Promise<RunResult> {
    const quoted = args.map(shellQuote).join(" ");
    const overrides = Object.entries(call.overrides ?? {});
    const command =
        overrides.length === 0
            ? walgCommand(w, call.timeoutSeconds, quoted)
            : walgCommand(
                  { walgBinary: "env", walgEnvFile: w.walgEnvFile },
                  call.timeoutSeconds,
                  `${overrides.map(([k, v]) => shellQuote(`${k}=${v}`)).join(" ")} ${shellQuote(w.walgBinary)} ${quoted}`,
              );
    // A margin over wal-g's own `timeout -k 10`, so a stuck shell is ended too. Nothing of the
    // parent's environment (DSNs, the caller's AWS_* keys, which WAL-G would prefer to its
    // env file's) reaches wal-g: only the system PATH, the locale and what the call names.
    return run("/bin/sh", ["-c", command], {
        env: minimalEnv(call.env ?? {}),
        timeoutMs: (call.timeoutSeconds + 30) * 1000,
        onLine: call.onLine,
    });
}

/** One entry of `wal-g backup-list --detail --json`. */
export interface WalgBackupDetail {
    readonly backup_name: string;
    readonly time: string;
    readonly wal_file_name: string;
    readonly start_time: string;
    readonly finish_time: string;
    readonly is_permanent: boolean;
    readonly compressed_size: number;
    readonly uncompressed_size: number;
    readonly start_lsn: number;
    readonly finish_lsn: number;
    readonly pg_version: number;
}

/** Parses backup-list --detail --json; WAL-G prints nothing on stdout when there is no backup. */
export function parseBackupList(stdout: string): WalgBackupDetail[] {
    const text = stdout.trim();
    if (text === "") return [];
    const parsed: unknown = JSON.parse(text);
    if (!Array.isArray(parsed)) throw new Error("backup-list --json did not print an array");
    return parsed as WalgBackupDetail[];
}

export function toBackupInfo(d: WalgBackupDetail): BackupInfo {
    const lsn = (v: unknown): number | undefined => (typeof v === "number" && Number.isFinite(v) ? v : undefined);
    return {
        name: d.backup_name,
        startTime: new Date(d.start_time),
        finishTime: new Date(d.finish_time),
        permanent: d.is_permanent,
        timeline: backupTimeline(d),
        startLsn: lsn(d.start_lsn),
        finishLsn: lsn(d.finish_lsn),
    };
}

export async function listBackups(w: WalgInvocation, timeoutSeconds: number): Promise<WalgBackupDetail[]> {
    const r = await walg(w, ["backup-list", "--detail", "--json"], { timeoutSeconds });
    if (r.code !== 0) throw new Error(`wal-g backup-list failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-2).join(" | ")}`);
    return parseBackupList(r.stdout);
}

/** The backup name WAL-G reports after a successful backup-push. */
export function pushedBackupName(output: string): string | undefined {
    return /Wrote backup with name (\S+)/.exec(output)?.[1];
}

export interface WalVerifyCheck {
    readonly status: string;
    readonly details: unknown;
}

export interface WalVerifyResult {
    readonly integrity?: WalVerifyCheck;
    readonly timeline?: WalVerifyCheck;
}

export function parseWalVerify(stdout: string): WalVerifyResult {
    const start = stdout.indexOf("{");
    if (start < 0) throw new Error("wal-verify --json printed no JSON");
    return JSON.parse(stdout.slice(start)) as WalVerifyResult;
}

/** One object of `wal-g st ls`: its name inside the listed folder and storage's Last-Modified. */
export interface StoredObject {
    readonly name: string;
    readonly size: number;
    readonly modified: Date;
}

/**
 * Parses `wal-g st ls FOLDER` (v3.0.9 internal/storagetools/folder_list_handler.go: a
 * tabwriter table "type size last-modified name", the time in Go's time.Time format,
 * e.g. "2026-12-01 21:30:00.123 +0000 UTC"). Directories are skipped.
 */
export function parseStorageListing(stdout: string): StoredObject[] {
    const out: StoredObject[] = [];
    for (const line of stdout.split("\n")) {
        const m = /^obj\s+(\d+)\s+(\d{4}-\d\d-\d\d) (\d\d:\d\d:\d\d(?:\.\d+)?) ([+-]\d\d)(\d\d) \S+\s+(\S+)/.exec(line);
        if (!m) continue;
        const modified = new Date(`${m[2]}T${m[3]}${m[4]}:${m[5]}`);
        if (Number.isNaN(modified.getTime())) throw new Error(`wal-g st ls: unreadable time in "${line}"`);
        out.push({ name: m[6], size: Number(m[1]), modified });
    }
    return out;
}

/** Objects directly in a folder of the WAL-G prefix (e.g. "wal_005/"; "" for the prefix itself). */
export async function listStorage(w: WalgInvocation, folder: string, timeoutSeconds: number): Promise<StoredObject[]> {
    const r = await walg(w, folder === "" ? ["st", "ls"] : ["st", "ls", folder], { timeoutSeconds });
    if (r.code !== 0)
        throw new Error(`wal-g st ls ${folder} failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-2).join(" | ")}`);
    return parseStorageListing(r.stdout);
}

/** A WAL segment file of wal_005/ (compressed or not); not .backup, .history or .partial files. */
export function segmentFileName(name: string): string | null {
    return /^([0-9A-F]{24})(\.(lz4|lzma|zst|br|gz))?$/.exec(name)?.[1] ?? null;
}

/** The timeline of a backup: the first 8 hex digits of its WAL file name. */
export function backupTimeline(d: Pick<WalgBackupDetail, "wal_file_name" | "backup_name">): number {
    const m = /^([0-9A-F]{8})[0-9A-F]{16}/.exec(d.wal_file_name ?? "") ?? /^base_([0-9A-F]{8})[0-9A-F]{16}/.exec(d.backup_name);
    if (!m) throw new Error(`backup ${d.backup_name}: no timeline in its WAL file name "${d.wal_file_name}"`);
    return parseInt(m[1], 16);
}

/**
 * The history file of a timeline through `wal-g wal-fetch` (it decrypts and decompresses),
 * or null when storage has none (exit 74, as for a missing segment).
 */
export async function fetchHistoryFile(
    w: WalgInvocation,
    timeline: number,
    scratchFile: string,
    timeoutSeconds: number,
): Promise<string | null> {
    const name = `${timeline.toString(16).toUpperCase().padStart(8, "0")}.history`;
    const r = await walg(w, ["wal-fetch", name, scratchFile], { timeoutSeconds });
    if (r.code === 74) return null;
    if (r.code !== 0)
        throw new Error(`wal-g wal-fetch ${name} failed (exit ${r.code}): ${r.stderr.trim().split("\n").slice(-2).join(" | ")}`);
    const { readFileSync, rmSync } = await import("node:fs");
    try {
        return readFileSync(scratchFile, "utf8");
    } finally {
        rmSync(scratchFile, { force: true });
    }
}
