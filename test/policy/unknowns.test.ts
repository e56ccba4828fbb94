/**
 * Preview: values that are unknown until `up` never crash a policy and never become a
 * mandatory violation; the policy evaluates what is known and says, at advisory level,
 * which check waits for up.
 */
import { describe, expect, it } from "vitest";
import { UNKNOWN } from "../../policy/lib/values";
import { CONTAINER_PATHS } from "../../vocabulary";
import { advisory, check, compliant, type Fixture, mandatory, names, type Props, type Rec, T } from "./fixtures";

const DEFERRED = /^check deferred to up: .+ cannot be known during preview; everything known was evaluated$/;

/** Deterministic PRNG (mulberry32). */
function rng(seed: number): () => number {
    let a = seed;
    return () => {
        a = (a + 0x6d2b79f5) | 0;
        let t = Math.imul(a ^ (a >>> 15), 1 | a);
        t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
        return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
    };
}

/** Replaces each value (at any depth, objects and arrays included) by UNKNOWN with probability p. */
function blur(v: unknown, p: number, r: () => number): unknown {
    if (r() < p) return UNKNOWN;
    if (Array.isArray(v)) return v.map((x) => blur(x, p, r));
    if (v !== null && typeof v === "object") return Object.fromEntries(Object.entries(v).map(([k, x]) => [k, blur(x, p, r)]));
    return v;
}

function blurAll(f: Fixture, p: number, seed: number): void {
    const r = rng(seed);
    for (const rec of f.s.records as Rec[])
        rec.inputs = Object.fromEntries(Object.entries(rec.inputs).map(([k, v]) => [k, blur(v, p, r)])) as Props;
}

describe("unknown values", () => {
    it("every value unknown: no crash, no mandatory violation, deferrals as advisory", async () => {
        for (const provider of ["minio", "r2", "b2"] as const) {
            const f = compliant(provider);
            for (const rec of f.s.records as Rec[]) rec.inputs = Object.fromEntries(Object.keys(rec.inputs).map((k) => [k, UNKNOWN]));
            const v = await check(f.s.records);
            expect(mandatory(v)).toEqual([]);
            for (const a of advisory(v)) expect(a.message).toMatch(DEFERRED);
        }
    });

    it.each([0.05, 0.15, 0.4])("a compliant stack with a random %s of its values unknown never yields a mandatory violation", async (p) => {
        for (const provider of ["minio", "r2", "b2"] as const) {
            for (let seed = 1; seed <= 100; seed++) {
                const f = compliant(provider);
                blurAll(f, p, seed * 7919 + Math.round(p * 100));
                const v = await check(f.s.records);
                expect(mandatory(v), `${provider} seed ${seed}: ${JSON.stringify(mandatory(v))}`).toEqual([]);
                for (const a of advisory(v)) expect(a.message).toMatch(DEFERRED);
            }
        }
    });

    it("the uploaded configuration unknown: the config checks wait for up and say so", async () => {
        const f = compliant();
        for (const urn of [f.tier.postgres, f.tier.pgbouncer]) {
            const r = f.s.get(urn);
            r.inputs.uploads = (r.inputs.uploads as Props[]).map((u) => ({ ...u, content: UNKNOWN }));
        }
        const v = await check(f.s.records);
        expect(mandatory(v)).toEqual([]);
        expect(names(advisory(v))).toEqual(["pgbouncer-admin-console-closed", "pgbouncer-scram-only", "wal-archiving-enabled"]);
        expect(advisory(v).find((a) => a.policy === "wal-archiving-enabled")!.message).toContain(
            'the postgresql.conf of Postgres container "test-app-postgres"',
        );
    });

    it("what is known is still judged next to what waits: a published port is reported while the env is unknown", async () => {
        const f = compliant();
        const pg = f.s.get(f.tier.postgres);
        pg.inputs.ports = [{ internal: 5432, external: 5432, ip: UNKNOWN }];
        pg.inputs.envs = [UNKNOWN, `POSTGRES_PASSWORD_FILE=${CONTAINER_PATHS.rootPasswordFile}`];
        const v = await check(f.s.records);
        expect(names(mandatory(v))).toEqual(["postgres-no-published-ports"]);
        expect(mandatory(v)[0].message).toContain("<address not known yet>");
        expect(advisory(v).map((a) => a.policy)).toContain("no-inline-secrets");
    });

    it("an unknown network name leaves membership checks waiting, while a known bad member is reported", async () => {
        const f = compliant();
        f.s.get(f.tier.app).inputs.name = UNKNOWN;
        f.s.add(T.container, "intruder", { name: "intruder", image: "x", networksAdvanced: [{ name: "test-app-db-only" }] });
        const v = await check(f.s.records);
        expect(names(mandatory(v))).toEqual(["app-reaches-only-pooler", "db-only-network-members"]);
        expect(
            advisory(v)
                .map((a) => a.message)
                .join("\n"),
        ).toContain('the networks of application container "test-app-web"');
    });

    it("an unknown schedule defers restore-drill-scheduled; an unknown length defers generated-secret-strength", async () => {
        const f = compliant();
        f.s.get(f.tier.drill).inputs.envs = [UNKNOWN];
        f.s.get(f.tier.rootPassword).inputs.length = UNKNOWN;
        const v = await check(f.s.records);
        expect(mandatory(v)).toEqual([]);
        expect(names(advisory(v))).toEqual(["generated-secret-strength", "no-inline-secrets", "restore-drill-scheduled"]);
    });

    it("an unknown storage endpoint defers the R2/B2 chores, not the retention check", async () => {
        const f = compliant("b2");
        f.s.get(f.bucket.provider).inputs.endpoints = UNKNOWN;
        f.s.get(f.bucket.lifecycle).inputs.rules[0].expiration.days = 10;
        const v = await check(f.s.records);
        expect(names(mandatory(v))).toEqual(["backup-bucket-lifecycle"]);
        expect(mandatory(v)[0].message).toContain("after 10 days");
        expect(
            advisory(v)
                .map((a) => a.message)
                .join("\n"),
        ).toContain("the storage endpoint of backup bucket");
    });

    it("a bucket name unknown during preview: the component's own lifecycle configuration still counts", async () => {
        const f = compliant("r2");
        f.s.get(f.bucket.bucket).inputs.bucket = UNKNOWN;
        f.s.get(f.bucket.lifecycle).inputs.bucket = UNKNOWN;
        expect(mandatory(await check(f.s.records))).toEqual([]);
    });
});
