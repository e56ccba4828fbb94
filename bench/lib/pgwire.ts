/**
 * A small PostgreSQL client (protocol v3, simple query, SCRAM-SHA-256 login) for the
 * benchmarks and fault tests: a writer that needs the commit acknowledgement of each marker,
 * and load generators that must see every failure (which psql and pgbench hide or abort on).
 * No dependency beyond node:net and node:crypto.
 */
import { createHash, createHmac, pbkdf2Sync, randomBytes, timingSafeEqual } from "node:crypto";
import { createConnection, type Socket } from "node:net";

export interface ConnParams {
    readonly host: string;
    readonly port: number;
    readonly user: string;
    readonly password: string;
    readonly database: string;
    /** Connect + login timeout (default 10 s). */
    readonly timeoutMs?: number;
    readonly applicationName?: string;
}

export class PgError extends Error {
    constructor(
        message: string,
        /** SQLSTATE, or "08000"-style codes for connection failures; "conn" when the socket broke. */
        readonly code: string,
        readonly severity: string,
    ) {
        super(message);
    }
}

/** Parses a postgresql:// DSN into ConnParams. */
export function paramsFromDsn(dsn: string): ConnParams {
    const u = new URL(dsn);
    return {
        host: u.hostname,
        port: Number(u.port || 5432),
        user: decodeURIComponent(u.username),
        password: decodeURIComponent(u.password),
        database: decodeURIComponent(u.pathname.replace(/^\//, "")),
    };
}

interface Msg {
    readonly type: string;
    readonly body: Buffer;
}

function frame(type: string, body: Buffer): Buffer {
    const head = Buffer.alloc(5);
    head.write(type, 0, "latin1");
    head.writeInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
}

function cstr(s: string): Buffer {
    return Buffer.from(`${s}\0`, "utf8");
}

function errorFields(body: Buffer): Record<string, string> {
    const out: Record<string, string> = {};
    let i = 0;
    while (i < body.length && body[i] !== 0) {
        const code = String.fromCharCode(body[i]);
        const end = body.indexOf(0, i + 1);
        out[code] = body.subarray(i + 1, end).toString("utf8");
        i = end + 1;
    }
    return out;
}

function toPgError(body: Buffer): PgError {
    const f = errorFields(body);
    return new PgError(f.M ?? "unknown error", f.C ?? "XX000", f.V ?? f.S ?? "ERROR");
}

const xor = (a: Buffer, b: Buffer): Buffer => Buffer.from(a.map((x, i) => x ^ b[i]));
const hmac = (key: Buffer, data: string | Buffer): Buffer => createHmac("sha256", key).update(data).digest();

export class Client {
    private sock!: Socket;
    private buf: Buffer = Buffer.alloc(0);
    private queue: Msg[] = [];
    private waiter: (() => void) | undefined;
    private closedErr: PgError | undefined;
    /** Set when the server sent an ErrorResponse outside a query (e.g. FATAL on termination). */
    lastAsyncError: PgError | undefined;
    private busy = false;

    private constructor(readonly params: ConnParams) {}

    static async connect(params: ConnParams): Promise<Client> {
        const c = new Client(params);
        await c.open();
        return c;
    }

    get closed(): boolean {
        return this.closedErr !== undefined;
    }

    private open(): Promise<void> {
        const timeoutMs = this.params.timeoutMs ?? 10_000;
        return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
                this.sock?.destroy();
                reject(new PgError(`connect to ${this.params.host}:${this.params.port} timed out`, "08001", "FATAL"));
            }, timeoutMs);
            this.sock = createConnection({ host: this.params.host, port: this.params.port });
            this.sock.setNoDelay(true);
            this.sock.on("data", (d: Buffer) => this.onData(d));
            this.sock.on("close", () => this.onClose(new PgError("connection closed by the server", "conn", "FATAL")));
            this.sock.on("error", (e) =>
                this.onClose(
                    new PgError(
                        `connection error: ${e.message}`,
                        (e as NodeJS.ErrnoException).code === "ECONNREFUSED" ? "08001" : "conn",
                        "FATAL",
                    ),
                ),
            );
            this.sock.once("connect", () => {
                this.login().then(
                    () => {
                        clearTimeout(timer);
                        resolve();
                    },
                    (e) => {
                        clearTimeout(timer);
                        this.sock.destroy();
                        reject(e);
                    },
                );
            });
            this.sock.once("error", (e) => {
                clearTimeout(timer);
                reject(
                    new PgError(
                        `connect to ${this.params.host}:${this.params.port}: ${e.message}`,
                        (e as NodeJS.ErrnoException).code === "ECONNREFUSED" ? "08001" : "conn",
                        "FATAL",
                    ),
                );
            });
        });
    }

    private onData(d: Buffer): void {
        this.buf = this.buf.length === 0 ? d : Buffer.concat([this.buf, d]);
        while (this.buf.length >= 5) {
            const len = this.buf.readInt32BE(1);
            if (this.buf.length < 1 + len) break;
            this.queue.push({ type: String.fromCharCode(this.buf[0]), body: Buffer.from(this.buf.subarray(5, 1 + len)) });
            this.buf = this.buf.subarray(1 + len);
        }
        this.wake();
    }

    private onClose(e: PgError): void {
        if (!this.closedErr) this.closedErr = e;
        this.wake();
    }

    private wake(): void {
        const w = this.waiter;
        this.waiter = undefined;
        w?.();
    }

    private async next(): Promise<Msg> {
        for (;;) {
            const m = this.queue.shift();
            if (m) {
                if (m.type === "N" || m.type === "S" || m.type === "A") continue; // notice, parameter status, notification
                return m;
            }
            if (this.closedErr) throw this.lastAsyncError ?? this.closedErr;
            await new Promise<void>((r) => (this.waiter = r));
        }
    }

    private async login(): Promise<void> {
        const p = this.params;
        const params = Buffer.concat([
            cstr("user"),
            cstr(p.user),
            cstr("database"),
            cstr(p.database),
            ...(p.applicationName ? [cstr("application_name"), cstr(p.applicationName)] : []),
            Buffer.from([0]),
        ]);
        const head = Buffer.alloc(8);
        head.writeInt32BE(8 + params.length, 0);
        head.writeInt32BE(196608, 4);
        this.sock.write(Buffer.concat([head, params]));
        let nonce = "";
        let clientFirstBare = "";
        let serverSignature: Buffer | undefined;
        for (;;) {
            const m = await this.next();
            if (m.type === "E") throw toPgError(m.body);
            if (m.type === "K") continue;
            if (m.type === "Z") return;
            if (m.type !== "R") throw new PgError(`unexpected message ${m.type} during login`, "08P01", "FATAL");
            const code = m.body.readInt32BE(0);
            if (code === 0) continue;
            if (code === 3) {
                this.sock.write(frame("p", cstr(p.password)));
            } else if (code === 10) {
                const mechs = m.body.subarray(4).toString("utf8").split("\0");
                if (!mechs.includes("SCRAM-SHA-256")) throw new PgError(`no SCRAM-SHA-256 offered (${mechs.join(",")})`, "28000", "FATAL");
                nonce = randomBytes(18).toString("base64");
                clientFirstBare = `n=,r=${nonce}`;
                const first = Buffer.from(`n,,${clientFirstBare}`, "utf8");
                const len = Buffer.alloc(4);
                len.writeInt32BE(first.length, 0);
                this.sock.write(frame("p", Buffer.concat([cstr("SCRAM-SHA-256"), len, first])));
            } else if (code === 11) {
                const serverFirst = m.body.subarray(4).toString("utf8");
                const attrs = Object.fromEntries(serverFirst.split(",").map((kv) => [kv[0], kv.slice(2)]));
                if (!attrs.r?.startsWith(nonce)) throw new PgError("SCRAM: server nonce does not extend ours", "28000", "FATAL");
                const salted = pbkdf2Sync(p.password.normalize("NFKC"), Buffer.from(attrs.s, "base64"), Number(attrs.i), 32, "sha256");
                const clientKey = hmac(salted, "Client Key");
                const storedKey = createHash("sha256").update(clientKey).digest();
                const withoutProof = `c=biws,r=${attrs.r}`;
                const authMessage = `${clientFirstBare},${serverFirst},${withoutProof}`;
                const proof = xor(clientKey, hmac(storedKey, authMessage));
                serverSignature = hmac(hmac(salted, "Server Key"), authMessage);
                this.sock.write(frame("p", Buffer.from(`${withoutProof},p=${proof.toString("base64")}`, "utf8")));
            } else if (code === 12) {
                const final = m.body.subarray(4).toString("utf8");
                const v = Buffer.from(/v=([^,]+)/.exec(final)?.[1] ?? "", "base64");
                if (!serverSignature || v.length !== serverSignature.length || !timingSafeEqual(v, serverSignature)) {
                    throw new PgError("SCRAM: bad server signature", "28000", "FATAL");
                }
            } else {
                throw new PgError(`unsupported authentication request ${code}`, "28000", "FATAL");
            }
        }
    }

    /** Runs one simple-query string; returns the rows of the last result set (text values). */
    async query(sql: string): Promise<(string | null)[][]> {
        if (this.busy) throw new Error("query while another query runs");
        if (this.closedErr) throw this.lastAsyncError ?? this.closedErr;
        this.busy = true;
        try {
            this.sock.write(frame("Q", cstr(sql)));
            let rows: (string | null)[][] = [];
            let err: PgError | undefined;
            for (;;) {
                const m = await this.next();
                switch (m.type) {
                    case "T":
                        rows = [];
                        break;
                    case "D": {
                        const n = m.body.readInt16BE(0);
                        const row: (string | null)[] = [];
                        let off = 2;
                        for (let i = 0; i < n; i++) {
                            const len = m.body.readInt32BE(off);
                            off += 4;
                            if (len < 0) row.push(null);
                            else {
                                row.push(m.body.subarray(off, off + len).toString("utf8"));
                                off += len;
                            }
                        }
                        rows.push(row);
                        break;
                    }
                    case "E":
                        err = toPgError(m.body);
                        if (err.severity === "FATAL" || err.severity === "PANIC") this.lastAsyncError = err;
                        break;
                    case "Z":
                        if (err) throw err;
                        return rows;
                    default:
                        break; // C, I, etc.
                }
            }
        } finally {
            this.busy = false;
        }
    }

    async value(sql: string): Promise<string | null> {
        const rows = await this.query(sql);
        return rows[0]?.[0] ?? null;
    }

    async close(): Promise<void> {
        if (this.closedErr) return;
        try {
            this.sock.write(frame("X", Buffer.alloc(0)));
        } catch {
            /* already gone */
        }
        this.sock.end();
        this.sock.destroy();
        this.onClose(new PgError("closed by the client", "conn", "FATAL"));
    }
}

/** Connects, runs one query, disconnects. */
export async function once(params: ConnParams, sql: string): Promise<(string | null)[][]> {
    const c = await Client.connect(params);
    try {
        return await c.query(sql);
    } finally {
        await c.close();
    }
}
