#!/usr/bin/env bash
# Builds the Pulumi engine the tests run `pulumi up` with, and prints the directory that holds
# `pulumi` and `pulumi-language-nodejs` as the LAST line of stdout (logs go to stderr):
#
#   PULUMI_BIN="$(bash scripts/install-pulumi.sh | tail -n1)"
#
# - The CLI: Go module github.com/pulumi/pulumi/pkg/v3, cmd/pulumi, at the version of the
#   @pulumi/pulumi npm package the program runs (checked against package-lock.json), through the
#   wrapper module tools/pulumi (its go.sum pins every source by checksum, verified by the go
#   command against the checksum database).
# - The Node.js language host: db-tier's own (tools/pulumi/cmd/pulumi-language-nodejs; Pulumi's
#   is not served by the module proxy: tools/pulumi/README.md), built in the same module.
# - PULUMI_HOME for the tests: ${DBTIER_TOOLS:-$HOME/.cache/db-tier-tools}/pulumi/home, never
#   the user's ~/.pulumi. The docker and random provider plugins: scripts/install-providers.sh.
#
# Cached: rebuilt only when the stamp (version, go.sum, the host's source) changes. Measured
# here: tools/pulumi/README.md.
set -euo pipefail
exec 3>&1 1>&2

REPO="$(cd "$(dirname "$0")/.." && pwd)"
CACHE_DIR="${DBTIER_TOOLS:-$HOME/.cache/db-tier-tools}"
OUT="$CACHE_DIR/pulumi/bin"
mkdir -p "$OUT" "$CACHE_DIR/pulumi/home"

log() { printf 'install-pulumi: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# The version the CLI is built at: the SDK's, so engine and SDK speak the same protocol.
PULUMI_VERSION="3.248.0"
locked="$(node -e 'const l=require(process.argv[1]);console.log(l.packages["node_modules/@pulumi/pulumi"].version)' "$REPO/package-lock.json")"
[ "$locked" = "$PULUMI_VERSION" ] || die "package-lock.json has @pulumi/pulumi $locked but this script builds the CLI at $PULUMI_VERSION: change PULUMI_VERSION and tools/pulumi/go.mod together"
grep -q "github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION" "$REPO/tools/pulumi/go.mod" ||
  die "tools/pulumi/go.mod does not require github.com/pulumi/pulumi/pkg/v3 v$PULUMI_VERSION"

if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_DIR/.pulumi.lock"
  flock 9
fi
if ! command -v go >/dev/null 2>&1; then
  [ -x /usr/local/go/bin/go ] || die "go is not installed (need Go >= 1.24 on PATH or in /usr/local/go)"
  PATH="/usr/local/go/bin:$PATH"
fi

stamp_of() { # the inputs of one binary
  printf 'v%s go=%s sum=%s src=%s\n' "$PULUMI_VERSION" "$(go env GOVERSION)" \
    "$(sha256sum "$REPO/tools/pulumi/go.sum" | cut -c1-16)" \
    "$(cat "$REPO/tools/pulumi/go.mod" "$@" 2>/dev/null | sha256sum | cut -c1-16)"
}

# build NAME PACKAGE [SOURCE FILES...]
build() {
  local name="$1" pkg="$2" stamp t0=$SECONDS
  shift 2
  stamp="$(stamp_of "$@")"
  if [ -x "$OUT/$name" ] && [ "$(cat "$OUT/.$name.version" 2>/dev/null)" = "$stamp" ]; then
    log "$name v$PULUMI_VERSION: up to date"
    return
  fi
  log "$name v$PULUMI_VERSION: building $pkg"
  (
    cd "$REPO/tools/pulumi"
    GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -mod=readonly" CGO_ENABLED=0 \
      go build -trimpath -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=v$PULUMI_VERSION -X main.version=$PULUMI_VERSION" \
      -o "$OUT/.$name.tmp.$$" "$pkg"
  ) || { rm -f "$OUT/.$name.tmp.$$"; die "$name build failed"; }
  mv -f "$OUT/.$name.tmp.$$" "$OUT/$name"
  printf '%s\n' "$stamp" >"$OUT/.$name.version"
  log "$name: built in $((SECONDS - t0)) s"
}

build pulumi github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
build pulumi-language-nodejs ./cmd/pulumi-language-nodejs "$REPO"/tools/pulumi/cmd/pulumi-language-nodejs/*.go

got="$("$OUT/pulumi" version)"
[ "$got" = "v$PULUMI_VERSION" ] || die "built pulumi reports $got, want v$PULUMI_VERSION"
log "pulumi $got and the Node.js language host ready in $OUT"
echo "$OUT" >&3
