#!/usr/bin/env python3
"""fg_eval.py: score fundguard alerts (nhsa.alert.v1 JSON Lines) against a
truth CSV written by fg_gen.py.

An alert is matched by (setl_id, feedetl_sn, rule_id) of its detail whose
vola_item_type is "1" (the violating line).  A RETRACT withdraws the ALERT
with the same jr_id.  Each truth row can be matched once; a second alert for
the same key counts as a false positive (one alert per violation).

Exit codes: 0 done (and perfect, when --require-perfect is given); 1 a rule
named by --require-perfect has recall or precision below 1.0, or the alert
file has unreadable lines; 2 usage error or unreadable file.
Python 3.11, standard library only.
"""

import argparse
import csv
import gzip
import io
import json
import sys

TRUTH_HEADER = ["event_id", "setl_id", "feedetl_sn", "rule_id"]


class UsageError(Exception):
    pass


def open_text(path):
    if path == "-":
        return io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8")
    if path.endswith(".gz"):
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8")
    return open(path, encoding="utf-8", newline="")


def read_truth(path):
    keys = {}
    try:
        with open_text(path) as f:
            r = csv.reader(f)
            header = next(r, None)
            if header is None or [h.strip() for h in header] != TRUTH_HEADER:
                raise UsageError("%s: header must be %s" % (
                    path, ",".join(TRUTH_HEADER)))
            for n, row in enumerate(r, start=2):
                if not row or (len(row) == 1 and not row[0].strip()):
                    continue
                if len(row) != 4:
                    raise UsageError("%s:%d: expected 4 fields" % (path, n))
                ev, setl, sn, rule = (x.strip() for x in row)
                keys[(setl, sn, rule)] = ev
    except OSError as e:
        raise UsageError("cannot read truth %s: %s" % (path, e))
    return keys


def violating_key(alert):
    rule = alert.get("rule_id")
    dets = alert.get("judge_result_detail_dtos") or []
    for d in dets:
        if isinstance(d, dict) and str(d.get("vola_item_type")) == "1":
            setl = d.get("setl_id") or alert.get("setl_id")
            sn = d.get("feedetl_sn")
            if setl is None or sn is None:
                return None
            return (str(setl), str(sn), str(rule))
    return None


def read_alerts(path):
    """Returns ([(key or None, rule)], number of bad lines)."""
    order = []
    retracted = set()
    bad = 0
    try:
        with open_text(path) as f:
            for n, line in enumerate(f, start=1):
                line = line.strip()
                if not line:
                    continue
                try:
                    a = json.loads(line)
                    if not isinstance(a, dict):
                        raise ValueError("not an object")
                except ValueError as e:
                    bad += 1
                    if bad <= 5:
                        print("fg_eval: %s:%d: not a JSON object (%s)" % (
                            path, n, e), file=sys.stderr)
                    continue
                if a.get("alert_type") == "RETRACT":
                    if a.get("jr_id") is not None:
                        retracted.add(a.get("jr_id"))
                    continue
                rule = str(a.get("rule_id"))
                order.append((violating_key(a), rule, a.get("jr_id")))
    except OSError as e:
        raise UsageError("cannot read alerts %s: %s" % (path, e))
    out = [(k, r) for k, r, j in order if j is None or j not in retracted]
    return out, bad


def ratio(num, den):
    return 1.0 if den == 0 else num / den


def main(argv=None):
    ap = argparse.ArgumentParser(
        prog="fg_eval.py",
        description="Compare nhsa.alert.v1 alerts with a fg_gen truth CSV.")
    ap.add_argument("--alerts", required=True,
                    help="alert JSON Lines (.gz accepted), '-' for stdin")
    ap.add_argument("--truth", required=True, help="truth CSV from fg_gen.py")
    ap.add_argument("--require-perfect", nargs="?", const="", default=None,
                    metavar="RULES",
                    help="exit 1 unless recall and precision are 1.0 for "
                         "these rules (comma list; default all rule ids in "
                         "truth or alerts)")
    ap.add_argument("--examples", type=int, default=5,
                    help="FP/FN examples printed per failing rule")
    try:
        a = ap.parse_args(argv)
    except SystemExit as e:
        return 2 if e.code else 0
    if a.alerts == "-" and a.truth == "-":
        print("fg_eval: --alerts and --truth cannot both be stdin",
              file=sys.stderr)
        return 2
    try:
        truth = read_truth(a.truth)
        alerts, bad = read_alerts(a.alerts)
    except UsageError as e:
        print("fg_eval: %s" % e, file=sys.stderr)
        return 2

    rules = sorted(set(k[2] for k in truth) | set(r for _, r in alerts))
    stat = {r: {"truth": 0, "alerts": 0, "tp": 0, "fp": [], "fn": [],
                "nokey": 0} for r in rules}
    for k in truth:
        stat[k[2]]["truth"] += 1
    matched = set()
    for k, r in alerts:
        s = stat[r]
        s["alerts"] += 1
        if k is None:
            s["nokey"] += 1
            s["fp"].append(("<no violating detail>",))
        elif k in truth and k not in matched:
            matched.add(k)
            s["tp"] += 1
        else:
            s["fp"].append(k + (("duplicate",) if k in matched else ()))
    for k in truth:
        if k not in matched:
            stat[k[2]]["fn"].append(k)

    w = max([len("rule_id"), len("TOTAL")] + [len(r) for r in rules])
    hdr = "%-*s %7s %7s %7s %7s %7s %7s %9s" % (
        w, "rule_id", "truth", "alerts", "TP", "FP", "FN", "recall",
        "precision")
    print(hdr)
    print("-" * len(hdr))
    tot = {"truth": 0, "alerts": 0, "tp": 0, "fp": 0, "fn": 0}
    for r in rules:
        s = stat[r]
        fp, fn = len(s["fp"]), len(s["fn"])
        print("%-*s %7d %7d %7d %7d %7d %7.3f %9.3f" % (
            w, r, s["truth"], s["alerts"], s["tp"], fp, fn,
            ratio(s["tp"], s["truth"]), ratio(s["tp"], s["alerts"])))
        tot["truth"] += s["truth"]
        tot["alerts"] += s["alerts"]
        tot["tp"] += s["tp"]
        tot["fp"] += fp
        tot["fn"] += fn
    print("-" * len(hdr))
    print("%-*s %7d %7d %7d %7d %7d %7.3f %9.3f" % (
        w, "TOTAL", tot["truth"], tot["alerts"], tot["tp"], tot["fp"],
        tot["fn"], ratio(tot["tp"], tot["truth"]),
        ratio(tot["tp"], tot["alerts"])))
    if bad:
        print("unreadable alert lines: %d" % bad)

    if a.require_perfect is None:
        return 0
    want = [x.strip() for x in a.require_perfect.split(",") if x.strip()] \
        or rules
    failing = []
    for r in want:
        s = stat.get(r)
        if s is None:
            continue
        if s["tp"] < s["truth"] or s["tp"] < s["alerts"]:
            failing.append(r)
    if not failing and not bad:
        print("require-perfect: OK (%d rules)" % len(want))
        return 0
    for r in failing:
        s = stat[r]
        print("require-perfect: %s recall %.3f precision %.3f" % (
            r, ratio(s["tp"], s["truth"]), ratio(s["tp"], s["alerts"])))
        for k in s["fn"][:a.examples]:
            print("  FN setl_id=%s feedetl_sn=%s event_id=%s" % (
                k[0], k[1], truth.get(k, "")))
        for k in s["fp"][:a.examples]:
            if len(k) == 1:
                print("  FP %s" % k[0])
            else:
                print("  FP setl_id=%s feedetl_sn=%s%s" % (
                    k[0], k[1], " (duplicate alert)" if len(k) > 3 else ""))
    if bad:
        print("require-perfect: %d unreadable alert lines" % bad)
    return 1


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(1)
