#!/bin/bash
# run.sh: Secrets Manager GetSecretValue throughput and latency (op secrets-get of
# shared/bench/sigv4_wrk.py: one JSON secret under aws/secretsmanager) on moat and on
# moto_server in the same run, alternating round by round so that drift on the host hits
# both. Each moat request is verified (SigV4), authorised twice (the secret for the caller;
# the KMS key policy with kms:ViaService for the Decrypt Secrets Manager makes on the
# caller's behalf), decrypted (KMS data key, then AES-256-GCM), and leaves two CloudTrail
# records (GetSecretValue and its kms Decrypt) group-committed before the answer.
#
#   make -j2 BUILD=build all && bench/secretsmanager/run.sh
#
# Settings (environment): BUILD=build, DUR=10s, WARMUP=2s, ROUNDS=3, CONNECTIONS=16,
# THREADS=1 (wrk threads), DATA=disk (moat's data directory under /tmp) or shm (/dev/shm:
# no fsync cost), PORT_MOAT=18291 PORT_MOTO=18292, SKIP_MOTO=1, SIGV4_WRK=path.
# moto_server answers from one Python process; say so when quoting ratios.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
DUR=${DUR:-10s}; WARMUP=${WARMUP:-2s}; ROUNDS=${ROUNDS:-3}; CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-1}; DATA=${DATA:-disk}
PORT_MOAT=${PORT_MOAT:-18291}; PORT_MOTO=${PORT_MOTO:-18292}
PY=${PYTHON:-python3}
SIGV4_WRK=${SIGV4_WRK:-$ROOT/../shared/bench/sigv4_wrk.py}
MOAT="$ROOT/$BUILD/moat"
[ -x "$MOAT" ] || { echo "build moat first: make -j2 BUILD=$BUILD all" >&2; exit 2; }
[ -f "$SIGV4_WRK" ] || { echo "sigv4_wrk.py not found at $SIGV4_WRK (set SIGV4_WRK)" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk not found" >&2; exit 2; }

if [ "$DATA" = shm ]; then TMP=$(mktemp -d /dev/shm/moat-bench-sm.XXXXXX); else TMP=$(mktemp -d /tmp/moat-bench-sm.XXXXXX); fi
RES="$TMP/results.jsonl"; : > "$RES"
AK=AKIAMOATBENCHSM00001; SK=moatBenchSmSecret00000000000000000000000
MOAT_PID=""; MOTO_PID=""
cleanup() {
    [ -n "$MOAT_PID" ] && kill -TERM "$MOAT_PID" 2>/dev/null
    [ -n "$MOTO_PID" ] && kill -TERM "$MOTO_PID" 2>/dev/null
    [ -n "$MOAT_PID" ] && wait "$MOAT_PID" 2>/dev/null
    [ -n "$MOTO_PID" ] && wait "$MOTO_PID" 2>/dev/null
    [ "${KEEP:-0}" = 1 ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

wait_port() {
    i=0
    while ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 400 ] && { echo "port $1 did not open" >&2; exit 2; }
        sleep 0.05
    done
}

# moat listens with SO_REUSEPORT: a leftover server on the port would take half of the
# connections, so refuse to start then.
for port in $PORT_MOAT $PORT_MOTO; do
    if ss -ltn "sport = :$port" | grep -q LISTEN; then
        echo "port $port is already in use; set PORT_MOAT/PORT_MOTO" >&2
        exit 2
    fi
done

MOAT_ROOT_ACCESS_KEY_ID=$AK MOAT_ROOT_SECRET_ACCESS_KEY=$SK "$MOAT" serve \
    --listen 127.0.0.1:$PORT_MOAT --data-dir "$TMP/moat" --log-level warn \
    --log-file "$TMP/moat.log" >/dev/null 2>&1 &
MOAT_PID=$!
if [ "${SKIP_MOTO:-0}" != 1 ]; then
    moto_server -H 127.0.0.1 -p "$PORT_MOTO" >"$TMP/moto.log" 2>&1 &
    MOTO_PID=$!
fi
wait_port $PORT_MOAT
[ -n "$MOTO_PID" ] && wait_port $PORT_MOTO

side() { # label endpoint ak sk
    AWS_ACCESS_KEY_ID=$3 AWS_SECRET_ACCESS_KEY=$4 "$PY" "$SIGV4_WRK" --endpoint "$2" \
        --op secrets-get --threads "$THREADS" --connections "$CONNECTIONS" --duration "$DUR" \
        --warmup "$WARMUP" --label "$1" --json-out "$RES" >&2 || true
}

echo "# secretsmanager bench: GetSecretValue, data=$DATA t=$THREADS c=$CONNECTIONS d=$DUR rounds=$ROUNDS cores=$(nproc) load=$(cut -d' ' -f1 /proc/loadavg)" >&2
r=1
while [ $r -le "$ROUNDS" ]; do
    side moat "http://127.0.0.1:$PORT_MOAT" $AK $SK
    [ -n "$MOTO_PID" ] && side moto "http://127.0.0.1:$PORT_MOTO" benchtest benchtest
    r=$((r + 1))
done
RSS=$(awk '/VmRSS/ {print $2}' /proc/$MOAT_PID/status)
RECORDS=$("$MOAT" audit verify --data-dir "$TMP/moat" 2>/dev/null | tr '\n' ' ' || true)

"$PY" - "$RES" "$RSS" "$DATA" "$RECORDS" <<'PYEOF'
import json, statistics as st, sys
res, rss, data, records = sys.argv[1:5]
rows = [json.loads(l) for l in open(res) if l.strip()]
def agg(label):
    rs = [r for r in rows if r.get("label") == label]
    if not rs:
        return None
    return {"rps": st.median(r["rps"] for r in rs), "p50": st.median(r["p50_ms"] for r in rs),
            "p99": st.median(r["p99_ms"] for r in rs), "n": len(rs),
            "bad": sum(r["non2xx"] + r["socket_errors"] for r in rs)}
a, b = agg("moat"), agg("moto")
f = lambda x, k, fmt: "-" if not x else fmt.format(x[k])
ratio = f"{a['rps'] / b['rps']:.1f}" if a and b and b["rps"] else "-"
print(f"GetSecretValue (JSON secret, aws/secretsmanager key); data directory: {data}; "
      f"medians of {a['n'] if a else 0} rounds; moat RSS {int(rss)/1024:.1f} MiB")
print("| | req/s | p50 ms | p99 ms | non-2xx + socket errors |")
print("|---|---|---|---|---|")
for label, x in (("moat", a), ("moto", b)):
    print(f"| {label} | {f(x,'rps','{:.0f}')} | {f(x,'p50','{:.2f}')} | {f(x,'p99','{:.2f}')} | "
          f"{x['bad'] if x else '-'} |")
print(f"moat/moto throughput: {ratio}")
if records.strip():
    print(f"moat audit chain after the run: {records.strip()}")
PYEOF
