#!/bin/sh
# run.sh: moat's HTTP core (bench/http/http_hello.c) beside nginx `return 200 "ok"`
# under wrk on 127.0.0.1, keep-alive. Run from the repository root after
#   make BUILD=build-http build-http/libmoat.a
# Settings: THREADS=2 (server loops / nginx workers), DUR=10, RUNS=3,
# PIN=1 (server on CPU1 with 1 thread, wrk on CPU0), PORT_MOAT=18081, PORT_NGINX=18082.
set -eu
HERE=$(cd "$(dirname "$0")" && pwd)
THREADS=${THREADS:-2}; DUR=${DUR:-10}; RUNS=${RUNS:-3}; PIN=${PIN:-0}
PORT_MOAT=${PORT_MOAT:-18081}; PORT_NGINX=${PORT_NGINX:-18082}
BUILD=${BUILD:-build-http}
TMP=$(mktemp -d /tmp/moat-bench-http.XXXXXX)
MOAT_PID=""; NGINX_MASTER=""
cleanup() {
    [ -n "$MOAT_PID" ] && kill -TERM "$MOAT_PID" 2>/dev/null || true
    [ -n "$NGINX_MASTER" ] && kill -QUIT "$NGINX_MASTER" 2>/dev/null || true
    rm -rf "$TMP"
}
trap cleanup EXIT
trap 'exit 1' INT TERM
SRV_PIN=""; WRK_PIN=""
if [ "$PIN" = 1 ]; then THREADS=1; SRV_PIN="taskset -c 1"; WRK_PIN="taskset -c 0"; fi

cc -O2 -std=c17 -D_GNU_SOURCE -Isrc bench/http/http_hello.c "$BUILD/libmoat.a" \
   -lssl -lcrypto -lm -pthread -o "$TMP/http_hello"

mkdir -p "$TMP/nginx/logs"
cat > "$TMP/nginx/nginx.conf" <<CONF
worker_processes $THREADS;
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
    server {
        listen 127.0.0.1:$PORT_NGINX;
        location / { return 200 "ok"; }
    }
}
CONF

# CPU ticks (utime+stime) of a process and its threads/children.
ticks() { for p in "$@"; do awk '{print $14+$15}' /proc/$p/stat; done | awk '{s+=$1} END {print s}'; }

. "$HERE/../quiet.sh"

bench() { # name url pids...
    name=$1; url=$2; shift 2
    for c in 16 64; do
        $WRK_PIN wrk -t1 -c$c -d2s "$url" >/dev/null 2>&1 # warm-up
        i=0
        while [ $i -lt "$RUNS" ]; do
            before=$(quiet 20)
            t0=$(ticks "$@")
            out=$($WRK_PIN wrk -t1 -c$c -d${DUR}s --latency "$url")
            t1=$(ticks "$@")
            rps=$(echo "$out" | awk '/Requests\/sec/ {print $2}')
            p99=$(echo "$out" | awk '$1 == "99%" {print $2}')
            errs=$(echo "$out" | awk '/Socket errors|Non-2xx/ {print}' | tr '\n' ' ')
            cpu=$(( (t1 - t0) * 100 / ($(getconf CLK_TCK) * DUR) ))
            echo "$name c=$c run=$i req/s=$rps p99=$p99 server_cpu=${cpu}% busy_before=${before}% $errs"
            i=$((i + 1))
        done
    done
}

$SRV_PIN "$TMP/http_hello" "$PORT_MOAT" "$THREADS" &
MOAT_PID=$!
$SRV_PIN nginx -p "$TMP/nginx" -c "$TMP/nginx/nginx.conf" -e "$TMP/nginx/logs/error.log"
sleep 1
NGINX_MASTER=$(cat "$TMP/nginx/nginx.pid")
NGINX_PIDS="$NGINX_MASTER $(pgrep -P "$NGINX_MASTER" | tr '\n' ' ')"

echo "moat RSS before: $(awk '/VmRSS/ {print $2}' /proc/$MOAT_PID/status) KiB"
bench moat "http://127.0.0.1:$PORT_MOAT/" $MOAT_PID
echo "moat RSS after: $(awk '/VmRSS/ {print $2}' /proc/$MOAT_PID/status) KiB"
# shellcheck disable=SC2086
bench nginx "http://127.0.0.1:$PORT_NGINX/" $NGINX_PIDS

kill -TERM $MOAT_PID
wait $MOAT_PID
kill -QUIT "$NGINX_MASTER"
sleep 1
