// The one closing line of a test run: `tests: N passed, N failed, N skipped`, summed over the
// vitest JSON reports in DIR (one per suite). Exits 1 when a test failed or none ran, so a
// run that executed nothing never passes. Used by scripts/test.sh and test/docker/run.sh.
//   node scripts/closing-line.cjs DIR
const fs = require("node:fs");
const path = require("node:path");

const dir = process.argv[2];
let passed = 0;
let failed = 0;
let skipped = 0;
for (const f of fs.readdirSync(dir)) {
    const r = JSON.parse(fs.readFileSync(path.join(dir, f), "utf8"));
    passed += r.numPassedTests;
    failed += r.numFailedTests;
    skipped += r.numPendingTests + r.numTodoTests;
}
console.log(`tests: ${passed} passed, ${failed} failed, ${skipped} skipped`);
if (failed > 0 || passed === 0) process.exit(1);
