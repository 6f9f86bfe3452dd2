#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Redis refuses writes for a while (maxmemory below what it holds, policy
# noeviction) but still answers reads: every commit's EXEC is refused
# (EXECABORT). A batch's commit is sent without waiting and its outcome
# read with the next batch's loads, so the refusal is found one batch
# later: the daemon must judge that batch again before the next, retry
# until Redis takes writes again, and end with exactly the replay's alerts.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init commit_refused
N=1500 HALF=600
gen_stream 37 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl" --set "$ROBUST_SET"
start_redis "$IT"
start_broker
start_daemon --set kafka.batch_size=50 --set "$ROBUST_SET"
produce_lines 0 $HALF
wait_until 60 metric_ge fundguard_events_total $HALF || it_fail "first part not consumed"
redis-cli -p "$REDIS_PORT" config set maxmemory-policy noeviction >/dev/null
redis-cli -p "$REDIS_PORT" config set maxmemory 1 >/dev/null
it_log "redis refuses writes now"
produce_lines $HALF $N
wait_until 30 grep -q "commit did not land; judging it again" "$DAEMON_LOG" ||
    it_fail "no refused commit was noticed"
refused=$(grep -c "commit did not land" "$DAEMON_LOG")
redis-cli -p "$REDIS_PORT" config set maxmemory 0 >/dev/null
it_log "redis takes writes again ($refused refused commits noticed)"
wait_drained 90
compare_alerts "$IT/replay.jsonl"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"
it_pass "$refused refused commits judged again; alerts equal the replay's"
