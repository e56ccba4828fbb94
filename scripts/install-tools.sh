#!/usr/bin/env bash
# Installs every external tool the test suite needs and prints the directory that holds the
# Go-built binaries as the LAST line of stdout (everything else goes to stderr):
#
#   BIN="$(scripts/install-tools.sh | tail -n1)"
#
# - Debian packages (apt-get, only when missing): postgresql-15, postgresql-client-15,
#   pgbouncer, pgbackrest, plus the build inputs of WAL-G (gcc, libc6-dev, libsodium-dev,
#   pkg-config). Scripts use /usr/lib/postgresql/15/bin and /usr/sbin/pgbouncer.
# - Built from Go modules into ${DBTIER_TOOLS:-$HOME/.cache/db-tier-tools}/bin:
#   wal-g, minio, actionlint.
#
# Idempotent and fast when everything is present: a tool is rebuilt only when
# $BIN/<tool> is missing or $BIN/.<tool>.version differs from the pin below.
set -euo pipefail

# ---------------------------------------------------------------------------------------------
# Pins. Change a pin here and the next run rebuilds that tool (its stamp no longer matches).
# ---------------------------------------------------------------------------------------------

# WAL-G, Go module github.com/wal-g/wal-g, package main/pg.
# Why this pin: the repository's v2.x/v3.x tags are not valid Go module versions (the module
# path has no /v3 suffix), so only v0/v1 tags or pseudo-versions of commits can be fetched, and
# the Go module proxy reachable here is filtered: @latest, @master/@main, raw commit hashes,
# the @v/list endpoint and v3.x tags answer 403 "not available". A pseudo-version needs the
# commit's exact committer time (to the second), which no source reachable here gives for
# PR 2549's merge or any commit after v1.1.1; the few probes of recent commit hashes all got
# 403 (the filter is an exact allow-list: even a served hash with a wrong time is refused).
# v1.1.1 (tag time 2021-11-12T04:16:11Z) is the newest version found to be served
# (v0.2.19, v0.2.20 and v1.1.1 answered 200; a pseudo-version after it would be
# v1.1.2-0.YYYYMMDDHHMMSS-<12 hex>, since v1.1.1 is the highest valid v0/v1 tag).
# PR 2549 ("Handle cases where object VersionId is empty in S3 delete operations", merged
# 2026-09-10): NOT included, and not needed by this pin: the bug came with PR 2184 (2026,
# deletes started sending VersionId); v1.1.1's S3 DeleteObjects sends the key only
# (pkg/storages/s3/folder.go), so deletes on unversioned buckets really happen.
# KNOWN LIMITATION: v1.1.1 predates PostgreSQL 15 support: `backup-push` calls
# pg_start_backup()/pg_stop_backup(), which PostgreSQL 15 removed, so base backups against
# postgresql-15 fail; wal-push/wal-fetch/backup-list/delete work. Replace this pin with a
# servable pseudo-version of a commit after PR 2549 as soon as one is available; such commits
# need Go 1.27 (set WALG_GOTOOLCHAIN, e.g. go1.27.4, the newest go1.27 patch the proxy serves
# here) and GOEXPERIMENT=jsonv2 (what distributions use to build v3.0.8).
WALG_VERSION="v1.1.1"
WALG_GOTOOLCHAIN="local"
# Build tags: libsodium = client-side encryption (WALG_LIBSODIUM_KEY), needs cgo +
# libsodium-dev. lz4 and lzma compression are always compiled in. KNOWN LIMITATION of v1.1.1:
# zstd is decompress-only (WALG_COMPRESSION_METHOD=zstd fails with "supported methods are:
# [lz4 lzma]"); zstd compression needs a newer WAL-G. brotli/lzo are left out (they need
# extra C libraries and are not used).
WALG_TAGS="libsodium"

# MinIO server, Go module github.com/minio/minio. The project publishes no Go module versions
# (its RELEASE.* tags are not semver), so it is pinned by pseudo-version: the newest the proxy
# serves here as @latest (commit 7aac2a2c5b7c, 2026-02-12T20:18:48Z).
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

# actionlint, github.com/rhysd/actionlint/cmd/actionlint: the latest release tag the proxy
# serves (v1.7.12).
ACTIONLINT_VERSION="v1.7.12"

# Debian packages. The first four are what the test suite runs; the rest are WAL-G's build
# inputs (cgo + libsodium).
APT_PACKAGES=(postgresql-15 postgresql-client-15 pgbouncer pgbackrest
  gcc libc6-dev libsodium-dev pkg-config)

# ---------------------------------------------------------------------------------------------

# Everything but the final line goes to stderr.
exec 3>&1 1>&2

CACHE_DIR="${DBTIER_TOOLS:-$HOME/.cache/db-tier-tools}"
BIN="$CACHE_DIR/bin"
mkdir -p "$BIN"

log() { printf 'install-tools: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# One run at a time per cache directory (two concurrent runs would race on apt and builds).
if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_DIR/.lock"
  flock 9
fi

SUDO=()
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1; then SUDO=(sudo -n); fi
fi

# --- Debian packages --------------------------------------------------------------------------

pkg_installed() {
  dpkg-query -W -f='${Status}' "$1" 2>/dev/null | grep -q '^install ok installed$'
}

apt_install() {
  local -a cmd=("${SUDO[@]}" env DEBIAN_FRONTEND=noninteractive apt-get
    -o DPkg::Lock::Timeout=600 -y -q --no-install-recommends install "$@")
  if ! "${cmd[@]}"; then
    log "apt-get install failed; running apt-get update and retrying"
    "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 -q update
    "${cmd[@]}"
  fi
}

install_debian_packages() {
  local -a missing=()
  local p
  for p in "${APT_PACKAGES[@]}"; do
    pkg_installed "$p" || missing+=("$p")
  done
  if [ "${#missing[@]}" -eq 0 ]; then
    log "debian packages: all present"
    return
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get"
  if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
    die "missing packages (${missing[*]}): run as root or install them first"
  fi
  log "debian packages: installing ${missing[*]}"
  apt_install "${missing[@]}"

  # The packages may have started services (on machines without a policy-rc.d). Stop and
  # disable only what this run just installed: a PostgreSQL or pgBouncer that was already
  # there (e.g. someone's server on 5432) is left alone. Tests start their own instances.
  local newly=" ${missing[*]} "
  if [[ "$newly" == *" postgresql-15 "* ]] && [ -d /etc/postgresql/15/main ]; then
    if command -v pg_lsclusters >/dev/null 2>&1 &&
      pg_lsclusters -h 2>/dev/null | awk '$1=="15" && $2=="main" && $4=="online"' | grep -q .; then
      log "stopping the 15/main cluster the package started"
      "${SUDO[@]}" pg_ctlcluster 15 main stop || log "could not stop cluster 15/main"
    fi
    if [ -w /etc/postgresql/15/main/start.conf ] || [ "${#SUDO[@]}" -gt 0 ]; then
      echo manual | "${SUDO[@]}" tee /etc/postgresql/15/main/start.conf >/dev/null || true
    fi
  fi
  if [[ "$newly" == *" pgbouncer "* ]]; then
    local pidf=/var/run/postgresql/pgbouncer.pid
    if [ -s "$pidf" ] && kill -0 "$(cat "$pidf")" 2>/dev/null; then
      log "stopping the pgbouncer service the package started"
      "${SUDO[@]}" kill "$(cat "$pidf")" || true
    fi
  fi
  if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
    [[ "$newly" == *" pgbouncer "* ]] && "${SUDO[@]}" systemctl disable --now pgbouncer || true
  elif command -v update-rc.d >/dev/null 2>&1; then
    [[ "$newly" == *" pgbouncer "* ]] && "${SUDO[@]}" update-rc.d pgbouncer disable >/dev/null 2>&1 || true
  fi
}

# --- Go-built tools ---------------------------------------------------------------------------

find_go() {
  if command -v go >/dev/null 2>&1; then return; fi
  if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; return; fi
  die "go is not installed (need Go >= 1.24 on PATH or in /usr/local/go)"
}

# up_to_date TOOL STAMP: the binary exists and was built from exactly this pin.
up_to_date() {
  [ -x "$BIN/$1" ] && [ -f "$BIN/.$1.version" ] && [ "$(cat "$BIN/.$1.version")" = "$2" ]
}

# finish TOOL BUILT_FILE STAMP: move into place atomically, then write the stamp.
finish() {
  mv -f "$2" "$BIN/$1"
  printf '%s\n' "$3" >"$BIN/.$1.version"
}

build_walg() {
  local stamp="$WALG_VERSION tags=$WALG_TAGS"
  if up_to_date wal-g "$stamp"; then log "wal-g $WALG_VERSION: up to date"; return; fi
  log "wal-g $WALG_VERSION: building (tags: $WALG_TAGS, toolchain: $WALG_GOTOOLCHAIN)"
  local t0=$SECONDS mod
  mod="$(mktemp -d "${TMPDIR:-/tmp}/walg-build.XXXXXX")"
  # `go install module@version` cannot be used: it looks up @latest to report deprecation,
  # and that lookup is refused by the filtered proxy. A throwaway module pins the version
  # instead (wal-g's go.mod has no replace directives to copy).
  cat >"$mod/go.mod" <<EOF
module dbtier.local/walg-build

go 1.17

require github.com/wal-g/wal-g $WALG_VERSION
EOF
  (
    cd "$mod"
    export GOTOOLCHAIN="$WALG_GOTOOLCHAIN" GOFLAGS="-buildvcs=false -mod=mod" CGO_ENABLED=1
    go build -trimpath -tags "$WALG_TAGS" \
      -ldflags "-s -w -X github.com/wal-g/wal-g/cmd/pg.walgVersion=$WALG_VERSION -X github.com/wal-g/wal-g/cmd/pg.gitRevision=go-module -X github.com/wal-g/wal-g/cmd/pg.buildDate=pinned" \
      -o "$BIN/.wal-g.tmp.$$" github.com/wal-g/wal-g/main/pg
  ) || { rm -rf "$mod" "$BIN/.wal-g.tmp.$$"; die "wal-g build failed"; }
  rm -rf "$mod"
  finish wal-g "$BIN/.wal-g.tmp.$$" "$stamp"
  log "wal-g: built in $((SECONDS - t0))s"
}

# go_install TOOL PACKAGE VERSION: plain `go install pkg@version` (no replace directives).
go_install() {
  local tool="$1" pkg="$2" version="$3"
  if up_to_date "$tool" "$version"; then log "$tool $version: up to date"; return; fi
  log "$tool $version: building"
  local t0=$SECONDS gobin
  gobin="$(mktemp -d "$BIN/.gobin.XXXXXX")"
  if ! GOBIN="$gobin" GOFLAGS="-buildvcs=false" CGO_ENABLED=0 \
    go install -trimpath -ldflags "-s -w" "$pkg@$version"; then
    rm -rf "$gobin"
    die "$tool build failed"
  fi
  finish "$tool" "$gobin/$(basename "$pkg")" "$version"
  rm -rf "$gobin"
  log "$tool: built in $((SECONDS - t0))s"
}

install_debian_packages
find_go
build_walg
go_install minio github.com/minio/minio "$MINIO_VERSION"
go_install actionlint github.com/rhysd/actionlint/cmd/actionlint "$ACTIONLINT_VERSION"

for f in /usr/lib/postgresql/15/bin/postgres /usr/lib/postgresql/15/bin/initdb \
  /usr/sbin/pgbouncer /usr/bin/pgbackrest "$BIN/wal-g" "$BIN/minio" "$BIN/actionlint"; do
  [ -x "$f" ] || die "expected executable missing: $f"
done

log "tools ready in $BIN"
echo "$BIN" >&3
