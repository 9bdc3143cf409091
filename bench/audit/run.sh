#!/bin/sh
# run.sh: what durable auditing costs. Throughput of a read-only call
# (sts get-caller-identity) and a mutating one (cloudtrail add-tags) under wrk
# with SigV4-signed requests, on the normal build (every record durable before
# its response) and on a measurement build compiled with -DMOAT_BENCH_AUDIT_OFF
# (no record built or written; state changes still commit), alternating A B A B.
#
#   bench/audit/run.sh                      from the repository root
#
# Settings: CONNS="16 64" (wrk connections), DUR=8s, RUNS=3, OPS="sts-get-caller-identity
# cloudtrail-add-tags", STORE (default: SQLite in a fresh data dir; or a postgres:// URL,
# one fresh database per server), BUILD_A=build-bench, BUILD_B=build-bench-noaudit,
# MOAT_SHARED (default ../shared: the shared bench scripts), SPINE=<commit> (also measure
# sts-get-caller-identity on that commit's build, e.g. the spine before this audit work),
# QUIET_WAIT=180 (seconds to wait for other jobs to leave the machine under 30 % busy),
# DATA_ROOT=/tmp (where the data directories go; /dev/shm takes the disk out of the picture,
# which separates the cost of fsync from the CPU cost of records).
# Prints one line per run and a summary of medians with the loss from auditing.
# The machine is shared: quote medians and ratios measured in one run.
set -eu
CONNS=${CONNS:-"16 64"}
DUR=${DUR:-8s}
RUNS=${RUNS:-3}
OPS=${OPS:-"sts-get-caller-identity cloudtrail-add-tags"}
BUILD_A=${BUILD_A:-build-bench}
BUILD_B=${BUILD_B:-build-bench-noaudit}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PY:-python3}
KEY=AKIAMOATBENCHROOT001
SECRET=moatBenchRootSecretKey000000000000000000

make -j2 BUILD="$BUILD_A" all >/dev/null
make -j2 BUILD="$BUILD_B" CFLAGS="-O2 -g -DMOAT_BENCH_AUDIT_OFF" all >/dev/null

TMP=$(mktemp -d "${DATA_ROOT:-/tmp}/moat-bench-audit.XXXXXX")
SIDES="A B"
if [ -n "${SPINE:-}" ]; then
    mkdir -p "$TMP/spine"
    git archive "$SPINE" | tar -x -C "$TMP/spine"
    make -C "$TMP/spine" -j2 BUILD=build all >/dev/null
    SIDES="A B S"
fi

. "$HERE/../quiet.sh"
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$TMP"; }
trap cleanup EXIT INT TERM

free_port() { $PY -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }

start() { # build label
    dir="$TMP/$2-$(date +%s%N)"
    mkdir -p "$dir"
    PORT=$(free_port)
    store=""
    if [ -n "${STORE:-}" ]; then
        db="moatbench_$(date +%s%N)"
        psql "$STORE" -qc "CREATE DATABASE $db" >/dev/null
        store="--store ${STORE%/*}/$db"
    fi
    # shellcheck disable=SC2086
    MOAT_ROOT_ACCESS_KEY_ID=$KEY MOAT_ROOT_SECRET_ACCESS_KEY=$SECRET \
        "$1" serve --listen "127.0.0.1:$PORT" --data-dir "$dir" --log-level warn \
        --log-file "$dir/moat.log" --max-conns-per-ip 4096 $store >"$dir/out" 2>&1 &
    PID=$!
    i=0
    until $PY -c "import socket; socket.create_connection(('127.0.0.1', $PORT), 0.2)" 2>/dev/null; do
        i=$((i + 1)); [ $i -lt 100 ] || { echo "server did not start"; cat "$dir/out"; exit 1; }
        sleep 0.1
    done
}

stop() { kill "$PID"; wait "$PID" || true; PID=; }

: >"$TMP/results"
for run in $(seq "$RUNS"); do
    for side in $SIDES; do
        case $side in
        A) bin=./$BUILD_A/moat; label=audit; ops=$OPS ;;
        B) bin=./$BUILD_B/moat; label=noaudit; ops=$OPS ;;
        S) bin=$TMP/spine/build/moat; label=spine; ops=sts-get-caller-identity ;;
        esac
        echo "machine $(quiet)% busy before $label run $run"
        start "$bin" "$label"
        for op in $ops; do
            for c in $CONNS; do
                line=$(AWS_ACCESS_KEY_ID=$KEY AWS_SECRET_ACCESS_KEY=$SECRET \
                    $PY "$HERE/bench_audit.py" --endpoint "http://127.0.0.1:$PORT" --op "$op" \
                    --threads 1 --connections "$c" --duration "$DUR" --warmup 1s \
                    --label "$label" 2>&1 | tail -1)
                echo "run $run $line"
                rps=$(echo "$line" | sed -n 's/.*req\/s=\([0-9.]*\).*/\1/p')
                case "$line" in *non2xx=0\ sockerr=0*) ;; *) echo "run failed: $line"; exit 1;; esac
                echo "$label $op $c ${rps:-0}" >>"$TMP/results"
            done
        done
        stop
    done
done

echo
echo "median req/s (durable audit vs measurement build without records)"
$PY - "$TMP/results" <<'PYEOF'
import statistics, sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
keys = sorted({(r[1], int(r[2])) for r in rows})
def med(label, op, c):
    v = [float(r[3]) for r in rows if r[0] == label and r[1] == op and int(r[2]) == c]
    return statistics.median(v) if v else None
for op, c in keys:
    ma, mb, ms = med("audit", op, c), med("noaudit", op, c), med("spine", op, c)
    loss = 100 * (1 - ma / mb) if mb else 0
    line = "%-26s c%-3d audit %8.0f   no-audit %8.0f   loss %5.1f%%" % (op, c, ma, mb, loss)
    if ms:
        line += "   spine %8.0f" % ms
    print(line)
PYEOF
