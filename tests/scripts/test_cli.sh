#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Command-line contract (CONTRACT §1): exit codes 0/2/65/78, a config error
# that names file, line and key, stdin and gzip input giving the same
# alerts, and `detectors` listing every rule id.
set -eu
: "${FG:?}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fg-cli.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
fail() { echo "FAIL: $*"; exit 1; }

expect_rc() {
    want=$1
    shift
    set +e
    "$@" >"$tmp/out" 2>"$tmp/err"
    got=$?
    set -e
    [ "$got" = "$want" ] || { cat "$tmp/err"; fail "'$*' exited $got, expected $want"; }
}

expect_rc 0 "$FG" check-config -c config/fundguard.json
expect_rc 2 "$FG" replay --no-such-flag
expect_rc 2 "$FG" no-such-command
expect_rc 65 "$FG" replay -c config/fundguard.json --input "$tmp/missing.jsonl" --output "$tmp/a"

# A bad value: the message names the file, the line and the key.
sed 's/"child_max_age": 14/"child_max_age": 99/' config/fundguard.json >"$tmp/bad.json"
line=$(grep -n '"child_max_age": 99' "$tmp/bad.json" | cut -d: -f1)
expect_rc 78 "$FG" check-config -c "$tmp/bad.json"
grep -q "$tmp/bad.json:$line: key 'detectors.out_of_catalogue.child_max_age'" "$tmp/err" ||
    { cat "$tmp/err"; fail "config error does not name file:line:key"; }
expect_rc 78 "$FG" check-config -c config/fundguard.json --set detectors.nope.enabled=false
# disabled_rules names rules of its own detector only.
expect_rc 78 "$FG" check-config -c config/fundguard.json \
    --set detectors.duplicate_billing.disabled_rules=CAT-AGE
grep -q "detectors.duplicate_billing.disabled_rules.*CAT-AGE is not a rule of duplicate_billing" \
    "$tmp/err" || { cat "$tmp/err"; fail "disabled_rules error does not name the rule"; }
expect_rc 78 "$FG" replay -c "$tmp/bad.json" --input config/samples/claims.jsonl.gz

# Secret files others can read are refused (exit 78), naming the file:
# the Redis password before any connection, the SASL password when a Kafka
# client is configured.
echo not-a-real-password >"$tmp/pw"
chmod 644 "$tmp/pw"
"${PYTHON3:-python3}" - config/fundguard.json "$tmp/pw" "$tmp/secret.json" <<'PY'
import json, sys
c = json.load(open(sys.argv[1], encoding="utf-8"))
c["kafka"]["sasl_password_file"] = sys.argv[2]
c["redis"]["password_file"] = sys.argv[2]
json.dump(c, open(sys.argv[3], "w", encoding="utf-8"), indent=1)
PY
expect_rc 78 "$FG" replay -c "$tmp/secret.json" --state redis --no-progress \
    --input config/samples/claims.jsonl.gz --output "$tmp/a"
grep -q "key 'redis.password_file': $tmp/pw: readable by others" "$tmp/err" ||
    { cat "$tmp/err"; fail "a world-readable redis.password_file was not refused by name"; }
expect_rc 78 "$FG" compare kafka:alerts "$tmp/a" -c "$tmp/secret.json"
grep -q "key 'kafka.sasl_password_file': $tmp/pw: readable by others" "$tmp/err" ||
    { cat "$tmp/err"; fail "a world-readable kafka.sasl_password_file was not refused by name"; }

# stdin and gzip give the same alerts.
zcat config/samples/claims.jsonl.gz |
    "$FG" replay -c config/fundguard.json --input - --canonical --no-progress \
        --output "$tmp/stdin.jsonl" --dead-letter "$tmp/dlq" 2>/dev/null
"$FG" replay -c config/fundguard.json --input config/samples/claims.jsonl.gz --canonical \
    --no-progress --output "$tmp/gz.jsonl" --dead-letter "$tmp/dlq" 2>"$tmp/summary"
[ -s "$tmp/gz.jsonl" ] || fail "no alerts from the sample"
cmp "$tmp/stdin.jsonl" "$tmp/gz.jsonl" || fail "stdin and gzip input differ"

# The sample fires every rule id, and `detectors` lists every rule id.
for rule in DUP-EXACT DUP-PAIR DUP-DAILY-CAP DUP-PERIOD PRICE-OVER-CAP PRICE-ARITH \
    PRICE-OVER-LIST PRICE-OUTLIER CAT-NOT-LISTED CAT-SELF-PAY-CLAIMED CAT-GENDER CAT-AGE \
    CAT-INSUTYPE CAT-CARE-SETTING CAT-HOSP-LEVEL CAT-COURSE; do
    grep -q "\"rule_id\":\"$rule\"" "$tmp/gz.jsonl" || fail "sample does not fire $rule"
    "$FG" detectors | grep -q " $rule " || fail "detectors does not list $rule"
done
echo "ok: exit codes, config errors, stdin/gzip, every rule fires on the sample"
