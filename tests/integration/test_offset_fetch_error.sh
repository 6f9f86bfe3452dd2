#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A committed-offset fetch that fails with NOT_COORDINATOR right after the
# partitions are assigned. librdkafka 2.0.2 does not retry it and never
# starts fetching: the daemon used to sit assigned and idle forever (found
# by the fault campaign, seed 11). It now assigns the partitions again and
# consumes everything; its alerts equal the replay's.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init offset_fetch_error
N=300
gen_stream 5 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl"
start_redis "$IT"
start_broker
produce_checked "$IT/stream.jsonl" $N
# OffsetFetch (API key 9) fails once with NOT_COORDINATOR (16).
broker_cmd "error 9 1 16"
wait_until 10 grep -q pushed "$IT/broker.err" || it_fail "the devbroker did not take the error"
start_daemon --set kafka.batch_size=50
wait_until 60 metric_ge fundguard_events_total $N ||
    it_fail "daemon judged $(metric fundguard_events_total) of $N events after the OffsetFetch error"
grep -q "assigning the partitions again" "$DAEMON_LOG" ||
    it_fail "the OffsetFetch error did not happen (the test proves nothing)"
compare_alerts "$IT/replay.jsonl"
stop_daemon_term 15
it_pass "OffsetFetch NOT_COORDINATOR: partitions assigned again, $N events judged"
