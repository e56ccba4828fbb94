/**
 * A stack run by the real Pulumi engine: the CLI and language host scripts/install-pulumi.sh
 * builds, the docker and random plugins scripts/install-providers.sh builds and installs in a
 * private PULUMI_HOME, a local file backend and a passphrase in a scratch directory, the
 * docker plugin's default provider pointed at the test engine through DOCKER_HOST. The
 * process environment is minimal: nothing of the caller's leaks into the engine or providers.
 *
 * The tests read the state as they read the applier's (StackView): `pulumi stack export
 * --show-secrets`, secrets unwrapped, each resource named by its URN's last part.
 */
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { minimalEnv, type RunResult, run, SYSTEM_PATH } from "../../jobs/proc";
import type { ResourceState, StackState } from "./apply/types";
import { ROOT, StackView } from "./harness";

/** The passphrase of the test stacks' secrets provider: a fixed test value, never a real one. */
export const TEST_PASSPHRASE = "db-tier engine test passphrase";
/** Pulumi's marker of a secret in state and exports (sdk/go/common/resource/sig). */
export const SECRET_SIG = "4dabf18193072939515e22adb298388d";

/** Where install-pulumi.sh and install-providers.sh left the engine and the plugins. */
export async function installedEngine(): Promise<{ bin: string; pulumiHome: string }> {
    const script = async (name: string, env: NodeJS.ProcessEnv) => {
        const r = await run("bash", [path.join(ROOT, "scripts", name)], { cwd: ROOT, env, timeoutMs: 3_600_000 });
        if (r.code !== 0) throw new Error(`scripts/${name} failed (exit ${r.code}):\n${r.stderr.slice(-4000)}`);
        return r.stdout.trim().split("\n").at(-1) as string;
    };
    const base = { HOME: os.homedir(), DBTIER_TOOLS: process.env.DBTIER_TOOLS };
    const bin = process.env.DBTIER_PULUMI_BIN ?? (await script("install-pulumi.sh", minimalEnv(base)));
    const pulumiHome =
        process.env.DBTIER_PULUMI_HOME ?? (await script("install-providers.sh", minimalEnv({ ...base, PATH: `${bin}:${SYSTEM_PATH}` })));
    return { bin, pulumiHome };
}

/** One step of `pulumi preview --json`: what the engine plans for one resource. */
export interface PlannedStep {
    readonly op: string;
    readonly urn: string;
    /** Properties whose change causes it (`diffReasons`), or the replace's reasons. */
    readonly reasons: readonly string[];
}

/** A resource state from the export, its secrets unwrapped. */
function unwrap(v: unknown): unknown {
    if (Array.isArray(v)) return v.map(unwrap);
    if (v && typeof v === "object") {
        const o = v as Record<string, unknown>;
        if (o[SECRET_SIG] === "1b47061264138c4ac30d75fd1eb44270") {
            if (typeof o.plaintext !== "string")
                throw new Error("a secret in the export without its plaintext (export without --show-secrets?)");
            return unwrap(JSON.parse(o.plaintext));
        }
        return Object.fromEntries(Object.entries(o).map(([k, x]) => [k, unwrap(x)]));
    }
    return v;
}

export class EngineStack extends StackView {
    /** Scratch directory: HOME, the file backend (state/), the stack's config file. */
    readonly dir: string;
    readonly configFile: string;
    readonly config: Record<string, unknown> = {};
    private readonly env: NodeJS.ProcessEnv;
    private cached?: StackState;

    constructor(
        readonly stack: string,
        /** The program's directory (its Pulumi.yaml). */
        readonly program: string,
        engine: { bin: string; pulumiHome: string },
        dockerHost: string,
    ) {
        super();
        this.dir = fs.mkdtempSync(path.join(os.tmpdir(), `db-tier-engine-${stack}-`));
        fs.chmodSync(this.dir, 0o700);
        fs.mkdirSync(path.join(this.dir, "state"));
        this.configFile = path.join(this.dir, `Pulumi.${stack}.yaml`);
        this.env = minimalEnv({
            HOME: this.dir,
            PATH: `${engine.bin}:${SYSTEM_PATH}`,
            PULUMI_HOME: engine.pulumiHome,
            PULUMI_BACKEND_URL: `file://${path.join(this.dir, "state")}`,
            PULUMI_CONFIG_PASSPHRASE: TEST_PASSPHRASE,
            PULUMI_SKIP_UPDATE_CHECK: "true",
            PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION: "true",
            DOCKER_HOST: dockerHost,
        });
    }

    /** `pulumi <args> --stack S --non-interactive --color never` (plus the config file where it applies). */
    pulumi(args: readonly string[], timeoutMs = 1_200_000): Promise<RunResult> {
        const withConfig = ["up", "preview", "destroy", "config", "refresh"].includes(args[0]);
        return run(
            "pulumi",
            [
                ...args,
                "--stack",
                this.stack,
                "--non-interactive",
                "--color",
                "never",
                ...(withConfig ? ["--config-file", this.configFile] : []),
            ],
            { cwd: this.program, env: this.env, timeoutMs },
        );
    }

    /** As pulumi(), failing with the command's own output when it exits non-zero. */
    async ok(args: readonly string[], timeoutMs?: number): Promise<string> {
        const r = await this.pulumi(args, timeoutMs);
        if (r.code !== 0) throw new Error(`pulumi ${args.join(" ")}: exit ${r.code}\n${r.stdout.slice(-6000)}\n${r.stderr.slice(-4000)}`);
        return r.stdout;
    }

    /** Creates the stack (passphrase secrets provider: its salt goes into the config file). */
    async init(): Promise<void> {
        await this.ok(["stack", "init", "--secrets-provider", "passphrase"]);
        if (!fs.existsSync(this.configFile)) {
            // `stack init` writes the salt next to Pulumi.yaml; keep the program directory clean.
            const beside = path.join(this.program, `Pulumi.${this.stack}.yaml`);
            fs.renameSync(beside, this.configFile);
        }
    }

    /** `pulumi config set` of each key (objects as the JSON the program parses), as between two `up`s. */
    async configure(values: Record<string, unknown>): Promise<void> {
        for (const [key, value] of Object.entries(values)) {
            await this.ok(["config", "set", key, typeof value === "string" ? value : JSON.stringify(value)]);
            this.config[key] = value;
        }
    }

    /** The steps `pulumi preview --json` plans (`replace` as `--replace URN`); same steps left out. */
    async plan(replace: readonly string[] = []): Promise<PlannedStep[]> {
        const out = await this.ok(["preview", "--json", ...replace.flatMap((u) => ["--replace", u])]);
        const preview = JSON.parse(out) as { steps?: { op: string; urn: string; diffReasons?: string[]; replaceReasons?: string[] }[] };
        return (preview.steps ?? [])
            .filter((s) => s.op !== "same")
            .map((s) => ({ op: s.op, urn: s.urn, reasons: [...(s.replaceReasons ?? []), ...(s.diffReasons ?? [])] }));
    }

    /** `pulumi up --yes` (`replace` as `--replace URN`); the state is read again after it. */
    async up(replace: readonly string[] = []): Promise<string> {
        const out = await this.ok(["up", "--yes", "--skip-preview", ...replace.flatMap((u) => ["--replace", u])], 2_400_000);
        await this.refresh();
        return out;
    }

    async destroy(): Promise<string> {
        const out = await this.ok(["destroy", "--yes", "--skip-preview"], 1_200_000);
        await this.refresh();
        return out;
    }

    /** Reads the state again: `pulumi stack export --show-secrets`. */
    async refresh(): Promise<void> {
        const exported = JSON.parse(await this.ok(["stack", "export", "--show-secrets"])) as {
            deployment: { resources?: Record<string, unknown>[] };
        };
        const all = (exported.deployment.resources ?? []).map((r) => unwrap(r) as Record<string, unknown>);
        const root = all.find((r) => r.type === "pulumi:pulumi:Stack");
        this.cached = {
            resources: all
                .filter((r) => r.custom === true)
                .map(
                    (r): ResourceState => ({
                        urn: String(r.urn),
                        type: String(r.type),
                        name: String(r.urn).split("::").at(-1) as string,
                        id: String(r.id ?? ""),
                        inputs: (r.inputs ?? {}) as Record<string, unknown>,
                        outputs: (r.outputs ?? {}) as Record<string, unknown>,
                        provider: r.provider === undefined ? undefined : String(r.provider),
                        retainOnDelete: r.retainOnDelete === true,
                        deleteBeforeReplace: r.deleteBeforeReplace === true,
                    }),
                ),
            outputs: (root?.outputs ?? {}) as Record<string, unknown>,
        };
    }

    state(): StackState {
        if (!this.cached) throw new Error("the stack's state has not been read yet (up or refresh first)");
        return this.cached;
    }

    /** Every file of the file backend, as text: what someone who can read the state sees. */
    stateText(): string {
        return fs
            .readdirSync(path.join(this.dir, "state"), { recursive: true, withFileTypes: true })
            .filter((e) => e.isFile())
            .map((e) => fs.readFileSync(path.join(e.parentPath, e.name), "utf8"))
            .join("\n");
    }

    remove(): void {
        fs.rmSync(this.dir, { recursive: true, force: true });
    }
}
