/**
 * The component argument types are the schemas' input types (components/args.ts): what the
 * schema accepts type-checks, what it refuses by type does not. The `@ts-expect-error` lines
 * fail `tsc --noEmit` (npm test's typecheck) the day a type stops following its schema.
 */
import { describe, expect, expectTypeOf, it } from "vitest";
import type { BackupArgs, ClusterArgs, DrillArgs, PgbouncerArgs, PostgresArgs, TierStorageArgs } from "../../components/args";
import { tierStorageSchema } from "../../config/component-args";
import { backupSchema, clusterSchema, drillSchema, pgbouncerSchema, postgresSchema } from "../../config/schema";

describe("component argument types follow the schemas", () => {
    it("enums and optional fields come from the schema", () => {
        expectTypeOf<BackupArgs["compression"]>().toEqualTypeOf<"lz4" | "zstd" | "lzma" | undefined>();
        expectTypeOf<DrillArgs["amcheck"]>().toEqualTypeOf<"off" | "heap-and-btree" | "heapallindexed" | undefined>();
        expectTypeOf<TierStorageArgs["provider"]>().toEqualTypeOf<"minio" | "r2" | "b2">();
        expectTypeOf<ClusterArgs["name"]>().toEqualTypeOf<string>();
        expectTypeOf<PgbouncerArgs["resetSessionState"]>().toEqualTypeOf<boolean | undefined>();
    });

    it("values typed as the args parse with the schemas (defaults filled in)", () => {
        const cluster: ClusterArgs = { name: "app", databases: ["app", "litellm"] };
        const backup: BackupArgs = { compression: "lz4", retention: { walDays: 14 } };
        const drill: DrillArgs = { amcheck: "off", tables: ["public.orders"], minRows: { "public.orders": 1 } };
        const postgres: PostgresArgs = { maxConnections: 300 };
        expect(clusterSchema.parse(cluster).rootUser).toBe("postgres");
        expect(backupSchema.parse(backup).retention).toEqual({ daily: 7, weekly: 4, walDays: 14 });
        expect(drillSchema.parse(drill).amcheck).toBe("off");
        expect(postgresSchema.parse(postgres).sharedBuffers).toBe("128MB");
        expect(pgbouncerSchema.parse({} satisfies PgbouncerArgs).defaultPoolSize).toBe(20);
        const storage: TierStorageArgs = {
            provider: "minio",
            bucketName: "db-tier-dev-backups",
            endpoint: "http://127.0.0.1:9000",
            region: "us-east-1",
            accessKeyId: "key",
            secretAccessKey: "secret",
        };
        expect(tierStorageSchema.parse(storage).provider).toBe("minio");
    });

    it("what the schema refuses by type does not type-check", () => {
        // @ts-expect-error not one of the codecs
        const codec: BackupArgs = { compression: "gzip" };
        // @ts-expect-error a number of seconds, not a string
        const rpo: BackupArgs = { rpoSeconds: "60" };
        // @ts-expect-error the cluster name is required
        const nameless: ClusterArgs = { databases: ["app"] };
        // @ts-expect-error read-only: args are not changed after construction
        backupConst.rpoSeconds = 5;
        // @ts-expect-error credentials are Pulumi inputs of strings
        const key: TierStorageArgs["accessKeyId"] = 42;
        for (const [v, schema] of [
            [codec, backupSchema],
            [rpo, backupSchema],
            [nameless, clusterSchema],
        ] as const)
            expect(schema.safeParse(v).success).toBe(false);
        expect(key).toBe(42);
    });
});

const backupConst: BackupArgs = { rpoSeconds: 60 };
