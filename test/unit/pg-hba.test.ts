/**
 * pg_hba.conf admits TCP logins only from the client networks it is given (the db-only
 * subnet in containers), never from every address, and the networks component refuses to
 * render one when the engine reports no subnet instead of falling back to 0.0.0.0/0.
 */
import { describe, expect, it } from "vitest";
import { subnetsOf } from "../../components/tier-networks";
import { containerPlacement } from "../../plan/placement";
import { renderPgHba } from "../../render/pg-hba";

describe("pg_hba.conf", () => {
    it("has one SCRAM line per client network and none for any other address", () => {
        const hba = renderPgHba({ clientNetworks: ["10.214.3.0/24"], localPeer: true, peerMap: "dbtier", replicationRole: "wal_receiver" });
        expect(hba.trim().split("\n").slice(1)).toEqual([
            "local all all peer map=dbtier",
            "host replication wal_receiver 10.214.3.0/24 scram-sha-256",
            "host all all 10.214.3.0/24 scram-sha-256",
        ]);
        expect(hba).not.toMatch(/0\.0\.0\.0\/0|::\/0/);
    });

    it("refuses no network, a catch-all and anything that is not a CIDR", () => {
        expect(() => renderPgHba({ clientNetworks: [], localPeer: false })).toThrow(/no client network/);
        expect(() => renderPgHba({ clientNetworks: ["0.0.0.0/0"], localPeer: false })).toThrow(/admits every address/);
        expect(() => renderPgHba({ clientNetworks: ["::/0"], localPeer: false })).toThrow(/admits every address/);
        expect(() => renderPgHba({ clientNetworks: ["10.0.0.0/24 trust\nhost all all 0.0.0.0/0"], localPeer: false })).toThrow(
            /is not a CIDR/,
        );
        expect(() => renderPgHba({ clientNetworks: ["samenet"], localPeer: false })).toThrow(/is not a CIDR/);
        expect(renderPgHba({ clientNetworks: ["fd00:db::/64"], localPeer: false })).toContain("host all all fd00:db::/64 scram-sha-256");
    });
});

describe("the db-only subnets", () => {
    it("come from the engine's IPAM record", () => {
        expect(subnetsOf("dev-app-db-only", [{ subnet: "10.214.9.0/24" }, { subnet: "fd00:9::/64" }])).toEqual([
            "10.214.9.0/24",
            "fd00:9::/64",
        ]);
    });

    it("are an error when the engine reports none, never a fallback", () => {
        expect(() => subnetsOf("dev-app-db-only", [])).toThrow(/dev-app-db-only: the Docker engine reports no subnet/);
        expect(() => subnetsOf("dev-app-db-only", undefined)).toThrow(/reports no subnet/);
        expect(() => subnetsOf("dev-app-db-only", [{ subnet: "" }])).toThrow(/reports no subnet/);
    });
});

describe("where Postgres listens in a container", () => {
    it("on its db-only name and 127.0.0.1, never on every address (backup-egress would reach it)", () => {
        const at = containerPlacement({ endpoint: "http://object-store:9000", region: "us-east-1" }).postgres;
        expect(at.listenAddresses).toBe(`${at.host},127.0.0.1`);
        expect(at.listenAddresses).not.toContain("*");
    });
});
