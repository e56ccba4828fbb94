/**
 * The recorder names what the program leaves unnamed, as the engine's providers do
 * (`<logical name>-<7 hex>`), for every type the policies resolve by name; so an application
 * container attached to an auto-named db-only network is caught, in up and in preview. And a
 * container whose attachment cannot be resolved fails closed, with a message that says so.
 */
import * as path from "node:path";
import { beforeAll, describe, expect, it } from "vitest";
import type { ResourceRecord } from "../../policy/lib/evaluate";
import { evaluatePolicies } from "../../policy/lib/evaluate";
import { run } from "../../jobs/proc";
import { AUTONAMED, withAutoName } from "../../policy/offline/autonaming";
import { recordProgram } from "../../policy/offline/record";
import { policies } from "../../policy/policies";
import { NETWORK_LABEL, ROLE_LABEL } from "../../vocabulary";

const ROOT = path.resolve(__dirname, "..", "..");
const PROGRAM = path.join(__dirname, "programs", "unnamed-network.ts");
let records: ResourceRecord[];

beforeAll(async () => {
    // eslint-disable-next-line @typescript-eslint/no-require-imports
    (require("tsx/cjs/api") as { register(): () => void }).register();
    records = await recordProgram(PROGRAM, { project: "proj", stack: "names", config: {}, secretKeys: [] });
}, 180_000);

describe("auto-naming in the recorder", () => {
    it("names an unnamed network and container `<logical name>-<7 hex>`, and the container attaches by that name", () => {
        const net = records.find((r) => r.type === "docker:index/network:Network")!;
        const web = records.find((r) => r.type === "docker:index/container:Container")!;
        expect(net.inputs.name).toMatch(/^private-[0-9a-f]{7}$/);
        expect(net.outputs?.name).toBe(net.inputs.name);
        expect(web.inputs.name).toMatch(/^web-[0-9a-f]{7}$/);
        expect((web.inputs.networksAdvanced as { name: string }[])[0].name).toBe(net.inputs.name);
    });

    it("catches the application container on the auto-named db-only network", async () => {
        const web = records.find((r) => r.type === "docker:index/container:Container")!;
        const v = (await evaluatePolicies(policies, records)).filter((x) => x.level === "mandatory");
        expect(
            v
                .filter((x) => x.urn === web.urn)
                .map((x) => x.policy)
                .sort(),
        ).toEqual(["app-reaches-only-pooler", "db-only-network-members"]);
        expect(v.find((x) => x.policy === "db-only-network-members")!.message).toMatch(
            /no db-tier\.role label.*is on db-only network "private-[0-9a-f]{7}"/,
        );
    });

    it("covers every type the policies resolve by name, with the name property each one uses", () => {
        expect(
            Object.entries(AUTONAMED)
                .map(([t, r]) => `${t}.${r.property}`)
                .sort(),
        ).toEqual([
            "aws:s3/bucket:Bucket.bucket",
            "aws:s3/bucketV2:BucketV2.bucket",
            "docker:index/container:Container.name",
            "docker:index/network:Network.name",
            "docker:index/volume:Volume.name",
        ]);
        const urn = "urn:pulumi:s::p::aws:s3/bucket:Bucket::Backups";
        expect(withAutoName("aws:s3/bucket:Bucket", "Backups", urn, {})!.bucket).toMatch(/^backups-[0-9a-f]{7}$/);
        expect(withAutoName("aws:s3/bucket:Bucket", "Backups", urn, { bucketPrefix: "db-" })!.bucket).toMatch(/^db-[0-9a-f]{7}$/);
        // A name the program gave is kept; other types are left alone.
        expect(withAutoName("docker:index/network:Network", "n", urn, { name: "mine" })).toBeUndefined();
        expect(withAutoName("random:index/randomPassword:RandomPassword", "p", urn, {})).toBeUndefined();
        // Deterministic per URN, different across URNs.
        expect(withAutoName("docker:index/volume:Volume", "v", "urn:a", {})).toEqual(
            withAutoName("docker:index/volume:Volume", "v", "urn:a", {}),
        );
        expect(withAutoName("docker:index/volume:Volume", "v", "urn:a", {})).not.toEqual(
            withAutoName("docker:index/volume:Volume", "v", "urn:b", {}),
        );
    });

    it("names them in a preview too (the provider's Check runs before any create): the CLI exits 1 with both violations", async () => {
        const r = await run(
            process.execPath,
            [
                path.join(ROOT, "node_modules", "tsx", "dist", "cli.mjs"),
                "scripts/policy-check.ts",
                "--stack",
                "dev",
                "--preview",
                "--program",
                PROGRAM,
            ],
            { cwd: ROOT, env: process.env },
        );
        expect(r.code, r.stderr).toBe(1);
        const lines = r.stdout
            .split("\n")
            .filter((l) => l.trim() !== "")
            .map((l) => JSON.parse(l) as { policy: string; level: string; urn: string });
        const web = lines.filter((l) => l.level === "mandatory" && l.urn.endsWith("docker:index/container:Container::web"));
        expect(web.map((l) => l.policy).sort()).toEqual(["app-reaches-only-pooler", "db-only-network-members"]);
    }, 120_000);
});

/** Hand-built records: what a program looks like to the policies when a name is missing. */
function stack(...rs: Omit<ResourceRecord, "urn">[]): ResourceRecord[] {
    const root: ResourceRecord = { type: "pulumi:pulumi:Stack", name: "p-s", urn: "urn:pulumi:s::p::pulumi:pulumi:Stack::p-s", inputs: {} };
    return [root, ...rs.map((r) => ({ ...r, urn: `urn:pulumi:s::p::${r.type}::${r.name}` }))];
}
const network = (name: string, props: Record<string, unknown>): Omit<ResourceRecord, "urn"> => ({
    type: "docker:index/network:Network",
    name,
    inputs: props,
});
const container = (name: string, props: Record<string, unknown>): Omit<ResourceRecord, "urn"> => ({
    type: "docker:index/container:Container",
    name,
    inputs: props,
});
const dbOnlyLabel = [{ label: NETWORK_LABEL, value: "db-only" }];
const mandatory = async (records: ResourceRecord[], policy: string) =>
    (await evaluatePolicies(policies, records)).filter((v) => v.level === "mandatory" && v.policy === policy && v.urn.endsWith("::web"));

describe("failing closed when an attachment cannot be resolved", () => {
    it("a network with no name at all: the app container on some name fails both policies, saying why", async () => {
        const records = stack(
            network("private", { internal: true, labels: dbOnlyLabel }),
            container("web", { image: "x", networksAdvanced: [{ name: "private-1a2b3c4" }] }),
        );
        for (const policy of ["app-reaches-only-pooler", "db-only-network-members"]) {
            const [v] = await mandatory(records, policy);
            expect(v?.message, policy).toMatch(
                /^Cannot resolve what (application )?container "web" is attached to: it joins network "private-1a2b3c4", and network "private" of this stack has no name.*Failing closed/,
            );
        }
    });

    it("an entry that names no network, and a network namespace of a container that is not in the stack", async () => {
        const dbOnly = network("private", { name: "dev-db-only", internal: true, labels: dbOnlyLabel });
        const [noName] = await mandatory(
            stack(dbOnly, container("web", { image: "x", networksAdvanced: [{ aliases: ["web"] }] })),
            "app-reaches-only-pooler",
        );
        expect(noName?.message).toContain("1 of its networksAdvanced entries name no network");
        const [ns] = await mandatory(
            stack(dbOnly, container("web", { image: "x", networkMode: "container:ghost" })),
            "db-only-network-members",
        );
        expect(ns?.message).toContain('it shares the network namespace of container "ghost", which is no container of this stack');
    });

    it("an application container on a network this stack does not declare fails closed; Docker's own bridge does not", async () => {
        const dbOnly = network("private", { name: "dev-db-only", internal: true, labels: dbOnlyLabel });
        const [ext] = await mandatory(
            stack(dbOnly, container("web", { image: "x", networksAdvanced: [{ name: "somebody-elses-net" }] })),
            "app-reaches-only-pooler",
        );
        expect(ext?.message).toContain('network "somebody-elses-net" is no docker.Network of this stack (by name or id)');
        expect(
            await mandatory(
                stack(dbOnly, container("web", { image: "x", networksAdvanced: [{ name: "bridge" }] })),
                "app-reaches-only-pooler",
            ),
        ).toEqual([]);
    });

    it("controls: resolved by name or by id, and a tier role on db-only, pass", async () => {
        const dbOnly = network("private", { name: "dev-db-only", id: "0123abcd", internal: true, labels: dbOnlyLabel });
        const app = network("app", { name: "dev-app", labels: [{ label: NETWORK_LABEL, value: "app" }] });
        expect(
            await mandatory(
                stack(dbOnly, app, container("web", { image: "x", networksAdvanced: [{ name: "dev-app" }] })),
                "app-reaches-only-pooler",
            ),
        ).toEqual([]);
        const byId = await mandatory(
            stack(dbOnly, container("web", { image: "x", networksAdvanced: [{ name: "0123abcd" }] })),
            "db-only-network-members",
        );
        expect(byId.map((v) => v.message)).toEqual([
            'Container "web" (no db-tier.role label: an application container) is on db-only network "dev-db-only".',
        ]);
        const pooler = container("web", {
            image: "x",
            labels: [{ label: ROLE_LABEL, value: "pgbouncer" }],
            networksAdvanced: [{ name: "dev-db-only" }],
        });
        expect(await mandatory(stack(dbOnly, pooler), "db-only-network-members")).toEqual([]);
    });
});
