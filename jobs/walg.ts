/**
 * Invoking WAL-G from the jobs: always through walgCommand() (the env file is sourced into
 * the wal-g child only, under a time bound), and parsing what it prints.
 */
import type { BackupInfo } from "../render/retention-plan";
import { shellQuote } from "../render/quote";
import { walgCommand, type WalgInvocation } from "../render/walg-command";
import { run, type RunResult } from "./proc";

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
    // The parent's environment minus anything WAL-G or libpq would read from it.
    const base = Object.fromEntries(
        Object.entries(process.env).filter(([k]) => !/^(WALG_|AWS_|PG)/.test(k)),
    ) as NodeJS.ProcessEnv;
    // A margin over wal-g's own `timeout -k 10`, so a stuck shell is ended too.
    return run("/bin/sh", ["-c", command], {
        env: { ...base, ...(call.env ?? {}) },
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
    return { name: d.backup_name, startTime: new Date(d.start_time), finishTime: new Date(d.finish_time), permanent: d.is_permanent };
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
