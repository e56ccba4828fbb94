#!/usr/bin/env bash
# Verify a restored cluster before anyone connects (docs/runbooks/restore.md §4):
#   bash scripts/verify-restored.sh psql "$RESTORED_URL"
#   bash scripts/verify-restored.sh docker exec -i -u postgres "$P-postgres" psql -d app
# Arguments: the psql command to run (any prefix, with its connection options).
#
# It runs as the superuser, so it must evaluate nothing a lower role wrote (the restore
# drill's rule, docs/SECURITY.md):
# - search_path is pg_catalog, set in the startup packet (PGOPTIONS), so no function or
#   operator an application created can shadow a built-in and `ALTER DATABASE ... SET`
#   cannot override it;
# - rows are counted with `COPY <table> TO STDOUT`, which plans nothing: `count(*)` would load
#   the table's index expressions into the planner, which folds an IMMUTABLE function in them,
#   running its owner's code with superuser rights;
# - the schema version is read the same way; COPY refuses a view without running it.
set -euo pipefail
[ "$#" -gt 0 ] || {
    echo "usage: $0 <psql command...>" >&2
    exit 2
}
psql_cmd=("$@")
q() { PGOPTIONS="-c search_path=pg_catalog" "${psql_cmd[@]}" -XAt -v ON_ERROR_STOP=1 "$@"; }
# docker exec does not pass the caller's environment: give it PGOPTIONS explicitly.
if [ "${psql_cmd[0]}" = docker ] && [ "${psql_cmd[1]:-}" = exec ]; then
    psql_cmd=(docker exec -e "PGOPTIONS=-c search_path=pg_catalog" "${psql_cmd[@]:2}")
fi

q -c "SELECT 'in_recovery=' || pg_is_in_recovery(), 'timeline=' || timeline_id,
              'replayed_to=' || coalesce(pg_last_xact_replay_timestamp()::text, 'none')
         FROM pg_control_checkpoint()"

# The schema version (drizzle's migrations table): only from a plain table.
kind="$(q -c "SELECT c.relkind::text || ' ' || pg_get_userbyid(c.relowner) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
               WHERE n.nspname = 'drizzle' AND c.relname = '__drizzle_migrations'")"
case "$kind" in
    "") echo "schema_version=none (no drizzle.__drizzle_migrations)" ;;
    "r "*) echo "schema_version=$(q -c 'COPY drizzle.__drizzle_migrations (id, hash) TO STDOUT' | sort -n | tail -n 1 | tr '\t' ' ')" ;;
    *) echo "schema_version=unreadable: drizzle.__drizzle_migrations has relkind ${kind%% *} (owner ${kind#* }), not a plain table: not read" ;;
esac

# Row counts of every plain table (partitions included; a partitioned parent holds no rows).
q -F $'\t' -c "SELECT format('%I.%I', n.nspname, c.relname), n.nspname || '.' || c.relname
                 FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname NOT LIKE 'pg\_toast%'
                ORDER BY 2" |
    while IFS=$'\t' read -r quoted name; do
        echo "$name=$(q -c "COPY $quoted TO STDOUT" </dev/null | wc -l)"
    done
