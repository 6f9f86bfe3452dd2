#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Credentials reach Redis and librdkafka, and refusals are clear.
#
# Redis (real, with ACLs): the default user is off; user fgstate may touch
# only fg:* keys, with a password read from a 0600 file. replay --state
# redis with redis.username and redis.password_file gives the embedded
# replay's alerts; a wrong password, or none, is refused at start-up
# (exit 78, naming the key) at once, by replay and by the daemon alike,
# not after the outage retry time.
#
# Kafka: the mock cluster speaks PLAINTEXT only (no SASL handshake, no
# TLS), so what can be shown here is the client side: SASL PLAIN settings
# with the password from kafka.sasl_password_file make librdkafka start a
# SASL PLAIN authentication (its error names the mechanism); SSL with a CA
# made by openssl starts a TLS handshake; both end in a clear failure
# (exit 1) instead of a hang; a CA file that does not exist is a config
# error (exit 78) naming the kafka.consumer.* key.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init security
command -v openssl >/dev/null || it_fail "openssl is not installed"
PASS=fg-test-$(od -An -N8 -tx1 /dev/urandom | tr -d ' \n')
umask 077
printf '%s\n' "$PASS" >"$IT/redis.pw"
printf 'wrong-%s\n' "$PASS" >"$IT/wrong.pw"
printf 'not-a-real-kafka-password\n' >"$IT/kafka.pw"
REDIS_PORT=$(free_port)
cat >"$IT/redis.conf" <<CONF
port $REDIS_PORT
bind 127.0.0.1
dir $IT
save ""
appendonly no
user default off
user fgstate on >$PASS ~fg:* +@all
CONF
redis-server "$IT/redis.conf" >"$IT/redis.log" 2>&1 &
REDIS_PID=$!
wait_until 10 redis-cli -p "$REDIS_PORT" --user fgstate --pass "$PASS" --no-auth-warning ping ||
    it_fail "redis with ACL did not start"
umask 022

gen_stream 71 300 "$IT/stream.jsonl"
replay_canonical "$IT/stream.jsonl" "$IT/memory.jsonl"
auth() {   # auth PASSWORD_FILE OUT: replay with the Redis state, ACL user
    "$FG" replay -c config/fundguard.json --input "$IT/stream.jsonl" --canonical --no-progress \
        --output "$IT/$2.jsonl" --dead-letter "$IT/$2.dlq" --state redis \
        --set redis.port="$REDIS_PORT" --set redis.username='"fgstate"' \
        --set redis.password_file="\"$1\"" 2>"$IT/$2.log"
}
auth "$IT/redis.pw" acl || { cat "$IT/acl.log"; it_fail "replay as the ACL user failed"; }
cmp "$IT/memory.jsonl" "$IT/acl.jsonl" || it_fail "alerts with Redis (ACL user) differ from the embedded replay's"

refused() {   # refused LOG KEY WHAT: exit 78 with a message naming the key
    grep -q "config error: .*$2.*redis refused the credentials: .*$3" "$1" ||
        { cat "$1"; it_fail "refusal not reported as a config error naming $2 ($3)"; }
}
t0=$(date +%s)
rc=0; auth "$IT/wrong.pw" wrong || rc=$?
[ "$rc" = 78 ] || { cat "$IT/wrong.log"; it_fail "wrong Redis password: exit $rc, expected 78"; }
refused "$IT/wrong.log" redis.username WRONGPASS
rc=0
"$FG" replay -c config/fundguard.json --input "$IT/stream.jsonl" --output "$IT/none.jsonl" \
    --state redis --no-progress --set redis.port="$REDIS_PORT" 2>"$IT/none.log" || rc=$?
[ "$rc" = 78 ] || { cat "$IT/none.log"; it_fail "no Redis password: exit $rc, expected 78"; }
refused "$IT/none.log" redis.password_file NOAUTH
start_broker 2
rc=0
"$FG" run -c config/fundguard.json --set kafka.bootstrap_servers="\"$BOOT\"" \
    --set redis.port="$REDIS_PORT" --set redis.username='"fgstate"' \
    --set redis.password_file="\"$IT/wrong.pw\"" 2>"$IT/daemon.wrong.log" || rc=$?
[ "$rc" = 78 ] || { cat "$IT/daemon.wrong.log"; it_fail "daemon with a wrong Redis password: exit $rc, expected 78"; }
refused "$IT/daemon.wrong.log" redis.username WRONGPASS
[ $(($(date +%s) - t0)) -lt 30 ] || it_fail "refusals took $(($(date +%s) - t0)) s: they were retried"
it_log "redis: ACL user works; wrong and missing passwords refused at once (exit 78)"

# Kafka, client side only (see above).
topic_replay() {   # topic_replay OUT --set ...: replay --topic of one day
    _o=$1
    shift
    rc=0
    "$FG" replay -c config/fundguard.json --topic claims --from 2024-03-01T00:00:00+08:00 \
        --to 2024-03-02T00:00:00+08:00 --output "$IT/$_o.jsonl" --no-manifest \
        --set kafka.bootstrap_servers="\"$BOOT\"" "$@" 2>"$IT/$_o.log" || rc=$?
}
topic_replay sasl --set kafka.consumer.security.protocol='"SASL_PLAINTEXT"' \
    --set kafka.consumer.sasl.mechanisms='"PLAIN"' --set kafka.consumer.sasl.username='"fg"' \
    --set kafka.sasl_password_file="\"$IT/kafka.pw\""
[ "$rc" = 1 ] || { cat "$IT/sasl.log"; it_fail "SASL against the mock: exit $rc, expected 1"; }
grep -q "SASL.*mechanism PLAIN" "$IT/sasl.log" || { cat "$IT/sasl.log"; it_fail "no SASL PLAIN attempt"; }
grep -q -e "not-a-real-kafka-password" -e "$PASS" "$IT"/*.log && it_fail "a password reached a log"
openssl req -x509 -newkey rsa:2048 -nodes -keyout "$IT/ca.key" -out "$IT/ca.pem" -days 1 \
    -subj "/CN=fundguard test CA" 2>"$IT/openssl.log" || it_fail "openssl could not make a CA"
topic_replay tls --set kafka.consumer.security.protocol='"SSL"' \
    --set kafka.consumer.ssl.ca.location="\"$IT/ca.pem\""
[ "$rc" = 1 ] || { cat "$IT/tls.log"; it_fail "TLS against the mock: exit $rc, expected 1"; }
grep -q "SSL handshake" "$IT/tls.log" || { cat "$IT/tls.log"; it_fail "no TLS handshake attempt"; }
topic_replay noca --set kafka.consumer.security.protocol='"SSL"' \
    --set kafka.consumer.ssl.ca.location="\"$IT/missing.pem\""
[ "$rc" = 78 ] || { cat "$IT/noca.log"; it_fail "missing CA file: exit $rc, expected 78"; }
grep -q "config error: --set kafka.consumer.ssl.ca.location: " "$IT/noca.log" ||
    { cat "$IT/noca.log"; it_fail "missing CA file: the key is not named"; }
it_pass "Redis ACL user and refusals; SASL PLAIN and TLS attempted with their settings; bad CA exit 78"
