#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A partition librdkafka never fetches: no message, no end, no error. That
# failed CI twice (end_to_end, poison under ASan): librdkafka 2.0 can lose
# a partition's fetch start when it is resumed right after its assignment,
# or lose a resume. The daemon no longer resumes partitions it did not
# pause, and its stall watch finds a partition silent while not caught up
# for kafka.stall_ms and assigns the partitions again, resumed.
# FUNDGUARD_FAULT_PAUSE_PARTITION makes the stall on purpose: it pauses one
# partition inside librdkafka, unbeknown to the daemon, at its first
# assignment. Every event must still be judged, and the alerts equal the
# replay's.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init partition_stall
N=300
P=5
gen_stream 13 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl"
start_redis "$IT"
start_broker
produce_checked "$IT/stream.jsonl" $N
FUNDGUARD_FAULT_PAUSE_PARTITION=$P
export FUNDGUARD_FAULT_PAUSE_PARTITION
start_daemon --set kafka.stall_ms=2000
unset FUNDGUARD_FAULT_PAUSE_PARTITION
wait_until 60 metric_ge fundguard_events_total $N ||
    it_fail "daemon judged $(metric fundguard_events_total) of $N events with partition $P stalled"
grep -q "fault injection: partition paused unnoted.*partition=$P" "$DAEMON_LOG" ||
    it_fail "partition $P was not paused (the test proves nothing)"
grep -q "partition stalled.*partition=$P " "$DAEMON_LOG" ||
    it_fail "the stall of partition $P was not reported"
metric_ge fundguard_partition_stalls_total 1 || it_fail "fundguard_partition_stalls_total is 0"
compare_alerts "$IT/replay.jsonl"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"
it_pass "partition $P stalled, found, assigned again; $N events judged"
