#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Scale-out: two daemons in one consumer group on one topic. The second
# joins while the first consumes (a rebalance splits the partitions), more
# events arrive and both judge, then the first is stopped with SIGTERM (a
# rebalance hands everything to the second), and the rest arrives. The
# alert set must be the replay's, whichever daemon judged an event: state,
# deferred judgements and the partitions' progress are shared in Redis.
# integration.two_daemons_resident runs it with state.resident=true, where
# each handover is a new epoch of the partitions' fence.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init two_daemons
N=1500 PART1=500 PART2=1000
gen_stream 53 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl" --set "$ROBUST_SET"
start_redis "$IT"
start_broker
start_daemon --set kafka.batch_size=50 --set "$ROBUST_SET"
A_PID=$DAEMON_PID A_LOG=$DAEMON_LOG
IT_EXTRA_PIDS=$A_PID
produce_lines 0 $PART1
wait_until 60 metric_ge fundguard_events_total 100 || it_fail "the first daemon judged nothing"

start_daemon --set kafka.batch_size=50 --set "$ROBUST_SET"
wait_until 60 grep -q "partitions assigned" "$DAEMON_LOG" ||
    it_fail "the second daemon was given no partition"
produce_lines $PART1 $PART2
wait_until 60 metric_ge fundguard_events_total 50 ||
    it_fail "the second daemon judged nothing"
assigned=$(grep -c "partitions assigned" "$A_LOG")
[ "$assigned" -ge 2 ] || it_fail "the first daemon saw no rebalance"
it_log "both daemons judged events; stopping the first"

B_PID=$DAEMON_PID
DAEMON_PID=$A_PID
stop_daemon_term 20
[ "$DAEMON_RC" = 0 ] || it_fail "the first daemon exited $DAEMON_RC on SIGTERM"
IT_EXTRA_PIDS=
DAEMON_PID=$B_PID
produce_lines $PART2 $N
wait_drained 120
compare_alerts "$IT/replay.jsonl"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"
it_pass "two daemons, two rebalances; alerts equal the replay's"
