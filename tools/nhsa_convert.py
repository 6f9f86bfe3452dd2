#!/usr/bin/env python3
"""Convert the NHSA 两库 knowledge-point batches 1-8 into the fundguard rule pack.

Input: the per-sheet CSV exports of the NHSA 智能审核和监控 knowledge-point
batches 1-8 (see the source folder's PROVENANCE.md).  Output: the rule-pack
tables and pack.json described in config/rules/README.md, a PROVENANCE.md for
the pack, and the illustrative operator tables (catalogue, price list) under
config/reference/.

Standard library only.  Output is deterministic: stable sort order, UTF-8
without BOM, LF line endings, RFC 4180 quoting only where needed.

Usage (from the repository root):
    python3 tools/nhsa_convert.py [--source DIR] [--out DIR] [--reference-out DIR]
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import io
import json
import re
import sys
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parent.parent
DEFAULT_SOURCE = "../shared/data/external/nhsa-two-libraries-medimodel"
DEFAULT_OUT = "config/rules/nhsa"
DEFAULT_REFERENCE_OUT = "config/reference"

# The repo author's own derived dictionary is not cleared for use: never open it.
FORBIDDEN_SOURCE = "author_derived_drug_restriction_dictionary.csv"

PACK_NAME = "nhsa-2lib"
PACK_VERSION = "2023.b1-8"
UPSTREAM_REPO = "jdzwq/MediModel"
UPSTREAM_COMMIT = "573b603d13a83f8e8d44d054aa0da80e8afd048e"
UPSTREAM_FOLDER = "数据字典/两库整理"

BATCH_ORDER = ["1", "2", "3", "4", "5", "6", "7", "8-1", "8-2", "8-3", "8-4"]
BATCH_RANK = {b: i for i, b in enumerate(BATCH_ORDER)}

# table key -> (file name, columns); order = pack.json order (config/rules/README.md)
TABLES = {
    "gender": ("restrict_gender.csv", ["hilist_code", "name", "gend", "batch", "row"]),
    "age": ("restrict_age.csv", ["hilist_code", "name", "age_group", "batch", "row"]),
    "insutype": ("restrict_insutype.csv", ["hilist_code", "name", "fund", "batch", "row"]),
    "care_setting": ("restrict_care_setting.csv",
                     ["hilist_code", "name", "setting", "emergency_ok", "batch", "row"]),
    "hosp_level": ("restrict_hosp_level.csv", ["hilist_code", "name", "min_level", "batch", "row"]),
    "course": ("course_limit.csv", ["hilist_code", "name", "max_days", "scope", "batch", "row"]),
    "dup_pairs": ("dup_pairs.csv",
                  ["main_code", "main_name", "sub_code", "sub_name", "window", "note", "batch", "row"]),
    "daily_cap": ("daily_cap.csv", ["hilist_code", "name", "max_cnt", "unit", "batch", "row"]),
    "period": ("period_limit.csv", ["hilist_code", "name", "max_count", "period_days", "batch", "row"]),
    "surgery_groups": ("surgery_groups.csv", ["hilist_code", "name", "group", "batch", "row"]),
}

CATALOGUE_FILE = "catalogue.example.csv"
CATALOGUE_COLUMNS = ["hilist_code", "hilist_name", "list_type", "chrgitm_lv", "begndate", "enddate", "match"]
PRICE_FILE = "price_list.example.csv"
PRICE_COLUMNS = ["hilist_code", "hosp_lv", "max_pric", "begndate", "enddate"]

DRUG_CODE_RE = re.compile(r"[XZ][0-9A-Z]{19}(?:[0-9A-Z]{3})?")
ITEM_CODE_RE = re.compile(r"[0-9]{15}")
SEQ_RE = re.compile(r"[0-9]+")

GENDER_MAP = {"男": "1", "女": "2"}
AGE_MAP = {"儿童": "child", "婴幼儿": "infant", "新生儿": "newborn"}
FUND_MAP = {"工伤": "work_injury", "生育": "maternity"}
SETTING_MAP = {"住院": "inpatient"}
LEVEL_MAP = {"二级": "2", "二级及以上": "2", "三级": "3", "三级及以上": "3"}
WINDOW_MAP = {"单日": "day", "单次就诊": "visit", "6小时": "6h", "六小时": "6h", "同一小时": "1h"}
UNIT_MAP = {"日": "day", "天": "day", "小时": "hour"}


class Reject(Exception):
    """A data row that cannot be converted."""


# --------------------------------------------------------------------------
# report


class Report:
    def __init__(self) -> None:
        self.skipped: list[tuple[str, int, str]] = []
        self.rejected: list[tuple[str, int, str]] = []
        self.unmatched_codes: list[tuple[str, int, str, str]] = []
        self.rules_without_codes: list[tuple[str, int, str]] = []
        self.notes: list[str] = []
        self.source_rows: dict[str, int] = {}
        self.dedup: dict[str, int] = {}

    def skip(self, fname: str, line: int, why: str) -> None:
        self.skipped.append((fname, line, why))

    def reject(self, fname: str, line: int, why: str) -> None:
        self.rejected.append((fname, line, why))


# --------------------------------------------------------------------------
# small parsers

CN_DIGITS = {"零": 0, "〇": 0, "一": 1, "二": 2, "两": 2, "三": 3, "四": 4,
             "五": 5, "六": 6, "七": 7, "八": 8, "九": 9}
CN_UNITS = {"十": 10, "百": 100, "千": 1000}
NUM_PAT = r"[0-9０-９]+|[零〇一二两三四五六七八九十百千]+"
DURATION_UNIT_PAT = r"个月|月|年|周|星期|天|日"
DURATION_RE = re.compile(r"(" + NUM_PAT + r")\s*(" + DURATION_UNIT_PAT + r")")
LIMIT_RE = re.compile(r"(?:不超过|最多支付|最多)\s*(" + NUM_PAT + r")\s*(" + DURATION_UNIT_PAT + r")")


def parse_number(text: str) -> int:
    """Arabic digits (ASCII or full width) or a Chinese numeral up to 千."""
    text = text.strip()
    if re.fullmatch(r"[0-9０-９]+", text):
        return int(text)
    if not text or any(ch not in CN_DIGITS and ch not in CN_UNITS for ch in text):
        raise ValueError(f"not a number: {text!r}")
    total, current = 0, 0
    for ch in text:
        if ch in CN_DIGITS:
            current = CN_DIGITS[ch]
        else:
            total += (current or 1) * CN_UNITS[ch]
            current = 0
    return total + current


def duration_days(num: str, unit: str) -> int:
    n = parse_number(num)
    if unit in ("天", "日"):
        return n
    if unit in ("周", "星期"):
        return n * 7
    if unit == "年":
        return n * 365
    if unit in ("个月", "月"):
        # 12个月 = 一年 = 365 days; other month counts at 30 days a month
        return n // 12 * 365 if n % 12 == 0 else n * 30
    raise ValueError(f"unknown unit {unit!r}")


def parse_duration_value(value: str) -> int:
    """A whole 限定值域 such as '14天', '12个月', '一年'."""
    m = DURATION_RE.fullmatch(value.strip())
    if not m:
        raise ValueError(f"not a duration: {value!r}")
    return duration_days(m.group(1), m.group(2))


def parse_duration_in_text(text: str) -> int | None:
    """The first '不超过N天' / '最多支付N天' style limit in free text."""
    m = LIMIT_RE.search(text)
    if not m:
        return None
    return duration_days(m.group(1), m.group(2))


EMERGENCY_DENIED = ("非急诊", "除急诊", "不含急诊", "不包括急诊", "急诊除外", "急诊不予")


def emergency_allowed(text: str) -> bool:
    return "急诊" in text and not any(neg in text for neg in EMERGENCY_DENIED)


def stable_int(salt: str, code: str) -> int:
    digest = hashlib.sha256(f"{salt}:{code}".encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big")


def sha16(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()[:16]


# --------------------------------------------------------------------------
# reading the source sheets


def source_path(src: Path, fname: str) -> Path:
    if fname == FORBIDDEN_SOURCE:
        raise SystemExit(f"refusing to read {FORBIDDEN_SOURCE}: not cleared for use")
    return src / fname


def read_sheet(src: Path, fname: str, report: Report) -> tuple[list[str], list[tuple[int, dict]]]:
    """Return (header, [(line, {column: trimmed value})]); blank records are skipped."""
    path = source_path(src, fname)
    with open(path, encoding="utf-8-sig", newline="") as fh:
        reader = csv.reader(fh)
        try:
            header = [h.strip() for h in next(reader)]
        except StopIteration:
            raise SystemExit(f"{fname}: empty file")
        records = []
        start = reader.line_num + 1
        for rec in reader:
            line = start
            start = reader.line_num + 1
            values = [v.strip() for v in rec]
            if not any(values):
                report.skip(fname, line, "blank row")
                continue
            values += [""] * (len(header) - len(values))
            records.append((line, dict(zip(header, values))))
    report.source_rows[fname] = len(records)
    return header, records


def need_columns(fname: str, header: list[str], cols: list[str]) -> None:
    missing = [c for c in cols if c not in header]
    if missing:
        raise SystemExit(f"{fname}: missing column(s) {missing}; header is {header}")


def first_column(fname: str, header: list[str], candidates: list[str]) -> str:
    for c in candidates:
        if c in header:
            return c
    raise SystemExit(f"{fname}: none of the columns {candidates}; header is {header}")


def check_code(code: str, kind: str) -> None:
    if kind == "drug":
        if not DRUG_CODE_RE.fullmatch(code):
            raise Reject(f"bad drug code {code!r} (want 20 or 23 characters starting X/Z)")
    elif not ITEM_CODE_RE.fullmatch(code):
        raise Reject(f"bad item code {code!r} (want 15 digits)")


def is_footer(rec: dict, seq_col: str | None, code_cols: list[str]) -> bool:
    """A footer / summary row: no code at all, and (if the sheet numbers its rows) no row number."""
    if any(rec.get(c) for c in code_cols):
        return False
    return seq_col is None or not SEQ_RE.fullmatch(rec.get(seq_col, ""))


# --------------------------------------------------------------------------
# drug batches: __rules (generic name -> restriction) joined to __codes


def convert_drug_batch(src: Path, stem: str, batch: str, value_cols: list[str], mapper, report: Report) -> list[dict]:
    rules_file, codes_file = f"{stem}__rules.csv", f"{stem}__codes.csv"
    rh, rrecs = read_sheet(src, rules_file, report)
    need_columns(rules_file, rh, ["药品通用名"])
    value_col = first_column(rules_file, rh, value_cols)
    rules: dict[str, tuple[int, int, dict]] = {}  # name -> (row, line, mapped fields)
    position = 0
    for line, rec in rrecs:
        name = rec["药品通用名"]
        if not name:
            report.skip(rules_file, line, "no generic name (not a data row)")
            continue
        position += 1
        try:
            fields = mapper(name, rec.get("药品说明", ""), rec[value_col], position, report)
        except Reject as exc:
            report.reject(rules_file, line, str(exc))
            continue
        if name in rules:
            report.reject(rules_file, line, f"generic name {name!r} listed twice; first at row {rules[name][0]}")
            continue
        rules[name] = (position, line, fields)

    ch, crecs = read_sheet(src, codes_file, report)
    need_columns(codes_file, ch, ["药品通用名"])
    code_col = first_column(codes_file, ch, ["国标代码", "药品代码", "药品编码"])
    out = []
    used = set()
    for line, rec in crecs:
        name, code = rec["药品通用名"], rec[code_col]
        if not name and not code:
            report.skip(codes_file, line, "no generic name and no code (not a data row)")
            continue
        if name not in rules:
            report.unmatched_codes.append((codes_file, line, code, name))
            continue
        try:
            check_code(code, "drug")
        except Reject as exc:
            report.reject(codes_file, line, str(exc))
            continue
        row, _, fields = rules[name]
        used.add(name)
        out.append({"hilist_code": code, "name": name, **fields, "batch": batch, "row": str(row)})
    for name, (row, line, _) in rules.items():
        if name not in used:
            report.rules_without_codes.append((rules_file, line, name))
    return out


def map_gender(name, desc, value, row, report):
    if value not in GENDER_MAP:
        raise Reject(f"unknown gender {value!r}")
    return {"gend": GENDER_MAP[value]}


def map_age(name, desc, value, row, report):
    if value not in AGE_MAP:
        raise Reject(f"unknown age group {value!r}")
    return {"age_group": AGE_MAP[value]}


def map_fund(name, desc, value, row, report):
    if value not in FUND_MAP:
        raise Reject(f"unknown insurance type {value!r}")
    return {"fund": FUND_MAP[value]}


def map_setting(name, desc, value, row, report):
    if value not in SETTING_MAP:
        raise Reject(f"unknown care setting {value!r}")
    emergency = emergency_allowed(desc)
    if emergency:
        report.notes.append(f"b4 row {row} {name}: text '{desc}' allows 急诊 -> emergency_ok=1")
    return {"setting": SETTING_MAP[value], "emergency_ok": "1" if emergency else "0"}


def map_level(name, desc, value, row, report):
    level = LEVEL_MAP.get(value)
    if level is None:
        # fall back to the description only when 限定值域 is empty
        m = re.search(r"([二三])级", desc) if not value else None
        if not m:
            raise Reject(f"unknown institution level {value!r}")
        level = "2" if m.group(1) == "二" else "3"
        report.notes.append(f"b5 row {row} {name}: 限定值域 empty, level {level} taken from the text")
    if level == "2" and "三级" in desc:
        report.notes.append(f"b5 row {row} {name}: 限定值域 {value} but the text mentions 三级; kept min_level=2")
    if level == "3" and "三级" not in desc:
        report.notes.append(f"b5 row {row} {name}: 限定值域 {value} but the text does not mention 三级; kept min_level=3")
    if level == "3" and "二级及以上" in desc:
        report.notes.append(
            f"b5 row {row} {name}: 限定值域 三级 (text: 需三级综合医院…或二级及以上…专科医院); "
            "kept min_level=3, the 二级 specialty-hospital exception is not expressible by level")
    if re.search(r"首次处方[^；;。]*[二三]级", desc):
        report.notes.append(
            f"b5 row {row} {name}: text restricts only the first prescription (首次处方…); kept min_level={level} on every line")
    return {"min_level": level}


def map_course(name, desc, value, row, report):
    try:
        days = parse_duration_value(value)
    except ValueError as exc:
        raise Reject(str(exc))
    text_days = parse_duration_in_text(desc)
    if text_days is None:
        report.notes.append(f"b6 row {row} {name}: no day limit found in the text; used 限定值域 {value}")
    elif text_days != days:
        report.notes.append(
            f"b6 row {row} {name}: 限定值域 {value} ({days} days) but the text says {text_days} days; "
            f"kept the published 限定值域 ({days})")
    scope = "stay" if "单次住院" in desc else "course"
    return {"max_days": str(days), "scope": scope}


# --------------------------------------------------------------------------
# item batches (one sheet each)


def item_rows(src: Path, fname: str, report: Report, code_cols: list[str], seq_candidates: list[str]):
    """Yield (line, row, record) for the data rows of an item sheet.

    row = the sheet's 序号 where it has one, else the 1-based data-row position.
    """
    header, recs = read_sheet(src, fname, report)
    seq_col = next((c for c in seq_candidates if c in header), None)
    code_cols = [first_column(fname, header, c.split("|")) for c in code_cols]
    position = 0
    for line, rec in recs:
        if is_footer(rec, seq_col, code_cols):
            label = next((v for v in rec.values() if v), "")
            report.skip(fname, line, f"footer/summary row ({label[:20]}{'…' if len(label) > 20 else ''})")
            continue
        position += 1
        if seq_col is not None:
            seq = rec.get(seq_col, "")
            if not SEQ_RE.fullmatch(seq):
                report.reject(fname, line, f"bad row number {seq!r}")
                continue
            row = str(int(seq))
        else:
            row = str(position)
        yield line, row, {**rec, "_codes": [rec[c] for c in code_cols]}


def convert_items(src: Path, report: Report) -> dict[str, list[dict]]:
    out: dict[str, list[dict]] = {k: [] for k in TABLES}

    def run(fname, batch, code_spec, build, seq=("序号",)):
        for line, row, rec in item_rows(src, fname, report, code_spec, list(seq)):
            try:
                for code in rec["_codes"]:
                    check_code(code, "item")
                table, fields = build(rec, row)
            except Reject as exc:
                report.reject(fname, line, str(exc))
                continue
            out[table].append({**fields, "batch": batch, "row": row})

    def b1_gender(rec, row):
        v = rec["限定性别"]
        if v not in GENDER_MAP:
            raise Reject(f"unknown gender {v!r}")
        return "gender", {"hilist_code": rec["_codes"][0], "name": rec["项目名称"], "gend": GENDER_MAP[v]}

    def b1_age(rec, row):
        v = rec["限定对象"]
        if v not in AGE_MAP:
            raise Reject(f"unknown age group {v!r}")
        return "age", {"hilist_code": rec["_codes"][0], "name": rec["项目名称"], "age_group": AGE_MAP[v]}

    def b2_group(rec, row):
        if not rec["限定值域"]:
            raise Reject("empty 限定值域 (surgery group)")
        return "surgery_groups", {"hilist_code": rec["_codes"][0], "name": rec["项目名称"], "group": rec["限定值域"]}

    def b7_pair(rec, row):
        w = rec["频度"]
        if w not in WINDOW_MAP:
            raise Reject(f"unknown window {w!r}")
        main, sub = rec["_codes"]
        if main == sub:
            raise Reject(f"主项 and 从项 are the same code {main}")
        return "dup_pairs", {"main_code": main, "main_name": rec["主项名称"], "sub_code": sub,
                             "sub_name": rec["从项名称"], "window": WINDOW_MAP[w], "note": rec.get("备注", "")}

    def b81_cap(rec, row):
        unit = rec["数量单位"]
        if unit not in UNIT_MAP:
            raise Reject(f"unknown unit {unit!r}")
        try:
            cnt = parse_number(rec["限制数量"])
        except ValueError:
            raise Reject(f"bad 限制数量 {rec['限制数量']!r}")
        if cnt <= 0:
            raise Reject(f"bad 限制数量 {rec['限制数量']!r}")
        return "daily_cap", {"hilist_code": rec["_codes"][0], "name": rec["项目名称"],
                             "max_cnt": str(cnt), "unit": UNIT_MAP[unit]}

    def b82_age(rec, row):
        note = rec.get("备注", "")
        if "法定就业年龄" not in note:
            raise Reject(f"备注 {note!r} is not the 超出法定就业年龄 restriction")
        return "age", {"hilist_code": rec["_codes"][0], "name": rec["项目名称"], "age_group": "over_working_age"}

    def b83_course(rec, row):
        note = rec.get("备注", "")
        try:
            days = parse_duration_in_text(note)
        except ValueError as exc:
            raise Reject(str(exc))
        if days is None:
            raise Reject(f"no course length found in 备注 {note!r}")
        scope = "stay" if "单次住院" in note else "course"
        return "course", {"hilist_code": rec["_codes"][0], "name": rec["项目名称"],
                          "max_days": str(days), "scope": scope}

    def b84_period(rec, row):
        try:
            cnt = parse_number(rec["频次上限"])
            days = parse_number(rec["疗程周期"])
        except ValueError:
            raise Reject(f"bad 频次上限/疗程周期 {rec['频次上限']!r}/{rec['疗程周期']!r}")
        if cnt <= 0 or days <= 0:
            raise Reject(f"bad 频次上限/疗程周期 {cnt}/{days}")
        return "period", {"hilist_code": rec["_codes"][0], "name": rec["项目名称"],
                          "max_count": str(cnt), "period_days": str(days)}

    run("b1_item_gender_restricted.csv", "1", ["国标代码"], b1_gender)
    run("b1_item_age_restricted.csv", "1", ["国标代码"], b1_age)
    run("b2_item_primary_secondary_surgery.csv", "2", ["国标代码"], b2_group)
    run("b7_item_duplicate_charge_pairs.csv", "7", ["主项编码", "从项编码"], b7_pair)
    run("b8_1_item_frequency_limit.csv", "8-1", ["项目编码|项目代码"], b81_cap)
    run("b8_2_item_age_limit.csv", "8-2", ["项目代码|项目编码"], b82_age)
    run("b8_3_item_course_limit.csv", "8-3", ["项目代码|项目编码"], b83_course)
    run("b8_4_item_period_limit.csv", "8-4", ["项目代码|项目编码"], b84_period)
    return out


# --------------------------------------------------------------------------
# assembling the pack


def row_sort_key(table: str, r: dict):
    """Batch, then the drug sheet before the item sheet (batch 1), then row, then code."""
    codes = (r["main_code"], r["sub_code"]) if table == "dup_pairs" else (r["hilist_code"],)
    is_item = ITEM_CODE_RE.fullmatch(codes[0]) is not None
    return (BATCH_RANK[r["batch"]], is_item, int(r["row"]), codes)


def build_pack(src: Path, report: Report) -> dict[str, list[dict]]:
    tables: dict[str, list[dict]] = {k: [] for k in TABLES}
    tables["gender"] += convert_drug_batch(src, "b1_drug_gender_restricted", "1", ["限定对象", "限定性别"], map_gender, report)
    tables["age"] += convert_drug_batch(src, "b1_drug_age_restricted", "1", ["限定对象"], map_age, report)
    tables["insutype"] += convert_drug_batch(src, "b3_drug_insurance_type_restricted", "3", ["限定对象", "限定值域"], map_fund, report)
    tables["care_setting"] += convert_drug_batch(src, "b4_drug_care_setting_restricted", "4", ["限定值域", "限定对象"], map_setting, report)
    tables["hosp_level"] += convert_drug_batch(src, "b5_drug_institution_level_restricted", "5", ["限定值域", "限定对象"], map_level, report)
    tables["course"] += convert_drug_batch(src, "b6_drug_payment_course_days", "6", ["限定值域", "限定对象"], map_course, report)
    for k, rows in convert_items(src, report).items():
        tables[k] += rows

    for k, rows in tables.items():
        cols = TABLES[k][1]
        seen, unique = set(), []
        for r in rows:
            key = tuple(r[c] for c in cols)
            if key in seen:
                continue
            seen.add(key)
            unique.append(r)
        report.dedup[k] = len(rows) - len(unique)
        unique.sort(key=lambda r, k=k: row_sort_key(k, r))
        tables[k] = unique
    check_conflicts(tables, report)
    return tables


def check_conflicts(tables: dict[str, list[dict]], report: Report) -> None:
    """Report a code listed twice in one table with different values (rows are kept)."""
    for k, rows in tables.items():
        if k == "surgery_groups":
            # group membership is many-to-many: a code may sit in several groups
            multi: dict[str, list[str]] = {}
            for r in rows:
                multi.setdefault(r["hilist_code"], []).append(f"{r['group']} #{r['row']}")
            multi = {c: g for c, g in multi.items() if len(g) > 1}
            if multi:
                report.notes.append(
                    f"surgery_groups: {len(multi)} codes belong to more than one group (kept, one row each): "
                    + "; ".join(f"{c} in {', '.join(g)}" for c, g in sorted(multi.items())))
            continue
        if k == "dup_pairs":
            continue
        cols = [c for c in TABLES[k][1] if c not in ("hilist_code", "name", "batch", "row")]
        seen: dict[str, tuple] = {}
        for r in rows:
            val = tuple(r[c] for c in cols)
            prev = seen.setdefault(r["hilist_code"], (val, r["batch"], r["row"]))
            if prev[0] != val:
                report.notes.append(
                    f"{k}: {r['hilist_code']} has {dict(zip(cols, prev[0]))} (batch {prev[1]} #{prev[2]}) "
                    f"and {dict(zip(cols, val))} (batch {r['batch']} #{r['row']}); both kept")


def csv_bytes(columns: list[str], rows: list[dict]) -> bytes:
    buf = io.StringIO()
    w = csv.writer(buf, quoting=csv.QUOTE_MINIMAL, lineterminator="\n")
    w.writerow(columns)
    for r in rows:
        w.writerow([r[c] for c in columns])
    return buf.getvalue().encode("utf-8")


def pack_json_bytes() -> bytes:
    manifest = {
        "name": PACK_NAME,
        "version": PACK_VERSION,
        "description": ("NHSA 智能审核和监控 两库 knowledge points, batches 1-8: gender/age (1, 8-2), "
                        "primary/secondary surgery groups (2), insurance type (3), care setting (4), "
                        "institution level (5), payment course (6, 8-3), duplicate-charge pairs (7), "
                        "daily frequency caps (8-1) and period limits (8-4)."),
        "tables": {k: v[0] for k, v in TABLES.items()},
        "source": (f"NHSA knowledge-point batches 1-8 as compiled in GitHub {UPSTREAM_REPO} commit "
                   f"{UPSTREAM_COMMIT}, folder {UPSTREAM_FOLDER}; converted by tools/nhsa_convert.py. "
                   "Facts of administrative documents only; see PROVENANCE.md."),
    }
    return (json.dumps(manifest, ensure_ascii=False, indent=2) + "\n").encode("utf-8")


# --------------------------------------------------------------------------
# illustrative operator tables (CONTRACT §5)

# codes given special rows; each must exist in the generated pack
TWO_PERIOD_CODE = "001102000050000"          # 住院诊查费: 02 until 2023-12-31, 01 from 2024-01-01
EXPIRING_CODES = ["ZD01BAY0323030202065",     # 益母草注射液 (batch 3)
                  "003310010140000"]          # 食管癌根治+结肠代食管术 (batch 2)
SELF_PAY_CODES = ["001107000010000",          # 病房取暖费
                  "001301000010000",          # 婴幼儿健康体检
                  "001302000010000"]          # 儿童龋齿预防保健
PREFIX_BATCHES = ["3", "4", "6"]             # one prefix row from the first fitting drug of each
PRICE_CHANGE_CODE = "002503020030000"         # 糖化血红蛋白测定: new price from 2024-07-01
PRICE_LEVEL_ROWS = 20                         # exact-level rows for the first 20 per-day daily_cap codes
LEVEL_PCT = {"01": 110, "02": 105, "05": 90, "08": 75}
BEGIN = "2020-01-01"

# price band in yuan by the item code's class digits (3rd-4th digit of the national code)
PRICE_BANDS = {
    "11": (3, 60),     # 一般医疗服务: 诊查, 床位, 监护
    "12": (3, 40),     # 一般治疗操作: 护理, 注射
    "13": (5, 80),     # 社区卫生服务及预防保健
    "21": (20, 400),   # 医学影像
    "22": (10, 200),   # 超声
    "23": (20, 300),
    "24": (50, 600),   # 核医学
    "25": (5, 120),    # 检验
    "27": (30, 300),   # 病理
    "31": (10, 300),   # 临床各系统诊疗
    "32": (300, 800),  # 经血管介入诊疗
    "33": (200, 800),  # 手术治疗
    "34": (10, 120),   # 物理治疗与康复
}


def fmt_price(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}0000"


def base_price_cents(code: str) -> int:
    low, high = PRICE_BANDS.get(code[2:4], (10, 150) if code[2] == "4" else (2, 800))
    return low * 100 + stable_int("price", code) % ((high - low) * 100 + 1)


def pack_codes(tables: dict[str, list[dict]]) -> dict[str, str]:
    """Every code in the pack -> a name (first occurrence in manifest order, then batch/row order)."""
    names: dict[str, str] = {}
    for k, rows in tables.items():
        for r in rows:
            if k == "dup_pairs":
                names.setdefault(r["main_code"], r["main_name"])
                names.setdefault(r["sub_code"], r["sub_name"])
            else:
                names.setdefault(r["hilist_code"], r["name"])
    return names


def pick_prefixes(tables: dict[str, list[dict]]) -> list[tuple[str, str]]:
    by_drug: dict[tuple[str, str], list[str]] = {}
    names: dict[tuple[str, str], str] = {}
    for k in ("gender", "age", "insutype", "care_setting", "hosp_level", "course"):
        for r in tables[k]:
            if DRUG_CODE_RE.fullmatch(r["hilist_code"]):
                key = (r["batch"], r["row"])
                by_drug.setdefault(key, []).append(r["hilist_code"])
                names[key] = r["name"]
    # names of all pack drug codes by 12-character prefix
    prefix_names: dict[str, set[str]] = {}
    for key, codes in by_drug.items():
        for c in codes:
            prefix_names.setdefault(c[:12], set()).add(names[key])
    picked = []
    for batch in PREFIX_BATCHES:
        keys = sorted((key for key in by_drug if key[0] == batch), key=lambda key: int(key[1]))
        for key in keys:
            prefixes = {c[:12] for c in by_drug[key]}
            if (len(by_drug[key]) >= 2 and len(prefixes) == 1
                    and prefix_names[next(iter(prefixes))] == {names[key]}):
                picked.append((prefixes.pop(), names[key]))
                break
        else:
            raise SystemExit(f"no drug in batch {batch} fits a prefix example")
    return picked


def build_reference(tables: dict[str, list[dict]]) -> tuple[list[dict], list[dict], list[str]]:
    names = pack_codes(tables)
    for code in [TWO_PERIOD_CODE, PRICE_CHANGE_CODE, *EXPIRING_CODES, *SELF_PAY_CODES]:
        if code not in names:
            raise SystemExit(f"example code {code} is not in the generated pack")
    notes = []

    def cat_row(code, name, lv, begin=BEGIN, end="", match="exact"):
        list_type = "101" if DRUG_CODE_RE.fullmatch(code) or len(code) == 12 else "201"
        return {"hilist_code": code, "hilist_name": name, "list_type": list_type, "chrgitm_lv": lv,
                "begndate": begin, "enddate": end, "match": match}

    catalogue = []
    for code, name in names.items():
        lv = "01" if stable_int("chrgitm_lv", code) % 2 == 0 else "02"
        if code == TWO_PERIOD_CODE:
            catalogue.append(cat_row(code, name, "02", BEGIN, "2023-12-31"))
            catalogue.append(cat_row(code, name, "01", "2024-01-01", ""))
            notes.append(f"{code} {name}: two periods, 02 2020-01-01..2023-12-31 then 01 from 2024-01-01")
        elif code in EXPIRING_CODES:
            catalogue.append(cat_row(code, name, lv, BEGIN, "2024-06-30"))
            notes.append(f"{code} {name}: listed 2020-01-01..2024-06-30 only")
        elif code in SELF_PAY_CODES:
            catalogue.append(cat_row(code, name, "03"))
            notes.append(f"{code} {name}: chrgitm_lv 03 (丙类)")
        else:
            catalogue.append(cat_row(code, name, lv))
    for prefix, name in pick_prefixes(tables):
        catalogue.append(cat_row(prefix, name, "01" if stable_int("chrgitm_lv", prefix) % 2 == 0 else "02",
                                 match="prefix"))
        notes.append(f"{prefix} {name}: match=prefix")
    catalogue.sort(key=lambda r: (r["hilist_code"], r["begndate"]))
    notes.sort()

    prices = []
    items = sorted(c for c in names if ITEM_CODE_RE.fullmatch(c))
    level_codes = [r["hilist_code"] for r in tables["daily_cap"] if r["unit"] == "day"][:PRICE_LEVEL_ROWS]
    for code in items:
        cents = base_price_cents(code)
        if code == PRICE_CHANGE_CODE:
            new = cents * 80 // 100
            prices.append({"hilist_code": code, "hosp_lv": "*", "max_pric": fmt_price(cents),
                           "begndate": BEGIN, "enddate": "2024-06-30"})
            prices.append({"hilist_code": code, "hosp_lv": "*", "max_pric": fmt_price(new),
                           "begndate": "2024-07-01", "enddate": ""})
            notes.append(f"price {code} {names[code]}: * {fmt_price(cents)} until 2024-06-30, "
                         f"{fmt_price(new)} from 2024-07-01")
        else:
            prices.append({"hilist_code": code, "hosp_lv": "*", "max_pric": fmt_price(cents),
                           "begndate": BEGIN, "enddate": ""})
        if code in level_codes:
            for lv, pct in LEVEL_PCT.items():
                prices.append({"hilist_code": code, "hosp_lv": lv, "max_pric": fmt_price(cents * pct // 100),
                               "begndate": BEGIN, "enddate": ""})
    prices.sort(key=lambda r: (r["hilist_code"], r["hosp_lv"], r["begndate"]))
    for r in prices:
        if not 2.0 <= float(r["max_pric"]) <= 800.0:
            raise SystemExit(f"example price out of range 2.00-800.00: {r}")
    notes.append(f"price: exact-level rows (01 110%, 02 105%, 05 90%, 08 75% of *) for {len(level_codes)} codes: "
                 + ", ".join(level_codes))
    return catalogue, prices, notes


# --------------------------------------------------------------------------
# provenance


SOURCE_FILES = [
    "b1_drug_gender_restricted__rules.csv", "b1_drug_gender_restricted__codes.csv",
    "b1_drug_age_restricted__rules.csv", "b1_drug_age_restricted__codes.csv",
    "b1_item_gender_restricted.csv", "b1_item_age_restricted.csv",
    "b2_item_primary_secondary_surgery.csv",
    "b3_drug_insurance_type_restricted__rules.csv", "b3_drug_insurance_type_restricted__codes.csv",
    "b4_drug_care_setting_restricted__rules.csv", "b4_drug_care_setting_restricted__codes.csv",
    "b5_drug_institution_level_restricted__rules.csv", "b5_drug_institution_level_restricted__codes.csv",
    "b6_drug_payment_course_days__rules.csv", "b6_drug_payment_course_days__codes.csv",
    "b7_item_duplicate_charge_pairs.csv",
    "b8_1_item_frequency_limit.csv", "b8_2_item_age_limit.csv",
    "b8_3_item_course_limit.csv", "b8_4_item_period_limit.csv",
]

BATCH_SOURCES = [
    ("1", "药品/项目规则库（限定性别对象、限定年龄对象）", "gender, age"),
    ("2", "项目规则库（限定主次操作）", "surgery_groups"),
    ("3", "药品规则库（限定保险类型）", "insutype"),
    ("4", "药品规则库（限定就医方式）", "care_setting"),
    ("5", "药品规则库（限定机构等级）", "hosp_level"),
    ("6", "药品规则库（限定支付疗程）", "course"),
    ("7", "项目规则库（重复收费）", "dup_pairs"),
    ("8-1", "项目规则库（限定频次）", "daily_cap"),
    ("8-2", "项目规则库（限定年龄）", "age"),
    ("8-3", "项目规则库（限定疗程）", "course"),
    ("8-4", "项目规则库（限定周期）", "period"),
]

TRANSFORMATIONS = """\
- Only the 20 batch sheets listed under "Inputs" are read. The compiler's own
  derived dictionary (`author_derived_drug_restriction_dictionary.csv`) is never
  opened; the converter refuses that file name.
- Every cell is trimmed of surrounding whitespace (including full-width spaces).
  Blank records are skipped.
- Drug batches (1, 3, 4, 5, 6): each `__codes` row (generic name → national
  code) is joined to the `__rules` row of the same generic name; one output row
  per full code. `row` is the drug's 1-based position among the data rows of
  the `__rules` sheet, shared by all its codes. `name` is the generic name.
- Item sheets: `row` is the sheet's 序号 (batches 7, 8-1 … 8-4); batches 1 and
  2 item sheets have no 序号, so `row` is the 1-based data-row position.
- Codes are validated: drug codes 20 or 23 characters, upper-case letters and
  digits, starting X or Z; item codes exactly 15 digits. A row with a bad code
  is rejected (listed below).
- Rows with no code and no 序号 (blank lines, 合计, 备注：… footers) are not data
  rows; they are skipped and listed below with their source line numbers
  (line 1 = the header).
- Value mappings: 男→`1`, 女→`2`; 儿童→`child`, 婴幼儿→`infant`,
  新生儿→`newborn`; batch 8-2 (参保人年龄超出法定就业年龄限制)→`over_working_age`;
  工伤→`work_injury`, 生育→`maternity`; 住院→`inpatient`; 二级→`2`, 三级→`3`;
  单日→`day`, 单次就诊→`visit`, 6小时→`6h`, 同一小时→`1h`; 日/天→`day`,
  小时→`hour`; batch 2 `group` = 限定值域; batch 8-4 `max_count` = 频次上限,
  `period_days` = 疗程周期; batch 7 `note` = 备注.
- `emergency_ok` (batch 4) is `1` when the 药品说明 mentions 急诊 without a
  negation (非急诊, 除急诊, …), else `0`.
- `min_level` (batch 5) comes from 限定值域; the 药品说明 is cross-checked
  (findings under "Judgement calls").
- `course` (batch 6): `max_days` is parsed from 限定值域 (`14天`→14,
  `12个月`/`一年`→365; months that are not whole years count 30 days, weeks 7);
  the 药品说明's own limit (不超过N天 / 最多支付N天) is cross-checked. `scope` is
  `stay` when the 药品说明 says 单次住院, else `course`.
- `course` (batch 8-3): `max_days` is the first 不超过N<unit> in the 备注
  (支付不超过30天→30, 总时间不超过90天→90, 一个疾病过程支付不超过90天→90,
  支付不超过一年→365); `scope` is `course`.
- Chinese numerals (零〇一二两三四五六七八九十百千) and full-width digits are parsed.
- Exact duplicate output rows are removed (counts below). A code listed twice
  in one table with different values would be reported and both rows kept.
- Rows are sorted by batch, then sheet (batch 1: drug sheet before item
  sheet), then `row`, then code. Output is UTF-8 without BOM,
  LF line endings, RFC 4180 quoting only where a field holds a comma or quote.
"""


def provenance_md(src_hashes, outputs, report: Report, ref_notes, ref_dir_rel: str) -> bytes:
    L = []
    a = L.append
    a("# Provenance: NHSA 两库 knowledge points, batches 1–8 (`nhsa-2lib@2023.b1-8`)")
    a("")
    a("Generated by `tools/nhsa_convert.py`; do not edit by hand. Regenerate it with the command below.")
    a("")
    a("## Source")
    a("")
    a("The rules are the knowledge points the National Healthcare Security Administration (国家医疗保障局)")
    a("published in batches 1–8 for the 智能审核和监控 knowledge base and rule base (“两库”), as compiled in")
    a(f"GitHub `{UPSTREAM_REPO}` commit `{UPSTREAM_COMMIT}`, folder `{UPSTREAM_FOLDER}`")
    a("(14 xlsx workbooks), exported sheet by sheet to CSV without cleaning.")
    a("")
    a("| batch | published list | pack table(s) |")
    a("| --- | --- | --- |")
    for b, title, t in BATCH_SOURCES:
        a(f"| {b} | {title} | {t} |")
    a("")
    a("## Licence")
    a("")
    a("- The lists are NHSA administrative documents; under 《著作权法》第五条 documents of an administrative")
    a("  nature are not protected by copyright. The compilation repository has no LICENSE file.")
    a("- Cleared for shipping: the facts of batches 1–8 (codes, names, restriction types, limits, windows),")
    a("  converted into this project's own format, with this note naming the NHSA batches as the source.")
    a("- Not shipped: the xlsx workbooks and their layout, the intermediate CSV exports, and the compiler's")
    a("  own derived drug-restriction dictionary (`author_derived_drug_restriction_dictionary.csv`, not")
    a("  cleared; never read by the converter).")
    a("")
    a("## Regenerating")
    a("")
    a("From the repository root (the source folder is the default and may be omitted):")
    a("")
    a("```sh")
    a(f"python3 tools/nhsa_convert.py --source {DEFAULT_SOURCE} --out {DEFAULT_OUT} --reference-out {ref_dir_rel}")
    a("```")
    a("")
    a("Python 3.11, standard library only. The output is deterministic: a second run is byte-identical.")
    a("")
    a("## Inputs")
    a("")
    a("| file | records read | sha256 (first 16) |")
    a("| --- | ---: | --- |")
    for fname in SOURCE_FILES:
        a(f"| `{fname}` | {report.source_rows.get(fname, 0)} | `{src_hashes[fname]}` |")
    a("")
    a("## Outputs")
    a("")
    a("| file | table | data rows | sha256 (first 16) |")
    a("| --- | --- | ---: | --- |")
    for path, table, rows, digest in outputs:
        a(f"| `{path}` | {table} | {rows} | `{digest}` |")
    a("")
    a("## Transformations")
    a("")
    L.extend(TRANSFORMATIONS.rstrip("\n").split("\n"))
    a("")
    a("## Judgement calls")
    a("")
    a("- Batch 1 drug age rows are all 儿童 → `child`; where a 药品说明 names its own age bounds (e.g.")
    a("  “限6-17岁儿童和青少年”) those bounds are not encoded: the detector's `child_max_age` applies.")
    a("- Batch 4: every row is 住院; only the row whose text allows 急诊 gets `emergency_ok=1`.")
    a("- Batch 6 `max_days` keeps the published 限定值域 even where the 药品说明 disagrees (listed below).")
    a("  帕妥珠单抗注射液 is published as 365天 (text: 支付不超过12个月); 12个月 = 365 days agrees.")
    a("- Batch 8-3 rows 1–3 and 11 also carry an interval / per-week limit in 备注 (评定间隔时间不短于14天,")
    a("  每周最多支付一次); those limits are published as batch 8-4 rows and are taken from there.")
    a("- Batch 8-1 “24 小时” rows: `max_cnt` 24 with `unit` hour (quantity billed in hours per day).")
    for n in report.notes:
        a(f"- {n}")
    a("")
    a("## Skipped, rejected, unmatched, duplicates")
    a("")
    a(f"Skipped (not data rows): {len(report.skipped)}")
    a("")
    for f, line, why in report.skipped:
        a(f"- `{f}` line {line}: {why}")
    a("")
    a(f"Rejected (bad code or value): {len(report.rejected)}" + ("" if report.rejected else " (none)"))
    a("")
    for f, line, why in report.rejected:
        a(f"- `{f}` line {line}: {why}")
    if report.rejected:
        a("")
    a(f"Drug codes whose generic name has no rule: {len(report.unmatched_codes)}"
      + ("" if report.unmatched_codes else " (none)"))
    for f, line, code, name in report.unmatched_codes:
        a(f"- `{f}` line {line}: {code} {name}")
    a("")
    a(f"Drug rules with no codes: {len(report.rules_without_codes)}"
      + ("" if report.rules_without_codes else " (none)"))
    for f, line, name in report.rules_without_codes:
        a(f"- `{f}` line {line}: {name}")
    a("")
    a("Exact duplicate rows removed: " + ", ".join(f"{k} {v}" for k, v in report.dedup.items()))
    a("")
    a("## Operator example tables")
    a("")
    a(f"The converter also writes the illustrative `{CATALOGUE_FILE}` and `{PRICE_FILE}` (not national data;")
    a(f"see `{ref_dir_rel}/README.md`). Special rows:")
    a("")
    for n in ref_notes:
        a(f"- {n}")
    a("")
    return "\n".join(L).encode("utf-8")


# --------------------------------------------------------------------------


def write_if_changed(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if path.exists() and path.read_bytes() == data:
        return
    path.write_bytes(data)


def rel(path: Path) -> str:
    try:
        return path.resolve().relative_to(REPO_ROOT).as_posix()
    except ValueError:
        return path.as_posix()


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--source", default=DEFAULT_SOURCE,
                    help=f"folder of the batch CSV exports (default {DEFAULT_SOURCE}, relative to the repo root)")
    ap.add_argument("--out", default=DEFAULT_OUT, help=f"rule-pack folder (default {DEFAULT_OUT})")
    ap.add_argument("--reference-out", default=DEFAULT_REFERENCE_OUT,
                    help=f"folder for the example operator tables (default {DEFAULT_REFERENCE_OUT})")
    args = ap.parse_args(argv)

    def resolve(p: str) -> Path:
        path = Path(p)
        return path if path.is_absolute() else REPO_ROOT / path

    src, out, ref = resolve(args.source), resolve(args.out), resolve(args.reference_out)
    if not src.is_dir():
        raise SystemExit(f"source folder not found: {src}")
    for fname in SOURCE_FILES:
        if not (src / fname).is_file():
            raise SystemExit(f"missing source file: {fname}")

    report = Report()
    src_hashes = {f: sha16(source_path(src, f).read_bytes()) for f in SOURCE_FILES}
    tables = build_pack(src, report)
    catalogue, prices, ref_notes = build_reference(tables)

    outputs = []
    out_rel = rel(out)
    for k, (fname, cols) in TABLES.items():
        data = csv_bytes(cols, tables[k])
        write_if_changed(out / fname, data)
        outputs.append((f"{out_rel}/{fname}", k, len(tables[k]), sha16(data)))
    pj = pack_json_bytes()
    write_if_changed(out / "pack.json", pj)
    outputs.append((f"{out_rel}/pack.json", "manifest", "", sha16(pj)))
    ref_rel = rel(ref)
    for fname, cols, rows, label in ((CATALOGUE_FILE, CATALOGUE_COLUMNS, catalogue, "catalogue (example)"),
                                     (PRICE_FILE, PRICE_COLUMNS, prices, "price list (example)")):
        data = csv_bytes(cols, rows)
        write_if_changed(ref / fname, data)
        outputs.append((f"{ref_rel}/{fname}", label, len(rows), sha16(data)))
    write_if_changed(out / "PROVENANCE.md", provenance_md(src_hashes, outputs, report, ref_notes, ref_rel))

    # console report
    print(f"nhsa_convert: {PACK_NAME}@{PACK_VERSION} from {args.source}")
    for path, table, rows, digest in outputs:
        print(f"  wrote {path}: {rows if rows != '' else '-'} rows  sha256:{digest}")
    print(f"  wrote {out_rel}/PROVENANCE.md")
    print(f"  skipped {len(report.skipped)} non-data rows:")
    for f, line, why in report.skipped:
        print(f"    {f}:{line}: {why}")
    print(f"  rejected {len(report.rejected)} rows" + (":" if report.rejected else ""))
    for f, line, why in report.rejected:
        print(f"    {f}:{line}: {why}")
    print(f"  drug codes without a rule: {len(report.unmatched_codes)}")
    for f, line, code, name in report.unmatched_codes:
        print(f"    {f}:{line}: {code} {name}")
    print(f"  drug rules without codes: {len(report.rules_without_codes)}")
    for f, line, name in report.rules_without_codes:
        print(f"    {f}:{line}: {name}")
    print("  exact duplicates removed: " + ", ".join(f"{k} {v}" for k, v in report.dedup.items()))
    print(f"  notes ({len(report.notes)}):")
    for n in report.notes:
        print(f"    {n}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
