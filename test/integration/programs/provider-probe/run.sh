#!/usr/bin/env bash
# Drives this program through the real engine with db-tier's own docker and random plugins:
#
#   bash test/integration/programs/provider-probe/run.sh
#
# 1. scripts/install-pulumi.sh (the CLI and the language host) and scripts/install-providers.sh
#    (the plugins, installed into a private PULUMI_HOME under a scratch directory);
# 2. the private Docker engine (scripts/dockerd.sh) as DOCKER_HOST;
# 3. `pulumi up`, then `docker inspect` of the network, volume and container;
# 4. `pulumi preview --expect-no-changes`;
# 5. a config change (`generation`), whose preview must replace the container, then `up`;
# 6. `pulumi destroy`, then no provider-probe-* object may be left in the engine.
#
# State: a local file backend in the scratch directory (removed at the end unless KEEP=1), the
# stack's config in that directory too (--config-file); the passphrase is a fixed test value.
set -euo pipefail

PROGRAM="$(cd "$(dirname "$0")" && pwd)"
REPO="$(cd "$PROGRAM/../../../.." && pwd)"
STACK=probe
WORK="$(mktemp -d "${TMPDIR:-/tmp}/db-tier-provider-probe.XXXXXX")"
CONFIG="$WORK/Pulumi.$STACK.yaml"

step() { printf '\n== provider-probe: %s\n' "$*"; }
fail() { printf 'provider-probe: FAILED: %s\n' "$*" >&2; exit 1; }

BIN="$(bash "$REPO/scripts/install-pulumi.sh" | tail -n1)"
mkdir -p "$WORK/home" "$WORK/state"
PULUMI_HOME="$WORK/home" bash "$REPO/scripts/install-providers.sh" >/dev/null
DOCKER_HOST="$(bash "$REPO/scripts/dockerd.sh" start | tail -n1)"

export HOME="$WORK" PATH="$BIN:$PATH" PULUMI_HOME="$WORK/home" DOCKER_HOST
export PULUMI_BACKEND_URL="file://$WORK/state" PULUMI_CONFIG_PASSPHRASE="db-tier provider probe passphrase"
export PULUMI_SKIP_UPDATE_CHECK=true PULUMI_DISABLE_AUTOMATIC_PLUGIN_ACQUISITION=true
cleanup() {
  local rc=$?
  if [ "$rc" -ne 0 ] && [ -d "$WORK/state" ]; then
    printf 'provider-probe: cleaning up after the failure (pulumi destroy)\n' >&2
    (cd "$PROGRAM" && pulumi destroy --yes --skip-preview --stack "$STACK" --non-interactive --config-file "$CONFIG" >&2) || true
  fi
  [ "${KEEP:-0}" = 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
p() { (cd "$PROGRAM" && pulumi "$@" --stack "$STACK" --non-interactive --color never); }
pc() { p "$@" --config-file "$CONFIG"; }

leftovers() {
  docker ps -a --filter name=provider-probe- --format '{{.Names}}'
  docker network ls --filter name=provider-probe- --format '{{.Name}}'
  docker volume ls --filter name=provider-probe- --format '{{.Name}}'
}
[ -z "$(leftovers)" ] || fail "provider-probe-* objects exist before the run: $(leftovers | tr '\n' ' ')"

step "plugins in PULUMI_HOME"
pulumi plugin ls --color never

step "pulumi up"
(cd "$PROGRAM" && pulumi stack init "$STACK" --non-interactive)
pc config set generation 1
pc up --yes --skip-preview

step "docker inspect"
docker network inspect provider-probe-net --format 'network {{.Name}} internal={{.Internal}} driver={{.Driver}}'
docker volume inspect provider-probe-data --format 'volume {{.Name}} labels={{.Labels}}'
docker inspect provider-probe-box --format 'container {{.Name}} image={{.Config.Image}} running={{.State.Running}} networks={{range $k, $v := .NetworkSettings.Networks}}{{$k}}({{join $v.Aliases ","}}) {{end}}'
docker inspect provider-probe-box --format 'mounts={{range .Mounts}}{{.Type}}:{{.Name}}->{{.Destination}}(rw={{.RW}}) {{end}}tmpfs={{.HostConfig.Tmpfs}} capdrop={{.HostConfig.CapDrop}} ulimits={{range .HostConfig.Ulimits}}{{.Name}}={{.Soft}}/{{.Hard}}{{end}} stop={{.Config.StopSignal}}/{{.Config.StopTimeout}}s health={{.Config.Healthcheck.Test}} status={{.State.Health.Status}} generation-label={{index .Config.Labels "db-tier.generation"}}'
echo "network subnets (output): $(p stack output subnets --json | tr -d ' \n')"
envs="$(docker inspect provider-probe-box --format '{{range .Config.Env}}{{println .}}{{end}}')"
secret="$(p stack output passwordResult --show-secrets)"
[ "$(p stack output passwordResult)" = "[secret]" ] || fail "passwordResult is not shown as [secret]"
grep -qx "PROBE_PASSWORD=$secret" <<<"$envs" || fail "the container's PROBE_PASSWORD is not the RandomPassword result"
grep -qx "PROBE_GENERATION=1" <<<"$envs" || fail "the container has no PROBE_GENERATION=1"
echo "env PROBE_PASSWORD = the RandomPassword result (${#secret} characters); PROBE_GENERATION=1"
[ "$(docker exec provider-probe-box cat /etc/provider-probe.conf)" = "generation=1" ] || fail "the upload is not in the container"
docker exec provider-probe-box stat -c 'upload %n mode %a' /etc/provider-probe.conf
state="$(find "$WORK/state" -name "$STACK.json" -path '*/stacks/*')"
[ -s "$state" ] || fail "no state file for $STACK under $WORK/state"
grep -q 4dabf18193072939515e22adb298388d "$state" || fail "the state holds no secret (ciphertext signature missing)"
if grep -rqF -- "$secret" "$WORK/state"; then fail "the password is in the state in plain text"; fi
echo "state: the password is there only encrypted"
id1="$(docker inspect provider-probe-box --format '{{.Id}}')"

step "pulumi preview --expect-no-changes"
pc preview --expect-no-changes

step "config change: generation 2 replaces the container"
pc config set generation 2
preview="$(pc preview --diff)"
printf '%s\n' "$preview" | grep -E 'replace|unchanged' || true
grep -Eq '^\s*\+-\s*docker:index/container:Container: \(replace\)' <<<"$preview" || fail "the preview does not replace the container"
grep -Eq '^\s*\+-1 to replace' <<<"$preview" || fail "the preview replaces more than the container"
pc up --yes --skip-preview
id2="$(docker inspect provider-probe-box --format '{{.Id}}')"
[ "$id1" != "$id2" ] || fail "the container was not replaced (same id $id1)"
docker inspect provider-probe-box --format 'new container id={{printf "%.12s" .Id}} (was '"${id1:0:12}"') labels={{index .Config.Labels "db-tier.generation"}}'
if ! pc preview --expect-no-changes >/dev/null; then fail "changes pending after the replacement"; fi
echo "no changes after the replacement"

step "pulumi destroy"
pc destroy --yes --skip-preview
[ -z "$(leftovers)" ] || fail "left in the engine after destroy: $(leftovers | tr '\n' ' ')"
[ "$(p stack export | node -e 'let s="";process.stdin.on("data",d=>s+=d).on("end",()=>console.log((JSON.parse(s).deployment.resources||[]).length))')" = 0 ] ||
  fail "the stack still has resources"
echo "no provider-probe-* container, network or volume left; the stack is empty"
p stack rm --yes >/dev/null
step "PASSED"
