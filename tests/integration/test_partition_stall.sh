#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A partition librdkafka never fetches: no message, no end, no error. That
# failed CI twice (end_to_end, poison under ASan): librdkafka 2.0 can lose
# a partition's fetch start when it is resumed right after its assignment,
# or lose a resume. The daemon no longer resumes partitions it did not
# pause, and its stall watch finds a partition silent while not caught up
# for kafka.stall_ms and assigns the partitions again, resumed.
# FUNDGUARD_FAULT_PAUSE_PARTITION makes the stall on purpose: it pauses one
# partition inside librdkafka, unbeknown to the daemon.
#  1. At the first assignment, with the first half of the stream waiting:
#     the partition was never fetched, so its high watermark is unknown.
#  2. A new daemon, once the partition has reached its end (@end); then
#     the second half is produced. librdkafka's high watermark of the
#     partition is that of its last fetch, so it looks caught up: the
#     watch must ask the broker.
# Every event must be judged, and the alerts equal the replay's.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init partition_stall
N=300
H=150
P=5
gen_stream 13 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl"
head -n $H "$IT/stream.jsonl" >"$IT/first.jsonl"
tail -n +$((H + 1)) "$IT/stream.jsonl" >"$IT/second.jsonl"
start_redis "$IT"
start_broker

# stalled: the log shows partition $P paused by the fault hook and then
# found stalled; $1 names the phase.
stalled() {
    grep -q "fault injection: partition paused unnoted.*partition=$P" "$DAEMON_LOG" ||
        it_fail "$1: partition $P was not paused (the test proves nothing)"
    grep -q "partition stalled.*partition=$P " "$DAEMON_LOG" ||
        it_fail "$1: the stall of partition $P was not reported"
    metric_ge fundguard_partition_stalls_total 1 || it_fail "$1: fundguard_partition_stalls_total is 0"
}

produce_checked "$IT/first.jsonl" $H
FUNDGUARD_FAULT_PAUSE_PARTITION=$P
export FUNDGUARD_FAULT_PAUSE_PARTITION
start_daemon --set kafka.stall_ms=2000
wait_until 60 metric_ge fundguard_events_total $H ||
    it_fail "daemon judged $(metric fundguard_events_total) of $H events with partition $P stalled at assignment"
stalled "at assignment"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"

FUNDGUARD_FAULT_PAUSE_PARTITION=$P@end
start_daemon --set kafka.stall_ms=2000
unset FUNDGUARD_FAULT_PAUSE_PARTITION
wait_until 30 grep -q "fault injection" "$DAEMON_LOG" ||
    it_fail "partition $P did not reach its end"
produce "$IT/second.jsonl"
[ "$(topic_count claims)" -eq $N ] || it_fail "claims topic holds $(topic_count claims) messages, produced $N"
wait_until 60 metric_ge fundguard_events_total $((N - H)) ||
    it_fail "daemon judged $(metric fundguard_events_total) of $((N - H)) events with partition $P stalled at its end"
stalled "at its end"
compare_alerts "$IT/replay.jsonl"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"
it_pass "partition $P stalled at assignment and at its end, found, assigned again; $N events judged"
