/**
 * A small PostgreSQL client (protocol v3, simple query, SCRAM-SHA-256 login) for the
 * benchmarks, the fault tests and the integration tests: a writer that needs the commit
 * acknowledgement of each marker, load generators that must see every failure (which psql and
 * pgbench hide or abort on), and an authentication probe that records what a server asks a
 * client for (which no ordinary client shows). No dependency beyond node:net and node:crypto.
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

/** One backend message: its type byte and its body (the length word left out). */
export interface ServerMessage {
    readonly type: string;
    readonly body: Buffer;
}

/** AuthenticationRequest codes (the Int32 after 'R'). */
export const AUTH = { ok: 0, cleartext: 3, md5: 5, sasl: 10, saslContinue: 11, saslFinal: 12 } as const;

function frame(type: string, body: Buffer): Buffer {
    const head = Buffer.alloc(5);
    head.write(type, 0, "latin1");
    head.writeInt32BE(body.length + 4, 1);
    return Buffer.concat([head, body]);
}

function cstr(s: string): Buffer {
    return Buffer.from(`${s}\0`, "utf8");
}

/** StartupMessage, protocol 3.0, with user, database and any further parameters. */
function startupMessage(params: Readonly<Record<string, string>>): Buffer {
    const body = Buffer.concat([...Object.entries(params).flatMap(([k, v]) => [cstr(k), cstr(v)]), Buffer.from([0])]);
    const head = Buffer.alloc(8);
    head.writeInt32BE(8 + body.length, 0);
    head.writeInt32BE(196608, 4);
    return Buffer.concat([head, body]);
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

/** The human-readable message of an ErrorResponse ("" for anything else). */
export function errorText(m: ServerMessage | undefined): string {
    return m?.type === "E" ? (errorFields(m.body).M ?? "") : "";
}

/** Splits what a socket receives into backend messages, in order. */
class MessageReader {
    private buf: Buffer = Buffer.alloc(0);
    private readonly queue: ServerMessage[] = [];
    private waiter: (() => void) | undefined;
    private ended = false;

    constructor(sock: Socket) {
        sock.on("data", (d: Buffer) => this.onData(d));
        sock.on("close", () => {
            this.ended = true;
            this.wake();
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

    private wake(): void {
        const w = this.waiter;
        this.waiter = undefined;
        w?.();
    }

    /** The next message; undefined once the socket closed and every message was read. Throws after timeoutMs. */
    async next(timeoutMs?: number): Promise<ServerMessage | undefined> {
        const deadline = timeoutMs === undefined ? undefined : Date.now() + timeoutMs;
        for (;;) {
            const m = this.queue.shift();
            if (m) return m;
            if (this.ended) return undefined;
            if (deadline !== undefined && Date.now() > deadline) throw new Error("no message from the server");
            await new Promise<void>((r) => {
                this.waiter = r;
                if (deadline !== undefined) setTimeout(r, Math.max(0, deadline - Date.now()) + 1);
            });
        }
    }
}

const xor = (a: Buffer, b: Buffer): Buffer => Buffer.from(a.map((x, i) => x ^ b[i]));
const hmac = (key: Buffer, data: string | Buffer): Buffer => createHmac("sha256", key).update(data).digest();

function connectionError(e: Error, what: string): PgError {
    return new PgError(`${what}: ${e.message}`, (e as NodeJS.ErrnoException).code === "ECONNREFUSED" ? "08001" : "conn", "FATAL");
}

export class Client {
    private sock!: Socket;
    private reader!: MessageReader;
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
        const where = `${this.params.host}:${this.params.port}`;
        return new Promise<void>((resolve, reject) => {
            const timer = setTimeout(() => {
                this.sock?.destroy();
                reject(new PgError(`connect to ${where} timed out`, "08001", "FATAL"));
            }, timeoutMs);
            this.sock = createConnection({ host: this.params.host, port: this.params.port });
            this.sock.setNoDelay(true);
            this.reader = new MessageReader(this.sock);
            this.sock.on("close", () => this.onClose(new PgError("connection closed by the server", "conn", "FATAL")));
            this.sock.on("error", (e) => this.onClose(connectionError(e, "connection error")));
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
                reject(connectionError(e, `connect to ${where}`));
            });
        });
    }

    private onClose(e: PgError): void {
        if (!this.closedErr) this.closedErr = e;
    }

    /** The next message that is not a notice, parameter status or notification. */
    private async next(): Promise<ServerMessage> {
        for (;;) {
            const m = await this.reader.next();
            if (!m) throw this.lastAsyncError ?? this.closedErr ?? new PgError("connection closed by the server", "conn", "FATAL");
            if (m.type === "N" || m.type === "S" || m.type === "A") continue;
            return m;
        }
    }

    private async login(): Promise<void> {
        const p = this.params;
        this.sock.write(
            startupMessage({ user: p.user, database: p.database, ...(p.applicationName ? { application_name: p.applicationName } : {}) }),
        );
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
            if (code === AUTH.ok) continue;
            if (code === AUTH.cleartext) {
                this.sock.write(frame("p", cstr(p.password)));
            } else if (code === AUTH.sasl) {
                const mechs = m.body.subarray(4).toString("utf8").split("\0");
                if (!mechs.includes("SCRAM-SHA-256")) throw new PgError(`no SCRAM-SHA-256 offered (${mechs.join(",")})`, "28000", "FATAL");
                nonce = randomBytes(18).toString("base64");
                clientFirstBare = `n=,r=${nonce}`;
                const first = Buffer.from(`n,,${clientFirstBare}`, "utf8");
                const len = Buffer.alloc(4);
                len.writeInt32BE(first.length, 0);
                this.sock.write(frame("p", Buffer.concat([cstr("SCRAM-SHA-256"), len, first])));
            } else if (code === AUTH.saslContinue) {
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
            } else if (code === AUTH.saslFinal) {
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
                    case "D":
                        rows.push(dataRow(m.body));
                        break;
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

/** The text values of a DataRow (null for SQL NULL). */
function dataRow(body: Buffer): (string | null)[] {
    const n = body.readInt16BE(0);
    const row: (string | null)[] = [];
    let off = 2;
    for (let i = 0; i < n; i++) {
        const len = body.readInt32BE(off);
        off += 4;
        if (len < 0) row.push(null);
        else {
            row.push(body.subarray(off, off + len).toString("utf8"));
            off += len;
        }
    }
    return row;
}

export interface AuthProbe {
    /** The first message: 'R' with a code, or 'E' with an error. */
    readonly first: ServerMessage | undefined;
    readonly authCode?: number;
    readonly mechanisms?: string[];
    /** What the server said after a cleartext password was offered instead. */
    readonly afterCleartext?: ServerMessage;
}

/**
 * Starts a session on 127.0.0.1:port and records the server's first request; when asked,
 * answers it with a cleartext password whatever was requested (the downgrade a server must refuse).
 */
export async function probeAuth(port: number, user: string, database: string, cleartext?: string): Promise<AuthProbe> {
    const sock = await new Promise<Socket>((resolve, reject) => {
        const s = createConnection({ host: "127.0.0.1", port }, () => resolve(s));
        s.once("error", reject);
    });
    sock.on("error", () => undefined);
    const reader = new MessageReader(sock);
    try {
        sock.write(startupMessage({ user, database }));
        const first = await reader.next(10_000);
        const authCode = first?.type === "R" ? first.body.readInt32BE(0) : undefined;
        const mechanisms = authCode === AUTH.sasl ? first!.body.subarray(4).toString("utf8").split("\0").filter(Boolean) : undefined;
        if (cleartext === undefined || first?.type !== "R") return { first, authCode, mechanisms };
        sock.write(frame("p", cstr(cleartext)));
        const afterCleartext = await reader.next(10_000);
        return { first, authCode, mechanisms, afterCleartext };
    } finally {
        sock.destroy();
    }
}
