#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers for test_supervisor_tools.sh (stdlib only).

  supervisor_check.py keyed ALERTS
      print "fixmedins_code<TAB>line" for every alert line, for kcat -K '\\t'.
  supervisor_check.py expect human|json ALERTS [--rule R] [--institution I]
                      [--result X] [--severity N] [--since T] [--until T]
      the lines `fundguard alerts` must print for ALERTS with these filters,
      sorted: the raw lines (json), or the human form recomputed here from
      the contract: local time (+08:00) of event_time, institution, person,
      result in Chinese, rule name and id, amount in yuan, and the fee lines
      involved as "#feedetl_sn hilist_code".
  supervisor_check.py retract ALERTS RULE KEYED_OUT ID_OUT
      a RETRACT (only schema, alert_type, jr_id) of the first ALERT of RULE,
      keyed by its institution, to KEYED_OUT; its jr_id to ID_OUT; prints
      the alert's institution and rule name.
"""
import argparse
import datetime
import json
import re
import sys

CST = datetime.timezone(datetime.timedelta(hours=8))


def alerts(path):
    with open(path, encoding="utf-8") as f:
        for line in f:
            line = line.rstrip("\n")
            if line:
                yield line, json.loads(line)


def when(text):
    if re.fullmatch(r"\d{4}-\d\d-\d\d", text):
        text += "T00:00:00+08:00"
    return datetime.datetime.fromisoformat(text)


def wanted(a, args):
    if args.rule and a["rule_id"] not in args.rule:
        return False
    if args.institution and a["fixmedins_code"] not in args.institution:
        return False
    if args.result and a["result_type"] != args.result:
        return False
    if args.severity and int(a["sev_deg"]) < int(args.severity):
        return False
    t = when(a["event_time"])
    if args.since and t < when(args.since):
        return False
    if args.until and t >= when(args.until):
        return False
    return True


def human(a):
    t = when(a["event_time"]).astimezone(CST).strftime("%Y-%m-%d %H:%M:%S")
    result = {"DEFINITE": "明确违规", "SUSPECT": "可疑"}[a["result_type"]]
    lines = ", ".join("#%s %s" % (d["feedetl_sn"], d["hilist_code"])
                      for d in a["judge_result_detail_dtos"])
    text = "%s  %s  %s  %s  %s %s  %s元" % (t, a["fixmedins_code"], a["psn_no"], result,
                                          a["rule_name"], a["rule_id"], a["vola_amt"])
    return text + ("  " + lines if lines else "")


def main():
    ap = argparse.ArgumentParser()
    sub = ap.add_subparsers(dest="cmd", required=True)
    k = sub.add_parser("keyed")
    k.add_argument("alerts")
    e = sub.add_parser("expect")
    e.add_argument("form", choices=("human", "json"))
    e.add_argument("alerts")
    e.add_argument("--rule", action="append")
    e.add_argument("--institution", action="append")
    e.add_argument("--result")
    e.add_argument("--severity")
    e.add_argument("--since")
    e.add_argument("--until")
    r = sub.add_parser("retract")
    r.add_argument("alerts")
    r.add_argument("rule")
    r.add_argument("keyed_out")
    r.add_argument("id_out")
    args = ap.parse_args()
    if args.cmd == "keyed":
        for line, a in alerts(args.alerts):
            sys.stdout.write(a["fixmedins_code"] + "\t" + line + "\n")
    elif args.cmd == "expect":
        out = [line if args.form == "json" else human(a)
               for line, a in alerts(args.alerts) if wanted(a, args)]
        for line in sorted(out):
            print(line)
    else:
        a = next(a for _, a in alerts(args.alerts) if a["rule_id"] == args.rule)
        retract = {"schema": "nhsa.alert.v1", "alert_type": "RETRACT", "jr_id": a["jr_id"]}
        with open(args.keyed_out, "w", encoding="utf-8") as f:
            f.write(a["fixmedins_code"] + "\t" + json.dumps(retract) + "\n")
        with open(args.id_out, "w", encoding="utf-8") as f:
            f.write(a["jr_id"] + "\n")
        print(a["fixmedins_code"], a["rule_name"])


if __name__ == "__main__":
    main()
