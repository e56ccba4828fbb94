/**
 * No upload names an owner or a group except in the Postgres container. The docker provider
 * copies an upload that names one with the Engine API's copyUIDGID, and dockerd then resolves
 * the container's user (its `user`, or its image's USER) on the HOST (moby/moby#34142): the
 * copy fails where the host lacks that user, and is chowned to the host's uid where it has
 * one. Only the Postgres container has no user (its entrypoint starts as root and drops to
 * postgres), so only there is the tar's owner kept. Found by the first real `pulumi up`
 * (test/docker/dev-stack.test.ts): "getent unable to find entry "1000:1000" in passwd database".
 */
import { describe, expect, it } from "vitest";
import { deployStack } from "../../components/stack";
import { readStackConfig } from "../../config/stack-config";
import { ROLE_LABEL } from "../../vocabulary";
import { installMocks, labelOf, loadStackConfig, plain, settle } from "../support/mock-runtime";

interface Upload {
    file: string;
    owner?: string;
    group?: string;
}

describe("upload owners", () => {
    it("the dev stack with streaming (every container role): only postgres' uploads name an owner or a group", async () => {
        const recorded = await installMocks("dev");
        loadStackConfig("dev", { "db-tier:backup": JSON.stringify({ walStreaming: true }) });
        const { values, secrets } = readStackConfig();
        deployStack(values, secrets);
        await settle();
        const containers = recorded.filter((r) => r.type === "docker:index/container:Container");
        const roles = new Set(containers.map((c) => labelOf(c, ROLE_LABEL)));
        expect([...roles].sort()).toEqual(["backup", "object-store", "pgbouncer", "postgres", "provisioner", "restore-drill"]);
        for (const c of containers) {
            const owned = ((plain(c.inputs.uploads) ?? []) as Upload[]).filter((u) => u.owner !== undefined || u.group !== undefined);
            if (labelOf(c, ROLE_LABEL) === "postgres") {
                expect(c.inputs.user, c.name).toBeUndefined();
                expect(owned.length, `${c.name}: its secret files are owned by postgres`).toBeGreaterThan(0);
            } else
                expect(
                    owned.map((u) => u.file),
                    c.name,
                ).toEqual([]);
        }
    });
});
