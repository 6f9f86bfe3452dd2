#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Independent checks of `fundguard report`.

  report_check.py csv ALERTS... --csv-dir DIR --stderr FILE [--expect K=V...]
      Recompute the per-rule, per-institution and per-day counts and fen
      sums from the alert files (same semantics as the contract: first
      ALERT per jr_id counts, a RETRACT anywhere withdraws it) and compare
      them with the CSVs exactly; check the stderr summary and bad-line
      messages.

  report_check.py dom DOM_FILE --rules N --institutions N [--text S...]
      Check the DOM dumped by headless Chromium: table row counts, three
      SVG charts with drawn bars, no external resources, and literal text
      (escaping) where asked.

Exits non-zero with a message on the first mismatch.
"""
import argparse
import collections
import csv
import datetime
import gzip
import json
import re
import sys
from decimal import Decimal, InvalidOperation
from html.parser import HTMLParser

CST = datetime.timezone(datetime.timedelta(hours=8))
REQUIRED = ("rule_id", "rule_name", "rule_pack", "result_type", "fixmedins_code",
            "event_time", "vola_amt")


def fail(msg):
    print("FAIL: " + msg)
    sys.exit(1)


def open_text(path):
    if path.endswith(".gz"):
        return gzip.open(path, "rt", encoding="utf-8", newline="\n")
    return open(path, encoding="utf-8", newline="\n")


def to_fen(text):
    """Exact yuan text -> integer fen, or None when not an amount."""
    if not re.fullmatch(r"\d+(\.\d+)?", text):
        return None
    try:
        d = Decimal(text) * 100
    except InvalidOperation:
        return None
    if d != d.to_integral_value():
        return None
    return int(d)


def fen_text(fen):
    return "%d.%02d" % (fen // 100, fen % 100)


def classify(line):
    """(kind, obj) with kind ALERT, RETRACT, BAD or BLANK."""
    if not line.strip():
        return "BLANK", None
    try:
        obj = json.loads(line)
    except ValueError:
        return "BAD", None
    if not isinstance(obj, dict) or obj.get("schema") != "nhsa.alert.v1":
        return "BAD", None
    kind = obj.get("alert_type")
    jr = obj.get("jr_id")
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
        datetime.datetime.fromisoformat(obj["event_time"])
    except ValueError:
        return "BAD", None
    return kind, obj


def recompute(paths):
    alerts, retracts = {}, set()
    stats = collections.Counter()
    bad_at = []
    for path in paths:
        with open_text(path) as f:
            for n, line in enumerate(f, 1):
                kind, obj = classify(line.rstrip("\n"))
                stats[kind] += 1
                if kind == "BAD":
                    bad_at.append("%s:%d" % (path, n))
                elif kind == "RETRACT":
                    if obj["jr_id"] in retracts:
                        stats["dup_retract"] += 1
                    retracts.add(obj["jr_id"])
                elif kind == "ALERT":
                    if obj["jr_id"] in alerts:
                        stats["dup_alert"] += 1
                    else:
                        alerts[obj["jr_id"]] = obj
    stats["unmatched"] = len(retracts - set(alerts))
    groups = {"rule": {}, "inst": {}, "day": {}}
    names = {}
    zero = lambda: {"alerts": 0, "definite": 0, "suspect": 0, "fen": 0,
                    "withdrawn": 0, "withdrawn_fen": 0}
    for jr, a in alerts.items():
        day = datetime.datetime.fromisoformat(a["event_time"]).astimezone(CST).date().isoformat()
        names.setdefault(a["rule_id"], a["rule_name"])
        fen = to_fen(a["vola_amt"])
        for kind, key in (("rule", a["rule_id"]), ("inst", a["fixmedins_code"]), ("day", day)):
            g = groups[kind].setdefault(key, zero())
            if jr in retracts:
                g["withdrawn"] += 1
                g["withdrawn_fen"] += fen
            else:
                g["alerts"] += 1
                g["definite" if a["result_type"] == "DEFINITE" else "suspect"] += 1
                g["fen"] += fen
    return groups, names, stats, bad_at


def read_csv(path, key_cols):
    with open(path, encoding="utf-8", newline="") as f:
        rows = list(csv.DictReader(f))
    want = key_cols + ["alerts", "definite", "suspect", "amount_yuan", "withdrawn",
                       "withdrawn_amount_yuan"]
    with open(path, encoding="utf-8", newline="") as f:
        header = next(csv.reader(f))
    if header != want:
        fail("%s: header %r, expected %r" % (path, header, want))
    return rows


def compare(path, rows, key_col, expect):
    got_keys = [r[key_col] for r in rows]
    if len(got_keys) != len(set(got_keys)):
        fail("%s: repeated %s" % (path, key_col))
    if set(got_keys) != set(expect):
        fail("%s: keys %r, expected %r" % (path, sorted(got_keys), sorted(expect)))
    for r in rows:
        e = expect[r[key_col]]
        want = {"alerts": str(e["alerts"]), "definite": str(e["definite"]),
                "suspect": str(e["suspect"]), "amount_yuan": fen_text(e["fen"]),
                "withdrawn": str(e["withdrawn"]),
                "withdrawn_amount_yuan": fen_text(e["withdrawn_fen"])}
        for k, v in want.items():
            if r[k] != v:
                fail("%s: %s=%s: %s is %r, expected %r" % (path, key_col, r[key_col], k, r[k], v))


def cmd_csv(args):
    groups, names, stats, bad_at = recompute(args.alerts)
    d = args.csv_dir
    rules = read_csv(d + "/by_rule.csv", ["rule_id", "rule_name"])
    compare("by_rule.csv", rules, "rule_id", groups["rule"])
    for r in rules:
        if r["rule_name"] != names[r["rule_id"]]:
            fail("by_rule.csv: rule_name of %s is %r" % (r["rule_id"], r["rule_name"]))
    insts = read_csv(d + "/by_institution.csv", ["rank", "fixmedins_code"])
    compare("by_institution.csv", insts, "fixmedins_code", groups["inst"])
    ranked = sorted(groups["inst"].items(), key=lambda kv: (-kv[1]["fen"], -kv[1]["alerts"], kv[0]))
    if [r["fixmedins_code"] for r in insts] != [k for k, _ in ranked] or \
            [r["rank"] for r in insts] != [str(i) for i in range(1, len(insts) + 1)]:
        fail("by_institution.csv is not ranked by amount at stake")
    days = read_csv(d + "/by_day.csv", ["date"])
    compare("by_day.csv", days, "date", groups["day"])
    if [r["date"] for r in days] != sorted(r["date"] for r in days):
        fail("by_day.csv is not in date order")

    total = {k: sum(g[k] for g in groups["rule"].values())
             for k in ("alerts", "definite", "suspect", "fen", "withdrawn")}
    err = open(args.stderr, encoding="utf-8").read()
    m = re.search(r"^fundguard report: (.*)$", err, re.M)
    if not m:
        fail("no summary line on stderr")
    summary = dict(kv.split("=", 1) for kv in m.group(1).split())
    want = {"alerts": str(total["alerts"]), "definite": str(total["definite"]),
            "suspect": str(total["suspect"]), "amount": fen_text(total["fen"]),
            "withdrawn": str(total["withdrawn"]), "duplicates": str(stats["dup_alert"]),
            "retractions_without_alert": str(stats["unmatched"]),
            "bad_lines": str(stats["BAD"])}
    for k, v in want.items():
        if summary.get(k) != v:
            fail("summary %s=%r, recomputed %r" % (k, summary.get(k), v))
    if int(summary.get("html_bytes", "0")) <= 0:
        fail("summary has no html_bytes")
    shown = re.findall(r"^report: (\S+:\d+): ", err, re.M)
    if shown != bad_at[:10]:
        fail("bad lines reported as %r, expected %r" % (shown, bad_at[:10]))
    for spec in args.expect:
        k, v = spec.split("=", 1)
        if summary.get(k) != v:
            fail("expected %s=%s, summary says %r" % (k, v, summary.get(k)))
    print("ok: csv matches: %d rules, %d institutions, %d days, %s yuan, withdrawn=%d "
          "duplicates=%d unmatched=%d bad=%d" % (len(groups["rule"]), len(groups["inst"]),
                                                 len(groups["day"]), fen_text(total["fen"]),
                                                 total["withdrawn"], stats["dup_alert"],
                                                 stats["unmatched"], stats["BAD"]))


class Dom(HTMLParser):
    """Just enough structure: rows per table body, bars per svg, text."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.table = None
        self.in_tbody = False
        self.rows = collections.Counter()
        self.svg = None
        self.svgs = []
        self.bars = collections.Counter()
        self.tags = collections.Counter()
        self.external = []
        self.text = []

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        self.tags[tag] += 1
        for k in ("src", "href"):
            if k in a:
                self.external.append("%s %s=%s" % (tag, k, a[k]))
        if tag in ("script", "link", "iframe", "img", "object", "embed"):
            self.external.append(tag)
        if tag == "table":
            self.table = a.get("id")
        elif tag == "tbody":
            self.in_tbody = True
        elif tag == "tr" and self.in_tbody:
            self.rows[self.table] += 1
        elif tag == "svg":
            self.svg = a.get("id", "svg%d" % len(self.svgs))
            self.svgs.append(self.svg)
        elif tag == "rect" and self.svg and "bar" in a.get("class", "").split():
            if float(a.get("width", 0)) > 0 and float(a.get("height", 0)) > 0:
                self.bars[self.svg] += 1

    def handle_endtag(self, tag):
        if tag == "tbody":
            self.in_tbody = False
        elif tag == "table":
            self.table = None
        elif tag == "svg":
            self.svg = None

    def handle_data(self, data):
        self.text.append(data)


def cmd_dom(args):
    dom = Dom()
    dom.feed(open(args.dom, encoding="utf-8").read())
    if dom.rows["by-rule"] != args.rules:
        fail("rule table has %d rows, expected %d" % (dom.rows["by-rule"], args.rules))
    if dom.rows["by-institution"] != args.institutions:
        fail("institution table has %d rows, expected %d" % (dom.rows["by-institution"],
                                                            args.institutions))
    if dom.rows["by-day"] != args.days:
        fail("day table has %d rows, expected %d" % (dom.rows["by-day"], args.days))
    drawn = [s for s in dom.svgs if dom.bars[s] > 0]
    if len(dom.svgs) < 3 or len(drawn) < 3:
        fail("%d svg charts, %d with drawn bars (%r)" % (len(dom.svgs), len(drawn), dict(dom.bars)))
    if dom.external:
        fail("external resources or scripts: %r" % dom.external[:5])
    text = "".join(dom.text)
    for t in args.text:
        if t not in text:
            fail("text %r not shown literally" % t)
    for tag in args.absent_tag:
        if dom.tags[tag]:
            fail("<%s> element present: input was not escaped" % tag)
    print("ok: dom: rows rule=%d institution=%d day=%d, svgs=%d, bars=%r" % (
        dom.rows["by-rule"], dom.rows["by-institution"], dom.rows["by-day"], len(dom.svgs),
        dict(dom.bars)))


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("csv")
    c.add_argument("alerts", nargs="+")
    c.add_argument("--csv-dir", required=True)
    c.add_argument("--stderr", required=True)
    c.add_argument("--expect", action="append", default=[])
    d = sub.add_parser("dom")
    d.add_argument("dom")
    d.add_argument("--rules", type=int, required=True)
    d.add_argument("--institutions", type=int, required=True)
    d.add_argument("--days", type=int, required=True)
    d.add_argument("--text", action="append", default=[])
    d.add_argument("--absent-tag", action="append", default=[])
    args = ap.parse_args()
    (cmd_csv if args.cmd == "csv" else cmd_dom)(args)


if __name__ == "__main__":
    main()
