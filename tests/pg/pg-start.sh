#!/bin/sh
# pg-start.sh: starts a throwaway PostgreSQL 15 cluster for the store tests.
# Prints shell lines for eval; stop it with tests/pg/pg-stop.sh.
#
#   eval "$(tests/pg/pg-start.sh)"
#   ... MOAT_TEST_PG_URL is set ...
#   tests/pg/pg-stop.sh
#
# The cluster lives in a fresh temp directory, listens on 127.0.0.1 only on a
# free port below the ephemeral range, trusts local TCP connections, and keeps
# fsync on so that durability tests mean something. initdb refuses to run as
# root: as root the cluster belongs to the `postgres` system user.
set -eu

PGBIN=${PGBIN:-/usr/lib/postgresql/15/bin}
DB=${MOAT_TEST_PG_DB:-moat_test}

log() { echo "pg-start: $*" >&2; }

[ -x "$PGBIN/initdb" ] || { log "no $PGBIN/initdb (install postgresql-15)"; exit 1; }

dir=$(mktemp -d "${TMPDIR:-/tmp}/moat-pg.XXXXXX")
: > "$dir/.moat-pg" # marker that pg-stop.sh checks before removing anything

if [ "$(id -u)" = 0 ]; then
    owner=postgres
    id "$owner" > /dev/null 2>&1 || { log "no '$owner' user to own the cluster"; exit 1; }
    chown "$owner" "$dir"
    as_owner() { runuser -u "$owner" -- "$@"; }
else
    owner=$(id -un)
    as_owner() { "$@"; }
fi
chmod 700 "$dir"

cleanup_on_error() {
    as_owner "$PGBIN/pg_ctl" -D "$dir/data" -m immediate stop > /dev/null 2>&1 || true
    rm -rf "$dir"
}
trap cleanup_on_error EXIT

as_owner "$PGBIN/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --locale=C.UTF-8 \
    > "$dir/initdb.log" 2>&1 || { log "initdb failed:"; cat "$dir/initdb.log" >&2; exit 1; }

# Only TCP on 127.0.0.1, trusted; no Unix socket, so nothing outside $dir is touched.
as_owner sh -c "printf '%s\n' 'host all all 127.0.0.1/32 trust' > '$dir/data/pg_hba.conf'"

port_free() {
    ! ss -Htln "sport = :$1" 2> /dev/null | grep -q .
}

started=
for attempt in 1 2 3 4 5 6 7 8 9 10; do
    port=$((20000 + $(od -An -N2 -tu2 /dev/urandom) % 12000))
    port_free "$port" || continue
    if as_owner "$PGBIN/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-c listen_addresses=127.0.0.1 -c port=$port -c unix_socket_directories='' \
            -c fsync=on -c synchronous_commit=on -c max_connections=50" \
        start > /dev/null 2>&1; then
        started=1
        break
    fi
    log "start on port $port failed (attempt $attempt), retrying"
    tail -n 5 "$dir/server.log" >&2 || true
done
[ -n "$started" ] || { log "could not start PostgreSQL"; exit 1; }

# pg_ctl -w waited for the postmaster; still, wait until it answers queries.
i=0
until "$PGBIN/pg_isready" -q -h 127.0.0.1 -p "$port"; do
    i=$((i + 1))
    [ $i -lt 100 ] || { log "server not ready"; exit 1; }
    sleep 0.1
done
"$PGBIN/createdb" -h 127.0.0.1 -p "$port" -U postgres "$DB"

trap - EXIT
log "PostgreSQL on 127.0.0.1:$port, data in $dir"
echo "export MOAT_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/$DB"
echo "export MOAT_TEST_PG_DIR=$dir"
