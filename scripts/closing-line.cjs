// The closing lines of a test run, from the vitest JSON reports in JSON_DIR (one per suite):
// per suite its tests passed/failed/skipped and, with TIME_DIR, its wall time; the time of each
// part of the run (TIME_DIR/parts: `NAME SECONDS` lines); how many tests ran against real
// servers (every suite but unit-graph-policy); then the one closing line,
// `tests: N passed, N failed, N skipped`. Every failed test is named (file, test, the first
// line of its failure) just above the closing lines, so a log's tail says what failed. Exits 1 when a test failed or none ran, so a run that
// executed nothing never passes. Used by scripts/test.sh and test/docker/run.sh.
//   node scripts/closing-line.cjs JSON_DIR [TIME_DIR]
const fs = require("node:fs");
const path = require("node:path");

const [dir, timeDir] = process.argv.slice(2);
const minutes = (s) => `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, "0")} s`;
const secondsOf = (name) => {
    const f = timeDir && path.join(timeDir, name);
    return f && fs.existsSync(f) ? Number(fs.readFileSync(f, "utf8").trim()) : undefined;
};

let passed = 0;
let failed = 0;
let skipped = 0;
let real = 0;
const failures = [];
for (const f of fs
    .readdirSync(dir)
    .filter((n) => n.endsWith(".json"))
    .sort()) {
    const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    const suite = f.replace(/\.json$/, "");
    const s = { passed: r.numPassedTests, failed: r.numFailedTests, skipped: r.numPendingTests + r.numTodoTests };
    const wall = secondsOf(suite);
    console.log(
        `suite ${suite}: ${s.passed} passed, ${s.failed} failed, ${s.skipped} skipped${wall === undefined ? "" : `, ${minutes(wall)}`}`,
    );
    passed += s.passed;
    failed += s.failed;
    skipped += s.skipped;
    if (suite !== "unit-graph-policy") real += s.passed;
    for (const file of r.testResults ?? []) {
        const where = path.relative(process.cwd(), file.name);
        const firstLine = (text) =>
            String(text ?? "")
                .split("\n")
                .find((l) => l.trim()) ?? "";
        for (const t of file.assertionResults ?? []) {
            if (t.status === "failed") failures.push(`${suite}: ${where} > ${t.fullName}: ${firstLine(t.failureMessages?.[0])}`);
        }
        // A file that failed outside any test (an import error, a failing hook) has no failed test.
        if (file.status === "failed" && !(file.assertionResults ?? []).some((t) => t.status === "failed")) {
            failures.push(`${suite}: ${where}: ${firstLine(file.message)}`);
        }
    }
}
for (const f of failures) console.log(`FAILED ${f.slice(0, 400)}`);
const parts = timeDir && path.join(timeDir, "parts");
if (parts && fs.existsSync(parts)) {
    const figures = fs
        .readFileSync(parts, "utf8")
        .split("\n")
        .filter(Boolean)
        .map((l) => {
            const at = l.lastIndexOf(" ");
            return `${l.slice(0, at)} ${minutes(Number(l.slice(at + 1)))}`;
        });
    console.log(`parts: ${figures.join(", ")}`);
}
console.log(`tests against real servers (PostgreSQL, pgBouncer, WAL-G, MinIO, Docker, the Pulumi engine): ${real} passed`);
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || failures.length > 0 || passed === 0) process.exit(1);
