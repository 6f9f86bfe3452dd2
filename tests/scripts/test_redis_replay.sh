#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Redis state backend gives exactly the embedded backend's alerts on
# the generated stream, keeps its keys in the replay namespace with the
# person as hash tag and a TTL on every key, and drops the namespace at
# the end unless --keep-state.
set -eu
: "${FG:?}" "${PYTHON3:=python3}"
. tests/scripts/lib.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fg-redis.XXXXXX")
trap 'stop_redis; rm -rf "$tmp"' EXIT
command -v redis-server >/dev/null || { echo "FAIL: redis-server is not installed"; exit 1; }
start_redis "$tmp"

"$PYTHON3" tools/fg_gen.py --seed 5 --settlements 1200 --days 10 --violation-rate 0.06 \
    --out "$tmp/stream.jsonl" --truth "$tmp/truth.csv" >/dev/null
replay() {
    "$FG" replay -c config/fundguard.json --input "$tmp/stream.jsonl" --canonical --no-progress \
        --dead-letter "$tmp/dlq" --set redis.port="$REDIS_PORT" "$@" 2>>"$tmp/stderr"
}
replay --output "$tmp/memory.jsonl"
replay --output "$tmp/redis.jsonl" --state redis --run-id t1
cmp "$tmp/memory.jsonl" "$tmp/redis.jsonl" || { echo "FAIL: redis and memory differ"; exit 1; }
[ "$(redis-cli -p "$REDIS_PORT" dbsize)" = 0 ] || { echo "FAIL: namespace not dropped"; exit 1; }

replay --output "$tmp/redis2.jsonl" --state redis --run-id t2 --keep-state
cmp "$tmp/memory.jsonl" "$tmp/redis2.jsonl" || { echo "FAIL: second redis replay differs"; exit 1; }
keys=$(redis-cli -p "$REDIS_PORT" --scan --pattern '*' | sort)
[ -n "$keys" ] || { echo "FAIL: --keep-state left no keys"; exit 1; }
echo "$keys" | grep -qv '^fg:replay:t2:' && { echo "FAIL: key outside the namespace"; exit 1; }
echo "$keys" | grep '^fg:replay:t2:[LEA]:' | grep -qv ':{[0-9]*}$' &&
    { echo "FAIL: person key without {psn_no} hash tag"; exit 1; }
for k in $(echo "$keys" | head -50); do
    ttl=$(redis-cli -p "$REDIS_PORT" ttl "$k")
    [ "$ttl" -gt 0 ] || { echo "FAIL: $k has no TTL ($ttl)"; exit 1; }
done
n=$(wc -l <"$tmp/memory.jsonl")
echo "ok: redis replay = memory replay ($n alerts), namespaced keys with TTLs, dropped after"
