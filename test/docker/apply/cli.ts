/**
 * One `pulumi up` (or destroy) of a stack by the test applier, in its own process so each
 * update starts from a fresh SDK runtime, as the real CLI does:
 *
 *   tsx test/docker/apply/cli.ts --stack NAME --state FILE --targets FILE
 *       [--config FILE] [--replace URN]... [--destroy [--include-retained]] [--check-only]
 *
 * --config: a JSON object of `namespace:key` → value the harness sets on top of the stack
 *   file (real secret values for what the offline check only has placeholders for, and
 *   the explicit stand-in mappings), like `pulumi config set`.
 * --targets: the Targets mapping (test engine, docker hosts, S3 endpoints).
 * The state file (secrets inside: mode 0600) is read before and written after the update.
 * Prints one JSON line: {steps, notes, outputs-keys}; never a secret value.
 */
import * as fs from "node:fs";
import * as path from "node:path";
import { readExternalSecrets, readStackConfig } from "../../../policy/offline/stack-config";
import { Applier } from "./applier";
import { runProgram } from "./run-program";
import type { StackState, Targets } from "./types";

const ROOT = path.resolve(__dirname, "..", "..", "..");

interface Args {
    stack: string;
    state: string;
    targets: string;
    config?: string;
    program: string;
    replace: string[];
    destroy: boolean;
    includeRetained: boolean;
    checkOnly: boolean;
}

function parse(argv: string[]): Args {
    const a: Partial<Args> = {
        replace: [],
        destroy: false,
        includeRetained: false,
        checkOnly: false,
        program: path.join(ROOT, "index.ts"),
    };
    for (let i = 0; i < argv.length; i++) {
        const v = () => {
            const x = argv[++i];
            if (x === undefined) throw new Error(`${argv[i - 1]} needs a value`);
            return x;
        };
        switch (argv[i]) {
            case "--stack":
                a.stack = v();
                break;
            case "--state":
                a.state = v();
                break;
            case "--targets":
                a.targets = v();
                break;
            case "--config":
                a.config = v();
                break;
            case "--program":
                a.program = path.resolve(v());
                break;
            case "--replace":
                a.replace!.push(v());
                break;
            case "--destroy":
                a.destroy = true;
                break;
            case "--include-retained":
                a.includeRetained = true;
                break;
            case "--check-only":
                a.checkOnly = true;
                break;
            default:
                throw new Error(`unknown argument ${argv[i]}`);
        }
    }
    if (!a.stack || !a.state || !a.targets) throw new Error("--stack, --state and --targets are required");
    return a as Args;
}

async function main(): Promise<void> {
    const args = parse(process.argv.slice(2));
    // Program and providers run in the project directory, as under the Pulumi CLI (upload
    // `source` paths are relative to it).
    process.chdir(ROOT);
    const targets = JSON.parse(fs.readFileSync(args.targets, "utf8")) as Targets;
    const previous = fs.existsSync(args.state) ? (JSON.parse(fs.readFileSync(args.state, "utf8")) as StackState) : undefined;
    const write = (s: StackState) => fs.writeFileSync(args.state, JSON.stringify(s, null, 1), { mode: 0o600 });
    if (args.destroy) {
        if (!previous) throw new Error(`no state at ${args.state}`);
        const steps = await Applier.destroy(targets, previous, args.includeRetained);
        write({ resources: [], outputs: {} });
        process.stdout.write(`${JSON.stringify({ steps })}\n`);
        return;
    }
    const stack = readStackConfig(
        ROOT,
        args.stack,
        readExternalSecrets(path.join(ROOT, "policy", "offline", "external-secrets.json"), args.stack),
    );
    const overrides = args.config ? (JSON.parse(fs.readFileSync(args.config, "utf8")) as Record<string, unknown>) : {};
    const config = { ...stack.config };
    for (const [k, v] of Object.entries(overrides)) config[k] = typeof v === "string" ? v : JSON.stringify(v);
    // A placeholder that is still in the config would reach a real container: refuse.
    const left = stack.placeholders.filter((k) => config[k] === stack.config[k]);
    if (left.length > 0 && !args.checkOnly) throw new Error(`no real value for ${left.join(", ")}: pass it in --config`);
    const applier = new Applier(targets, previous, args.replace, args.checkOnly);
    let result: Awaited<ReturnType<typeof runProgram>>;
    try {
        result = await runProgram(
            args.program,
            { project: stack.project, stack: stack.stack, config, secretKeys: stack.secretKeys },
            applier,
        );
    } catch (e) {
        // What was created before the failure is in the state, as the engine would keep it.
        // The stack too: an SDK rejection can carry an empty message.
        process.stderr.write(`apply failed: ${(e as Error).stack ?? String(e)}\n`);
        if (!args.checkOnly) write(applier.partialState());
        process.stdout.write(`${JSON.stringify({ error: (e as Error).message, steps: applier.steps, notes: applier.notes })}\n`);
        process.exit(1);
    }
    if (!args.checkOnly) write(result.state);
    process.stdout.write(
        `${JSON.stringify({ steps: applier.steps, notes: applier.notes, outputs: Object.keys(result.state.outputs), registered: result.registered.length })}\n`,
    );
}

main().then(
    () => process.exit(0),
    (e) => {
        process.stderr.write(`apply: ${(e as Error)?.stack ?? e}\n`);
        process.stdout.write(`${JSON.stringify({ error: (e as Error)?.message ?? String(e) })}\n`);
        process.exit(1);
    },
);
