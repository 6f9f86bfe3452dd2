#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# A partition whose queue outgrows two batches is paused until it has
# shrunk (hold_partitions); librdkafka drops what it had prefetched for it
# and fetches again on resume, and reports the end of a partition only
# once per offset. With kafka.batch_size=2 nearly every fetch pauses its
# partition: every event must still be judged once, every partition seen
# idle once caught up (or PRICE-OUTLIER judgements waiting for complete
# days stay deferred), and the alerts equal the replay's.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init partition_hold
N=600
gen_stream 61 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl"
start_redis "$IT"
start_broker
start_daemon --set kafka.batch_size=2
produce "$IT/stream.jsonl"
wait_until 90 metric_ge fundguard_events_total $N ||
    it_fail "events judged: $(metric fundguard_events_total) of $N"
wait_drained 30
holds=$(metric fundguard_partition_holds_total)
[ -n "$holds" ] && [ "$holds" -gt 0 ] || it_fail "no partition was paused (holds: ${holds:-none}): the test tests nothing"
compare_alerts "$IT/replay.jsonl"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"
it_pass "$N events judged with partitions paused $holds times; no judgement left deferred"
