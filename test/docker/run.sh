#!/usr/bin/env bash
# npm run test:docker: the tier on a real Docker engine.
#  1. npm packages when absent (as scripts/test.sh);
#  2. the test engine started and the images ensured (scripts/docker-images.sh: engine,
#     debootstrapped debian:bookworm-slim, db-tier/{postgres,pgbouncer,minio}:local, cached);
#  3. vitest.docker.config.ts (the applier's tests, the dev and the production stack);
#  4. the engine stopped on exit, unless it was already running when this started (someone
#     else's session on it is left alone);
#  5. the same closing `tests: N passed, N failed, N skipped` line as npm test.
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
eval "$(bash scripts/docker-images.sh)"
bash test/docker/reset-engine.sh
echo "== docker: engine and images ready in $((SECONDS - t0)) s"
status=0
npx vitest run --config vitest.docker.config.ts --reporter=default --reporter=json --outputFile.json="$results/docker.json" "$@" || status=$?
echo "== docker: $((SECONDS - t0)) s in all"

# The closing line, counted as scripts/test.sh counts it.
node scripts/closing-line.cjs "$results" || status=1
exit "$status"
