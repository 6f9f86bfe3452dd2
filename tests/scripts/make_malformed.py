#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Writes the malformed-input corpus: one bad event per line, each with the
dead-letter reason (prefix) the replay must give, plus valid events between
them that must still be processed. Usage: make_malformed.py OUT.jsonl OUT.expect
"""
import json
import sys

GOOD = {
    "schema": "nhsa.claim.v1", "event_id": "H33010000012:S0:SETTLEMENT",
    "event_type": "SETTLEMENT", "event_time": "2024-03-05T09:59:06+08:00",
    "fixmedins_code": "H33010000012", "hosp_lv": "05", "mdtrtarea_admvs": "330100",
    "setl_id": "S0", "mdtrt_id": "M0", "psn_no": "33010099000010000001689700",
    "gend": "2", "brdy": "1980-01-02", "insutype": "310", "med_type": "11",
    "setl_time": "2024-03-05 09:59:06",
    "feedetail": [{"feedetl_sn": "1", "fee_ocur_time": "2024-03-05 09:45:00",
                   "hilist_code": "001102000030000", "pric": "5.000000", "cnt": "1.0000",
                   "det_item_fee_sumamt": "5.00", "inscp_amt": "5.00"}],
}


def good(i):
    e = json.loads(json.dumps(GOOD))
    e["setl_id"] = e["mdtrt_id"] = "S%d" % i
    e["event_id"] = "H33010000012:S%d:SETTLEMENT" % i
    return json.dumps(e, ensure_ascii=False).encode()


def variant(mutate):
    e = json.loads(json.dumps(GOOD))
    mutate(e)
    return json.dumps(e, ensure_ascii=False).encode()


def line(e, key, value):
    e["feedetail"][0][key] = value


CASES = [
    (good(0)[:57], "invalid JSON"),                                   # truncated
    (good(0)[:57] + b" \t ", "invalid JSON"),                       # truncated, blanks after
    (good(0)[:-1], "invalid JSON"),                                   # missing brace
    (b"[1,2,3]", "event is not a JSON object"),
    (b"42", "event is not a JSON object"),
    (b"null", "event is not a JSON object"),
    (variant(lambda e: e.pop("schema")), "schema: missing"),
    (variant(lambda e: e.update(schema="nhsa.claim.v2")), "schema: expected"),
    (variant(lambda e: e.pop("psn_no")), "psn_no: missing"),
    (variant(lambda e: e.update(psn_no=33010099)), "psn_no: not a string"),
    (variant(lambda e: e.update(med_type=11)), "med_type: not a string"),
    (variant(lambda e: e.update(event_type="REFUND")), "event_type: unknown event type"),
    (variant(lambda e: e.update(event_time="2024-03-05T09:59:06")), "event_time: ISO 8601"),
    (variant(lambda e: e.update(event_time="2024-02-30 10:00:00")), "event_time: date out of range"),
    (variant(lambda e: e.update(feedetail={"a": 1})), "feedetail: not an array"),
    (variant(lambda e: e.update(feedetail=[1])), "feedetail[0]: not an object"),
    (variant(lambda e: line(e, "pric", "12,5")), "feedetail[0].pric: not a decimal"),
    (variant(lambda e: line(e, "pric", [1])), "feedetail[0].pric: not a decimal"),
    (variant(lambda e: line(e, "cnt", "1.00001")), "feedetail[0].cnt: more than 4 decimals"),
    (variant(lambda e: line(e, "det_item_fee_sumamt", "1" * 40)),
     "feedetail[0].det_item_fee_sumamt: out of range"),
    (variant(lambda e: line(e, "det_item_fee_sumamt", 1e300)),
     "feedetail[0].det_item_fee_sumamt: out of range"),
    (variant(lambda e: line(e, "inscp_amt", 123456789012345678901234567890)),
     "feedetail[0].inscp_amt: out of range"),
    (variant(lambda e: line(e, "pric", "-1")), "feedetail[0].pric: negative"),
    (variant(lambda e: line(e, "cnt", "0")), "feedetail[0].cnt: zero"),
    (variant(lambda e: e["feedetail"][0].pop("hilist_code")), "feedetail[0].hilist_code: missing"),
    (b'{"schema":"nhsa.claim.v1","psn_no":"\xff\xfe"}', "invalid JSON"),   # bad UTF-8
    (b'{"schema":"nhsa.claim.v1","schema":"nhsa.claim.v1"}', "invalid JSON"),  # dup key
    (b"\x00\x01\x02 binary", "invalid JSON"),
]


def main():
    out, expect = sys.argv[1], sys.argv[2]
    huge = variant(lambda e: line(e, "hilist_name", "x" * (10 * 1024 * 1024)))
    cases = CASES + [(huge, "event too large")]
    with open(out, "wb") as f, open(expect, "w", encoding="utf-8") as x:
        for i, (raw, reason) in enumerate(cases):
            f.write(good(i + 1) + b"\n")
            f.write(raw + b"\n")
            x.write(reason + "\n")
        f.write(good(len(cases) + 1) + b"\n")


if __name__ == "__main__":
    main()
