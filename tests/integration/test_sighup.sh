#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# SIGHUP mid-stream reloads config, rule pack and detector parameters
# (log msg="reloaded") between batches and keeps the state: alerts that need
# events from both sides of the reload still fire, and the final alerts equal
# the replay's. A SIGHUP while the config file is broken keeps the rules in
# force and the daemon running; fixed again, the next SIGHUP reloads.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init sighup
N=1500
gen_stream 71 $N "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl" --set "$ROBUST_SET"
cp config/fundguard.json "$IT/fundguard.json"
DAEMON_CONFIG=$IT/fundguard.json
start_redis "$IT"
start_broker
start_daemon --set kafka.batch_size=20 --set "$ROBUST_SET"
produce_checked "$IT/stream.jsonl" $N
count() { grep -c "$1" "$DAEMON_LOG" || true; }
count_ge() { [ "$(count "$1")" -ge "$2" ]; }

wait_until 60 metric_ge fundguard_events_total 300 || it_fail "no progress"
kill -HUP "$DAEMON_PID"
wait_until 30 count_ge 'msg="reloaded"' 1 || it_fail "no reload logged after SIGHUP"
it_log "reload 1 at events_total $(metric fundguard_events_total)"

wait_until 60 metric_ge fundguard_events_total 700 || it_fail "no progress after the reload"
echo '{"kafka": {' >"$IT/fundguard.json"          # broken config
kill -HUP "$DAEMON_PID"
wait_until 30 count_ge 'reload failed' 1 || it_fail "broken config: no 'reload failed' logged"
daemon_gone && it_fail "the daemon died on a SIGHUP with a broken config"
it_log "reload 2 (broken config) refused at events_total $(metric fundguard_events_total)"

cp config/fundguard.json "$IT/fundguard.json"
wait_until 60 metric_ge fundguard_events_total 1100 || it_fail "no progress after the failed reload"
kill -HUP "$DAEMON_PID"
wait_until 30 count_ge 'msg="reloaded"' 2 || it_fail "no reload logged after the config was fixed"
it_log "reload 3 at events_total $(metric fundguard_events_total)"

wait_drained 90
ev=$(metric fundguard_events_total)
[ "$ev" -eq $N ] || it_fail "events_total $ev, produced $N"
compare_alerts "$IT/replay.jsonl"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"
grep -q 'reloads=2' "$DAEMON_LOG" || it_fail "final stats do not count 2 reloads"
it_pass "2 reloads and 1 refused mid-stream; state kept, alerts equal the replay's"
