#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Runs one golden case through the real binary and compares byte for byte.
#
# A case is a folder tests/fixtures/<detector>/<case>/ with:
#   events.jsonl            the input (JSON Lines)
#   expected_alerts.jsonl   the canonical alerts replay must write
#   args (optional)         extra replay arguments, e.g. --set overrides
#   expected_dlq.txt (opt.) one dead-letter reason per line, in order
#   expected_summary.txt (opt.) key=value counters the replay summary
#                           line must show, one per line
#   README (optional)       what the case shows and why the output is right
set -eu
case_dir=$1
: "${FG:?FG must point at the fundguard binary}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fg-golden.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

args=""
[ -f "$case_dir/args" ] && args=$(cat "$case_dir/args")
config=config/fundguard.json
[ -f "$case_dir/config.json" ] && config="$case_dir/config.json"

# shellcheck disable=SC2086
"$FG" replay -c "$config" --input "$case_dir/events.jsonl" --canonical --no-progress \
    --output "$tmp/alerts.jsonl" --dead-letter "$tmp/dlq.jsonl" $args 2>"$tmp/stderr" || {
    echo "replay failed:"; cat "$tmp/stderr"; exit 1; }

if ! diff -u "$case_dir/expected_alerts.jsonl" "$tmp/alerts.jsonl"; then
    echo "FAIL: $case_dir: alerts differ from expected_alerts.jsonl"
    exit 1
fi
if [ -f "$case_dir/expected_dlq.txt" ]; then
    touch "$tmp/dlq.jsonl"
    "${PYTHON3:-python3}" -c '
import json, sys
for line in open(sys.argv[1], encoding="utf-8"):
    print(json.loads(line)["reason"])' "$tmp/dlq.jsonl" >"$tmp/reasons.txt"
    diff -u "$case_dir/expected_dlq.txt" "$tmp/reasons.txt" || {
        echo "FAIL: $case_dir: dead-letter reasons differ"; exit 1; }
fi
if [ -f "$case_dir/expected_summary.txt" ]; then
    summary=$(grep '^fundguard replay: ' "$tmp/stderr" || true)
    while IFS= read -r kv; do
        [ -n "$kv" ] || continue
        case " $summary " in
        *" $kv "*) ;;
        *) echo "FAIL: $case_dir: summary lacks $kv:"; echo "$summary"; exit 1 ;;
        esac
    done <"$case_dir/expected_summary.txt"
fi
echo "ok: $case_dir ($(wc -l <"$tmp/alerts.jsonl") alerts)"
