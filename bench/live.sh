#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Live benchmark on one machine: the dev broker (librdkafka mock cluster)
# and a real redis-server on loopback, the daemon with every detector on.
#   1. as fast as possible: sustained fee lines/s, Redis round trips per
#      event, CPU seconds per 10k lines;
#   2. at a fixed rate (default 10k lines/s): p50/p99/p999 event-to-alert
#      latency (alert detected_at minus the claim message's timestamp);
#   3. memory of the daemon (RSS) and of Redis per 100k persons in state.
# Usage: bench/live.sh [LINES] [RATE]   (defaults 300000 and 10000)
# Every phase ends by comparing the alerts topic with a replay of the same
# stream (`fundguard compare`): the alert set must not depend on the rate
# or the number of instances.
# Environment: INSTANCES (daemons in one consumer group, default 1),
# PHASES (default "max rate"), PARTITIONS (claims topic,
# default 64; the mock keeps at most 5 MiB per partition), FG_BENCH_SETS (more --set
# options for the daemon, e.g. "kafka.batch_ms=20 kafka.batch_size=500"),
# FG_BENCH_PERF=1 (profile the first daemon with perf while it consumes;
# FG_BENCH_PERF=dwarf for call graphs through code without frame pointers),
# FG_BENCH_VIOLATION_RATE (the generator's, default 0.02; more alerts make
# the latency percentiles firmer), FG_BENCH_DAYS (event days the stream
# spans, default 20: PRICE-OUTLIER needs baseline days; with fewer, fewer
# days complete during the run, as live, where event time runs with the
# clock).
set -eu
cd "$(dirname "$0")/.."
LINES=${1:-300000}
RATE=${2:-10000}
BUILD=${BUILD:-build-bench}
. tests/scripts/lib.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fg-live-bench.XXXXXX")
cleanup() {
    for pid in ${FGPIDS:-}; do kill "$pid" 2>/dev/null; done
    [ -n "${BPID:-}" ] && kill "$BPID" 2>/dev/null
    stop_redis
    if [ -n "${FG_KEEP:-}" ]; then echo "(kept $tmp)"; else rm -rf "$tmp"; fi
}
trap cleanup EXIT

cmake -S . -B "$BUILD" -DCMAKE_BUILD_TYPE=Release -DFG_BUILD_TESTS=OFF >/dev/null
cmake --build "$BUILD" -j "$(nproc)" >/dev/null
python3 tools/fg_gen.py --seed 3 --lines "$LINES" --days "${FG_BENCH_DAYS:-20}" --out "$tmp/stream.jsonl" \
    --truth "$tmp/truth.csv" --violation-rate "${FG_BENCH_VIOLATION_RATE:-0.02}" --quiet
persons=$(python3 -c 'import json,sys
print(len({json.loads(l)["psn_no"] for l in open(sys.argv[1])}))' "$tmp/stream.jsonl")
echo "machine: $(nproc) cores, $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
echo "stream: $LINES fee lines, $(wc -l <"$tmp/stream.jsonl") events, $persons persons"

# metric NAME: its sum over the running daemons.
metric() {
    for port in $MPORTS; do curl -s "127.0.0.1:$port/metrics"; done |
        awk -v m="$1" '$1 == m { s += $2 } END { printf "%.0f\n", s }'
}
cpu_ticks() { for pid in ${1:-$FGPIDS}; do awk '{ print $14 + $15 }' "/proc/$pid/stat"; done | awk '{ s += $1 } END { print s }'; }
# The daemons' wall time by stage (fundguard_batch_stage_seconds_total).
stages() {
    for port in $MPORTS; do curl -s "127.0.0.1:$port/metrics"; done |
        awk -F'[{}" ]+' '/^fundguard_batch_stage_seconds_total/ { s[$3] += $NF }
                        END { for (k in s) print k, s[k] }' | sort
}
deferred_left() {
    n=0
    for k in $(redis-cli -p "$REDIS_PORT" --scan --pattern 'fg:live:Q:*'); do
        n=$((n + $(redis-cli -p "$REDIS_PORT" zcard "$k")))
    done
    [ "$n" -eq 0 ]
}

# The reference: the same stream replayed (canonical alerts).
"$BUILD/fundguard" replay -c config/fundguard.json --input "$tmp/stream.jsonl" --canonical \
    --no-progress --output "$tmp/replay.jsonl" --dead-letter "$tmp/replay.dlq" 2>"$tmp/replay.log"

run_phase() {   # run_phase NAME RATE
    mkdir -p "$tmp/redis.$1"   # a fresh Redis per phase (its AOF stays out)
    start_redis "$tmp/redis.$1"
    redis_base=$(redis-cli -p "$REDIS_PORT" info memory | awk -F: '/^used_memory:/ { print $2 }' | tr -d '\r')
    "$BUILD/fundguard-devbroker" --partitions "${PARTITIONS:-64}" >"$tmp/broker.out" 2>"$tmp/broker.err" &
    BPID=$!
    wait_until 10 test -s "$tmp/broker.out"
    BOOT=$(head -1 "$tmp/broker.out")
    FGPIDS= MPORTS=
    for i in $(seq 1 "${INSTANCES:-1}"); do
        port=$(free_port)
        "$BUILD/fundguard" run -c config/fundguard.json --set kafka.bootstrap_servers="\"$BOOT\"" \
            --set redis.port="$REDIS_PORT" --set metrics.listen="\"127.0.0.1:$port\"" \
            --set kafka.batch_size=2000 $sets 2>"$tmp/daemon.$1.$i.log" &
        FGPIDS="$FGPIDS $!" MPORTS="$MPORTS $port"
        wait_until 20 curl -sf "127.0.0.1:$port/metrics"
    done
    # Time from the first produce, so the group join (about 3 s on the
    # mock) is not counted.
    for i in $(seq 1 "${INSTANCES:-1}"); do
        wait_until 60 grep -q 'partitions assigned' "$tmp/daemon.$1.$i.log" ||
            { echo "daemon $i got no partitions"; exit 1; }
    done
    events=$(wc -l <"$tmp/stream.jsonl")
    PERFPID=
    if [ -n "${FG_BENCH_PERF:-}" ]; then
        # where the first daemon's time goes (perf record, call graphs)
        # shellcheck disable=SC2086
        first=$(echo $FGPIDS | cut -d' ' -f1)
        cg=fp
        [ "$FG_BENCH_PERF" = dwarf ] && cg=dwarf,16384
        perf record -q -F 499 --call-graph "$cg" -o "$tmp/perf.$1.data" -p "$first" 2>/dev/null &
        PERFPID=$!
    fi
    stages >"$tmp/stages0.$1.txt"
    cpu0=$(cpu_ticks)
    bcpu0=$(cpu_ticks "$BPID") rcpu0=$(cpu_ticks "$REDIS_PID")
    t0=$(date +%s.%N)
    "$BUILD/bench/produce" "$BOOT" claims "$tmp/stream.jsonl" "$2" >"$tmp/produce.$1.txt" &
    PRODPID=$!
    # Consumed so far, sampled with the time and the Redis round trips
    # (while the producer runs too): the steady rate and round trips per
    # event are read off the middle of the run (10% to 90% of the events),
    # without the consumer's first fetches (the start's deferred judgements
    # among them) and the last batch's tail.
    consumed() {
        n=$(metric fundguard_events_total)
        echo "$(date +%s.%N) $n $(metric fundguard_redis_round_trips_total)" >>"$tmp/progress.$1.txt"
        [ "$n" = "$events" ]
    }
    : >"$tmp/progress.$1.txt"
    wait_until "${FG_BENCH_WAIT:-600}" consumed "$1" ||
        { echo "daemons consumed $(metric fundguard_events_total) of $events events"
          if grep -q 'Offset out of range' "$tmp"/daemon."$1".*.log; then
              echo "the dev broker dropped messages (at most 5 MiB per partition): raise PARTITIONS"
          fi
          exit 1; }
    t1=$(date +%s.%N)
    wait "$PRODPID" || { echo "the producer failed"; exit 1; }
    if [ -n "$PERFPID" ]; then
        kill -INT "$PERFPID" 2>/dev/null || true
        wait "$PERFPID" || true
        echo "$1: daemon profile (self time by symbol, top entries):"
        perf report -i "$tmp/perf.$1.data" --no-children --sort dso,symbol --percent-limit 1.5 \
            --stdio 2>/dev/null | grep -E '^ +[0-9.]+%' | head -25
    fi
    dups=$(metric fundguard_duplicates_total)
    [ "$dups" = 0 ] || { echo "invalid run: $dups events were already in state"; exit 1; }
    cpu1=$(cpu_ticks)
    stages >"$tmp/stages1.$1.txt"
    bcpu1=$(cpu_ticks "$BPID") rcpu1=$(cpu_ticks "$REDIS_PID")
    rss=$(for pid in $FGPIDS; do awk '/^VmRSS/ { print $2 }' "/proc/$pid/status"; done | sort -n | tail -1)
    rt=$(metric fundguard_redis_round_trips_total)
    batches=$(metric fundguard_batch_seconds_count)
    deferred=$(metric fundguard_deferred_total)
    echo "$1: $batches batches ($((events / batches)) events each on average), $deferred outlier judgements deferred"
    redis_used=$(redis-cli -p "$REDIS_PORT" info memory | awk -F: '/^used_memory:/ { print $2 }' | tr -d '\r')
    redis_keys=$(redis-cli -p "$REDIS_PORT" dbsize)
    in_state=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'fg:live:L:*' | wc -l)
    tick=$(getconf CLK_TCK)
    cat "$tmp/produce.$1.txt"
    awk -v n="$LINES" -v ev="$events" -v t0="$t0" -v t1="$t1" -v c0="$cpu0" -v c1="$cpu1" \
        -v tick="$tick" -v rt="$rt" -v rss="$rss" -v ru="$redis_used" -v rb="$redis_base" \
        -v p="$in_state" -v keys="$redis_keys" -v name="$1" \
        -v bc="$((bcpu1 - bcpu0))" -v rc="$((rcpu1 - rcpu0))" \
        -v s0="$tmp/stages0.$1.txt" -v s1="$tmp/stages1.$1.txt" \
        -v prog="$tmp/progress.$1.txt" 'BEGIN {
        printf "%s: %d lines in %.2f s = %.0f lines/s; redis round trips/event %.4f; " \
               "daemon CPU %.2f s per 10k lines\n", name, n, t1 - t0, n / (t1 - t0), rt / ev,
               (c1 - c0) / tick / (n / 10000)
        while ((getline l < prog) > 0) { split(l, a, " ")
            if (!lo && a[2] >= 0.1 * ev) { lo = 1; tl = a[1]; nl = a[2]; rl = a[3] }
            if (a[2] >= 0.9 * ev) { th = a[1]; nh = a[2]; rh = a[3]; break } }
        if (th > tl)
            printf "%s: steady rate (from %d to %d events consumed, %.2f s): %.0f lines/s, " \
                   "redis round trips/event %.4f\n", name, nl, nh, th - tl,
                   (nh - nl) * n / ev / (th - tl), (rh - rl) / (nh - nl)
        printf "%s: CPU seconds over the run: daemon %.2f, broker %.2f, redis-server %.2f " \
               "(of %.2f on 2 cores)\n", name, (c1 - c0) / tick, bc / tick, rc / tick,
               2 * (t1 - t0)
        printf "%s: daemon wall seconds by stage over the run:", name
        while ((getline l < s1) > 0) { split(l, a, " "); getline m < s0; split(m, b, " ")
            printf " %s %.2f", a[1], a[2] - b[2] }
        printf "\n"
        printf "%s: state: %d persons, %d keys; redis used_memory grew %.1f MiB = %.1f MiB " \
               "per 100k persons; daemon RSS %.1f MiB (not per person: the daemon holds " \
               "only the batch in hand)\n", name, p, keys, (ru - rb) / 1048576,
               (ru - rb) / 1048576 * 100000 / p, rss / 1024 }'
    kcat -C -b "$BOOT" -t claims -e -q -f '%p %o %T\n' >"$tmp/claims.$1.ts"
    # The alert set must be the replay's, whatever the instances and the
    # rate: wait for deferred judgements, then compare.
    wait_until 120 deferred_left || echo "$1: deferred judgements still pending after 120 s"
    for port in $MPORTS; do curl -s "127.0.0.1:$port/metrics"; done >"$tmp/metrics.$1.txt"
    kcat -C -b "$BOOT" -t alerts -e -q >"$tmp/alerts.$1.jsonl"
    if "$BUILD/fundguard" compare "$tmp/alerts.$1.jsonl" "$tmp/replay.jsonl" >"$tmp/compare.$1.txt"; then
        echo "$1: alert set identical to the replay's ($(wc -l <"$tmp/replay.jsonl") alerts)"
    else
        echo "$1: ALERT SET DIFFERS from the replay's:"; grep -m1 'Result' "$tmp/compare.$1.txt"
    fi
    for pid in $FGPIDS; do kill "$pid"; wait "$pid" || true; done
    FGPIDS=
    kill "$BPID"; wait "$BPID" 2>/dev/null || true; BPID=
    redis-cli -p "$REDIS_PORT" info commandstats >"$tmp/redis-commands.$1.txt"
    redis-cli -p "$REDIS_PORT" info cpu >>"$tmp/redis-commands.$1.txt"
    stop_redis
}

sets=
for kv in ${FG_BENCH_SETS:-}; do sets="$sets --set $kv"; done
for phase in ${PHASES:-max rate}; do
    case $phase in
    max) run_phase max 0 ;;
    rate) run_phase rate "$RATE" ;;
    esac
done
case " ${PHASES:-max rate} " in *" rate "*) ;; *) exit 0 ;; esac
python3 - "$tmp/claims.rate.ts" "$tmp/alerts.rate.jsonl" "$RATE" <<'PY'
import datetime, json, sys
ts = {}
for l in open(sys.argv[1]):
    p, o, t = l.split()
    ts[(int(p), int(o))] = int(t)
lat = {"immediate": [], "PRICE-OUTLIER": [], "steady": []}
t0 = min(ts.values())
for l in open(sys.argv[2]):
    a = json.loads(l)
    src = a["source"]
    at = datetime.datetime.fromisoformat(a["detected_at"]).timestamp() * 1000
    t = ts.get((src["partition"], src["offset"]))
    if t is not None:
        kind = "PRICE-OUTLIER" if a["rule_id"] == "PRICE-OUTLIER" else "immediate"
        lat[kind].append(at - t)
        # The first fetches after the producer starts (the consumer's
        # fetch sessions to the idle partitions) take up to a second on
        # the mock: steady state is from 2 s on.
        if kind == "immediate" and t - t0 >= 2000:
            lat["steady"].append(at - t)
# PRICE-OUTLIER waits for complete days (every partition a lateness past
# the baseline). The bench replays 20 days in seconds, so partitions are
# hours of event time apart and most of its judgements wait; with live
# traffic (event time = now) they are judged at once.
for name, v in lat.items():
    if not v:
        continue
    v.sort()
    q = lambda f: v[min(len(v) - 1, int(f * len(v)))]
    print("rate %s lines/s: event-to-alert latency over %d %s alerts: p50 %.1f ms, "
          "p99 %.1f ms, p999 %.1f ms" % (sys.argv[3], len(v),
          {"immediate": "other rules'", "steady": "other rules' (after the first 2 s)"}.get(name, name),
          q(0.5), q(0.99), q(0.999)))
PY
