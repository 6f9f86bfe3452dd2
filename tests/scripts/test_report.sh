#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `fundguard report`: the alerts of the bundled sample, plus hand-written
# RETRACTs (one before its ALERT, one for an unknown jr_id, one repeated),
# a redelivered ALERT, bad lines and an ALERT full of HTML and CSV
# metacharacters, across a plain and a gzip input. An independent Python
# recomputation must match the CSVs to the fen; headless Chromium must
# render the HTML with the expected table rows and three drawn SVG charts.
# The report and its screenshot are kept in $FG_TMP/report for a look.
set -eu
: "${FG:?}" "${PYTHON3:=python3}"
out="${FG_TMP:-${TMPDIR:-/tmp}/fg-tmp}/report"
rm -rf "$out"
mkdir -p "$out"
out=$(cd "$out" && pwd)
fail() { echo "FAIL: $*"; exit 1; }
# must LOG CMD...: run CMD with stderr to LOG; on failure show LOG and fail.
must() {
    log=$1
    shift
    set +e
    "$@" 2>"$log"
    rc=$?
    set -e
    [ "$rc" = 0 ] || { tail -20 "$log"; fail "'$*' exited $rc"; }
}
check=tests/scripts/report_check.py

# 1. Alerts from the sample, then the hand-written extras.
must "$out/replay.err" "$FG" replay -c config/fundguard.json \
    --input config/samples/claims.jsonl.gz --no-progress --output "$out/alerts.jsonl" \
    --dead-letter "$out/replay.dlq"
[ "$(wc -l <"$out/alerts.jsonl")" -ge 20 ] || fail "the sample gave too few alerts to test with"

"$PYTHON3" - "$out" <<'PY'
import gzip, json, sys
out = sys.argv[1]
lines = open(out + "/alerts.jsonl", encoding="utf-8").read().splitlines()
ids = [json.loads(lines[i])["jr_id"] for i in (0, 9, 19)]
def retract(jr):
    return json.dumps({"schema": "nhsa.alert.v1", "alert_type": "RETRACT", "jr_id": jr})
odd = json.loads(lines[4])
odd.update(jr_id="e" * 32, rule_id="TEST-ESC", rule_name="<s>转义</s> & \"测试\" 'q'",
           fixmedins_code="H33<i>,\"9\"", result_type="SUSPECT", vola_amt="12.30")
bad_amount = json.loads(lines[5])
bad_amount.update(jr_id="f" * 32, vola_amt="12.345")
# a.jsonl is read first: its RETRACTs come before their ALERTs.
with open(out + "/a.jsonl", "w", encoding="utf-8") as f:
    f.write("\n".join([retract(ids[0]), retract(ids[1]), retract(ids[2]),
                       retract("0" * 32), retract(ids[0]), "",
                       "this is not json",
                       json.dumps({"schema": "nhsa.alert.v0", "alert_type": "ALERT",
                                   "jr_id": "x"}),
                       json.dumps(bad_amount, ensure_ascii=False)]) + "\n")
with gzip.open(out + "/b.jsonl.gz", "wt", encoding="utf-8") as f:
    f.write("\n".join(lines + [lines[4], json.dumps(odd, ensure_ascii=False)]) + "\n")
PY

# 2. The report, twice: the same input gives the same bytes.
report() {
    "$FG" report --input "$out/a.jsonl" --input "$out/b.jsonl.gz" --top 5 \
        --title "预警报告 <test> & co" "$@"
}
must "$out/report.err" report --html "$out/report.html" --csv-dir "$out/csv"
cat "$out/report.err"
must "$out/report2.err" report --html "$out/report2.html"
cmp "$out/report.html" "$out/report2.html" || fail "two reports of the same input differ"

# 3. Independent recomputation against the CSVs and the stderr summary.
"$PYTHON3" "$check" csv "$out/a.jsonl" "$out/b.jsonl.gz" --csv-dir "$out/csv" \
    --stderr "$out/report.err" --expect withdrawn=3 --expect duplicates=1 \
    --expect retractions_without_alert=1 --expect bad_lines=3

# Exit codes: no output requested, unreadable input, unwritable output.
expect_rc() {
    want=$1
    shift
    set +e
    "$@" >/dev/null 2>"$out/rc.err"
    got=$?
    set -e
    [ "$got" = "$want" ] || { cat "$out/rc.err"; fail "'$*' exited $got, expected $want"; }
}
expect_rc 2 "$FG" report --input "$out/a.jsonl"
expect_rc 2 "$FG" report --html "$out/x.html" --top 0
expect_rc 65 "$FG" report --input "$out/missing.jsonl" --html "$out/x.html"
[ ! -e "$out/x.html" ] || fail "a report was written although an input was unreadable"
if [ -w /dev/full ]; then
    expect_rc 1 "$FG" report --input "$out/a.jsonl" --html /dev/full
fi

# 4. Render it in headless Chromium.
chrome=$(command -v chromium || command -v chromium-browser || true)
[ -n "$chrome" ] || fail "chromium is not installed (apt-get install -y chromium)"
chrome() {
    HOME="$out/home" XDG_CONFIG_HOME="$out/home" XDG_CACHE_HOME="$out/home" \
        timeout 60 "$chrome" --headless --no-sandbox --disable-gpu --no-first-run \
        --disable-dev-shm-usage --user-data-dir="$out/chrome" "$@"
}
mkdir -p "$out/home"
must "$out/chrome-dom.err" chrome --dump-dom "file://$out/report.html" >"$out/dom.html"
must "$out/chrome-shot.err" chrome --screenshot="$out/report.png" --window-size=1280,2000 \
    "file://$out/report.html" >/dev/null
[ -f "$out/report.png" ] || fail "no screenshot"
size=$(wc -c <"$out/report.png")
[ "$size" -gt 20000 ] || fail "screenshot is only $size bytes"
[ "$(head -c 8 "$out/report.png" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
    fail "screenshot is not a PNG"

rules=$(($(wc -l <"$out/csv/by_rule.csv") - 1))
insts=$(($(wc -l <"$out/csv/by_institution.csv") - 1))
days=$(($(wc -l <"$out/csv/by_day.csv") - 1))
[ "$insts" -gt 5 ] || fail "too few institutions ($insts) to test --top 5"
"$PYTHON3" "$check" dom "$out/dom.html" --rules "$rules" --institutions 5 --days "$days" \
    --text '<s>转义</s> & "测试" '"'q'" --text '预警报告 <test> & co' --text '明确违规' \
    --absent-tag s --absent-tag test
# The odd institution ranks low, so only the CSV shows it; check it there.
grep -q '^[0-9]*,"H33<i>,""9""",' "$out/csv/by_institution.csv" ||
    fail "fixmedins_code with a comma and quotes is not quoted in by_institution.csv"
rm -rf "$out/chrome" "$out/home"   # profiles are large; the report and PNG stay
echo "ok: report $(wc -c <"$out/report.html") bytes, screenshot $out/report.png ($size bytes)"
