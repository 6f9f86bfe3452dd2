# SPDX-License-Identifier: Apache-2.0
# Shared helpers for the test scripts (sourced, not run).

# free_port: print a TCP port on 127.0.0.1 that nothing listens on now.
free_port() {
    "${PYTHON3:-python3}" -c 'import socket
s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1]); s.close()'
}

# wait_until SECONDS CMD...: poll CMD every 50 ms until it succeeds or the
# deadline passes (returns 1 then). Never a bare sleep for synchronisation.
wait_until() {
    deadline=$(($(date +%s) + $1))
    shift
    while ! "$@" >/dev/null 2>&1; do
        [ "$(date +%s)" -ge "$deadline" ] && return 1
        sleep 0.05
    done
    return 0
}

# start_redis DIR: a private redis-server on a free loopback port with its
# data in DIR; sets REDIS_PORT and REDIS_PID.
start_redis() {
    REDIS_PORT=$(free_port)
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$1" --save "" \
        --appendonly yes --daemonize no --logfile "$1/redis.log" >/dev/null 2>&1 &
    REDIS_PID=$!
    wait_until 10 redis-cli -p "$REDIS_PORT" ping || { echo "redis did not start"; cat "$1/redis.log"; return 1; }
}

stop_redis() {
    [ -n "${REDIS_PID:-}" ] && kill "$REDIS_PID" 2>/dev/null && wait "$REDIS_PID" 2>/dev/null
    REDIS_PID=
}
