#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# SIGTERM mid-stream: exit 0 within 15 s, having finished the batch in hand
# and committed its offsets, so a restart redoes at most one batch
# (events_total of both runs <= produced + kafka.batch_size). Then SIGTERM
# while Redis is down and the batch in hand cannot finish: still exit 0 in
# time, and nothing is lost. The final alerts equal the replay's.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init shutdown
N=1500 BATCH=50 LIMIT=15
gen_stream 61 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl" --set "$ROBUST_SET"
start_redis "$IT"
start_broker
produce_checked "$IT/stream.jsonl" $N
run_daemon() { start_daemon --set kafka.batch_size=$BATCH --set "$ROBUST_SET"; }
# the events_total of a run that has exited: its last stats line
final_events() { sed -n 's/.*msg=stats events=\([0-9]*\) .*/\1/p' "$1" | tail -n 1; }

run_daemon
wait_until 60 metric_ge fundguard_events_total 200 || it_fail "no progress"
t0=$(date +%s)
stop_daemon_term $LIMIT
dt=$(($(date +%s) - t0))
[ "$DAEMON_RC" = 0 ] || it_fail "SIGTERM mid-stream: exit status $DAEMON_RC after ${dt}s (124 = still running after ${LIMIT}s)"
ev1=$(final_events "$DAEMON_LOG")
it_log "run 1: SIGTERM after $ev1 events: exit 0 in ${dt}s"
[ -n "$ev1" ] && [ "$ev1" -lt $N ] || it_fail "run 1 judged ${ev1:-?} events: the SIGTERM did not land mid-stream"

# Redis down: the batch in hand cannot be committed; SIGTERM must not hang.
stop_redis
run_daemon
wait_until 30 grep -q 'redis connect failed\|redis connection lost' "$DAEMON_LOG" || it_fail "run 2 never tried redis"
# (the log, not /metrics: the metrics are not served while a batch retries)
wait_until 30 grep -q 'consumption paused' "$DAEMON_LOG" || it_fail "run 2 never retried a batch"
t0=$(date +%s)
stop_daemon_term $LIMIT
dt=$(($(date +%s) - t0))
[ "$DAEMON_RC" = 0 ] || it_fail "SIGTERM during a redis outage: exit status $DAEMON_RC after ${dt}s"
it_log "run 2 (redis down): exit 0 in ${dt}s"
restart_redis

run_daemon
wait_drained 90
ev3=$(metric fundguard_events_total)
it_log "run 3: drained after $ev3 events (run 1: $ev1; produced $N, batch $BATCH)"
[ $((ev1 + ev3)) -ge $N ] || it_fail "runs 1 and 3 judged $((ev1 + ev3)) events, fewer than $N"
[ $((ev1 + ev3)) -le $((N + BATCH)) ] ||
    it_fail "runs 1 and 3 judged $((ev1 + ev3)) events: more than one batch ($BATCH) was redone"
compare_alerts "$IT/replay.jsonl"
stop_daemon_term $LIMIT
[ "$DAEMON_RC" = 0 ] || it_fail "run 3: exit status $DAEMON_RC on SIGTERM"
it_pass "clean stops in time; redone $((ev1 + ev3 - N)) events (<= $BATCH); alerts equal the replay's"
