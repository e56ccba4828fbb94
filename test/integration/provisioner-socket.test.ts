/**
 * The container provisioner's path, on real binaries: Postgres with the pg_hba.conf and
 * pg_ident.conf the PostgresServer component uploads, the rendered provisioning SQL run by
 * the OS user `postgres` over the Unix socket with peer authentication (no password at all),
 * and every other OS user refused. This is how a drifted root password still converges.
 */
import { execFileSync } from "node:child_process";
import { chmodSync, chownSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { run } from "../../jobs/proc";
import { renderPgHba, renderPgIdent } from "../../render/pg-hba";
import { renderProvisionSql } from "../../render/provision-sql";
import { scramVerifier } from "../../render/scram";
import { PEER_MAP } from "../../vocabulary";
import { freePort, PG_BIN, toolsMissing } from "../support/tier-harness";

const ROOT = "dbroot";
const skip = toolsMissing().length > 0;
let dir = "";
let sock = "";
let port = 0;

function asUser(user: string, command: string, args: readonly string[]) {
    return run("runuser", ["-u", user, "--", command, ...args], { env: { PATH: process.env.PATH, LANG: "C.UTF-8" }, timeoutMs: 60_000 });
}

function psqlAs(user: string, role: string, sql: string) {
    return asUser(user, join(PG_BIN, "psql"), ["-X", "-At", "-h", sock, "-p", String(port), "-U", role, "-d", "postgres", "-c", sql]);
}

describe.skipIf(skip)("provisioning over the socket with peer authentication", () => {
    beforeAll(async () => {
        dir = mkdtempSync(join(tmpdir(), "dbtier-peer-"));
        chmodSync(dir, 0o755);
        sock = join(dir, "sock");
        port = await freePort();
        const data = join(dir, "data");
        mkdirSync(sock);
        const [uid, gid] = ["-u", "-g"].map((flag) => Number(execFileSync("id", [flag, "postgres"], { encoding: "utf8" })));
        chownSync(sock, uid, gid);
        chownSync(dir, uid, gid);
        const init = await asUser("postgres", join(PG_BIN, "initdb"), [
            "-D",
            data,
            "-U",
            ROOT,
            "--auth-local=peer",
            "--auth-host=scram-sha-256",
        ]);
        expect(init.code, init.stderr).toBe(0);
        writeFileSync(join(data, "pg_hba.conf"), renderPgHba({ localPeer: true, peerMap: PEER_MAP, clientNetworks: ["127.0.0.1/32"] }));
        writeFileSync(join(data, "pg_ident.conf"), renderPgIdent(PEER_MAP, [{ osUser: "postgres", role: ROOT }]));
        const start = await asUser("postgres", join(PG_BIN, "pg_ctl"), [
            "-D",
            data,
            "-w",
            "-l",
            join(dir, "log"),
            "-o",
            `-p ${port} -k ${sock} -c listen_addresses=''`,
            "start",
        ]);
        expect(start.code, start.stderr).toBe(0);
    }, 120_000);

    afterAll(async () => {
        if (dir) {
            await asUser("postgres", join(PG_BIN, "pg_ctl"), ["-D", join(dir, "data"), "-m", "immediate", "stop"]);
            rmSync(dir, { recursive: true, force: true });
        }
    });

    it("lets OS user postgres act as root without a password", async () => {
        const r = await psqlAs("postgres", ROOT, "select current_user");
        expect(r.stdout.trim()).toBe(ROOT);
    });

    it("refuses any other OS user, and postgres as any other role", async () => {
        const nobody = await psqlAs("nobody", ROOT, "select 1");
        expect(nobody.code).not.toBe(0);
        expect(nobody.stderr).toContain("Peer authentication failed");
        const other = await psqlAs("postgres", "app_user", "select 1");
        expect(other.code).not.toBe(0);
    });

    it("converges roles with the rendered SQL, twice, and reports created then unchanged", async () => {
        const salt = Buffer.alloc(16, 9).toString("base64");
        const sql = renderProvisionSql({
            rootUser: ROOT,
            rootVerifier: scramVerifier("root-password-".padEnd(40, "r"), salt),
            appUserVerifier: scramVerifier("app-user-password-".padEnd(40, "u"), salt),
            appServiceVerifier: scramVerifier("app-service-password-".padEnd(40, "s"), salt),
            databases: ["app"],
        });
        const file = join(dir, "provision.sql");
        writeFileSync(file, sql, { mode: 0o644 });
        const apply = () =>
            asUser("postgres", join(PG_BIN, "psql"), [
                "-X",
                "-q",
                "-At",
                "-v",
                "ON_ERROR_STOP=1",
                "-h",
                sock,
                "-p",
                String(port),
                "-U",
                ROOT,
                "-d",
                "postgres",
                "-f",
                file,
            ]);
        const first = await apply();
        expect(first.code, first.stderr).toBe(0);
        const actions = (out: string) =>
            out
                .trim()
                .split("\n")
                .map((l) => JSON.parse(l))
                .map((e) => `${e.role}:${e.action}`);
        // Root existed (initdb) with another password: updated. The app roles are new.
        expect(actions(first.stdout)).toEqual([`${ROOT}:updated`, "app_user:created", "app_service:created"]);
        const second = await apply();
        expect(second.code, second.stderr).toBe(0);
        expect(actions(second.stdout)).toEqual([`${ROOT}:unchanged`, "app_user:unchanged", "app_service:unchanged"]);
    });
});
