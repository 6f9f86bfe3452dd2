#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# Personal data in alerts. Events that carry a name (psn_name) and a
# certificate number (certno) never leak them into an alert. With
# privacy.psn_hmac_key_file, every psn_no in the alerts is the first 30
# hex digits of HMAC-SHA256(key, psn_no), recomputed here with Python's
# hmac module: the same person keeps one pseudonym, jr_ids and everything
# else are unchanged, and no real psn_no is left. A key file others can
# read, or a key too short, is refused (exit 78) by name.
set -eu
: "${FG:?}" "${PYTHON3:=python3}"
out="${FG_TMP:-${TMPDIR:-/tmp}/fg-tmp}/privacy"
rm -rf "$out"
mkdir -p "$out"
fail() { echo "FAIL: $*"; exit 1; }

# The sample with a name and a certificate number added to every event.
zcat config/samples/claims.jsonl.gz | "$PYTHON3" -c '
import json, sys
for i, line in enumerate(sys.stdin):
    e = json.loads(line)
    e["psn_name"] = "测试姓名%05d" % i
    e["certno"] = "33010219800101%04dX" % (i % 10000)
    print(json.dumps(e, ensure_ascii=False))' >"$out/named.jsonl"

replay() {   # replay OUT [--set ...]
    o=$1
    shift
    "$FG" replay -c config/fundguard.json --input "$out/named.jsonl" --canonical --no-progress \
        --output "$out/$o.jsonl" --dead-letter "$out/$o.dlq" "$@" 2>"$out/$o.err" ||
        { cat "$out/$o.err"; fail "replay $o failed"; }
}
replay plain
[ -s "$out/plain.jsonl" ] || fail "the sample gave no alerts"
if grep -q -e '测试姓名' -e '33010219800101' "$out/plain.jsonl"; then
    fail "a name or certificate number left in an alert"
fi

printf 'a-test-key-of-32-bytes-for-hmac!\n' >"$out/key"
chmod 600 "$out/key"
replay pseudo --set privacy.psn_hmac_key_file="$out/key"
"$PYTHON3" - "$out/plain.jsonl" "$out/pseudo.jsonl" "$out/key" <<'PY'
import hashlib, hmac, json, sys
plain = [json.loads(l) for l in open(sys.argv[1], encoding="utf-8")]
pseudo = [json.loads(l) for l in open(sys.argv[2], encoding="utf-8")]
key = open(sys.argv[3], "rb").read().rstrip(b"\n")
assert len(plain) == len(pseudo), "the pseudonymised replay has other alerts"
real = {a["psn_no"] for a in plain}
seen = {}
for a, b in zip(plain, pseudo):
    want = hmac.new(key, a["psn_no"].encode(), hashlib.sha256).hexdigest()[:30]
    assert b["psn_no"] == want, "%s: psn_no %s, expected %s" % (a["jr_id"], b["psn_no"], want)
    assert seen.setdefault(a["psn_no"], want) == want
    a.pop("psn_no"), b.pop("psn_no")
    assert a == b, "%s differs beyond psn_no" % a["jr_id"]
text = open(sys.argv[2], encoding="utf-8").read()
left = [p for p in real if p in text]
assert not left, "real psn_no left in the pseudonymised alerts: %r" % left[:3]
print("ok: %d alerts, %d persons, each under one pseudonym" % (len(pseudo), len(seen)))
PY

expect78() {   # expect78 WHAT SET...
    what=$1
    shift
    set +e
    "$FG" check-config -c config/fundguard.json "$@" >/dev/null 2>"$out/err"
    rc=$?
    set -e
    [ "$rc" = 78 ] || { cat "$out/err"; fail "$what: exit $rc, expected 78"; }
    grep -q "privacy.psn_hmac_key_file" "$out/err" || { cat "$out/err"; fail "$what: key not named"; }
}
chmod 644 "$out/key"
expect78 "a world-readable key" --set privacy.psn_hmac_key_file="$out/key"
printf 'short\n' >"$out/short"
chmod 600 "$out/short"
expect78 "a short key" --set privacy.psn_hmac_key_file="$out/short"
echo "ok: privacy"
