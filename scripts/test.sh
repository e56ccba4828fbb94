#!/usr/bin/env bash
# The whole test suite: what `npm test` runs and what .ci/run calls.
#  1. installs what the tests need (npm packages when absent; PostgreSQL 15, pgBouncer,
#     WAL-G, MinIO and actionlint through scripts/install-tools.sh, the Pulumi CLI and language
#     host through scripts/install-pulumi.sh, all cached between runs);
#  2. type-checks, then checks formatting and lints (biome ci: a misformatted file or any
#     finding, warnings included, fails the run);
#  3. the suites, in three lanes that run at the same time (DBTIER_TEST_LANES=serial: one
#     after another, in this order):
#     - unit, graph (Pulumi mocks) and policy tests, then the short fault tests (the long
#       ones: scripts/faults.sh) against the real binaries on loopback;
#     - the integration and security tests against the real binaries on loopback;
#     - the Pulumi docker and random plugins (scripts/install-providers.sh) and the Docker
#       engine and images ensured (all cached), then the stacks on it (test/docker), one of
#       them through the real engine.
#     The lanes share nothing but the machine: loopback tiers take free ports and their own
#     state dirs, the Docker suite its private engine. Each lane's output is printed whole
#     when it ends (so two lanes never interleave), with its time.
#  4. per suite: tests passed/failed/skipped and wall time; the time of each part (tools,
#     checks, images, tests); then the closing `tests: N passed, N failed, N skipped` line.
set -euo pipefail
cd "$(dirname "$0")/.."
run_t0=$SECONDS

results="$(mktemp -d)"
mkdir -p "$results/json" "$results/time" "$results/log"
# The test engine (test/docker) is stopped on exit if this run started it.
docker_engine_was_running=0
cleanup() {
  jobs -p | xargs -r kill 2>/dev/null || true
  rm -rf "$results"
  if [ "$docker_engine_was_running" = 0 ] && [ -z "${DBTIER_DOCKER_HOST:-}" ]; then bash scripts/dockerd.sh stop >/dev/null 2>&1 || true; fi
}
trap cleanup EXIT
part() { echo "$1 $2" >>"$results/time/parts"; } # NAME SECONDS: a part of the closing figures

t0=$SECONDS
if [ ! -d node_modules ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
  npm ci --no-audit --no-fund
fi
DBTIER_TOOLS_BIN="$(bash scripts/install-tools.sh | tail -n 1)"
export DBTIER_TOOLS_BIN
# The Pulumi CLI and db-tier's Node.js language host, built from source (cached); the
# integration suite runs a program through them (test/integration/pulumi-engine.test.ts).
DBTIER_PULUMI_BIN="$(bash scripts/install-pulumi.sh | tail -n 1)"
export DBTIER_PULUMI_BIN
part tools $((SECONDS - t0))
if [ -z "${DBTIER_DOCKER_HOST:-}" ] && bash scripts/dockerd.sh status >/dev/null 2>&1; then docker_engine_was_running=1; fi

t0=$SECONDS
echo "== typecheck"
npx tsc --noEmit -p tsconfig.json
npx tsc -p bench/tsconfig.json
echo "== lint (biome: formatter check and linter over the whole tree)"
npm run --silent lint
part checks $((SECONDS - t0))

suite() { # NAME CONFIG: one vitest run; its JSON report and wall time kept for the closing lines
  local t0=$SECONDS status=0
  echo "== $1"
  npx vitest run --config "$2" --reporter=default --reporter=json --outputFile.json="$results/json/$1.json" || status=$?
  echo "$((SECONDS - t0))" >"$results/time/$1"
  return "$status"
}
lane_loopback_short() { # a failed suite does not keep the next one from running
  local status=0
  suite unit-graph-policy vitest.config.ts || status=1
  suite faults vitest.faults.config.ts || status=1
  return "$status"
}
lane_loopback_long() { suite integration vitest.integration.config.ts; }
lane_docker() {
  # The docker and random plugins for the real engine (test/docker/dev-stack.test.ts),
  # built from source and cached; then the engine started and the images ensured (cached).
  # A cold run builds them here.
  local t0=$SECONDS
  echo "== pulumi resource plugins (docker, random)"
  DBTIER_PULUMI_HOME="$(bash scripts/install-providers.sh | tail -n 1)" || return 1
  export DBTIER_PULUMI_HOME
  echo "$((SECONDS - t0))" >"$results/time/providers"
  t0=$SECONDS
  echo "== docker engine and images"
  local exports
  exports="$(bash scripts/docker-images.sh)" || return 1
  eval "$exports"
  bash test/docker/reset-engine.sh || return 1
  echo "$((SECONDS - t0))" >"$results/time/images"
  suite docker vitest.docker.config.ts
}
LANES=(loopback_short loopback_long docker)

t0=$SECONDS
status=0
if [ "${DBTIER_TEST_LANES:-parallel}" = serial ]; then
  for lane in "${LANES[@]}"; do "lane_$lane" || status=1; done
else
  declare -A pid_of
  for lane in "${LANES[@]}"; do
    ("lane_$lane" >"$results/log/$lane" 2>&1) &
    pid_of[$lane]=$!
  done
  echo "== ${#LANES[@]} lanes started: ${LANES[*]} (each printed whole when it ends)"
  for lane in "${LANES[@]}"; do
    rc=0
    wait "${pid_of[$lane]}" || rc=$?
    echo "== lane $lane: exit $rc after $((SECONDS - t0)) s"
    cat "$results/log/$lane"
    [ "$rc" = 0 ] || status=1
  done
fi
part tests $((SECONDS - t0))
[ -f "$results/time/providers" ] && part "plugins (in the docker lane)" "$(cat "$results/time/providers")"
[ -f "$results/time/images" ] && part "images (in the docker lane)" "$(cat "$results/time/images")"
part total $((SECONDS - run_t0))

# The figures per suite and per part, then one closing line over every suite.
node scripts/closing-line.cjs "$results/json" "$results/time" || status=1
exit "$status"
