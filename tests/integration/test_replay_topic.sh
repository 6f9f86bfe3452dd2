#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# `fundguard replay --topic claims --from A --to B` against the devbroker
# (16 partitions) and Redis, on a generated stream produced keyed by
# psn_no with message timestamp = event time (fg-it-kafka produce-ts; kcat
# cannot set timestamps), three malformed messages in the middle, after a
# live daemon has consumed everything and committed:
#  1. its canonical alerts are byte-identical (cmp) to `replay --input` of
#     the events of [A, B) in time order (ties by partition, then offset),
#     PRICE-OUTLIER included; the malformed messages are in its dead-letter
#     file with their topic, partition and offset;
#  2. the live group's committed offsets and the fg:live:* keys (names and
#     DUMPs) are the same before and after every replay; with --state redis
#     the replay namespace is gone afterwards, and kept with --keep-state;
#  3. --output-topic produces the same alerts (canonical content), keyed by
#     fixmedins_code, with replay=true and a topic source; a broker that
#     refuses them makes the replay exit 1 and write no manifest;
#  4. the manifest names the offsets read (each partition's end: its first
#     event at or after B + lateness or message stamped at or after
#     B + 2 x lateness, else its high watermark) and its
#     canonical alert sha256 equals sha256sum of the canonical output, also
#     for a run whose output was not canonical.
# The mock cluster cannot look offsets up by time (ListOffsets answers -1),
# so every partition is read from its start here ("start":"low_watermark");
# the start checked is one that misses nothing of the range.
set -eu
. "${FG_SOURCE_DIR:-.}/tests/integration/lib.sh"
it_init replay_topic
KTOOL=${FG_IT_KAFKA:-$(dirname "$FG")/fg-it-kafka}
[ -x "$KTOOL" ] || it_fail "$KTOOL not built"
N=1200
A=2024-03-03T00:00:00+08:00
B='2024-03-08 00:00:00'
LATENESS=86400   # the shipped state.lateness_seconds
gen_stream 21 $N "$IT/stream.jsonl"
# three malformed messages in the middle (they take the previous event's
# timestamp, so they lie inside the offsets read)
{
    head -n $((N / 2)) "$IT/stream.jsonl"
    echo 'this is not json'
    echo '{"schema":"nhsa.claim.v1","event_id":"x-1"}'
    echo '{"schema":"nhsa.claim.v0","event_id":"x-2","event_type":"SETTLEMENT"}'
    tail -n +$((N / 2 + 1)) "$IT/stream.jsonl"
} >"$IT/mixed.jsonl"
start_redis "$IT"
start_broker
start_daemon
"$PYTHON3" "$IT_DIR/fgit.py" keyed "$IT/mixed.jsonl" >"$IT/mixed.keyed" || it_fail "cannot key"
"$KTOOL" produce-ts "$BOOT" claims <"$IT/mixed.keyed" 2>"$IT/produce.log" ||
    it_fail "producing failed: $(cat "$IT/produce.log")"
got=$(topic_count claims)
[ "$got" -eq $((N + 3)) ] || it_fail "claims holds $got messages, produced $((N + 3))"
wait_until 120 metric_ge fundguard_events_total $N ||
    it_fail "daemon consumed $(metric fundguard_events_total) of $N events"
stop_daemon_term 15
[ "$DAEMON_RC" = 0 ] || it_fail "daemon exited $DAEMON_RC on SIGTERM"

# The live side: the group's committed offsets, the fg:live:* keys, and a
# digest of all their DUMPs (one redis-cli session).
live_snapshot() {
    "$KTOOL" committed "$BOOT" fg-it claims >"$1" || it_fail "cannot read committed offsets"
    redis-cli -p "$REDIS_PORT" --scan --pattern 'fg:live:*' | sort >"$1.keys"
    cat "$1.keys" >>"$1"
    sed 's/^/DUMP /' "$1.keys" | redis-cli -p "$REDIS_PORT" | sha256sum >>"$1"
}
live_snapshot "$IT/live.before"
grep -q '^0	-1001$' "$IT/live.before" && it_fail "the daemon committed nothing on partition 0"
grep -q '^fg:live:' "$IT/live.before" || it_fail "no fg:live:* keys after the daemon ran"
live_unchanged() {
    live_snapshot "$IT/live.after"
    cmp -s "$IT/live.before" "$IT/live.after" || {
        diff "$IT/live.before" "$IT/live.after" | head -20
        it_fail "$1 changed the live group's offsets or fg:live:* keys"
    }
}

# The reference: the topic as it is, the events of [A, B) in time order.
kcat -C -b "$BOOT" -t claims -e -q -f '%p\t%o\t%T\t%s\n' >"$IT/dump.tsv"
"$PYTHON3" - "$IT/dump.tsv" "$A" "$B" "$LATENESS" "$IT/ref.jsonl" "$IT/expected.json" <<'EOF' ||
import datetime, json, sys
dump, a, b, lateness, ref_path, exp_path = sys.argv[1:]
CST = datetime.timezone(datetime.timedelta(hours=8))
def epoch(s):
    s = s.strip()
    d = datetime.datetime.fromisoformat(s.replace(" ", "T")) if "T" in s or "+" in s else \
        datetime.datetime.strptime(s, "%Y-%m-%d %H:%M:%S").replace(tzinfo=CST)
    if d.tzinfo is None:
        d = d.replace(tzinfo=CST)
    return int(d.timestamp())
A, B, L = epoch(a), epoch(b), int(lateness)
msgs = {}
for line in open(dump, encoding="utf-8", errors="surrogateescape"):
    p, o, ts, v = line.rstrip("\n").split("\t", 3)
    msgs.setdefault(int(p), []).append((int(o), int(ts), v))
ends, highs, first_in, dlq, ref = {}, {}, {}, [], []
for p, ms in msgs.items():
    ms.sort()
    highs[p] = ms[-1][0] + 1
    assert [m[0] for m in ms] == list(range(len(ms))), "gaps in partition %d" % p
    ends[p] = highs[p]
    for o, ts, v in ms:
        try:
            ev = json.loads(v)
            t = epoch(ev["event_time"]) if isinstance(ev, dict) and "psn_no" in ev and \
                "setl_id" in ev else None
        except (ValueError, KeyError):
            t = None
        if ts >= (B + 2 * L) * 1000 or (t is not None and t >= B + L):
            ends[p] = o
            break
        if ts >= (A - L) * 1000 and p not in first_in:
            first_in[p] = o
        if t is None:
            dlq.append([p, o])
        elif A <= t < B:
            ref.append((t, p, o, v))
ref.sort()
with open(ref_path, "w", encoding="utf-8") as f:
    for r in ref:
        f.write(r[3] + "\n")
json.dump({"ends": ends, "highs": highs, "first_in": first_in, "dlq": sorted(dlq),
           "events": len(ref)}, open(exp_path, "w"))
assert len(dlq) == 3, "expected the 3 malformed messages in range, found %d" % len(dlq)
assert any(ends[p] < highs[p] for p in ends), "no partition ends before its high watermark"
print("reference: %d events in range, %d partitions" % (len(ref), len(msgs)))
EOF
    it_fail "cannot build the reference"
total=$(wc -l <"$IT/stream.jsonl")
nref=$(wc -l <"$IT/ref.jsonl")
[ "$nref" -gt 0 ] && [ "$nref" -lt "$total" ] || it_fail "range holds $nref of $total events"
"$FG" replay -c config/fundguard.json --input "$IT/ref.jsonl" --canonical --no-progress \
    --output "$IT/ref.alerts" 2>"$IT/ref.log" || it_fail "file replay failed"
[ -s "$IT/ref.alerts" ] || it_fail "the reference replay gave no alerts"
grep -q '"PRICE-OUTLIER"' "$IT/ref.alerts" || it_fail "no PRICE-OUTLIER in the reference"

replay_topic() {
    _log=$1
    shift
    "$FG" replay -c config/fundguard.json --set kafka.bootstrap_servers="$BOOT" \
        --set redis.port="$REDIS_PORT" --topic claims --from "$A" --to "$B" --no-progress \
        "$@" 2>"$_log"
}

# 1 + 4: embedded state, canonical output, manifest next to it
replay_topic "$IT/t1.log" --canonical --output "$IT/t1.alerts" --dead-letter "$IT/t1.dlq" ||
    it_fail "replay --topic exited $? ($(tail -n 3 "$IT/t1.log"))"
live_unchanged "replay --topic"
cmp "$IT/ref.alerts" "$IT/t1.alerts" ||
    it_fail "replay --topic differs from replay --input of the range in time order"
"$PYTHON3" - "$IT/t1.alerts.manifest.json" "$IT/expected.json" "$IT/t1.dlq" \
    "$(sha256sum <"$IT/t1.alerts" | cut -c1-64)" "$nref" <<'EOF' || it_fail "manifest or dead letters wrong"
import json, sys
m = json.load(open(sys.argv[1]))
exp = json.load(open(sys.argv[2]))
sha, nref = sys.argv[4], int(sys.argv[5])
errs = []
if m["schema"] != "fundguard.replay_manifest.v1":
    errs.append("schema %r" % m["schema"])
if m["alerts"]["sha256_canonical"] != sha:
    errs.append("alert sha256 %s, sha256sum says %s" % (m["alerts"]["sha256_canonical"], sha))
inp = m["input"]
if inp["kind"] != "topic" or inp["topic"] != "claims" or len(inp["partitions"]) != 16:
    errs.append("input: %r" % {k: inp[k] for k in ("kind", "topic")})
for part in inp["partitions"]:
    p = str(part["partition"])
    if part["end_offset"] != exp["ends"][p]:
        errs.append("partition %s: end_offset %d, expected %d" % (p, part["end_offset"], exp["ends"][p]))
    if part["high_watermark"] != exp["highs"][p]:
        errs.append("partition %s: high_watermark %d, expected %d" % (p, part["high_watermark"], exp["highs"][p]))
    if part["end_offset"] < part["high_watermark"] and part["end"] not in ("event_time", "message_timestamp"):
        errs.append("partition %s: ended by %r" % (p, part["end"]))
    if part["start_offset"] > exp["first_in"].get(p, exp["ends"][p]) or part["start_offset"] < 0:
        errs.append("partition %s: start_offset %d misses messages of the range" % (p, part["start_offset"]))
    if part["messages"] != part["end_offset"] - part["start_offset"]:
        errs.append("partition %s: %d messages read in [%d, %d)" % (p, part["messages"], part["start_offset"], part["end_offset"]))
c = m["counts"]
if c["events"] != nref or c["quarantined"] != 3 or c["out_of_range"] <= 0:
    errs.append("counts %r" % c)
if m["alerts"]["count"] != sum(c["alerts_by_rule"].values()):
    errs.append("alert count %d, per rule %d" % (m["alerts"]["count"], sum(c["alerts_by_rule"].values())))
if not m["run"]["namespace"].startswith("replay:"):
    errs.append("namespace %r" % m["run"]["namespace"])
dlq = []
for line in open(sys.argv[3]):
    d = json.loads(line)
    if d["schema"] != "fundguard.dead_letter.v1" or not d["reason"] or d["source"]["topic"] != "claims":
        errs.append("dead letter %r" % d)
    dlq.append([d["source"]["partition"], d["source"]["offset"]])
if sorted(dlq) != exp["dlq"]:
    errs.append("dead letters at %r, expected %r" % (dlq, exp["dlq"]))
for e in errs:
    print("  " + e)
sys.exit(1 if errs else 0)
EOF

# 2 + 3 + 4: Redis state, alerts to a topic, manifest of a non-canonical run
replay_topic "$IT/t2.log" --state redis --run-id rt1 --output-topic replay.alerts \
    --manifest "$IT/t2.manifest.json" --dead-letter "$IT/t2.dlq" ||
    it_fail "replay --topic --output-topic exited $? ($(tail -n 3 "$IT/t2.log"))"
live_unchanged "replay --topic --state redis --output-topic"
left=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'fg:replay:rt1:*' | wc -l)
[ "$left" -eq 0 ] || it_fail "$left keys of the replay namespace left without --keep-state"
kcat -C -b "$BOOT" -t replay.alerts -e -q -f '%k\t%s\n' >"$IT/t2.topic"
"$PYTHON3" - "$IT/t2.topic" "$IT/ref.alerts" <<'EOF' || it_fail "--output-topic alerts differ"
import json, sys
RUN = ("replay", "source", "detected_at")
got, errs = [], []
for line in open(sys.argv[1], encoding="utf-8"):
    key, _, val = line.rstrip("\n").partition("\t")
    a = json.loads(val)
    if key != a["fixmedins_code"]:
        errs.append("alert %s keyed %r" % (a["jr_id"], key))
    if a.get("replay") is not True or a.get("source", {}).get("topic") != "claims":
        errs.append("alert %s: replay=%r source=%r" % (a["jr_id"], a.get("replay"), a.get("source")))
    got.append(json.dumps({k: v for k, v in a.items() if k not in RUN}, sort_keys=True))
want = [json.dumps(json.loads(l), sort_keys=True) for l in open(sys.argv[2], encoding="utf-8")]
if sorted(got) != sorted(want):
    errs.append("%d alerts on the topic, %d in the reference; %d differ" %
                (len(got), len(want), len(set(got) ^ set(want))))
for e in errs[:10]:
    print("  " + e)
sys.exit(1 if errs else 0)
EOF
m2=$(jq -r .alerts.sha256_canonical "$IT/t2.manifest.json")
[ "$m2" = "$(sha256sum <"$IT/ref.alerts" | cut -c1-64)" ] ||
    it_fail "manifest of the --output-topic run: alert sha256 $m2 is not the canonical output's"

# 2: --keep-state keeps the namespace (and only it)
replay_topic "$IT/t3.log" --state redis --run-id rt2 --keep-state --canonical \
    --output "$IT/t3.alerts" --no-manifest || it_fail "replay --keep-state exited $?"
cmp "$IT/ref.alerts" "$IT/t3.alerts" || it_fail "the Redis-state replay differs"
[ ! -e "$IT/t3.alerts.manifest.json" ] || it_fail "--no-manifest wrote a manifest"
kept=$(redis-cli -p "$REDIS_PORT" --scan --pattern 'fg:replay:rt2:*' | wc -l)
[ "$kept" -gt 0 ] || it_fail "--keep-state left no keys in fg:replay:rt2:*"
live_unchanged "replay --topic --keep-state"

# 3: alerts that cannot be delivered fail the replay (exit 1, no manifest):
# the broker refuses every produce (TOPIC_AUTHORIZATION_FAILED, not retried)
broker_cmd "error 0 9999 29"
if replay_topic "$IT/t4.log" --output-topic replay.alerts2 --manifest "$IT/t4.manifest.json" \
    --dead-letter "$IT/t4.dlq" --set kafka.producer.message.timeout.ms=5000; then
    it_fail "replay exited 0 although no alert could be delivered"
else
    _rc=$?
fi
[ "$_rc" = 1 ] || it_fail "undeliverable alerts: exit $_rc, expected 1 ($(tail -n 3 "$IT/t4.log"))"
[ ! -e "$IT/t4.manifest.json" ] || it_fail "a manifest was written for undelivered alerts"
it_pass "$nref of $total events in range: alerts equal the file replay's (cmp), live offsets and keys untouched, output topic and manifest checked"
