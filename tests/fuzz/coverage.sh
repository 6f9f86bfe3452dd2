#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Source coverage of the code under fuzz reached by a corpus: builds the
# plain harness drivers with clang's source-based coverage into BUILD_DIR,
# runs each harness over CORPUS_ROOT/<harness>/corpus (as smoke.sh with
# FG_FUZZ_WORK=CORPUS_ROOT leaves it), its regression inputs and its
# seeds, and prints llvm-cov's per-file report for the files it targets.
#
# Usage: tests/fuzz/coverage.sh BUILD_DIR CORPUS_ROOT [HARNESS...]
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BUILD_DIR CORPUS_ROOT [HARNESS...]" >&2; exit 2; }
BUILD=$1
ROOT=$(cd "$2" && pwd)
shift 2
HARNESSES=${*:-event config pack alert}
HERE=$(cd "$(dirname "$0")" && pwd)
SRC=$(cd "$HERE/../.." && pwd)
PY=${PYTHON3:-python3}
PROFDATA=$(command -v llvm-profdata-14 || command -v llvm-profdata)
COV=$(command -v llvm-cov-14 || command -v llvm-cov)

# The drivers come from tests/fuzz/regress.cmake, which tests/CMakeLists.txt
# includes in a normal build.
CC=clang cmake -S "$SRC" -B "$BUILD" -DCMAKE_BUILD_TYPE=Debug -DFG_WERROR=ON \
    -DCMAKE_C_FLAGS="-fprofile-instr-generate -fcoverage-mapping" \
    -DCMAKE_EXE_LINKER_FLAGS="-fprofile-instr-generate" >/dev/null
targets=
for h in $HARNESSES; do targets="$targets fuzz_run_$h"; done
# shellcheck disable=SC2086
cmake --build "$BUILD" -j2 --target $targets >/dev/null

WORK=$(mktemp -d "${TMPDIR:-/tmp}/fgfuzz-cov.XXXXXX")
trap 'rm -rf "$WORK"' EXIT INT TERM
for h in $HARNESSES; do
    bin=$BUILD/tests/fuzz_run_$h
    "$PY" "$HERE/seeds.py" "$h" "$WORK/seeds-$h" 2>/dev/null
    set -- "$WORK/seeds-$h"
    [ -d "$ROOT/$h/corpus" ] && set -- "$@" "$ROOT/$h/corpus"
    [ -d "$HERE/regress/$h" ] && set -- "$@" "$HERE/regress/$h"
    mkdir -p "$WORK/tmp"
    TMPDIR=$WORK/tmp LLVM_PROFILE_FILE="$WORK/$h.profraw" "$bin" "$@" 2>"$WORK/$h.log" ||
        { tail "$WORK/$h.log" >&2; exit 1; }
    "$PROFDATA" merge -sparse "$WORK/$h.profraw" -o "$WORK/$h.profdata"
    case $h in
    event) files="src/fg_event.c src/fg_fixed.c src/fg_time.c" ;;
    config) files="src/fg_config.c src/fg_detector.c" ;;
    pack) files="src/fg_pack.c src/fg_csv.c" ;;
    alert) files="src/fg_alert.c src/fg_alert_read.c src/fg_buf.c" ;;
    *) files= ;;
    esac
    echo "== $h: $(grep -c '^Running: ' "$WORK/$h.log") inputs"
    # shellcheck disable=SC2086
    (cd "$SRC" && "$COV" report "$bin" -instr-profile="$WORK/$h.profdata" $files)
done
