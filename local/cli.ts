/**
 * `npm run local -- VERB`: the real tier on loopback. See CONTRACT.md for the verbs:
 * up | env | backup | rotate | drill [--point newest|oldest] [--target-time ISO] [--keep-port PORT] | down [--purge]
 */
import { parseDrillArgs } from "../jobs/restore-drill";
import { backup, context, down, drill, envLines, rotate, up } from "./tier";

// The AWS SDK warns that its releases from 2027 on need Node 22; the pinned one runs on 20.
process.removeAllListeners("warning");
process.on("warning", (w) => {
    if (!`${w.name} ${w.message}`.includes("NodeVersionSupportWarning")) process.stderr.write(`${w.name}: ${w.message}\n`);
});

const USAGE =
    "usage: npm run local -- up | env | backup | rotate | drill [--point newest|oldest] [--target-time ISO8601] [--keep-port PORT] | down [--purge]";

async function main(argv: string[]): Promise<number> {
    const [verb, ...rest] = argv;
    const c = context();
    const noArgs = (): void => {
        if (rest.length > 0) throw new UsageError(`${verb} takes no arguments`);
    };
    switch (verb) {
        case "up":
            noArgs();
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
