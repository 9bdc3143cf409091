#!/bin/bash
# run.sh: KMS throughput and latency of moat beside moto_server in the same run, and
# nginx's fixed response for scale. Each op replays one SigV4-signed request under wrk
# (bench/kms/sigv4_wrk.py, shared/bench/sigv4_wrk.py plus kms-sign and IAM/STS ops), moat
# and moto alternating round by round so drift on the host hits both. After the runs,
# `moat audit verify` checks the chain of every record the run made.
# bench/iam, bench/secretsmanager and bench/ssm run this harness with their own ops.
#
#   make -j2 BUILD=build all && bench/kms/run.sh
#
# Settings (environment): BUILD=build, DUR=10s, WARMUP=2s, ROUNDS=2, CONNECTIONS=16, THREADS=1,
# OPS="kms-encrypt kms-decrypt kms-generate-data-key kms-sign sts-get-caller-identity" (the
# last is the cheapest authenticated, audited call: the floor every request pays),
# DATA=disk (moat's data directory under /tmp, on disk) or shm (/dev/shm: no fsync cost;
# shows what KMS itself costs when the durable audit commit is not the limit),
# PORT_MOAT=18091 PORT_MOTO=18092 PORT_NGINX=18093, SKIP_MOTO=1, SKIP_NGINX=1.
# moto closes no connections here but answers from Python; say so when quoting ratios.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
BUILD=${BUILD:-build}
DUR=${DUR:-10s}; WARMUP=${WARMUP:-2s}; ROUNDS=${ROUNDS:-2}; CONNECTIONS=${CONNECTIONS:-16}
THREADS=${THREADS:-1}
OPS=${OPS:-"kms-encrypt kms-decrypt kms-generate-data-key kms-sign sts-get-caller-identity"}
DATA=${DATA:-disk}
PORT_MOAT=${PORT_MOAT:-18091}; PORT_MOTO=${PORT_MOTO:-18092}; PORT_NGINX=${PORT_NGINX:-18093}
PY=${PYTHON:-python3}
MOAT="$ROOT/$BUILD/moat"
[ -x "$MOAT" ] || { echo "build moat first: make -j2 BUILD=$BUILD all" >&2; exit 2; }
command -v wrk >/dev/null || { echo "wrk not found" >&2; exit 2; }

if [ "$DATA" = shm ]; then TMP=$(mktemp -d /dev/shm/moat-bench-kms.XXXXXX); else TMP=$(mktemp -d /tmp/moat-bench-kms.XXXXXX); fi
RES="$TMP/results.jsonl"; : > "$RES"
AK=AKIAMOATBENCHKMS0001; SK=moatBenchKmsSecret0000000000000000000000
MOAT_PID=""; MOTO_PID=""; NGINX_MASTER=""
cleanup() {
    [ -n "$MOAT_PID" ] && kill -TERM "$MOAT_PID" 2>/dev/null
    [ -n "$MOTO_PID" ] && kill -TERM "$MOTO_PID" 2>/dev/null
    [ -n "$NGINX_MASTER" ] && kill -QUIT "$NGINX_MASTER" 2>/dev/null
    sleep 1
    [ "${KEEP:-0}" = 1 ] && echo "kept $TMP" >&2 || rm -rf "$TMP"
}
trap cleanup EXIT INT TERM

wait_port() {
    i=0
    while ! (exec 3<>/dev/tcp/127.0.0.1/"$1") 2>/dev/null; do
        i=$((i + 1)); [ $i -gt 200 ] && { echo "port $1 did not open" >&2; exit 2; }
        sleep 0.05
    done
}

# moat listens with SO_REUSEPORT: a leftover server on the same port would silently
# take half of the connections, so refuse to start then.
for port in $PORT_MOAT $PORT_MOTO $PORT_NGINX; do
    if ss -ltn "sport = :$port" | grep -q LISTEN; then
        echo "port $port is already in use; set PORT_MOAT/PORT_MOTO/PORT_NGINX" >&2
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

side() { # label endpoint ak sk op
    AWS_ACCESS_KEY_ID=$3 AWS_SECRET_ACCESS_KEY=$4 "$PY" "$HERE/sigv4_wrk.py" --endpoint "$2" \
        --op "$5" --threads "$THREADS" --connections "$CONNECTIONS" --duration "$DUR" \
        --warmup "$WARMUP" \
        --label "$1" --json-out "$RES" >&2 || true
}

echo "# bench: ops=$OPS data=$DATA t=$THREADS c=$CONNECTIONS d=$DUR rounds=$ROUNDS cores=$(nproc) load=$(cut -d' ' -f1 /proc/loadavg)" >&2
for op in $OPS; do
    r=1
    while [ $r -le "$ROUNDS" ]; do
        side moat "http://127.0.0.1:$PORT_MOAT" $AK $SK "$op"
        [ -n "$MOTO_PID" ] && side moto "http://127.0.0.1:$PORT_MOTO" benchtest benchtest "$op"
        r=$((r + 1))
    done
done
RSS=$(awk '/VmRSS/ {print $2}' /proc/$MOAT_PID/status)
VERIFY=$("$MOAT" audit verify --data-dir "$TMP/moat" 2>&1 || true)

NGINX_RPS=""
if [ "${SKIP_NGINX:-0}" != 1 ] && command -v nginx >/dev/null; then
    mkdir -p "$TMP/nginx/logs"
    cat > "$TMP/nginx/nginx.conf" <<CONF
worker_processes 2;
pid $TMP/nginx/nginx.pid;
error_log $TMP/nginx/logs/error.log;
events { worker_connections 4096; }
http {
    access_log off;
    keepalive_requests 10000000;
    client_body_temp_path $TMP/nginx/body;
    proxy_temp_path $TMP/nginx/proxy;
    fastcgi_temp_path $TMP/nginx/fastcgi;
    uwsgi_temp_path $TMP/nginx/uwsgi;
    scgi_temp_path $TMP/nginx/scgi;
    server { listen 127.0.0.1:$PORT_NGINX; location / { return 200 "ok"; } }
}
CONF
    nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log"
    sleep 0.5
    NGINX_MASTER=$(cat "$TMP/nginx/nginx.pid")
    wrk -t1 -c"$CONNECTIONS" -d2s "http://127.0.0.1:$PORT_NGINX/" >/dev/null 2>&1
    NGINX_RPS=$(wrk -t1 -c"$CONNECTIONS" -d"$DUR" --latency "http://127.0.0.1:$PORT_NGINX/" |
        awk '/Requests\/sec/ {print $2}')
fi

"$PY" - "$RES" "$NGINX_RPS" "$RSS" "$DATA" <<'PYEOF'
import json, statistics as st, sys
res, nginx, rss, data = sys.argv[1:5]
rows = [json.loads(l) for l in open(res) if l.strip()]
ops = []
for r in rows:
    if r["op"] not in ops:
        ops.append(r["op"])
def agg(op, label):
    rs = [r for r in rows if r["op"] == op and r.get("label") == label]
    if not rs:
        return None
    return {"rps": st.median(r["rps"] for r in rs), "p50": st.median(r["p50_ms"] for r in rs),
            "p99": st.median(r["p99_ms"] for r in rs),
            "bad": sum(r["non2xx"] + r["socket_errors"] for r in rs)}
ng = float(nginx) if nginx else None
print(f"data directory: {data}; nginx fixed response: {ng or '-'} req/s; moat RSS {int(rss)/1024:.1f} MiB")
print("| op | moat req/s | moto req/s | moat/moto | moat/nginx | moat p50 ms | moat p99 ms | moto p99 ms | bad |")
print("|---|---|---|---|---|---|---|---|---|")
for op in ops:
    a, b = agg(op, "moat"), agg(op, "moto")
    f = lambda x, k, fmt: "-" if not x else fmt.format(x[k])
    ratio = f"{a['rps'] / b['rps']:.1f}" if a and b and b["rps"] else "-"
    vs_ng = f"{a['rps'] / ng:.2f}" if a and ng else "-"
    bad = (a["bad"] if a else 0) + (b["bad"] if b else 0)
    print(f"| {op} | {f(a,'rps','{:.0f}')} | {f(b,'rps','{:.0f}')} | {ratio} | {vs_ng} | "
          f"{f(a,'p50','{:.2f}')} | {f(a,'p99','{:.2f}')} | {f(b,'p99','{:.2f}')} | {bad} |")
PYEOF
echo "moat audit chain after the run: $VERIFY"
