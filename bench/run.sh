#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Replay throughput benchmark. Generates a stream of at least LINES fee
# lines (default 1,000,000) with the project's generator, then, in one
# run on the same file:
#   1. a single-threaded Jansson parse-only pass (bench/parse_only),
#   2. `fundguard replay --canonical` with every detector on,
# and prints both rates and their ratio (replay / parse-only).
# Usage: bench/run.sh [LINES] [BUILD_DIR]
set -eu
cd "$(dirname "$0")/.."
LINES=${1:-1000000}
BUILD=${2:-build-bench}
OUT=${BENCH_DIR:-/tmp/fundguard-bench}
mkdir -p "$OUT"

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DFG_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null

stream="$OUT/stream-$LINES.jsonl"
if [ ! -s "$stream" ]; then
    echo "generating $LINES fee lines into $stream"
    python3 tools/fg_gen.py --seed 7 --lines "$LINES" --out "$stream" --truth "$OUT/truth-$LINES.csv"
fi

echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
"$BUILD/bench/parse_only" "$stream" | tee "$OUT/parse_only.txt"
"$BUILD/fundguard" replay -c config/fundguard.json --input "$stream" --canonical \
    --no-progress --output "$OUT/alerts.jsonl" --dead-letter "$OUT/dlq.jsonl" \
    2>"$OUT/replay.txt"
head -1 "$OUT/replay.txt"

p=$(sed -n 's/.*lines_per_sec=\([0-9]*\).*/\1/p' "$OUT/parse_only.txt")
r=$(sed -n '1s/.*lines_per_sec=\([0-9]*\).*/\1/p' "$OUT/replay.txt")
awk -v r="$r" -v p="$p" 'BEGIN { printf "replay %d lines/s, parse-only %d lines/s, ratio %.3f\n", r, p, r / p }'
