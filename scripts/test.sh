#!/usr/bin/env bash
# The whole test suite: what `npm test` runs and what .ci/run calls.
#  1. installs what the tests need (npm packages when absent; PostgreSQL 15, pgBouncer,
#     WAL-G, MinIO and actionlint through scripts/install-tools.sh, the Pulumi CLI and language
#     host through scripts/install-pulumi.sh, all cached between runs);
#  2. type-checks, then checks formatting and lints (biome ci: a misformatted file or any
#     finding, warnings included, fails the run); 3. unit, graph (Pulumi mocks) and policy
#     tests; 4. integration tests against the real binaries on loopback; 5. the short fault
#     tests (the long ones: scripts/faults.sh); 6. the stacks on a real Docker engine (test/docker).
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
DBTIER_TOOLS_BIN="$(bash scripts/install-tools.sh | tail -n 1)"
export DBTIER_TOOLS_BIN
# The Pulumi CLI and db-tier's Node.js language host, built from source (cached); the
# integration suite runs a program through them (test/integration/pulumi-engine.test.ts).
pulumi_t0=$SECONDS
DBTIER_PULUMI_BIN="$(bash scripts/install-pulumi.sh | tail -n 1)"
export DBTIER_PULUMI_BIN
echo "== pulumi engine ready in $((SECONDS - pulumi_t0)) s ($DBTIER_PULUMI_BIN)"

results="$(mktemp -d)"
# The test engine (test/docker) is stopped on exit if this run started it.
docker_engine_was_running=0
if [ -z "${DBTIER_DOCKER_HOST:-}" ] && bash scripts/dockerd.sh status >/dev/null 2>&1; then docker_engine_was_running=1; fi
cleanup() {
  rm -rf "$results"
  if [ "$docker_engine_was_running" = 0 ] && [ -z "${DBTIER_DOCKER_HOST:-}" ]; then bash scripts/dockerd.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
suite() { # NAME CONFIG: one vitest run, its counts kept for the closing line
  echo "== $1"
  npx vitest run --config "$2" --reporter=default --reporter=json --outputFile.json="$results/$1.json"
}

echo "== typecheck"
npx tsc --noEmit -p tsconfig.json
npx tsc -p bench/tsconfig.json
echo "== lint (biome: formatter check and linter over the whole tree)"
npm run --silent lint
suite unit-graph-policy vitest.config.ts
suite integration vitest.integration.config.ts
suite faults vitest.faults.config.ts
# The tier on a real Docker engine: engine started and images ensured (cached) first.
echo "== docker engine and images"
eval "$(bash scripts/docker-images.sh)"
bash test/docker/reset-engine.sh
suite docker vitest.docker.config.ts

# One closing line over every suite (vitest prints one per run).
node scripts/closing-line.cjs "$results"
