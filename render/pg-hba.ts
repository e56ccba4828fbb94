/**
 * pg_hba.conf and pg_ident.conf: SCRAM for every TCP login, and only from the networks the
 * tier's own clients are on; on the container-local socket, peer authentication through an
 * ident map (the provisioner converges roles over that socket, so it never needs root's
 * password; `docker exec ... psql` during a restore uses it too). md5, password and trust
 * never appear.
 */
export interface PgHbaInput {
    /**
     * CIDRs a TCP login may come from: the cluster's db-only subnet in containers (pgBouncer,
     * the backup job and the WAL receiver are there; the object store and the drill on
     * backup-egress are not), 127.0.0.1/32 on loopback. At least one; never 0.0.0.0/0.
     */
    readonly clientNetworks: readonly string[];
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
    const networks = h.clientNetworks.map(clientNetwork);
    if (networks.length === 0) throw new Error("renderPgHba: no client network: no TCP login could succeed");
    const replicationRole = h.replicationRole === undefined ? undefined : hbaRole(h.replicationRole);
    const lines = [
        "# Rendered by db-tier. TYPE  DATABASE  USER  ADDRESS  METHOD",
        ...(h.localPeer ? [peer] : []),
        ...(replicationRole ? networks.map((n) => `host replication ${replicationRole} ${n} scram-sha-256`) : []),
        ...networks.map((n) => `host all all ${n} scram-sha-256`),
    ];
    return `${lines.join("\n")}\n`;
}

const IPV4_CIDR = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}\/(3[0-2]|[12]?\d)$/;
const IPV6_CIDR = /^[0-9a-f:]*:[0-9a-f:]*\/(12[0-8]|1[01]\d|[1-9]?\d)$/i;

/** A client network as pg_hba.conf takes it; a catch-all (`/0`) is refused, it would undo the narrowing. */
function clientNetwork(cidr: string): string {
    if (!IPV4_CIDR.test(cidr) && !IPV6_CIDR.test(cidr)) throw new Error(`renderPgHba: client network "${cidr}" is not a CIDR`);
    if (cidr.endsWith("/0")) throw new Error(`renderPgHba: client network ${cidr} admits every address`);
    return cidr;
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
