#!/usr/bin/env bash
# The whole test suite: what `npm test` runs and what .ci/run calls.
#  1. installs what the tests need (npm packages when absent; PostgreSQL 15, pgBouncer,
#     WAL-G, MinIO and actionlint through scripts/install-tools.sh, cached between runs);
#  2. type-checks; 3. unit, graph (Pulumi mocks) and policy tests; 4. integration tests
#     against the real binaries on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
DBTIER_TOOLS_BIN="$(bash scripts/install-tools.sh | tail -n 1)"
export DBTIER_TOOLS_BIN

echo "== typecheck"
npx tsc --noEmit -p tsconfig.json
echo "== unit, graph and policy tests"
npx vitest run --config vitest.config.ts
echo "== integration tests (real PostgreSQL 15, pgBouncer, WAL-G, MinIO)"
npx vitest run --config vitest.integration.config.ts
