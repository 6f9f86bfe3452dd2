#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The audit manifest of a file replay (README "Audit replays"):
#  - written next to --output as <output>.manifest.json, or to --manifest;
#    none for a failed run (exit 65) or with --no-manifest;
#  - input sha256 and bytes equal sha256sum and the size of each file as
#    read (a .gz input: of the compressed bytes);
#  - alerts.sha256_canonical equals sha256sum of the --canonical output,
#    whether or not this run's output was canonical;
#  - each pack file's sha256 equals sha256sum of it, the pack sha256 equals
#    sha256sum of the files concatenated in the listed order, the config
#    sha256 equals that of `jq -cjS .config.effective`;
#  - the pack sha256 changes when one row of one pack table changes (a
#    copy of the pack), and only that file's entry changes;
#  - the same input replayed twice (once from another path) gives the same
#    manifest but for the command line, the paths and the run id.
set -eu
: "${FG:?}" "${PYTHON3:=python3}"
command -v jq >/dev/null || { echo "FAIL: jq is not installed"; exit 1; }
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fg-manifest.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: manifest: $*"; exit 1; }
sha() { sha256sum <"$1" | cut -c1-64; }

"$PYTHON3" tools/fg_gen.py --seed 7 --settlements 400 --days 10 --violation-rate 0.15 \
    --out "$tmp/stream.jsonl" --truth "$tmp/truth.csv" --quiet >/dev/null
replay() {
    "$FG" replay -c config/fundguard.json --no-progress "$@" 2>>"$tmp/stderr"
}

# a non-canonical run with the manifest next to its output
replay --input "$tmp/stream.jsonl" --output "$tmp/a.jsonl"
m=$tmp/a.jsonl.manifest.json
[ -s "$m" ] || fail "no manifest next to --output"
[ "$(jq -r .schema "$m")" = fundguard.replay_manifest.v1 ] || fail "schema"
[ "$(jq -r '.input.files[0].sha256' "$m")" = "$(sha "$tmp/stream.jsonl")" ] ||
    fail "input sha256 is not sha256sum's"
[ "$(jq -r '.input.files[0].bytes' "$m")" = "$(wc -c <"$tmp/stream.jsonl" | tr -d ' ')" ] ||
    fail "input bytes"
replay --input "$tmp/stream.jsonl" --output "$tmp/canon.jsonl" --canonical --no-manifest
[ ! -e "$tmp/canon.jsonl.manifest.json" ] || fail "--no-manifest wrote one"
[ "$(jq -r .alerts.sha256_canonical "$m")" = "$(sha "$tmp/canon.jsonl")" ] ||
    fail "alert sha256 of a non-canonical run is not sha256sum of the canonical output"
[ "$(jq -r .alerts.count "$m")" = "$(wc -l <"$tmp/canon.jsonl" | tr -d ' ')" ] ||
    fail "alert count"
[ "$(jq -r .counts.events "$m")" = 400 ] || fail "events count"

# stdout output: only with --manifest; then the canonical output's digest
replay --input "$tmp/stream.jsonl" --canonical --manifest "$tmp/stdout.manifest.json" \
    >"$tmp/stdout.jsonl"
[ "$(jq -r .alerts.sha256_canonical "$tmp/stdout.manifest.json")" = "$(sha "$tmp/stdout.jsonl")" ] ||
    fail "alert sha256 of a canonical run to stdout"

# pack, reference tables, config
for i in $(seq 0 $(($(jq '.rule_pack.files | length' "$m") - 1))); do
    f=$(jq -r ".rule_pack.files[$i].path" "$m")
    [ "$(jq -r ".rule_pack.files[$i].sha256" "$m")" = "$(sha "$f")" ] || fail "sha256 of $f"
done
[ "$(jq -r '.rule_pack.files[].path' "$m" | tr '\n' '\0' | xargs -0 cat | sha256sum | cut -c1-64)" = \
  "$(jq -r .rule_pack.sha256 "$m")" ] || fail "pack sha256 is not that of the files in order"
jq -r '.rule_pack.files[].role' "$m" | tr '\n' ' ' | grep -q '^pack.json .*catalogue price_list $' ||
    fail "pack files not in the documented order"
[ "$(jq -cjS .config.effective "$m" | sha256sum | cut -c1-64)" = "$(jq -r .config.sha256 "$m")" ] ||
    fail "config sha256"
replay --input "$tmp/stream.jsonl" --output "$tmp/set.jsonl" \
    --set detectors.abnormal_pricing.outlier_factor_pct=400
[ "$(jq -r .config.sha256 "$tmp/set.jsonl.manifest.json")" != "$(jq -r .config.sha256 "$m")" ] ||
    fail "--set did not change the config sha256"

# one row of one pack table changed
cp -r config/rules/nhsa "$tmp/pack"
sed '3s/,1,15,/,2,15,/' config/rules/nhsa/period_limit.csv >"$tmp/pack/period_limit.csv"
cmp -s config/rules/nhsa/period_limit.csv "$tmp/pack/period_limit.csv" && fail "the edit changed nothing"
replay --input "$tmp/stream.jsonl" --output "$tmp/p.jsonl" --set rules.pack="$tmp/pack"
mp=$tmp/p.jsonl.manifest.json
[ "$(jq -r .rule_pack.sha256 "$mp")" != "$(jq -r .rule_pack.sha256 "$m")" ] ||
    fail "pack sha256 unchanged after a pack file changed"
changed=$(jq -r '.rule_pack.files[] | "\(.role) \(.sha256)"' "$m" >"$tmp/f1"
          jq -r '.rule_pack.files[] | "\(.role) \(.sha256)"' "$mp" >"$tmp/f2"
          diff "$tmp/f1" "$tmp/f2" | grep '^>' | cut -d' ' -f2)
[ "$changed" = period ] || fail "changed pack entries: '$changed', expected only period"

# the same input twice, once from another path: equal but for the command
# line, the paths and the run id (derived from the input's name)
cp "$tmp/stream.jsonl" "$tmp/copy.jsonl"
replay --input "$tmp/copy.jsonl" --output "$tmp/b.jsonl"
norm() {
    jq -S 'del(.command_line, .working_directory, .alerts.output, .dead_letter.path,
               .run.run_id, .run.namespace) | .input.files[].path = "-"' "$1"
}
norm "$m" >"$tmp/n1"
norm "$tmp/b.jsonl.manifest.json" >"$tmp/n2"
diff "$tmp/n1" "$tmp/n2" || fail "same input, different manifests"

# gzip input: the digest of the bytes read (compressed), not of the text
gzip -c "$tmp/stream.jsonl" >"$tmp/stream.jsonl.gz"
replay --input "$tmp/stream.jsonl.gz" --output "$tmp/gz.jsonl"
[ "$(jq -r '.input.files[0].sha256' "$tmp/gz.jsonl.manifest.json")" = "$(sha "$tmp/stream.jsonl.gz")" ] ||
    fail "gzip input sha256 is not sha256sum of the .gz"
[ "$(jq -r .alerts.sha256_canonical "$tmp/gz.jsonl.manifest.json")" = "$(sha "$tmp/canon.jsonl")" ] ||
    fail "gzip input: alerts differ"

# a run that fails (input broken off) writes no manifest
head -c 20000 "$tmp/stream.jsonl.gz" >"$tmp/cut.gz"
if replay --input "$tmp/cut.gz" --output "$tmp/cut.jsonl"; then fail "a truncated gzip input exited 0"; fi
[ ! -e "$tmp/cut.jsonl.manifest.json" ] || fail "manifest written for a failed run"
grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp/stderr" && fail "sanitizer report"
echo "ok: manifest digests equal sha256sum's, pack/config hashes track changes, deterministic"
