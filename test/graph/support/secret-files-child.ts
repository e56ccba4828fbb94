/**
 * For test/graph/previews.test.ts: runs the dev stack under the mock runtime, as `up` or as
 * `preview` (argv[2]), in the current directory, and prints as its last line which secret
 * files its containers upload and which of them exist while the program still runs. The
 * parent checks they are gone after the exit. With a third argument `wait` it then stays up
 * until a signal ends it.
 */
import * as fs from "node:fs";
import { deployStack } from "../../../components";
import { readStackConfig } from "../../../config/stack-config";
import { installMocks, loadStackConfig, settle } from "../../support/mock-runtime";

async function main(): Promise<void> {
    const preview = process.argv[2] === "preview";
    const resources = await installMocks("dev", preview);
    loadStackConfig("dev");
    const { values, secrets } = readStackConfig();
    deployStack(values, secrets);
    await settle();
    const sources = resources
        .filter((r) => r.type === "docker:index/container:Container")
        .flatMap((r) => (r.inputs.uploads ?? []) as { source?: unknown }[])
        .map((u) => u.source)
        .filter((s): s is string => typeof s === "string" && !s.startsWith("04da6b54"));
    const existing = sources.filter((s) => fs.existsSync(s));
    process.stdout.write(`${JSON.stringify({ sources, existing })}\n`);
    // "wait": stay up until a signal ends the run (the parent checks the files go with it).
    if (process.argv[3] === "wait") setInterval(() => undefined, 1000);
}

main().catch((e) => {
    console.error(e);
    process.exit(1);
});
