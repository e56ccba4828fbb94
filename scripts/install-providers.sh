#!/usr/bin/env bash
# Builds the Pulumi resource provider plugins the tier's program needs and installs them into a
# private PULUMI_HOME. Prints that PULUMI_HOME as the LAST line of stdout (logs go to stderr):
#
#   export PULUMI_HOME="$(bash scripts/install-providers.sh | tail -n1)"
#
# - docker 5.2.0 (what @pulumi/docker in node_modules asks for): terraform-provider-docker (SDKv2)
#   under pulumi-terraform-bridge, module tools/providers/docker.
# - random 4.21.2 (@pulumi/random): terraform-provider-random (plugin framework) under the
#   bridge's pkg/pf, module tools/providers/random.
#
# Each is built from a copy of its module in
# ${DBTIER_TOOLS:-$HOME/.cache/db-tier-tools}/pulumi/providers/<name>/src (nothing generated lands
# in the repository): pulumi-tfgen-<name> first, which writes schema.json and bridge-metadata.json;
# tools/providers/check-schema.cjs then compares that schema with the npm SDK's .d.ts files; then
# pulumi-resource-<name>, which embeds both. `pulumi plugin install resource <name> <version>
# --file` puts it into PULUMI_HOME (default ${DBTIER_TOOLS:-$HOME/.cache/db-tier-tools}/pulumi/home,
# the one scripts/install-pulumi.sh prepares; never the user's ~/.pulumi).
#
# Cached: rebuilt only when the stamp (version, Go version, go.sum, our sources, the SDK's
# version) changes; reinstalled only when the installed binary differs. Prints how long each part
# took. Measured here: tools/providers/README.md.
set -euo pipefail
exec 3>&1 1>&2

REPO="$(cd "$(dirname "$0")/.." && pwd)"
CACHE_DIR="${DBTIER_TOOLS:-$HOME/.cache/db-tier-tools}"
OUT="$CACHE_DIR/pulumi/providers"
export PULUMI_HOME="${PULUMI_HOME:-$CACHE_DIR/pulumi/home}"
PULUMI="$CACHE_DIR/pulumi/bin/pulumi"
mkdir -p "$OUT" "$PULUMI_HOME"

log() { printf 'install-providers: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }
T_START=$SECONDS

# name and version of every plugin; the version must be what the npm package asks the engine for.
PROVIDERS=("docker 5.2.0" "random 4.21.2")

if command -v flock >/dev/null 2>&1; then
  exec 9>"$CACHE_DIR/.providers.lock"
  flock 9
fi
if ! command -v go >/dev/null 2>&1; then
  [ -x /usr/local/go/bin/go ] || die "go is not installed (need Go >= 1.25.8 on PATH or in /usr/local/go)"
  PATH="/usr/local/go/bin:$PATH"
fi
command -v node >/dev/null 2>&1 || die "node is not on PATH (needed to read the npm SDKs and check the schemas)"
if [ ! -x "$PULUMI" ]; then
  log "no pulumi CLI at $PULUMI: running scripts/install-pulumi.sh"
  bash "$REPO/scripts/install-pulumi.sh" >/dev/null || die "scripts/install-pulumi.sh failed"
  [ -x "$PULUMI" ] || die "scripts/install-pulumi.sh did not leave $PULUMI"
fi

# The version an npm SDK asks the engine for: its package.json "pulumi" field.
sdk_plugin_version() {
  node -e 'const p=require(process.argv[1]);if(!p.pulumi||!p.pulumi.resource)process.exit(1);console.log(p.pulumi.version||p.version)' \
    "$REPO/node_modules/@pulumi/$1/package.json" 2>/dev/null ||
    die "node_modules/@pulumi/$1/package.json is missing or has no pulumi field (run npm ci)"
}

# The version package-lock.json pins (node_modules must be what the lock says: npm ci).
locked_version() {
  node -e 'const l=require(process.argv[1]);const p=l.packages["node_modules/@pulumi/"+process.argv[2]];if(!p)process.exit(1);console.log(p.version)' \
    "$REPO/package-lock.json" "$1" 2>/dev/null || die "package-lock.json has no @pulumi/$1"
}

# Every input of one provider's build: version, toolchain, go.sum, our sources, the schema check.
stamp_of() {
  local name="$1" version="$2" src="$REPO/tools/providers/$1"
  printf 'v%s go=%s sum=%s src=%s\n' "$version" "$(go env GOVERSION)" \
    "$(sha256sum "$src/go.sum" | cut -c1-16)" \
    "$( (cd "$src" && find . -type f \( -name '*.go' -o -name 'go.mod' -o -name 'go.sum' \) | LC_ALL=C sort |
      xargs sha256sum; sha256sum "$REPO/tools/providers/check-schema.cjs" | cut -c1-64) | sha256sum | cut -c1-16)"
}

gobuild() { # DIR OUTPUT PACKAGE [LDFLAGS]
  (
    cd "$1"
    GOTOOLCHAIN=local GOFLAGS="-buildvcs=false -mod=readonly" CGO_ENABLED=0 \
      nice -n 10 go build -trimpath -ldflags "-s -w ${4:-}" -o "$2" "$3"
  )
}

# build NAME VERSION: leaves $OUT/NAME/pulumi-resource-NAME and $OUT/NAME/schema.json.
build() {
  local name="$1" version="$2" dir="$OUT/$1" stamp t0 t
  local src="$dir/src" res="$dir/src/cmd/pulumi-resource-$1"
  stamp="$(stamp_of "$name" "$version")"
  if [ -x "$dir/pulumi-resource-$name" ] && [ "$(cat "$dir/.version" 2>/dev/null)" = "$stamp" ]; then
    log "$name $version: up to date ($dir/pulumi-resource-$name)"
    return
  fi
  t0=$SECONDS
  log "$name $version: building from tools/providers/$name (a copy in $src)"
  rm -rf "$src" "$dir/.version"
  mkdir -p "$dir"
  cp -R "$REPO/tools/providers/$name" "$src"

  t=$SECONDS
  gobuild "$src" "$dir/pulumi-tfgen-$name" "./cmd/pulumi-tfgen-$name" ||
    die "$name: go build of pulumi-tfgen-$name failed (output above)"
  log "$name: pulumi-tfgen-$name built in $((SECONDS - t)) s"

  t=$SECONDS
  (cd "$src" && "$dir/pulumi-tfgen-$name" schema --skip-docs --skip-examples --out "$res" >"$dir/tfgen.log" 2>&1) ||
    { cat "$dir/tfgen.log" >&2; die "$name: pulumi-tfgen-$name schema failed (output above)"; }
  [ -s "$res/schema.json" ] && [ -s "$res/bridge-metadata.json" ] ||
    die "$name: tfgen wrote no schema.json/bridge-metadata.json into $res"
  cp "$res/schema.json" "$dir/schema.json"
  log "$name: schema written in $((SECONDS - t)) s ($(wc -c <"$dir/schema.json") bytes)"

  node "$REPO/tools/providers/check-schema.cjs" "$dir/schema.json" "$REPO/node_modules/@pulumi/$name" >&2 ||
    die "$name: the generated schema does not match node_modules/@pulumi/$name (MISMATCH lines above)"

  t=$SECONDS
  gobuild "$src" "$dir/.pulumi-resource-$name.tmp.$$" "./cmd/pulumi-resource-$name" \
    "-X db-tier/tools/providers/$name/provider.Version=$version" ||
    { rm -f "$dir/.pulumi-resource-$name.tmp.$$"; die "$name: go build of pulumi-resource-$name failed (output above)"; }
  mv -f "$dir/.pulumi-resource-$name.tmp.$$" "$dir/pulumi-resource-$name"
  log "$name: pulumi-resource-$name built in $((SECONDS - t)) s"

  got="$("$dir/pulumi-resource-$name" -version 2>/dev/null | tail -n1)"
  [ "$got" = "$version" ] || die "$name: the built plugin reports version '$got', want $version"
  printf '%s\n' "$stamp" >"$dir/.version"
  log "$name $version: built in $((SECONDS - t0)) s"
}

# install NAME VERSION: into PULUMI_HOME, unless the very same binary is there already.
install() {
  local name="$1" version="$2" t=$SECONDS
  local bin="$OUT/$name/pulumi-resource-$name"
  local installed="$PULUMI_HOME/plugins/resource-$name-v$version/pulumi-resource-$name"
  if [ -x "$installed" ] && cmp -s "$bin" "$installed"; then
    log "$name $version: installed already in $PULUMI_HOME"
    return
  fi
  PULUMI_SKIP_UPDATE_CHECK=true "$PULUMI" plugin install resource "$name" "$version" --file "$bin" --reinstall \
    --non-interactive >&2 || die "$name: pulumi plugin install resource $name $version --file $bin failed"
  cmp -s "$bin" "$installed" || die "$name: after pulumi plugin install, $installed is not the built binary"
  log "$name $version: installed into $PULUMI_HOME in $((SECONDS - t)) s"
}

for p in "${PROVIDERS[@]}"; do
  read -r name version <<<"$p"
  want="$(sdk_plugin_version "$name")"
  [ "$want" = "$version" ] ||
    die "node_modules/@pulumi/$name asks for plugin $want but this script builds $version: change PROVIDERS and tools/providers/$name/provider together"
  locked="$(locked_version "$name")"
  [ "$locked" = "$version" ] ||
    die "package-lock.json pins @pulumi/$name $locked, node_modules has the plugin version $version: run npm ci"
  build "$name" "$version"
  install "$name" "$version"
done

log "docker and random plugins ready in $PULUMI_HOME ($((SECONDS - T_START)) s in all)"
echo "$PULUMI_HOME" >&3
