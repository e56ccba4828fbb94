/**
 * Runs under the real Pulumi engine (test/integration/pulumi-engine.test.ts): a component
 * resource, a DSN built by the library's own renderer from a config secret, and a plain
 * output as a control. No resource provider is involved (none is built yet: tools/pulumi/README.md).
 */
import * as pulumi from "@pulumi/pulumi";
import { buildDsn } from "../../../../render/dsn";
import { typeToken } from "../../../../vocabulary";

class EngineProbe extends pulumi.ComponentResource {
    public readonly dsn: pulumi.Output<string>;

    constructor(name: string, password: pulumi.Output<string>, opts?: pulumi.ComponentResourceOptions) {
        super(typeToken("EngineProbe"), name, {}, opts);
        this.dsn = pulumi.secret(
            password.apply((p) =>
                buildDsn({ user: "app_user", password: p, host: "pgbouncer", port: 6432, database: "app", sslmode: "disable" }),
            ),
        );
        this.registerOutputs({ dsn: this.dsn });
    }
}

const config = new pulumi.Config();
const probe = new EngineProbe("probe", config.requireSecret("rolePassword"));
export const DATABASE_URL = probe.dsn;
export const cluster = config.get("cluster") ?? "app";
