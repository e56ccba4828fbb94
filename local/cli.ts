/**
 * `npm run local -- VERB`: the real tier on loopback, running a stack's plan. See CONTRACT.md for the verbs:
 * up [--stack NAME] [--cluster NAME] | env | backup | rotate | drill [--point newest|oldest] [--target-time ISO] [--keep-port PORT] | down [--purge]
 */
import { parseDrillArgs } from "../jobs/restore-drill";
import type { Selection } from "./plan";
import { backup, context, down, drill, envLines, rotate, up } from "./tier";

// The AWS SDK warns that its releases from 2027 on need Node 22; the pinned one runs on 20.
process.removeAllListeners("warning");
process.on("warning", (w) => {
    if (!`${w.name} ${w.message}`.includes("NodeVersionSupportWarning")) process.stderr.write(`${w.name}: ${w.message}\n`);
});

const USAGE =
    "usage: npm run local -- up [--stack NAME] [--cluster NAME] | env | backup | rotate | drill [--point newest|oldest] [--target-time ISO8601] [--keep-port PORT] | down [--purge] | help";

const HELP = `${USAGE}

up runs one cluster of a stack on 127.0.0.1: Pulumi.<NAME>.yaml (default dev; later verbs run the
stack and cluster the last up chose), validated by the same schema as pulumi up, its first cluster
unless --cluster names another. Its parameters are the stack's (plan/); only the placement differs:
paths under DBTIER_LOCAL_DIR, 127.0.0.1, DBTIER_LOCAL_{POSTGRES,PGBOUNCER,MINIO}_PORT.
Stood in locally: the embedded MinIO for the stack's R2/B2/MinIO (same bucket name), generated
MinIO credentials for db-tier:storageAccessKeyId/storageSecretAccessKey, a self-signed certificate
for db-tier:tlsCertPem/tlsKeyPem (when sslmode is not disable). The stack's dockerHost,
hostBindAddress and published ports do not apply.
Overrides (validated like the stack's values): DBTIER_LOCAL_RPO_SECONDS,
DBTIER_LOCAL_ARCHIVE_PUSH_TIMEOUT_SECONDS, DBTIER_LOCAL_COMPRESSION,
DBTIER_LOCAL_PGBOUNCER_RESET=0|1, DBTIER_LOCAL_WAL_STREAMING=0|1 (remembered by the tier).`;

/** `up`'s options: --stack NAME, --cluster NAME. */
function parseUpArgs(rest: readonly string[]): Selection {
    const out: { stack?: string; cluster?: string } = {};
    for (let i = 0; i < rest.length; i += 2) {
        const [flag, value] = [rest[i], rest[i + 1]];
        if ((flag !== "--stack" && flag !== "--cluster") || value === undefined || value.startsWith("--")) {
            throw new UsageError(`up takes --stack NAME and --cluster NAME (got ${rest.join(" ")})`);
        }
        out[flag === "--stack" ? "stack" : "cluster"] = value;
    }
    return out;
}

async function main(argv: string[]): Promise<number> {
    const [verb, ...rest] = argv;
    if (verb === "help" || verb === "--help" || verb === "-h") {
        process.stdout.write(`${HELP}\n`);
        return 0;
    }
    const c = context(process.env, verb === "up" ? parseUpArgs(rest) : {});
    const noArgs = (): void => {
        if (rest.length > 0) throw new UsageError(`${verb} takes no arguments`);
    };
    switch (verb) {
        case "up":
            await up(c);
            return 0;
        case "env":
            noArgs();
            for (const line of envLines(c)) c.out(line);
            return 0;
        case "backup":
            noArgs();
            return backup(c);
        case "rotate":
            noArgs();
            await rotate(c);
            return 0;
        case "drill": {
            let opts: ReturnType<typeof parseDrillArgs>;
            try {
                opts = parseDrillArgs(rest);
            } catch (e) {
                throw new UsageError((e as Error).message);
            }
            return drill(c, opts);
        }
        case "down":
            if (rest.some((a) => a !== "--purge")) throw new UsageError("down takes only --purge");
            await down(c, rest.includes("--purge"));
            return 0;
        default:
            throw new UsageError(verb ? `unknown verb "${verb}"` : "no verb");
    }
}

class UsageError extends Error {}

main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (e) => {
        process.stderr.write(`local: ${e instanceof Error ? e.message : String(e)}\n`);
        if (e instanceof UsageError) process.stderr.write(`${USAGE}\n`);
        process.exit(e instanceof UsageError ? 2 : 1);
    },
);
