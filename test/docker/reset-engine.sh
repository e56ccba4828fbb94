#!/usr/bin/env bash
# Empties the private test engine of containers, networks and volumes (images stay: they are
# the build cache). The engine's data root is cached between runs, so a run that was cut
# short (a killed CI job, a developer's Ctrl-C) leaves its stack behind, and the next apply
# would collide with it on fixed names ("network with name dev-app-db-only already exists").
# Only ever pointed at the engine scripts/dockerd.sh started (DOCKER_HOST from docker-images.sh).
set -euo pipefail
: "${DOCKER_HOST:?DOCKER_HOST must name the test engine (eval \"\$(bash scripts/docker-images.sh)\")}"
# Another engine (DBTIER_DOCKER_HOST: a CI runner's, a developer's) is never emptied: it may
# hold someone else's containers. A fresh CI runner has nothing left over anyway.
case "$DOCKER_HOST" in
  unix:///run/db-tier-docker/*) ;;
  *) echo "reset-engine: $DOCKER_HOST is not the private test engine; leaving it as it is" >&2; exit 0 ;;
esac
containers="$(docker ps -aq)"
[ -z "$containers" ] || docker rm -f -v $containers >/dev/null
networks="$(docker network ls -q --filter type=custom)"
[ -z "$networks" ] || docker network rm $networks >/dev/null
volumes="$(docker volume ls -q)"
[ -z "$volumes" ] || docker volume rm -f $volumes >/dev/null
echo "reset-engine: removed $(echo $containers | wc -w) containers, $(echo $networks | wc -w) networks, $(echo $volumes | wc -w) volumes" >&2
