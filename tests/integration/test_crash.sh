#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# kill -9 the daemon at random (seeded) points, at least 20 times, while it
# consumes a generated stream, restarting it each time; then let it finish.
# At-least-once: the set of alerts by jr_id must equal the replay's, no
# jr_id may arrive with two different contents (replay, source and
# detected_at aside), and the duplicates delivered are counted.
# The stream is produced in chunks, one before each start, so every run has
# work in hand when it is killed. FG_CRASH_SEED / FG_CRASH_KILLS vary it.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init crash
N=1500
KILLS=${FG_CRASH_KILLS:-22}
SEED=${FG_CRASH_SEED:-20240305}
it_log "seed $SEED, $KILLS kills"
gen_stream 21 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl" --set "$ROBUST_SET"
# The kill plan: per run, the lines of the stream produced before it starts,
# and the kill point: "early" (as soon as it serves metrics, before it owns
# any partition) or "K D" (once fundguard_events_total >= K, after D ms).
"$PYTHON3" - "$SEED" "$KILLS" "$N" >"$IT/plan" <<'PY'
import random, sys
seed, kills, n = map(int, sys.argv[1:])
rng = random.Random(seed)
avg = n // kills
prev = 0
for i in range(kills):
    c = n if i == kills - 1 else min(prev + rng.randint(avg // 2, avg * 3 // 2),
                                     n - (kills - 1 - i))   # each later run gets >= 1
    if i % 6 == 3:
        point = "early"
    else:   # K never above the chunk: the run surely has K events to judge
        point = "%d %d" % (rng.randint(1, min(60, c - prev)),
                           rng.choice([0, 0, 5, 20, 50, 120, 250]))
    print(prev, c, point)
    prev = c
PY
start_redis "$IT"
start_broker
run=0 produced=0
while read -r from to k d; do
    run=$((run + 1))
    sed -n "$((from + 1)),${to}p" "$IT/stream.jsonl" >"$IT/chunk.jsonl"
    produce "$IT/chunk.jsonl"
    produced=$to
    start_daemon --set kafka.batch_size=20 --set "$ROBUST_SET"
    if [ "$k" = early ]; then
        what="early"
    else
        wait_until 60 metric_ge fundguard_events_total "$k" ||
            it_fail "run $run: events_total $(metric fundguard_events_total) < $k after 60 s"
        [ "$d" -gt 0 ] && sleep "$(printf '0.%03d' "$d")"   # the kill point, not a sync
        what="events>=$k +${d}ms"
    fi
    daemon_gone && it_fail "run $run: the daemon died before it was killed"
    ev=$(metric fundguard_events_total)
    stop_daemon_kill
    it_log "run $run: produced $produced, killed at $what (events_total $ev)"
done <"$IT/plan"
[ "$run" -ge 20 ] || it_fail "only $run kills"
got=$(topic_count claims)
[ "$got" -eq $N ] || it_fail "claims topic holds $got, produced $N"
start_daemon --set kafka.batch_size=20 --set "$ROBUST_SET"
wait_drained 90
it_log "final run drained: events_total $(metric fundguard_events_total), duplicates $(metric fundguard_duplicates_total)"
compare_alerts "$IT/replay.jsonl"
dups=$(sed -n 's/.*duplicates delivered: \([0-9]*\).*/\1/p' "$IT/compare.txt")
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "final daemon exited $DAEMON_RC on SIGTERM"
it_pass "$run kills (seed $SEED); alert set equals the replay's; $dups duplicates delivered"
