#!/bin/sh
# check.sh: every test, from a fresh clone (README command 2, called by .ci/run).
#   1. installs what the tests use (Debian packages, npm packages)
#   2. builds with -Werror and checks that every header compiles alone
#   3. unit tests (store suite on SQLite and on a throwaway PostgreSQL 15)
#   4. integration tests with real clients against live servers: Debian's
#      boto3/aws CLI v2 on SQLite and on PostgreSQL, then the newest botocore found
#   5. the sanitizer build (ASan+UBSan) runs the unit and integration tests
#   6. every fuzz target runs for FUZZ_SECONDS (default 15) over its corpus
# Environment: JOBS (default 2), FUZZ_SECONDS, SKIP_SAN=1, SKIP_FUZZ=1 for quick local runs.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-15}
export MOAT_SHARED="${MOAT_SHARED:-$ROOT/../shared}"
START=$(date +%s)
step() { echo "==> [$(($(date +%s) - START))s] $*"; }

step "dependencies"
./tools/deps.sh test
if [ -f tests/js/package.json ]; then
    (cd tests/js && npm ci --no-audit --no-fund --loglevel=error >/dev/null 2>&1 ||
        npm install --no-audit --no-fund --loglevel=error >/dev/null) ||
        echo "warning: npm packages could not be installed; the JavaScript SDK test will fail"
fi

step "build"
make -j"$JOBS" all
make headers

step "PostgreSQL"
eval "$(tests/pg/pg-start.sh)"
trap 'tests/pg/pg-stop.sh >/dev/null 2>&1 || true' EXIT INT TERM

step "unit tests"
make -j"$JOBS" unit

PYTEST="/usr/bin/python3 -m pytest -q -x"
step "integration: Debian boto3 $(/usr/bin/python3 -c 'import botocore; print(botocore.__version__)'), aws CLI v2, SQLite"
MOAT_TEST_AWS_CLI=/usr/bin/aws $PYTEST tests/integration
step "integration: PostgreSQL store"
MOAT_TEST_STORE=postgres MOAT_TEST_AWS_CLI=/usr/bin/aws $PYTEST tests/integration -m "not slow"

# The newest botocore on the machine (e.g. a pyenv python with boto3 1.43 and aws CLI v1),
# with Debian's pytest on its path: newer clients send some services in other protocols.
NEWPY=""
for py in $(which -a python3 2>/dev/null); do
    [ "$py" = /usr/bin/python3 ] && continue
    if "$py" -c 'import boto3' 2>/dev/null; then NEWPY=$py; break; fi
done
if [ -n "$NEWPY" ]; then
    NEWAWS=$(dirname "$(readlink -f "$NEWPY")")/aws
    [ -x "$NEWAWS" ] || NEWAWS=$(command -v aws)
    step "integration: botocore $("$NEWPY" -c 'import botocore; print(botocore.__version__)') ($NEWPY)"
    MOAT_TEST_AWS_CLI=$NEWAWS "$NEWPY" -c 'import sys; sys.path.append("/usr/lib/python3/dist-packages"); import pytest; sys.exit(pytest.main(["-q", "-x", "tests/integration"]))'
else
    step "integration: no newer botocore on this machine; Debian's clients only"
fi

if [ "${SKIP_SAN:-0}" != 1 ]; then
    step "sanitizer build (ASan+UBSan): unit and integration tests"
    make -j"$JOBS" SAN=1 all
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    make -j"$JOBS" SAN=1 unit
    MOAT_BIN="$ROOT/build-san/moat" MOAT_TEST_AWS_CLI=/usr/bin/aws $PYTEST tests/integration -m "not slow"
    unset ASAN_OPTIONS UBSAN_OPTIONS
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    step "fuzz targets, ${FUZZ_SECONDS}s each"
    make -j"$JOBS" fuzz
    for t in build-fuzz/*/fuzz_*; do
        [ -x "$t" ] || continue
        name=$(basename "$(dirname "$t")")
        corpus="fuzz/$name/corpus"
        work=$(mktemp -d)
        [ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
        dict=""
        [ -f "fuzz/$name/$name.dict" ] && dict="-dict=fuzz/$name/$name.dict"
        echo "  $name"
        # shellcheck disable=SC2086
        "$t" -max_total_time="$FUZZ_SECONDS" -timeout=10 -rss_limit_mb=2048 $dict \
            -artifact_prefix="$work/" "$work" >"$work/log" 2>&1 || {
            tail -40 "$work/log"; echo "fuzz target $name failed"; exit 1; }
        rm -rf "$work"
    done
fi

step "all checks passed"
