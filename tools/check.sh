#!/bin/sh
# check.sh: every test, from a fresh clone (README command 2, called by .ci/run).
#   1. installs what the tests use (Debian packages, npm packages)
#   2. builds with -Werror and checks that every header compiles alone
#   3. unit tests (store suite on SQLite and on a throwaway PostgreSQL 15)
#   4. integration tests with real clients against live servers, in parallel
#      workers: Debian's boto3/aws CLI v2 on SQLite (every test), then the newest
#      botocore found on SQLite
#   5. the sanitizer build (ASan+UBSan) runs the unit tests and the integration
#      tests on a PostgreSQL store (without SKIP_SAN's sanitizer, the normal build does)
#   6. every fuzz target runs for FUZZ_SECONDS (default 10) over its corpus
# Environment: JOBS (default 2), TEST_WORKERS (default 3), FUZZ_SECONDS, SKIP_SAN=1, SKIP_FUZZ=1 for quick local runs.
set -eu
cd "$(dirname "$0")/.."
ROOT=$(pwd)
JOBS=${JOBS:-2}
FUZZ_SECONDS=${FUZZ_SECONDS:-10}
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

# Integration tests run in parallel workers, one test file per worker (files keep
# their order; each starts its own servers on free ports).
PAR="-n ${TEST_WORKERS:-3} --dist loadfile"
PYTEST="/usr/bin/python3 -m pytest -q -x $PAR"
step "integration: Debian boto3 $(/usr/bin/python3 -c 'import botocore; print(botocore.__version__)'), aws CLI v2, SQLite, every test"
MOAT_TEST_AWS_CLI=/usr/bin/aws $PYTEST tests/integration

# The newest botocore on the machine (e.g. a pyenv python with boto3 1.43 and aws CLI v1),
# with Debian's pytest appended to its path (a sitecustomize also reaches the workers):
# newer clients send some services in other protocols.
NEWPY=""
for py in $(which -a python3 2>/dev/null); do
    [ "$py" = /usr/bin/python3 ] && continue
    if "$py" -c 'import boto3' 2>/dev/null; then NEWPY=$py; break; fi
done
if [ -n "$NEWPY" ]; then
    NEWAWS=$(dirname "$(readlink -f "$NEWPY")")/aws
    [ -x "$NEWAWS" ] || NEWAWS=$(command -v aws)
    SITE=$(mktemp -d)
    echo 'import sys; sys.path.append("/usr/lib/python3/dist-packages")' > "$SITE/sitecustomize.py"
    step "integration: botocore $("$NEWPY" -c 'import botocore; print(botocore.__version__)') ($NEWPY), SQLite"
    PYTHONPATH="$SITE" MOAT_TEST_AWS_CLI=$NEWAWS "$NEWPY" -m pytest -q -x $PAR tests/integration
    rm -rf "$SITE"
else
    step "integration: no newer botocore on this machine; Debian's clients only"
fi

# The sanitizer build serves the PostgreSQL runs: its unit tests include the
# store suite on PostgreSQL, and the integration tests use a PostgreSQL store.
if [ "${SKIP_SAN:-0}" != 1 ]; then
    step "sanitizer build (ASan+UBSan)"
    make -j"$JOBS" SAN=1 all
    export ASAN_OPTIONS="detect_leaks=1:abort_on_error=1:halt_on_error=1"
    export UBSAN_OPTIONS="print_stacktrace=1:halt_on_error=1"
    step "unit tests, sanitizer build"
    make -j"$JOBS" SAN=1 unit
    step "integration: sanitizer build, PostgreSQL store"
    MOAT_BIN="$ROOT/build-san/moat" MOAT_TEST_STORE=postgres MOAT_TEST_AWS_CLI=/usr/bin/aws \
        $PYTEST -m "not slow" tests/integration
    unset ASAN_OPTIONS UBSAN_OPTIONS
else
    step "integration: PostgreSQL store"
    MOAT_TEST_STORE=postgres MOAT_TEST_AWS_CLI=/usr/bin/aws $PYTEST -m "not slow" tests/integration
fi

if [ "${SKIP_FUZZ:-0}" != 1 ]; then
    step "fuzz targets, ${FUZZ_SECONDS}s each, $JOBS at a time"
    make -j"$JOBS" fuzz
    export FUZZ_SECONDS
    ls build-fuzz/*/fuzz_* | xargs -P "$JOBS" -n 1 tools/fuzz-run.sh
fi

step "all checks passed"
