/** Machine-readable results: one JSON file per part, with the machine and load beside the numbers. */
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import { cpus, totalmem } from "node:os";
import { join } from "node:path";
import type { loadInfo } from "./proc";
import { REPO } from "../../test/support/tier-harness";

export type PartName = "rpo" | "restore" | "codecs" | "pooling" | "pool-reset" | "archive-lag";
export const PARTS: readonly PartName[] = ["rpo", "restore", "codecs", "pooling", "pool-reset", "archive-lag"];

export interface Meta {
    readonly part: PartName;
    readonly command: string;
    readonly quick: boolean;
    readonly started_at: string;
    readonly finished_at: string;
    readonly duration_s: number;
    readonly git_commit: string;
    readonly machine: { cores: number; cpu: string; mem_gib: number; kernel: string };
    /** /proc/loadavg at the start and the end of the part (other work may share the machine). */
    readonly load_start: ReturnType<typeof loadInfo>;
    readonly load_end: ReturnType<typeof loadInfo>;
    readonly versions: Record<string, string>;
}

export interface PartResult<T> {
    readonly meta: Meta;
    readonly data: T;
}

function tryRun(cmd: string, args: string[]): string {
    try {
        return execFileSync(cmd, args, { stdio: ["ignore", "pipe", "ignore"] })
            .toString()
            .trim();
    } catch {
        return "unknown";
    }
}

export function machine(): Meta["machine"] {
    return {
        cores: cpus().length,
        cpu: cpus()[0]?.model ?? "unknown",
        mem_gib: Math.round(totalmem() / 2 ** 30),
        kernel: tryRun("uname", ["-r"]),
    };
}

export function versions(pgBin: string, walg: string, pgbouncer: string): Record<string, string> {
    return {
        postgres: tryRun(join(pgBin, "postgres"), ["--version"]),
        pgbench: tryRun(join(pgBin, "pgbench"), ["--version"]),
        pgbouncer: tryRun(pgbouncer, ["--version"]).split("\n")[0],
        walg: tryRun(walg, ["--version"]).split("\n")[0],
        pgbackrest: tryRun("pgbackrest", ["version"]),
        node: process.version,
    };
}

export function gitCommit(): string {
    const rev = tryRun("git", ["-C", REPO, "rev-parse", "--short", "HEAD"]);
    const dirty = tryRun("git", ["-C", REPO, "status", "--porcelain"]) !== "";
    return `${rev}${dirty ? " (with uncommitted changes)" : ""}`;
}

export function resultPath(dir: string, part: PartName): string {
    return join(dir, `${part}.json`);
}

export function save<T>(dir: string, r: PartResult<T>): string {
    mkdirSync(dir, { recursive: true });
    const p = resultPath(dir, r.meta.part);
    writeFileSync(p, `${JSON.stringify(r, null, 2)}\n`);
    return p;
}

export function load<T>(dir: string, part: PartName): PartResult<T> | undefined {
    const p = resultPath(dir, part);
    return existsSync(p) ? (JSON.parse(readFileSync(p, "utf8")) as PartResult<T>) : undefined;
}
