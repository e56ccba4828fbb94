/**
 * npm run policy:check -- --stack NAME [--program PATH] [--preview] [--policy-config FILE]
 *
 * Runs the program (default index.ts) under the Pulumi mock runtime with the config of
 * Pulumi.NAME.yaml, feeds every registered resource (type, name, URN, parent, provider,
 * dependencies, properties) to the policy objects the pack in policy/ exports, at the
 * enforcement levels of policy/config/NAME.json (the pack config the workflows pass to
 * `pulumi preview`), and prints one JSON object per violation on stdout:
 *
 *   {"policy": "...", "level": "mandatory|advisory", "urn": "...", "message": "..."}
 *
 * Exit 1 if any mandatory violation was found, 0 if none, 2 on a usage or configuration
 * error (reason on stderr). `--preview` runs as a preview: computed values stay unknown and
 * checks that need them are reported as advisory "check deferred to up" lines.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { evaluatePolicies, type Violation } from "../policy/lib/evaluate";
import { loadPackConfig, type PackConfig, PackConfigError } from "../policy/lib/pack-config";
import { ProgramError, recordProgram } from "../policy/offline/record";
import { readExternalSecrets, readStackConfig, UsageError } from "../policy/offline/stack-config";
import { policies } from "../policy/policies";

const ROOT = path.resolve(__dirname, "..");
/** Where the user ran the command (npm runs scripts from the package root and keeps this). */
const CWD = process.env.INIT_CWD ?? process.cwd();
const USAGE = "usage: npm run policy:check -- --stack NAME [--program PATH] [--preview] [--policy-config FILE]";

interface Args {
    stack: string;
    program: string;
    preview: boolean;
    policyConfig?: string;
}

function parseArgs(argv: string[]): Args {
    const out: Partial<Args> = { preview: false };
    for (let i = 0; i < argv.length; i++) {
        const arg = argv[i];
        const [flag, inline] =
            arg.startsWith("--") && arg.includes("=")
                ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)]
                : [arg, undefined];
        const value = (): string => {
            const v = inline ?? argv[++i];
            if (v === undefined || v === "" || (inline === undefined && v.startsWith("--"))) throw new UsageError(`${flag} needs a value`);
            return v;
        };
        switch (flag) {
            case "--stack":
            case "-s":
                out.stack = value();
                break;
            case "--program":
                out.program = value();
                break;
            case "--policy-config":
                out.policyConfig = value();
                break;
            case "--preview":
                out.preview = true;
                break;
            case "--help":
            case "-h":
                process.stdout.write(`${USAGE}\n`);
                process.exit(0);
                break;
            default:
                throw new UsageError(`unknown argument "${arg}"`);
        }
    }
    if (!out.stack) throw new UsageError("--stack is required");
    return {
        stack: out.stack,
        program: out.program ?? path.join(ROOT, "index.ts"),
        preview: out.preview ?? false,
        policyConfig: out.policyConfig,
    };
}

/**
 * Keeps the program's own console output off stdout, which carries only violations, and
 * scrubs offline secret placeholders from whatever the program prints.
 */
function quarantineOutput<T>(scrub: (s: string) => string, run: () => Promise<T>): Promise<T> {
    const out = process.stdout.write.bind(process.stdout);
    const err = process.stderr.write.bind(process.stderr);
    const log = console.log;
    const info = console.info;
    const toStderr = ((chunk: unknown, ...rest: unknown[]) =>
        (err as (...a: unknown[]) => boolean)(
            typeof chunk === "string" ? scrub(chunk) : Buffer.isBuffer(chunk) ? scrub(chunk.toString("utf8")) : chunk,
            ...rest,
        )) as typeof process.stderr.write;
    process.stdout.write = toStderr;
    process.stderr.write = toStderr;
    console.log = console.info = (...a: unknown[]) => console.error(...a);
    return run().finally(() => {
        process.stdout.write = out;
        process.stderr.write = err;
        console.log = log;
        console.info = info;
    });
}

async function main(): Promise<number> {
    let scrub = (s: string) => s;
    const fail = (reason: string): number => {
        process.stderr.write(`policy:check: ${scrub(reason)}\n`);
        return 2;
    };
    let args: Args;
    try {
        args = parseArgs(process.argv.slice(2));
    } catch (e) {
        return fail(`${(e as Error).message}\n${USAGE}`);
    }
    const program = path.resolve(CWD, args.program);
    if (!fs.existsSync(program) || !fs.statSync(program).isFile()) return fail(`program file not found: ${args.program}`);

    let packConfig: PackConfig = {};
    let stack: ReturnType<typeof readStackConfig>;
    try {
        stack = readStackConfig(
            ROOT,
            args.stack,
            readExternalSecrets(path.join(ROOT, "policy", "offline", "external-secrets.json"), args.stack),
        );
        const configFile = args.policyConfig
            ? path.resolve(CWD, args.policyConfig)
            : path.join(ROOT, "policy", "config", `${args.stack}.json`);
        if (args.policyConfig && !fs.existsSync(configFile)) return fail(`policy config not found: ${args.policyConfig}`);
        if (fs.existsSync(configFile)) packConfig = loadPackConfig(configFile, policies);
    } catch (e) {
        if (e instanceof UsageError || e instanceof PackConfigError) return fail(e.message);
        throw e;
    }
    // Offline placeholders for `secure:` values never reach the output.
    const secrets = stack.placeholders.map((k) => stack.config[k]).filter((v) => v.length > 0);
    scrub = (s: string) => secrets.reduce((acc, v) => acc.split(v).join("[secret]"), s);

    let records: Awaited<ReturnType<typeof recordProgram>>;
    try {
        records = await quarantineOutput(scrub, () =>
            recordProgram(program, {
                project: stack.project,
                stack: stack.stack,
                config: stack.config,
                secretKeys: stack.secretKeys,
                preview: args.preview,
            }),
        );
    } catch (e) {
        if (e instanceof ProgramError && (e.original as Error | undefined)?.name === "ConfigError") {
            // The tier's validation refused the stack's config: say so plainly, by the stack file.
            const file =
                ["yaml", "yml"].map((x) => `Pulumi.${args.stack}.${x}`).find((f) => fs.existsSync(path.join(ROOT, f))) ??
                `Pulumi.${args.stack}.yaml`;
            return fail(`stack ${args.stack}: the configuration in ${file} is invalid; fix these keys:\n${(e.original as Error).message}`);
        }
        if (e instanceof ProgramError)
            return fail(
                `the program ${args.program} failed under the mock runtime with the config of Pulumi.${args.stack}.yaml:\n${e.message}`,
            );
        throw e;
    }

    let violations: Violation[];
    try {
        violations = await evaluatePolicies(policies, records, { packConfig });
    } catch (e) {
        return fail(`internal error: ${(e as Error).message}`);
    }
    for (const v of violations) {
        process.stdout.write(`${JSON.stringify({ policy: v.policy, level: v.level, urn: v.urn, message: scrub(v.message) })}\n`);
    }
    const mandatory = violations.filter((v) => v.level === "mandatory").length;
    process.stderr.write(
        `policy:check: stack ${args.stack}${args.preview ? " (preview)" : ""}: ${records.length} resources, ${policies.length} policies, ` +
            `${mandatory} mandatory and ${violations.length - mandatory} advisory finding(s)\n`,
    );
    return mandatory > 0 ? 1 : 0;
}

// Exit only once stdout has taken every finding: CI reads them from a pipe, and a finding lost
// there would leave a failing gate without its reason (check-cli saw exit 1 without the
// finding's line twice, cause not pinned down; this rules out an unflushed write).
main().then(
    (code) => process.stdout.write("", () => process.exit(code)),
    (e) => {
        process.stderr.write(`policy:check: internal error: ${(e as Error)?.stack ?? e}\n`);
        process.exit(2);
    },
);
