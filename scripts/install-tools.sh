#!/usr/bin/env bash
# Installs every external tool the test suite needs and prints the directory that holds the
# Go-built binaries as the LAST line of stdout (everything else goes to stderr):
#
#   BIN="$(scripts/install-tools.sh | tail -n1)"
#
# - Debian packages (apt-get, only when missing): postgresql-15, postgresql-client-15,
#   pgbouncer, pgbackrest, plus the build inputs of WAL-G (gcc, libc6-dev, libsodium-dev,
#   pkg-config). Scripts use /usr/lib/postgresql/15/bin and /usr/sbin/pgbouncer. On Debian
#   bookworm all from Debian; on Ubuntu 24.04 (no PostgreSQL 15) PostgreSQL from
#   apt.postgresql.org, the rest from Ubuntu (pgBouncer 1.22), docker.io skipped when a Docker
#   engine is already installed.
# - Built from Go modules into ${DBTIER_TOOLS:-$HOME/.cache/db-tier-tools}/bin:
#   wal-g, minio, actionlint.
#
# Idempotent and fast when everything is present: a tool is rebuilt only when
# $BIN/<tool> is missing or $BIN/.<tool>.version differs from the pin below.
set -euo pipefail

# ---------------------------------------------------------------------------------------------
# Pins. Change a pin here and the next run rebuilds that tool (its stamp no longer matches).
# ---------------------------------------------------------------------------------------------

# WAL-G v3.0.9 (the release tag), built from the source vendored in third_party/wal-g/
# (provenance, checksum and the one stubbed dependency: third_party/wal-g/README.md). The Go
# module proxy cannot serve it as a module (v3 tags lack the /v3 suffix), but serves all its
# dependencies but one. The Postgres image copies this same binary (scripts/docker-images.sh),
# so the image runs exactly what the tests ran.
WALG_VERSION="v3.0.9"
WALG_SRC_SHA256="e47e8c4b06b606c360e41ad42a39bbee152a02cde5525099db4f3dfaa44a7034"
# Build tags: libsodium = client-side encryption (WALG_LIBSODIUM_KEY), needs cgo +
# libsodium-dev. lz4, lzma and zstd compression are always compiled in; brotli/lzo are left
# out (extra C libraries, not used).
WALG_TAGS="libsodium"
# db-tier's patches on top of the release (third_party/wal-g/patches/, applied in this order
# with patch -p1; their checksums are part of the stamp, so changing one rebuilds):
# - 0002: `wal-receive` also uploads the segment it is filling as <segment>.partial every
#   WALG_RECEIVE_PARTIAL_INTERVAL (streaming WAL archiving with an RPO of seconds; v3.0.9 only
#   uploads complete 16 MB segments). Inert unless that variable is set.
# Not applied: 0001 (DeleteObjects without an empty VersionId): v3.0.9's deletes remove the
# objects on MinIO, unversioned and versioned (test/integration/walg-delete.test.ts).
WALG_PATCHES=(0002-wal-receive-partial-uploads.patch)

# MinIO server, Go module github.com/minio/minio. The project publishes no Go module versions
# (its RELEASE.* tags are not semver), so it is pinned by pseudo-version: the newest the proxy
# serves here as @latest (commit 7aac2a2c5b7c, 2026-02-12T20:18:48Z).
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c"

# actionlint, github.com/rhysd/actionlint/cmd/actionlint: the latest release tag the proxy
# serves (v1.7.12).
ACTIONLINT_VERSION="v1.7.12"

# Debian packages. The first four are what the test suite runs; then WAL-G's build inputs
# (cgo + libsodium); then the Docker suite's engine (dockerd 20.10, run privately by
# scripts/dockerd.sh) and debootstrap (its debian:bookworm-slim base, scripts/docker-images.sh).
APT_PACKAGES=(postgresql-15 postgresql-client-15 pgbouncer pgbackrest
  gcc libc6-dev libsodium-dev pkg-config patch
  docker.io debootstrap)

# ---------------------------------------------------------------------------------------------

# Everything but the final line goes to stderr.
exec 3>&1 1>&2

REPO="$(cd "$(dirname "$0")/.." && pwd)"
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

# The packages this machine still needs. docker.io only where no Docker engine is installed:
# GitHub's Ubuntu runners (and many desktops) have Docker's docker-ce/containerd.io, which
# docker.io conflicts with (apt would remove them); the Docker suite then uses that engine.
wanted_packages() {
  local p
  for p in "${APT_PACKAGES[@]}"; do
    if [ "$p" = docker.io ] && ! pkg_installed docker.io && command -v dockerd >/dev/null 2>&1; then
      log "docker.io: skipped, a Docker engine is already installed ($(command -v dockerd))"
      continue
    fi
    printf '%s\n' "$p"
  done
}

# PostgreSQL 15 comes from the distribution where it has it (Debian bookworm). Where it does
# not (Ubuntu 24.04 ships 16 only), from the PostgreSQL project's own apt repository
# (apt.postgresql.org), set up by the script the distribution's postgresql-common package
# ships for exactly this (it installs the repository's signing key from that package). The
# distribution's pgBouncer is kept (the repository would otherwise win with a newer one).
ensure_postgresql_15_source() {
  apt-cache show postgresql-15 >/dev/null 2>&1 && return 0
  "${SUDO[@]}" apt-get -o DPkg::Lock::Timeout=600 -q update
  apt-cache show postgresql-15 >/dev/null 2>&1 && return 0
  log "postgresql-15 is not in this distribution's archive: adding apt.postgresql.org"
  apt_install postgresql-common ca-certificates
  local setup=/usr/share/postgresql-common/pgdg/apt.postgresql.org.sh
  [ -x "$setup" ] || die "postgresql-common did not install $setup; add apt.postgresql.org by hand (https://wiki.postgresql.org/wiki/Apt)"
  printf 'Package: pgbouncer\nPin: origin apt.postgresql.org\nPin-Priority: 100\n' |
    "${SUDO[@]}" tee /etc/apt/preferences.d/db-tier-pgbouncer >/dev/null
  "${SUDO[@]}" "$setup" -y >&2
  apt-cache show postgresql-15 >/dev/null 2>&1 || die "postgresql-15 is still not installable after adding apt.postgresql.org"
}

install_debian_packages() {
  local -a missing=()
  local p
  while read -r p; do
    pkg_installed "$p" || missing+=("$p")
  done < <(wanted_packages)
  if [ "${#missing[@]}" -eq 0 ]; then
    log "debian packages: all present"
    return
  fi
  command -v apt-get >/dev/null 2>&1 || die "missing packages (${missing[*]}) and no apt-get"
  if [ "$(id -u)" -ne 0 ] && [ "${#SUDO[@]}" -eq 0 ]; then
    die "missing packages (${missing[*]}): run as root or install them first"
  fi
  if [[ " ${missing[*]} " == *" postgresql-15 "* || " ${missing[*]} " == *" postgresql-client-15 "* ]]; then
    ensure_postgresql_15_source
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
  if [[ "$newly" == *" docker.io "* ]] && [ -s /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    log "stopping the dockerd service the package started"
    "${SUDO[@]}" kill "$(cat /var/run/docker.pid)" || true
  fi
  if [ "$(ps -p 1 -o comm= 2>/dev/null)" = systemd ]; then
    [[ "$newly" == *" pgbouncer "* ]] && "${SUDO[@]}" systemctl disable --now pgbouncer || true
    # A system dockerd the package just started would share iptables chains with the tests'
    # private one (scripts/dockerd.sh refuses to run next to it). One that was there before stays.
    [[ "$newly" == *" docker.io "* ]] && "${SUDO[@]}" systemctl disable --now docker.socket docker.service || true
  elif command -v update-rc.d >/dev/null 2>&1; then
    [[ "$newly" == *" pgbouncer "* ]] && "${SUDO[@]}" update-rc.d pgbouncer disable >/dev/null 2>&1 || true
    [[ "$newly" == *" docker.io "* ]] && "${SUDO[@]}" update-rc.d docker disable >/dev/null 2>&1 || true
  fi
}

# --- Go-built tools ---------------------------------------------------------------------------

find_go() {
  if command -v go >/dev/null 2>&1; then return; fi
  if [ -x /usr/local/go/bin/go ]; then PATH="/usr/local/go/bin:$PATH"; return; fi
  die "go is not installed (need Go >= 1.25.11 on PATH or in /usr/local/go)"
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
  local src="$REPO/third_party/wal-g"
  local stamp="$WALG_VERSION sha256=$WALG_SRC_SHA256 tags=$WALG_TAGS" p
  for p in "${WALG_PATCHES[@]}"; do
    stamp="$stamp patch=$p:$(sha256sum "$src/patches/$p" | cut -c1-16)"
  done
  if up_to_date wal-g "$stamp"; then log "wal-g $WALG_VERSION: up to date"; return; fi
  log "wal-g $WALG_VERSION: building from $src (tags: $WALG_TAGS)"
  local t0=$SECONDS work sum
  sum="$(sha256sum "$src/wal-g-$WALG_VERSION-src.tar.gz" | cut -d' ' -f1)"
  [ "$sum" = "$WALG_SRC_SHA256" ] || die "wal-g source checksum mismatch: $sum (want $WALG_SRC_SHA256)"
  work="$(mktemp -d "${TMPDIR:-/tmp}/walg-build.XXXXXX")"
  (
    set -e
    tar -xzf "$src/wal-g-$WALG_VERSION-src.tar.gz" -C "$work"
    cp -r "$src/yc-kms-stub" "$work/yc-kms-stub"
    cd "$work/wal-g-$WALG_VERSION"
    for p in "${WALG_PATCHES[@]}"; do patch -p1 --quiet --forward <"$src/patches/$p"; done
    go mod edit -replace "github.com/yandex-cloud/go-sdk/services/kms=$work/yc-kms-stub"
    # GOEXPERIMENT=jsonv2: v3.0.9 imports encoding/json/v2, still an experiment in Go 1.25/1.26
    # (upstream's Makefile exports the same).
    export GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -mod=mod" CGO_ENABLED=1 GOEXPERIMENT=jsonv2
    go build -trimpath -tags "$WALG_TAGS" \
      -ldflags "-s -w -X github.com/wal-g/wal-g/cmd/pg.walgVersion=$WALG_VERSION -X github.com/wal-g/wal-g/cmd/pg.gitRevision=3e493188db28 -X github.com/wal-g/wal-g/cmd/pg.buildDate=2026-08-20T09:16:16Z" \
      -o "$BIN/.wal-g.tmp.$$" ./main/pg
  ) || { rm -rf "$work" "$BIN/.wal-g.tmp.$$"; die "wal-g build failed"; }
  rm -rf "$work"
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
