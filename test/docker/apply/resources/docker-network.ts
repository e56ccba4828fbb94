/**
 * docker.Network: a bridge network on the test engine. Without a `name` the engine
 * auto-names it `<logical name>-<7 random hex>` (and keeps that name on later updates).
 * Stand-ins the harness declares (targets.standIns) join it as it is created.
 */
import { randomBytes } from "node:crypto";
import { list, NotImplementedError, object } from "../strict";
import type { ResourceImpl } from "../types";
import { engineOf, labelMap } from "./docker-common";

export const dockerNetwork: ResourceImpl = {
    providerKind: "docker",
    inputs: {
        name: "string",
        driver: "string",
        internal: "boolean",
        attachable: "boolean",
        labels: list(object({ label: "string", value: "string" })),
    },
    // The engine assigns a subnet from its pool; pg_hba.conf is rendered from it.
    checkOnlyOutputs: { ipamConfigs: [{ subnet: "10.214.255.0/24" }] },
    check(inputs, ctx) {
        if (inputs.name !== undefined) return inputs;
        const oldName = ctx.old?.inputs.name as string | undefined;
        return { ...inputs, name: oldName ?? `${ctx.name}-${randomBytes(4).toString("hex").slice(0, 7)}` };
    },
    async create(inputs, ctx) {
        const engine = engineOf(ctx);
        const driver = (inputs.driver as string | undefined) ?? "bridge";
        if (driver !== "bridge")
            throw new NotImplementedError(`${ctx.type}: driver "${driver}" is not implemented (bridge only) (${ctx.urn})`);
        const created = await engine.json<{ Id: string }>("POST", "/networks/create", {
            Name: inputs.name,
            Driver: driver,
            Internal: inputs.internal === true,
            Attachable: inputs.attachable === true,
            Labels: labelMap(inputs.labels),
            CheckDuplicate: true,
        });
        const kind = labelMap(inputs.labels)["db-tier.network"];
        for (const standIn of ctx.targets.standIns ?? []) {
            if (standIn.networkLabel !== kind) continue;
            await engine.json("POST", `/networks/${created.Id}/connect`, {
                Container: standIn.container,
                EndpointConfig: { Aliases: standIn.aliases },
            });
            ctx.note(`stand-in ${standIn.container} joined ${inputs.name} as ${standIn.aliases.join(", ")}`);
        }
        const n = await engine.json("GET", `/networks/${created.Id}`);
        const ipamConfigs = ((n.IPAM?.Config ?? []) as { Subnet?: string; Gateway?: string }[]).map((c) => ({
            subnet: c.Subnet,
            gateway: c.Gateway,
        }));
        return { id: created.Id, outputs: { driver, internal: inputs.internal === true, scope: n.Scope, ipamConfigs } };
    },
    async delete(state, ctx) {
        await engineOf(ctx).json("DELETE", `/networks/${state.id}`, undefined, [404]);
    },
};
