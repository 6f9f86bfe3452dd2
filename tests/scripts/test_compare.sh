#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `fundguard compare` on the alerts of the bundled sample: the replay
# against itself (and against a second replay, whose run fields differ) is
# identical; a replay with duplicate_billing disabled differs by exactly the
# DUP-* alerts, only in A, one with CAT-AGE in disabled_rules by exactly the
# CAT-AGE alerts; an edited vola_cont is "changed"; redelivered
# lines count once, RETRACTs withdraw (before or after their ALERT); a
# jr_id with two contents in one source is a conflict; --ignore-rule and
# --since/--until select; exit codes 0/1/2/65/78. Every comparison is
# recomputed independently by compare_check.py (counts, fen sums, ranking,
# examples) against the JSON summary and the human per-rule table.
set -eu
: "${FG:?}" "${PYTHON3:=python3}"
out="${FG_TMP:-${TMPDIR:-/tmp}/fg-tmp}/compare"
rm -rf "$out"
mkdir -p "$out"
fail() { echo "FAIL: $*"; exit 1; }
check="$PYTHON3 tests/scripts/compare_check.py"

# replay NAME [--set K=V...]: the sample's alerts into $out/NAME.jsonl.
replay() {
    name=$1
    shift
    "$FG" replay -c config/fundguard.json --input config/samples/claims.jsonl.gz \
        --no-progress --output "$out/$name.jsonl" --dead-letter "$out/$name.dlq" "$@" \
        2>"$out/$name.err" || { tail "$out/$name.err"; fail "replay $name failed"; }
}

# compare WANT_RC NAME A B [OPTIONS...]: JSON to $out/NAME.json and the
# human output to $out/NAME.txt, both with exit code WANT_RC; then the
# independent check (options after -- go to compare_check.py only).
compare() {
    want=$1 name=$2 a=$3 b=$4
    shift 4
    opts= extra=
    while [ $# -gt 0 ]; do
        if [ "$1" = -- ]; then shift; extra="$*"; break; fi
        opts="$opts $1"
        shift
    done
    for mode in json human; do
        flag=
        [ $mode = json ] && flag=--json
        set +e
        # shellcheck disable=SC2086
        "$FG" compare "$a" "$b" $opts $flag >"$out/$name.$mode" 2>"$out/$name.$mode.err"
        rc=$?
        set -e
        [ "$rc" = "$want" ] || { cat "$out/$name.$mode.err"; head -40 "$out/$name.$mode";
                                 fail "compare $name ($mode) exited $rc, expected $want"; }
    done
    # shellcheck disable=SC2086
    $check check "$a" "$b" --json "$out/$name.json" --human "$out/$name.human" $opts $extra ||
        { head -60 "$out/$name.human"; fail "compare $name: independent check failed"; }
}

replay a
replay a2 --canonical
replay nodup --set detectors.duplicate_billing.enabled=false
n=$(wc -l <"$out/a.jsonl")
[ "$n" -ge 20 ] || fail "the sample gave too few alerts ($n) to test with"
grep -q '"DUP-' "$out/a.jsonl" || fail "the sample gave no DUP-* alert"

# 1. Identical: itself, and a canonical second replay (no replay, source,
# detected_at): everything in "both".
compare 0 self "$out/a.jsonl" "$out/a.jsonl" -- --expect total.both="$n" --expect identical=true
compare 0 rerun "$out/a.jsonl" "$out/a2.jsonl" -- --expect total.both="$n"
grep -q '一致 IDENTICAL' "$out/rerun.human" || fail "no IDENTICAL verdict"

# 2. What-if: duplicate_billing off. Exactly the DUP-* alerts, only in A.
$check removed "$out/a.jsonl" "$out/nodup.jsonl" "DUP-*"
ndup=$(grep -c '"rule_id":"DUP-' "$out/a.jsonl")
compare 1 whatif "$out/a.jsonl" "$out/nodup.jsonl" -- --expect total.only_a="$ndup" \
    --expect total.only_b=0 --expect total.changed=0 --expect total.both=$((n - ndup))
grep -q '重复收费-互斥项目同日收费' "$out/whatif.human" || fail "no Chinese rule name in the table"
grep -q '按机构 By institution' "$out/whatif.human" || fail "no institution table"
# Leaving the DUP rules out makes the two agree.
compare 0 ignored "$out/a.jsonl" "$out/nodup.jsonl" --ignore-rule DUP-EXACT \
    --ignore-rule DUP-PAIR --ignore-rule DUP-DAILY-CAP --ignore-rule DUP-PERIOD \
    -- --expect a.ignored="$ndup"
# A period: only the DUP-* alerts with event_time in it differ. The bounds
# are event times of DUP-* alerts: the one at --since is in, the one at
# --until is out.
compare 1 period "$out/a.jsonl" "$out/nodup.jsonl" --since 2024-06-22 \
    --until 2024-06-28T12:00:00+08:00
bounds=$("$PYTHON3" -c 'import json, sys
t = sorted(a["event_time"] for a in map(json.loads, open(sys.argv[1])) if a["rule_id"].startswith("DUP-"))
print(t[1], t[-2])' "$out/a.jsonl")
compare 1 period_bounds "$out/a.jsonl" "$out/nodup.jsonl" --since "${bounds% *}" \
    --until "${bounds#* }" -- --expect total.only_a=$((ndup - 3))

# One rule off (disabled_rules): exactly its alerts, only in A; the other
# rules of the detector are untouched.
replay noage --set detectors.out_of_catalogue.disabled_rules=CAT-AGE
$check removed "$out/a.jsonl" "$out/noage.jsonl" CAT-AGE
nage=$(grep -c '"rule_id":"CAT-AGE"' "$out/a.jsonl")
compare 1 whatif_rule "$out/a.jsonl" "$out/noage.jsonl" -- --expect total.only_a="$nage" \
    --expect total.only_b=0 --expect total.both=$((n - nage))

# 3. Variants of A written by hand: a changed vola_cont, redelivered lines
# (with other run fields), RETRACTs, a conflict, bad lines.
"$PYTHON3" - "$out" <<'PY'
import json, sys
out = sys.argv[1]
lines = open(out + "/a.jsonl", encoding="utf-8").read().splitlines()
alerts = [json.loads(l) for l in lines]
def dump(objs, name):
    with open(out + "/" + name, "w", encoding="utf-8") as f:
        for o in objs:
            f.write((o if isinstance(o, str) else json.dumps(o, ensure_ascii=False)) + "\n")
def retract(jr):
    return {"schema": "nhsa.alert.v1", "alert_type": "RETRACT", "jr_id": jr}
# changed: one alert's vola_cont edited.
changed = [dict(a) for a in alerts]
changed[3]["vola_cont"] += " (edited)"
dump(changed, "changed.jsonl")
open(out + "/changed.id", "w").write(alerts[3]["jr_id"])
# redelivery: three alerts again, with other run fields and key order;
# two withdrawn (one RETRACT before its ALERT, one after, one repeated);
# a RETRACT of an unknown jr_id.
redo = []
for a in (alerts[0], alerts[5], alerts[7]):
    b = dict(reversed(list(a.items())))
    b.update(replay=False, source={"topic": "alerts", "partition": 1, "offset": 9},
             detected_at="2030-01-01T00:00:00.000+08:00")
    redo.append(b)
dump([retract(alerts[1]["jr_id"])] + alerts + redo +
     [retract(alerts[2]["jr_id"]), retract(alerts[2]["jr_id"]), retract("0" * 32)],
     "redelivered.jsonl")
dump([a for i, a in enumerate(alerts) if i not in (1, 2)], "withdrawn_removed.jsonl")
# conflict: a second content for one jr_id in the same source.
other = dict(alerts[4])
other["vola_amt"] = "99999.99"
dump(alerts + [other], "conflict.jsonl")
open(out + "/conflict.id", "w").write(alerts[4]["jr_id"])
# bad lines.
dump(alerts + ["not json", '{"schema":"nhsa.alert.v1","alert_type":"ALERT","jr_id":"x"}'],
     "bad.jsonl")
PY
compare 1 changed "$out/a.jsonl" "$out/changed.jsonl" -- --expect total.changed=1 \
    --expect total.both=$((n - 1)) --expect examples.changed.0.jr_id="$(cat "$out/changed.id")" \
    --expect examples.changed.0.fields=vola_cont
grep -q "fields: vola_cont" "$out/changed.human" || fail "changed alert shown without its field"

# Withdrawn alerts leave the redelivered copy; without them A equals it.
compare 1 redelivered "$out/a.jsonl" "$out/redelivered.jsonl" -- --expect b.duplicates=3 \
    --expect b.withdrawn=2 --expect b.retractions_without_alert=1 --expect total.only_a=2 \
    --expect total.only_b=0
compare 0 redelivered_ok "$out/withdrawn_removed.jsonl" "$out/redelivered.jsonl" -- \
    --expect b.duplicates=3 --expect total.both=$((n - 2))

compare 1 conflict "$out/a.jsonl" "$out/conflict.jsonl" -- --expect total.conflicts=1 \
    --expect b.conflicts=1 --expect total.both=$((n - 1)) \
    --expect examples.conflicts.0.jr_id="$(cat "$out/conflict.id")"
grep -q 'Conflicting within a source' "$out/conflict.human" || fail "conflict not reported"

compare 1 bad "$out/a.jsonl" "$out/bad.jsonl" -- --expect b.bad_lines=2 --expect total.both="$n"

# 4. gzip and stdin.
gzip -c "$out/a.jsonl" >"$out/a.jsonl.gz"
"$FG" compare "$out/a.jsonl.gz" - <"$out/a2.jsonl" >/dev/null || fail "gzip vs stdin differ"

# 5. Exit codes: usage, unreadable input, bad config (only read for kafka:).
expect_rc() {
    want=$1
    shift
    set +e
    "$@" >/dev/null 2>"$out/rc.err"
    got=$?
    set -e
    [ "$got" = "$want" ] || { cat "$out/rc.err"; fail "'$*' exited $got, expected $want"; }
}
expect_rc 2 "$FG" compare "$out/a.jsonl"
expect_rc 2 "$FG" compare - -
expect_rc 2 "$FG" compare "$out/a.jsonl" "$out/a.jsonl" --since yesterday
expect_rc 65 "$FG" compare "$out/a.jsonl" "$out/missing.jsonl"
expect_rc 78 "$FG" compare kafka:alerts "$out/a.jsonl" -c "$out/missing.json"
expect_rc 78 "$FG" compare kafka:alerts "$out/a.jsonl" --set kafka.nonsense=1
echo "ok: compare: $n alerts, $ndup DUP-* only in A, changed, redelivered, withdrawn, conflict, bad lines, filters, exit codes"
