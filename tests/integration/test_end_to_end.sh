#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Redis + devbroker + `fundguard run`, shipped defaults: a generated stream
# goes in through the claims topic (16 partitions, keyed by psn_no); once the
# daemon has consumed every event, the alerts topic must equal
# `fundguard replay --canonical` of the same file, jr_id by jr_id (ignoring
# replay, source, detected_at), each alert keyed by its fixmedins_code.
# PRICE-OUTLIER included: judgements wait until every partition has passed
# their baseline days (detectors/abnormal_pricing/README.md).
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init end_to_end
N=800
gen_stream 11 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl"
start_redis "$IT"
start_broker
start_daemon
produce_checked "$IT/stream.jsonl" $N
wait_until 120 metric_ge fundguard_events_total $N ||
    it_fail "daemon consumed $(metric fundguard_events_total) of $N events"
ev=$(metric fundguard_events_total)
[ "$ev" -eq $N ] || it_fail "fundguard_events_total=$ev, produced $N (no retries expected)"
q=$(metric fundguard_quarantined_total)
[ "$q" -eq 0 ] || it_fail "$q events quarantined"
# a batch's alerts are flushed and acknowledged before its events count as
# done, so the topic is complete now
compare_alerts "$IT/replay.jsonl"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"
it_pass "$N events; alerts equal the replay's, keyed by fixmedins_code"
