/** docker.Volume: a named local volume. (`retainOnDelete` is the engine's business: see applier.ts.) */
import { list, NotImplementedError, object } from "../strict";
import type { ResourceImpl } from "../types";
import { engineOf, labelMap } from "./docker-common";

export const dockerVolume: ResourceImpl = {
    providerKind: "docker",
    inputs: { name: "string", driver: "string", labels: list(object({ label: "string", value: "string" })) },
    async create(inputs, ctx) {
        if (typeof inputs.name !== "string")
            throw new NotImplementedError(`${ctx.type}: auto-named volumes are not implemented (${ctx.urn})`);
        const driver = (inputs.driver as string | undefined) ?? "local";
        if (driver !== "local") throw new NotImplementedError(`${ctx.type}: driver "${driver}" is not implemented (${ctx.urn})`);
        // Like the provider: VolumeCreate adopts an existing volume of that name (a retained one).
        const v = await engineOf(ctx).json<{ Name: string; Mountpoint: string }>("POST", "/volumes/create", {
            Name: inputs.name,
            Driver: driver,
            Labels: labelMap(inputs.labels),
        });
        return { id: v.Name, outputs: { driver, mountpoint: v.Mountpoint } };
    },
    async delete(state, ctx) {
        await engineOf(ctx).json("DELETE", `/volumes/${encodeURIComponent(state.id)}`, undefined, [404]);
    },
};
