#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The fuzzing smoke run (CI): for each harness, first its regression inputs
# and seeds once (regress.sh), then SECONDS of libFuzzer on a copy of the
# seed corpus. Fails on any crash, failed property, sanitizer report, leak,
# slow input (-timeout) or memory blow-up (-rss_limit_mb); the input that
# did it is kept under BUILD_DIR/fuzz-artifacts/<harness>/. Prints the
# executions, exec/s and coverage per harness.
#
# Usage: tests/fuzz/smoke.sh BUILD_DIR [SECONDS]      (default 60 per harness)
# BUILD_DIR is a fuzzing build (tests/fuzz/README.md):
#   CC=clang cmake -S . -B build-fuzz -DFG_FUZZ=ON -DFG_SANITIZE=address,undefined \
#       -DFG_BUILD_TESTS=OFF && cmake --build build-fuzz -j2 --target fuzz_all
# Environment: FG_FUZZ_HARNESSES (default "event config pack alert"),
# FG_FUZZ_ARGS (extra libFuzzer flags, e.g. -runs=10000000), FG_FUZZ_NICE
# (default 10), FG_FUZZ_WORK (keep corpora and logs in that folder; an
# existing corpus there is fuzzed further).
set -eu
[ $# -ge 1 ] && [ $# -le 2 ] || { echo "usage: $0 BUILD_DIR [SECONDS]" >&2; exit 2; }
BUILD=$(cd "$1" && pwd)
SECS=${2:-60}
HERE=$(cd "$(dirname "$0")" && pwd)
PY=${PYTHON3:-python3}
HARNESSES=${FG_FUZZ_HARNESSES:-event config pack alert}
NICE=${FG_FUZZ_NICE:-10}
ARTIFACTS=$BUILD/fuzz-artifacts

for h in $HARNESSES; do
    [ -x "$BUILD/fuzz/fuzz_$h" ] || {
        echo "$BUILD/fuzz/fuzz_$h: not built (configure with -DFG_FUZZ=ON, build target fuzz_all)" >&2
        exit 2
    }
done

# FG_FUZZ_WORK=DIR keeps the corpora, logs and artifacts there (a long
# campaign); by default they go to a temporary folder removed at the end.
if [ -n "${FG_FUZZ_WORK:-}" ]; then
    mkdir -p "$FG_FUZZ_WORK"
    WORK=$(cd "$FG_FUZZ_WORK" && pwd)
    KEEP=1
else
    WORK=$(mktemp -d "${TMPDIR:-/tmp}/fgfuzz-smoke.XXXXXX")
    KEEP=0
fi
# The harnesses' own scratch files (the config file, the rule pack) are
# rewritten on every execution: keep them in memory when /dev/shm exists.
if [ -d /dev/shm ] && [ -w /dev/shm ]; then
    SCRATCH=$(mktemp -d /dev/shm/fgfuzz-smoke.XXXXXX)
else
    SCRATCH=$(mktemp -d "$WORK/scratch.XXXXXX")
fi
cleanup() {
    rm -rf "$SCRATCH"
    [ "$KEEP" -eq 1 ] || rm -rf "$WORK"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

fail=0
summary=$WORK/summary
printf '%-8s %12s %8s %6s %6s %7s %s\n' harness execs exec/s cov ft corpus result >"$summary"
for h in $HARNESSES; do
    bin=$BUILD/fuzz/fuzz_$h
    echo "== $h: regression inputs and seeds"
    if ! sh "$HERE/regress.sh" "$bin" "$h"; then
        printf '%-8s %12s %8s %6s %6s %7s %s\n' "$h" - - - - - "FAIL (regression)" >>"$summary"
        fail=1
        continue
    fi

    echo "== $h: fuzzing for ${SECS}s"
    corpus=$WORK/$h/corpus
    art=$WORK/$h/artifacts
    rm -rf "$art"
    mkdir -p "$corpus" "$art" "$SCRATCH/$h"
    "$PY" "$HERE/seeds.py" "$h" "$corpus"
    [ -d "$HERE/regress/$h" ] && find "$HERE/regress/$h" -type f ! -name '*.md' \
        -exec cp {} "$corpus/" \;
    dict=
    [ -f "$HERE/dict/$h.dict" ] && dict=-dict=$HERE/dict/$h.dict
    log=$WORK/$h/log
    rc=0
    # shellcheck disable=SC2086
    (cd "$WORK/$h" && TMPDIR=$SCRATCH/$h nice -n "$NICE" "$bin" \
        -max_total_time="$SECS" -timeout=10 -rss_limit_mb=2048 -malloc_limit_mb=1024 \
        -print_final_stats=1 -artifact_prefix="$art/" $dict ${FG_FUZZ_ARGS:-} \
        "$corpus" </dev/null >"$log" 2>&1) || rc=$?
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    rate=$(sed -n 's/^stat::average_exec_per_sec: *//p' "$log" | tail -n 1)
    last=$(grep -E '^#[0-9]+' "$log" | tail -n 1 || true)
    cov=$(printf '%s\n' "$last" | sed -n 's/.* cov: \([0-9]*\).*/\1/p')
    ft=$(printf '%s\n' "$last" | sed -n 's/.* ft: \([0-9]*\).*/\1/p')
    corp=$(printf '%s\n' "$last" | sed -n 's/.* corp: \([0-9]*\).*/\1/p')
    if [ "$rc" -eq 0 ] && [ -z "$(ls -A "$art")" ]; then
        result=ok
    else
        result="FAIL (exit $rc)"
        fail=1
        mkdir -p "$ARTIFACTS/$h"
        cp "$art"/* "$ARTIFACTS/$h/" 2>/dev/null || true
        grep -vE '^#[0-9]+|^INFO:' "$log" | tail -n 80 >&2 || true
        echo "FAIL: $h: inputs kept in $ARTIFACTS/$h/; replay one with" \
             "$bin FILE" >&2
    fi
    printf '%-8s %12s %8s %6s %6s %7s %s\n' "$h" "${execs:-?}" "${rate:-?}" "${cov:-?}" \
        "${ft:-?}" "${corp:-?}" "$result" >>"$summary"
    echo "   $h: ${execs:-?} executions, ${rate:-?} exec/s, $result"
done
echo "== fuzz smoke run, ${SECS}s per harness"
cat "$summary"
[ "$fail" -eq 0 ] || { echo "== fuzz smoke run FAILED" >&2; exit 1; }
echo "== fuzz smoke run passed"
