#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Redis refuses writes for a while (maxmemory below what it holds, policy
# noeviction) but still answers reads: every commit's EXEC is refused
# (EXECABORT). A batch's commit is sent without waiting and its outcome
# read with the next batch's loads, so the refusal is found one batch
# later: the daemon must judge that batch again before the next, and
# never store the offsets of a batch whose commit did not land, not even
# when it is stopped meanwhile (SIGTERM while writes are refused, then a
# new daemon). Once Redis takes writes again, the alerts must be exactly
# the replay's.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init commit_refused
N=1500 PART1=600 PART2=1000
gen_stream 37 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl" --set "$ROBUST_SET"
start_redis "$IT"
start_broker
start_daemon --set kafka.batch_size=50 --set "$ROBUST_SET"
produce_lines 0 $PART1
wait_until 60 metric_ge fundguard_events_total $PART1 || it_fail "first part not consumed"
refuse() { redis-cli -p "$REDIS_PORT" config set maxmemory "$1" >/dev/null; }
redis-cli -p "$REDIS_PORT" config set maxmemory-policy noeviction >/dev/null
refuse 1
it_log "redis refuses writes now"
produce_lines $PART1 $PART2
wait_until 30 grep -q "commit did not land; judging it again" "$DAEMON_LOG" ||
    it_fail "no refused commit was noticed"
refused=$(grep -c "commit did not land" "$DAEMON_LOG")
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM while writes were refused"
it_log "stopped while writes were refused ($refused refused commits noticed); a new daemon"
start_daemon --set kafka.batch_size=50 --set "$ROBUST_SET"
produce_lines $PART2 $N
# (With state.resident, a new daemon must first take its partitions'
# epochs, a write: it finds the refusal there, before any commit.)
wait_until 30 grep -qE "commit did not land; judging it again|refused the partition fence" \
    "$DAEMON_LOG" || it_fail "the new daemon noticed no refused commit"
refused=$((refused + $(grep -cE "commit did not land|refused the partition fence" "$DAEMON_LOG")))
refuse 0
it_log "redis takes writes again ($refused refused commits noticed in all)"
wait_drained 90
compare_alerts "$IT/replay.jsonl"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"
it_pass "$refused refused commits judged again, one daemon stopped meanwhile; alerts equal the replay's"
