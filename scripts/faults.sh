#!/usr/bin/env bash
# The fault tests, long ones included (see README "Fault tests"):
#   bash scripts/faults.sh            # every fault test; the storage outage lasts 2 minutes
#   bash scripts/faults.sh -t outage  # extra arguments go to vitest (here: only the outage)
# The short ones also run in `npm test` (vitest.faults.config.ts without DBTIER_FAULTS_LONG).
# Needs root (Postgres runs as the `postgres` OS user; the full-WAL-disk test mounts a tmpfs).
# About 12 minutes on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."

if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
DBTIER_TOOLS_BIN="$(bash scripts/install-tools.sh | tail -n 1)"
export DBTIER_TOOLS_BIN
export DBTIER_FAULTS_LONG=1

echo "== fault tests, long ones included (storage outage ${DBTIER_FAULT_OUTAGE_S:-120} s, full WAL disk)"
npx vitest run --config vitest.faults.config.ts "$@"
