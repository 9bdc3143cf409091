#!/bin/sh
# pg-stop.sh: stops the cluster that pg-start.sh started and removes its directory.
#   tests/pg/pg-stop.sh [dir]      (default: $MOAT_TEST_PG_DIR)
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
dir=${1:-${MOAT_TEST_PG_DIR:-}}

log() { echo "pg-stop: $*" >&2; }

[ -n "$dir" ] || { log "no directory given and MOAT_TEST_PG_DIR is unset"; exit 1; }
# Remove only what pg-start.sh created.
[ -f "$dir/.moat-pg" ] || { log "$dir was not made by pg-start.sh; leaving it alone"; exit 1; }

if [ -f "$dir/data/postmaster.pid" ]; then
    if [ "$(id -u)" = 0 ]; then
        runuser -u "$(stat -c %U "$dir/data")" -- "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop \
            > /dev/null
    else
        "$PGBIN/pg_ctl" -D "$dir/data" -m fast -w stop > /dev/null
    fi
fi
rm -rf "$dir"
log "stopped and removed $dir"
