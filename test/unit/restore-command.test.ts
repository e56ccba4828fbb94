/**
 * The rendered restore_command, run by /bin/sh against a stand-in wal-g: only "this segment
 * is not in the archive" ends recovery normally (exit 1); every other failure is fatal (200).
 */
import { chmodSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { spawnSync } from "node:child_process";
import { afterAll, describe, expect, it } from "vitest";
import { restoreCommand } from "../../render/postgresql-conf";

const dirs: string[] = [];
afterAll(() => {
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function setup(script: string): { dir: string; command: (f: string, p: string) => string } {
    const dir = mkdtempSync(join(tmpdir(), "dbtier-restorecmd-"));
    dirs.push(dir);
    const walg = join(dir, "wal-g");
    // `wal-g st check read` (the storage-readable check after a "missing") succeeds unless the script handles "st" itself.
    writeFileSync(walg, `#!/bin/sh\n${script.includes('"$1" = st') ? "" : '[ "$1" = st ] && exit 0\n'}${script}\n`);
    chmodSync(walg, 0o755);
    const env = join(dir, "walg.env");
    writeFileSync(env, "WALG_S3_PREFIX='s3://bucket/env/app'\n");
    const template = restoreCommand({ walgBinary: walg, walgEnvFile: env, rpoSeconds: 60, pushTimeoutSeconds: 5, fetchTimeoutSeconds: 1 });
    return { dir, command: (f, p) => template.replace(/%f/g, f).replace(/%p/g, p) };
}

const sh = (command: string): { status: number | null; stderr: string } => {
    const r = spawnSync("/bin/sh", ["-c", command], { encoding: "utf8" });
    return { status: r.status, stderr: r.stderr };
};

describe("restore_command", () => {
    it("exits 0 when wal-fetch fetched the segment, and passes WAL-G's stderr on", () => {
        const { dir, command } = setup(`echo "prefix=$WALG_S3_PREFIX" >&2; echo data > "$3"`);
        const r = sh(command("000000010000000000000003", join(dir, "RECOVERYXLOG")));
        expect(r.status).toBe(0);
        expect(r.stderr).toContain("prefix=s3://bucket/env/app");
        expect(readFileSync(join(dir, "RECOVERYXLOG"), "utf8")).toBe("data\n");
    });

    it("exits 1 (end of archive) for WAL-G's exit 74", () => {
        const { command } = setup("exit 74");
        expect(sh(command("000000010000000000000003", "/tmp/x")).status).toBe(1);
    });

    it("delivers <segment>.partial when the full segment is missing (the streaming receiver's upload)", () => {
        const { dir, command } = setup(`case "$2" in *.partial) echo partial > "$3" ;; *) exit 74 ;; esac`);
        const r = sh(command("000000010000000000000003", join(dir, "RECOVERYXLOG")));
        expect(r.status).toBe(0);
        expect(readFileSync(join(dir, "RECOVERYXLOG"), "utf8")).toBe("partial\n");
    });

    it("prefers the full segment: .partial is never asked for when the segment exists", () => {
        const { dir, command } = setup(`case "$2" in *.partial) exit 99 ;; *) echo full > "$3" ;; esac`);
        const r = sh(command("000000010000000000000003", join(dir, "RECOVERYXLOG")));
        expect(r.status).toBe(0);
        expect(readFileSync(join(dir, "RECOVERYXLOG"), "utf8")).toBe("full\n");
    });

    it("asks for no .partial of a history file, and ends recovery when neither exists", () => {
        const asked = (dir: string): string => readFileSync(join(dir, "asked"), "utf8");
        const a = setup(`echo "$2" >> "$(dirname "$0")/asked"; exit 74`);
        expect(sh(a.command("00000002.history", "/tmp/x")).status).toBe(1);
        expect(asked(a.dir)).toBe("00000002.history\n");
        const b = setup(`echo "$2" >> "$(dirname "$0")/asked"; exit 74`);
        expect(sh(b.command("000000010000000000000003", "/tmp/x")).status).toBe(1);
        expect(asked(b.dir)).toBe("000000010000000000000003\n000000010000000000000003.partial\n");
    });

    it("stops recovery when the segment is missing and fetching its .partial fails", () => {
        const { command } = setup(`case "$2" in *.partial) echo "connection refused" >&2; exit 1 ;; *) exit 74 ;; esac`);
        const r = sh(command("000000010000000000000003", "/tmp/x"));
        expect(r.status).toBe(200);
        expect(r.stderr).toContain("connection refused");
    });

    it("stops recovery when wal-fetch says missing but the storage is not readable (v3.0.9 exits 74 for a missing bucket)", () => {
        const { command } = setup(`if [ "$1" = st ]; then echo "NoSuchBucket" >&2; exit 1; fi; exit 74`);
        const r = sh(command("000000010000000000000003", "/tmp/x"));
        expect(r.status).toBe(200);
        expect(r.stderr).toContain("storage is not readable");
    });

    it("stops recovery (exit 200) for any other failure", () => {
        for (const script of [
            `echo "NoSuchBucket: The specified bucket does not exist" >&2; exit 1`,
            // WAL-G v1's wording for a missing file, with exit 1: v3 exits 74 for that, so an
            // exit 1 is some other failure whatever it prints.
            `echo "ERROR: 2026/11/21 23:39:55 Archive '$2' does not exist." >&2; exit 1`,
            `echo "failed to decompress archive reader: corrupted chunk" >&2; exit 1`,
            "exit 2",
            "sleep 30",
        ]) {
            const { command } = setup(script);
            const r = sh(command("000000010000000000000003", "/tmp/x"));
            expect(r.status, script).toBe(200);
            expect(r.stderr).toContain("stopping recovery");
        }
    }, 60_000);

    it("stops recovery when the env file cannot be read", () => {
        const { command } = setup("exit 0");
        const r = sh(command("000000010000000000000003", "/tmp/x").replace(/walg\.env/g, "missing.env"));
        expect(r.status).toBe(200);
    });
});
