import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { describe, expect, it } from "vitest";
import { configFiles, pgTimestamp, renderRecoveryConf, renderRecoveryHba } from "../../jobs/instance";
import { secretValuesOf, TextLog } from "../../jobs/log";
import { chooseBackup, parseDrillArgs } from "../../jobs/restore-drill";
import { dataGate } from "../../jobs/drill-checks";
import { jobsOf, runSchedule, runSchedules } from "../../jobs/scheduler";
import { evidenceKeyPrefix } from "../../render/job-config";
import { ancestry, type AnchorBackup, chooseAnchor, oldestTarget, type TimelineInfo } from "../../render/drill-anchor";
import {
    DRILL_ROLE,
    MIGRATIONS_VERSION_SQL,
    migrationsRefusal,
    parseCounts,
    renderCopyCount,
    renderCountQuery,
    renderCreateDrillRole,
    renderDatabaseSetup,
    renderDisableEventTriggers,
    renderSchemaQuery,
    rowCountKey,
    sessionOptions,
    TABLE_FACTS_SQL,
    type TableFacts,
} from "../../render/drill-sql";
import type { DrillJobConfig } from "../../render/job-config";
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
        expect(toBackupInfo(one)).toEqual({
            name: one.backup_name,
            startTime: new Date("2027-01-01T02:00:00.5Z"),
            finishTime: new Date("2027-01-01T02:01:00Z"),
            permanent: true,
            timeline: 1,
            startLsn: 1,
            finishLsn: 2,
        });
        expect(() => parseBackupList("{}")).toThrow(/array/);
    });

    it("finds the pushed backup's name and parses wal-verify --json", () => {
        expect(pushedBackupName("INFO: 2026/11/21 23:39:53.529634 Wrote backup with name base_000000010000000000000002\n")).toBe(
            "base_000000010000000000000002",
        );
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
        expect(parseDrillArgs(["--target-time", "2027-01-01T10:00:00Z", "--keep-port", "25432"])).toEqual({
            targetTime: new Date("2027-01-01T10:00:00Z"),
            keepPort: 25432,
        });
        expect(parseDrillArgs([])).toEqual({});
        expect(() => parseDrillArgs(["--target-time", "yesterday"])).toThrow(/ISO 8601/);
        expect(() => parseDrillArgs(["--keep-port", "0"])).toThrow(/port/);
        expect(() => parseDrillArgs(["--purge"])).toThrow(/unknown argument/);
        expect(parseDrillArgs(["--point", "oldest", "--keep-port", "25432"])).toEqual({ point: "oldest", keepPort: 25432 });
        expect(parseDrillArgs(["--point", "newest"])).toEqual({ point: "newest" });
        expect(() => parseDrillArgs(["--point", "middle"])).toThrow(/newest or oldest/);
        expect(() => parseDrillArgs(["--point", "oldest", "--target-time", "2027-01-01T10:00:00Z"])).toThrow(/no --target-time/);
    });

    it("renders a recovery config that never archives and listens on its scratch socket only", () => {
        const spec = {
            pgBinDir: "/usr/lib/postgresql/15/bin",
            scratchDir: "/scratch",
            walgBinary: "/usr/local/bin/wal-g",
            walgEnvFile: "/run/db-tier/walg.env",
        };
        const conf = renderRecoveryConf(spec, { time: new Date("2027-01-15T09:30:00.250Z") });
        expect(conf).toContain("listen_addresses = ''");
        expect(conf).toContain("unix_socket_directories = '/scratch'");
        expect(conf.indexOf("archive_mode = 'off'")).toBeGreaterThan(conf.indexOf("archive_mode = on"));
        expect(conf).toContain("hot_standby = 'off'");
        expect(conf).toContain("recovery_target_action = 'promote'");
        expect(conf).toContain("recovery_target_time = '2027-01-15 09:30:00.250+00'");
        expect(conf).toMatch(/restore_command = '.*wal-fetch "%f" "%p"/);
        expect(renderRecoveryConf(spec)).not.toContain("recovery_target_time =");
        expect(renderRecoveryConf(spec, { immediate: true })).toContain("recovery_target = 'immediate'");
        expect(renderRecoveryConf(spec, { immediate: true })).not.toContain("recovery_target_time =");
        expect(renderRecoveryHba(spec).trim().split("\n").slice(1)).toEqual(["local all all trust"]);
        const kept = { ...spec, keepPort: 25432 };
        expect(renderRecoveryConf(kept)).toContain("listen_addresses = '127.0.0.1'");
        // TCP logins stay refused until the checks are done (openKeptPort), then SCRAM only.
        expect(renderRecoveryHba(kept)).toContain("host all all 0.0.0.0/0 reject");
        expect(renderRecoveryHba(kept)).not.toContain("scram-sha-256");
        expect(renderRecoveryHba(kept, { tcp: true })).toContain("host all all 127.0.0.1/32 scram-sha-256");
        expect(renderRecoveryHba(kept, { tcp: true })).not.toContain("0.0.0.0/0 scram-sha-256");
        expect(renderRecoveryHba(kept, { tcp: true })).not.toContain("reject");
        expect(renderRecoveryHba(kept, { tcp: true })).not.toMatch(/\b(md5|password)\b|host .* trust/);
        expect(Object.keys(configFiles(spec))).toEqual([
            "/scratch/postgresql.conf",
            "/scratch/pg_hba.conf",
            "/scratch/data/recovery.signal",
        ]);
        expect(pgTimestamp(new Date("2027-01-15T09:30:00Z"))).toBe("2027-01-15 09:30:00.000+00");
    });
});

describe("job logs", () => {
    it("masks the env file's secrets in restore.log", () => {
        const dir = mkdtempSync(join(tmpdir(), "dbtier-log-"));
        const env = join(dir, "walg.env");
        writeFileSync(
            env,
            "WALG_S3_PREFIX='s3://b/p'\nAWS_SECRET_ACCESS_KEY='sup3r-secret-value'\nWALG_LIBSODIUM_KEY='00ff00ff00ff00ff'\nWALG_LIBSODIUM_KEY_TRANSFORM='hex'\nAWS_ACCESS_KEY_ID='AKIA'\\''EXAMPLE'\nWALG_COMPRESSION_METHOD='lz4'\n",
        );
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
        expect(logs.filter((l) => "next_run" in l).map((l) => l.next_run)).toEqual([
            "2027-01-01T02:00:00.000Z",
            "2027-01-02T02:00:00.000Z",
        ]);
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

describe("scheduler with the two drills", () => {
    it("runs the newest- and oldest-point drills on their own schedules, never at once, a missed slot once", async () => {
        let clock = Date.parse("2027-01-31T23:00:00Z");
        const runs: string[] = [];
        let busy = false;
        const job = (name: string, schedule: string, takesMs: number) => ({
            job: name,
            schedule,
            runOnce: async () => {
                expect(busy).toBe(false);
                busy = true;
                runs.push(`${name}@${new Date(clock).toISOString()}`);
                clock += takesMs;
                busy = false;
                return true;
            },
        });
        await runSchedules(
            // The newest drill runs 04:00-06:00 on the 1st; the oldest is due at 05:00 then: it runs once, late.
            [job("drill", "0 4 1 * *", 2 * 3_600_000), job("drill-oldest", "0 5 1 * *", 60_000)],
            {
                now: () => new Date(clock),
                sleep: async (ms) => {
                    clock += ms;
                },
                log: () => undefined,
                maxRuns: 4,
            },
        );
        expect(runs).toEqual([
            "drill@2027-02-01T04:00:00.000Z",
            "drill-oldest@2027-02-01T06:00:00.000Z",
            "drill@2027-03-01T04:00:00.000Z",
            "drill-oldest@2027-03-01T06:00:00.000Z",
        ]);
    });

    it("gives the drill container both jobs from its config, the newest one on DBTIER_DRILL_SCHEDULE when set", () => {
        const base = { schedule: "0 4 1 * *", oldestSchedule: "0 5 15 * *" } as unknown as DrillJobConfig;
        expect(jobsOf("drill", base, {}).map((j) => [j.job, j.schedule])).toEqual([
            ["drill", "0 4 1 * *"],
            ["drill-oldest", "0 5 15 * *"],
        ]);
        expect(jobsOf("drill", base, { DBTIER_DRILL_SCHEDULE: "0 3 * * 0" }).map((j) => j.schedule)).toEqual(["0 3 * * 0", "0 5 15 * *"]);
        expect(jobsOf("drill", { ...base, oldestSchedule: undefined }, {}).map((j) => j.job)).toEqual(["drill"]);
    });
});

describe("oldest-point anchor", () => {
    const b = (name: string, tli: number, start: string, finishLsn: number): AnchorBackup => ({
        backup_name: name,
        wal_file_name: `${tli.toString(16).padStart(8, "0")}0000000000000002`,
        start_time: start,
        finish_time: start,
        finish_lsn: finishLsn,
    });
    it("takes the oldest backup on the current timeline's history, not one of an abandoned timeline", () => {
        const backups = [
            b("base_tl1_old", 1, "2027-01-01T00:00:00Z", 100),
            b("base_tl1_late", 1, "2027-01-05T00:00:00Z", 900),
            b("base_tl2", 2, "2027-01-06T00:00:00Z", 1000),
            b("base_tl3", 3, "2027-01-07T00:00:00Z", 2000),
        ];
        // Timeline 2 left 1 at LSN 500 (base_tl1_late ends after the fork); 3 left 2 at 1500. Timeline 4 forked from 1 too but is abandoned.
        const timelines: TimelineInfo[] = [
            { id: 1, parent_id: 0, switch_point_lsn: 0 },
            { id: 2, parent_id: 1, switch_point_lsn: 500 },
            { id: 3, parent_id: 2, switch_point_lsn: 1500 },
        ];
        const a = chooseAnchor(backups, timelines);
        expect(a?.backup.backup_name).toBe("base_tl1_old");
        expect(a?.currentTimeline).toBe(3);
        expect(a?.offHistory).toEqual(["base_tl1_late"]);
        expect([...ancestry(timelines)]).toEqual([
            [3, Number.POSITIVE_INFINITY],
            [2, 1500],
            [1, 500],
        ]);
        // Current timeline 4 forked from 2 at 800: timeline 3's backup is off its history.
        const t4 = [...timelines, { id: 4, parent_id: 2, switch_point_lsn: 800 }];
        expect(
            chooseAnchor([b("base_tl3", 3, "2027-01-01T00:00:00Z", 2000), b("base_tl2", 2, "2027-01-02T00:00:00Z", 700)], t4)?.backup
                .backup_name,
        ).toBe("base_tl2");
        expect(chooseAnchor([b("base_tl3", 3, "2027-01-01T00:00:00Z", 2000)], t4)).toBeUndefined();
        expect(chooseAnchor([b("only", 1, "2027-01-01T00:00:00Z", 5)], [])?.backup.backup_name).toBe("only");
    });

    it("replays to the window's start when the anchor is older than the window, else stops at the anchor's end", () => {
        const anchor = b("a", 1, "2027-01-01T00:00:00Z", 1);
        expect(oldestTarget(anchor, new Date("2027-02-05T00:00:00Z"), 30 * 86_400)).toEqual({ time: new Date("2027-01-06T00:00:00Z") });
        expect(oldestTarget(anchor, new Date("2027-01-20T00:00:00Z"), 30 * 86_400)).toEqual({ immediate: true });
    });
});

describe("drill SQL", () => {
    const t = (schema: string, table: string, expressions = false, copyColumn: string | null = "id"): TableFacts => ({
        schema,
        table,
        owner: "app_user",
        rls: false,
        rlsForced: false,
        expressions,
        copyColumn,
    });

    it("pins every session in the startup packet, read-only for the drill role", () => {
        expect(sessionOptions(true)).toContain("-c search_path=pg_catalog");
        expect(sessionOptions(true)).toContain("-c role=none");
        expect(sessionOptions(true)).toContain("-c default_transaction_read_only=on");
        expect(sessionOptions(false)).toContain("-c default_transaction_read_only=off");
    });

    it("creates a drill role that is no superuser, read-only, pinned to pg_catalog, with no pg_read_all_data", () => {
        const sql = renderCreateDrillRole(DRILL_ROLE, ["app", "postgres"]);
        expect(sql).toContain('CREATE ROLE "dbtier_drill" LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOINHERIT BYPASSRLS;');
        expect(sql).toContain("SET search_path = pg_catalog");
        expect(sql).toContain("SET default_transaction_read_only = on");
        expect(sql).toContain('GRANT CONNECT ON DATABASE "postgres" TO "dbtier_drill";');
        expect(sql).not.toMatch(/pg_read_all_data|SUPERUSER;/);
    });

    it("installs amcheck into a fresh schema (moving one the primary had) and grants only SELECT on user tables", () => {
        const fresh = renderDatabaseSetup({
            role: DRILL_ROLE,
            facts: { schemas: ["public", 'we"ird'], amcheckSchema: null },
            amcheckSchema: "dbtier_drill_ab",
        });
        expect(fresh.split("\n")).toEqual([
            'CREATE SCHEMA "dbtier_drill_ab";',
            'CREATE EXTENSION amcheck SCHEMA "dbtier_drill_ab";',
            'GRANT USAGE ON SCHEMA "dbtier_drill_ab" TO "dbtier_drill";',
            'GRANT EXECUTE ON ALL FUNCTIONS IN SCHEMA "dbtier_drill_ab" TO "dbtier_drill";',
            'GRANT USAGE ON SCHEMA "public" TO "dbtier_drill";',
            'GRANT SELECT ON ALL TABLES IN SCHEMA "public" TO "dbtier_drill";',
            'GRANT USAGE ON SCHEMA "we""ird" TO "dbtier_drill";',
            'GRANT SELECT ON ALL TABLES IN SCHEMA "we""ird" TO "dbtier_drill";',
        ]);
        const moved = renderDatabaseSetup({
            role: DRILL_ROLE,
            facts: { schemas: [], amcheckSchema: "public" },
            amcheckSchema: "dbtier_drill_cd",
        });
        expect(moved).toContain('ALTER EXTENSION amcheck SET SCHEMA "dbtier_drill_cd";');
        expect(
            renderDatabaseSetup({ role: DRILL_ROLE, facts: { schemas: ["public"], amcheckSchema: null }, amcheckSchema: null }),
        ).not.toContain("amcheck");
        expect(renderDisableEventTriggers(["audit", 'x"y'])).toBe(
            'ALTER EVENT TRIGGER "audit" DISABLE;\nALTER EVENT TRIGGER "x""y" DISABLE;',
        );
    });

    it("counts with a qualified count(*) in a read-only transaction, and by COPY where planning would evaluate expressions", () => {
        const q = renderCountQuery([t("public", "items"), t("s", "Odd")]);
        expect(q).toBe(
            'BEGIN READ ONLY;\nSELECT 0, pg_catalog.count(*) FROM ONLY "public"."items"\nUNION ALL SELECT 1, pg_catalog.count(*) FROM ONLY "s"."Odd";\nCOMMIT;',
        );
        expect(renderCopyCount(t("public", "x", true, "a b"))).toEqual([
            '\\copy "public"."x" ("a b") TO \'/dev/null\'',
            "\\echo :ROW_COUNT",
        ]);
        expect(renderCopyCount(t("public", "nocols", true, null))[0]).toBe('\\copy "public"."nocols" TO \'/dev/null\'');
        expect([...parseCounts("0|12\n1|0\nnoise\n")]).toEqual([
            [0, 12],
            [1, 0],
        ]);
        expect(rowCountKey("app", "app", "public", "items")).toBe("public.items");
        expect(rowCountKey("other", "app", "public", "items")).toBe("other.public.items");
        expect(rowCountKey("app", "app", "my.schema", "T")).toBe('"my.schema"."T"');
        expect(TABLE_FACTS_SQL).toContain("c.relkind = 'r'");
        expect(TABLE_FACTS_SQL).toMatch(/indexprs IS NOT NULL OR i\.indpred IS NOT NULL/);
        expect(TABLE_FACTS_SQL).toContain("stxexprs IS NOT NULL");
    });

    it("reads the migrations table only when pg_catalog says it is a plain table planning cannot run code for", () => {
        const ok = { relkind: "r", owner: "app_user", expressions: false, hasId: true };
        expect(migrationsRefusal(ok)).toBeNull();
        expect(migrationsRefusal({ ...ok, relkind: "v" })).toMatch(/is a view owned by app_user, not a plain table: not read/);
        expect(migrationsRefusal({ ...ok, relkind: "m" })).toMatch(/materialized view/);
        expect(migrationsRefusal({ ...ok, expressions: true })).toMatch(/expressions/);
        expect(migrationsRefusal({ ...ok, hasId: false })).toMatch(/no id column/);
        expect(MIGRATIONS_VERSION_SQL).toContain('FROM "drizzle"."__drizzle_migrations" ORDER BY "id" DESC LIMIT 1');
        expect(MIGRATIONS_VERSION_SQL.startsWith("BEGIN READ ONLY;")).toBe(true);
        expect(renderSchemaQuery("SELECT 1;  ")).toBe(
            "BEGIN READ ONLY;\nSELECT pg_catalog.row_to_json(q)::text FROM (SELECT 1) q LIMIT 1;\nCOMMIT;",
        );
    });
});

describe("drill data gate", () => {
    const k = (name: string, status: "passed" | "failed" | "skipped") => ({
        name,
        status,
        role: DRILL_ROLE,
        duration_seconds: 0,
        detail: "",
    });
    it("passes only when at least one data check passed", () => {
        expect(dataGate([k("rto", "passed"), k("row-counts", "skipped"), k("schema", "skipped"), k("amcheck", "skipped")]).status).toBe(
            "failed",
        );
        expect(dataGate([k("rto", "passed")]).detail).toMatch(/no data check passed/);
        expect(dataGate([k("row-counts", "skipped"), k("amcheck", "passed")])).toMatchObject({
            status: "passed",
            detail: "data verified by amcheck",
            role: "drill-job",
        });
    });
});

describe("drill evidence folders", () => {
    it("one per run: two drills of one day (newest and oldest point, or a second by hand) never share one", () => {
        const night = new Date("2026-12-15T04:00:03.120Z");
        const after = new Date("2026-12-15T04:00:41.900Z");
        const newest = evidenceKeyPrefix(night, "production", "app", "newest");
        const oldest = evidenceKeyPrefix(after, "production", "app", "oldest");
        expect(newest).toBe("restore-tests/2026-12-15/production/app/040003Z-newest/");
        expect(oldest).toBe("restore-tests/2026-12-15/production/app/040041Z-oldest/");
        expect(evidenceKeyPrefix(night, "production", "app", "oldest")).not.toBe(newest);
        // Under the contract's restore-tests/YYYY-MM-DD/, and in time order within a day.
        for (const p of [newest, oldest]) expect(p.startsWith("restore-tests/2026-12-15/")).toBe(true);
        expect([oldest, newest].sort()).toEqual([newest, oldest]);
    });
});
