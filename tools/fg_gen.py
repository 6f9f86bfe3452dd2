#!/usr/bin/env python3
"""fg_gen.py: synthetic NHSA settlements (nhsa.claim.v1 JSON Lines) with
injected violations and a truth file.

The stream is deterministic for a given --seed and the same reference tables.
Clean lines trigger no fundguard rule by construction: every line is checked
against a Python model of the detector semantics (detectors/*/README.md)
before it is written, with windows widened on purpose so that borderline
cases appear only where they are planted as near misses.  Each injected
violation is checked the same way: it must fire its own rule on exactly one
line and no other rule anywhere.

See tools/README.md for options, the truth format and the near misses.
Python 3.11, standard library only.
"""

import argparse
import bisect
import csv
import datetime
import gzip
import io
import json
import os
import random
import sys
import time
import zlib

ALL_RULES = [
    "DUP-EXACT", "DUP-PAIR", "DUP-DAILY-CAP", "DUP-PERIOD",
    "PRICE-OVER-CAP", "PRICE-ARITH", "PRICE-OVER-LIST", "PRICE-OUTLIER",
    "CAT-NOT-LISTED", "CAT-SELF-PAY-CLAIMED", "CAT-GENDER", "CAT-AGE",
    "CAT-INSUTYPE", "CAT-CARE-SETTING", "CAT-HOSP-LEVEL", "CAT-COURSE",
]
RULE_DETECTOR = {
    "DUP-EXACT": "duplicate_billing", "DUP-PAIR": "duplicate_billing",
    "DUP-DAILY-CAP": "duplicate_billing", "DUP-PERIOD": "duplicate_billing",
    "PRICE-OVER-CAP": "abnormal_pricing", "PRICE-ARITH": "abnormal_pricing",
    "PRICE-OVER-LIST": "abnormal_pricing", "PRICE-OUTLIER": "abnormal_pricing",
}
for _r in ALL_RULES:
    RULE_DETECTOR.setdefault(_r, "out_of_catalogue")

# Detector parameters (defaults from detectors/*/README.md); --config
# overrides them.
DEFAULT_PARAMS = {
    "child_max_age": 14, "infant_max_age": 3, "newborn_max_days": 28,
    "retirement_age": 60, "work_injury_insutypes": ["410"],
    "maternity_insutypes": ["510"],
    "outpatient_med_types": ["11", "12", "13", "14", "15", "16", "51",
                             "140104", "140201"],
    "pharmacy_med_types": ["41", "9929"],
    "course_gap_days": 30, "outlier_min_samples": 30,
    "outlier_factor_pct": 300, "outlier_lookback_days": 28,
    "visit_window_days": 90,
    # state.lateness_seconds; PRICE-OUTLIER's baseline ends
    # ceil(lateness / day) days before the settlement day
    "lateness_seconds": 86400,
}

# Zhejiang prefecture-level cities (mdtrtarea_admvs) and some of their
# county-level divisions (used inside institution codes).
REGIONS = [
    ("330100", ["330102", "330105", "330106", "330108", "330109", "330110",
                "330111", "330112"]),
    ("330200", ["330203", "330205", "330206", "330211", "330212", "330213"]),
    ("330300", ["330302", "330303", "330304", "330305", "330324", "330381"]),
    ("330400", ["330402", "330411", "330421", "330481", "330482"]),
    ("330500", ["330502", "330503", "330521", "330522", "330523"]),
    ("330600", ["330602", "330603", "330604", "330624", "330681"]),
    ("330700", ["330702", "330703", "330723", "330781", "330782"]),
    ("330800", ["330802", "330803", "330822", "330881"]),
    ("330900", ["330902", "330903", "330921"]),
    ("331000", ["331002", "331003", "331004", "331081", "331082"]),
    ("331100", ["331102", "331121", "331122", "331181"]),
]

# A real national drug code that the shipped example catalogue does not list
# (the code used in CONTRACT.md's example event).
UNLISTED_EXTRA = [("XA01ABD075A002010100483", "101")]

DIAG = {
    "op": ["J06.900", "K29.700", "M54.500", "J20.900", "L30.900", "H10.900",
           "K59.000", "R51.x00"],
    "er": ["R50.900", "S09.900", "T14.000", "J18.900", "K35.800", "R10.400"],
    "chronic": ["I10.x00x002", "E11.900", "N18.500", "I25.103", "J44.900",
                "M81.000"],
    "ip": ["J18.900", "I63.900", "K80.100", "S72.000", "C16.900", "I21.900",
           "K35.800", "N20.000"],
    "mat_op": ["Z34.900"], "mat_ip": ["O80.000", "O82.900"],
}
DEPTS = {"op": ["A03", "A04", "A05", "A07", "A12", "A50"], "er": ["A20"],
         "ip": ["A03", "A04", "A05", "A07"], "mat": ["A05"], "ph": [None]}

EPOCH_ORD = datetime.date(1970, 1, 1).toordinal()
HUGE_DAY = 10 ** 7
E8 = 10 ** 8           # micro-yuan x 1/10000 unit -> fen
CNT1 = 10000           # one unit of cnt


# ---------------------------------------------------------------- utilities

def day_of(s):
    return datetime.date.fromisoformat(s).toordinal() - EPOCH_ORD


_DSTR = {}
_YMD = {}


def dstr(day):
    s = _DSTR.get(day)
    if s is None:
        s = _DSTR[day] = datetime.date.fromordinal(day + EPOCH_ORD).isoformat()
    return s


def ymd(day):
    v = _YMD.get(day)
    if v is None:
        d = datetime.date.fromordinal(day + EPOCH_ORD)
        v = _YMD[day] = (d.year, d.month, d.day)
    return v


def fmt_time(t):
    day, s = divmod(t, 86400)
    return "%s %02d:%02d:%02d" % (dstr(day), s // 3600, s // 60 % 60, s % 60)


def fmt_iso(t):
    day, s = divmod(t, 86400)
    return "%sT%02d:%02d:%02d+08:00" % (dstr(day), s // 3600, s // 60 % 60,
                                         s % 60)


def fmt_fixed(v, places):
    neg = v < 0
    if neg:
        v = -v
    q, r = divmod(v, 10 ** places)
    return "%s%d.%0*d" % ("-" if neg else "", q, places, r)


def parse_fixed(s, places):
    s = s.strip()
    neg = s.startswith("-")
    if s[:1] in "+-":
        s = s[1:]
    ip, _, fp = s.partition(".")
    fp = (fp + "0" * places)[:places]
    v = int(ip or "0") * 10 ** places + int(fp or "0")
    return -v if neg else v


def fee_of(pric, cnt):
    """Fee in fen of pric (micro-yuan) x cnt (1/10000), rounded half up."""
    num = pric * cnt
    neg = num < 0
    if neg:
        num = -num
    q, r = divmod(num, E8)
    if 2 * r >= E8:
        q += 1
    return -q if neg else q


def h32(*parts):
    return zlib.crc32("|".join(parts).encode())


def read_table(path):
    """Read a UTF-8 CSV with '#' comment lines and blank lines skipped."""
    with open(path, encoding="utf-8", newline="") as f:
        rows = [ln for ln in f if ln.strip() and not ln.startswith("#")]
    return list(csv.DictReader(rows))


# ---------------------------------------------------------- reference data

class CodeInfo:
    __slots__ = ("code", "name", "kind", "list_type", "mct", "gend", "age",
                 "fund", "care", "level", "course", "pairs", "caps",
                 "cap_hour", "periods", "stateful", "lmt", "keep", "role",
                 "staple")

    def __init__(self, code):
        self.code = code
        self.name = None
        self.kind = "drug" if code[:1] in "XZ" else "item"
        self.list_type = "101" if self.kind == "drug" else "201"
        self.mct = drug_or_item_mct(code)
        self.gend = None       # set of allowed gend
        self.age = None        # set of age groups
        self.fund = None       # set of funds
        self.care = None       # emergency_ok (bool) when inpatient only
        self.level = 0         # min_level
        self.course = ()       # ((rowkey, max_days, scope), ...)
        self.pairs = ()        # ((row, partner, role, window), ...)
        self.caps = ()         # (max_cnt in 1/10000, ...)
        self.cap_hour = False
        self.periods = ()      # ((max_count, period_days), ...)
        self.stateful = False
        self.lmt = False
        self.keep = 0          # seconds of history the oracle keeps
        self.role = None
        self.staple = False


def drug_or_item_mct(code):
    if code[:1] == "X":
        return "09"
    if code[:1] == "Z":
        return "11"
    if code.startswith("001101"):
        return "13"
    if code.startswith("001102"):
        return "02"
    if code.startswith("001109"):
        return "01"
    if code.startswith("001201") or code.startswith("001202"):
        return "07"
    if code.startswith("0011") or code.startswith("0013"):
        return "14" if code[4:6] in ("07", "08") or code[2:4] == "13" else "05"
    p = code[2:4]
    if p in ("21", "22", "23", "27"):
        return "03"
    if p in ("25", "26"):
        return "04"
    if p in ("32", "33"):
        return "06"
    return "05"


def item_role(code):
    if code[:1] in "XZ":
        return "drug"
    if code.startswith("001109"):
        return "bed"
    if code in ("001201000030000", "001201000040000", "001201000050000"):
        return "nurse"
    if code == "001102000050000":
        return "ipdiag"
    if code == "001102000030000":
        return "erdiag"
    p = code[2:4]
    if p in ("25", "26"):
        return "lab"
    if p in ("21", "22", "23", "27"):
        return "exam"
    if p in ("32", "33"):
        return "surg"
    if p in ("31", "34", "40", "41", "42", "43", "44", "45", "46", "47",
             "48"):
        return "treat"
    if code.startswith("0012"):
        return "ipcare"
    return "other"


class Reference:
    """Rule pack, catalogue and price list, read at run time."""

    def __init__(self, pack_dir, cat_path, price_path, params):
        self.params = params
        with open(os.path.join(pack_dir, "pack.json"), encoding="utf-8") as f:
            man = json.load(f)
        self.pack = "%s@%s" % (man.get("name"), man.get("version"))
        tables = man.get("tables", {})
        self.tables_present = set(tables)
        self.ci = {}
        self.pair_rows = []
        self.course_rows = {}

        def table(key):
            fn = tables.get(key)
            if not fn:
                return []
            return read_table(os.path.join(pack_dir, fn))

        def ci_of(code):
            c = self.ci.get(code)
            if c is None:
                c = self.ci[code] = CodeInfo(code)
            return c

        for r in table("gender"):
            c = ci_of(r["hilist_code"])
            c.gend = (c.gend or set()) | {r["gend"]}
            c.name = c.name or r.get("name")
        for r in table("age"):
            c = ci_of(r["hilist_code"])
            c.age = (c.age or set()) | {r["age_group"]}
            c.name = c.name or r.get("name")
        for r in table("insutype"):
            c = ci_of(r["hilist_code"])
            c.fund = (c.fund or set()) | {r["fund"]}
        for r in table("care_setting"):
            c = ci_of(r["hilist_code"])
            ok = r.get("emergency_ok", "0") == "1"
            c.care = ok if c.care is None else (c.care and ok)
        for r in table("hosp_level"):
            c = ci_of(r["hilist_code"])
            c.level = max(c.level, int(r["min_level"]))
        for r in table("course"):
            c = ci_of(r["hilist_code"])
            key = (r["batch"], r["row"])
            md = int(r["max_days"])
            scope = r.get("scope") or "course"
            c.course = c.course + ((key, md, scope),)
            self.course_rows.setdefault(key, [md, scope, []])[2].append(
                r["hilist_code"])
        for r in table("dup_pairs"):
            row = int(r["row"])
            m, s, w = r["main_code"], r["sub_code"], r["window"]
            self.pair_rows.append((row, m, s, w))
            cm, cs = ci_of(m), ci_of(s)
            cm.name = cm.name or r.get("main_name")
            cs.name = cs.name or r.get("sub_name")
            cm.pairs = cm.pairs + ((row, s, "main", w),)
            cs.pairs = cs.pairs + ((row, m, "sub", w),)
        for r in table("daily_cap"):
            c = ci_of(r["hilist_code"])
            c.caps = c.caps + (parse_fixed(r["max_cnt"], 4),)
            if r.get("unit") == "hour":
                c.cap_hour = True
        for r in table("period"):
            c = ci_of(r["hilist_code"])
            c.periods = c.periods + ((int(r["max_count"]),
                                      int(r["period_days"])),)

        # catalogue
        self.cat_exact = {}
        self.cat_prefix = {}
        self.has_catalogue = bool(cat_path)
        if cat_path:
            for r in read_table(cat_path):
                code = r["hilist_code"]
                beg = day_of(r["begndate"]) if r.get("begndate") else -HUGE_DAY
                end = day_of(r["enddate"]) if r.get("enddate") else HUGE_DAY
                row = (beg, end, r.get("hilist_name") or "",
                       r.get("list_type") or "", r.get("chrgitm_lv") or "")
                if (r.get("match") or "exact") == "prefix":
                    self.cat_prefix.setdefault(code, []).append(row)
                else:
                    self.cat_exact.setdefault(code, []).append(row)
                    c = ci_of(code)
                    c.name = r.get("hilist_name") or c.name
                    if r.get("list_type"):
                        c.list_type = r["list_type"]
        # price list
        self.price = {}
        if price_path:
            for r in read_table(price_path):
                beg = day_of(r["begndate"]) if r.get("begndate") else -HUGE_DAY
                end = day_of(r["enddate"]) if r.get("enddate") else HUGE_DAY
                self.price.setdefault(r["hilist_code"], []).append(
                    (r["hosp_lv"], parse_fixed(r["max_pric"], 6), beg, end))

        for c in self.ci.values():
            c.stateful = bool(c.pairs or c.caps or c.periods)
            c.lmt = bool(c.gend or c.age or c.fund or c.care is not None
                         or c.level or c.course)
            # Lines of one visit all arrive in one event (later settlements
            # of a visit carry refund lines only, which are never judged),
            # so 'visit' pairs need the current visit plus the conservative
            # 36 h window: the current visit is always kept (see commit).
            keep = 0
            if c.pairs:
                keep = max(keep, 3 * 86400)
            if c.caps:
                keep = max(keep, 2 * 86400)
            for _, pd in c.periods:
                keep = max(keep, (pd + 2) * 86400)
            c.keep = keep
            c.role = item_role(c.code)

    # catalogue lookups -------------------------------------------------
    def cat_row(self, code, day):
        """The catalogue row listing code on day (exact wins), or None."""
        for row in self.cat_exact.get(code, ()):
            if row[0] <= day <= row[1]:
                return row
        for row in self.cat_prefix.get(code[:12], ()):
            if row[0] <= day <= row[1]:
                return row
        return None

    def listed(self, code, day):
        if not self.has_catalogue:
            return True
        return self.cat_row(code, day) is not None

    def any_row(self, code):
        rows = self.cat_exact.get(code) or self.cat_prefix.get(code[:12])
        return rows[-1] if rows else None

    # price list lookups --------------------------------------------------
    def list_max(self, code, hosp_lv, day):
        """The max_pric that applies (exact level row wins over '*')."""
        rows = self.price.get(code)
        if not rows:
            return None
        ex = [m for lv, m, b, e in rows if lv == hosp_lv and b <= day <= e]
        if ex:
            return min(ex)
        st = [m for lv, m, b, e in rows if lv == "*" and b <= day <= e]
        return min(st) if st else None

    def list_max_cons(self, code, hosp_lv, day):
        """Lowest max_pric of any row that might apply on day-1..day+1."""
        rows = self.price.get(code)
        if not rows:
            return None
        ms = [m for lv, m, b, e in rows
              if lv in (hosp_lv, "*") and b <= day + 1 and e >= day - 1]
        return min(ms) if ms else None

    def list_max_hi(self, code, hosp_lv, day):
        """Highest max_pric of any row that might apply on day."""
        rows = self.price.get(code)
        if not rows:
            return None
        ms = [m for lv, m, b, e in rows
              if lv in (hosp_lv, "*") and b <= day <= e]
        return max(ms) if ms else None

    def list_min_range(self, code, lvs, d0, d1):
        rows = self.price.get(code)
        if not rows:
            return None
        ms = [m for lv, m, b, e in rows
              if (lv == "*" or lv in lvs) and b <= d1 and e >= d0]
        return min(ms) if ms else None


# ----------------------------------------------------------- the world

LEVEL_OF = {}
for _lv in ("01", "02", "03", "04", "12"):
    LEVEL_OF[_lv] = 3
for _lv in ("05", "06", "07", "13"):
    LEVEL_OF[_lv] = 2
for _lv in ("08", "09", "10", "14"):
    LEVEL_OF[_lv] = 1
LEVEL_OF["11"] = 0
LG_OF = {3: "3", 2: "2", 1: "1", 0: "o"}
LG_LVS = {"3": ("01", "02", "03", "04", "12"), "2": ("05", "06", "07", "13"),
          "1": ("08", "09", "10", "14"), "o": ("11",)}


class Inst:
    __slots__ = ("code", "hosp_lv", "level", "lg", "region", "pharmacy",
                 "fraud", "weight", "drugs", "items", "cands", "prices",
                 "doctors", "idx")


class Person:
    __slots__ = ("psn_no", "gend", "brdy", "by", "bm", "bd", "bday",
                 "insutype", "region", "busy", "chronic", "ex", "ex_t",
                 "bycode", "course", "idx")


class Line:
    __slots__ = ("sn", "init_sn", "t", "day", "minute", "code", "ci", "name",
                 "list_type", "lv", "mct", "pric", "cnt", "net", "fee",
                 "inscp", "uplmt", "overlmt", "paid", "touched", "cancelled",
                 "inst", "mdtrt", "refund", "dept", "dr", "prd", "count_obs",
                 "cell")


class Visit:
    __slots__ = ("inst", "P", "med_type", "mdtrt", "setl", "event_id", "begn",
                 "end", "lines", "sn", "t", "diag", "dept", "dr", "truth",
                 "injected", "setl_time", "refund_of", "noref")


class Stay:
    __slots__ = ("inst", "P", "med_type", "adm_t", "dis_day", "inject",
                 "course_code", "nm_course")


def age_years(P, day):
    y, m, d = ymd(day)
    a = y - P.by
    if (m, d) < (P.bm, P.bd):
        a -= 1
    return a


# ------------------------------------------------------------- the oracle

class Oracle:
    """A model of the detector semantics (detectors/*/README.md).

    check() returns the (rule_id, violating line) pairs a line would raise.
    Rules named in `exact` are judged exactly as the detectors do; all other
    rules are judged conservatively (wider windows, lower thresholds), so a
    line that passes with exact=() is clean with a margin.
    """

    def __init__(self, ref, params, enabled, world):
        self.ref = ref
        self.p = params
        self.on = set(r for r in ALL_RULES if enabled.get(RULE_DETECTOR[r],
                                                          True))
        if not ref.has_catalogue:
            self.on.discard("CAT-NOT-LISTED")
        tp = ref.tables_present
        for rule, tab in (("CAT-GENDER", "gender"), ("CAT-AGE", "age"),
                          ("CAT-INSUTYPE", "insutype"),
                          ("CAT-CARE-SETTING", "care_setting"),
                          ("CAT-HOSP-LEVEL", "hosp_level"),
                          ("CAT-COURSE", "course"), ("DUP-PAIR", "dup_pairs"),
                          ("DUP-DAILY-CAP", "daily_cap"),
                          ("DUP-PERIOD", "period")):
            if tab not in tp:
                self.on.discard(rule)
        self.world = world
        self.op_types = set(params["outpatient_med_types"])
        self.ph_types = set(params["pharmacy_med_types"])
        self.wi = set(params["work_injury_insutypes"])
        self.mat = set(params["maternity_insutypes"])
        self.gap = params["course_gap_days"]
        self.pct = params["outlier_factor_pct"]

    def check(self, P, L, v, exact=()):
        on = self.on
        out = []
        code = L.code
        ci = L.ci
        # DUP-EXACT ------------------------------------------------------
        if "DUP-EXACT" in on and P.ex and not L.touched:
            lst = P.ex.get((L.inst, code, L.pric, L.cnt))
            if lst:
                ex = "DUP-EXACT" in exact
                for E in lst:
                    if E is L or E.cancelled or E.touched:
                        continue
                    if (E.minute == L.minute) if ex else abs(E.t - L.t) < 180:
                        out.append(("DUP-EXACT", L))
                        break
        bc = P.bycode
        # DUP-PAIR -------------------------------------------------------
        if ci.pairs and "DUP-PAIR" in on and bc:
            ex = "DUP-PAIR" in exact
            seen = set()
            for row, partner, role, window in ci.pairs:
                lst = bc.get(partner)
                if not lst:
                    continue
                for E in lst:
                    if E is L or E.cancelled:
                        continue
                    if ex:
                        if window == "day":
                            hit = E.day == L.day and E.inst == L.inst
                        elif window == "visit":
                            hit = E.mdtrt == L.mdtrt
                        elif window == "6h":
                            hit = E.inst == L.inst and abs(E.t - L.t) < 21600
                        elif window == "1h":
                            hit = (E.inst == L.inst
                                   and E.t // 3600 == L.t // 3600)
                        else:
                            hit = True
                    else:
                        hit = (E.mdtrt == L.mdtrt or E.day == L.day
                               or abs(E.t - L.t) < 129600)
                    if hit:
                        viol = L if role == "sub" else E
                        if id(viol) not in seen:
                            seen.add(id(viol))
                            out.append(("DUP-PAIR", viol))
        # DUP-DAILY-CAP --------------------------------------------------
        if ci.caps and "DUP-DAILY-CAP" in on:
            tot = L.net
            for E in (bc.get(code, ()) if bc else ()):
                if E is not L and not E.cancelled and E.day == L.day:
                    tot += E.net
            for cap in ci.caps:
                if tot > cap:
                    out.append(("DUP-DAILY-CAP", L))
                    break
        # DUP-PERIOD -----------------------------------------------------
        if ci.periods and "DUP-PERIOD" in on:
            ex = "DUP-PERIOD" in exact
            lst = bc.get(code, ()) if bc else ()
            for maxc, pdays in ci.periods:
                n = 0
                for E in lst:
                    if E is L or E.cancelled:
                        continue
                    dd = abs(E.day - L.day)
                    if dd < pdays if ex else dd <= pdays:
                        n += 1
                if n >= maxc:
                    out.append(("DUP-PERIOD", L))
                    break
        inst = v.inst
        # PRICE-* --------------------------------------------------------
        if "PRICE-OVER-CAP" in on and L.uplmt is not None and L.pric > L.uplmt:
            short = (L.pric - L.uplmt) * L.cnt - L.overlmt * E8
            if short > E8 if "PRICE-OVER-CAP" in exact else short > 0:
                out.append(("PRICE-OVER-CAP", L))
        if "PRICE-ARITH" in on:
            diff = abs(L.pric * L.cnt - L.fee * E8)
            if diff > E8 if "PRICE-ARITH" in exact else diff > E8 // 2:
                out.append(("PRICE-ARITH", L))
        if "PRICE-OVER-LIST" in on:
            if "PRICE-OVER-LIST" in exact:
                mx = self.ref.list_max(code, inst.hosp_lv, L.day)
            else:
                mx = self.ref.list_max_cons(code, inst.hosp_lv, L.day)
            if mx is not None and L.pric > mx:
                out.append(("PRICE-OVER-LIST", L))
        if "PRICE-OUTLIER" in on:
            base = self.world.base_price(code, inst.lg)
            if "PRICE-OUTLIER" in exact:
                # fires surely: above pct x (highest possible clean median)
                if (L.pric * 100 > self.pct * base * 5 // 4 and
                        # injected outliers are same-day visits: the
                        # visit's day is its settlement (event) day
                        self.world.outlier_count(code, inst, v.t // 86400)
                        >= self.world.outlier_need):
                    out.append(("PRICE-OUTLIER", L))
            elif L.pric * 100 > self.pct * base * 27 // 40:
                out.append(("PRICE-OUTLIER", L))
        # CAT-* (fund-paid lines only) ------------------------------------
        if L.inscp > 0:
            day = L.day
            if "CAT-NOT-LISTED" in on:
                ref = self.ref
                if "CAT-NOT-LISTED" in exact:
                    bad = not ref.listed(code, day)
                else:
                    bad = not (ref.listed(code, day) and
                               ref.listed(code, day - 1) and
                               ref.listed(code, day + 1))
                if bad:
                    out.append(("CAT-NOT-LISTED", L))
            if "CAT-SELF-PAY-CLAIMED" in on and L.lv == "03":
                out.append(("CAT-SELF-PAY-CLAIMED", L))
            if ci.gend and "CAT-GENDER" in on:
                g = P.gend
                if g in ("1", "2"):
                    if "CAT-GENDER" in exact:
                        bad = g not in ci.gend
                    else:
                        bad = len(ci.gend) > 1 or g not in ci.gend
                    if bad:
                        out.append(("CAT-GENDER", L))
            if ci.age and "CAT-AGE" in on:
                if self.age_bad(P, ci.age, day, "CAT-AGE" in exact):
                    out.append(("CAT-AGE", L))
            if ci.fund and "CAT-INSUTYPE" in on:
                bad = False
                for f in ci.fund:
                    allowed = self.wi if f == "work_injury" else (
                        self.mat if f == "maternity" else set())
                    if P.insutype not in allowed:
                        bad = True
                if bad:
                    out.append(("CAT-INSUTYPE", L))
            if ci.care is not None and "CAT-CARE-SETTING" in on:
                mt = v.med_type
                if "CAT-CARE-SETTING" in exact:
                    bad = (mt in self.op_types or mt in self.ph_types) and \
                        not (mt == "13" and ci.care)
                else:
                    bad = not (mt[:1] == "2" or mt == "52")
                if bad:
                    out.append(("CAT-CARE-SETTING", L))
            if ci.level and "CAT-HOSP-LEVEL" in on:
                lvl = inst.level
                if lvl is not None and lvl < ci.level:
                    out.append(("CAT-HOSP-LEVEL", L))
            if ci.course and "CAT-COURSE" in on:
                ex = "CAT-COURSE" in exact
                for key, maxd, scope in ci.course:
                    if self.course_days(P, L, key, scope, ex) > maxd:
                        out.append(("CAT-COURSE", L))
                        break
        return out

    def age_bad(self, P, groups, day, ex):
        p = self.p
        a = age_years(P, day)
        for g in groups:
            if g == "child":
                if a > p["child_max_age"] if ex else a >= p["child_max_age"]:
                    return True
            elif g == "infant":
                if a > p["infant_max_age"] if ex else a >= p["infant_max_age"]:
                    return True
            elif g == "newborn":
                dd = day - P.bday
                if dd > p["newborn_max_days"] if ex else \
                        dd >= p["newborn_max_days"] - 1:
                    return True
            elif g == "over_working_age":
                if a >= p["retirement_age"] if ex else \
                        a >= p["retirement_age"] - 1:
                    return True
            else:
                return True
        return False

    def course_days(self, P, L, key, scope, ex):
        lst = P.course.get(key, ()) if P.course else ()
        days = {L.day}
        for eday, emdtrt, epaid, cell in lst:
            if cell[0] or eday > L.day:
                continue
            if ex and not epaid:
                continue
            if scope == "stay" and emdtrt != L.mdtrt:
                continue
            days.add(eday)
        if scope == "stay":
            return len(days)
        ds = sorted(days, reverse=True)
        n = 1
        gap = self.gap
        for i in range(1, len(ds)):
            g = ds[i - 1] - ds[i]
            if g < gap if ex else g <= gap:
                n += 1
            else:
                break
        return n

    def commit(self, P, L):
        ci = L.ci
        if "DUP-EXACT" in self.on:
            ex = P.ex
            if ex is None or L.t - P.ex_t > 900:
                ex = P.ex = {}
            elif len(ex) > 48:
                lim = L.t - 900
                for k in [k for k, lst in ex.items() if lst[-1].t < lim]:
                    del ex[k]
            ex.setdefault((L.inst, L.code, L.pric, L.cnt), []).append(L)
            if L.t > P.ex_t:
                P.ex_t = L.t
        if ci.stateful:
            bc = P.bycode
            if bc is None:
                bc = P.bycode = {}
            lst = bc.get(L.code)
            if lst is None:
                bc[L.code] = [L]
            else:
                lst.append(L)
                if len(lst) > 4:
                    lim = L.t - ci.keep
                    if lst[0].t < lim:
                        bc[L.code] = [E for E in lst
                                      if E.t >= lim or E.mdtrt == L.mdtrt]
        if ci.course:
            co = P.course
            if co is None:
                co = P.course = {}
            cell = L.cell = [False]
            rec = (L.day, L.mdtrt, L.paid, cell)
            for key, maxd, scope in ci.course:
                lst = co.get(key)
                if lst is None or (lst and L.day - lst[-1][0] > self.gap + 1
                                   and lst[-1][1] != L.mdtrt):
                    # the course chain broke: older days no longer count
                    lst = co[key] = []
                lst.append(rec)
                if len(lst) > 64:
                    lim = L.day - min(400, (maxd + 1) * self.gap)
                    co[key] = [E for E in lst if E[0] >= lim]


# ---------------------------------------------------------- the generator

class Generator:
    def __init__(self, args, ref, params, enabled):
        self.a = args
        self.ref = ref
        self.p = params
        self.rng = random.Random(args.seed)
        self.seed = str(args.seed)
        self.start = day_of(args.start_date)
        self.days = args.days
        self.last_day = self.start + self.days - 1
        self.oracle = Oracle(ref, params, enabled, self)
        self.outlier_need = max(40, params["outlier_min_samples"] + 10)
        self.lookback = params["outlier_lookback_days"]
        self.settle = -(-params["lateness_seconds"] // 86400)
        self.obs = {}            # (code, region, lg) -> {day: n}
        self.outlier_last = {}   # group -> day of last outlier injection
        self.base_cache = {}
        self.id_counter = 0
        self.seq = 0
        self.pending_stays = {}  # day -> [Stay]
        self.followups = {}      # day -> [callable(day)]
        self.batch = []
        self.inj_count = {r: 0 for r in ALL_RULES}
        self.nm_count = {}
        self.stats = {"settlements": 0, "lines": 0, "refund_lines": 0,
                      "med_type": {}}
        self.build_codes()
        self.build_world()

    # ---------------------------------------------------------------- setup
    def build_codes(self):
        ref = self.ref
        rng = self.rng
        usable = []
        for code, ci in ref.ci.items():
            if ci.age and "newborn" in ci.age:
                continue
            if not ref.has_catalogue or any(
                    ref.cat_row(code, d) for d in (self.start, self.last_day)):
                usable.append(ci)
        usable.sort(key=lambda c: c.code)
        drugs = [c for c in usable if c.kind == "drug"]
        items = [c for c in usable if c.kind == "item"]
        broad = [c for c in drugs if not (c.gend or c.age or c.fund
                                          or c.care is not None)]
        bset = set(id(c) for c in broad)
        rest = [c for c in drugs if id(c) not in bset]
        rng.shuffle(broad)
        rng.shuffle(rest)
        # staples: broad drugs restricted at most by level 2 or a long course
        staples = [c for c in broad if c.level <= 2 and not c.course]
        staples += [c for c in broad if c.level <= 2 and c.course and
                    all(m >= 14 for _, m, _ in c.course)]
        self.staples = staples[:3]
        for c in self.staples:
            c.staple = True
        sset = set(id(c) for c in self.staples)
        broad = self.staples + [c for c in broad if id(c) not in sset]
        # course-limited drugs (short-course injections) are used less
        head = [c for c in broad if not c.course][:40]
        hset = set(id(c) for c in head)
        tail = sorted([c for c in broad + rest if id(c) not in hset],
                      key=lambda c: h32(self.seed, "dr", c.code))
        tail = [c for c in tail if not c.course] + \
            [c for c in tail if c.course]
        self.drug_rank = head + tail
        self.item_rank = sorted(items, key=lambda c: h32(self.seed, "it",
                                                         c.code))
        self.rank_w = {}
        for i, c in enumerate(self.drug_rank):
            self.rank_w[c.code] = 1.0 / (i + 4)
        for i, c in enumerate(self.item_rank):
            self.rank_w[c.code] = 1.0 / (i + 4) ** 0.7
        by_role = {}
        for c in items:
            by_role.setdefault(c.role, []).append(c)
        self.by_role = by_role
        # inpatient daily items: a bed, a nursing grade and 住院诊查费 that
        # form no dup pair with each other
        beds = [c for c in by_role.get("bed", []) if c.caps and
                (c.age is None) and not c.gend]
        nurses = by_role.get("nurse", [])
        diag = by_role.get("ipdiag", [])
        combos = []
        for b in beds:
            for n in nurses or [None]:
                for dg in diag or [None]:
                    codes = [x for x in (b, n, dg) if x is not None]
                    if not self.conflict_free(codes):
                        continue
                    combos.append(tuple(codes))
        self.ip_daily = combos or [()]
        # near-miss and injection candidate pools
        self.unlisted_extra = []
        for code, lt in UNLISTED_EXTRA:
            if not ref.listed(code, self.start) and code not in ref.ci:
                ci = CodeInfo(code)
                ci.list_type = lt
                ci.role = item_role(code)
                ref.ci[code] = ci
                self.unlisted_extra.append(ci)
        self.expiring = []
        for code, rows in ref.cat_exact.items():
            ends = [r[1] for r in rows]
            me = max(ends)
            if me < HUGE_DAY and self.start - 1 <= me <= self.last_day:
                self.expiring.append(ref.ci[code])
        self.expiring.sort(key=lambda c: c.code)
        self.selfpay_codes = sorted(
            [c for c in usable if any(r[4] == "03" for r in
                                      ref.cat_exact.get(c.code, ()))],
            key=lambda c: c.code)
        self.gender_codes = sorted([c for c in drugs if c.gend and
                                    len(c.gend) == 1 and not c.age and
                                    not c.fund and c.care is None and
                                    not c.level and not c.course],
                                   key=lambda c: c.code)
        self.child_codes = sorted([c for c in drugs if c.age == {"child"} and
                                   not c.gend and not c.fund and
                                   c.care is None and not c.level and
                                   not c.course], key=lambda c: c.code)
        self.owa_codes = [c for c in usable if c.age and
                          "over_working_age" in c.age]
        self.fund_codes = sorted([c for c in drugs if c.fund and not c.gend
                                  and not c.age and c.care is None and
                                  not c.course], key=lambda c: c.code)
        self.care_codes = sorted([c for c in drugs if c.care is not None and
                                  not c.gend and not c.age and not c.fund and
                                  not c.course], key=lambda c: c.code)
        self.level_codes = sorted([c for c in drugs if c.level and not c.gend
                                   and not c.age and not c.fund and
                                   c.care is None and not c.course],
                                  key=lambda c: c.code)
        self.course_inj = sorted(
            [c for c in drugs if c.course and len(c.course) == 1 and
             not c.gend and not c.age and not c.fund],
            key=lambda c: (c.course[0][1], c.code))
        self.cap_codes = sorted([c for c in items if c.caps],
                                key=lambda c: c.code)
        self.period_codes = sorted([c for c in items if c.periods and
                                    not c.age and not c.gend],
                                   key=lambda c: c.code)
        self.pair_rows = [pr for pr in ref.pair_rows
                          if pr[1] != pr[2] and pr[1] in ref.ci and
                          pr[2] in ref.ci]
        self.price_items = sorted([c for c in items if c.code in ref.price
                                   and not c.gend and not c.age],
                                  key=lambda c: c.code)

    def conflict_free(self, cis):
        codes = set(c.code for c in cis)
        for c in cis:
            for _, partner, _, _ in c.pairs:
                if partner in codes:
                    return False
        return True

    def new_id(self):
        self.id_counter += 1
        n = (self.id_counter * 918273645091827364519 +
             h32(self.seed, "id") * 1000003) % 10 ** 24
        return "330000%024d" % n

    def build_world(self):
        a = self.a
        rng = self.rng
        regs = a.region_list
        self.regions = regs
        dist = dict(REGIONS)
        # institutions
        n = a.institutions
        kinds = []
        pattern = ["3", "2", "1", "P", "2", "1", "3", "1", "P", "2", "1",
                   "P", "1", "2", "3", "P", "1", "2", "1", "P"]
        for i in range(n):
            kinds.append(pattern[i % len(pattern)])
        insts = []
        used = set()
        for i, k in enumerate(kinds):
            I = Inst()
            I.idx = i
            I.region = regs[i % len(regs)]
            divs = dist.get(I.region) or [I.region[:4] + "02"]
            div = divs[rng.randrange(len(divs))]
            while True:
                ser = rng.randrange(1, 3000)
                code = ("P" if k == "P" else "H") + div + "%05d" % ser
                if code not in used:
                    used.add(code)
                    break
            I.code = code
            I.pharmacy = k == "P"
            if k == "3":
                I.hosp_lv = rng.choice(["01", "02", "02", "02", "03", "03",
                                        "04"])
            elif k == "2":
                I.hosp_lv = rng.choice(["05", "05", "06", "06", "07"])
            elif k == "1":
                I.hosp_lv = rng.choice(["08", "09", "09", "10"])
            else:
                I.hosp_lv = "11"
            I.level = LEVEL_OF[I.hosp_lv]
            I.lg = LG_OF[I.level]
            I.weight = {"3": 10.0, "2": 6.0, "1": 2.0, "P": 3.0}[k] * (
                0.6 + 0.8 * rng.random())
            I.drugs = I.items = None
            I.cands = {}
            I.prices = {}
            I.doctors = ["D%06d" % rng.randrange(100000, 999999)
                         for _ in range(6)]
            I.fraud = False
            insts.append(I)
        self.insts = insts
        # fraud concentrates in a few institutions, one of each kind
        fraud = []
        for k in ("3", "2", "1", "P"):
            for I, kk in zip(insts, kinds):
                if kk == k and not I.fraud:
                    I.fraud = True
                    fraud.append(I)
                    break
        extra = max(0, n // 10 - len(fraud))
        for I in insts:
            if extra <= 0:
                break
            if not I.fraud and I.idx % 7 == 3:
                I.fraud = True
                fraud.append(I)
                extra -= 1
        self.fraud = fraud
        self.inst_by_region = {r: [I for I in insts if I.region == r]
                               for r in regs}
        self.inst_cum = {}
        for r, lst in self.inst_by_region.items():
            cum, s = [], 0.0
            for I in lst:
                s += I.weight
                cum.append(s)
            self.inst_cum[r] = cum
        # persons
        persons = []
        by_region = {r: [] for r in regs}
        for i in range(a.persons):
            P = Person()
            P.idx = i
            P.region = regs[i % len(regs)] if rng.random() < 0.9 else \
                regs[rng.randrange(len(regs))]
            P.psn_no = "%s99%018d" % (P.region,
                                      (i * 982451653 + 1000003) % 10 ** 18)
            P.gend = "1" if rng.random() < 0.49 else "2"
            u = rng.random()
            if u < 0.15:
                age = rng.randrange(0, 15)
            elif u < 0.74:
                age = rng.randrange(15, 60)
            else:
                age = rng.randrange(60, 92)
            y0, m0, d0 = ymd(self.start)
            by = y0 - age - (1 if rng.random() < 0.5 else 0)
            bm = rng.randrange(1, 13)
            bd = rng.randrange(1, 29)
            b = datetime.date(by, bm, bd)
            if b.toordinal() - EPOCH_ORD > self.start - 30:
                b = datetime.date(by - 1, bm, bd)
            P.by, P.bm, P.bd = b.year, b.month, b.day
            P.brdy = b.isoformat()
            P.bday = b.toordinal() - EPOCH_ORD
            age = age_years(P, self.start)
            if age < 15 or age >= 60:
                P.insutype = "390" if (age < 15 or rng.random() < 0.5) \
                    else "310"
            else:
                P.insutype = "310" if rng.random() < 0.62 else "390"
                r2 = rng.random()
                if r2 < 0.03:
                    P.insutype = "410"
                elif r2 < 0.08 and P.gend == "2" and 20 <= age <= 40:
                    P.insutype = "510"
            P.chronic = age >= 45 and rng.random() < 0.45
            P.busy = 0
            P.ex = P.bycode = P.course = None
            P.ex_t = 0
            persons.append(P)
            by_region[P.region].append(P)
        self.persons = persons
        self.persons_by_region = by_region

    # -------------------------------------------------------------- prices
    def base_price(self, code, lg):
        key = (code, lg)
        b = self.base_cache.get(key)
        if b is None:
            cap = self.ref.list_min_range(code, LG_LVS[lg], self.start - 1,
                                          self.last_day + 400)
            if cap is not None:
                b = cap * 10 // 11 // 10000 * 10000
                if b < 10000:
                    b = max(cap * 10 // 11, 1)
            else:
                h = h32(self.seed, "price", code) / 4294967296.0
                ci = self.ref.ci.get(code)
                if ci is not None and ci.kind == "drug":
                    lo, hi = 3.0, 180.0
                else:
                    lo, hi = 2.0, 120.0
                y = lo * (hi / lo) ** h
                b = int(y * 100) * 10000
                if lg == "3":
                    b = b * 11 // 10 // 10000 * 10000
            self.base_cache[key] = b
        return b

    def inst_price(self, I, ci):
        p = I.prices.get(ci.code)
        if p is None:
            base = self.base_price(ci.code, I.lg)
            f = 0.90 + 0.20 * (h32(self.seed, "f", I.code, ci.code)
                               / 4294967296.0)
            p = int(base * f) // 10000 * 10000
            lo = base * 9 // 10
            if p < lo:
                p = (lo + 9999) // 10000 * 10000
            cap = self.ref.list_min_range(ci.code, (I.hosp_lv,),
                                          self.start - 1, self.last_day + 400)
            if cap is not None and p > cap:
                p = cap
            if p <= 0:
                p = 10000
            I.prices[ci.code] = p
        return p

    def uplmt_for(self, I, ci, day, pric):
        m = self.ref.list_max(ci.code, I.hosp_lv, day)
        if m is None or m < pric:
            m = max(pric, self.base_price(ci.code, I.lg) * 13 // 10
                    // 10000 * 10000)
        return m

    # --------------------------------------------------------- outlier obs
    def outlier_count(self, code, I, day):
        d = self.obs.get((code, I.region, I.lg))
        if not d:
            return 0
        hi = day - self.settle   # the baseline: complete event days only
        return sum(n for dd, n in d.items() if hi - self.lookback <= dd < hi)

    # ----------------------------------------------------------- formulary
    def formulary(self, I):
        if I.drugs is not None:
            return
        rng = random.Random(h32(self.seed, "form", I.code))
        ranks = self.drug_rank
        drugs = list(ranks[:60])
        pool = ranks[60:]
        if pool:
            for _ in range(260):
                i = int(len(pool) * rng.random() ** 3)
                drugs.append(pool[i])
        items = list(self.item_rank[:40])
        pool = self.item_rank[40:]
        if pool:
            for _ in range(160):
                i = int(len(pool) * rng.random() ** 2)
                items.append(pool[i])
        I.drugs = list({c.code: c for c in drugs}.values())
        I.items = list({c.code: c for c in items}.values())

    def pclass(self, P, day):
        a = age_years(P, day)
        if a <= 2:
            ac = "inf"
        elif a <= 13:
            ac = "child"
        elif a <= 14:
            ac = "teen"
        elif a < self.p["retirement_age"] - 1:
            ac = "adult"
        else:
            ac = "senior"
        return (P.gend, ac, P.insutype)

    def static_ok(self, ci, pc, I, setting):
        g, ac, ins = pc
        if ci.gend and (len(ci.gend) > 1 or g not in ci.gend):
            return False
        if ci.age:
            for grp in ci.age:
                if grp == "child" and ac not in ("inf", "child"):
                    return False
                if grp == "infant" and ac != "inf":
                    return False
                if grp == "newborn":
                    return False
                if grp == "over_working_age" and ac == "senior":
                    return False
        if ci.fund:
            for f in ci.fund:
                allowed = self.oracle.wi if f == "work_injury" else \
                    self.oracle.mat
                if ins not in allowed:
                    return False
        if ci.care is not None and setting != "ip":
            return False
        if ci.level and I.level < ci.level:
            return False
        return True

    def candidates(self, I, kind, pc, setting):
        key = (kind, pc, setting)
        c = I.cands.get(key)
        if c is None:
            self.formulary(I)
            src = I.drugs if kind == "drug" else I.items
            lst = [ci for ci in src if self.static_ok(ci, pc, I, setting)]
            if kind == "item" and setting != "ip":
                lst = [ci for ci in lst if ci.role in ("lab", "exam", "treat",
                                                       "other")]
            if kind == "item" and setting == "ip":
                lst = [ci for ci in lst if ci.role in ("lab", "exam", "treat",
                                                       "surg", "ipcare",
                                                       "other")]
            cum, s = [], 0.0
            for ci in lst:
                s += self.rank_w.get(ci.code, 0.001)
                cum.append(s)
            c = I.cands[key] = (lst, cum)
        return c

    def pick(self, cands):
        lst, cum = cands
        if not lst:
            return None
        i = bisect.bisect_right(cum, self.rng.random() * cum[-1])
        return lst[min(i, len(lst) - 1)]

    # -------------------------------------------------------------- visits
    def open_visit(self, I, P, med_type, t0, setting):
        v = Visit()
        v.inst = I
        v.P = P
        v.med_type = med_type
        v.mdtrt = self.new_id()
        v.setl = self.new_id()
        v.event_id = "%s:%s:SETTLEMENT" % (I.code, v.setl)
        v.begn = t0
        v.end = None
        v.lines = []
        v.sn = 0
        v.t = t0 + self.rng.randrange(180, 900)
        grp = {"op": "op", "er": "er", "chronic": "chronic", "ip": "ip",
               "ph": "op", "mat_op": "mat_op", "mat_ip": "mat_ip"}[setting]
        v.diag = DIAG[grp][self.rng.randrange(len(DIAG[grp]))]
        if I.pharmacy:
            v.dept = None
        else:
            dl = DEPTS["er" if setting == "er" else (
                "mat" if setting.startswith("mat") else
                ("ip" if setting == "ip" else "op"))]
            v.dept = dl[self.rng.randrange(len(dl))]
        v.dr = None if I.pharmacy else I.doctors[self.rng.randrange(
            len(I.doctors))]
        v.truth = []
        v.injected = False
        v.noref = False
        v.refund_of = None
        return v

    def make_line(self, v, ci, t, cnt, pric=None, paid=None):
        I = v.inst
        L = Line()
        L.t = t
        L.day = t // 86400
        L.minute = t // 60
        L.code = ci.code
        L.ci = ci
        row = self.ref.cat_row(ci.code, L.day) or self.ref.any_row(ci.code)
        if row:
            L.name = row[2] or ci.name
            L.list_type = row[3] or ci.list_type
            L.lv = row[4] or "02"
        else:
            L.name = ci.name
            L.list_type = ci.list_type
            L.lv = "02"
        L.mct = ci.mct
        L.pric = self.inst_price(I, ci) if pric is None else pric
        L.cnt = cnt
        L.net = cnt
        L.fee = fee_of(L.pric, cnt)
        if paid is None:
            paid = L.lv != "03"
        L.paid = paid
        L.inscp = L.fee if paid else 0
        L.uplmt = self.uplmt_for(I, ci, L.day, L.pric)
        L.overlmt = 0
        L.touched = False
        L.cancelled = False
        L.inst = I.code
        L.mdtrt = v.mdtrt
        L.refund = False
        L.init_sn = None
        L.dept = v.dept
        L.dr = v.dr
        L.prd = None
        if ci.kind == "drug":
            L.prd = str(self.rng.choice((3, 5, 7, 7, 14)))
        L.count_obs = True
        L.cell = None
        return L

    def accept(self, v, L):
        L.sn = None
        v.sn += 1
        L.sn = str(v.sn)
        v.lines.append(L)
        self.oracle.commit(v.P, L)
        return L

    def add_clean(self, v, ci, t, cnt, pric=None):
        L = self.make_line(v, ci, t, cnt, pric)
        if self.oracle.check(v.P, L, v):
            return None
        return self.accept(v, L)

    def add_probe(self, v, L, probe):
        """A near miss: exact semantics of `probe` must not fire."""
        if self.oracle.check(v.P, L, v, exact=(probe,)):
            return None
        return self.accept(v, L)

    def add_inject(self, v, L, rule):
        o = self.oracle
        fired = o.check(v.P, L, v, exact=(rule,))
        if len(fired) != 1 or fired[0][0] != rule or fired[0][1] is not L:
            return None
        # every other rule must stay silent even when judged conservatively
        cons = [f for f in o.check(v.P, L, v, exact=()) if f[0] != rule]
        if cons:
            return None
        self.accept(v, L)
        L.count_obs = rule != "PRICE-OUTLIER"
        v.truth.append((v.setl, L.sn, rule))
        v.injected = True
        v.noref = True
        return L

    def drug_cnt(self):
        r = self.rng.random()
        if r < 0.55:
            return CNT1
        if r < 0.80:
            return 2 * CNT1
        if r < 0.92:
            return 3 * CNT1
        return CNT1 // 2

    def fill_outpatient(self, v, nlines, setting):
        rng = self.rng
        I, P = v.inst, v.P
        pc = self.pclass(P, v.t // 86400)
        dset = "op"
        if setting == "er":
            er = self.by_role.get("erdiag")
            if er:
                self.add_clean(v, er[0], v.t, CNT1)
                v.t += rng.randrange(60, 300)
        if I.pharmacy:
            nd, ni = nlines, 0
        else:
            ni = max(0, int(round(nlines * (0.25 + 0.2 * rng.random()))))
            nd = max(1, nlines - ni)
            if not I.pharmacy and I.level >= 2 and self.staples and \
                    rng.random() < 0.45:
                st = self.staples[0] if rng.random() < 0.7 else \
                    self.staples[min(1, len(self.staples) - 1)]
                if self.static_ok(st, pc, I, dset):
                    if self.add_clean(v, st, v.t, self.drug_cnt()):
                        nd -= 1
        icands = self.candidates(I, "item", pc, dset) if ni else None
        for _ in range(ni):
            for _try in range(6):
                ci = self.pick(icands)
                if ci is None:
                    break
                cnt = CNT1
                if ci.cap_hour:
                    cnt = rng.randrange(1, 5) * CNT1
                if self.add_clean(v, ci, v.t, cnt):
                    break
            v.t += rng.randrange(30, 400)
        dcands = self.candidates(I, "drug", pc, dset)
        for _ in range(nd):
            for _try in range(6):
                ci = self.pick(dcands)
                if ci is None:
                    break
                if self.add_clean(v, ci, v.t, self.drug_cnt()):
                    break
            if rng.random() < 0.3:
                v.t += rng.randrange(20, 200)

    def fill_inpatient(self, v, stay):
        """An inpatient stay: daily bed/nursing/诊查, a drug regimen, daily
        procedures, labs and imaging early and every other day, sometimes
        a surgery.  Lines are generated day by day in time order."""
        rng = self.rng
        I, P = v.inst, v.P
        adm_day = stay.adm_t // 86400
        dis_day = stay.dis_day
        pc = self.pclass(P, adm_day)
        daily = self.ip_daily[rng.randrange(len(self.ip_daily))]
        dc = self.candidates(I, "drug", pc, "ip")
        ic = self.candidates(I, "item", pc, "ip")
        los = dis_day - adm_day
        regimen = []
        if self.staples and I.level >= 2 and rng.random() < 0.75 and \
                self.static_ok(self.staples[0], pc, I, "ip"):
            regimen.append([self.staples[0], adm_day, dis_day - 1])
        for _ in range(rng.randrange(4, 10)):
            ci = self.pick(dc)
            if ci is None:
                break
            s = adm_day + rng.randrange(0, max(1, los // 3 + 1))
            e = min(dis_day, s + rng.randrange(3, los + 3))
            regimen.append([ci, s, e])
        procs = []
        for _ in range(rng.randrange(1, 4)):
            for _try in range(4):
                ci = self.pick(ic)
                if ci is not None and ci.role in ("treat", "ipcare") and \
                        not ci.periods:
                    procs.append([ci, True])
                    break
        dis_t = dis_day * 86400 + rng.randrange(9 * 3600 + 1800, 15 * 3600)
        surg_day = adm_day + 1 if los >= 2 and rng.random() < 0.25 else None
        budget = 128
        for day in range(adm_day, dis_day + 1):
            if day == adm_day:
                t = stay.adm_t + rng.randrange(900, 3600)
            else:
                t = day * 86400 + 7 * 3600 + rng.randrange(0, 1800)
            last = day == dis_day
            if not last and len(v.lines) < budget + 8:
                for ci in daily:
                    self.add_clean(v, ci, t, CNT1)
                    t += rng.randrange(5, 90)
            t += rng.randrange(600, 2400)
            for r in regimen:
                if r[1] <= day <= r[2] and len(v.lines) < budget:
                    if not self.add_clean(v, r[0], t, CNT1 if rng.random()
                                          < 0.8 else 2 * CNT1):
                        r[2] = -1
                    t += rng.randrange(5, 120)
            if stay.course_code is not None and not last:
                if not self.add_clean(v, stay.course_code, t, CNT1):
                    stay.course_code = None
                    stay.inject = None
                t += rng.randrange(5, 120)
            elif stay.course_code is not None and last:
                ci = stay.course_code
                if stay.nm_course:
                    L = self.make_line(v, ci, t, CNT1)
                    if self.add_probe(v, L, "CAT-COURSE"):
                        self.nm("course_at_limit")
                elif stay.inject == "CAT-COURSE":
                    L = self.make_line(v, ci, t, CNT1)
                    if self.add_inject(v, L, "CAT-COURSE"):
                        self.inj_count["CAT-COURSE"] += 1
                t += rng.randrange(5, 120)
            if not last:
                for pr in procs:
                    if pr[1] and len(v.lines) < budget:
                        cnt = CNT1
                        if pr[0].cap_hour:
                            cnt = rng.randrange(2, 12) * CNT1
                        if not self.add_clean(v, pr[0], t, cnt):
                            pr[1] = False
                        t += rng.randrange(60, 600)
            if day == adm_day or (day - adm_day) % 2 == 1:
                n = rng.randrange(5, 11) if day == adm_day else \
                    rng.randrange(2, 6)
                for _ in range(n):
                    if len(v.lines) >= budget:
                        break
                    for _try in range(4):
                        ci = self.pick(ic)
                        if ci is None or ci.role not in ("lab", "exam"):
                            continue
                        if self.add_clean(v, ci, t, CNT1):
                            break
                    t += rng.randrange(60, 900)
            if surg_day == day:
                surg = [c for c in self.by_role.get("surg", [])
                        if self.static_ok(c, pc, I, "ip")]
                if surg:
                    ci = surg[h32(self.seed, v.mdtrt) % len(surg)]
                    self.add_clean(v, ci, t + 3600, CNT1)
                    t += 3 * 3600
            if last and t >= dis_t:
                dis_t = t + rng.randrange(600, 3600)
        v.end = dis_t
        v.t = dis_t

    # -------------------------------------------------------- close/emit
    def close_visit(self, v, refund_ok=True):
        rng = self.rng
        last_t = max([L.t for L in v.lines] + [v.t])
        # (a) a refund line inside the settlement
        if refund_ok and not v.noref and len(v.lines) >= 3 and \
                rng.random() < 0.04:
            X = v.lines[rng.randrange(len(v.lines))]
            full = X.cnt < 2 * CNT1 or X.cnt % CNT1 or rng.random() < 0.7
            rc = -X.cnt if full else -CNT1
            last_t += rng.randrange(30, 300)
            self.add_refund(v, X, rc, last_t)
        v.setl_time = last_t + rng.randrange(120, 900)
        if v.end is None and v.med_type[:1] == "2":
            v.end = v.setl_time
        self.emit(v)
        v.P.busy = v.setl_time
        # a person's next visit starts >= 10 min after this settlement, far
        # outside the (conservative, 3 min) DUP-EXACT window
        v.P.ex = None
        # (b) a later settlement of the same visit refunding a line
        if refund_ok and not v.noref and v.lines and rng.random() < 0.015:
            cand = [L for L in v.lines if not L.refund and not L.cancelled
                    and not L.touched]
            t = v.setl_time + rng.randrange(600, 7200)
            if cand and t // 86400 == v.setl_time // 86400 and \
                    t % 86400 < 86000:
                X = cand[rng.randrange(len(cand))]
                r = Visit()
                r.inst, r.P, r.med_type, r.mdtrt = v.inst, v.P, v.med_type, \
                    v.mdtrt
                r.setl = self.new_id()
                r.event_id = "%s:%s:SETTLEMENT" % (v.inst.code, r.setl)
                r.begn, r.end, r.diag = v.begn, v.end, v.diag
                r.dept, r.dr = v.dept, v.dr
                r.lines = []
                r.sn = 0
                r.truth = []
                r.injected = False
                r.refund_of = v
                self.add_refund(r, X, -X.net, t, sn_from=v)
                r.setl_time = t + rng.randrange(60, 600)
                self.emit(r)
                v.P.busy = r.setl_time

    def add_refund(self, v, X, rc, t, sn_from=None):
        R = Line()
        src = sn_from or v
        src.sn += 1
        R.sn = str(src.sn)
        R.init_sn = X.sn
        R.t = t
        R.day = t // 86400
        R.minute = t // 60
        for f in ("code", "ci", "name", "list_type", "lv", "mct", "pric",
                  "inst", "mdtrt", "dept", "dr", "prd", "uplmt"):
            setattr(R, f, getattr(X, f))
        R.cnt = rc
        R.net = rc
        R.fee = fee_of(X.pric, rc)
        R.inscp = R.fee if X.inscp else 0
        R.overlmt = 0
        R.paid = X.paid
        R.touched = False
        R.cancelled = False
        R.refund = True
        R.count_obs = False
        R.cell = None
        v.lines.append(R)
        X.net += rc
        X.touched = True
        X.count_obs = False
        if X.net <= 0:
            X.cancelled = True
            if X.cell is not None:
                X.cell[0] = True
        self.stats["refund_lines"] += 1
        return R

    def emit(self, v):
        self.seq += 1
        self.batch.append((v.setl_time, self.seq, v))

    def event_json(self, v):
        I, P = v.inst, v.P
        fl = []
        med = fulamt = inscp = over = 0
        for L in v.lines:
            med += L.fee
            inscp += L.inscp
            over += L.overlmt
            if not L.paid:
                fulamt += L.fee
            d = {"feedetl_sn": L.sn, "init_feedetl_sn": L.init_sn,
                 "fee_ocur_time": fmt_time(L.t), "hilist_code": L.code}
            if L.name:
                d["hilist_name"] = L.name
            d["list_type"] = L.list_type
            d["med_chrgitm_type"] = L.mct
            d["chrgitm_lv"] = L.lv
            d["lmt_used_flag"] = "1" if L.ci.lmt else "0"
            d["hosp_appr_flag"] = "1" if L.paid else "0"
            d["pric"] = fmt_fixed(L.pric, 6)
            d["cnt"] = fmt_fixed(L.cnt, 4)
            d["det_item_fee_sumamt"] = fmt_fixed(L.fee, 2)
            d["pric_uplmt_amt"] = fmt_fixed(L.uplmt, 6)
            d["inscp_amt"] = fmt_fixed(L.inscp, 2)
            d["overlmt_amt"] = fmt_fixed(L.overlmt, 2)
            if L.prd:
                d["prd_days"] = L.prd
            if L.dept:
                d["bilg_dept_codg"] = L.dept
            if L.dr:
                d["bilg_dr_codg"] = L.dr
            fl.append(d)
        mt = v.med_type
        if P.insutype in ("410", "510"):
            ratio = 100
        elif mt[:1] == "2" or mt == "52":
            ratio = 85 if P.insutype == "310" else 65
        elif mt == "41":
            ratio = 60 if P.insutype == "310" else 0
        else:
            ratio = 70 if P.insutype == "310" else 50
        fund = inscp * ratio // 100
        ev = {
            "schema": "nhsa.claim.v1",
            "event_id": v.event_id,
            "event_type": "SETTLEMENT",
            "event_time": fmt_iso(v.setl_time),
            "fixmedins_code": I.code,
            "hosp_lv": I.hosp_lv,
            "mdtrtarea_admvs": I.region,
            "setl_id": v.setl,
            "init_setl_id": None,
            "mdtrt_id": v.mdtrt,
            "psn_no": P.psn_no,
            "gend": P.gend,
            "brdy": P.brdy,
            "insutype": P.insutype,
            "med_type": mt,
            "begntime": fmt_time(v.begn),
            "endtime": fmt_time(v.end) if v.end is not None else None,
            "setl_time": fmt_time(v.setl_time),
            "diseinfo": [{"diag_type": "1", "maindiag_flag": "1",
                          "diag_code": v.diag}],
            "medfee_sumamt": fmt_fixed(med, 2),
            "fulamt_ownpay_amt": fmt_fixed(fulamt, 2),
            "overlmt_selfpay": fmt_fixed(over, 2),
            "inscp_scp_amt": fmt_fixed(inscp, 2),
            "fund_pay_sumamt": fmt_fixed(fund, 2),
            "psn_part_amt": fmt_fixed(med - fund, 2),
            "feedetail": fl,
        }
        return json.dumps(ev, ensure_ascii=False, separators=(",", ":"))

    # ------------------------------------------------------------ choosing
    def pick_inst(self, region, pred=None, fraud=False):
        rng = self.rng
        if fraud:
            lst = [I for I in self.fraud if pred is None or pred(I)]
            if lst and rng.random() < 0.85:
                return lst[rng.randrange(len(lst))]
            lst = [I for I in self.insts if pred is None or pred(I)]
            return lst[rng.randrange(len(lst))] if lst else None
        if region is None:
            region = self.regions[rng.randrange(len(self.regions))]
        lst, cum = self.inst_by_region[region], self.inst_cum[region]
        if not lst:
            return None
        for _ in range(4):
            I = lst[min(bisect.bisect_right(cum, rng.random() * cum[-1]),
                        len(lst) - 1)]
            if pred is None or pred(I):
                return I
        return None

    def pick_person(self, region, t0, pred=None, tries=12):
        rng = self.rng
        lst = self.persons_by_region.get(region) or self.persons
        if rng.random() < 0.05:
            lst = self.persons
        for _ in range(tries):
            P = lst[rng.randrange(len(lst))]
            if P.busy + 600 <= t0 and (pred is None or pred(P)):
                return P
        if pred is None:
            return None
        # a rare kind of person: scan from a random offset
        n = len(lst)
        off = rng.randrange(n)
        for i in range(min(n, 20000)):
            P = lst[(off + i) % n]
            if P.busy + 600 <= t0 and pred(P):
                return P
        return None

    def visit_time(self, day, setting):
        rng = self.rng
        if setting == "er":
            s = rng.randrange(0, 22 * 3600)
        elif setting == "ph":
            s = rng.randrange(8 * 3600, 21 * 3600)
        else:
            s = rng.randrange(7 * 3600 + 1800, 17 * 3600)
        return day * 86400 + s

    def choose_med_type(self, I, P, day):
        rng = self.rng
        if I.pharmacy:
            return "41", "ph"
        a = age_years(P, day)
        u = rng.random()
        ip_share = {3: 0.12, 2: 0.10, 1: 0.04}.get(I.level, 0.0)
        if u < ip_share:
            if P.gend == "2" and 20 <= a <= 42 and rng.random() < 0.12:
                return "52", "mat_ip"
            return "21", "ip"
        u = rng.random()
        if u < 0.10:
            return "13", "er"
        if u < 0.22 and P.chronic:
            return "14", "chronic"
        if u < 0.25 and P.gend == "2" and 20 <= a <= 42:
            return "51", "mat_op"
        if u < 0.27:
            return "16", "op"
        return "11", "op"

    # ------------------------------------------------------------- a visit
    def normal_visit(self, day, I=None, P=None, med=None, t0=None):
        rng = self.rng
        if I is None:
            region = self.regions[rng.randrange(len(self.regions))]
            I = self.pick_inst(region)
            if I is None:
                return None
        if P is None:
            tt = self.visit_time(day, "op")
            P = self.pick_person(I.region, tt)
            if P is None:
                return None
        if med is None:
            med = self.choose_med_type(I, P, day)
        mt, setting = med
        if setting in ("ip", "mat_ip"):
            self.plan_stay(day, I, P, mt, t0)
            return None
        if t0 is None:
            t0 = self.visit_time(day, setting)
        if t0 < P.busy + 600:
            t0 = P.busy + 600 + rng.randrange(0, 3600)
        if t0 // 86400 != day or t0 % 86400 > 21 * 3600:
            return None
        v = self.open_visit(I, P, mt, t0, setting)
        if setting == "ph":
            n = rng.randrange(1, 6)
        elif setting == "er":
            n = rng.randrange(3, 11)
        else:
            n = rng.randrange(3, 14)
        self.fill_outpatient(v, n, setting)
        return v

    def plan_stay(self, day, I, P, mt, t0=None, inject=None, los=None,
                  course_code=None, nm_course=False):
        rng = self.rng
        if los is None:
            los = int(rng.triangular(2, 18, 6)) if mt == "21" else \
                rng.randrange(2, 5)
        if day + los > self.horizon_end():
            los = self.horizon_end() - day
        if los < 1:
            return None
        if t0 is None:
            t0 = day * 86400 + rng.randrange(8 * 3600, 18 * 3600)
        if t0 < P.busy + 600:
            t0 = P.busy + 600 + rng.randrange(0, 3600)
        if t0 // 86400 != day or t0 % 86400 > 20 * 3600:
            return None
        S = Stay()
        S.inst, S.P, S.med_type, S.adm_t = I, P, mt, t0
        S.dis_day = day + los
        S.inject = inject
        S.course_code = course_code
        S.nm_course = nm_course
        P.busy = S.dis_day * 86400 + 86399
        self.pending_stays.setdefault(S.dis_day, []).append(S)
        return S

    def run_stay(self, S):
        setting = "ip" if S.med_type == "21" else "mat_ip"
        v = self.open_visit(S.inst, S.P, S.med_type, S.adm_t, setting)
        if S.inject or S.nm_course:
            v.noref = True
        self.fill_inpatient(v, S)
        S.P.busy = 0
        self.close_visit(v)

    def horizon_end(self):
        return self.horizon

    # ----------------------------------------------------------- injections
    def inject(self, rule, day):
        fn = getattr(self, "inj_" + rule.replace("-", "_").lower())
        return fn(day)

    def inj_visit(self, day, ipred=None, ppred=None, med=None, fraud=True):
        """Open an outpatient-like visit at a (fraud) institution."""
        I = self.pick_inst(None, ipred, fraud=fraud)
        if I is None:
            return None
        if med is None:
            med = ("41", "ph") if I.pharmacy else ("11", "op")
        t0 = self.visit_time(day, med[1])
        P = self.pick_person(I.region, t0, ppred, tries=40)
        if P is None:
            return None
        if t0 < P.busy + 600:
            return None
        v = self.open_visit(I, P, med[0], t0, med[1])
        n = self.rng.randrange(1, 5) if I.pharmacy else \
            self.rng.randrange(2, 8)
        self.fill_outpatient(v, n, med[1])
        v.noref = True
        return v

    def finish(self, v, ok, rule):
        v.t = max([L.t for L in v.lines] + [v.t])
        self.close_visit(v)
        if ok:
            self.inj_count[rule] += 1
        return ok

    def inj_dup_exact(self, day):
        v = self.inj_visit(day)
        if v is None:
            return False
        for X in reversed(list(v.lines)):
            if X.refund:
                continue
            L = self.make_line(v, X.ci, X.t, X.cnt, X.pric)
            if self.add_inject(v, L, "DUP-EXACT"):
                return self.finish(v, True, "DUP-EXACT")
        return self.finish(v, False, "DUP-EXACT")

    def inj_dup_pair(self, day):
        v = self.inj_visit(day, lambda I: not I.pharmacy)
        if v is None:
            return False
        rng = self.rng
        pc = self.pclass(v.P, day)
        rows = self.pair_rows
        for _ in range(40):
            row, m, s, w = rows[rng.randrange(len(rows))]
            cm, cs = self.ref.ci[m], self.ref.ci[s]
            if not (self.static_ok(cm, pc, v.inst, "ip") and
                    self.static_ok(cs, pc, v.inst, "ip")):
                continue
            if cm.care is not None or cs.care is not None:
                continue
            t = v.t // 3600 * 3600 + 60 * rng.randrange(0, 20)
            if t < v.t:
                t = v.t
            if t // 3600 != v.t // 3600 or (t + 600) // 3600 != t // 3600:
                t = v.t // 3600 * 3600 + 3600 + 60
            M = self.make_line(v, cm, t, CNT1)
            if self.oracle.check(v.P, M, v):
                continue
            S = self.make_line(v, cs, t + 120, CNT1)
            self.accept(v, M)
            if self.add_inject(v, S, "DUP-PAIR"):
                return self.finish(v, True, "DUP-PAIR")
            # keep M (clean) and stop
            break
        return self.finish(v, False, "DUP-PAIR")

    def inj_dup_daily_cap(self, day):
        v = self.inj_visit(day, lambda I: not I.pharmacy, med=("13", "er"))
        if v is None:
            return False
        rng = self.rng
        pc = self.pclass(v.P, day)
        codes = self.cap_codes
        for _ in range(30):
            ci = codes[rng.randrange(len(codes))]
            if not self.static_ok(ci, pc, v.inst, "ip") or ci.care is not None:
                continue
            cap = min(ci.caps)
            first = cap if cap <= 2 * CNT1 else cap // 2 // CNT1 * CNT1
            A = self.make_line(v, ci, v.t, first)
            if self.oracle.check(v.P, A, v):
                continue
            self.accept(v, A)
            rest = cap - first
            if rest > 0:
                B = self.make_line(v, ci, v.t + 600, rest)
                if not self.add_clean_line(v, B):
                    break
            X = self.make_line(v, ci, v.t + 1500, CNT1)
            if self.add_inject(v, X, "DUP-DAILY-CAP"):
                return self.finish(v, True, "DUP-DAILY-CAP")
            break
        return self.finish(v, False, "DUP-DAILY-CAP")

    def add_clean_line(self, v, L):
        if self.oracle.check(v.P, L, v):
            return None
        return self.accept(v, L)

    def inj_dup_period(self, day):
        rng = self.rng
        v = self.inj_visit(day, lambda I: not I.pharmacy)
        if v is None:
            return False
        pc = self.pclass(v.P, day)
        codes = [c for c in self.period_codes
                 if self.static_ok(c, pc, v.inst, "op")]
        ok = False
        for _ in range(10):
            if not codes:
                break
            ci = codes[rng.randrange(len(codes))]
            A = self.make_line(v, ci, v.t, CNT1)
            if self.add_clean_line(v, A):
                ok = True
                break
        self.finish(v, False, "DUP-PERIOD")
        if not ok:
            return False
        maxc, pdays = min(ci.periods)
        if maxc > 1:
            return False
        k = rng.randrange(0, min(pdays - 1, 6) + 1)
        if day + k > self.horizon_end():
            k = 0
        P, I0 = v.P, v.inst

        def follow(d, P=P, ci=ci, I0=I0):
            I = self.pick_inst(P.region, lambda J: (not J.pharmacy and
                                                    J is not I0))
            if I is None:
                I = self.pick_inst(None, lambda J: (not J.pharmacy and
                                                    J is not I0), fraud=True)
            if I is None:
                return False
            t0 = self.visit_time(d, "op")
            if t0 < P.busy + 600:
                t0 = P.busy + 600 + rng.randrange(0, 3600)
            if t0 // 86400 != d or t0 % 86400 > 20 * 3600:
                return False
            w = self.open_visit(I, P, "11", t0, "op")
            self.fill_outpatient(w, rng.randrange(2, 6), "op")
            w.noref = True
            L = self.make_line(w, ci, w.t, CNT1)
            good = self.add_inject(w, L, "DUP-PERIOD") is not None
            w.t = max([x.t for x in w.lines] + [w.t])
            self.close_visit(w)
            if good:
                self.inj_count["DUP-PERIOD"] += 1
            return good
        if k == 0:
            follow(day)
        else:
            self.followups.setdefault(day + k, []).append(follow)
        return True

    def inj_price_over_cap(self, day):
        v = self.inj_visit(day)
        if v is None:
            return False
        pc = self.pclass(v.P, day)
        cands = self.candidates(v.inst, "drug", pc, "op")
        for _ in range(10):
            ci = self.pick(cands)
            if ci is None:
                break
            L = self.make_line(v, ci, v.t, self.drug_cnt() // CNT1 * CNT1
                               or CNT1)
            L.uplmt = L.pric * 8 // 10 // 10000 * 10000
            if self.add_inject(v, L, "PRICE-OVER-CAP"):
                return self.finish(v, True, "PRICE-OVER-CAP")
        return self.finish(v, False, "PRICE-OVER-CAP")

    def inj_price_arith(self, day):
        v = self.inj_visit(day)
        if v is None:
            return False
        pc = self.pclass(v.P, day)
        cands = self.candidates(v.inst, "drug", pc, "op")
        for _ in range(10):
            ci = self.pick(cands)
            if ci is None:
                break
            cnt = CNT1 * self.rng.randrange(1, 4)
            L = self.make_line(v, ci, v.t, cnt)
            L.fee = fee_of(L.pric, cnt + CNT1)      # billed one unit extra
            L.inscp = L.fee
            if self.add_inject(v, L, "PRICE-ARITH"):
                return self.finish(v, True, "PRICE-ARITH")
        return self.finish(v, False, "PRICE-ARITH")

    def inj_price_over_list(self, day):
        v = self.inj_visit(day, lambda I: not I.pharmacy)
        if v is None:
            return False
        rng = self.rng
        pc = self.pclass(v.P, day)
        codes = [c for c in self.price_items
                 if self.static_ok(c, pc, v.inst, "op") and
                 c.role in ("lab", "exam", "treat")]
        for _ in range(15):
            if not codes:
                break
            ci = codes[rng.randrange(len(codes))]
            hi = self.ref.list_max_hi(ci.code, v.inst.hosp_lv, day)
            if hi is None:
                continue
            pric = (hi * 115 // 100 + 9999) // 10000 * 10000
            L = self.make_line(v, ci, v.t, CNT1, pric)
            L.uplmt = pric
            if self.add_inject(v, L, "PRICE-OVER-LIST"):
                return self.finish(v, True, "PRICE-OVER-LIST")
        return self.finish(v, False, "PRICE-OVER-LIST")

    def inj_price_outlier(self, day):
        rng = self.rng
        groups = []
        for I in self.fraud + self.insts:
            if I.pharmacy:
                continue
            for ci in self.staples:
                if self.outlier_count(ci.code, I, day) >= self.outlier_need:
                    g = (ci.code, I.region, I.lg)
                    last = self.outlier_last.get(g)
                    if last is None or day - last > self.lookback:
                        groups.append((I, ci))
            if groups and I.fraud:
                break
        if not groups:
            return False
        I, ci = groups[rng.randrange(len(groups))]
        v = self.inj_visit(day, lambda J: J is I, fraud=True)
        if v is None:
            return False
        base = self.base_price(ci.code, I.lg)
        pric = base * rng.randrange(10, 16) // 10000 * 10000
        L = self.make_line(v, ci, v.t, CNT1, pric)
        L.uplmt = pric
        if self.add_inject(v, L, "PRICE-OUTLIER"):
            self.outlier_last[(ci.code, I.region, I.lg)] = day
            return self.finish(v, True, "PRICE-OUTLIER")
        return self.finish(v, False, "PRICE-OUTLIER")

    def inj_cat_not_listed(self, day):
        v = self.inj_visit(day)
        if v is None:
            return False
        cands = [c for c in self.expiring if not self.ref.listed(c.code, day)
                 and self.ref.listed(c.code, day - 1)]
        cands += [c for c in self.expiring
                  if not self.ref.listed(c.code, day)]
        cands += self.unlisted_extra
        pc = self.pclass(v.P, day)
        for ci in cands:
            if not self.static_ok(ci, pc, v.inst, "op"):
                continue
            L = self.make_line(v, ci, v.t, CNT1)
            if L.lv == "03":
                L.lv = "02"
            L.paid = True
            L.inscp = L.fee
            if self.add_inject(v, L, "CAT-NOT-LISTED"):
                return self.finish(v, True, "CAT-NOT-LISTED")
        return self.finish(v, False, "CAT-NOT-LISTED")

    def inj_cat_self_pay_claimed(self, day):
        rng = self.rng
        v = self.inj_visit(day, lambda I: not I.pharmacy)
        if v is None:
            return False
        pc = self.pclass(v.P, day)
        cands = [c for c in self.selfpay_codes
                 if self.static_ok(c, pc, v.inst, "op")]
        rng.shuffle(cands)
        for ci in cands:
            L = self.make_line(v, ci, v.t, CNT1, paid=True)
            if L.lv != "03":
                continue
            if self.add_inject(v, L, "CAT-SELF-PAY-CLAIMED"):
                return self.finish(v, True, "CAT-SELF-PAY-CLAIMED")
        return self.finish(v, False, "CAT-SELF-PAY-CLAIMED")

    def inj_simple_drug(self, day, rule, codes, ppred, ipred=None, med=None,
                        cpred=None):
        rng = self.rng
        v = self.inj_visit(day, ipred, ppred, med)
        if v is None:
            return False
        for _ in range(25):
            if not codes:
                break
            ci = codes[rng.randrange(len(codes))]
            if cpred is not None and not cpred(ci, v):
                continue
            L = self.make_line(v, ci, v.t, CNT1)
            if L.lv == "03":
                continue
            if self.add_inject(v, L, rule):
                return self.finish(v, True, rule)
        return self.finish(v, False, rule)

    def inj_cat_gender(self, day):
        return self.inj_simple_drug(
            day, "CAT-GENDER", self.gender_codes,
            lambda P: P.gend in ("1", "2"),
            cpred=lambda ci, v: v.P.gend not in ci.gend)

    def inj_cat_age(self, day):
        ra = self.p["retirement_age"]
        if self.rng.random() < 0.25 and self.owa_codes:
            return self.inj_simple_drug(
                day, "CAT-AGE", self.owa_codes,
                lambda P: age_years(P, day) >= ra + 2,
                ipred=lambda I: not I.pharmacy)
        cm = self.p["child_max_age"]
        return self.inj_simple_drug(
            day, "CAT-AGE", self.child_codes,
            lambda P: age_years(P, day) >= cm + 4)

    def inj_cat_insutype(self, day):
        allowed = self.oracle.wi | self.oracle.mat
        return self.inj_simple_drug(
            day, "CAT-INSUTYPE", self.fund_codes,
            lambda P: P.insutype not in allowed)

    def inj_cat_care_setting(self, day):
        return self.inj_simple_drug(
            day, "CAT-CARE-SETTING", self.care_codes, None,
            cpred=lambda ci, v: v.inst.level >= ci.level)

    def inj_cat_hosp_level(self, day):
        lowest = min([I.level for I in self.insts])
        return self.inj_simple_drug(
            day, "CAT-HOSP-LEVEL", self.level_codes, None,
            ipred=lambda I: I.level <= max(lowest, 1),
            cpred=lambda ci, v: v.inst.level < ci.level)

    def inj_cat_course(self, day):
        rng = self.rng
        cands = [c for c in self.course_inj
                 if day + c.course[0][1] <= self.horizon_end()]
        if not cands:
            return False
        lo = cands[0].course[0][1]
        cands = [c for c in cands if c.course[0][1] <= max(lo, 14)]
        ci = cands[rng.randrange(len(cands))]
        maxd = ci.course[0][1]
        I = self.pick_inst(None, lambda J: J.level >= max(2, ci.level),
                           fraud=True)
        if I is None:
            return False
        t0 = day * 86400 + rng.randrange(8 * 3600, 12 * 3600)
        key = ci.course[0][0]
        P = self.pick_person(I.region, t0, lambda P: not (
            P.course and P.course.get(key)) and self.static_ok(
            ci, self.pclass(P, day), I, "ip"), tries=40)
        if P is None:
            return False
        S = self.plan_stay(day, I, P, "21", t0, inject="CAT-COURSE",
                           los=maxd, course_code=ci)
        return S is not None and S.dis_day == day + maxd

    # ---------------------------------------------------------- near misses
    def nm(self, kind):
        self.nm_count[kind] = self.nm_count.get(kind, 0) + 1

    def nm_visit(self, day, ipred=None, ppred=None, med=None, n=None):
        I = self.pick_inst(None, ipred, fraud=False)
        if I is None:
            I = self.pick_inst(None, ipred, fraud=True)
        if I is None:
            return None
        if med is None:
            med = ("41", "ph") if I.pharmacy else ("11", "op")
        t0 = self.visit_time(day, med[1])
        P = self.pick_person(I.region, t0, ppred, tries=60)
        if P is None or t0 < P.busy + 600:
            return None
        v = self.open_visit(I, P, med[0], t0, med[1])
        self.fill_outpatient(v, n if n is not None else
                             self.rng.randrange(1, 4), med[1])
        v.noref = True
        return v

    def nm_close(self, v):
        v.t = max([L.t for L in v.lines] + [v.t])
        self.close_visit(v)

    def near_miss(self, kind, day):
        return getattr(self, "nm_" + kind)(day)

    def nm_period_exact(self, day):
        rng = self.rng
        cands = [c for c in self.period_codes
                 if day + min(pd for _, pd in c.periods) <= self.horizon_end()]
        if not cands:
            return False
        ci = cands[rng.randrange(len(cands))]
        pdays = min(pd for _, pd in ci.periods)
        v = self.nm_visit(day, lambda I: not I.pharmacy)
        if v is None:
            return False
        if not self.static_ok(ci, self.pclass(v.P, day), v.inst, "op"):
            self.nm_close(v)
            return False
        A = self.make_line(v, ci, v.t, CNT1)
        ok = self.add_clean_line(v, A)
        self.nm_close(v)
        if not ok:
            return False
        P, I0 = v.P, v.inst

        def follow(d, P=P, ci=ci, I0=I0):
            I = self.pick_inst(P.region, lambda J: not J.pharmacy and
                               J is not I0) or I0
            t0 = self.visit_time(d, "op")
            if t0 < P.busy + 600:
                t0 = P.busy + 600 + rng.randrange(0, 3600)
            if t0 // 86400 != d or t0 % 86400 > 20 * 3600:
                return False
            w = self.open_visit(I, P, "11", t0, "op")
            self.fill_outpatient(w, rng.randrange(1, 4), "op")
            w.noref = True
            L = self.make_line(w, ci, w.t, CNT1)
            good = self.add_probe(w, L, "DUP-PERIOD") is not None
            self.nm_close(w)
            if good:
                self.nm("period_exactly_period_days_later")
            return good
        self.followups.setdefault(day + pdays, []).append(follow)
        return True

    def nm_pair_next_day(self, day):
        rng = self.rng
        if day + 1 > self.horizon_end():
            return False
        rows = [r for r in self.pair_rows if r[3] == "day"]
        if not rows:
            return False
        v = self.nm_visit(day, lambda I: not I.pharmacy)
        if v is None:
            return False
        pc = self.pclass(v.P, day)
        for _ in range(30):
            row, m, s, w = rows[rng.randrange(len(rows))]
            cm, cs = self.ref.ci[m], self.ref.ci[s]
            if cm.care is not None or cs.care is not None or not (
                    self.static_ok(cm, pc, v.inst, "op") and
                    self.static_ok(cs, pc, v.inst, "op")):
                continue
            M = self.make_line(v, cm, v.t, CNT1)
            if self.add_clean_line(v, M):
                break
        else:
            self.nm_close(v)
            return False
        tm = M.t
        self.nm_close(v)
        P, I0 = v.P, v.inst

        def follow(d, P=P, cs=cs, I0=I0, tm=tm):
            t0 = tm + 86400 - 900
            if t0 < P.busy + 600 or t0 // 86400 != d:
                return False
            w = self.open_visit(I0, P, "11", t0, "op")
            w.t = max(w.t, tm + 86400 + 60)
            w.noref = True
            L = self.make_line(w, cs, w.t, CNT1)
            good = self.add_probe(w, L, "DUP-PAIR") is not None
            self.fill_outpatient(w, rng.randrange(1, 3), "op")
            self.nm_close(w)
            if good:
                self.nm("pair_on_consecutive_days")
            return good
        self.followups.setdefault(day + 1, []).append(follow)
        return True

    def nm_refund_dup(self, day):
        v = self.nm_visit(day, n=3)
        if v is None:
            return False
        X = None
        for L in reversed(v.lines):
            if not L.refund:
                X = L
                break
        if X is None:
            self.nm_close(v)
            return False
        B = self.make_line(v, X.ci, X.t, X.cnt, X.pric)
        v.sn += 1
        B.sn = str(v.sn)
        v.lines.append(B)          # never judged: cancelled below
        self.add_refund(v, B, -B.cnt, X.t + 120)
        self.nm_close(v)
        self.nm("refund_cancels_exact_duplicate")
        return True

    def nm_child_14(self, day):
        cm = self.p["child_max_age"]
        codes = self.child_codes
        if not codes:
            return False
        v = self.nm_visit(day, ppred=lambda P: age_years(P, day) == cm)
        if v is None:
            return False
        for _ in range(10):
            ci = codes[self.rng.randrange(len(codes))]
            L = self.make_line(v, ci, v.t, CNT1)
            if self.add_probe(v, L, "CAT-AGE"):
                self.nm("child_drug_at_age_%d" % cm)
                break
        self.nm_close(v)
        return True

    def nm_catalogue_enddate(self, day):
        cands = [c for c in self.expiring
                 if max(r[1] for r in self.ref.cat_exact[c.code]) == day]
        if not cands:
            return False
        v = self.nm_visit(day, lambda I: not I.pharmacy)
        if v is None:
            return False
        pc = self.pclass(v.P, day)
        for ci in cands:
            st = "ip" if ci.care is not None else "op"
            if ci.care is not None or not self.static_ok(ci, pc, v.inst, st):
                continue
            L = self.make_line(v, ci, v.t, CNT1)
            if self.add_probe(v, L, "CAT-NOT-LISTED"):
                self.nm("code_used_on_catalogue_enddate")
                break
        self.nm_close(v)
        return True

    def nm_price_row_last_day(self, day):
        ref = self.ref
        v = None
        for ci in self.price_items:
            rows = ref.price.get(ci.code, ())
            if not any(e == day for _, _, _, e in rows):
                continue
            if not any(b == day + 1 for _, _, b, _ in rows):
                continue
            if v is None:
                v = self.nm_visit(day, lambda I: not I.pharmacy)
                if v is None:
                    return False
            if not self.static_ok(ci, self.pclass(v.P, day), v.inst, "op"):
                continue
            today = ref.list_max(ci.code, v.inst.hosp_lv, day)
            tomorrow = ref.list_max(ci.code, v.inst.hosp_lv, day + 1)
            if today is None or tomorrow is None or today <= tomorrow:
                continue
            pric = today // 10000 * 10000
            if pric <= tomorrow:
                continue
            L = self.make_line(v, ci, v.t, CNT1, pric)
            L.uplmt = max(L.uplmt, pric)
            if self.add_probe(v, L, "PRICE-OVER-LIST"):
                self.nm("price_above_next_row_on_last_day_of_row")
                break
        if v is None:
            return False
        self.nm_close(v)
        return True

    def nm_drug_probe(self, day, build, rule, name):
        """Near miss on one outpatient drug line: try up to 6 candidates,
        build(v, ci) makes the line, keep the first that add_probe accepts
        as not firing `rule`."""
        v = self.nm_visit(day, n=2)
        if v is None:
            return False
        pc = self.pclass(v.P, day)
        cands = self.candidates(v.inst, "drug", pc, "op")
        for _ in range(6):
            ci = self.pick(cands)
            if ci is None:
                break
            if self.add_probe(v, build(v, ci), rule):
                self.nm(name)
                break
        self.nm_close(v)
        return True

    def nm_overcap_moved(self, day):
        def build(v, ci):
            L = self.make_line(v, ci, v.t, 2 * CNT1)
            L.uplmt = L.pric * 9 // 10 // 10000 * 10000
            L.overlmt = fee_of(L.pric - L.uplmt, L.cnt)
            L.inscp = L.fee - L.overlmt
            return L
        return self.nm_drug_probe(day, build, "PRICE-OVER-CAP",
                                  "over_cap_moved_to_overlmt_amt")

    def nm_arith_rounding(self, day):
        def build(v, ci):
            # x.xx1667 x 3 = x.xx5001: the fee is rounded by 0.004999
            pric = self.inst_price(v.inst, ci) + 1667
            return self.make_line(v, ci, v.t, 3 * CNT1, pric)
        return self.nm_drug_probe(day, build, "PRICE-ARITH",
                                  "fee_rounded_from_six_decimal_price")

    def nm_cap_at_limit(self, day):
        codes = [c for c in self.cap_codes if c.cap_hour and
                 c.care is None and not c.gend and not c.age]
        if not codes:
            return False
        v = self.nm_visit(day, lambda I: not I.pharmacy and I.level >= 2,
                          med=("13", "er"))
        if v is None:
            return False
        ci = codes[self.rng.randrange(len(codes))]
        cap = min(ci.caps)
        half = cap // 2 // CNT1 * CNT1
        A = self.make_line(v, ci, v.t, half)
        if self.add_clean_line(v, A):
            B = self.make_line(v, ci, v.t + 900, cap - half)
            if self.add_probe(v, B, "DUP-DAILY-CAP"):
                self.nm("daily_cap_reached_exactly")
        self.nm_close(v)
        return True

    def nm_course_at_limit(self, day):
        cands = [c for c in self.course_inj
                 if c.course[0][2] == "stay" and
                 day + c.course[0][1] - 1 <= self.horizon_end()]
        if not cands:
            return False
        ci = cands[0]
        maxd = ci.course[0][1]
        I = self.pick_inst(None, lambda J: J.level >= max(2, ci.level))
        if I is None:
            return False
        t0 = day * 86400 + self.rng.randrange(8 * 3600, 12 * 3600)
        key = ci.course[0][0]
        P = self.pick_person(I.region, t0, lambda P: not (
            P.course and P.course.get(key)) and self.static_ok(
            ci, self.pclass(P, day), I, "ip"), tries=40)
        if P is None:
            return False
        S = self.plan_stay(day, I, P, "21", t0, los=maxd - 1, course_code=ci,
                           nm_course=True)
        return S is not None

    def nm_emergency_ok(self, day):
        codes = [c for c in self.care_codes if c.care]
        if not codes:
            return False
        v = self.nm_visit(day, lambda I: not I.pharmacy, med=("13", "er"))
        if v is None:
            return False
        for ci in codes:
            if v.inst.level < ci.level:
                continue
            L = self.make_line(v, ci, v.t, CNT1)
            if self.add_probe(v, L, "CAT-CARE-SETTING"):
                self.nm("emergency_ok_drug_in_emergency_visit")
                break
        self.nm_close(v)
        return True

    def nm_exact_next_minute(self, day):
        v = self.nm_visit(day, n=3)
        if v is None:
            return False
        X = None
        for L in reversed(v.lines):
            if not L.refund and not L.ci.stateful:
                X = L
                break
        if X is not None:
            t = (X.t // 60 + 1) * 60 + 5
            if t - X.t < 120:
                L = self.make_line(v, X.ci, t, X.cnt, X.pric)
                if self.add_probe(v, L, "DUP-EXACT"):
                    self.nm("same_line_next_minute")
        self.nm_close(v)
        return True

    def nm_pair_hour_apart(self, day):
        rng = self.rng
        rows = [r for r in self.pair_rows if r[3] in ("1h", "6h")]
        if not rows:
            return False
        v = self.nm_visit(day, lambda I: not I.pharmacy, n=1)
        if v is None:
            return False
        pc = self.pclass(v.P, day)
        tries = 0
        for row, m, s, w in rows:
            if tries >= 5:
                break
            cm, cs = self.ref.ci[m], self.ref.ci[s]
            if cm.care is not None or cs.care is not None or not (
                    self.static_ok(cm, pc, v.inst, "ip") and
                    self.static_ok(cs, pc, v.inst, "ip")):
                continue
            if w == "1h":
                tm = (v.t // 3600 + 1) * 3600 - 30
                ts = tm + 40
            else:
                tm = v.t
                ts = tm + 6 * 3600 + 60
            if ts // 86400 != v.t // 86400 or ts % 86400 > 22 * 3600:
                continue
            tries += 1
            M = self.make_line(v, cm, tm, CNT1)
            if not self.add_clean_line(v, M):
                continue
            S = self.make_line(v, cs, ts, CNT1)
            if self.add_probe(v, S, "DUP-PAIR"):
                self.nm("pair_just_outside_%s_window" % w)
                break
        self.nm_close(v)
        return True

    NEAR_MISSES = ["period_exact", "pair_next_day", "refund_dup", "child_14",
                   "catalogue_enddate", "price_row_last_day", "overcap_moved",
                   "arith_rounding", "cap_at_limit", "course_at_limit",
                   "emergency_ok", "exact_next_minute", "pair_hour_apart"]

    # -------------------------------------------------------------- the run
    def sweep(self, day):
        """Drop per-person window entries that can no longer matter."""
        now = (day + 1) * 86400
        gap = self.oracle.gap
        for P in self.persons:
            if P.busy > now:
                # in hospital: the stay's lines, dated from admission on,
                # are generated at discharge; keep everything until then
                continue
            bc = P.bycode
            if bc:
                for code in list(bc):
                    lst = bc[code]
                    keep = lst[-1].ci.keep
                    lst = [E for E in lst if E.t >= now - keep]
                    if lst:
                        bc[code] = lst
                    else:
                        del bc[code]
                if not bc:
                    P.bycode = None
            co = P.course
            if co:
                for key in list(co):
                    lst = co[key]
                    if not lst or day - lst[-1][0] > gap + 1:
                        del co[key]
                if not co:
                    P.course = None

    def warm_up(self, total):
        """Patients already in hospital on the start date: stays admitted
        before it that are settled during the first days."""
        rng = self.rng
        n = int(total / self.days * 0.095 * 6)
        hosp = [I for I in self.insts if not I.pharmacy]
        if not hosp:
            return
        cum, s = [], 0.0
        for I in hosp:
            s += I.weight * {3: 0.12, 2: 0.10, 1: 0.04}.get(I.level, 0.0)
            cum.append(s)
        for _ in range(n):
            I = hosp[min(bisect.bisect_right(cum, rng.random() * s),
                         len(hosp) - 1)]
            los = int(rng.triangular(2, 18, 6))
            adm = self.start - rng.randrange(1, los + 1)
            t0 = adm * 86400 + rng.randrange(8 * 3600, 18 * 3600)
            P = self.pick_person(I.region, t0)
            if P is None:
                continue
            self.plan_stay(adm, I, P, "21", t0, los=los)

    def run(self, out, truth_w):
        a = self.a
        rng = self.rng
        target_s = a.settlements
        target_l = a.lines
        mean_wd = 0.936
        self.horizon = self.last_day
        inj_rules = list(a.rule_list)
        rng.shuffle(inj_rules)
        owed = []
        rr = 0
        carry = 0.0
        nm_kinds = list(self.NEAR_MISSES) if a.near_misses > 0 else []
        # near-miss schedule: each kind a.near_misses times, spread out
        nm_plan = {}
        for i, k in enumerate(nm_kinds):
            for j in range(a.near_misses):
                d = self.start + (1 + (i * 5 + j * 7 + j * self.days // max(
                    1, a.near_misses))) % max(1, self.days - 1)
                nm_plan.setdefault(d, []).append(k)
        for c in self.expiring:
            e = max(r[1] for r in self.ref.cat_exact[c.code])
            nm_plan.setdefault(e, []).append("catalogue_enddate")
        for code, rows in self.ref.price.items():
            for _, _, b, e in rows:
                if self.start <= e <= self.last_day:
                    nm_plan.setdefault(e, []).append("price_row_last_day")
        for d in nm_plan:
            nm_plan[d] = list(dict.fromkeys(nm_plan[d]))
        emitted_s = emitted_l = 0
        self.warm_up(target_s or target_l / 13.0)
        done = False
        day = self.start
        wd_f = [1.10, 1.05, 1.0, 1.0, 1.05, 0.75, 0.60]
        while not done:
            if day > self.horizon:
                self.horizon = day + 30
            self.batch = []
            for S in self.pending_stays.pop(day, []):
                self.run_stay(S)
            for fn in self.followups.pop(day, []):
                fn(day)
            wd = datetime.date.fromordinal(day + EPOCH_ORD).weekday()
            # spread what is left of the target over the days left
            left_days = max(1, self.last_day - day + 1)
            if target_s:
                left = max(0, target_s - emitted_s) / 1.02
            else:
                left = max(0, target_l - emitted_l) / 13.0
            if day > self.start + 3 and left_days > 1:
                left *= 1.0 - 0.1 / left_days
            n_new = int(left / left_days * wd_f[wd] / mean_wd + rng.random())
            inj_today = n_new * a.violation_rate + carry
            n_inj = int(inj_today)
            carry = inj_today - n_inj
            inj_slots = set(rng.sample(range(n_new), min(n_inj, n_new))) \
                if n_new else set()
            for k in nm_plan.get(day, []):
                self.near_miss(k, day)
            for i in range(n_new):
                if i in inj_slots and inj_rules:
                    tried = 0
                    queue = owed + [inj_rules[(rr + j) % len(inj_rules)]
                                    for j in range(len(inj_rules))]
                    success = False
                    for rule in queue:
                        tried += 1
                        if tried > 6:
                            break
                        if self.inject(rule, day):
                            success = True
                            if rule in owed:
                                owed.remove(rule)
                            else:
                                rr += 1
                            break
                        if rule not in owed:
                            owed.append(rule)
                            rr += 1
                    if success:
                        continue
                v = self.normal_visit(day)
                if v is not None:
                    self.close_visit(v)
            # emit the day in event-time order
            self.batch.sort(key=lambda x: (x[0], x[1]))
            buf = []
            obs = self.obs
            for t, _, v in self.batch:
                buf.append(self.event_json(v))
                emitted_s += 1
                emitted_l += len(v.lines)
                self.stats["med_type"][v.med_type] = \
                    self.stats["med_type"].get(v.med_type, 0) + 1
                for row in v.truth:
                    truth_w.writerow([v.event_id, row[0], row[1], row[2]])
                    self.truth_written[row[2]] = \
                        self.truth_written.get(row[2], 0) + 1
                I = v.inst
                ed = v.setl_time // 86400   # observations by event day
                for L in v.lines:
                    if L.count_obs and not L.cancelled and not L.refund and \
                            L.ci.staple:
                        g = (L.code, I.region, I.lg)
                        dd = obs.get(g)
                        if dd is None:
                            dd = obs[g] = {}
                        dd[ed] = dd.get(ed, 0) + 1
                if (target_s and emitted_s >= target_s) or \
                        (target_l and emitted_l >= target_l):
                    done = True
                    break
            if buf:
                out.write("\n".join(buf))
                out.write("\n")
            if not target_s and not target_l and day >= self.last_day:
                done = True
            self.sweep(day)
            lim = day - self.lookback - self.settle - 2
            if day % 7 == 0:
                for g in list(obs):
                    dd = obs[g]
                    for k in [k for k in dd if k < lim]:
                        del dd[k]
            day += 1
            if day > self.last_day + 400:
                done = True
        self.stats["settlements"] = emitted_s
        self.stats["lines"] = emitted_l
        self.stats["days"] = day - self.start


# --------------------------------------------------------------- the CLI

def load_params(config_path):
    params = {k: (list(v) if isinstance(v, list) else v)
              for k, v in DEFAULT_PARAMS.items()}
    enabled = {}
    cfg = {}
    if config_path:
        with open(config_path, encoding="utf-8") as f:
            cfg = json.load(f)
        dets = cfg.get("detectors", {}) or {}
        for name, d in dets.items():
            if not isinstance(d, dict):
                continue
            if "enabled" in d:
                enabled[name] = bool(d["enabled"])
            for k, val in d.items():
                if k in params:
                    if isinstance(params[k], list):
                        if isinstance(val, str):
                            val = [x.strip() for x in val.split(",")
                                   if x.strip()]
                        params[k] = [str(x) for x in val]
                    else:
                        params[k] = int(val)
        state = cfg.get("state", {}) or {}
        if "lateness_seconds" in state:
            params["lateness_seconds"] = int(state["lateness_seconds"])
    return params, enabled, cfg


def parse_args(argv):
    ap = argparse.ArgumentParser(
        prog="fg_gen.py",
        description="Generate nhsa.claim.v1 settlements with injected "
                    "violations and a truth CSV.")
    ap.add_argument("--seed", type=int, default=1)
    g = ap.add_mutually_exclusive_group()
    g.add_argument("--settlements", type=int)
    g.add_argument("--lines", type=int,
                   help="target fee lines; stops at the first settlement "
                        "reaching it")
    ap.add_argument("--start-date", default="2024-03-01")
    ap.add_argument("--days", type=int, default=30)
    ap.add_argument("--persons", type=int)
    ap.add_argument("--institutions", type=int, default=40)
    ap.add_argument("--regions", default="3",
                    help="how many regions (1-11), or a comma list of "
                         "6-digit codes")
    ap.add_argument("--violation-rate", type=float, default=0.02)
    ap.add_argument("--rules", default=",".join(ALL_RULES))
    ap.add_argument("--near-misses", type=int, default=None,
                    help="how many of each near-miss kind (default: 2, "
                         "plus 1 per 5000 settlements)")
    ap.add_argument("--out", default="-")
    ap.add_argument("--truth")
    ap.add_argument("--pack")
    ap.add_argument("--catalogue")
    ap.add_argument("--price-list")
    ap.add_argument("--config",
                    help="fundguard config to read detector parameters from "
                         "(default config/fundguard.json if present)")
    ap.add_argument("--quiet", action="store_true")
    a = ap.parse_args(argv)
    if a.settlements is None and a.lines is None:
        a.settlements = 10000
    if (a.settlements is not None and a.settlements <= 0) or \
            (a.lines is not None and a.lines <= 0):
        ap.error("--settlements/--lines must be positive")
    if a.days <= 0 or a.institutions <= 0:
        ap.error("--days and --institutions must be positive")
    if not 0.0 <= a.violation_rate <= 1.0:
        ap.error("--violation-rate must be within 0..1")
    try:
        day_of(a.start_date)
    except ValueError:
        ap.error("--start-date must be yyyy-MM-dd")
    rl = [r.strip() for r in a.rules.split(",") if r.strip()]
    bad = [r for r in rl if r not in ALL_RULES]
    if bad:
        ap.error("unknown rule id(s): %s" % ",".join(bad))
    a.rule_list = rl
    codes = [c for c, _ in REGIONS]
    if a.regions.isdigit() and len(a.regions) < 6:
        n = int(a.regions)
        if not 1 <= n <= len(codes):
            ap.error("--regions must be 1..%d or a list of codes" % len(codes))
        a.region_list = codes[:n]
    else:
        lst = [x.strip() for x in a.regions.split(",") if x.strip()]
        if not lst or any(len(x) != 6 or not x.isdigit() for x in lst):
            ap.error("--regions: codes must be 6 digits")
        a.region_list = lst
    est = a.settlements or max(1, a.lines // 14)
    if a.persons is None:
        a.persons = max(200, min(200000, est // 3))
    if a.persons <= 0:
        ap.error("--persons must be positive")
    if a.near_misses is None:
        a.near_misses = 2 + est // 5000
    if a.truth is None:
        if a.out == "-":
            ap.error("--truth is required when writing to stdout")
        base = a.out
        for suf in (".gz", ".jsonl", ".json"):
            if base.endswith(suf):
                base = base[: -len(suf)]
        a.truth = base + ".truth.csv"
    return a


def open_out(path):
    if path == "-":
        return sys.stdout, None
    raw = open(path, "wb")
    if path.endswith(".gz"):
        gz = gzip.GzipFile(filename="", mode="wb", fileobj=raw, mtime=0,
                           compresslevel=6)
        return io.TextIOWrapper(gz, encoding="utf-8", newline="\n"), (gz, raw)
    return io.TextIOWrapper(raw, encoding="utf-8", newline="\n"), (raw,)


def main(argv=None):
    t_start = time.time()
    a = parse_args(sys.argv[1:] if argv is None else argv)
    cfg_path = a.config
    if cfg_path is None and os.path.exists("config/fundguard.json"):
        cfg_path = "config/fundguard.json"
    try:
        params, enabled, cfg = load_params(cfg_path)
    except (OSError, ValueError) as e:
        print("fg_gen: cannot read config %s: %s" % (cfg_path, e),
              file=sys.stderr)
        return 2
    ref_cfg = cfg.get("reference", {}) if isinstance(cfg, dict) else {}
    pack = a.pack or (cfg.get("rules", {}) or {}).get("pack") or \
        "config/rules/nhsa"
    cat = a.catalogue or ref_cfg.get("catalogue") or \
        "config/reference/catalogue.example.csv"
    price = a.price_list or ref_cfg.get("price_list") or \
        "config/reference/price_list.example.csv"
    try:
        ref = Reference(pack, cat, price, params)
    except (OSError, KeyError, ValueError) as e:
        print("fg_gen: cannot load reference data: %s" % e, file=sys.stderr)
        return 2
    gen = Generator(a, ref, params, enabled)
    gen.truth_written = {}
    out, closers = open_out(a.out)
    with open(a.truth, "w", encoding="utf-8", newline="") as tf:
        tw = csv.writer(tf, lineterminator="\n")
        tw.writerow(["event_id", "setl_id", "feedetl_sn", "rule_id"])
        gen.run(out, tw)
    out.flush()
    if closers:
        out.close()
    el = time.time() - t_start
    st = gen.stats
    if not a.quiet:
        s, n = st["settlements"], st["lines"]
        print("fg_gen: %d settlements, %d fee lines (%.1f per settlement), "
              "%d refund lines, %d days, %.1f s, %.0f lines/s" % (
                  s, n, n / max(1, s), st["refund_lines"], st["days"], el,
                  n / max(el, 1e-9)), file=sys.stderr)
        mt = " ".join("%s:%d" % kv for kv in sorted(st["med_type"].items()))
        print("fg_gen: med_type %s" % mt, file=sys.stderr)
        tw_ = gen.truth_written
        print("fg_gen: truth rows %d: %s" % (sum(tw_.values()), " ".join(
            "%s=%d" % (r, tw_.get(r, 0)) for r in ALL_RULES)),
            file=sys.stderr)
        print("fg_gen: near misses %s" % " ".join(
            "%s=%d" % kv for kv in sorted(gen.nm_count.items())),
            file=sys.stderr)
    return 0


if __name__ == "__main__":
    try:
        sys.exit(main())
    except BrokenPipeError:
        sys.exit(1)
