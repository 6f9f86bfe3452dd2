#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Independent checks of `fundguard compare`.

  compare_check.py check A B --json GOT.json [--human GOT.txt]
                   [--ignore-rule R...] [--since T] [--until T] [--expect K=V...]
      Recompute the comparison of the alert files A and B from the contract
      (CONTRACT §3) and check `fundguard compare --json` (and the human
      output's per-rule table and result line) against it: every count,
      every fen sum, the institution ranking and the example jr_ids.
      --expect KEY=VALUE checks one value of the JSON (dotted path, e.g.
      total.changed=1, b.duplicates=3, examples.changed.0.fields=vola_cont).

  compare_check.py removed A B RULE...
      The what-if check: the alerts of A missing from B are exactly A's
      alerts of the RULEs (a RULE ending in '*' is a prefix: DUP-*), and B
      has nothing A lacks (B was replayed with those rules switched off).

Semantics recomputed here: a line is an alert if it is a JSON object with
schema nhsa.alert.v1, alert_type ALERT/RETRACT and a jr_id (an ALERT also
needs the fields the report needs); an ALERT whose jr_id has a RETRACT in
the same source is withdrawn; repeats of a jr_id with the same content
(ignoring replay, source, detected_at) are duplicates, with another content
a conflict, and a conflicting jr_id is compared on neither side.

Exits non-zero with a message on the first mismatch.
"""
import argparse
import collections
import datetime
import gzip
import json
import re
import sys
from decimal import Decimal

RUN_FIELDS = ("replay", "source", "detected_at")
REQUIRED = ("rule_id", "rule_name", "rule_pack", "result_type", "fixmedins_code",
            "event_time", "vola_amt")
CST = datetime.timezone(datetime.timedelta(hours=8))


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def open_text(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")


def to_fen(text):
    if not isinstance(text, str) or not re.fullmatch(r"\d+(\.\d+)?", text):
        return None
    d = Decimal(text) * 100
    return int(d) if d == d.to_integral_value() else None


def fen_text(fen):
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return "%s%d.%02d" % (sign, fen // 100, fen % 100)


def grouped(fen):
    sign = "-" if fen < 0 else ""
    fen = abs(fen)
    return "%s{:,}.%02d".format(fen // 100) % (sign, fen % 100)


def epoch(text):
    return datetime.datetime.fromisoformat(text).timestamp()


def parse_time_arg(text):
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        text += "T00:00:00+08:00"
    elif re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d", text):
        text = text.replace(" ", "T") + "+08:00"
    return epoch(text)


def classify(line):
    if not line.strip():
        return "BLANK", None
    try:
        obj = json.loads(line)
    except ValueError:
        return "BAD", None
    if not isinstance(obj, dict) or obj.get("schema") != "nhsa.alert.v1":
        return "BAD", None
    kind, jr = obj.get("alert_type"), obj.get("jr_id")
    if kind not in ("ALERT", "RETRACT") or not isinstance(jr, str) or not jr:
        return "BAD", None
    if kind == "RETRACT":
        return kind, obj
    for k in REQUIRED:
        if not isinstance(obj.get(k), str) or not obj[k]:
            return "BAD", None
    if obj["result_type"] not in ("DEFINITE", "SUSPECT") or to_fen(obj["vola_amt"]) is None:
        return "BAD", None
    try:
        epoch(obj["event_time"])
    except ValueError:
        return "BAD", None
    return kind, obj


def content(obj):
    return {k: v for k, v in obj.items() if k not in RUN_FIELDS}


class Side:
    def __init__(self, path):
        self.path = path
        self.alerts = {}          # jr_id -> first ALERT object
        self.conflicted = set()
        self.retracts = set()
        self.stats = collections.Counter()
        with open_text(path) as f:
            for line in f:
                self.stats["lines"] += 1
                kind, obj = classify(line.rstrip("\n"))
                if kind == "BAD":
                    self.stats["bad_lines"] += 1
                elif kind == "RETRACT":
                    self.retracts.add(obj["jr_id"])
                elif kind == "ALERT":
                    jr = obj["jr_id"]
                    if jr not in self.alerts:
                        self.alerts[jr] = obj
                    elif content(self.alerts[jr]) == content(obj):
                        self.stats["duplicates"] += 1
                    else:
                        self.conflicted.add(jr)
        self.stats["alerts"] = len(self.alerts)
        self.stats["withdrawn"] = len(self.retracts & set(self.alerts))
        self.stats["retractions_without_alert"] = len(self.retracts - set(self.alerts))

    def select(self, ignore, since, until):
        self.usable = {}
        for jr, a in self.alerts.items():
            if jr in self.retracts:
                continue
            if a["rule_id"] in ignore:
                self.stats["ignored"] += 1
            elif not since <= epoch(a["event_time"]) < until:
                self.stats["out_of_period"] += 1
            else:
                self.usable[jr] = a
        self.stats["conflicts"] = len(self.conflicted & set(self.usable))


def zero():
    return {"both": 0, "only_a": 0, "only_b": 0, "changed": 0, "fen_a": 0, "fen_b": 0,
            "net": 0, "abs": 0}


def recompute(args):
    A, B = Side(args.a), Side(args.b)
    since = parse_time_arg(args.since) if args.since else float("-inf")
    until = parse_time_arg(args.until) if args.until else float("inf")
    for s in (A, B):
        s.select(set(args.ignore_rule), since, until)
    conflicts = (A.conflicted & set(A.usable)) | (B.conflicted & set(B.usable))
    ca = {jr: a for jr, a in A.usable.items() if jr not in conflicts}
    cb = {jr: b for jr, b in B.usable.items() if jr not in conflicts}
    A.stats["compared"], B.stats["compared"] = len(ca), len(cb)
    rules, insts, names = {}, {}, {}
    total = zero()
    classes = collections.defaultdict(list)
    for jr in sorted(set(ca) | set(cb)):
        a, b = ca.get(jr), cb.get(jr)
        ref = a or b
        names.setdefault(ref["rule_id"], ref["rule_name"])
        gs = [rules.setdefault(ref["rule_id"], zero()),
              insts.setdefault(ref["fixmedins_code"], zero()), total]
        if a and b and content(a) == content(b):
            cls, add = "both", {}
        elif a and b:
            d = to_fen(b["vola_amt"]) - to_fen(a["vola_amt"])
            cls, add = "changed", {"net": d, "abs": abs(d)}
            classes["changed"].append((jr, a, b))
        elif a:
            cls, add = "only_a", {"fen_a": to_fen(a["vola_amt"])}
            classes["only_a"].append((jr, a, None))
        else:
            cls, add = "only_b", {"fen_b": to_fen(b["vola_amt"])}
            classes["only_b"].append((jr, b, None))
        for g in gs:
            g[cls] += 1
            for k, v in add.items():
                g[k] += v
    return A, B, rules, insts, names, total, classes, conflicts


def amount_changed(g):
    return g["fen_a"] + g["fen_b"] + g["abs"]


def check_group(where, got, g):
    want = {"both": g["both"], "only_a": g["only_a"], "only_b": g["only_b"],
            "changed": g["changed"], "amount_only_a": fen_text(g["fen_a"]),
            "amount_only_b": fen_text(g["fen_b"]), "amount_changed_net": fen_text(g["net"]),
            "amount_changed": fen_text(amount_changed(g))}
    for k, v in want.items():
        if got.get(k) != v:
            fail("%s: %s is %r, recomputed %r" % (where, k, got.get(k), v))


def diff_fields(a, b):
    ca, cb = content(a), content(b)
    return sorted(k for k in set(ca) | set(cb) if ca.get(k, object()) != cb.get(k, object()))


def lookup(doc, path):
    cur = doc
    for part in path.split("."):
        cur = cur[int(part)] if isinstance(cur, list) else cur.get(part)
    return cur


def check_human(path, rules, names, total, identical):
    text = open(path, encoding="utf-8").read()
    verdict = "IDENTICAL" if identical else "DIFFERENT"
    if not re.search(r"^结果 Result: \S+ %s: %d in both, %d only in A, %d only in B, %d changed"
                     % (verdict, total["both"], total["only_a"], total["only_b"],
                        total["changed"]), text, re.M):
        fail("human output: no result line saying %s with the recomputed counts" % verdict)
    section = text.split("按规则 By rule", 1)
    if len(section) != 2:
        fail("human output: no per-rule table")
    rows = {}
    for line in section[1].splitlines()[2:]:
        if not line.strip():
            break
        cols = line.split()
        rows[cols[0]] = cols
    for rule, g in list(rules.items()) + [("total", total)]:
        cols = rows.get(rule)
        if not cols:
            fail("human output: no row for %s" % rule)
        want = [str(g["both"]), str(g["only_a"]), str(g["only_b"]), str(g["changed"]),
                grouped(g["fen_a"]), grouped(g["fen_b"])]
        if cols[-6:] != want:
            fail("human output: row %s is %r, recomputed %r" % (rule, cols[-6:], want))
        if rule != "total" and names[rule] not in cols:
            fail("human output: row %s lacks the rule name %s" % (rule, names[rule]))
    if set(rows) != set(rules) | {"total"}:
        fail("human output: rule rows %r, recomputed %r" % (sorted(rows), sorted(rules)))


def cmd_check(args):
    A, B, rules, insts, names, total, classes, conflicts = recompute(args)
    got = json.load(open(args.json, encoding="utf-8"))
    identical = not (total["only_a"] or total["only_b"] or total["changed"] or conflicts
                     or A.stats["bad_lines"] or B.stats["bad_lines"])
    if got.get("identical") is not identical:
        fail("identical is %r, recomputed %r" % (got.get("identical"), identical))
    for key, side in (("a", A), ("b", B)):
        for k in ("lines", "alerts", "compared", "duplicates", "withdrawn",
                  "retractions_without_alert", "ignored", "out_of_period", "conflicts",
                  "bad_lines"):
            if got[key].get(k) != side.stats[k]:
                fail("%s.%s is %r, recomputed %r" % (key, k, got[key].get(k), side.stats[k]))
    check_group("total", got["total"], total)
    if got["total"].get("conflicts") != len(conflicts):
        fail("total.conflicts is %r, recomputed %d" % (got["total"].get("conflicts"),
                                                       len(conflicts)))
    got_rules = got["rules"]
    if [r["rule_id"] for r in got_rules] != sorted(rules):
        fail("rules %r, recomputed %r" % ([r["rule_id"] for r in got_rules], sorted(rules)))
    for r in got_rules:
        check_group("rule " + r["rule_id"], r, rules[r["rule_id"]])
        if r["rule_name"] != names[r["rule_id"]]:
            fail("rule %s named %r" % (r["rule_id"], r["rule_name"]))
    ranked = sorted(insts, key=lambda k: (-amount_changed(insts[k]),
                                          -(insts[k]["only_a"] + insts[k]["only_b"] +
                                            insts[k]["changed"]), k))
    if [i["fixmedins_code"] for i in got["institutions"]] != ranked:
        fail("institutions ranked %r, recomputed %r"
             % ([i["fixmedins_code"] for i in got["institutions"]], ranked))
    for i in got["institutions"]:
        check_group("institution " + i["fixmedins_code"], i, insts[i["fixmedins_code"]])
    for cls in ("only_a", "only_b", "changed"):
        want = [jr for jr, _, _ in classes[cls]][:20]
        have = [e["jr_id"] for e in got["examples"][cls]]
        if have != want:
            fail("examples.%s %r, recomputed %r" % (cls, have, want))
    for e, (jr, a, b) in zip(got["examples"]["changed"], classes["changed"]):
        if e["fields"] != diff_fields(a, b):
            fail("changed %s: fields %r, recomputed %r" % (jr, e["fields"], diff_fields(a, b)))
    have = [e["jr_id"] for e in got["examples"]["conflicts"]]
    if have != sorted(conflicts)[:20]:
        fail("examples.conflicts %r, recomputed %r" % (have, sorted(conflicts)[:20]))
    if args.human:
        check_human(args.human, rules, names, total, identical)
    for spec in args.expect:
        k, v = spec.split("=", 1)
        have = lookup(got, k)
        if isinstance(have, list):
            have = ",".join(map(str, have))
        elif isinstance(have, bool):
            have = "true" if have else "false"
        if str(have) != v:
            fail("expected %s=%s, got %r" % (k, v, have))
    print("ok: compare %s %s: both=%d only_a=%d only_b=%d changed=%d conflicts=%d "
          "amount_only_a=%s amount_only_b=%s" % (args.a, args.b, total["both"], total["only_a"],
                                                 total["only_b"], total["changed"],
                                                 len(conflicts), fen_text(total["fen_a"]),
                                                 fen_text(total["fen_b"])))


def cmd_removed(args):
    A, B = Side(args.a), Side(args.b)

    def named(rule):
        return any(rule.startswith(r[:-1]) if r.endswith("*") else rule == r
                   for r in args.rules)
    missing = set(A.alerts) - set(B.alerts)
    extra = set(B.alerts) - set(A.alerts)
    off = {jr for jr, a in A.alerts.items() if named(a["rule_id"])}
    if not off:
        fail("%s has no alert of %s to test with" % (args.a, " ".join(args.rules)))
    if missing != off:
        fail("alerts of A missing from B %r are not exactly the %s alerts %r"
             % (sorted(missing), " ".join(args.rules), sorted(off)))
    if extra:
        fail("B has alerts A lacks: %r" % sorted(extra))
    print("ok: the %d alerts missing from %s are exactly the %s alerts"
          % (len(off), args.b, " ".join(args.rules)))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("a")
    c.add_argument("b")
    c.add_argument("--json", required=True)
    c.add_argument("--human")
    c.add_argument("--ignore-rule", action="append", default=[])
    c.add_argument("--since")
    c.add_argument("--until")
    c.add_argument("--expect", action="append", default=[])
    d = sub.add_parser("removed")
    d.add_argument("a")
    d.add_argument("b")
    d.add_argument("rules", nargs="+")
    args = ap.parse_args()
    {"check": cmd_check, "removed": cmd_removed}[args.cmd](args)


if __name__ == "__main__":
    main()
