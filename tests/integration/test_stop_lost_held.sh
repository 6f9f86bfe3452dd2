#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Stopping with held batches (state.commit_ms) whose commit is lost, when
# the first of them cannot be judged again: none of the later ones may be
# committed, or their offsets would be stored past the first one's events,
# which the next daemon would then never receive. The fault hook
# FUNDGUARD_FAULT_LOSE_HELD_AT_STOP (read only from the environment) makes
# exactly that happen at SIGTERM. The next daemon must receive and judge
# every event, and the alerts must be the replay's.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init stop_lost_held
N=400
gen_stream 71 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl" --set "$ROBUST_SET"
start_redis "$IT"
start_broker
# Held for up to a minute: nothing is committed before the stop.
FUNDGUARD_FAULT_LOSE_HELD_AT_STOP=1
export FUNDGUARD_FAULT_LOSE_HELD_AT_STOP
start_daemon --set kafka.batch_size=50 --set state.resident=true --set state.commit_ms=60000 \
    --set "$ROBUST_SET"
unset FUNDGUARD_FAULT_LOSE_HELD_AT_STOP
FIRST_LOG=$DAEMON_LOG
produce_lines 0 $N
wait_until 60 metric_ge fundguard_events_total $N || it_fail "the events were not all judged"
stop_daemon_term 30
[ "$DAEMON_RC" = 0 ] || it_fail "the first daemon exited $DAEMON_RC on SIGTERM"
grep -q "fault injection: the batches held are lost at stop" "$FIRST_LOG" ||
    it_fail "the fault was not injected"
held=$(sed -n 's/.*commit did not land.* batches=\([0-9]*\) events=\([0-9]*\).*/\1 \2/p' \
    "$FIRST_LOG" | head -n 1)
set -- $held
[ "${1:-0}" -ge 2 ] && [ "${2:-0}" = "$N" ] ||
    it_fail "expected every event held in at least 2 batches at the stop, got: ${held:-none}"
it_log "stopped with $1 batches held ($2 events) lost, the first not judged again"

start_daemon --set kafka.batch_size=50 --set "$ROBUST_SET"
wait_drained 90
got=$(metric fundguard_events_total)
[ "$got" = "$N" ] ||
    it_fail "the next daemon judged $got events, not $N: offsets were stored past the unfinished batch"
compare_alerts "$IT/replay.jsonl"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"
it_pass "$1 held batches lost at stop, the first unrun: nothing stored past it; alerts equal the replay's"
