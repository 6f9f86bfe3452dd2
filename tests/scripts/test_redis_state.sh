#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The Redis backend's transaction fencing, against a private redis-server:
# tests/redis/test_redis_state.c.
set -eu
: "${FG_REDIS_STATE:?}"
. tests/scripts/lib.sh
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fg-rstate.XXXXXX")
trap 'stop_redis; rm -rf "$tmp"' EXIT
command -v redis-server >/dev/null || { echo "FAIL: redis-server is not installed"; exit 1; }
start_redis "$tmp"
FG_REDIS_PORT=$REDIS_PORT "$FG_REDIS_STATE"
