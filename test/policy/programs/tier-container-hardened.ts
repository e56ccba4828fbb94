// pgBouncer with the engine's default capabilities and no no-new-privileges.
import { deploy, editContainer } from "./tier";

deploy({
    transformations: [
        editContainer("pgbouncer", (p) => {
            const { capabilities: _caps, securityOpts: _opts, ...rest } = p;
            return rest;
        }),
    ],
});
