#!/bin/sh
# fuzz-run.sh TARGET: runs one libFuzzer target for FUZZ_SECONDS (default 10) over a
# copy of its corpus (fuzz/<name>/corpus) with its dictionary, if any. On a crash,
# prints the end of the log and where the reproducer is, and fails.
set -eu
t=$1
name=$(basename "$(dirname "$t")")
corpus="fuzz/$name/corpus"
work=$(mktemp -d)
[ -d "$corpus" ] && cp -r "$corpus"/. "$work"/ 2>/dev/null || true
dict=""
[ -f "fuzz/$name/$name.dict" ] && dict="-dict=fuzz/$name/$name.dict"
# shellcheck disable=SC2086
if "$t" -max_total_time="${FUZZ_SECONDS:-10}" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 $dict \
    -artifact_prefix="$work/" "$work" >"$work/log" 2>&1; then
    echo "  $name: $(grep -o 'stat::number_of_executed_units: [0-9]*' "$work/log" | grep -o '[0-9]*$' || echo '?') runs"
    rm -rf "$work"
else
    tail -40 "$work/log"
    echo "fuzz target $name failed; reproducer in $work"
    exit 1
fi
