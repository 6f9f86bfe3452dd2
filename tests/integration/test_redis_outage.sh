#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Redis goes away mid-stream (SIGTERM; appendonly, so its data survives) for
# several seconds, then comes back on the same port and dir. The daemon must
# pause (batch retries, nothing committed meanwhile), resume by itself, and
# end with exactly the replay's alerts.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init redis_outage
N=1500 HALF=600 OUTAGE=${FG_OUTAGE_SECONDS:-5}
gen_stream 31 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl" --set "$ROBUST_SET"
start_redis "$IT"
start_broker
start_daemon --set kafka.batch_size=50 --set "$ROBUST_SET"
produce_lines 0 $HALF
wait_until 60 metric_ge fundguard_events_total $HALF || it_fail "first part not consumed"
committed=$(redis-cli -p "$REDIS_PORT" dbsize)
it_log "first $HALF events judged ($committed redis keys); stopping redis for ${OUTAGE}s"
stop_redis
produce_lines $HALF $N
wait_until 30 grep -q 'redis conn' "$DAEMON_LOG" ||
    it_fail "the daemon never noticed that redis is down"
# The outage itself: how long redis stays down is the scenario, not a sync.
# Meanwhile the metrics endpoint should still answer.
t_end=$(($(date +%s) + OUTAGE)) scraped=0 unanswered=0
while [ "$(date +%s)" -lt "$t_end" ]; do
    if metrics_up; then scraped=$((scraped + 1)); else unanswered=$((unanswered + 1)); fi
    sleep 0.5
done
daemon_gone && it_fail "the daemon died during the redis outage"
restart_redis
[ "$(redis-cli -p "$REDIS_PORT" dbsize)" -ge "$committed" ] || it_fail "redis lost data over the restart"
it_log "redis back on port $REDIS_PORT"
wait_drained 90
retries=$(metric fundguard_batch_retries_total)
it_log "drained: events_total $(metric fundguard_events_total), batch_retries_total $retries"
[ "$retries" -gt 0 ] || it_fail "fundguard_batch_retries_total=$retries: the outage went unnoticed"
grep -q 'redis connected' "$DAEMON_LOG" || it_fail "no reconnect logged"
compare_alerts "$IT/replay.jsonl"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"
[ "$unanswered" -eq 0 ] ||
    it_fail "alerts OK, but /metrics went unanswered $unanswered times (answered $scraped) during the outage"
it_pass "paused and resumed ($retries batch retries); alerts equal the replay's"
