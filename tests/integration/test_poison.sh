#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Malformed messages mixed into the claims topic (invalid JSON, not an
# object, wrong schema, missing fields, values of the wrong form, bytes that
# are not UTF-8) go to claims.dlq with their key, their raw bytes as value
# and the headers fg.reason (the same reason replay gives), fg.source.topic,
# fg.source.partition and fg.source.offset; every valid event is still
# judged, and the alerts equal the replay's of the same mixed stream.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init poison
N=600
gen_stream 51 $N "$IT/stream.jsonl"
"$PYTHON3" "$IT_DIR/fgit.py" poison "$IT/stream.jsonl" "$IT/mixed.keyed" "$IT/mixed.jsonl" "$IT/bad.hex" ||
    it_fail "cannot make the poisoned stream"
NBAD=$(wc -l <"$IT/bad.hex")
replay_canonical "$IT/mixed.jsonl" "$IT/replay.jsonl" --set "$ROBUST_SET"
[ "$(wc -l <"$IT/replay.jsonl.dlq")" -eq "$NBAD" ] || it_fail "the replay quarantined $(wc -l <"$IT/replay.jsonl.dlq"), not $NBAD"
start_redis "$IT"
start_broker
start_daemon --set kafka.batch_size=50 --set "$ROBUST_SET"
kcat -P -b "$BOOT" -t claims -K "$(printf '\t')" <"$IT/mixed.keyed" || it_fail "kcat could not produce"
total=$((N + NBAD))
got=$(topic_count claims)
[ "$got" -eq $total ] || it_fail "claims topic holds $got, produced $total"
wait_until 90 metric_ge fundguard_events_total $N ||
    it_fail "valid events judged: $(metric fundguard_events_total) of $N"
wait_drained 30
ev=$(metric fundguard_events_total) q=$(metric fundguard_quarantined_total)
it_log "events_total $ev, quarantined_total $q"
[ "$ev" -eq $N ] || it_fail "events_total $ev, expected $N"
[ "$q" -eq "$NBAD" ] || it_fail "quarantined_total $q, expected $NBAD"
kcat -C -b "$BOOT" -t claims -e -q -f '%p\t%o\t%k\t%s\n' >"$IT/claims.dump"
kcat -C -b "$BOOT" -t claims.dlq -e -q -f '%k\t%h\t%s\n' >"$IT/dlq.dump"
"$PYTHON3" "$IT_DIR/fgit.py" check-dlq "$IT/claims.dump" "$IT/dlq.dump" "$IT/bad.hex" "$IT/replay.jsonl.dlq" ||
    it_fail "dead-letter topic wrong"
compare_alerts "$IT/replay.jsonl"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"
it_pass "$NBAD bad messages dead-lettered with headers and raw bytes; $N valid events judged"
