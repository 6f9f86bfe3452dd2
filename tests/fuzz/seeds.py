#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the seed corpus of one fuzz harness, from the repository's own
fixtures and shipped files, one input per file (named by its SHA-1).

Usage: seeds.py HARNESS OUTDIR      (HARNESS: event, config, pack, alert)

  event   every line of tests/fixtures/*/*/events.jsonl, the malformed
          corpus of tests/scripts/make_malformed.py, and the first lines of
          the bundled sample config/samples/claims.jsonl.gz
  config  config/fundguard.json, with and without --set assignments
          (the harness reads "FILE\\0SET\\0SET...")
  pack    slices of every shipped table (config/rules/nhsa, the unit
          tests' pack_small, config/reference), each behind the selector
          byte of the file it replaces in fuzz_pack.c, and the manifests
  alert   every alert of tests/fixtures/*/*/expected_alerts.jsonl in the
          binary layout fuzz_alert.c decodes, with each kind of source,
          plus a few hand-made extremes
"""
import datetime
import glob
import gzip
import hashlib
import json
import os
import struct
import subprocess
import sys
import tempfile

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def rel(*p):
    return os.path.join(ROOT, *p)


class Out:
    def __init__(self, d):
        self.dir = d
        self.n = 0
        os.makedirs(d, exist_ok=True)

    def put(self, data):
        if isinstance(data, str):
            data = data.encode()
        name = os.path.join(self.dir, hashlib.sha1(data).hexdigest())
        if not os.path.exists(name):
            with open(name, "wb") as f:
                f.write(data)
            self.n += 1


# ---- event ----

# Longer lines (the malformed corpus's oversized ones, settlements with many
# fee lines) only slow the fuzzer down: their structure is in the others.
MAX_EVENT_SEED = 8192


def seeds_event(out):
    for path in sorted(glob.glob(rel("tests", "fixtures", "*", "*", "events.jsonl"))):
        with open(path, "rb") as f:
            for line in f:
                line = line.rstrip(b"\n")
                if line and len(line) <= MAX_EVENT_SEED:
                    out.put(line)
    with tempfile.TemporaryDirectory() as tmp:
        bad, expect = os.path.join(tmp, "bad.jsonl"), os.path.join(tmp, "bad.expect")
        subprocess.run([sys.executable, rel("tests", "scripts", "make_malformed.py"), bad, expect],
                       check=True, stdout=subprocess.DEVNULL)
        with open(bad, "rb") as f:
            for line in f:
                line = line.rstrip(b"\n")
                if line and len(line) <= MAX_EVENT_SEED:
                    out.put(line)
    with gzip.open(rel("config", "samples", "claims.jsonl.gz"), "rb") as f:
        for i, line in enumerate(f):
            if i >= 150:
                break
            if len(line) <= MAX_EVENT_SEED:
                out.put(line.rstrip(b"\n"))


# ---- config ----

SETS = [
    ["detectors.duplicate_billing.enabled=false"],
    ["rules.strict=false", "state.lateness_seconds=3600"],
    ["kafka.consumer.sasl.username=alice", "kafka.producer.linger.ms=5"],
    ["detectors.out_of_catalogue.work_injury_insutypes=[\"410\",\"420\"]"],
    ["log.level=debug", "redis.port=6380", "metrics.listen=127.0.0.1:9464"],
    ["detectors.abnormal_pricing.outlier_factor_pct=0"],
    ["nosuch.key=1"],
    ["detectors.duplicate_billing.disabled_rules=DUP-PAIR,DUP-EXACT"],
]


def seeds_config(out):
    with open(rel("config", "fundguard.json"), "rb") as f:
        base = f.read()
    out.put(base)
    for sets in SETS:
        out.put(base + b"\0" + b"\0".join(s.encode() for s in sets))
    cfg = json.loads(base)
    # Small variants: one section each, a compact form, an unknown key.
    for key in cfg:
        out.put(json.dumps({key: cfg[key]}, indent=1, ensure_ascii=False))
    out.put(json.dumps(cfg, separators=(",", ":")))
    out.put(b'{"kafka": {"bootstrap_servers": "b:9092", "typo": 1}}')
    out.put(b'{"detectors": {"duplicate_billing": {"visit_window_days": "x"}}}')
    out.put(b'{}\0a.b.c=1\0a.b=2')


# ---- pack ----

# The selector byte of each file in fuzz_pack.c's table `files`.
SELECTOR = {
    "gender": 0, "age": 1, "insutype": 2, "care_setting": 3, "hosp_level": 4,
    "course": 5, "dup_pairs": 6, "daily_cap": 7, "period": 8, "surgery_groups": 9,
    "catalogue": 10, "price_list": 11, "pack.json": 12,
}


def slices(data, rows=12):
    """The header (with any comments before it) and the first rows, and
    the header with rows from the middle."""
    lines = data.split(b"\n")
    h = 0
    while h < len(lines) and (not lines[h].strip() or lines[h].startswith(b"#")):
        h += 1
    header, body = lines[:h + 1], lines[h + 1:]
    yield b"\n".join(header + body[:rows]) + b"\n"
    mid = len(body) // 2
    if len(body) > 2 * rows:
        yield b"\n".join(header + body[mid:mid + rows]) + b"\n"


def seeds_pack(out):
    for packdir in (rel("config", "rules", "nhsa"), rel("tests", "unit", "data", "pack_small")):
        with open(os.path.join(packdir, "pack.json"), "rb") as f:
            manifest = f.read()
        out.put(bytes([SELECTOR["pack.json"]]) + manifest)
        for table, name in json.loads(manifest)["tables"].items():
            with open(os.path.join(packdir, name), "rb") as f:
                data = f.read()
            for s in slices(data):
                out.put(bytes([SELECTOR[table]]) + s)
        for op in ("catalogue", "price_list"):
            p = os.path.join(packdir, op + ".csv")
            if os.path.exists(p):
                with open(p, "rb") as f:
                    out.put(bytes([SELECTOR[op]]) + f.read())
    for op, name in (("catalogue", "catalogue.example.csv"),
                     ("price_list", "price_list.example.csv")):
        with open(rel("config", "reference", name), "rb") as f:
            for s in slices(f.read(), 20):
                out.put(bytes([SELECTOR[op]]) + s)


# ---- alert ----

T_MIN = -2209017600          # 1900-01-01T00:00:00+08:00, fuzz_alert.c's T_MIN
T_END = 7289625600           # 2201-01-01T00:00:00+08:00, fuzz_alert.c's T_END


def enc_time(t):
    """fuzz_alert.c's map_time inverted: 1900..2200 with the top bit clear,
    anything else (within +-2^36 s) with it set."""
    if T_MIN <= t < T_END:
        return t - T_MIN
    return (1 << 63) | (t + (1 << 36))


def epoch(text):
    return int(datetime.datetime.fromisoformat(text).timestamp())


def fen(text):
    neg = text.startswith("-")
    whole, _, frac = text.lstrip("-").partition(".")
    v = int(whole) * 100 + int((frac + "00")[:2])
    return -v if neg else v


def alert_input(a, source, replay, extra_flags=0, type_str=None, mask=0, amount=None,
                event_time=None):
    """fuzz_alert.c's layout for the alert object a."""
    ev = a.get("evidence") or {}
    dtl = a.get("judge_result_detail_dtos") or [{}]
    flags = (1 if a["alert_type"] == "RETRACT" else 0) | (2 if type_str is not None else 0)
    flags |= 4 if a.get("result_type") == "DEFINITE" else 0
    flags |= 8 if "window" in ev else 0
    flags |= {"none": 0, "file": 1, "topic": 2, "nullfile": 3}[source] << 4
    flags |= 0x40 if replay else 0
    flags |= extra_flags
    t = epoch(a["event_time"]) if event_time is None else event_time
    ws = epoch(ev["window_start"]) if "window_start" in ev else t
    we = epoch(ev["window_end"]) if "window_end" in ev else t
    amt = fen(a["vola_amt"]) if amount is None else amount
    head = struct.pack("<BBH", flags, len(dtl) - 1, mask)
    head += struct.pack("<QqQQQIq",
                        enc_time(t), amt, enc_time(ws), enc_time(we), 1714960000123, 3, 81234)
    strs = [type_str or "", a["jr_id"], a["rule_id"], a["rule_name"], a["detector"],
            a["detector_version"], a["rule_pack"], a["vola_cont"], a["vola_evid"],
            a.get("psn_no") or "", a["fixmedins_code"], a.get("mdtrt_id") or "",
            a.get("setl_id") or "", a.get("event_id") or "", dtl[0].get("feedetl_sn") or "",
            dtl[0].get("hilist_code") or "", ev.get("window", ""),
            "claims" if source == "topic" else "claims.jsonl"]
    for d in dtl[1:]:
        strs += [d.get("setl_id") or "", d.get("feedetl_sn") or "", d.get("hilist_code") or ""]
    return head + b"\0".join(s if isinstance(s, bytes) else s.encode() for s in strs)


def b_retract(a):
    b = dict(a)
    b["alert_type"] = "RETRACT"
    return b


def seeds_alert(out):
    alerts = []
    for path in sorted(glob.glob(rel("tests", "fixtures", "*", "*", "expected_alerts.jsonl"))):
        with open(path, encoding="utf-8") as f:
            alerts += [json.loads(l) for l in f if l.strip()]
    kinds = [("none", False), ("file", True), ("topic", False), ("nullfile", True)]
    for i, a in enumerate(alerts):
        src, replay = kinds[i % len(kinds)]
        out.put(alert_input(a, src, replay))
    if not alerts:
        return
    a = alerts[0]
    # Extremes: amounts at and past the reader's limits, times outside
    # 1900..2200 (top bit set: the wide range), odd alert types and strings.
    for amt in (0, -1, 9999999999999999, 10000000000000000, 2**63 - 1, -2**63):
        out.put(alert_input(a, "file", True, amount=amt))
    out.put(alert_input(a, "topic", False, event_time=T_MIN))
    out.put(alert_input(a, "topic", False, event_time=T_MIN - 1))
    out.put(alert_input(a, "file", False, event_time=T_END))
    out.put(alert_input(b_retract(a), "file", False, event_time=-(1 << 36)))
    out.put(alert_input(a, "none", False, type_str="RETRACT"))
    out.put(alert_input(a, "none", False, type_str="alert"))
    out.put(alert_input(a, "none", False, mask=0xffff))
    b = dict(a)
    b["vola_cont"] = "quote \" backslash \\ tab \t nl \n ctl \x01\x1f del \x7f 汉字"
    out.put(alert_input(b, "file", False))
    # Invalid UTF-8: stray bytes, an overlong, a surrogate, past U+10FFFF,
    # a truncated sequence.
    b = dict(a)
    b["psn_no"] = b"\xff\xfe\xc0\xaf\xed\xa0\x80\xf4\x90\x80\x80\xe4\xb8"
    b["vola_evid"] = b"ok \xe4\xb8\xad \xe4\xb8 \x80"
    out.put(alert_input(b, "file", False))


def main():
    if len(sys.argv) != 3 or sys.argv[1] not in ("event", "config", "pack", "alert"):
        sys.exit(__doc__)
    out = Out(sys.argv[2])
    globals()["seeds_" + sys.argv[1]](out)
    print("%s: %d seeds in %s" % (sys.argv[1], out.n, out.dir), file=sys.stderr)


if __name__ == "__main__":
    main()
