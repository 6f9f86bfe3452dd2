#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Writes expected_alerts.jsonl for one case from the current binary.
# Only for a new case or a deliberate change: read the diff before you
# commit it, since a blessed mistake becomes the expectation.
set -eu
case_dir=$1
FG=${FG:-build/fundguard}
args=""
[ -f "$case_dir/args" ] && args=$(cat "$case_dir/args")
config=config/fundguard.json
[ -f "$case_dir/config.json" ] && config="$case_dir/config.json"
# shellcheck disable=SC2086
"$FG" replay -c "$config" --input "$case_dir/events.jsonl" --canonical --no-progress \
    --output "$case_dir/expected_alerts.jsonl" --dead-letter /dev/null $args
git diff --stat -- "$case_dir" 2>/dev/null || true
