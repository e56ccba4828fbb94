/**
 * A load generator that behaves like an application with a connection per worker: each worker
 * commits one-row transactions as fast as it can, and when its connection breaks it
 * reconnects (every 100 ms, fetching the credentials again, as an app reading its secret
 * would). Every transaction has a unique (worker, seq) key, so afterwards we can tell apart
 * failures that really did not commit from commits whose acknowledgement was lost.
 */
import { Client, type ConnParams, type PgError } from "../../test/support/pgwire";
import { sleep } from "../../test/support/proc-tree";

export interface TxFailure {
    readonly worker: number;
    readonly seq: number;
    readonly at: number;
    readonly error: string;
    readonly code: string;
}

export interface LoadStats {
    readonly committed: number;
    readonly failed: TxFailure[];
    /** Login attempts that failed (refused, auth, timeout) while reconnecting. */
    readonly connectFailures: number;
    readonly connectErrors: string[];
    /** Per worker: the acknowledged sequence numbers' count and the last one. */
    readonly perWorker: { committed: number; lastSeq: number; lastCommitAt: number }[];
}

export class Load {
    private stopFlag = false;
    private workers: Promise<void>[] = [];
    private committed = 0;
    private failed: TxFailure[] = [];
    private connectFailures = 0;
    private connectErrors: string[] = [];
    private perWorker: { committed: number; lastSeq: number; lastCommitAt: number }[] = [];

    constructor(
        private readonly params: () => Promise<ConnParams>,
        private readonly nWorkers: number,
        private readonly table: string,
        /** Pause between transactions of one worker (ms). */
        private readonly pauseMs = 0,
    ) {}

    start(): void {
        for (let w = 0; w < this.nWorkers; w++) {
            this.perWorker.push({ committed: 0, lastSeq: -1, lastCommitAt: 0 });
            this.workers.push(this.worker(w));
        }
    }

    private async worker(w: number): Promise<void> {
        let c: Client | undefined;
        let seq = 0;
        while (!this.stopFlag) {
            if (!c || c.closed) {
                try {
                    c = await Client.connect({ ...(await this.params()), timeoutMs: 5_000, applicationName: `load-${w}` });
                } catch (e) {
                    this.connectFailures++;
                    if (this.connectErrors.length < 50) this.connectErrors.push((e as Error).message);
                    c = undefined;
                    await sleep(100);
                    continue;
                }
            }
            const s = seq++;
            try {
                await c.query(`INSERT INTO ${this.table} (worker, seq) VALUES (${w}, ${s})`);
                this.committed++;
                this.perWorker[w] = { committed: this.perWorker[w].committed + 1, lastSeq: s, lastCommitAt: Date.now() };
            } catch (e) {
                const err = e as PgError;
                this.failed.push({ worker: w, seq: s, at: Date.now(), error: err.message, code: err.code ?? "?" });
            }
            if (this.pauseMs > 0) await sleep(this.pauseMs);
        }
        await c?.close().catch(() => undefined);
    }

    async stop(): Promise<LoadStats> {
        this.stopFlag = true;
        await Promise.all(this.workers);
        return this.snapshot();
    }

    snapshot(): LoadStats {
        return {
            committed: this.committed,
            failed: [...this.failed],
            connectFailures: this.connectFailures,
            connectErrors: [...this.connectErrors],
            perWorker: this.perWorker.map((p) => ({ ...p })),
        };
    }
}

/** SQL for the load table. */
export const loadTableSql = (table: string): string =>
    `CREATE TABLE ${table} (worker int NOT NULL, seq int NOT NULL, at timestamptz NOT NULL DEFAULT clock_timestamp(), PRIMARY KEY (worker, seq))`;
