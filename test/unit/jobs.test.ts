import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configFiles, pgTimestamp, renderRecoveryConf, renderRecoveryHba } from "../../jobs/instance";
import { secretValuesOf, TextLog } from "../../jobs/log";
import { chooseBackup, parseDrillArgs } from "../../jobs/restore-drill";
import { runSchedule } from "../../jobs/scheduler";
import { parseBackupList, parseWalVerify, pushedBackupName, toBackupInfo, type WalgBackupDetail } from "../../jobs/walg";

const detail = (name: string, start: string, finish: string, permanent = false): WalgBackupDetail => ({
    backup_name: name,
    time: finish,
    wal_file_name: name.slice(5),
    start_time: start,
    finish_time: finish,
    is_permanent: permanent,
    compressed_size: 10,
    uncompressed_size: 20,
    start_lsn: 1,
    finish_lsn: 2,
    pg_version: 150020,
});

describe("WAL-G output parsing", () => {
    it("reads backup-list --detail --json, and nothing when there is no backup", () => {
        const one = detail("base_000000010000000000000002", "2027-01-01T02:00:00.5Z", "2027-01-01T02:01:00Z", true);
        expect(parseBackupList(`${JSON.stringify([one])}\n`)).toEqual([one]);
        expect(parseBackupList("")).toEqual([]);
        expect(toBackupInfo(one)).toEqual({ name: one.backup_name, startTime: new Date("2027-01-01T02:00:00.5Z"), finishTime: new Date("2027-01-01T02:01:00Z"), permanent: true });
        expect(() => parseBackupList("{}")).toThrow(/array/);
    });

    it("finds the pushed backup's name and parses wal-verify --json", () => {
        expect(pushedBackupName("INFO: 2026/11/21 23:39:53.529634 Wrote backup with name base_000000010000000000000002\n")).toBe("base_000000010000000000000002");
        expect(pushedBackupName("nothing")).toBeUndefined();
        expect(parseWalVerify('INFO: x\n{"integrity":{"status":"OK","details":null},"timeline":{"status":"OK","details":{}}}')).toEqual({
            integrity: { status: "OK", details: null },
            timeline: { status: "OK", details: {} },
        });
    });
});

describe("restore drill choices", () => {
    const backups = [
        detail("base_a", "2027-01-01T02:00:00Z", "2027-01-01T02:10:00Z"),
        detail("base_b", "2027-01-02T02:00:00Z", "2027-01-02T02:10:00Z"),
        detail("base_c", "2027-01-03T02:00:00Z", "2027-01-03T02:10:00Z"),
    ];

    it("restores the newest backup, or the newest that finished at or before the target", () => {
        expect(chooseBackup(backups)?.backup_name).toBe("base_c");
        expect(chooseBackup(backups, new Date("2027-01-02T02:10:00Z"))?.backup_name).toBe("base_b");
        // Started before the target but still running at it: cannot reach the target.
        expect(chooseBackup(backups, new Date("2027-01-03T02:05:00Z"))?.backup_name).toBe("base_b");
        expect(chooseBackup(backups, new Date("2027-01-01T02:05:00Z"))).toBeUndefined();
        expect(chooseBackup([])).toBeUndefined();
    });

    it("parses --target-time and --keep-port, and rejects anything else", () => {
        expect(parseDrillArgs(["--target-time", "2027-01-01T10:00:00Z", "--keep-port", "25432"])).toEqual({ targetTime: new Date("2027-01-01T10:00:00Z"), keepPort: 25432 });
        expect(parseDrillArgs([])).toEqual({});
        expect(() => parseDrillArgs(["--target-time", "yesterday"])).toThrow(/ISO 8601/);
        expect(() => parseDrillArgs(["--keep-port", "0"])).toThrow(/port/);
        expect(() => parseDrillArgs(["--purge"])).toThrow(/unknown argument/);
    });

    it("renders a recovery config that never archives and listens on its scratch socket only", () => {
        const spec = { pgBinDir: "/usr/lib/postgresql/15/bin", scratchDir: "/scratch", walgBinary: "/usr/local/bin/wal-g", walgEnvFile: "/run/db-tier/walg.env" };
        const conf = renderRecoveryConf(spec, new Date("2027-01-15T09:30:00.250Z"));
        expect(conf).toContain("listen_addresses = ''");
        expect(conf).toContain("unix_socket_directories = '/scratch'");
        expect(conf.indexOf("archive_mode = 'off'")).toBeGreaterThan(conf.indexOf("archive_mode = on"));
        expect(conf).toContain("hot_standby = 'off'");
        expect(conf).toContain("recovery_target_action = 'promote'");
        expect(conf).toContain("recovery_target_time = '2027-01-15 09:30:00.250+00'");
        expect(conf).toMatch(/restore_command = '.*wal-fetch "%f" "%p"/);
        expect(renderRecoveryConf(spec)).not.toContain("recovery_target_time =");
        expect(renderRecoveryHba(spec).trim().split("\n").slice(1)).toEqual(["local all all trust"]);
        const kept = { ...spec, keepPort: 25432 };
        expect(renderRecoveryConf(kept)).toContain("listen_addresses = '127.0.0.1'");
        expect(renderRecoveryHba(kept)).toContain("host all all 0.0.0.0/0 scram-sha-256");
        expect(renderRecoveryHba(kept)).not.toMatch(/\b(md5|password)\b|host .* trust/);
        expect(Object.keys(configFiles(spec))).toEqual(["/scratch/postgresql.conf", "/scratch/pg_hba.conf", "/scratch/data/recovery.signal"]);
        expect(pgTimestamp(new Date("2027-01-15T09:30:00Z"))).toBe("2027-01-15 09:30:00.000+00");
    });
});

describe("job logs", () => {
    it("masks the env file's secrets in restore.log", () => {
        const dir = mkdtempSync(join(tmpdir(), "dbtier-log-"));
        const env = join(dir, "walg.env");
        writeFileSync(env, "WALG_S3_PREFIX='s3://b/p'\nAWS_SECRET_ACCESS_KEY='sup3r-secret-value'\nWALG_LIBSODIUM_KEY='00ff00ff00ff00ff'\nWALG_LIBSODIUM_KEY_TRANSFORM='hex'\nAWS_ACCESS_KEY_ID='AKIA'\\''EXAMPLE'\nWALG_COMPRESSION_METHOD='lz4'\n");
        const secrets = secretValuesOf(env);
        expect(secrets).toEqual(["sup3r-secret-value", "00ff00ff00ff00ff", "AKIA'EXAMPLE"]);
        const lines: string[] = [];
        const log = new TextLog(secrets, (l) => lines.push(l));
        log.add("key=00ff00ff00ff00ff secret=sup3r-secret-value");
        log.addBlock("[x]", "a\n\nb");
        expect(log.text()).not.toMatch(/sup3r|00ff00/);
        expect(log.text()).toContain("[redacted]");
        expect(lines).toHaveLength(3);
        expect(secretValuesOf(join(dir, "missing"))).toEqual([]);
        rmSync(dir, { recursive: true, force: true });
    });
});

describe("scheduler loop", () => {
    it("sleeps until each nextRun of the schedule, runs the job, and logs JSON objects", async () => {
        let clock = Date.parse("2027-01-01T01:59:30Z");
        const runs: string[] = [];
        const logs: Record<string, unknown>[] = [];
        await runSchedule("backup", "0 2 * * *", {
            now: () => new Date(clock),
            sleep: async (ms) => {
                clock += ms;
            },
            runOnce: async () => {
                runs.push(new Date(clock).toISOString());
                clock += 60_000;
                return runs.length === 1;
            },
            log: (o) => logs.push(o),
            maxRuns: 2,
        });
        expect(runs).toEqual(["2027-01-01T02:00:00.000Z", "2027-01-02T02:00:00.000Z"]);
        expect(logs.filter((l) => "next_run" in l).map((l) => l.next_run)).toEqual(["2027-01-01T02:00:00.000Z", "2027-01-02T02:00:00.000Z"]);
        expect(logs.filter((l) => "ok" in l).map((l) => l.ok)).toEqual([true, false]);
    });

    it("keeps going when a run throws, and stops when asked", async () => {
        let clock = Date.parse("2027-01-01T00:00:00Z");
        let stop = false;
        const logs: Record<string, unknown>[] = [];
        await runSchedule("drill", "*/5 * * * *", {
            now: () => new Date(clock),
            sleep: async (ms) => {
                clock += ms;
            },
            runOnce: async () => {
                stop = true;
                throw new Error("boom");
            },
            log: (o) => logs.push(o),
            stopped: () => stop,
        });
        expect(logs.some((l) => l.error === "boom")).toBe(true);
        expect(logs.filter((l) => "ok" in l)).toEqual([expect.objectContaining({ ok: false })]);
    });
});
