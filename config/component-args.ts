/**
 * Schemas for component arguments: the same rules as the stack config, applied to what an
 * engineer passes when importing a component directly. Secrets (Inputs) are not validated
 * here; only plain values are, before any child resource exists.
 */
import { z } from "zod";
import { poolBudget } from "./rules/pool-budget";
import { productionSslmodeProblem } from "./rules/production";
import {
    backupSchema,
    bucketName,
    checkPostgresLimits,
    checkBucketName,
    checkRegion,
    clusterSchema,
    dnsLabel,
    drillSchema,
    hostBindAddress,
    httpUrl,
    passwordLength,
    pgbouncerSchema,
    postgresSchema,
    REMOVED_SAFETY_NET,
    removedKey,
    sslmode,
    storageProvider as provider,
    storageRegion,
    tierLimitsSchema,
} from "./schema";

export const backupBucketArgsSchema = z
    .object({
        provider,
        bucketName,
        apiEndpoint: httpUrl,
        region: storageRegion,
        accessKeyId: z.undefined(),
        secretAccessKey: z.undefined(),
        backupPrefixes: z
            .array(z.string().regex(/^[a-z][a-z0-9-]*\/[a-z][a-z0-9-]*\/$/, "must look like <environment>/<cluster>/"))
            .min(1, "must list at least one prefix"),
        safetyNetDays: removedKey(REMOVED_SAFETY_NET),
        evidenceDays: z.number().int().min(1),
    })
    .strict()
    .superRefine((a, ctx) => {
        checkBucketName(ctx, a.provider, a.bucketName, ["bucketName"]);
        checkRegion(ctx, a.provider, a.region, a.apiEndpoint, ["region"]);
        a.backupPrefixes.forEach((p, i) => {
            if (a.backupPrefixes.indexOf(p) !== i)
                ctx.addIssue({
                    code: z.ZodIssueCode.custom,
                    path: ["backupPrefixes", i],
                    message: `"${p}" is listed twice; clusters would share a backup prefix`,
                });
        });
    });

export const tierStorageSchema = z
    .object({
        provider,
        bucketName,
        endpoint: httpUrl,
        region: storageRegion,
        accessKeyId: z.any(),
        secretAccessKey: z.any(),
    })
    .strict()
    .superRefine((a, ctx) => {
        checkBucketName(ctx, a.provider, a.bucketName, ["bucketName"]);
        checkRegion(ctx, a.provider, a.region, a.endpoint, ["region"]);
    });

export const databaseTierArgsSchema = z
    .object({
        environment: dnsLabel,
        cluster: clusterSchema,
        storage: tierStorageSchema,
        images: z.object({ postgres: z.any(), pgbouncer: z.any() }).strict(),
        backup: backupSchema,
        drill: drillSchema,
        pgbouncer: pgbouncerSchema,
        postgres: postgresSchema,
        limits: tierLimitsSchema,
        sslmode,
        passwordLength,
        hostBindAddress,
        networks: z.any().optional(),
        tls: z.object({ certPem: z.any(), keyPem: z.any() }).strict().optional(),
        convergeEveryUp: z.boolean().default(true),
    })
    .strict()
    .superRefine((a, ctx) => {
        checkPostgresLimits(ctx, a.limits.postgres, a.postgres, ["limits", "postgres"]);
        const tlsProblem = productionSslmodeProblem(a.environment, a.sslmode);
        if (tlsProblem) ctx.addIssue({ code: z.ZodIssueCode.custom, path: ["sslmode"], message: tlsProblem });
        if (a.sslmode !== "disable" && !a.tls) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["tls"],
                message: `is required (certPem and keyPem) when sslmode is ${a.sslmode}`,
            });
        }
        if (a.drill.database && !a.cluster.databases.includes(a.drill.database)) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["drill", "database"],
                message: `must be one of the cluster's databases: ${a.cluster.databases.join(", ")}`,
            });
        }
        const budget = poolBudget(a.cluster.databases.length, a.pgbouncer.defaultPoolSize, a.postgres.maxConnections);
        if (budget.wanted > budget.available) {
            ctx.addIssue({
                code: z.ZodIssueCode.custom,
                path: ["pgbouncer", "defaultPoolSize"],
                message: `${a.pgbouncer.defaultPoolSize} per pool lets pgBouncer open ${budget.wanted} server connections but postgres.maxConnections ${a.postgres.maxConnections} leaves ${budget.available}: set defaultPoolSize to at most ${Math.max(1, budget.maxPoolSize)} or postgres.maxConnections to at least ${budget.minMaxConnections}`,
            });
        }
    });

export type DatabaseTierSettings = z.output<typeof databaseTierArgsSchema>;
