#!/usr/bin/env node
/**
 * The job runner's npm dependencies, pinned by the package's own lockfile: writes
 * images/postgres/job-runner/package.json and package-lock.json with the runtime
 * dependencies the Postgres image needs (JOB_RUNNER_DEPS) at the versions package.json pins,
 * and every transitive package at exactly the version, tarball and integrity the root
 * package-lock.json resolved, so `npm ci` in the image installs the tree the tests ran.
 * (npm never publishes package-lock.json, so the image cannot read the root one; this copy
 * ships in images/.) `--check` exits 1 when the committed files differ from a fresh run.
 *
 *   node images/postgres/job-runner-lock.cjs [--check]
 */
"use strict";
const fs = require("node:fs");
const path = require("node:path");

const JOB_RUNNER_DEPS = ["@aws-sdk/client-s3"];
const repo = path.resolve(__dirname, "..", "..");
const outDir = path.join(__dirname, "job-runner");
const rootPkg = JSON.parse(fs.readFileSync(path.join(repo, "package.json"), "utf8"));
const lock = JSON.parse(fs.readFileSync(path.join(repo, "package-lock.json"), "utf8"));
const all = lock.packages;

/** Node's lookup from a package directory: its own node_modules, then each parent's. */
function resolve(from, name) {
    let dir = from;
    for (;;) {
        const p = `${dir ? `${dir}/` : ""}node_modules/${name}`;
        if (all[p] && !all[p].link) return p;
        if (!dir) return undefined;
        const i = dir.lastIndexOf("/node_modules/");
        dir = i < 0 ? "" : dir.slice(0, i);
    }
}

const dependencies = {};
for (const d of JOB_RUNNER_DEPS) {
    if (!rootPkg.dependencies?.[d]) throw new Error(`${d} is not a dependency in package.json`);
    dependencies[d] = rootPkg.dependencies[d];
}
const packages = { "": { name: "db-tier-job-runner", dependencies } };
const queue = JOB_RUNNER_DEPS.map((d) => ["", d, false]);
while (queue.length > 0) {
    const [from, name, optional] = queue.shift();
    const p = resolve(from, name);
    if (!p) {
        if (optional) continue;
        throw new Error(`package-lock.json has no ${name} reachable from ${from || "the root"}: run npm install`);
    }
    if (packages[p]) continue;
    const { dev, devOptional, peer, ...entry } = all[p];
    packages[p] = entry;
    for (const d of Object.keys(entry.dependencies ?? {})) queue.push([p, d, false]);
    for (const d of Object.keys(entry.optionalDependencies ?? {})) queue.push([p, d, true]);
    for (const d of Object.keys(entry.peerDependencies ?? {})) queue.push([p, d, entry.peerDependenciesMeta?.[d]?.optional === true]);
}
const sorted = Object.fromEntries(
    Object.keys(packages)
        .sort()
        .map((k) => [k, packages[k]]),
);
const files = {
    "package.json": `${JSON.stringify({ name: "db-tier-job-runner", private: true, dependencies }, null, 2)}\n`,
    "package-lock.json": `${JSON.stringify({ name: "db-tier-job-runner", lockfileVersion: 3, requires: true, packages: sorted }, null, 2)}\n`,
};
if (process.argv.includes("--check")) {
    const stale = Object.keys(files).filter((f) => {
        const p = path.join(outDir, f);
        return !fs.existsSync(p) || fs.readFileSync(p, "utf8") !== files[f];
    });
    if (stale.length > 0) {
        console.error(
            `images/postgres/job-runner/${stale.join(", ")} out of date with package-lock.json: run node images/postgres/job-runner-lock.cjs`,
        );
        process.exit(1);
    }
    process.exit(0);
}
fs.mkdirSync(outDir, { recursive: true });
for (const [f, text] of Object.entries(files)) fs.writeFileSync(path.join(outDir, f), text);
console.error(`job-runner lock: ${Object.keys(sorted).length - 1} packages`);
