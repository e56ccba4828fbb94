/**
 * The validation rules, by the key a user writes, in words. scripts/config-docs.ts prints
 * them next to each field in docs/configuration.md, with the catalogue cases that prove
 * each (test/catalogue/bad-inputs.ts); the wording is built from the same constants the
 * checks use, so the page cannot promise a limit the code does not enforce.
 */
import { MIGRATE_ALIAS_SUFFIX } from "../../vocabulary";
import { BUCKET_RULES } from "./bucket-name";
import { DOCKER_HOST_EXAMPLES } from "./docker-host";
import { B2_ENDPOINT_EXAMPLE, R2_ENDPOINT_EXAMPLE } from "./endpoint";
import { POOLER_HEADROOM } from "./pool-budget";
import { POSTGRES_DEFAULT_PIDS } from "./container-limits";
import { POSTGRES_MAJOR } from "./postgres-image";
import { PRODUCTION_SSL_MODES } from "./production";
import { MAX_DATABASE_NAME_BYTES, MAX_IDENTIFIER_BYTES, RESERVED_DATABASES, RESERVED_ROLES } from "./postgres-names";
import { MIN_BACKUP_GAP_MINUTES } from "./schedule";
import { MIN_RPO_SECONDS } from "./rpo";
import { MAX_RPO_SECONDS } from "../../vocabulary";

export interface FieldRules {
    readonly key: string;
    readonly rules: readonly string[];
}

export const FIELD_RULES: readonly FieldRules[] = [
    {
        key: "(namespace)",
        rules: [
            "keys in a namespace that is a near miss of `db-tier` (`db-teir`, `dbtier`, `db_tier`) are refused, not ignored",
            "a dotted key (`db-tier:storage.bucket`) is refused: nest it, or use `pulumi config set --path`",
            'an unknown key is refused with the closest known key ("did you mean") and the allowed keys',
        ],
    },
    {
        key: "environment",
        rules: [
            "a DNS label (1-32 of a-z, 0-9, '-')",
            "must equal the stack's name: a copied stack file would otherwise share `s3://<bucket>/<environment>/` and the Docker names with the stack it came from, and either one's retention would delete the other's backups",
        ],
    },
    {
        key: "dockerHost",
        rules: [
            `one of ${DOCKER_HOST_EXAMPLES}`,
            "`tcp://` only with `dockerCertPath` (the Docker API is root on that host)",
            "no password in the URL",
        ],
    },
    { key: "dockerCertPath", rules: ["a directory with `ca.pem`, `cert.pem`, `key.pem`; only with a `tcp://` dockerHost"] },
    {
        key: "hostBindAddress",
        rules: [
            "an IPv4 or IPv6 address (Node's `net.isIP`); `[::1]` is read as `::1`; no zone index, no port, no host name",
            "not `0.0.0.0` or `::` while any port is published (pgBouncer's `publishPort`, the embedded MinIO's `embeddedPort`)",
        ],
    },
    {
        key: "storage.bucket",
        rules: [
            `minio: ${BUCKET_RULES.minio.summary}`,
            `r2: ${BUCKET_RULES.r2.summary}`,
            `b2: ${BUCKET_RULES.b2.summary}`,
            "sources: AWS S3 general-purpose bucket naming rules, minio-go s3utils.CheckValidBucketNameStrict, Cloudflare R2 and Backblaze B2 bucket docs (cited in config/rules/bucket-name.ts)",
        ],
    },
    {
        key: "storage.endpoint / storage.apiEndpoint",
        rules: [
            "an http(s) URL with no path, query or credentials (`user:secret@` is refused and never echoed)",
            `r2: \`https://<32-hex account id>.r2.cloudflarestorage.com\` (or \`.eu.\` / \`.fedramp.\`), e.g. ${R2_ENDPOINT_EXAMPLE}`,
            `b2: \`https://s3.<region>.backblazeb2.com\`, e.g. ${B2_ENDPOINT_EXAMPLE}`,
            "`http://` only to a loopback address (127.0.0.0/8, ::1, localhost)",
            "`endpoint` is not set with `embedded: true` (the tier sets it)",
        ],
    },
    { key: "storage.region", rules: ["r2: `auto`", "b2: the endpoint's region (or leave it out)"] },
    {
        key: "sslmode",
        rules: [
            `production-like environments (\`prod\`, \`production\`, \`prd\`, \`live\`): one of ${PRODUCTION_SSL_MODES.map((m) => `\`${m}\``).join(", ")}, never \`disable\` or \`prefer\``,
            "anything but `disable` needs `tlsCertPem` and `tlsKeyPem` (secrets)",
        ],
    },
    {
        key: "storage.embedded",
        rules: [
            "minio only",
            "local development only: refused when the environment is production-like (`prod`, `production`, `prd`, `live`) or the dockerHost is remote",
        ],
    },
    {
        key: "clusters[].databases",
        rules: [
            `unquoted PostgreSQL identifiers: a-z, 0-9, '_', not starting with a digit; capitals are refused with the lowercase form PostgreSQL would fold them to`,
            `at most ${MAX_DATABASE_NAME_BYTES} bytes, so the \`<db>${MIGRATE_ALIAS_SUFFIX}\` alias fits PostgreSQL's and pgBouncer's ${MAX_IDENTIFIER_BYTES}`,
            `not ${Object.keys(RESERVED_DATABASES).join(", ")}, nor ending with \`${MIGRATE_ALIAS_SUFFIX}\`; no duplicates`,
        ],
    },
    {
        key: "clusters[].rootUser",
        rules: [
            `an unquoted identifier of at most ${MAX_IDENTIFIER_BYTES} bytes`,
            `not starting with \`pg_\`; not ${Object.keys(RESERVED_ROLES).join(", ")}`,
        ],
    },
    { key: "backup.schedule", rules: ["a valid 5-field UTC cron", "at least daily", `at most every ${MIN_BACKUP_GAP_MINUTES} minutes`] },
    {
        key: "backup.rpoSeconds",
        rules: [
            `${MIN_RPO_SECONDS}-${MAX_RPO_SECONDS} whole seconds: below ${MIN_RPO_SECONDS} s forced WAL switches cost uploads for little less loss (docs/benchmarks.md); seconds of RPO: \`backup.walStreaming\``,
        ],
    },
    {
        key: "drill.schedule",
        rules: [
            "a valid 5-field UTC cron",
            "at least monthly",
            "runs at least `max(3600, drill.rtoSeconds)` seconds apart, so drills never overlap",
        ],
    },
    { key: "drill.oldestPointSchedule", rules: ["a valid 5-field UTC cron", "at least monthly"] },
    { key: "drill.database", rules: ["a database of every cluster (one drill setting serves them all)"] },
    {
        key: "drill.tables / drill.minRows",
        rules: [
            "`table` or `schema.table`, lowercase identifiers, no duplicates",
            'when `tables` is set, every `minRows` key must be one of them (with a "did you mean" for `orders` vs `public.orders`)',
            "`minRows` values: whole numbers, at least 0",
        ],
    },
    {
        key: "pgbouncer.defaultPoolSize / postgres.maxConnections",
        rules: [
            `2 users x 2 pgBouncer databases per database (\`<db>\`, \`<db>${MIGRATE_ALIAS_SUFFIX}\`) x min(defaultPoolSize x 2, max_db_connections) must fit in maxConnections - ${POOLER_HEADROOM} (kept for root, provisioning, backups); the message names both limits`,
        ],
    },
    {
        key: "pgbouncer.publishPort",
        rules: ["only with one cluster (each cluster's pgBouncer would publish it)", "not the embedded MinIO's `storage.embeddedPort`"],
    },
    {
        key: "postgres.sharedBuffers",
        rules: [
            "PostgreSQL memory syntax: a whole number with B, kB, MB, GB or TB (case-sensitive; a bare number counts 8kB blocks)",
            "at least 128kB (PostgreSQL's floor of 16 blocks)",
        ],
    },
    {
        key: "postgres.image",
        rules: [
            `PostgreSQL ${POSTGRES_MAJOR}: a tag naming another major (\`postgres:16\`, \`:14-alpine\`, \`:pg16\`) is refused, and so is the official \`postgres\` image without a version tag`,
        ],
    },
    {
        key: "limits.postgres.memoryMB / limits.postgres.pids",
        rules: [
            "memoryMB at least `postgres.sharedBuffers` + 128MB; default shared_buffers + 6MB per `postgres.maxConnections` + 256MB, rounded up to 64MB",
            `pids at least \`postgres.maxConnections\` + 64; default ${POSTGRES_DEFAULT_PIDS}, above every other container's (the limit counts per uid on the host)`,
        ],
    },
];
