#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Redis state per 100k persons: a generated stream of PERSONS insured
# persons over DAYS days goes through the detectors into a real redis-server
# (`replay --state redis --keep-state`: the live key layout, in a replay
# namespace), then Redis memory, key count and TTLs are read.
# Usage: bench/state.sh [PERSONS] [LINES] [DAYS]   (defaults 100000 1000000 30)
set -eu
cd "$(dirname "$0")/.."
PERSONS=${1:-100000}
LINES=${2:-1000000}
DAYS=${3:-30}
BUILD=${BUILD:-build-bench}
. tests/scripts/lib.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fg-state-bench.XXXXXX")
trap 'stop_redis; rm -rf "$tmp"' EXIT

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DFG_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
python3 tools/fg_gen.py --seed 9 --persons "$PERSONS" --lines "$LINES" --days "$DAYS" \
    --out "$tmp/stream.jsonl" --truth "$tmp/truth.csv" --quiet
mkdir "$tmp/redis"
start_redis "$tmp/redis"
info() { redis-cli -p "$REDIS_PORT" info memory | awk -F: -v k="$1" '$1 == k { print $2 }' | tr -d '\r'; }
base=$(info used_memory)
base_ds=$(info used_memory_dataset)
"$BUILD/fundguard" replay -c config/fundguard.json --input "$tmp/stream.jsonl" \
    --output /dev/null --no-progress --state redis --run-id bench --keep-state \
    --set redis.port="$REDIS_PORT" 2>"$tmp/replay.log"
grep '^fundguard replay:' "$tmp/replay.log"
used=$(info used_memory)
ds=$(info used_memory_dataset)
keys=$(redis-cli -p "$REDIS_PORT" dbsize)
persons=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'fg:replay:bench:L:*' | wc -l)
events=$(wc -l <"$tmp/stream.jsonl")
# TTLs: every key has one, and none outlives the widest window it serves
redis-cli -p "$REDIS_PORT" --scan --pattern 'fg:*' | head -n 2000 >"$tmp/sample"
no_ttl=0 max_ttl=0
while read -r k; do
    t=$(redis-cli -p "$REDIS_PORT" ttl "$k")
    [ "$t" -gt 0 ] || no_ttl=$((no_ttl + 1))
    [ "$t" -le "$max_ttl" ] || max_ttl=$t
done <"$tmp/sample"
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "stream: $LINES fee lines, $events events over $DAYS days; $persons persons in state"
awk -v u="$used" -v b="$base" -v d="$ds" -v bd="$base_ds" -v p="$persons" -v k="$keys" \
    -v ev="$events" 'BEGIN {
    printf "redis: %d keys (%.2f per person); used_memory +%.1f MiB, dataset +%.1f MiB\n",
           k, k / p, (u - b) / 1048576, (d - bd) / 1048576
    printf "per 100k persons: used_memory %.1f MiB, dataset %.1f MiB; per event %.0f bytes\n",
           (u - b) / 1048576 * 100000 / p, (d - bd) / 1048576 * 100000 / p, (u - b) / ev }'
echo "ttl: $no_ttl of $(wc -l <"$tmp/sample") sampled keys without a TTL; longest TTL $((max_ttl / 86400)) days"
