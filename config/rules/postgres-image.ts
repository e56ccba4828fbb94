/**
 * The tier is PostgreSQL 15: its data directory, WAL-G's pg_control reading and the
 * restore runbook all assume that major version, and a data directory of one major does
 * not start under another (https://www.postgresql.org/docs/15/upgrading.html). So an image
 * whose tag names another major (`postgres:16`, `…:14-alpine`, `…:pg16`, `…:16.2-bookworm`)
 * is refused, and so is the official `postgres` image without a version tag (`latest`
 * floats to whatever major is newest).
 *
 * The reference is split the way Docker reads it (distribution/reference): an optional
 * `@digest`, then a tag after the last ':' that comes after the last '/' (a ':' before it is
 * a registry port).
 */
export const POSTGRES_MAJOR = 15;

export function imageTag(ref: string): { repository: string; tag: string | undefined } {
    const noDigest = ref.split("@")[0];
    const slash = noDigest.lastIndexOf("/");
    const colon = noDigest.lastIndexOf(":");
    if (colon > slash) return { repository: noDigest.slice(0, colon), tag: noDigest.slice(colon + 1) };
    return { repository: noDigest, tag: undefined };
}

/** The PostgreSQL major a tag names, if it names one. */
function tagMajor(tag: string): number | undefined {
    const m =
        /^(?:pg|postgres(?:ql)?-?)?(\d{1,2})(?:\.\d+)*(?:[-_].*)?$/i.exec(tag) ??
        /(?:^|[-_])(?:pg|postgres(?:ql)?)-?(\d{1,2})(?:\.\d+)*(?:$|[-_])/i.exec(tag);
    if (!m) return undefined;
    const n = Number(m[1]);
    return n >= 9 && n <= 30 ? n : undefined;
}

export function postgresImageProblem(ref: string): string | undefined {
    if (/\s/.test(ref) || ref === "") return `"${ref}" is not an image reference (e.g. registry.example.com/db-tier-postgres:0.1.0)`;
    const { repository, tag } = imageTag(ref);
    const official = /^(docker\.io\/)?(library\/)?postgres$/.test(repository);
    if (official && (tag === undefined || tag === "latest") && !ref.includes("@")) {
        return `"${ref}" floats to the newest PostgreSQL major; the tier runs PostgreSQL ${POSTGRES_MAJOR} with WAL-G (e.g. the image built from images/postgres, or postgres:${POSTGRES_MAJOR} plus WAL-G)`;
    }
    const major = tag !== undefined ? tagMajor(tag) : undefined;
    if (major !== undefined && major !== POSTGRES_MAJOR) {
        return `"${ref}" is PostgreSQL ${major}; the tier runs PostgreSQL ${POSTGRES_MAJOR} (data directories do not cross majors): use a ${POSTGRES_MAJOR} image, e.g. …/db-tier-postgres built from images/postgres`;
    }
    return undefined;
}
