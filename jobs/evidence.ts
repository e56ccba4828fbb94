/**
 * Restore-drill evidence: the record (every field the contract names, plus context) and its
 * upload next to restore.log under restore-tests/YYYY-MM-DD/<environment>/<cluster>/.
 * Uploaded with `wal-g st put` against the evidence bucket, uncompressed and unencrypted so
 * that anyone auditing the bucket can read it; it holds no secrets.
 */
import { writeFileSync } from "node:fs";
import { join } from "node:path";
import { evidenceKeyPrefix } from "../render/job-config";
import type { WalgInvocation } from "../render/walg-command";
import { describeFailure } from "./proc";
import { walg } from "./walg";

export type CheckStatus = "passed" | "failed" | "skipped";

/** One check the drill ran or skipped (with the reason), the role that ran it, and its duration. */
export interface DrillCheck {
    readonly name: string;
    readonly status: CheckStatus;
    /** The database role that ran the check's SQL; DRILL_JOB for checks that ran no SQL. */
    readonly role: string;
    readonly duration_seconds: number;
    readonly detail: string;
}

/** Checks the drill computes itself, from times and its own records, without a database role. */
export const DRILL_JOB = "drill-job";

/** Something worth knowing that does not fail the drill. */
export interface Finding {
    readonly kind: "rls-not-forced" | "event-trigger-disabled";
    readonly database: string;
    /** schema.table for table findings, the object's name otherwise. */
    readonly object: string;
    readonly detail: string;
}

/** Which promised point a drill restores: the newest backup, or the oldest the window promises. */
export type DrillPoint = "newest" | "oldest";

export interface Evidence {
    status: "passed" | "failed";
    point: DrillPoint;
    environment: string;
    cluster: string;
    database: string;
    backup_name: string | null;
    backup_start_time: string | null;
    backup_finish_time: string | null;
    target_time: string | null;
    recovered_to: string | null;
    restore_started_at: string;
    restore_finished_at: string | null;
    duration_seconds: number | null;
    rto_seconds: number;
    schema_version: unknown;
    row_counts: Record<string, number | null>;
    checks: DrillCheck[];
    /** Restore plus checks, in seconds: the checks share the RTO budget (each is bounded by what is left of it). */
    drill_duration_seconds: number | null;
    /** The role the data checks ran as (created on the restored copy only). */
    drill_role: string;
    findings: Finding[];
    error: string | null;
    evidence_location: string;
}

export const EVIDENCE_FILES = ["restore.log", "evidence.json"] as const;

/** Writes evidence.json and restore.log into dir; returns their paths. */
export function writeEvidence(dir: string, evidence: Evidence, log: string): { evidence: string; log: string } {
    const paths = { evidence: join(dir, "evidence.json"), log: join(dir, "restore.log") };
    writeFileSync(paths.log, log, { mode: 0o644 });
    writeFileSync(paths.evidence, `${JSON.stringify(evidence, null, 2)}\n`, { mode: 0o644 });
    return paths;
}

export function evidenceLocation(bucket: string, date: Date, environment: string, cluster: string, point: DrillPoint): string {
    return `s3://${bucket}/${evidenceKeyPrefix(date, environment, cluster, point)}`;
}

/** Uploads restore.log, then evidence.json (so evidence.json's presence means both are there). */
export async function uploadEvidence(w: WalgInvocation, bucket: string, keyPrefix: string, dir: string): Promise<void> {
    for (const name of EVIDENCE_FILES) {
        const r = await walg(w, ["st", "put", "--no-compress", "--no-encrypt", "-f", join(dir, name), `${keyPrefix}${name}`], {
            timeoutSeconds: 300,
            overrides: { WALG_S3_PREFIX: `s3://${bucket}` },
        });
        if (r.code !== 0) throw new Error(describeFailure(`uploading ${name}`, r));
    }
}
