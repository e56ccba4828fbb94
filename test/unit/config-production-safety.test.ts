/** Production safety: embedded MinIO, Docker transport, http endpoints, credentials in URLs, regions. */
import { describe, expect, it } from "vitest";
import { ConfigError } from "../../config/errors";
import { dockerHostProblem } from "../../config/rules/docker-host";
import { endpointShapeProblem, isLoopbackHost, shown } from "../../config/rules/endpoint";
import { BAD_INPUTS } from "../catalogue/bad-inputs";
import { catalogueTests, errorOf } from "../catalogue/assert";

describe("production safety", () => {
    catalogueTests("production-safety", 13);

    it("never echoes a secret written into a URL", () => {
        const secrets = ["SECRET", "KEYID", "hunter2", "minio123"];
        const cases = BAD_INPUTS.filter((c) => secrets.some((s) => c.shown.includes(s)));
        expect(cases.length).toBeGreaterThanOrEqual(3);
        for (const c of cases) {
            const e = errorOf(c.run) as ConfigError;
            expect(e).toBeInstanceOf(ConfigError);
            for (const s of secrets) expect(e.message, c.title).not.toContain(s);
        }
        expect(endpointShapeProblem("htp//KEY:SECRET@host")).not.toContain("SECRET");
        expect(shown("https://k:s@host:9000")).toBe("https://***@host:9000");
        expect(dockerHostProblem("ssh://u:pw@h", undefined)).not.toContain("pw");
    });

    it("treats only loopback as safe for http://", () => {
        for (const h of ["127.0.0.1", "127.8.9.10", "::1", "[::1]", "localhost", "minio.localhost"])
            expect(isLoopbackHost(h), h).toBe(true);
        for (const h of ["10.0.0.1", "192.168.1.5", "minio", "object-store", "::ffff:10.0.0.1", "fd00::1", "localhost.example.com"])
            expect(isLoopbackHost(h), h).toBe(false);
    });

    it("accepts the Docker transports that protect the API, and only those", () => {
        expect(dockerHostProblem("unix:///var/run/docker.sock", undefined)).toBeUndefined();
        expect(dockerHostProblem("ssh://deploy@db-1.internal:2222", undefined)).toBeUndefined();
        expect(dockerHostProblem("tcp://10.0.0.5:2376", "/etc/db-tier/docker-certs")).toBeUndefined();
        expect(dockerHostProblem("tcp://10.0.0.5:2376", undefined)).toContain("without TLS");
        expect(dockerHostProblem("tcp://10.0.0.5", "/certs")).toContain("must be tcp://host:port");
        expect(dockerHostProblem("npipe:////./pipe/docker_engine", undefined)).toContain("must use unix://, ssh:// or tcp://");
        expect(dockerHostProblem("unix://relative.sock", undefined)).toContain("must be unix:///absolute/path");
    });
});

describe("URLs in messages", () => {
    it("hide userinfo even when the URL does not parse, and query strings always", () => {
        expect(shown("htp//KEY:SECRET@host")).toBe("***@host");
        expect(shown("https://a:b@c@host")).toBe("https://***@host");
        expect(endpointShapeProblem("https://s3.example.com/?X-Amz-Signature=SECRET")).toBe(
            'must be an http(s) URL like https://host[:port] with no path (got "https://s3.example.com/?…")',
        );
    });
});
