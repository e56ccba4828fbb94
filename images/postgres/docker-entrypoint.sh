#!/bin/bash
# Entrypoint of the db-tier Postgres image. The same contract as the official Postgres
# image's entrypoint, as far as the tier uses it (components/postgres-server.ts):
#   POSTGRES_USER            superuser created by initdb (default postgres)
#   POSTGRES_PASSWORD_FILE   its password, first line of the file (or POSTGRES_PASSWORD)
#   POSTGRES_INITDB_ARGS     extra initdb arguments
#   PGDATA                   data directory (default /var/lib/postgresql/data)
# Started as root with `postgres …`: prepares PGDATA and the socket directory for uid 999,
# then re-executes itself as postgres; initdb runs only when PGDATA holds no cluster yet.
# Unlike the official image it creates no database besides `postgres` and runs no
# /docker-entrypoint-initdb.d scripts: the provisioner converges roles and databases.
# Any other command (psql, node, sh) is executed unchanged.
set -Eeuo pipefail

if [ "${1:0:1}" = '-' ]; then set -- postgres "$@"; fi

if [ "$1" != postgres ]; then exec "$@"; fi

: "${PGDATA:=/var/lib/postgresql/data}"
export PGDATA

if [ "$(id -u)" = 0 ]; then
  mkdir -p "$PGDATA" /var/run/postgresql
  # Only the directories themselves: a large existing cluster is never chowned file by file.
  [ "$(stat -c %u "$PGDATA")" = 999 ] || chown postgres:postgres "$PGDATA"
  chmod 0700 "$PGDATA"
  chown postgres:postgres /var/run/postgresql
  chmod 2775 /var/run/postgresql
  exec setpriv --reuid=postgres --regid=postgres --init-groups "$0" "$@"
fi

if [ ! -s "$PGDATA/PG_VERSION" ]; then
  : "${POSTGRES_USER:=postgres}"
  pwfile="${POSTGRES_PASSWORD_FILE:-}"
  if [ -z "$pwfile" ]; then
    if [ -z "${POSTGRES_PASSWORD:-}" ]; then
      echo "docker-entrypoint: no cluster in $PGDATA and neither POSTGRES_PASSWORD_FILE nor POSTGRES_PASSWORD is set" >&2
      exit 1
    fi
    pwfile="$(mktemp)"
    printf '%s\n' "$POSTGRES_PASSWORD" >"$pwfile"
    unset POSTGRES_PASSWORD
  fi
  [ -r "$pwfile" ] || { echo "docker-entrypoint: cannot read the password file $pwfile" >&2; exit 1; }
  # shellcheck disable=SC2086 # POSTGRES_INITDB_ARGS is a list of arguments
  initdb --username="$POSTGRES_USER" --pwfile="$pwfile" ${POSTGRES_INITDB_ARGS:-}
  [ "$pwfile" = "${POSTGRES_PASSWORD_FILE:-}" ] || rm -f "$pwfile"
  echo "docker-entrypoint: initdb done in $PGDATA"
fi

exec "$@"
