#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Fault campaign: the live path (fundguard run, redis-server, devbroker)
# under repeated, seeded random faults for a bounded time, then a
# reconciliation (tests/fault/README.md):
#   kill -9 of the daemon and restart; Redis stopped and restarted on the
#   same port and dir; request errors pushed through the devbroker;
#   SIGHUP reloads, valid or refused; poison bursts.
# Meanwhile the generated stream goes in as waves with poison mixed in.
# At the end the faults stop, the daemon drains, and reconcile.py checks
# that every event was processed, every poison message dead-lettered, no
# jr_id published with two contents, and the alerts equal the replay's.
#
#   sh tests/fault/campaign.sh [--seconds N] [--seed S] [--build-dir DIR]
#                              [--events N] [--partitions N]
# or the same through FG_FAULT_SECONDS (default 180), FG_FAULT_SEED
# (default random, printed), FG_FAULT_BUILD_DIR (default: the directory
# of $FG, else build/), FG_FAULT_EVENTS (default 15 per second of
# faults, 600..20000), FG_FAULT_PARTITIONS (default 32, 64 above 6000
# events). FG_FAULT_OFFSETFETCH_NOTCOORD=1 adds OffsetFetch NOT_COORDINATOR
# errors, which stall the daemon (a known defect: README.md). FG_KEEP=1
# keeps the work dir; it is kept anyway on failure.
set -eu

usage() {
    echo "usage: campaign.sh [--seconds N] [--seed S] [--build-dir DIR] [--events N] [--partitions N]" >&2
    exit 2
}
while [ $# -gt 0 ]; do
    case $1 in
        --seconds) FG_FAULT_SECONDS=${2:?}; shift 2 ;;
        --seed) FG_FAULT_SEED=${2:?}; shift 2 ;;
        --build-dir) FG_FAULT_BUILD_DIR=${2:?}; shift 2 ;;
        --events) FG_FAULT_EVENTS=${2:?}; shift 2 ;;
        --partitions) FG_FAULT_PARTITIONS=${2:?}; shift 2 ;;
        *) usage ;;
    esac
done
if [ -z "${FG_SOURCE_DIR:-}" ]; then
    FG_SOURCE_DIR=$(cd "$(dirname "$0")/../.." && pwd)
fi
cd "$FG_SOURCE_DIR"
if [ -n "${FG_FAULT_BUILD_DIR:-}" ]; then
    FG=$FG_FAULT_BUILD_DIR/fundguard
    FG_BROKER=$FG_FAULT_BUILD_DIR/fundguard-devbroker
fi
FG=${FG:-$FG_SOURCE_DIR/build/fundguard}
FG_KAFKA_TOOL=${FG_IT_KAFKA:-$(dirname "$FG")/fg-it-kafka}
SECS=${FG_FAULT_SECONDS:-180}
SEED=${FG_FAULT_SEED:-$(od -An -N4 -tu4 /dev/urandom | tr -d ' \n')}
case "$SECS$SEED" in *[!0-9]*) echo "seconds and seed must be integers" >&2; exit 2 ;; esac
[ "$SECS" -ge 30 ] || { echo "at least 30 seconds" >&2; exit 2; }
EVENTS=${FG_FAULT_EVENTS:-$((SECS * 15))}
[ "$EVENTS" -ge 600 ] || EVENTS=600
[ -n "${FG_FAULT_EVENTS:-}" ] || [ "$EVENTS" -le 20000 ] || EVENTS=20000
if [ "$EVENTS" -gt 6000 ]; then CLAIMS_PARTITIONS=${FG_FAULT_PARTITIONS:-64}
else CLAIMS_PARTITIONS=${FG_FAULT_PARTITIONS:-32}; fi
export FG FG_SOURCE_DIR
[ -z "${FG_BROKER:-}" ] || export FG_BROKER

. "$FG_SOURCE_DIR/tests/integration/lib.sh"
FAULT_DIR=$FG_SOURCE_DIR/tests/fault
REPLAY_CMD="FG_FAULT_SEED=$SEED FG_FAULT_SECONDS=$SECS FG_FAULT_EVENTS=$EVENTS FG_FAULT_PARTITIONS=$CLAIMS_PARTITIONS sh tests/fault/campaign.sh"

# it_fail (lib.sh) shows the tail of every daemon log; a campaign restarts
# the daemon dozens of times, so show the last three, and how to replay.
it_fail() {
    echo "FAIL: $IT_NAME: $*"
    echo "seed $SEED; replay with: $REPLAY_CMD"
    for f in $(ls -t "$IT"/daemon.*.log 2>/dev/null | head -n 3); do
        echo "---- tail of $f"
        tail -n 20 "$f"
    done
    [ -f "$IT/broker.err" ] && { echo "---- tail of broker.err"; tail -n 5 "$IT/broker.err"; }
    if [ -n "${DAEMON_LOG:-}" ] && grep -q 'Failed to fetch committed offsets' "$DAEMON_LOG" 2>/dev/null; then
        echo "hint: $DAEMON_LOG has 'Failed to fetch committed offsets': the known stall after an"
        echo "      OffsetFetch NOT_COORDINATOR (tests/fault/README.md, known defects)"
    fi
    exit 1
}

it_init fault
it_log "seed $SEED, $SECS s of faults, $EVENTS events, $CLAIMS_PARTITIONS partitions"
it_log "replay with: $REPLAY_CMD"
[ -x "$FG_KAFKA_TOOL" ] || it_fail "$FG_KAFKA_TOOL not built (target fg-it-kafka)"

# ---- the stream, the poison, the plan and the references
WAVES=$((SECS * 3 / 4 / 12))
[ "$WAVES" -ge 3 ] || WAVES=3
gen_stream $((SEED % 1000000 + 1)) "$EVENTS" "$IT/stream.jsonl"
"$PYTHON3" "$FAULT_DIR/reconcile.py" prepare "$SEED" "$IT/stream.jsonl" "$WAVES" \
    $((SECS * 2 + 50)) "$IT" ${FG_FAULT_OFFSETFETCH_NOTCOORD:+--offsetfetch-notcoord} ||
    it_fail "prepare failed"
replay_canonical "$IT/stream.jsonl" "$IT/replay.jsonl" --set "$ROBUST_SET"
# the replay's reason for every poison value (each must be quarantined)
"$FG" replay -c config/fundguard.json --input "$IT/poison.raw" --canonical --no-progress \
    --no-manifest --output "$IT/poison.out" --dead-letter "$IT/poison.dlq" 2>"$IT/poison.log" ||
    it_fail "the replay of the poison failed"
[ "$(wc -l <"$IT/poison.dlq")" -eq "$(wc -l <"$IT/poison.raw")" ] ||
    it_fail "the replay quarantines $(wc -l <"$IT/poison.dlq") of $(wc -l <"$IT/poison.raw") poison messages"
it_log "reference: $(wc -l <"$IT/replay.jsonl") alerts from the replay"

cp config/fundguard.json "$IT/fundguard.json"
DAEMON_CONFIG=$IT/fundguard.json
: >"$IT/produced.log"
: >"$IT/faults.log"
start_redis "$IT" || it_fail "redis did not start"
start_broker
start_daemon --set kafka.batch_size=50 --set "$ROBUST_SET" --set kafka.stall_ms=3000

# ---- helpers
ms_sleep() { sleep "$(($1 / 1000)).$(printf '%03d' $(($1 % 1000)))"; }
fault() { echo "$*" >>"$IT/faults.log"; }
count_in_log() { grep -c "$1" "$DAEMON_LOG" || true; }
count_gt() { [ "$(count_in_log "$1")" -gt "$2" ]; }

# alive: the daemon is running and answers /metrics (a hang or a crash is a
# defect: fail with the seed and the logs).
alive() {
    if daemon_gone; then
        if wait "$DAEMON_PID" 2>/dev/null; then _st=0; else _st=$?; fi
        DAEMON_PID=
        it_fail "DEFECT: the daemon exited by itself, status $_st ($DAEMON_LOG)"
    fi
    wait_until 30 metrics_up || it_fail "DEFECT: the daemon has not answered /metrics for 30 s (hang?)"
}

# Produce errors pushed to the devbroker are taken by whichever client
# produces next, our kcat included: a permanent one (MESSAGE_TOO_LARGE)
# would drop messages of a wave. So before we produce, messages to a topic
# of its own (auto-created) take what is left, until one goes through at
# the first try, which it can only when the error queue is empty.
PRODUCE_PENDING=0 PUSHED=0
sink_clear() {
    [ "$PRODUCE_PENDING" = 1 ] || return 0
    _n=0
    until echo s | kcat -P -b "$BOOT" -t fault.sink -X retries=0 2>>"$IT/sink.err"; do
        _n=$((_n + 1))
        [ "$_n" -lt 100 ] || it_fail "the devbroker keeps failing produce requests"
    done
    PRODUCE_PENDING=0
}

# produce_keyed FILE WHAT: kcat, idempotent (retries keep the order).
produce_keyed() {
    sink_clear
    kcat -P -b "$BOOT" -t claims -K "$(printf '\t')" -X enable.idempotence=true <"$1" ||
        it_fail "kcat could not produce $1"
    echo "$2" >>"$IT/produced.log"
}

# restart_daemon BATCH_SIZE: kill -9 and start again. Every other restart
# (by step number, so the seeded plan stays as it was) a partition is
# stalled inside librdkafka at the new daemon's first assignment
# (FUNDGUARD_FAULT_PAUSE_PARTITION, tests/integration/test_partition_stall.sh):
# the stall watch must find it.
restart_daemon() {
    stop_daemon_kill
    if [ $((step % 2)) = 1 ]; then
        FUNDGUARD_FAULT_PAUSE_PARTITION=$((step % CLAIMS_PARTITIONS))
        export FUNDGUARD_FAULT_PAUSE_PARTITION
        fault stall-armed
    fi
    start_daemon --set kafka.batch_size="$1" --set "$ROBUST_SET" --set kafka.stall_ms=3000
    unset FUNDGUARD_FAULT_PAUSE_PARTITION
}

# hup_send; hup_wait: SIGHUP, then wait for the reload to be logged (the
# daemon reloads between batches: during a Redis outage, once it is over).
hup_send() {
    _hup_before=$(count_in_log 'msg="reloaded"')
    kill -HUP "$DAEMON_PID"
}
hup_wait() {
    wait_until 60 count_gt 'msg="reloaded"' "$_hup_before" ||
        it_fail "DEFECT: no reload logged 60 s after SIGHUP"
}
hup_ok() { hup_send; hup_wait; }

hup_broken() {
    case $1 in
        syntax) echo '{"kafka": {' >"$IT/cfg.tmp" ;;
        unknown-key) sed 's/^{/{"no_such_section": {"x": 1},/' config/fundguard.json >"$IT/cfg.tmp" ;;
        no-pack) "$PYTHON3" -c 'import json, sys
c = json.load(open("config/fundguard.json")); c.setdefault("rules", {})["pack"] = sys.argv[1]
print(json.dumps(c))' "$IT/no-such-pack" >"$IT/cfg.tmp" ;;
    esac
    mv "$IT/cfg.tmp" "$IT/fundguard.json"
    _b=$(count_in_log 'reload failed')
    kill -HUP "$DAEMON_PID"
    wait_until 60 count_gt 'reload failed' "$_b" ||
        it_fail "DEFECT: a broken config ($1) was not refused within 60 s"
    cp config/fundguard.json "$IT/cfg.tmp"
    mv "$IT/cfg.tmp" "$IT/fundguard.json"
    alive
}

# ---- the campaign
T0=$(date +%s)
END=$((T0 + SECS))
SPAN=$((SECS * 3 / 4))               # the waves go out over this span
wave_due() { echo $((T0 + ($1 - 1) * SPAN / (WAVES - 1))); }
wave=1 burst=0 step=0 nsteps=$(wc -l <"$IT/plan")
while :; do
    now=$(date +%s)
    if [ "$wave" -le "$WAVES" ] && [ "$now" -ge "$(wave_due "$wave")" ]; then
        alive
        produce_keyed "$IT/wave.$wave.keyed" "wave $wave"
        it_log "wave $wave/$WAVES produced ($(wc -l <"$IT/wave.$wave.keyed") messages); daemon start $DAEMON_RUN has judged $(metric fundguard_events_total) events"
        wave=$((wave + 1))
        continue
    fi
    [ "$now" -lt "$END" ] || [ "$wave" -le "$WAVES" ] || break
    step=$((step + 1))
    if [ "$step" -gt "$nsteps" ]; then      # plan used up: only waves left
        [ "$wave" -le "$WAVES" ] || break
        sleep 1
        continue
    fi
    set -- $(sed -n "${step}p" "$IT/plan")
    gap=$1 kind=$2
    shift 2
    ms_sleep "$gap"                          # places the fault in time
    alive
    case $kind in
        kill)
            ms_sleep "$1"
            alive
            restart_daemon "$2"
            fault kill
            it_log "step $step: kill -9 + restart (batch_size $2)"
            ;;
        redis)
            stop_redis
            fault redis
            half=$(($1 / 2))
            ms_sleep "$half"                 # the outage itself
            case $2 in
                hup) hup_send; fault hup-ok during a redis outage ;;
                kill) restart_daemon 50; fault kill during a redis outage ;;
            esac
            ms_sleep $(($1 - half))
            restart_redis
            [ "$2" != hup ] || hup_wait
            it_log "step $step: redis down $1 ms ($2 meanwhile)"
            ;;
        broker)
            for e in $(echo "$1" | tr , ' '); do
                broker_cmd "error $(echo "$e" | tr : ' ')"
                PUSHED=$((PUSHED + 1))
                case $e in
                    0:*) PRODUCE_PENDING=1; fault broker-produce "$e" ;;
                    1:*) fault broker-fetch "$e" ;;
                    8:*) fault broker-offsetcommit "$e" ;;
                    *) fault broker-offsetfetch "$e" ;;
                esac
            done
            wait_until 10 sh -c "[ \$(grep -c pushed '$IT/broker.err') -ge $PUSHED ]" ||
                it_fail "the devbroker took no commands"
            it_log "step $step: broker errors $1 (api:count:code)"
            ;;
        hup)
            if [ "$1" = ok ]; then
                hup_ok
                fault hup-ok
            else
                hup_broken "${1#broken:}"
                fault hup-refused
            fi
            it_log "step $step: SIGHUP $1"
            ;;
        poison)
            burst=$((burst + 1))
            produce_keyed "$IT/burst.$burst.keyed" "burst $burst"
            fault poison
            it_log "step $step: poison burst $burst ($(wc -l <"$IT/burst.$burst.keyed") messages)"
            ;;
    esac
done
it_log "faults stopped after $(($(date +%s) - T0)) s, $step steps; draining"

# ---- drain and reconcile
alive
wait_drained "${FG_FAULT_DRAIN_SECONDS:-300}"
wait_until 120 deferred_drained || it_fail "deferred judgements still pending in Redis after 120 s"
it_log "drained: events_total $(metric fundguard_events_total) (this run), batch_retries_total $(metric fundguard_batch_retries_total)"
# An armed stall is made only if its daemon lived to its first assignment;
# the daemons' logs tell the stalls made and those the watch found.
grep -h "fault injection: partition paused" "$IT"/daemon.*.log | sed 's/.*/stall/' >>"$IT/faults.log" || true
grep -h "partition stalled" "$IT"/daemon.*.log | sed 's/.*/stall-found/' >>"$IT/faults.log" || true
# kcat meets a Fetch error left in the devbroker as an error: read again.
dump() { kcat -C -b "$BOOT" -t "$1" -e -q -f "$2" >"$3.tmp" 2>>"$IT/dump.err" && mv "$3.tmp" "$3"; }
wait_until 60 dump claims '%p\t%o\t%k\t%s\n' "$IT/claims.dump" || it_fail "cannot read claims"
wait_until 60 dump claims.dlq '%k\t%h\t%s\n' "$IT/dlq.dump" || it_fail "cannot read claims.dlq"
wait_until 60 dump alerts '%k\t%s\n' "$IT/alerts.tsv" || it_fail "cannot read alerts"
committed() { "$FG_KAFKA_TOOL" committed "$BOOT" fg-it claims >"$IT/committed.tsv" 2>>"$IT/dump.err"; }
wait_until 60 committed || it_fail "cannot read the group's offsets"
# Dead-letter reasons must equal the replay's exactly: the daemon trims
# trailing blanks as a replay does since the campaign found the difference
# (FG_FAULT_LENIENT_REASONS=1 lists such differences instead).
flags=--strict-reasons
[ -z "${FG_FAULT_LENIENT_REASONS:-}" ] || flags=
[ -z "${FG_OUTLIER_LENIENT:-}" ] || flags="$flags --outlier-lenient"
if "$PYTHON3" "$FAULT_DIR/reconcile.py" check "$IT" "$REDIS_PORT" $flags >"$IT/reconcile.txt"
then rc=0; else rc=$?; fi
cat "$IT/reconcile.txt"
[ "$rc" = 0 ] || it_fail "reconciliation found violations (above)"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "DEFECT: the daemon exited $DAEMON_RC on SIGTERM after the campaign"
it_pass "seed $SEED: $(wc -l <"$IT/faults.log") faults in $SECS s, $DAEMON_RUN daemon starts; reconciled"
