#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The supervisor tools against a broker (devbroker, kcat; no Redis, no
# daemon): the sample's replayed alerts are produced into the alerts topic
# keyed by fixmedins_code, five of them twice (at-least-once redelivery).
#   compare kafka:alerts FILE: identical to the replay (duplicates counted
#     once), also over a period (--since seeks by message time); against a
#     replay without duplicate_billing, exactly the DUP-* alerts only in A.
#   report --input kafka:alerts: the same CSVs as the replay file's.
#   alerts --from-beginning --exit-at-end --rule DUP-PAIR: exactly the
#     DUP-PAIR alerts, each once, in the human form recomputed from the
#     contract; --json with filters: the input lines unchanged.
#   A RETRACT produced later (and one of an unknown alert, into a partition
#     that was empty): the next run of the same group (no --from-beginning)
#     prints only the two withdrawals, the run after that nothing (offsets
#     committed, also where a partition was only found at its end); a new
#     group from the beginning names the rule and institution withdrawn;
#     compare now finds the alert only in B.
#   SIGTERM: exit 0 with offsets committed; the daemon's group is refused.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init supervisor_tools
check="$PYTHON3 $IT_DIR/supervisor_check.py"
cmpcheck="$PYTHON3 tests/scripts/compare_check.py"

# replay NAME [--set K=V...]: the sample's alerts into $IT/NAME.jsonl.
replay() {
    _name=$1
    shift
    "$FG" replay -c config/fundguard.json --input config/samples/claims.jsonl.gz --no-progress \
        --output "$IT/$_name.jsonl" --dead-letter "$IT/$_name.dlq" "$@" \
        2>"$IT/replay.$_name.log" || it_fail "replay $_name failed"
}
replay ref
replay nodup --set detectors.duplicate_billing.enabled=false
N=$(wc -l <"$IT/ref.jsonl")
NPAIR=$(grep -c '"rule_id":"DUP-PAIR"' "$IT/ref.jsonl")
[ "$NPAIR" -ge 2 ] || it_fail "the sample gave $NPAIR DUP-PAIR alerts; need 2"

start_broker
$check keyed "$IT/ref.jsonl" >"$IT/ref.keyed"
kcat -P -b "$BOOT" -t alerts -K "$(printf '\t')" <"$IT/ref.keyed" || it_fail "kcat could not produce"
# Redelivery: the first five again (one of each would do; five is cheap).
head -n 5 "$IT/ref.keyed" | kcat -P -b "$BOOT" -t alerts -K "$(printf '\t')" ||
    it_fail "kcat could not produce"
[ "$(topic_count alerts)" -eq $((N + 5)) ] || it_fail "alerts topic holds $(topic_count alerts), produced $((N + 5))"
kcat -C -b "$BOOT" -t alerts -e -q -f '%s\n' >"$IT/topic.jsonl"

CFG=$(tool_cfg)

# 1. compare: the topic (as read by kcat) recomputed independently.
fg_compare 0 live kafka:alerts "$IT/ref.jsonl"
$cmpcheck check "$IT/topic.jsonl" "$IT/ref.jsonl" --json "$IT/live.json" \
    --expect a.duplicates=5 --expect a.lines=$((N + 5)) --expect total.both="$N" ||
    it_fail "compare kafka:alerts vs the replay"
fg_compare 0 period kafka:alerts "$IT/ref.jsonl" --since 2024-06-25 --until 2024-06-28
$cmpcheck check "$IT/topic.jsonl" "$IT/ref.jsonl" --json "$IT/period.json" \
    --since 2024-06-25 --until 2024-06-28 --expect a.lines=$((N + 5)) ||
    it_fail "compare kafka:alerts --since/--until"
fg_compare 1 whatif kafka:alerts "$IT/nodup.jsonl"
$cmpcheck removed "$IT/ref.jsonl" "$IT/nodup.jsonl" "DUP-*" || it_fail "the what-if replay is not DUP-less"
$cmpcheck check "$IT/topic.jsonl" "$IT/nodup.jsonl" --json "$IT/whatif.json" \
    --expect total.only_a="$(grep -c '"rule_id":"DUP-' "$IT/ref.jsonl")" ||
    it_fail "compare kafka:alerts vs the what-if replay"
it_log "compare: topic equals the replay; the what-if differs by the DUP-* alerts"

# report --input kafka:TOPIC: the same CSVs as from the file, duplicates counted.
# shellcheck disable=SC2086
"$FG" report --input kafka:alerts $CFG --csv-dir "$IT/report.kafka" 2>"$IT/report.kafka.log" ||
    { cat "$IT/report.kafka.log"; it_fail "report --input kafka:alerts failed"; }
"$FG" report --input "$IT/ref.jsonl" --csv-dir "$IT/report.file" 2>"$IT/report.file.log" ||
    it_fail "report of the replay failed"
for f in by_rule.csv by_institution.csv by_day.csv; do
    cmp -s "$IT/report.kafka/$f" "$IT/report.file/$f" || it_fail "report from the topic: $f differs"
done
grep -q "alerts=$N .* duplicates=5 " "$IT/report.kafka.log" ||
    { cat "$IT/report.kafka.log"; it_fail "report from the topic: wrong summary"; }

# alerts OUT [OPTIONS]: `fundguard alerts --exit-at-end`, stdout to OUT.
alerts() {
    _o=$1
    shift
    set +e
    # shellcheck disable=SC2086
    "$FG" alerts $CFG --exit-at-end "$@" >"$_o" 2>"$_o.log"
    _rc=$?
    set -e
    [ "$_rc" = 0 ] || { cat "$_o.log"; it_fail "alerts $* exited $_rc"; }
}
same_sorted() {
    sort "$1" >"$1.sorted"
    cmp -s "$1.sorted" "$2" || { diff "$1.sorted" "$2" | head -20; it_fail "$3"; }
}

# 2. alerts: exactly the DUP-PAIR alerts, once each, in the human form.
alerts "$IT/pair.txt" --group it-g1 --from-beginning --rule DUP-PAIR
$check expect human "$IT/ref.jsonl" --rule DUP-PAIR >"$IT/pair.want"
same_sorted "$IT/pair.txt" "$IT/pair.want" "alerts --rule DUP-PAIR printed other lines"
grep -q "redelivered" "$IT/pair.txt.log" || it_fail "no summary on stderr"

# --json with filters: the alerts unchanged.
INST=$(awk -F'\t' '{ print $1 }' "$IT/ref.keyed" | sort | uniq -c | sort -rn | awk 'NR == 1 { print $2 }')
alerts "$IT/inst.jsonl" --group it-g2 --from-beginning --json --institution "$INST"
$check expect json "$IT/ref.jsonl" --institution "$INST" >"$IT/inst.want"
same_sorted "$IT/inst.jsonl" "$IT/inst.want" "alerts --json --institution $INST is not the input"
alerts "$IT/sus.jsonl" --group it-g3 --from-beginning --json --result SUSPECT --since 2024-06-25 \
    --until 2024-07-01
$check expect json "$IT/ref.jsonl" --result SUSPECT --since 2024-06-25 --until 2024-07-01 \
    >"$IT/sus.want"
[ -s "$IT/sus.want" ] || it_fail "no SUSPECT alert in the period to test with"
same_sorted "$IT/sus.jsonl" "$IT/sus.want" "alerts --json --result SUSPECT --since/--until"
alerts "$IT/sev.jsonl" --group it-g3b --from-beginning --json --severity 3
$check expect json "$IT/ref.jsonl" --severity 3 >"$IT/sev.want"
same_sorted "$IT/sev.jsonl" "$IT/sev.want" "alerts --json --severity 3"
it_log "alerts: filters give exactly the expected alerts"

# 3. A RETRACT produced later.
what=$($check retract "$IT/ref.jsonl" DUP-PAIR "$IT/retract.keyed" "$IT/retract.id")
JR=$(cat "$IT/retract.id")
kcat -P -b "$BOOT" -t alerts -K "$(printf '\t')" <"$IT/retract.keyed" || it_fail "kcat could not produce"
# And a RETRACT of an alert never seen, into a partition that was empty
# when it-g1 stopped: its position there (0, found at the end) must have
# been committed too, or the next run would start after this message.
EMPTY=$(kcat -C -b "$BOOT" -t alerts -e -q -f '%p\n' | sort -n | uniq |
        awk 'BEGIN { e = -1 } { seen[$1] = 1 } END { for (p = 0; p < 16; p++) if (!seen[p]) { print p; exit } }')
[ -n "$EMPTY" ] || it_fail "no empty partition to test with"
UNKNOWN=00000000000000000000000000000000
printf '{"schema":"nhsa.alert.v1","alert_type":"RETRACT","jr_id":"%s"}\n' "$UNKNOWN" |
    kcat -P -b "$BOOT" -t alerts -p "$EMPTY" -k H-unknown || it_fail "kcat could not produce"
alerts "$IT/again.txt" --group it-g1 --rule DUP-PAIR
[ "$(wc -l <"$IT/again.txt")" -eq 2 ] && grep -q "已撤回 withdrawn  jr_id=$JR" "$IT/again.txt" &&
    grep -q "已撤回 withdrawn  jr_id=$UNKNOWN  (原预警本次未读到 original not seen)" "$IT/again.txt" ||
    { cat "$IT/again.txt"; it_fail "the same group's next run did not print just the two withdrawals"; }
alerts "$IT/third.txt" --group it-g1
[ ! -s "$IT/third.txt" ] || { cat "$IT/third.txt"; it_fail "a third run printed again: offsets not committed"; }
alerts "$IT/fresh.txt" --group it-g4 --from-beginning --rule DUP-PAIR
grep "已撤回 withdrawn" "$IT/fresh.txt" >"$IT/fresh.withdrawn" || it_fail "no withdrawal from the beginning"
inst=${what%% *} rname=${what#* }
grep -q "jr_id=$JR  $inst  $rname DUP-PAIR\$" "$IT/fresh.withdrawn" ||
    { cat "$IT/fresh.withdrawn"; it_fail "the withdrawal does not name $inst and $rname"; }
grep -v "已撤回 withdrawn" "$IT/fresh.txt" >"$IT/fresh.alerts" || true
same_sorted "$IT/fresh.alerts" "$IT/pair.want" "a new group from the beginning printed other alerts"
fg_compare 1 withdrawn kafka:alerts "$IT/ref.jsonl"
kcat -C -b "$BOOT" -t alerts -e -q -f '%s\n' >"$IT/topic2.jsonl"
$cmpcheck check "$IT/topic2.jsonl" "$IT/ref.jsonl" --json "$IT/withdrawn.json" \
    --expect a.withdrawn=1 --expect a.retractions_without_alert=1 --expect total.only_b=1 \
    --expect examples.only_b.0.jr_id="$JR" ||
    it_fail "compare after the RETRACT"
it_log "RETRACT: shown as withdrawn, offsets committed, compare sees it"

# 4. SIGTERM: stops with exit 0 and commits what it showed.
# shellcheck disable=SC2086
"$FG" alerts $CFG --group it-g5 --from-beginning >"$IT/term.txt" 2>"$IT/term.log" &
TAIL_PID=$!
printed_all() { [ "$(wc -l <"$IT/term.txt")" -ge $((N + 2)) ]; }
wait_until 60 printed_all ||
    { kill -KILL "$TAIL_PID"; it_fail "alerts printed $(wc -l <"$IT/term.txt") of $((N + 2)) lines"; }
kill -TERM "$TAIL_PID"
if wait "$TAIL_PID"; then rc=0; else rc=$?; fi
[ "$rc" = 0 ] || { cat "$IT/term.log"; it_fail "alerts exited $rc on SIGTERM"; }
alerts "$IT/after-term.txt" --group it-g5
[ ! -s "$IT/after-term.txt" ] || it_fail "after SIGTERM the group's offsets were not committed"

# 5. The daemon's group is refused.
set +e
# shellcheck disable=SC2086
"$FG" alerts $CFG --group fundguard --exit-at-end >/dev/null 2>"$IT/refuse.log"
rc=$?
set -e
[ "$rc" = 2 ] || it_fail "alerts --group <daemon's group> exited $rc, expected 2"
it_pass "compare over Kafka; alerts filters, RETRACT, committed offsets, SIGTERM"
