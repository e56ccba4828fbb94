/**
 * Just enough of the PostgreSQL wire protocol (v3) to see what a server asks a client for:
 * send a StartupMessage, read the first authentication request, optionally answer it with a
 * cleartext PasswordMessage, and read what comes back.
 */
import { createConnection, type Socket } from "node:net";

export interface ServerMessage {
    readonly type: string;
    readonly body: Buffer;
}

/** AuthenticationRequest codes (the Int32 after 'R'). */
export const AUTH = { ok: 0, cleartext: 3, md5: 5, sasl: 10 } as const;

function startupMessage(user: string, database: string): Buffer {
    const params = Buffer.from(`user\0${user}\0database\0${database}\0\0`, "utf8");
    const head = Buffer.alloc(8);
    head.writeInt32BE(8 + params.length, 0);
    head.writeInt32BE(196608, 4); // protocol 3.0
    return Buffer.concat([head, params]);
}

function passwordMessage(password: string): Buffer {
    const body = Buffer.from(`${password}\0`, "utf8");
    const head = Buffer.alloc(5);
    head.write("p", 0);
    head.writeInt32BE(4 + body.length, 1);
    return Buffer.concat([head, body]);
}

class Conn {
    private buf = Buffer.alloc(0);
    private waiters: (() => void)[] = [];
    closed = false;

    constructor(readonly sock: Socket) {
        sock.on("data", (d: Buffer) => {
            this.buf = Buffer.concat([this.buf, d]);
            this.wake();
        });
        sock.on("close", () => {
            this.closed = true;
            this.wake();
        });
        sock.on("error", () => undefined);
    }

    private wake(): void {
        for (const w of this.waiters.splice(0)) w();
    }

    /** The next message, or undefined when the server closed the connection first. */
    async next(timeoutMs = 10_000): Promise<ServerMessage | undefined> {
        const deadline = Date.now() + timeoutMs;
        for (;;) {
            if (this.buf.length >= 5) {
                const len = this.buf.readInt32BE(1);
                if (this.buf.length >= 1 + len) {
                    const msg = { type: String.fromCharCode(this.buf[0]), body: this.buf.subarray(5, 1 + len) };
                    this.buf = this.buf.subarray(1 + len);
                    return msg;
                }
            }
            if (this.closed) return undefined;
            if (Date.now() > deadline) throw new Error("no message from the server");
            await new Promise<void>((r) => {
                this.waiters.push(r);
                setTimeout(r, 200);
            });
        }
    }
}

function connect(port: number): Promise<Conn> {
    return new Promise((resolve, reject) => {
        const sock = createConnection({ host: "127.0.0.1", port }, () => resolve(new Conn(sock)));
        sock.once("error", reject);
    });
}

export interface AuthProbe {
    /** The first message: 'R' with a code, or 'E' with an error. */
    readonly first: ServerMessage | undefined;
    readonly authCode?: number;
    readonly mechanisms?: string[];
    /** What the server said after a cleartext password was offered instead. */
    readonly afterCleartext?: ServerMessage;
}

/** Starts a session and, when asked, answers the server's request with a cleartext password. */
export async function probeAuth(port: number, user: string, database: string, cleartext?: string): Promise<AuthProbe> {
    const c = await connect(port);
    try {
        c.sock.write(startupMessage(user, database));
        const first = await c.next();
        const authCode = first?.type === "R" ? first.body.readInt32BE(0) : undefined;
        const mechanisms = authCode === AUTH.sasl ? first!.body.subarray(4).toString("utf8").split("\0").filter(Boolean) : undefined;
        if (cleartext === undefined || first?.type !== "R") return { first, authCode, mechanisms };
        c.sock.write(passwordMessage(cleartext));
        const afterCleartext = await c.next();
        return { first, authCode, mechanisms, afterCleartext };
    } finally {
        c.sock.destroy();
    }
}

/** The human-readable message of an ErrorResponse. */
export function errorText(m: ServerMessage | undefined): string {
    if (!m || m.type !== "E") return "";
    return m.body
        .toString("utf8")
        .split("\0")
        .filter((f) => f.startsWith("M"))
        .map((f) => f.slice(1))
        .join(" ");
}
