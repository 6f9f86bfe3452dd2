#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The whole test suite: a plain build and an ASan+UBSan build, each built
# from scratch into its own folder and run with ctest. This is README
# command 2 and what .ci/run calls.
set -eu
cd "$(dirname "$0")/.."
JOBS=$(nproc 2>/dev/null || echo 2)

run() {
    dir=$1
    shift
    echo "== configure $dir ($*)"
    cmake -S . -B "$dir" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFG_WERROR=ON "$@" >/dev/null
    echo "== build $dir"
    cmake --build "$dir" -j "$JOBS"
    echo "== test $dir"
    (cd "$dir" && ctest --output-on-failure -j "$JOBS" -LE integration ${FG_CTEST_ARGS:-})
}

# The live-daemon integration tests (label integration) run in both builds,
# one at a time (they time restarts and outages).
integration() {
    echo "== integration tests $1"
    (cd "$1" && ctest --output-on-failure -L integration ${FG_CTEST_ARGS:-})
}

run build
integration build
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export FG_SANITIZED=1
run build-asan -DFG_SANITIZE=address,undefined
integration build-asan
# The libFuzzer harnesses, built with clang (ASan+UBSan), a short run each
# (FG_FUZZ_SECONDS, default 60; tests/fuzz/README.md for long runs).
echo "== fuzz smoke run"
CC=clang cmake -S . -B build-fuzz -DCMAKE_BUILD_TYPE=RelWithDebInfo -DFG_WERROR=ON \
    -DFG_FUZZ=ON -DFG_SANITIZE=address,undefined -DFG_BUILD_TESTS=OFF >/dev/null
cmake --build build-fuzz -j "$JOBS" --target fuzz_all
sh tests/fuzz/smoke.sh build-fuzz "${FG_FUZZ_SECONDS:-60}"
echo "== all tests passed (plain and sanitized, integration and fuzz smoke included)"
