/**
 * pg_hba.conf and pg_ident.conf: SCRAM for every TCP login; on the container-local socket,
 * peer authentication through an ident map (the provisioner converges roles over that
 * socket, so it never needs root's password; `docker exec ... psql` during a restore uses it
 * too). md5, password and trust never appear.
 */
export interface PgHbaInput {
    /** Allow the Unix socket with peer authentication (the container's own OS users). */
    readonly localPeer: boolean;
    /** pg_ident.conf map that says which OS user may be which role on the socket. */
    readonly peerMap?: string;
    /**
     * Streaming WAL archiving: the one role allowed a replication connection (SCRAM, like
     * every TCP login). Without it no role, root included, may open one over TCP.
     */
    readonly replicationRole?: string;
}

export function renderPgHba(h: PgHbaInput): string {
    const peer = h.peerMap ? `local all all peer map=${h.peerMap}` : "local all all peer";
    const lines = [
        "# Rendered by db-tier. TYPE  DATABASE  USER  ADDRESS  METHOD",
        ...(h.localPeer ? [peer] : []),
        ...(h.replicationRole
            ? [
                  `host replication ${hbaRole(h.replicationRole)} 0.0.0.0/0 scram-sha-256`,
                  `host replication ${hbaRole(h.replicationRole)} ::/0 scram-sha-256`,
              ]
            : []),
        "host all all 0.0.0.0/0 scram-sha-256",
        "host all all ::/0 scram-sha-256",
    ];
    return `${lines.join("\n")}\n`;
}

function hbaRole(role: string): string {
    if (!/^[a-z_][a-z0-9_]*$/.test(role)) throw new Error(`renderPgHba: bad replication role ${role}`);
    return role;
}

export interface IdentMapping {
    readonly osUser: string;
    readonly role: string;
}

/** pg_ident.conf: `<map> <os user> <role>` lines. */
export function renderPgIdent(map: string, mappings: readonly IdentMapping[]): string {
    for (const m of mappings) {
        if (!/^[a-z_][a-z0-9_-]*$/.test(m.osUser) || !/^[a-z_][a-z0-9_]*$/.test(m.role)) {
            throw new Error(`renderPgIdent: bad mapping ${m.osUser} -> ${m.role}`);
        }
    }
    return `# Rendered by db-tier. MAPNAME  SYSTEM-USERNAME  PG-USERNAME\n${mappings.map((m) => `${map} ${m.osUser} ${m.role}`).join("\n")}\n`;
}
