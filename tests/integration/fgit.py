#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers for the live-daemon integration tests (stdlib only).

  fgit.py keyed STREAM
      print "psn_no<TAB>line" for every line (key "bad" when the line is not
      a JSON object with a psn_no), for `kcat -P -K '\\t'`.
  fgit.py compare LIVE REPLAY [--outlier-strict]
      LIVE: the alerts topic as "key<TAB>json" lines; REPLAY: the canonical
      replay output. Checks that every live alert is keyed by its
      fixmedins_code, that no jr_id arrived with two different contents
      (ignoring replay, source, detected_at), and that the live alerts equal
      the replay's, jr_id by jr_id. Prints the duplicates delivered.
      PRICE-OUTLIER differences are listed but only fail with --outlier-strict:
      its peer baseline assumes earlier days were processed first, which
      partitions consumed at different speeds do not guarantee
      (detectors/abnormal_pricing/README.md).
  fgit.py poison STREAM MIXED_KEYED MIXED_JSONL BAD_LIST
      mix malformed messages (invalid JSON, not an object, wrong schema,
      missing fields, values of the wrong form, bytes that are not UTF-8)
      between the events of STREAM, each keyed like its neighbour; writes the
      kcat input, the same stream as JSON Lines (for replay), and the bad
      values one per line (hex).
  fgit.py reorder STREAM OUT person|partitions:N
      STREAM in another order Kafka may deliver it in (per-person order kept).
  fgit.py check-dlq CLAIMS_DUMP DLQ_DUMP BAD_LIST REPLAY_DLQ
      CLAIMS_DUMP: kcat '%p\t%o\t%k\t%s' of the claims topic; DLQ_DUMP: kcat
      '%k\t%h\t%s' of the dead-letter topic. Every bad message must be in
      the DLQ (duplicates allowed) with its key, its raw bytes as value, and
      headers fg.reason (the replay's reason for the same bytes),
      fg.source.topic, fg.source.partition, fg.source.offset naming it; no
      valid event may be there.
"""
import base64
import json
import re
import sys
import zlib

RUN_FIELDS = ("replay", "source", "detected_at")


def keyed(path):
    out = sys.stdout
    with open(path, encoding="utf-8", errors="surrogateescape") as f:
        for line in f:
            line = line.rstrip("\n")
            key = "bad"
            try:
                obj = json.loads(line)
                if isinstance(obj, dict) and isinstance(obj.get("psn_no"), str) and obj["psn_no"]:
                    key = obj["psn_no"]
            except ValueError:
                pass
            out.write(key + "\t" + line + "\n")


def strip(a):
    return {k: v for k, v in a.items() if k not in RUN_FIELDS}


def read_live(path, errors, conflict, check=None):
    """The alerts topic as dumped by read_alerts (key TAB alert, a line).
    Returns ({(jr_id, alert_type): alert without RUN_FIELDS}, delivered,
    duplicates). Every alert must be keyed by its institution and carry
    replay=false and a claims source; check(alert) may add its own
    messages to errors. conflict(rule_id, message) hears of a jr_id
    delivered with two contents."""
    live = {}
    total = dups = 0
    with open(path, encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip("\n")
            if not line:
                continue
            key, _, val = line.partition("\t")
            total += 1
            try:
                a = json.loads(val)
            except ValueError as e:
                errors.append("alert %d is not JSON: %s" % (n, e))
                continue
            jr = a.get("jr_id")
            if key != a.get("fixmedins_code"):
                errors.append("alert %s keyed %r, fixmedins_code %r" % (jr, key, a.get("fixmedins_code")))
            for fld in RUN_FIELDS:
                if fld not in a:
                    errors.append("alert %s lacks %s" % (jr, fld))
            if a.get("replay") is not False:
                errors.append("alert %s: replay=%r on the live topic" % (jr, a.get("replay")))
            src = a.get("source") or {}
            if src.get("topic") != "claims" or not isinstance(src.get("partition"), int) \
                    or not isinstance(src.get("offset"), int):
                errors.append("alert %s: bad source %r" % (jr, src))
            if check:
                check(a)
            s = strip(a)
            j = (jr, a.get("alert_type"))
            if j in live:
                dups += 1
                if live[j] != s:
                    conflict(s.get("rule_id"), "jr_id %s delivered with two different contents:\n  %s\n  %s" % (
                        jr, json.dumps(live[j], ensure_ascii=False, sort_keys=True),
                        json.dumps(s, ensure_ascii=False, sort_keys=True)))
            else:
                live[j] = s
    return live, total, dups


def read_replay(path):
    """A replay's canonical alerts by (jr_id, alert_type)."""
    ref = {}
    with open(path, encoding="utf-8") as f:
        for line in f:
            if line.strip():
                a = json.loads(line)
                ref[(a["jr_id"], a.get("alert_type"))] = a
    return ref


def diff_alerts(live, ref, note):
    """note(rule_id, message) for each alert missing live, extra live, or
    live with other content than the replay's."""
    def name(j, a):
        return "%s %s %s (event %s)" % (j[0], j[1], a.get("rule_id"), a.get("event_id"))
    for j in sorted(set(ref) - set(live)):
        note(ref[j]["rule_id"], "missing live: " + name(j, ref[j]))
    for j in sorted(set(live) - set(ref)):
        note(live[j].get("rule_id"), "extra live: " + name(j, live[j]))
    for j in sorted(set(live) & set(ref)):
        if live[j] != ref[j]:
            diff = sorted(k for k in set(live[j]) | set(ref[j]) if live[j].get(k) != ref[j].get(k))
            note(ref[j]["rule_id"], "differs: %s %s fields %s" % (j[0], ref[j]["rule_id"], ",".join(diff)))


def compare(live_path, replay_path, strict):
    errors = []
    outlier_diffs = []

    def note(rule, msg):
        (outlier_diffs if rule == "PRICE-OUTLIER" else errors).append(msg)

    live, total, dups = read_live(live_path, errors, note)
    ref = read_replay(replay_path)
    diff_alerts(live, ref, note)
    print("live alerts delivered: %d, distinct jr_id: %d, duplicates delivered: %d, replay alerts: %d"
          % (total, len(live), dups, len(ref)))
    for m in outlier_diffs:
        print("PRICE-OUTLIER " + m)
    for m in errors[:40]:
        print("ERROR " + m)
    if len(errors) > 40:
        print("ERROR ... and %d more" % (len(errors) - 40))
    if not ref:
        print("ERROR the replay produced no alerts: the comparison proves nothing")
        return 1
    return 1 if errors or (outlier_diffs and strict) else 0


def poison(stream, out_keyed, out_jsonl, bad_list):
    with open(stream, "rb") as f:
        good = [l.rstrip(b"\n") for l in f if l.strip()]
    base = json.loads(good[0])

    def mut(fn):
        e = json.loads(json.dumps(base))
        fn(e)
        return json.dumps(e, ensure_ascii=False).encode()

    def drop(*path):
        def fn(e):
            o = e
            for k in path[:-1]:
                o = o[k]
            del o[path[-1]]
        return fn

    def put(value, *path):
        def fn(e):
            o = e
            for k in path[:-1]:
                o = o[k]
            o[path[-1]] = value
        return fn

    bad = [
        good[3][: len(good[3]) // 2],                           # truncated JSON
        good[4][: len(good[4]) // 2] + b"   ",                  # truncated, blanks after
        b'{"schema": "nhsa.claim.v1", "event_id": }',           # invalid JSON
        b"[1, 2, 3]",                                           # not an object
        b"null",
        mut(put("nhsa.claim.v2", "schema")),                    # wrong schema
        mut(drop("event_id")),                                  # missing fields
        mut(drop("psn_no")),
        mut(drop("feedetail", 0, "pric")),
        mut(put("yesterday", "event_time")),                    # wrong forms
        mut(put("abc", "feedetail", 0, "cnt")),
        mut(put("12.345", "feedetail", 0, "det_item_fee_sumamt")),
        b"\xff\xfe" + good[5][2:],                               # not UTF-8
    ]
    # every bad value must be one line without a tab (kcat framing)
    assert all(b"\n" not in b and b"\t" not in b for b in bad)
    step = max(1, len(good) // (len(bad) + 1))
    out, plain = [], []
    bi = 0
    for i, g in enumerate(good):
        key = json.loads(g)["psn_no"].encode()
        if i and i % step == 0 and bi < len(bad):
            out.append(key + b"\t" + bad[bi])
            plain.append(bad[bi])
            bi += 1
        out.append(key + b"\t" + g)
        plain.append(g)
    assert bi == len(bad)
    with open(out_keyed, "wb") as f:
        f.write(b"".join(l + b"\n" for l in out))
    with open(out_jsonl, "wb") as f:
        f.write(b"".join(l + b"\n" for l in plain))
    with open(bad_list, "w") as f:
        f.write("".join(b.hex() + "\n" for b in bad))
    return 0


HDR = re.compile(rb"^fg\.reason=(.*),fg\.source\.topic=([^,]*),fg\.source\.partition=(-?\d+),"
                 rb"fg\.source\.offset=(-?\d+)$")


def check_dlq(claims_dump, dlq_dump, bad_list, replay_dlq):
    errors = []
    with open(bad_list) as f:
        bad = [bytes.fromhex(l.strip()) for l in f if l.strip()]
    where = {}                                  # value -> (partition, offset, key)
    with open(claims_dump, "rb") as f:
        for line in f:
            p, o, k, v = line.rstrip(b"\n").split(b"\t", 3)
            where.setdefault(v, []).append((int(p), int(o), k))
    reasons = {}                                # replay's reason per raw value
    with open(replay_dlq, encoding="utf-8") as f:
        for line in f:
            d = json.loads(line)
            raw = d["raw"].encode() if "raw" in d else base64.b64decode(d["raw_base64"])
            reasons[raw] = d["reason"]
    seen = {}
    n = 0
    with open(dlq_dump, "rb") as f:
        for line in f:
            n += 1
            k, h, v = line.rstrip(b"\n").split(b"\t", 2)
            m = HDR.match(h)
            if not m:
                errors.append("dead letter %d: headers %r" % (n, h))
                continue
            reason, topic, part, off = m.group(1), m.group(2), int(m.group(3)), int(m.group(4))
            if v not in bad:
                errors.append("dead letter %d is not one of the bad messages: %r" % (n, v[:80]))
                continue
            if topic != b"claims":
                errors.append("dead letter %d: fg.source.topic %r" % (n, topic))
            if (part, off, k) not in where.get(v, []):
                errors.append("dead letter %d: source claims/%d@%d key %r is not where the message is (%r)"
                              % (n, part, off, k, where.get(v)))
            if not reason:
                errors.append("dead letter %d: empty fg.reason" % n)
            elif v in reasons and reason.decode("utf-8", "replace") != reasons[v]:
                errors.append("dead letter %d: reason %r, the replay says %r" % (n, reason, reasons[v]))
            seen[v] = seen.get(v, 0) + 1
            print("dead letter claims/%d@%d: %s" % (part, off, reason.decode("utf-8", "replace")))
    for b in bad:
        if b not in seen:
            errors.append("bad message not in the DLQ: %r" % b[:80])
    dups = sum(c - 1 for c in seen.values())
    print("dead letters: %d for %d bad messages (%d duplicates)" % (n, len(bad), dups))
    for e in errors:
        print("ERROR " + e)
    return 1 if errors else 0


def reorder(stream, out, how):
    """Write STREAM in another order Kafka may deliver it in: each person's
    events keep their order (one key, one partition), persons interleave
    differently. how = "person" (one person after the other) or
    "partitions:N" (N partitions by a hash of psn_no, drained one after the
    other, as a consumer catching up on a backlog may)."""
    with open(stream, "rb") as f:
        lines = [l for l in f if l.strip()]
    key = [json.loads(l)["psn_no"] for l in lines]
    if how == "person":
        order = sorted(range(len(lines)), key=lambda i: key[i])
    else:
        n = int(how.split(":")[1])
        part = [zlib.crc32(k.encode()) % n for k in key]
        order = sorted(range(len(lines)), key=lambda i: part[i])
    with open(out, "wb") as f:
        f.writelines(lines[i] for i in order)
    return 0


def main(argv):
    if len(argv) == 4 and argv[0] == "reorder":
        return reorder(*argv[1:])
    if len(argv) == 5 and argv[0] == "poison":
        return poison(*argv[1:])
    if len(argv) == 5 and argv[0] == "check-dlq":
        return check_dlq(*argv[1:])
    if len(argv) >= 2 and argv[0] == "keyed":
        keyed(argv[1])
        return 0
    if len(argv) >= 3 and argv[0] == "compare":
        return compare(argv[1], argv[2], "--outlier-strict" in argv[3:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
