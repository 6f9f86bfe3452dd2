# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the live-daemon integration tests (sourced, not run).
# Uses tests/scripts/lib.sh (free_port, wait_until, start_redis, stop_redis).
#
# Every test: it_init NAME; start_redis "$IT"; start_broker; start_daemon;
# produce FILE; ...; it_pass MESSAGE. The EXIT trap (it_cleanup) stops every
# process this test started, by pid, and keeps the work dir on failure.
: "${FG:?FG must name the fundguard binary}" "${PYTHON3:=python3}"
: "${FG_SOURCE_DIR:=.}"
. "$FG_SOURCE_DIR/tests/scripts/lib.sh"
FG_BROKER=${FG_BROKER:-$(dirname "$FG")/fundguard-devbroker}
IT_DIR=$FG_SOURCE_DIR/tests/integration
CLAIMS_PARTITIONS=${CLAIMS_PARTITIONS:-16}
# Every test judges with the shipped state.lateness_seconds on both sides,
# live and replay (ROBUST_SET is a harmless setting kept for the tests that
# pass it; FG_IT_LONG_LATENESS=1 sets the longest lateness instead, to tell
# a lateness effect from a fault-handling one when diagnosing).
if [ -n "${FG_IT_LONG_LATENESS:-}" ]; then ROBUST_SET=state.lateness_seconds=2592000
else ROBUST_SET=log.level=info; fi
# PRICE-OUTLIER differences fail like any other (FG_OUTLIER_LENIENT=1 only
# lists them, for diagnosing).
OUTLIER_FLAG=--outlier-strict
[ -z "${FG_OUTLIER_LENIENT:-}" ] || OUTLIER_FLAG=

it_init() {
    IT_NAME=$1
    for t in redis-server redis-cli kcat curl; do
        command -v "$t" >/dev/null || { echo "FAIL: $t is not installed"; exit 1; }
    done
    [ -x "$FG_BROKER" ] || { echo "FAIL: $FG_BROKER not built"; exit 1; }
    mkdir -p "${FG_TMP:-${TMPDIR:-/tmp}}"
    IT=$(mktemp -d "${FG_TMP:-${TMPDIR:-/tmp}}/fg-it-$IT_NAME.XXXXXX")
    IT_OK=0
    DAEMON_PID= BROKER_PID= REDIS_PID= DAEMON_RUN=0
    trap it_cleanup EXIT
    trap 'exit 130' INT TERM
    it_log "work dir $IT"
}

it_log() { echo "[$IT_NAME $(date +%T)] $*"; }

# it_fail MESSAGE: print, show the tail of the logs, exit 1.
it_fail() {
    echo "FAIL: $IT_NAME: $*"
    for f in "$IT"/daemon.*.log; do
        [ -f "$f" ] || continue
        echo "---- tail of $f"
        tail -n 15 "$f"
    done
    [ -f "$IT/broker.err" ] && { echo "---- tail of broker.err"; tail -n 10 "$IT/broker.err"; }
    exit 1
}

it_pass() { IT_OK=1; echo "ok: $IT_NAME: $*"; }

it_cleanup() {
    rc=$?
    set +e
    trap - EXIT
    stop_daemon_kill
    for _p in ${IT_EXTRA_PIDS:-}; do kill -KILL "$_p" 2>/dev/null; wait "$_p" 2>/dev/null; done
    [ -n "${BROKER_PID:-}" ] && { kill "$BROKER_PID" 2>/dev/null; wait "$BROKER_PID" 2>/dev/null; }
    exec 3>&-
    stop_redis
    # A sanitizer report in any daemon or broker log fails the test, even
    # from a process that was killed afterwards.
    if grep -l -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' \
        "$IT"/daemon.*.log "$IT"/broker.err "$IT"/*.log 2>/dev/null; then
        echo "FAIL: $IT_NAME: sanitizer report in the logs above"
        IT_OK=0
        rc=1
    fi
    # A stalled partition is recovered from (kafka.stall_ms), but say so:
    # it is librdkafka misbehaving, and worth knowing when a test is slow.
    grep -h "partition stalled" "$IT"/daemon.*.log 2>/dev/null | sed 's/^/note: /' || true
    if [ "$IT_OK" = 1 ] && [ -z "${FG_KEEP:-}" ]; then
        rm -rf "$IT"
    else
        echo "(work dir kept: $IT)"
    fi
    [ "$IT_OK" = 1 ] || [ "$rc" != 0 ] || rc=1
    exit "$rc"
}

# start_broker [PARTITIONS]: the devbroker with its stdin on a FIFO held open
# on fd 3, so broker_cmd can inject faults; sets BOOT and BROKER_PID.
start_broker() {
    mkfifo "$IT/broker.ctl"
    "$FG_BROKER" --topics claims,alerts,claims.dlq --partitions "${1:-$CLAIMS_PARTITIONS}" \
        <"$IT/broker.ctl" >"$IT/broker.out" 2>"$IT/broker.err" &
    BROKER_PID=$!
    exec 3>"$IT/broker.ctl"
    wait_until 10 test -s "$IT/broker.out" || it_fail "devbroker printed no address"
    BOOT=$(head -n 1 "$IT/broker.out")
    wait_until 10 kcat -L -b "$BOOT" -t claims || it_fail "devbroker $BOOT not answering"
    it_log "devbroker at $BOOT (pid $BROKER_PID)"
}

# broker_cmd LINE: e.g. "error 0 5 6".
broker_cmd() { echo "$*" >&3; }

# librdkafka consumer properties of every daemon: lag statistics and offset
# commits often, and a short session so that a restart after kill -9 does
# not wait 45 s for the dead member to time out (the mock cluster will not
# assign anything with a session under 3 s).
DAEMON_CONSUMER='"statistics.interval.ms":500,"auto.commit.interval.ms":200,"session.timeout.ms":3000,"heartbeat.interval.ms":500'

# start_daemon [--set K=V...]: `fundguard run` (-c DAEMON_CONFIG, default
# config/fundguard.json) against this test's broker and
# Redis; logs to daemon.N.log (N counts the starts); sets DAEMON_PID,
# METRICS_PORT and DAEMON_LOG. FG_DAEMON_SETS: more K=V settings (space
# separated) for every daemon of the test, before its own.
start_daemon() {
    for _kv in ${FG_DAEMON_SETS:-}; do set -- --set "$_kv" "$@"; done
    DAEMON_RUN=$((DAEMON_RUN + 1))
    METRICS_PORT=$(free_port)
    DAEMON_LOG=$IT/daemon.$DAEMON_RUN.log
    "$FG" run -c "${DAEMON_CONFIG:-config/fundguard.json}" \
        --set kafka.bootstrap_servers="$BOOT" --set redis.port="$REDIS_PORT" \
        --set kafka.group_id=fg-it --set metrics.listen=127.0.0.1:"$METRICS_PORT" \
        --set "kafka.consumer={$DAEMON_CONSUMER}" --set kafka.idle_partition_ms=500 \
        "$@" >"$DAEMON_LOG" 2>&1 &
    DAEMON_PID=$!
    wait_until 20 metrics_up_or_dead || true
    if daemon_gone; then
        if wait "$DAEMON_PID"; then _rc=0; else _rc=$?; fi
        DAEMON_PID=
        it_fail "daemon exited $_rc at start"
    fi
    metrics_up || it_fail "daemon did not serve metrics"
}

metrics_up() { curl -sf --max-time 2 "http://127.0.0.1:$METRICS_PORT/metrics" >/dev/null; }
metrics_up_or_dead() { daemon_gone || metrics_up; }

# metric NAME: the value of an unlabelled metric (empty when unreachable).
metric() {
    curl -sf --max-time 3 "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null |
        awk -v n="$1" '$1 == n { print $2; exit }'
}

# metric_ge NAME N: the metric is at least N.
metric_ge() { v=$(metric "$1"); [ -n "$v" ] && [ "$v" -ge "$2" ]; }

# lag_zero PARTITIONS: every claims partition is reported with lag 0
# (librdkafka statistics, from committed offsets).
lag_zero() {
    curl -sf --max-time 3 "http://127.0.0.1:$METRICS_PORT/metrics" 2>/dev/null |
        awk -v want="$1" '/^fundguard_consumer_lag\{topic="claims"/ { n++; s += $2 }
                          END { exit !(n == want && s == 0) }'
}

# stop_daemon_term SECONDS: SIGTERM, wait for the exit; sets DAEMON_RC
# (124 when it did not exit in time, then it is killed).
stop_daemon_term() {
    [ -n "${DAEMON_PID:-}" ] || return 0
    kill -TERM "$DAEMON_PID" 2>/dev/null
    if wait_until "$1" daemon_gone; then
        if wait "$DAEMON_PID" 2>/dev/null; then DAEMON_RC=0; else DAEMON_RC=$?; fi
    else
        kill -KILL "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null || true
        DAEMON_RC=124
    fi
    DAEMON_PID=
}

daemon_gone() { ! kill -0 "$DAEMON_PID" 2>/dev/null || zombie "$DAEMON_PID"; }
zombie() { [ "$(awk '{print $3}' "/proc/$1/stat" 2>/dev/null)" = Z ]; }

# stop_daemon_kill: kill -9. When the daemon had already died by itself,
# say so and set DAEMON_DIED to its exit status (e.g. 139 = SIGSEGV).
stop_daemon_kill() {
    [ -n "${DAEMON_PID:-}" ] || return 0
    DAEMON_DIED=
    if daemon_gone; then
        if wait "$DAEMON_PID" 2>/dev/null; then DAEMON_DIED=0; else DAEMON_DIED=$?; fi
        echo "WARNING: the daemon (pid $DAEMON_PID, $DAEMON_LOG) had exited by itself, status $DAEMON_DIED"
    else
        kill -KILL "$DAEMON_PID" 2>/dev/null
        wait "$DAEMON_PID" 2>/dev/null || true
    fi
    DAEMON_PID=
}

# gen_stream SEED SETTLEMENTS FILE: a generated stream with violations.
gen_stream() {
    "$PYTHON3" tools/fg_gen.py --seed "$1" --settlements "$2" --days 10 \
        --violation-rate 0.15 --out "$3" --truth "$3.truth" --quiet >/dev/null ||
        it_fail "generator failed"
}

# replay_canonical STREAM OUT [--set K=V...]: the reference alerts.
replay_canonical() {
    _in=$1 _out=$2
    shift 2
    "$FG" replay -c config/fundguard.json --input "$_in" --canonical --no-progress \
        --output "$_out" --dead-letter "$_out.dlq" "$@" 2>"$_out.log" || it_fail "replay failed"
    [ -s "$_out" ] || it_fail "the replay gave no alerts"
}

# compare_alerts REPLAY: read the alerts topic and compare (fgit.py compare).
compare_alerts() {
    wait_until 60 deferred_drained ||
        it_fail "deferred judgements still pending in Redis after 60 s"
    read_alerts "$IT/alerts.tsv"
    if "$PYTHON3" "$IT_DIR/fgit.py" compare "$IT/alerts.tsv" "$1" $OUTLIER_FLAG >"$IT/compare.txt"
    then _rc=0; else _rc=$?; fi
    cat "$IT/compare.txt"
    [ "$_rc" = 0 ] || it_fail "live alerts differ from the replay's"
}

# deferred_drained: no PRICE-OUTLIER judgement is waiting in Redis for its
# days to complete (the daemon judges them once every partition has caught
# up or gone idle).
deferred_drained() {
    _n=0
    for _k in $(redis-cli -p "$REDIS_PORT" --scan --pattern 'fg:live:Q:*'); do
        _n=$((_n + $(redis-cli -p "$REDIS_PORT" zcard "$_k")))
    done
    [ "$_n" -eq 0 ]
}

# wait_drained SECONDS: every claims partition committed up to its end, and
# still so 2 s later (the lag comes from librdkafka statistics every 500 ms,
# whose high watermarks may predate the last produce).
wait_drained() {
    _zero_since=
    wait_until "$1" lag_zero_stable ||
        it_fail "claims not drained in $1 s (events_total=$(metric fundguard_events_total))"
}
lag_zero_stable() {
    if lag_zero "$CLAIMS_PARTITIONS"; then
        _now=$(date +%s)
        [ -n "$_zero_since" ] || _zero_since=$_now
        [ $((_now - _zero_since)) -ge 2 ]
    else
        _zero_since=
        return 1
    fi
}

# produce FILE [TOPIC]: every line of FILE (JSON) to the claims topic, keyed
# by psn_no (lines that are not JSON objects get the key "bad").
produce() {
    "$PYTHON3" "$IT_DIR/fgit.py" keyed "$1" >"$1.keyed" || it_fail "cannot key $1"
    kcat -P -b "$BOOT" -t "${2:-claims}" -K "$(printf '\t')" <"$1.keyed" ||
        it_fail "kcat could not produce $1"
}

# topic_count TOPIC: how many messages the topic holds now.
topic_count() { kcat -C -b "$BOOT" -t "$1" -e -q -f 'x\n' | wc -l; }

# produce_checked FILE N: produce and make sure the topic then holds N.
produce_checked() {
    produce "$1"
    got=$(topic_count claims)
    [ "$got" -eq "$2" ] || it_fail "claims topic holds $got messages, produced $2 (mock broker dropped some?)"
}

# read_alerts OUT: the alerts topic as "key<TAB>value" lines.
# tool_cfg: the options the supervisor tools (compare, alerts, report) need
# to reach the devbroker. A short session: the mock cluster answers a
# group's next JoinGroup only after the previous member's session timeout,
# even when it left cleanly.
tool_cfg() {
    printf '%s' "-c config/fundguard.json --set kafka.bootstrap_servers=$BOOT"
    printf '%s' " --set kafka.consumer={\"session.timeout.ms\":3000,\"heartbeat.interval.ms\":500}"
}

# fg_compare RC NAME A B [OPTIONS]: `fundguard compare --json` to
# $IT/NAME.json, which must exit RC.
fg_compare() {
    _want=$1 _name=$2
    shift 2
    set +e
    # shellcheck disable=SC2046
    "$FG" compare "$@" $(tool_cfg) --json >"$IT/$_name.json" 2>"$IT/$_name.log"
    _rc=$?
    set -e
    [ "$_rc" = "$_want" ] || { cat "$IT/$_name.log"; it_fail "compare $_name exited $_rc, expected $_want"; }
}

read_alerts() { kcat -C -b "$BOOT" -t alerts -e -q -f '%k\t%s\n' >"$1"; }

# restart_redis: start redis-server again on REDIS_PORT with the same dir
# (appendonly, so what was acknowledged before a SIGTERM is still there).
restart_redis() {
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$IT" --save "" \
        --appendonly yes --daemonize no --logfile "$IT/redis.log" >/dev/null 2>&1 &
    REDIS_PID=$!
    wait_until 30 redis_pong || it_fail "redis did not restart"
}
redis_pong() { [ "$(redis-cli -p "$REDIS_PORT" ping 2>/dev/null)" = PONG ]; }

# produce_lines FROM TO: lines FROM+1..TO of the stream to the claims topic.
produce_lines() {
    sed -n "$(($1 + 1)),$2p" "$IT/stream.jsonl" >"$IT/part.jsonl"
    produce "$IT/part.jsonl"
}
