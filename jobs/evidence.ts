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

export interface DrillCheck {
    readonly name: string;
    readonly status: "passed" | "failed" | "skipped";
    readonly detail: string;
}

export interface Evidence {
    status: "passed" | "failed";
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

export function evidenceLocation(bucket: string, date: Date, environment: string, cluster: string): string {
    return `s3://${bucket}/${evidenceKeyPrefix(date, environment, cluster)}`;
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
