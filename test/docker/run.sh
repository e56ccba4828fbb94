#!/usr/bin/env bash
# npm run test:docker: the tier on a real Docker engine.
#  1. npm packages when absent (as scripts/test.sh);
#  2. the Pulumi CLI, language host and docker/random plugins built (scripts/install-pulumi.sh,
#     scripts/install-providers.sh, cached), for the stack that runs through the real engine;
#  3. the test engine started and the images ensured (scripts/docker-images.sh: engine,
#     debootstrapped debian:bookworm-slim, db-tier/{postgres,pgbouncer,minio}:local, cached);
#  4. vitest.docker.config.ts (the applier's tests, the dev and the production stack, the dev
#     tier through the real engine);
#  5. the engine stopped on exit, unless it was already running when this started (someone
#     else's session on it is left alone);
#  6. the same closing `tests: N passed, N failed, N skipped` line as npm test.
# A missing engine or image fails the suite (docker-images.sh exits non-zero): never a skip.
set -euo pipefail
cd "$(dirname "$0")/../.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi

results="$(mktemp -d)"
engine_was_running=0
if [ -z "${DBTIER_DOCKER_HOST:-}" ] && bash scripts/dockerd.sh status >/dev/null 2>&1; then engine_was_running=1; fi
cleanup() {
  rm -rf "$results"
  if [ "$engine_was_running" = 0 ] && [ -z "${DBTIER_DOCKER_HOST:-}" ]; then bash scripts/dockerd.sh stop || true; fi
}
trap cleanup EXIT

t0=$SECONDS
# The real engine (test/docker/dev-stack.test.ts): the CLI and language host, then the docker
# and random plugins, built from source (cached).
DBTIER_PULUMI_BIN="$(bash scripts/install-pulumi.sh | tail -n 1)"
export DBTIER_PULUMI_BIN
DBTIER_PULUMI_HOME="$(bash scripts/install-providers.sh | tail -n 1)"
export DBTIER_PULUMI_HOME
echo "== docker: the Pulumi engine and plugins ready in $((SECONDS - t0)) s"
t0=$SECONDS
eval "$(bash scripts/docker-images.sh)"
bash test/docker/reset-engine.sh
echo "== docker: engine and images ready in $((SECONDS - t0)) s"
status=0
npx vitest run --config vitest.docker.config.ts --reporter=default --reporter=json --outputFile.json="$results/docker.json" "$@" || status=$?
echo "== docker: $((SECONDS - t0)) s in all"

# The closing line, counted as scripts/test.sh counts it.
node scripts/closing-line.cjs "$results" || status=1
exit "$status"
