/**
 * pg_hba.conf: SCRAM for every TCP login, peer on the container-local socket (for
 * `docker exec ... psql` during a restore), nothing else. md5 and trust never appear.
 */
export interface PgHbaInput {
    /** Allow the Unix socket with peer authentication (the container's own OS users). */
    readonly localPeer: boolean;
}

export function renderPgHba(h: PgHbaInput): string {
    const lines = [
        "# Rendered by db-tier. TYPE  DATABASE  USER  ADDRESS  METHOD",
        ...(h.localPeer ? ["local all all peer"] : []),
        "host all all 0.0.0.0/0 scram-sha-256",
        "host all all ::/0 scram-sha-256",
    ];
    return `${lines.join("\n")}\n`;
}
