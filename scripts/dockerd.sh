#!/usr/bin/env bash
# A private Docker engine for the test suite (test/docker/), separate from any other daemon:
#
#   export DOCKER_HOST="$(bash scripts/dockerd.sh start | tail -n1)"   # idempotent
#   bash scripts/dockerd.sh status     # exit 0 and print DOCKER_HOST when it answers
#   bash scripts/dockerd.sh env        # `export DOCKER_HOST=… DOCKER_BUILDKIT=0` lines
#   bash scripts/dockerd.sh stop       # containers stopped, daemon gone, bridge removed
#
# Debian's dockerd (package docker.io, 20.10) with everything of its own:
# - data root (images, volumes, build cache) under the tools cache, so images survive runs:
#   ${DBTIER_DOCKER_DATA_ROOT:-${DBTIER_TOOLS:-$HOME/.cache/db-tier-tools}/docker}
# - socket, pid file, exec root, config and log under ${DBTIER_DOCKER_RUN_DIR:-/run/db-tier-docker}
#   (the socket is $RUN_DIR/docker.sock: DOCKER_HOST=unix:///run/db-tier-docker/docker.sock)
# - its own bridge `dbtier0` (10.213.0.1/24) instead of docker0, and user-defined networks
#   from 10.214.0.0/16 (/24 each), never Docker's default 172.17+/192.168 pools
# - an empty daemon.json of its own (never /etc/docker/daemon.json), overlay2, MTU 1400
#   (the machine's uplink is smaller than 1500), published ports default to 127.0.0.1.
#
# Why it refuses to run next to another dockerd: every dockerd programs the same iptables
# chains (DOCKER, DOCKER-ISOLATION-STAGE-*, DOCKER-USER) and rewrites them when it starts, so
# a second daemon would disturb the first one's rules. This script never stops, signals or
# reconfigures a daemon it did not start; it reports the other one and exits 3.
set -euo pipefail

CACHE_DIR="${DBTIER_TOOLS:-$HOME/.cache/db-tier-tools}"
DATA_ROOT="${DBTIER_DOCKER_DATA_ROOT:-$CACHE_DIR/docker}"
RUN_DIR="${DBTIER_DOCKER_RUN_DIR:-/run/db-tier-docker}"
SOCK="$RUN_DIR/docker.sock"
PIDFILE="$RUN_DIR/dockerd.pid"
LOG="$RUN_DIR/dockerd.log"
BRIDGE="${DBTIER_DOCKER_BRIDGE:-dbtier0}"
BRIDGE_CIDR="${DBTIER_DOCKER_BRIDGE_CIDR:-10.213.0.1/24}"
POOL="${DBTIER_DOCKER_POOL:-10.214.0.0/16}"
DOCKER_HOST_URL="unix://$SOCK"
DOCKERD="${DBTIER_DOCKERD:-/usr/sbin/dockerd}"

log() { printf 'dockerd.sh: %s\n' "$*" >&2; }
die() { log "ERROR: $1"; exit "${2:-1}"; }

# The docker CLI: /usr/local/bin's static 28.x or docker.io's /usr/bin/docker, whichever is on PATH.
cli() { DOCKER_HOST="$DOCKER_HOST_URL" docker "$@"; }

our_pid() {
  [ -s "$PIDFILE" ] || return 1
  local pid
  pid="$(cat "$PIDFILE")"
  # The pid must still be a dockerd started with our pid file (pids get reused).
  [ -r "/proc/$pid/cmdline" ] && tr '\0' ' ' <"/proc/$pid/cmdline" | grep -q -- "--pidfile $PIDFILE" || return 1
  printf '%s\n' "$pid"
}

answers() { [ -S "$SOCK" ] && cli version --format '{{.Server.Version}}' >/dev/null 2>&1; }

# dockerd processes that are not ours (any other daemon on this machine).
other_daemons() {
  local mine pid
  mine="$(our_pid || true)"
  for pid in $(pgrep -x dockerd || true); do
    [ "$pid" = "$mine" ] || printf '%s ' "$pid"
  done
}

# Routes that overlap our ranges but are not on our bridge: another network already uses them.
route_conflicts() {
  local bridge_net="${BRIDGE_CIDR%.*}." pool_prefix
  pool_prefix="$(printf '%s' "$POOL" | cut -d. -f1-2)."
  ip -4 route show 2>/dev/null | grep -E "^(${bridge_net//./\\.}|${pool_prefix//./\\.})" |
    grep -v -E "dev ($BRIDGE|br-[0-9a-f]{12})( |$)" || true
}

close_inherited_fds() {
  local fd
  for fd in $(ls "/proc/$BASHPID/fd"); do
    # 0-2 are redirected by the caller; 255 is bash's own handle on this script.
    [ "$fd" -gt 2 ] 2>/dev/null && [ "$fd" != 255 ] || continue
    eval "exec $fd>&-" 2>/dev/null || true
  done
}

ensure_bridge() {
  if ! ip link show "$BRIDGE" >/dev/null 2>&1; then
    ip link add "$BRIDGE" type bridge
  fi
  if ! ip -4 addr show dev "$BRIDGE" | grep -q "inet $BRIDGE_CIDR"; then
    ip addr add "$BRIDGE_CIDR" dev "$BRIDGE"
  fi
  ip link set "$BRIDGE" mtu 1400 up
}

start() {
  [ "$(id -u)" -eq 0 ] || die "the private dockerd runs as root (bridges, iptables, overlay2)"
  [ -x "$DOCKERD" ] || die "$DOCKERD missing: run scripts/install-tools.sh (Debian package docker.io)"
  if our_pid >/dev/null; then
    local i
    for i in $(seq 60); do answers && break; sleep 1; done
    answers || die "our dockerd (pid $(our_pid)) does not answer on $SOCK; see $LOG"
    log "already running (pid $(our_pid))"
    echo "$DOCKER_HOST_URL"
    return
  fi
  local others
  others="$(other_daemons)"
  [ -z "$others" ] || die "another dockerd is running (pid $others); this script never runs next to one (shared iptables chains) and never touches it. Point DBTIER_DOCKER_HOST at that engine or stop it yourself." 3
  local conflicts
  conflicts="$(route_conflicts)"
  [ -z "$conflicts" ] || die "routes already use $BRIDGE_CIDR or $POOL: $conflicts (set DBTIER_DOCKER_BRIDGE_CIDR / DBTIER_DOCKER_POOL)" 3

  mkdir -p "$RUN_DIR" "$DATA_ROOT"
  chmod 0700 "$RUN_DIR"
  rm -f "$SOCK" "$PIDFILE"
  printf '{}\n' >"$RUN_DIR/daemon.json"
  ensure_bridge
  log "starting dockerd (data root $DATA_ROOT, socket $SOCK, bridge $BRIDGE $BRIDGE_CIDR)"
  # setsid: the daemon outlives the shell that started it (the test runner stops it explicitly).
  # Every descriptor above 2 is closed for it: an inherited pipe (a caller's `$(…)`) or lock
  # (flock in docker-images.sh, install-tools.sh) would otherwise stay open as long as it runs.
  (
  close_inherited_fds
  exec setsid "$DOCKERD" \
    --config-file "$RUN_DIR/daemon.json" \
    --data-root "$DATA_ROOT" \
    --exec-root "$RUN_DIR/exec" \
    --pidfile "$PIDFILE" \
    -H "$DOCKER_HOST_URL" \
    --storage-driver overlay2 \
    --mtu 1400 \
    --bridge "$BRIDGE" \
    --default-address-pool "base=$POOL,size=24" \
    --ip 127.0.0.1 \
    --log-level warn \
    </dev/null >>"$LOG" 2>&1
  ) &
  local i
  for i in $(seq 90); do
    answers && break
    if [ "$i" -gt 3 ] && ! our_pid >/dev/null && ! kill -0 $! 2>/dev/null; then
      tail -n 20 "$LOG" >&2 || true
      die "dockerd exited during start; see $LOG"
    fi
    sleep 1
  done
  answers || { tail -n 20 "$LOG" >&2 || true; die "dockerd did not answer on $SOCK within 90 s; see $LOG"; }
  log "running (pid $(our_pid), engine $(cli version --format '{{.Server.Version}}'))"
  echo "$DOCKER_HOST_URL"
}

stop() {
  local pid
  if pid="$(our_pid)"; then
    log "stopping dockerd (pid $pid); it stops its containers first"
    kill -TERM "$pid"
    local i
    for i in $(seq 90); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "dockerd $pid still alive after 90 s: SIGKILL"
      kill -KILL "$pid" || true
      sleep 1
    fi
  else
    log "not running"
  fi
  rm -f "$SOCK" "$PIDFILE"
  if ip link show "$BRIDGE" >/dev/null 2>&1; then ip link delete "$BRIDGE" || true; fi
}

status() {
  if our_pid >/dev/null && answers; then
    log "running (pid $(our_pid), data root $DATA_ROOT)"
    echo "$DOCKER_HOST_URL"
  else
    log "not running"
    return 1
  fi
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status) status ;;
  env) printf 'export DOCKER_HOST=%s\nexport DOCKER_BUILDKIT=0\n' "$DOCKER_HOST_URL" ;;
  *) echo "usage: $0 start|stop|status|env" >&2; exit 2 ;;
esac
