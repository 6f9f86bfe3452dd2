#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# valgrind on the replay path: the shipped sample replayed under memcheck
# must report no errors and no definite or indirect leaks. Skipped (and
# says so) in the sanitized build or where valgrind is not installed.
set -eu
: "${FG:?}"
if [ -n "${FG_SANITIZED:-}" ] || [ -z "${VALGRIND:-}" ] || [ ! -x "${VALGRIND}" ]; then
    echo "skipped: valgrind not applicable to this build"
    exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fg-valgrind.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$VALGRIND" --quiet --leak-check=full --show-leak-kinds=definite,indirect \
    --errors-for-leak-kinds=definite,indirect --error-exitcode=3 \
    "$FG" replay -c config/fundguard.json --input config/samples/claims.jsonl.gz \
    --canonical --no-progress --output "$tmp/alerts.jsonl" --dead-letter "$tmp/dlq" \
    2>"$tmp/stderr" || { cat "$tmp/stderr"; echo "FAIL: valgrind"; exit 1; }
echo "ok: valgrind clean on the sample replay ($(wc -l <"$tmp/alerts.jsonl") alerts)"
