/**
 * A TLS front for the tier's MinIO. pgBackRest speaks S3 over HTTPS only (no version supports
 * plain HTTP: pgbackrest/pgbackrest#2612), and the local tier's MinIO listens on plain HTTP;
 * this proxy terminates TLS on 127.0.0.1:<port> and forwards bytes to MinIO. WAL-G is measured
 * through it too, so the WAL-G/pgBackRest ratio compares like with like.
 *
 *   tsx bench/lib/tls-proxy.ts <listenPort> <targetPort> <cert.pem> <key.pem>   (a child process)
 */
import { spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { connect } from "node:net";
import { join } from "node:path";
import { createServer } from "node:tls";
import { must } from "./common";
import { sh } from "./proc";
import { sleep } from "../../test/support/proc-tree";
import { TSX } from "../../test/support/tier-harness";

/** A self-signed certificate for 127.0.0.1 in dir (cert.pem, key.pem). */
export async function selfSignedCert(dir: string): Promise<{ cert: string; key: string }> {
    const cert = join(dir, "cert.pem");
    const key = join(dir, "key.pem");
    if (!existsSync(cert)) {
        await sh(
            `mkdir -p ${JSON.stringify(dir)} && openssl req -x509 -newkey rsa:2048 -nodes -days 30 -subj /CN=127.0.0.1 ` +
                `-addext subjectAltName=IP:127.0.0.1 -keyout ${JSON.stringify(key)} -out ${JSON.stringify(cert)} 2>/dev/null && chmod 0644 ${JSON.stringify(cert)} ${JSON.stringify(key)}`,
        );
    }
    return { cert, key };
}

export interface TlsProxy {
    readonly port: number;
    readonly pid: number;
    stop(): Promise<void>;
}

export async function startTlsProxy(listenPort: number, targetPort: number, cert: string, key: string): Promise<TlsProxy> {
    const child = spawn(TSX, [__filename, String(listenPort), String(targetPort), cert, key], { stdio: ["ignore", "ignore", "inherit"] });
    const deadline = Date.now() + 30_000;
    for (;;) {
        const ok = await new Promise<boolean>((res) => {
            const s = connect({ host: "127.0.0.1", port: listenPort }, () => {
                s.destroy();
                res(true);
            });
            s.once("error", () => res(false));
        });
        if (ok) break;
        if (child.exitCode !== null || Date.now() > deadline) throw new Error("TLS proxy did not start");
        await sleep(100);
    }
    return {
        port: listenPort,
        pid: must(child.pid, "TLS front pid"),
        async stop() {
            if (child.exitCode !== null) return;
            child.kill("SIGTERM");
            await new Promise((r) => child.once("exit", r));
        },
    };
}

if (require.main === module) {
    const [listen, target, cert, key] = process.argv.slice(2);
    const server = createServer({ cert: readFileSync(cert), key: readFileSync(key) }, (client) => {
        const upstream = connect({ host: "127.0.0.1", port: Number(target) });
        client.pipe(upstream).pipe(client);
        const end = (): void => {
            client.destroy();
            upstream.destroy();
        };
        client.on("error", end);
        upstream.on("error", end);
        client.on("close", end);
        upstream.on("close", end);
    });
    server.listen(Number(listen), "127.0.0.1");
    process.on("SIGTERM", () => process.exit(0));
}
