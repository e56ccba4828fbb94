#!/usr/bin/env bash
# Ensures the test engine, the Debian base image and the tier's three images, cached:
#
#   eval "$(bash scripts/docker-images.sh)"     # prints `export NAME=value` lines (below)
#   bash scripts/docker-images.sh stage         # only copy the binaries into images/staged/
#
# stdout (everything else goes to stderr):
#   export DOCKER_HOST=unix:///run/db-tier-docker/docker.sock
#   export DOCKER_BUILDKIT=0
#   export DBTIER_POSTGRES_IMAGE=db-tier/postgres:local
#   export DBTIER_PGBOUNCER_IMAGE=db-tier/pgbouncer:local
#   export DBTIER_MINIO_IMAGE=db-tier/minio:local
#   export DBTIER_POSTGRES_IMAGE_INPUTS=<sha256>   (and _PGBOUNCER_, _MINIO_: each image's
#                                                 inputs hash, which the tests compare with the
#                                                 image's db-tier.inputs label)
#
# 1. Engine: DOCKER_HOST when DBTIER_DOCKER_HOST names one, else scripts/dockerd.sh start.
# 2. Tools: scripts/install-tools.sh (WAL-G v3.0.9 and MinIO, the binaries the tests run).
# 3. Base `debian:bookworm-slim`: reused when the engine has it; else imported from the cached
#    rootfs tarball; else pulled (DBTIER_BASE_IMAGE_PULL=0 skips that); else
#    `debootstrap --variant=minbase bookworm` from the Debian mirror the machine's apt sources
#    name (2-6 min), trimmed like Debian's slim image, cached as a tarball.
# 4. Images, each from its Dockerfile in images/ (the files users build), built in parallel, with a build
#    context that holds exactly the inputs the Dockerfile copies. The sha256 of those inputs,
#    the build arguments and the base image id is the image's `db-tier.inputs` label: equal
#    label, no build. So a second run with nothing changed takes seconds.
#
# Environment: DBTIER_TOOLS (cache dir), DBTIER_DOCKER_HOST, DBTIER_DEBIAN_MIRROR,
# DBTIER_DEBIAN_SECURITY_MIRROR, DBTIER_EXTRA_CA_CERTS (files whose PEM text becomes the
# Postgres build's EXTRA_CA_CERTS; default /usr/local/share/ca-certificates/*.crt; set it
# to an empty string for none), DBTIER_NPM_REGISTRY.
set -euo pipefail
exec 3>&1 1>&2

REPO="$(cd "$(dirname "$0")/.." && pwd)"
CACHE_DIR="${DBTIER_TOOLS:-$HOME/.cache/db-tier-tools}"
IMAGES_CACHE="$CACHE_DIR/images"
BASE_TAR="$IMAGES_CACHE/debian-bookworm-minbase.tar"
BASE_IMAGE="debian:bookworm-slim"
export DOCKER_BUILDKIT=0

log() { printf 'docker-images: %s\n' "$*" >&2; }
die() { log "ERROR: $*"; exit 1; }

# --- the Debian mirror the machine uses ---------------------------------------------------------

# First plain-HTTP URI of a bookworm source (deb822 .sources or one-line .list), else default.
apt_mirror() {
  local want="$1" default="$2" uri
  uri="$(
    {
      for f in /etc/apt/sources.list.d/*.sources; do
        [ -f "$f" ] || continue
        awk -v want="$want" '
          /^URIs:/ { uri = $2 }
          /^Suites:/ { for (i = 2; i <= NF; i++) if ($i == want) print uri }
          /^$/ { uri = "" }' "$f"
      done
      cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list 2>/dev/null |
        awk -v want="$want" '$1 == "deb" { for (i = 2; i <= NF; i++) if ($i ~ /^[a-z]+:/ && $(i + 1) == want) print $i }'
    } | grep -E '^http://' | head -n1
  )" || true
  printf '%s\n' "${uri:-$default}"
}
DEBIAN_MIRROR="${DBTIER_DEBIAN_MIRROR:-$(apt_mirror bookworm http://deb.debian.org/debian)}"
DEBIAN_SECURITY_MIRROR="${DBTIER_DEBIAN_SECURITY_MIRROR:-$(apt_mirror bookworm-security http://deb.debian.org/debian-security)}"

# --- staging the binaries -----------------------------------------------------------------------

# DBTIER_TOOLS_BIN: the install-tools bin dir when the caller already ran it (as the tests
# do); else install-tools runs once here (it is quick when everything is built).
TOOLS_BIN="${DBTIER_TOOLS_BIN:-}"
resolve_tools_bin() {
  [ -n "$TOOLS_BIN" ] || TOOLS_BIN="$(bash "$REPO/scripts/install-tools.sh" | tail -n1)"
}
tools_bin() { printf '%s\n' "$TOOLS_BIN"; }

# stage DIR: copy wal-g and minio into DIR/images/staged/ (only when they differ).
stage_binaries() {
  local dir="$1/images/staged" bin t
  bin="$(tools_bin)"
  mkdir -p "$dir"
  for t in wal-g minio; do
    [ -x "$bin/$t" ] || die "$bin/$t missing after install-tools"
    cmp -s "$bin/$t" "$dir/$t" 2>/dev/null || install -m 0755 "$bin/$t" "$dir/$t"
  done
}

resolve_tools_bin
if [ "${1:-}" = stage ]; then
  stage_binaries "$REPO"
  log "staged wal-g and minio in $REPO/images/staged/"
  exit 0
fi
[ "$#" -eq 0 ] || [ "$1" = ensure ] || { echo "usage: $0 [ensure|stage]" >&2; exit 2; }

# One run at a time per cache (two would rebuild the same contexts under each other).
mkdir -p "$IMAGES_CACHE"
if command -v flock >/dev/null 2>&1; then
  exec 9>"$IMAGES_CACHE/.lock"
  flock 9
fi

# --- engine -------------------------------------------------------------------------------------

T0=$SECONDS
if [ -n "${DBTIER_DOCKER_HOST:-}" ]; then
  export DOCKER_HOST="$DBTIER_DOCKER_HOST"
else
  DOCKER_HOST="$(bash "$REPO/scripts/dockerd.sh" start | tail -n1)"
  export DOCKER_HOST
fi
docker version --format '{{.Server.Version}}' >/dev/null || die "no engine at $DOCKER_HOST"

# --- base image ---------------------------------------------------------------------------------

# Trim a debootstrapped rootfs the way Debian's docker images are trimmed: no apt lists or
# caches, no docs or man pages (and none installed later), no services started by packages,
# apt sources in deb822 form, no host files (resolv.conf, hostname) baked in.
slim_rootfs() {
  local r="$1"
  printf '#!/bin/sh\n# Docker image: packages never start services during a build.\nexit 101\n' >"$r/usr/sbin/policy-rc.d"
  chmod 0755 "$r/usr/sbin/policy-rc.d"
  cat >"$r/etc/dpkg/dpkg.cfg.d/docker" <<'EOF'
path-exclude /usr/share/doc/*
path-include /usr/share/doc/*/copyright
path-exclude /usr/share/man/*
path-exclude /usr/share/info/*
path-exclude /usr/share/locale/*
path-include /usr/share/locale/locale.alias
path-exclude /usr/share/lintian/*
EOF
  cat >"$r/etc/apt/apt.conf.d/docker-clean" <<'EOF'
DPkg::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
APT::Update::Post-Invoke { "rm -f /var/cache/apt/archives/*.deb /var/cache/apt/archives/partial/*.deb /var/cache/apt/*.bin || true"; };
Dir::Cache::pkgcache "";
Dir::Cache::srcpkgcache "";
EOF
  printf 'Acquire::Languages "none";\n' >"$r/etc/apt/apt.conf.d/docker-no-languages"
  rm -f "$r/etc/apt/sources.list"
  printf 'Types: deb\nURIs: http://deb.debian.org/debian\nSuites: bookworm bookworm-updates\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n\nTypes: deb\nURIs: http://deb.debian.org/debian-security\nSuites: bookworm-security\nComponents: main\nSigned-By: /usr/share/keyrings/debian-archive-keyring.gpg\n' \
    >"$r/etc/apt/sources.list.d/debian.sources"
  find "$r/usr/share/doc" -mindepth 1 -not -name copyright -not -type d -delete 2>/dev/null || true
  rm -rf "$r/usr/share/man/"* "$r/usr/share/info/"* "$r/var/lib/apt/lists/"* "$r/var/cache/apt/"*.bin \
    "$r/var/cache/apt/archives/"*.deb "$r/var/log/"*.log "$r/var/log/apt/"* "$r/dev/"* "$r/tmp/"* \
    "$r/etc/resolv.conf" "$r/etc/hostname" "$r/etc/machine-id" "$r/var/lib/dbus/machine-id"
  : >"$r/etc/resolv.conf"
}

ensure_base() {
  if docker image inspect "$BASE_IMAGE" >/dev/null 2>&1; then
    log "$BASE_IMAGE: present"
    return
  fi
  mkdir -p "$IMAGES_CACHE"
  # Debian's own image where a registry is reachable (GitHub's runners); here pulls fail at
  # once (no route to any registry) and the debootstrapped stand-in is built instead.
  if [ ! -s "$BASE_TAR" ] && [ "${DBTIER_BASE_IMAGE_PULL:-1}" = 1 ] && timeout 300 docker pull "$BASE_IMAGE" >/dev/null 2>&1; then
    log "$BASE_IMAGE: pulled"
    return
  fi
  if [ ! -s "$BASE_TAR" ]; then
    command -v debootstrap >/dev/null || die "debootstrap missing: run scripts/install-tools.sh"
    local t0=$SECONDS rootfs
    rootfs="$(mktemp -d "${TMPDIR:-/tmp}/dbtier-rootfs.XXXXXX")"
    log "$BASE_IMAGE: debootstrap --variant=minbase bookworm from $DEBIAN_MIRROR (a few minutes)"
    if ! debootstrap --variant=minbase --components=main bookworm "$rootfs" "$DEBIAN_MIRROR" >"$IMAGES_CACHE/debootstrap.log" 2>&1; then
      tail -n 20 "$IMAGES_CACHE/debootstrap.log" >&2
      rm -rf "$rootfs"
      die "debootstrap failed (log: $IMAGES_CACHE/debootstrap.log)"
    fi
    slim_rootfs "$rootfs"
    tar --numeric-owner -C "$rootfs" -cf "$BASE_TAR.tmp" .
    mv -f "$BASE_TAR.tmp" "$BASE_TAR"
    rm -rf "$rootfs"
    log "$BASE_IMAGE: rootfs built in $((SECONDS - t0))s, cached in $BASE_TAR"
  fi
  docker import --change 'CMD ["bash"]' --message "debootstrap --variant=minbase bookworm" "$BASE_TAR" "$BASE_IMAGE" >/dev/null
  log "$BASE_IMAGE: imported from $BASE_TAR"
}

# --- images -------------------------------------------------------------------------------------

# What the job runner is compiled from; a change to any of these recompiles it (else the
# cached output is reused: tsc takes tens of seconds on a busy 2-core machine).
JOB_RUNNER_SOURCES=(jobs render config/cron.ts vocabulary.ts tsconfig.json tsconfig.build.json node_modules/typescript/package.json)

# The job runner, compiled from this checkout into the build context (never into the shared
# bin/: compiling only jobs/ and what it imports, so an unrelated file mid-edit cannot break it).
compile_job_runner() {
  local out="$1" cfg src_hash cached
  src_hash="$(cd "$REPO" && tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -cf - "${JOB_RUNNER_SOURCES[@]}" | sha256sum | cut -c1-16)"
  cached="$IMAGES_CACHE/job-runner/$src_hash"
  if [ ! -f "$cached/jobs/scheduler.js" ]; then
    rm -rf "$IMAGES_CACHE/job-runner"
    mkdir -p "$IMAGES_CACHE/job-runner"
    cfg="$IMAGES_CACHE/job-runner/tsconfig.jobs.json"
    cat >"$cfg" <<EOF
{
  "extends": "$REPO/tsconfig.build.json",
  "compilerOptions": { "rootDir": "$REPO", "outDir": "$cached.tmp", "declaration": false, "noEmitOnError": true,
    "typeRoots": ["$REPO/node_modules/@types"] },
  "include": ["$REPO/jobs/**/*.ts"]
}
EOF
    node "$REPO/node_modules/typescript/bin/tsc" -p "$cfg" || die "compiling the job runner (jobs/) failed"
    rm -f "$cfg"
    # Every compiled file must come from JOB_RUNNER_SOURCES, or the cache key would miss it.
    local stray
    stray="$(cd "$cached.tmp" && find . -name '*.js' | grep -v -E '^\./(jobs|render)/|^\./config/cron\.js$|^\./vocabulary\.js$' || true)"
    [ -z "$stray" ] || die "the job runner imports files outside JOB_RUNNER_SOURCES: $stray"
    mv "$cached.tmp" "$cached"
  fi
  [ -f "$cached/jobs/scheduler.js" ] || die "compiled job runner has no jobs/scheduler.js"
  cp -a "$cached" "$out"
}

# context NAME DIR: the build context of image NAME, with the package root's layout.
make_context() {
  local name="$1" ctx="$2" bin
  rm -rf "$ctx"
  mkdir -p "$ctx/images/staged"
  cp -a "$REPO/images/$name" "$ctx/images/$name"
  cp "$REPO/images/debian-apt.sh" "$ctx/images/debian-apt.sh"
  bin="$(tools_bin)"
  case "$name" in
    postgres)
      install -m 0755 "$bin/wal-g" "$ctx/images/staged/wal-g"
      # The job runner's npm lock must be the closure of the root package-lock.json.
      node "$REPO/images/postgres/job-runner-lock.cjs" --check || die "images/postgres/job-runner/ is stale"
      compile_job_runner "$ctx/bin"
      ;;
    minio) install -m 0755 "$bin/minio" "$ctx/images/staged/minio" ;;
    pgbouncer) ;;
    *) die "unknown image $name" ;;
  esac
}

inputs_hash() {
  local ctx="$1"
  shift
  {
    tar --sort=name --mtime=@0 --owner=0 --group=0 --numeric-owner -C "$ctx" -cf - . | sha256sum
    printf '%s\n' "$@"
  } | sha256sum | cut -c1-64
}

EXTRA_CA_CERTS=""
if [ -z "${DBTIER_EXTRA_CA_CERTS+set}" ]; then
  DBTIER_EXTRA_CA_CERTS="$(ls /usr/local/share/ca-certificates/*.crt 2>/dev/null | tr '\n' ' ' || true)"
fi
for f in $DBTIER_EXTRA_CA_CERTS; do
  [ -r "$f" ] || die "DBTIER_EXTRA_CA_CERTS: cannot read $f"
  EXTRA_CA_CERTS+="$(cat "$f")"$'\n'
done

build_image() {
  local name="$1" tag="db-tier/$1:local" ctx="$IMAGES_CACHE/context-$1" base_id hash have t0=$SECONDS
  local -a args=(--build-arg "DEBIAN_MIRROR=$DEBIAN_MIRROR" --build-arg "DEBIAN_SECURITY_MIRROR=$DEBIAN_SECURITY_MIRROR")
  if [ "$name" = postgres ]; then
    args+=(--build-arg "NPM_REGISTRY=${DBTIER_NPM_REGISTRY:-https://registry.npmjs.org}")
    [ -z "$EXTRA_CA_CERTS" ] || args+=(--build-arg "EXTRA_CA_CERTS=$EXTRA_CA_CERTS")
  fi
  make_context "$name" "$ctx"
  base_id="$(docker image inspect --format '{{.Id}}' "$BASE_IMAGE")"
  hash="$(inputs_hash "$ctx" "$base_id" "${args[@]}")"
  echo "$hash" >"$IMAGES_CACHE/inputs-$name"
  have="$(docker image inspect --format '{{index .Config.Labels "db-tier.inputs"}}' "$tag" 2>/dev/null || true)"
  if [ "$have" = "$hash" ]; then
    log "$tag: up to date (inputs ${hash:0:12})"
    return
  fi
  log "$tag: building (inputs ${hash:0:12})"
  docker build --quiet=false --label "db-tier.inputs=$hash" -t "$tag" \
    -f "$ctx/images/$name/Dockerfile" "${args[@]}" "$ctx" >"$IMAGES_CACHE/build-$name.log" 2>&1 ||
    { tail -n 30 "$IMAGES_CACHE/build-$name.log" >&2; die "docker build of $tag failed (log: $IMAGES_CACHE/build-$name.log)"; }
  log "$tag: built in $((SECONDS - t0))s"
}

ensure_base
# The three builds at once: most of each is apt and npm downloads and dpkg unpacking, which
# overlap well even on 2 cores (one after the other they took 200 + 387 + 133 s cold).
pids=()
for image in pgbouncer postgres minio; do
  build_image "$image" &
  pids+=("$!")
done
failed=0
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[ "$failed" = 0 ] || die "an image build failed (its log tail is above)"
# Superseded builds of our images only (dangling, carrying our label), on this engine.
docker image prune --force --filter "label=db-tier.inputs" >/dev/null || true
log "engine and images ready in $((SECONDS - T0))s"

{
  printf 'export DOCKER_HOST=%s\n' "$DOCKER_HOST"
  printf 'export DOCKER_BUILDKIT=0\n'
  printf 'export DBTIER_POSTGRES_IMAGE=db-tier/postgres:local\n'
  printf 'export DBTIER_PGBOUNCER_IMAGE=db-tier/pgbouncer:local\n'
  printf 'export DBTIER_MINIO_IMAGE=db-tier/minio:local\n'
  for image in postgres pgbouncer minio; do
    printf 'export DBTIER_%s_IMAGE_INPUTS=%s\n' "${image^^}" "$(cat "$IMAGES_CACHE/inputs-$image")"
  done
} >&3
