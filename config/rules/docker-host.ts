/**
 * The Docker host the tier deploys to. Whoever can talk to a Docker API is root on that
 * host, so the API must never travel in plain text:
 * - `unix:///path`: the local engine's socket;
 * - `ssh://[user@]host[:port]`: Docker's SSH transport (keys from ssh-agent; a password in
 *   the URL is refused);
 * - `tcp://host:port` only together with `dockerCertPath`, a directory holding the client
 *   TLS files `ca.pem`, `cert.pem` and `key.pem` (Docker's `--tlsverify` layout,
 *   https://docs.docker.com/engine/security/protect-access/).
 * Parsed with Node's URL parser.
 */
export const DOCKER_HOST_EXAMPLES =
    "unix:///var/run/docker.sock, ssh://deploy@db-1.internal or tcp://db-1.internal:2376 with dockerCertPath";

export function dockerHostProblem(value: string, certPath: string | undefined): string | undefined {
    const scheme = /^([a-z][a-z0-9+.-]*):\/\//i.exec(value)?.[1]?.toLowerCase();
    if (!scheme) return `must be a URL such as ${DOCKER_HOST_EXAMPLES} (got "${value}")`;
    let url: URL;
    try {
        url = new URL(value);
    } catch {
        return `must be a URL such as ${DOCKER_HOST_EXAMPLES} (got "${value.replace(/\/\/[^/@]*@/, "//***@")}")`;
    }
    switch (scheme) {
        case "unix":
            return url.host === "" && url.pathname.length > 1 ? undefined : `must be unix:///absolute/path/to/docker.sock (got "${value}")`;
        case "ssh":
            if (url.password) return "must not carry a password (ssh://user:password@...); use ssh://user@host with a key in ssh-agent";
            if (!url.hostname || (url.pathname !== "" && url.pathname !== "/")) return `must be ssh://user@host[:port] (got "${value}")`;
            return undefined;
        case "tcp":
            if (!url.hostname || !url.port) return `must be tcp://host:port (got "${value}")`;
            if (!certPath) {
                return "tcp:// sends the Docker API (root on that host) without TLS; use ssh://user@host, or set db-tier:dockerCertPath to a directory with ca.pem, cert.pem and key.pem";
            }
            return undefined;
        default:
            return `must use unix://, ssh:// or tcp:// (got ${scheme}://), e.g. ${DOCKER_HOST_EXAMPLES}`;
    }
}
