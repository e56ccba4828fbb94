/**
 * Faults under load through pgBouncer (8 workers as app_user, one-row transactions back to back,
 * reconnecting every 100 ms with the current credentials, like an app):
 *   - pgBouncer restarted, as the local tier stops it (SIGTERM: immediate shutdown) and as a
 *     safe shutdown (SIGINT: pauses, lets running transactions finish, then closes);
 *   - a password rotation (`npm run local -- rotate`: ALTER ROLE on Postgres, new auth_file,
 *     SIGHUP to pgBouncer).
 * Counted: transactions that failed; among them, those that committed anyway (the
 * acknowledgement was lost, not the data); logins refused while reconnecting. Asserted: no
 * acknowledged commit is ever missing, at most one failed transaction per worker per restart
 * (the one in flight), every worker commits again afterwards.
 */
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { Load, type LoadStats, loadTableSql } from "../../bench/lib/load";
import { Client } from "../support/pgwire";
import { alive, sleep } from "../support/proc-tree";
import type { Tier } from "../support/tier-harness";
import { startPgbouncer } from "../../local/pgbouncer";
import { readPid } from "../../local/fsutil";
import { startFaultTier, until } from "./helpers";

const WORKERS = 8;

interface Outcome {
    readonly stats: LoadStats;
    /** Failed transactions whose row is nevertheless in the table. */
    readonly committedAnyway: number;
    readonly reallyFailed: number;
    readonly downtimeMs: number;
}

describe("pgBouncer restart and password rotation under load", () => {
    let t: Tier;
    let round = 0;
    const report: string[] = [];

    beforeAll(async () => {
        t = await startFaultTier("pooler");
    });
    afterAll(async () => {
        process.stderr.write(`[fault:pooler]\n${report.join("\n")}\n`);
        await t?.down();
    });

    /** Runs the load, applies the fault after 3 s, keeps the load 4 s more, then checks every row. */
    async function underLoad(fault: () => Promise<number>): Promise<Outcome> {
        const table = `load_${++round}`;
        t.refresh();
        // The workers' credentials: fetched once (`local env`), again after the fault, as an app
        // that re-reads its secret would.
        let creds = await t.app();
        await t.sql(creds, loadTableSql(table));
        const load = new Load(async () => creds, WORKERS, table);
        load.start();
        await until("the load to run", () => load.snapshot().committed > 500, 30_000);
        await sleep(1000);
        const downtimeMs = await fault();
        t.refresh();
        creds = await t.app();
        const at = Date.now();
        await until(
            "every worker to commit again after the fault",
            () => load.snapshot().perWorker.every((w) => w.lastCommitAt > at),
            30_000,
        );
        await sleep(2000);
        const stats = await load.stop();

        // Check every transaction against the table (root, directly).
        const root = await Client.connect(await t.root());
        try {
            const rows = await root.query(`SELECT worker, seq FROM ${table}`);
            const present = new Set(rows.map((r) => `${r[0]}:${r[1]}`));
            const failedKeys = new Set(stats.failed.map((f) => `${f.worker}:${f.seq}`));
            // Acknowledged = attempted and not failed; every one must be in the table.
            let missing = 0;
            for (const [w, p] of stats.perWorker.entries()) {
                for (let s = 0; s <= p.lastSeq; s++) if (!failedKeys.has(`${w}:${s}`) && !present.has(`${w}:${s}`)) missing++;
            }
            expect(missing, "acknowledged commits missing from the table").toBe(0);
            expect(present.size).toBe(stats.committed + stats.failed.filter((f) => present.has(`${f.worker}:${f.seq}`)).length);
            const committedAnyway = stats.failed.filter((f) => present.has(`${f.worker}:${f.seq}`)).length;
            return { stats, committedAnyway, reallyFailed: stats.failed.length - committedAnyway, downtimeMs };
        } finally {
            await root.close();
        }
    }

    const describeOutcome = (name: string, o: Outcome): string =>
        `${name}: ${o.stats.committed} committed, ${o.stats.failed.length} failed (${o.committedAnyway} of them committed anyway), ` +
        `${o.stats.connectFailures} refused logins while reconnecting, pgBouncer down ${o.downtimeMs} ms; errors: ${[...new Set(o.stats.failed.map((f) => f.error))].join(" / ") || "none"}`;

    async function restart(signal: "SIGTERM" | "SIGINT"): Promise<number> {
        const pid = readPid(t.l.pgbPid)!;
        const t0 = Date.now();
        process.kill(pid, signal);
        await until("pgBouncer to exit", () => !alive(pid), 60_000, 20);
        await startPgbouncer(t.l, t.t, t.ports);
        return Date.now() - t0;
    }

    it("a restart as the tier does it (SIGTERM) fails at most the transaction in flight per client, and no acknowledged commit is lost", async () => {
        const o = await underLoad(() => restart("SIGTERM"));
        report.push(describeOutcome("restart (SIGTERM)", o));
        expect(o.stats.failed.length).toBeLessThanOrEqual(WORKERS);
        for (const f of o.stats.failed) expect(f.code, f.error).toMatch(/^(conn|08\w\w|57P\w\w)$/);
    });

    it("a safe shutdown (SIGINT) then start: also at most one per client", async () => {
        const o = await underLoad(() => restart("SIGINT"));
        report.push(describeOutcome("restart (SIGINT, safe shutdown)", o));
        expect(o.stats.failed.length).toBeLessThanOrEqual(WORKERS);
        // A safe shutdown lets running transactions finish: none commits without its acknowledgement.
        expect(o.committedAnyway).toBe(0);
    });

    it("a password rotation under load fails no transaction; old passwords stop working, new ones work", async () => {
        const oldApp = await t.app();
        const o = await underLoad(async () => {
            const t0 = Date.now();
            await t.cliOk(["rotate"]);
            return Date.now() - t0;
        });
        report.push(describeOutcome("rotate", o).replace("pgBouncer down", "rotate took"));
        expect(o.stats.failed.length, o.stats.failed.map((f) => f.error).join(" / ")).toBe(0);
        t.refresh();
        const newApp = await t.app();
        expect(newApp.password).not.toBe(oldApp.password);
        await expect(Client.connect({ ...oldApp, timeoutMs: 5000 })).rejects.toThrow(
            /password authentication failed|SASL authentication failed/,
        );
        const c = await Client.connect(newApp);
        expect(await c.value("SELECT current_user")).toBe("app_user");
        await c.close();
    });
});
