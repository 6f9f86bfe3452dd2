#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Rewrites the events.jsonl (and README, args, expected_summary.txt) of every golden case from
cases.py. Expected alerts are NOT regenerated here: bless a changed case with
tests/golden/bless.sh and review the diff by hand."""
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cases  # noqa: E402
from lib import write_case  # noqa: E402

for rel, evs, readme, args, raw in cases.C:
    d = write_case(rel, evs, readme, args, raw)
    sp = os.path.join(d, 'expected_summary.txt')
    if rel in cases.SUMMARY:
        with open(sp, 'w') as f:
            f.write('\n'.join(cases.SUMMARY[rel]) + '\n')
    elif os.path.exists(sp):
        os.remove(sp)
    print(rel)
