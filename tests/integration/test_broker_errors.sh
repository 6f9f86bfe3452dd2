#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Kafka errors injected through the devbroker's stdin (a FIFO held open on
# fd 3): Produce (retriable NOT_LEADER and REQUEST_TIMED_OUT, and the
# permanent MESSAGE_TOO_LARGE that fails deliveries and forces a batch
# retry), Fetch (NOT_LEADER, UNKNOWN_TOPIC_OR_PART) and OffsetCommit
# (NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS). Nothing may be lost: the
# final alerts equal the replay's, every event is consumed.
# The first wave is pushed before the daemon starts, when it is the only
# client that fetches, produces or commits, so it surely meets every error;
# the second comes mid-stream.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init broker_errors
N=1400 HALF=700
gen_stream 41 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl" --set "$ROBUST_SET"
start_redis "$IT"
start_broker
produce_lines 0 $HALF
# wave 1
broker_cmd "error 1 5 6"      # Fetch: NOT_LEADER_OR_FOLLOWER
broker_cmd "error 1 2 3"      # Fetch: UNKNOWN_TOPIC_OR_PART
broker_cmd "error 0 4 6"      # Produce: NOT_LEADER_OR_FOLLOWER
broker_cmd "error 0 2 10"     # Produce: MESSAGE_TOO_LARGE (permanent)
broker_cmd "error 0 2 7"      # Produce: REQUEST_TIMED_OUT
broker_cmd "error 8 3 16"     # OffsetCommit: NOT_COORDINATOR
broker_cmd "error 8 2 14"     # OffsetCommit: COORDINATOR_LOAD_IN_PROGRESS
wait_until 10 sh -c "[ \$(grep -c pushed '$IT/broker.err') -ge 7 ]" || it_fail "devbroker took no commands"
start_daemon --set kafka.batch_size=50 --set "$ROBUST_SET"
wait_until 90 metric_ge fundguard_events_total $HALF ||
    it_fail "first half not consumed (events_total $(metric fundguard_events_total))"
# wave 2: the second half goes in while more errors are pending
broker_cmd "error 1 4 6"
broker_cmd "error 8 3 16"
broker_cmd "error 0 3 6"      # retriable: the kcat producer may meet some of these
produce_lines $HALF $N
got=$(topic_count claims)
[ "$got" -eq $N ] || it_fail "claims topic holds $got, produced $N"
wait_drained 90
retries=$(metric fundguard_batch_retries_total)
it_log "drained: events_total $(metric fundguard_events_total), batch_retries_total $retries"
grep -q 'delivery failed' "$DAEMON_LOG" || it_fail "no delivery failure seen: the Produce errors missed the daemon"
[ "$retries" -gt 0 ] || it_fail "failed deliveries did not make the batch retry"
# A retried batch is counted once (regression: events_total counted attempts).
ev=$(metric fundguard_events_total)
[ "$ev" -eq $N ] || it_fail "events_total $ev after $retries batch retries, expected exactly $N"
compare_alerts "$IT/replay.jsonl"
dlq=$(topic_count claims.dlq)
[ "$dlq" -eq 0 ] || it_fail "$dlq dead letters for a clean stream"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"
it_pass "$(grep -c pushed "$IT/broker.err") error injections, $retries batch retries; alerts equal the replay's"
