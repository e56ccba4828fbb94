/** "Did you mean": the closest known name within a small edit distance. */

/** Optimal string alignment distance (Damerau-Levenshtein with adjacent swaps). */
export function editDistance(a: string, b: string): number {
    const d: number[][] = Array.from({ length: a.length + 1 }, (_, i) => [i, ...Array(b.length).fill(0)]);
    for (let j = 1; j <= b.length; j++) d[0][j] = j;
    for (let i = 1; i <= a.length; i++) {
        for (let j = 1; j <= b.length; j++) {
            const cost = a[i - 1] === b[j - 1] ? 0 : 1;
            d[i][j] = Math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost);
            if (i > 1 && j > 1 && a[i - 1] === b[j - 2] && a[i - 2] === b[j - 1]) d[i][j] = Math.min(d[i][j], d[i - 2][j - 2] + 1);
        }
    }
    return d[a.length][b.length];
}

/** Known spellings people reach for, by the key they meant. */
const ALIASES: Readonly<Record<string, string>> = {
    bucketname: "bucket",
    bucket_name: "bucket",
    host: "dockerHost",
    docker_host: "dockerHost",
    bindaddress: "hostBindAddress",
    env: "environment",
    cluster: "clusters",
    database: "databases",
    pool_size: "defaultPoolSize",
    default_pool_size: "defaultPoolSize",
    max_connections: "maxConnections",
    shared_buffers: "sharedBuffers",
    max_client_conn: "maxClientConn",
    rpo: "rpoSeconds",
    rto: "rtoSeconds",
    cron: "schedule",
};

export function suggest(key: string, known: readonly string[]): string | undefined {
    const fold = (s: string) => s.toLowerCase().replace(/[-_]/g, "");
    const alias = ALIASES[key.toLowerCase()];
    if (alias && known.includes(alias)) return alias;
    const same = known.find((k) => fold(k) === fold(key));
    if (same) return same;
    let best: string | undefined;
    let bestDistance = Number.POSITIVE_INFINITY;
    for (const k of known) {
        const distance = editDistance(fold(key), fold(k));
        if (distance < bestDistance) [best, bestDistance] = [k, distance];
    }
    return best !== undefined && bestDistance <= Math.max(1, Math.floor(Math.min(key.length, best.length) / 3)) ? best : undefined;
}
