import os
import sys
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from lib import *

# persons (26-digit psn_no)
M = Person('33010099000010000001689701', '1', '1968-04-12')
F = Person('33010099000010000001689702', '2', '1975-09-03')
F2 = Person('33010099000010000001689703', '2', '1992-11-17')
M2 = Person('33010099000010000001689704', '1', '1983-02-28')

C = []  # (rel, events, readme, args)


# Counters the replay summary must show for a case (expected_summary.txt).
SUMMARY = {}


def case(rel, events, readme, args=None, raw=None, summary=None):
    C.append((rel, events, readme, args, raw))
    if summary:
        SUMMARY[rel] = summary


# ---------------------------------------------------------------- duplicate_billing
K = '002503040010000'  # 钾测定, no cap / period; price list * 103.86
case('duplicate_billing/exact_fires', [
    event(M, H1, '2024-03-05 10:20:00', '11', [
        line(1, K, '20.00', '1', '2024-03-05 09:45:00'),
        line(2, K, '20.00', '1', '2024-03-05 09:45:30'),
    ])], '''
DUP-EXACT: two 钾测定 lines, same person/institution/code/price/cnt, fee_ocur_time
09:45:00 and 09:45:30 (same minute), feedetl_sn 1 and 2. The later-arrived line
(sn 2) violates, sn 1 is involved; vola_amt = sn 2's inscp_amt = 20.00. SUSPECT.
''')
case('duplicate_billing/exact_refund_near_miss', [
    event(M, H1, '2024-03-05 10:20:00', '11', [
        line(1, K, '20.00', '1', '2024-03-05 09:45:00'),
        line(2, K, '20.00', '1', '2024-03-05 09:45:30'),
        line(3, K, '20.00', '-1', '2024-03-05 10:10:00', init='2'),
    ])], '''
Near miss for DUP-EXACT: as exact_fires, but line 3 (cnt -1, init_feedetl_sn 2)
refunds line 2 in the same event. Refunds are netted before judging: line 2 is
cancelled (net 0) and never judged, so no alert. Expected output is empty.
''')
case('duplicate_billing/exact_refund_no_init_near_miss', [
    event(M, H1, '2024-03-05 10:20:00', '11', [
        line(1, K, '20.00', '1', '2024-03-05 09:45:00'),
        line(2, K, '20.00', '1', '2024-03-05 09:45:30'),
        line(3, K, '20.00', '-1', '2024-03-05 10:10:00'),
    ])], '''
Near miss for DUP-EXACT: the refund line 3 has no init_feedetl_sn, so it nets
against the most recent line with the same mdtrt_id, hilist_code and pric that
still has a positive quantity (line 2), cancelling it. No alert.
''')
case('duplicate_billing/exact_next_minute_near_miss', [
    event(M, H1, '2024-03-05 10:20:00', '11', [
        line(1, K, '20.00', '1', '2024-03-05 09:45:59'),
        line(2, K, '20.00', '1', '2024-03-05 09:46:00'),
    ])], '''
Near miss for DUP-EXACT: identical lines one second apart but in different
minutes (09:45:59 and 09:46:00). "Same minute" is the clock minute, so no alert.
''')

# DUP-PAIR day: row 1, 急诊监护费 (main) + 急诊诊查费 (sub)
MON, EXAM = '001103000010000', '001102000030000'   # 05 price 12.87; * 11.03
case('duplicate_billing/pair_day_fires', [
    event(F, H1, '2024-04-02 11:30:00', '13', [
        line(1, MON, '12.00', '1', '2024-04-02 08:30:00'),
        line(2, EXAM, '10.00', '1', '2024-04-02 08:40:00'),
    ])], '''
DUP-PAIR, window day (两库第七批 #1): 急诊监护费 001103000010000 (主项, sn 1) and
急诊诊查费 001102000030000 (从项, sn 2) on the same day at the same institution.
The 从项 line violates (vola_item_type 1), the 主项 is involved (2);
vola_amt = the 从项's inscp_amt = 10.00. DEFINITE.
''')
case('duplicate_billing/pair_day_reverse_order_fires', [
    event(F, H1, '2024-04-02 08:50:00', '13', [
        line(1, EXAM, '10.00', '1', '2024-04-02 08:40:00'),
    ]),
    event(F, H1, '2024-04-02 15:10:00', '13', [
        line(1, MON, '12.00', '1', '2024-04-02 14:00:00'),
    ])], '''
DUP-PAIR, reverse arrival: the 从项 急诊诊查费 arrives first (settlement 1, 08:40),
the 主项 急诊监护费 later the same day in settlement 2 (14:00). The 从项 line still
violates "whichever arrived first"; the alert names settlement 1's line sn 1
as type 1 and settlement 2's sn 1 as type 2. vola_amt = 10.00.
''')
case('duplicate_billing/pair_day_midnight_near_miss', [
    event(F, H1, '2024-04-03 00:20:00', '13', [
        line(1, MON, '12.00', '1', '2024-04-02 23:59:00'),
        line(2, EXAM, '10.00', '1', '2024-04-03 00:00:00'),
    ])], '''
Near miss for DUP-PAIR (day): 主项 at 2024-04-02 23:59:00, 从项 at 2024-04-03
00:00:00 (CST). One minute apart but on consecutive calendar days, so the 单日
window does not hold. No alert.
''')
case('duplicate_billing/pair_day_other_institution_near_miss', [
    event(F, H1, '2024-04-02 09:00:00', '13', [
        line(1, MON, '12.00', '1', '2024-04-02 08:30:00'),
    ]),
    event(F, H2, '2024-04-02 18:00:00', '13', [
        line(1, EXAM, '10.00', '1', '2024-04-02 17:40:00'),
    ])], '''
Near miss for DUP-PAIR (day): the 主项 at H33010000012 and the 从项 at
H33010600045 on the same day. The day window requires the same institution, so
no alert.
''')

DELIV, FHR = '003314000020000', '003112010260000'  # 单胎顺产接生 520.18, 胎心监测 210.17; row 788 6h; both female-only
case('duplicate_billing/pair_6h_fires', [
    event(F2, H1, '2024-05-11 10:00:00', '21', [
        line(1, DELIV, '500.00', '1', '2024-05-10 08:00:00'),
        line(2, FHR, '30.00', '1', '2024-05-10 13:59:00'),
    ])], '''
DUP-PAIR, window 6h (两库第七批 #788): 单胎顺产接生 (主项) at 08:00:00 and 胎心监测
(从项) at 13:59:00, same institution: |Δ| = 5h59m < 6h. The 从项 line (sn 2)
violates; vola_amt = its inscp_amt = 30.00. Patient is female (both items are
female-only in batch 1).
''')
case('duplicate_billing/pair_6h_exact_near_miss', [
    event(F2, H1, '2024-05-11 10:00:00', '21', [
        line(1, DELIV, '500.00', '1', '2024-05-10 08:00:00'),
        line(2, FHR, '30.00', '1', '2024-05-10 14:00:00'),
    ])], '''
Near miss for DUP-PAIR (6h): same as pair_6h_fires but the 从项 is at 14:00:00,
exactly 6 h after the 主项. The window is |Δ| < 6 h (strict), so no alert.
''')

CRAN_MULTI, CRAN = '003302010140000', '003302010150000'  # row 393 visit; 406.88 / 671.80
VIS = '330120240601080000000000550271'
case('duplicate_billing/pair_visit_fires', [
    event(M2, H3, '2024-06-03 17:00:00', '21', [
        line(1, CRAN, '600.00', '1', '2024-06-01 10:00:00'),
    ], mdtrt_id=VIS, begntime='2024-06-01 08:00:00'),
    event(M2, H3, '2024-06-08 16:00:00', '21', [
        line(2, CRAN_MULTI, '400.00', '1', '2024-06-05 09:00:00'),
    ], mdtrt_id=VIS, begntime='2024-06-01 08:00:00'),
], '''
DUP-PAIR, window visit (两库第七批 #393): 颅内血肿清除术 (从项) on 06-01 and
颅内多发血肿清除术 (主项) on 06-05 in two interim settlements of the same mdtrt_id.
单次就诊 ignores the calendar day. The earlier 从项 line violates; vola_amt =
its inscp_amt = 600.00.
''')
case('duplicate_billing/pair_visit_other_mdtrt_near_miss', [
    event(M2, H3, '2024-06-03 17:00:00', '21', [
        line(1, CRAN, '600.00', '1', '2024-06-01 10:00:00'),
    ], begntime='2024-06-01 08:00:00'),
    event(M2, H3, '2024-06-20 16:00:00', '21', [
        line(1, CRAN_MULTI, '400.00', '1', '2024-06-15 09:00:00'),
    ], begntime='2024-06-14 08:00:00'),
], '''
Near miss for DUP-PAIR (visit): the same two operations as pair_visit_fires,
same person and institution, but in two different stays (different mdtrt_id).
The visit window needs the same mdtrt_id, so no alert.
''')

CONS = '001102000050000'   # 住院诊查费 cap 1/day; 05 price 50.90
case('duplicate_billing/daily_cap_fires', [
    event(M, H1, '2024-03-06 17:00:00', '21', [
        line(1, CONS, '50.00', '2', '2024-03-06 09:00:00'),
    ], begntime='2024-03-01 08:00:00')], '''
DUP-DAILY-CAP (两库第八批-1 #2): 住院诊查费 max 1 per day, billed cnt 2 on one line.
total = 2, excess = min(cnt 2, 2 - 1) = 1; vola_amt = inscp_amt x excess / cnt
= 100.00 x 1 / 2 = 50.00.
''')
case('duplicate_billing/daily_cap_pro_rata_fires', [
    event(M, H1, '2024-03-06 17:00:00', '21', [
        line(1, CONS, '33.333333', '3', '2024-03-06 09:00:00', fee='100.00'),
    ], begntime='2024-03-01 08:00:00')], '''
DUP-DAILY-CAP, pro rata with truncation: one 住院诊查费 line, cnt 3, pric 33.333333,
fee and inscp_amt 100.00 (off by 0.000001, not a PRICE-ARITH case). excess =
min(3, 3 - 1) = 2; vola_amt = 10000 fen x 2 / 3 = 6666.67 -> 6666 fen = 66.66.
''')
case('duplicate_billing/daily_cap_second_line_fires', [
    event(M, H1, '2024-03-06 17:00:00', '21', [
        line(1, CONS, '50.00', '1', '2024-03-06 09:00:00'),
        line(2, CONS, '50.00', '1', '2024-03-06 15:00:00'),
    ], begntime='2024-03-01 08:00:00')], '''
DUP-DAILY-CAP across lines: line 1 cnt 1 (at the cap), line 2 cnt 1 the same day:
total 2, excess = min(1, 2 - 1) = 1, so line 2 violates (line 1 does not):
vola_amt = 5000 fen x 1 / 1 = 50.00.
''')
case('duplicate_billing/daily_cap_at_cap_near_miss', [
    event(M, H1, '2024-03-06 17:00:00', '21', [
        line(1, CONS, '50.00', '1', '2024-03-06 09:00:00'),
    ], begntime='2024-03-01 08:00:00')], '''
Near miss for DUP-DAILY-CAP: 住院诊查费 cnt 1 on the day, exactly max_cnt 1.
Only "exceeds" fires. No alert.
''')
case('duplicate_billing/daily_cap_refund_at_cap_near_miss', [
    event(M, H1, '2024-03-06 17:00:00', '21', [
        line(1, CONS, '50.00', '1', '2024-03-06 09:00:00'),
        line(2, CONS, '50.00', '1', '2024-03-06 15:00:00'),
        line(3, CONS, '50.00', '-1', '2024-03-06 16:30:00', init='2'),
    ], begntime='2024-03-01 08:00:00')], '''
Near miss for DUP-DAILY-CAP: two 住院诊查费 lines on one day, but line 3 refunds
line 2 (init_feedetl_sn 2) in the same event; net quantity 1 = cap. No alert.
''')
case('duplicate_billing/daily_cap_two_days_near_miss', [
    event(M, H1, '2024-03-07 10:00:00', '21', [
        line(1, CONS, '50.00', '1', '2024-03-06 23:59:00'),
        line(2, CONS, '50.00', '1', '2024-03-07 00:00:00'),
    ], begntime='2024-03-01 08:00:00')], '''
Near miss for DUP-DAILY-CAP: 住院诊查费 cnt 1 at 2024-03-06 23:59 and cnt 1 at
2024-03-07 00:00 (CST): one per calendar day, at the cap on each. No alert.
''')

HBA1C = '002503020030000'  # 糖化血红蛋白测定 1 per 15 days; * 38.12 until 2024-06-30
case('duplicate_billing/period_fires', [
    event(F, H1, '2024-03-01 11:00:00', '11', [
        line(1, HBA1C, '30.00', '1', '2024-03-01 10:00:00'),
    ]),
    event(F, H2, '2024-03-11 10:00:00', '11', [
        line(1, HBA1C, '30.00', '1', '2024-03-11 09:00:00'),
    ])], '''
DUP-PERIOD (两库第八批-4 #2): 糖化血红蛋白测定 at most 1 per 15 days, across
institutions. Tests at H33010000012 on 03-01 and H33010600045 on 03-11: the
second is 10 days after the first (< 15), so it violates and the first is
involved. vola_amt = second line's inscp_amt = 30.00.
''')
case('duplicate_billing/period_15_days_near_miss', [
    event(F, H1, '2024-03-01 17:00:00', '11', [
        line(1, HBA1C, '30.00', '1', '2024-03-01 16:00:00'),
    ]),
    event(F, H2, '2024-03-16 09:00:00', '11', [
        line(1, HBA1C, '30.00', '1', '2024-03-16 08:00:00'),
    ])], '''
Near miss for DUP-PERIOD: the second test is on 03-16, exactly 15 calendar days
after 03-01 (only 14 d 16 h in elapsed time: days are compared, not hours).
A line exactly period_days later does not fire. No alert.
''')

# ---------------------------------------------------------------- abnormal_pricing
AIDI = 'ZC01AAA0042010105549'  # 艾迪注射液, only restriction: 二级+ (H1 is 05)
case('abnormal_pricing/over_cap_fires', [
    event(M, H1, '2024-03-08 16:00:00', '21', [
        line(1, AIDI, '12.50', '2', '2024-03-08 09:00:00', uplmt='11.80'),
    ], begntime='2024-03-05 08:00:00')], '''
PRICE-OVER-CAP: pric 12.50 > pric_uplmt_amt 11.80, cnt 2, overlmt_amt 0.00
(excess (12.50-11.80) x 2 = 1.40 not moved to self-pay). vola_amt = inscp_amt x
(pric - cap) / pric = 2500 fen x 0.70 / 12.50 = 140 fen = 1.40.
''')
case('abnormal_pricing/over_cap_self_pay_near_miss', [
    event(M, H1, '2024-03-08 16:00:00', '21', [
        line(1, AIDI, '12.50', '2', '2024-03-08 09:00:00', uplmt='11.80', overlmt='1.40', inscp='23.60'),
        line(2, AIDI, '12.50', '2', '2024-03-08 21:00:00', uplmt='11.80', overlmt='1.39', inscp='23.61'),
    ], begntime='2024-03-05 08:00:00')], '''
Near miss for PRICE-OVER-CAP: pric 12.50 > cap 11.80, cnt 2, excess 1.40.
Line 1 moved it all to overlmt_amt (1.40); line 2 moved 1.39, short by exactly
0.01, which is not "more than 0.01". No alert.
''')
case('abnormal_pricing/arith_fires', [
    event(M, H1, '2024-03-08 16:00:00', '21', [
        line(1, AIDI, '12.50', '2', '2024-03-08 09:00:00', fee='25.02'),
    ], begntime='2024-03-05 08:00:00')], '''
PRICE-ARITH: pric 12.50 x cnt 2 = 25.00 but det_item_fee_sumamt 25.02: off by
0.02 > 0.01. vola_amt = min(inscp_amt 25.02, difference 0.02) = 0.02.
''')
case('abnormal_pricing/arith_one_fen_near_miss', [
    event(M, H1, '2024-03-08 16:00:00', '21', [
        line(1, AIDI, '12.50', '2', '2024-03-08 09:00:00', fee='25.01'),
        line(2, AIDI, '3.333333', '3', '2024-03-08 21:00:00', fee='10.00'),
    ], begntime='2024-03-05 08:00:00')], '''
Near miss for PRICE-ARITH: line 1 12.50 x 2 = 25.00 vs 25.01 (off by exactly
0.01); line 2 3.333333 x 3 = 9.999999 vs 10.00 (off by 0.000001). Neither is
more than 0.01. No alert.
''')
case('abnormal_pricing/over_list_fires', [
    event(F, H1, '2024-07-01 11:00:00', '11', [
        line(1, HBA1C, '35.00', '1', '2024-07-01 09:30:00', uplmt='38.12'),
    ])], '''
PRICE-OVER-LIST: 糖化血红蛋白测定 at 35.00 on 2024-07-01. The '*' row 38.12 ended
2024-06-30; the row from 2024-07-01 says 30.49. vola_amt = inscp x (pric -
max_pric) / pric = 3500 fen x 4.51 / 35.00 = 451 fen = 4.51.
''')
case('abnormal_pricing/over_list_old_row_near_miss', [
    event(F, H1, '2024-06-30 11:00:00', '11', [
        line(1, HBA1C, '35.00', '1', '2024-06-30 09:30:00', uplmt='38.12'),
    ])], '''
Near miss for PRICE-OVER-LIST: the same 35.00 on 2024-06-30, the last day of the
'*' row max_pric 38.12 (the 30.49 row starts 2024-07-01). 35.00 <= 38.12. No alert.
''')
case('abnormal_pricing/over_list_level_row_near_miss', [
    event(F, H3, '2024-04-02 11:30:00', '13', [
        line(1, MON, '15.50', '1', '2024-04-02 08:30:00'),
    ])], '''
Near miss for PRICE-OVER-LIST: 急诊监护费 at 15.50 at a hosp_lv 01 hospital. It is
above the '*' row (14.31) but the exact level-01 row (15.74) wins over '*'.
15.50 <= 15.74. No alert.
''')
case('abnormal_pricing/over_list_level_row_fires', [
    event(F, H4, '2024-04-02 11:30:00', '13', [
        line(1, MON, '12.00', '1', '2024-04-02 08:30:00'),
    ])], '''
PRICE-OVER-LIST via an exact level row: 急诊监护费 at 12.00 at a hosp_lv 08
hospital. Below '*' (14.31) but the level-08 row (10.73) wins. vola_amt =
1200 fen x (12.00 - 10.73) / 12.00 = 127 fen = 1.27.
''')

BASE_P = [Person('3301009900001000000170%04d' % i, '12'[i % 2], '19%02d-06-15' % (50 + i)) for i in range(1, 8)]
OUT_ARGS = '--set detectors.abnormal_pricing.outlier_min_samples=5'


def baseline(day, n, start=1):
    evs = []
    for i in range(n):
        p = BASE_P[i]
        h = (H1, H2)[i % 2]
        t = '%s %02d:00:00' % (day, 8 + i)
        evs.append(event(p, h, '%s %02d:30:00' % (day, 8 + i), '11', [
            line(1, AIDI, '10.00', '1', t, uplmt='40.00')]))
    return evs


HIGH = Person('33010099000010000001700099', '1', '1961-01-20')
case('abnormal_pricing/outlier_fires', baseline('2024-06-10', 5) + [
    event(HIGH, H2, '2024-06-12 10:30:00', '11', [
        line(1, AIDI, '32.00', '1', '2024-06-12 10:00:00', uplmt='40.00')])], '''
PRICE-OUTLIER (args: outlier_min_samples=5): five 艾迪注射液 lines at 10.00
settled on 06-10 (region 330100, 二级). 10.00 falls in bucket [9.437184,
10.485760), so the median is 10.485760; threshold = 300% = 31.457280. 32.00
settled on 06-12 fires: with the default lateness (1 day) the baseline of
06-12 is the complete days up to 06-10. vola_amt = 3200 fen x (32.00 -
31.457280) / 32.00 = 54.272 -> 54 fen = 0.54.
''', OUT_ARGS)
case('abnormal_pricing/outlier_below_threshold_near_miss', baseline('2024-06-10', 5) + [
    event(HIGH, H2, '2024-06-12 10:30:00', '11', [
        line(1, AIDI, '31.45', '1', '2024-06-12 10:00:00', uplmt='40.00')])], '''
Near miss for PRICE-OUTLIER: as outlier_fires, but the price is 31.45, just
below the threshold 31.457280 (3 x the bucket upper bound 10.485760, not 3 x
10.00 = 30.00). No alert.
''', OUT_ARGS)
case('abnormal_pricing/outlier_same_day_near_miss', baseline('2024-06-10', 5) + [
    event(HIGH, H2, '2024-06-10 18:30:00', '11', [
        line(1, AIDI, '32.00', '1', '2024-06-10 18:00:00', uplmt='40.00')])], '''
Near miss for PRICE-OUTLIER: the 32.00 line is settled on 06-10, the same day
as the five 10.00 observations. The baseline is complete earlier days only, so
it is empty for 06-10. No alert.
''', OUT_ARGS)
case('abnormal_pricing/outlier_few_samples_near_miss', baseline('2024-06-10', 4) + [
    event(HIGH, H2, '2024-06-12 10:30:00', '11', [
        line(1, AIDI, '32.00', '1', '2024-06-12 10:00:00', uplmt='40.00')])], '''
Near miss for PRICE-OUTLIER: only four 10.00 observations on 06-10, fewer than
outlier_min_samples=5, so 32.00 on 06-12 is not judged. No alert.
''', OUT_ARGS)
# ---------------------------------------------------------------- out_of_catalogue
case('out_of_catalogue/not_listed_fires', [
    event(M, H1, '2024-03-05 10:20:00', '11', [
        line(1, '002501010010000', '20.00', '1', '2024-03-05 09:45:00', name='血细胞分析'),
    ])], '''
CAT-NOT-LISTED: 002501010010000 (血细胞分析) is in no row of the example catalogue
and the line is fund-paid (inscp_amt 20.00). vola_amt = 20.00.
''')
YMC = 'ZD01BAY0323030202065'  # 益母草注射液, catalogue until 2024-06-30; female, maternity
MAT = Person('33010099000010000001689705', '2', '1994-07-08', '510')
case('out_of_catalogue/not_listed_expired_fires', [
    event(MAT, H1, '2024-07-01 16:00:00', '52', [
        line(1, YMC, '6.80', '2', '2024-07-01 09:00:00'),
    ], begntime='2024-06-29 08:00:00')], '''
CAT-NOT-LISTED at the end of a validity period: 益母草注射液 ZD01BAY0323030202065
is listed 2020-01-01..2024-06-30 only. Used on 2024-07-01 it is not listed.
vola_amt = inscp_amt 13.60 (6.80 x 2). Patient female, insutype 510, so the
drug's gender and maternity restrictions hold.
''')
case('out_of_catalogue/not_listed_last_day_near_miss', [
    event(MAT, H1, '2024-06-30 16:00:00', '52', [
        line(1, YMC, '6.80', '2', '2024-06-30 23:59:00'),
    ], begntime='2024-06-29 08:00:00')], '''
Near miss for CAT-NOT-LISTED: the same drug at 2024-06-30 23:59 CST, the last
day of its catalogue row (enddate inclusive). No alert.
''')
HEAT = '001107000010000'  # 病房取暖费 丙类, cap 1/day, 05 price 32.70
case('out_of_catalogue/self_pay_claimed_fires', [
    event(M, H1, '2024-01-16 10:00:00', '21', [
        line(1, HEAT, '30.00', '1', '2024-01-15 12:00:00'),
    ], begntime='2024-01-12 08:00:00')], '''
CAT-SELF-PAY-CLAIMED: 病房取暖费 chrgitm_lv 03 (丙类) with inscp_amt 30.00 > 0.
vola_amt = 30.00.
''')
case('out_of_catalogue/self_pay_not_claimed_near_miss', [
    event(M, H1, '2024-01-16 10:00:00', '21', [
        line(1, HEAT, '30.00', '1', '2024-01-15 12:00:00', inscp='0.00'),
    ], begntime='2024-01-12 08:00:00')], '''
Near miss for CAT-SELF-PAY-CLAIMED: the same 丙类 line with inscp_amt 0.00 (paid by
the patient). Not fund-paid, so not judged. No alert.
''')
AIFU = 'ZD03AAA0043010100166'  # 艾附暖宫丸 female only
case('out_of_catalogue/gender_fires', [
    event(M, P1, '2024-03-05 10:20:00', '41', [
        line(1, AIFU, '18.60', '2', '2024-03-05 10:20:00'),
    ])], '''
CAT-GENDER (两库第一批 #2): 艾附暖宫丸 is for women (gend 2) only; paid for a man
(gend 1) at a pharmacy. vola_amt = inscp_amt = 18.60 x 2 = 37.20.
''')
case('out_of_catalogue/gender_near_miss', [
    event(F, P1, '2024-03-05 10:20:00', '41', [
        line(1, AIFU, '18.60', '2', '2024-03-05 10:20:00'),
    ])], '''
Near miss for CAT-GENDER: the same 艾附暖宫丸 line as gender_fires, for a woman
(gend 2), the gender the drug is limited to. No alert.
''')
CHILD = 'ZA04CAE0023010100166'  # 儿童清肺口服液 child
K15 = Person('33010099000010000001689710', '1', '2009-05-20')
K14 = Person('33010099000010000001689711', '2', '2010-05-20')
K14b = Person('33010099000010000001689712', '1', '2009-05-21')
case('out_of_catalogue/age_child_fires', [
    event(K15, H1, '2024-05-20 10:20:00', '11', [
        line(1, CHILD, '24.50', '1', '2024-05-20 10:00:00'),
    ])], '''
CAT-AGE (child): 儿童清肺口服液 for a person born 2009-05-20, used on 2024-05-20,
their 15th birthday: age 15 > child_max_age 14. vola_amt = 24.50.
''')
case('out_of_catalogue/age_child_near_miss', [
    event(K14, H1, '2024-05-20 10:20:00', '11', [
        line(1, CHILD, '24.50', '1', '2024-05-20 10:00:00'),
    ]),
    event(K14b, H1, '2024-05-20 11:20:00', '11', [
        line(1, CHILD, '24.50', '1', '2024-05-20 11:00:00'),
    ])], '''
Near miss for CAT-AGE (child): on 2024-05-20 a person born 2010-05-20 (exactly
14 that day) and one born 2009-05-21 (turns 15 tomorrow, still 14). Both are
<= child_max_age 14. No alert.
''')
NB = '003112020020000'  # 新生儿测颅压, newborn; * 114.92
BABY = Person('33010099000010000001689720', '2', '2024-03-01')
case('out_of_catalogue/age_newborn_fires', [
    event(BABY, H1, '2024-03-31 10:00:00', '21', [
        line(1, NB, '100.00', '1', '2024-03-30 09:00:00'),
    ], begntime='2024-03-01 10:00:00')], '''
CAT-AGE (newborn): 新生儿测颅压 for a baby born 2024-03-01, done on 2024-03-30,
age 29 days > newborn_max_days 28. vola_amt = 100.00.
''')
case('out_of_catalogue/age_newborn_near_miss', [
    event(BABY, H1, '2024-03-31 10:00:00', '21', [
        line(1, NB, '100.00', '1', '2024-03-29 23:59:00'),
    ], begntime='2024-03-01 10:00:00')], '''
Near miss for CAT-AGE (newborn): the same item at 2024-03-29 23:59 CST, age 28
days = newborn_max_days. No alert.
''')
SCAR = 'ZH01AAB0066010100716'  # 疤痕止痒软化膏 work injury
WI = Person('33010099000010000001689730', '1', '1979-10-02', '310')
WI4 = Person('33010099000010000001689730', '1', '1979-10-02', '410')
case('out_of_catalogue/insutype_fires', [
    event(WI, H1, '2024-03-05 10:20:00', '11', [
        line(1, SCAR, '25.80', '2', '2024-03-05 10:00:00'),
    ])], '''
CAT-INSUTYPE (两库第三批 #1): 疤痕止痒软化膏 is paid only by work-injury insurance
(410); paid under insutype 310 (职工基本医疗保险). vola_amt = 25.80 x 2 = 51.60.
''')
case('out_of_catalogue/insutype_near_miss', [
    event(WI4, H1, '2024-03-05 10:20:00', '11', [
        line(1, SCAR, '25.80', '2', '2024-03-05 10:00:00'),
    ])], '''
Near miss for CAT-INSUTYPE: the same 疤痕止痒软化膏 line as insutype_fires, paid
under insutype 410 (工伤保险), one of work_injury_insutypes. No alert.
''')
FAT = 'XB05BAU012B002010102180'  # inpatient only, emergency_ok 0
AGNH = 'ZA07AAA0061010100166'    # 安宫牛黄丸 inpatient, emergency_ok 1
case('out_of_catalogue/care_setting_fires', [
    event(M, H1, '2024-03-05 10:20:00', '11', [
        line(1, FAT, '150.00', '1', '2024-03-05 10:00:00'),
    ])], '''
CAT-CARE-SETTING (两库第四批 #1): an inpatient-only fat-emulsion injection paid
under med_type 11 (普通门诊). vola_amt = 150.00.
''')
case('out_of_catalogue/care_setting_inpatient_near_miss', [
    event(M, H1, '2024-03-07 10:20:00', '21', [
        line(1, FAT, '150.00', '1', '2024-03-05 10:00:00'),
    ], begntime='2024-03-04 15:00:00')], '''
Near miss for CAT-CARE-SETTING: the same inpatient-only drug as care_setting_fires
under med_type 21 (普通住院), which is neither outpatient nor pharmacy. No alert.
''')
case('out_of_catalogue/care_setting_emergency_ok_near_miss', [
    event(M, H1, '2024-03-05 10:20:00', '13', [
        line(1, AGNH, '300.00', '1', '2024-03-05 10:00:00'),
    ])], '''
Near miss for CAT-CARE-SETTING: 安宫牛黄丸 is inpatient-only but emergency_ok = 1;
paid under med_type 13 (急诊). No alert.
''')
case('out_of_catalogue/care_setting_emergency_ok_outpatient_fires', [
    event(M, H1, '2024-03-05 10:20:00', '11', [
        line(1, AGNH, '300.00', '1', '2024-03-05 10:00:00'),
    ])], '''
CAT-CARE-SETTING: 安宫牛黄丸 (emergency_ok = 1) paid under med_type 11 (普通门诊,
not 急诊): the emergency exception does not cover it. vola_amt = 300.00.
''')
case('out_of_catalogue/hosp_level_fires', [
    event(M, H4, '2024-03-08 16:00:00', '21', [
        line(1, AIDI, '12.50', '2', '2024-03-08 09:00:00'),
    ], begntime='2024-03-05 08:00:00')], '''
CAT-HOSP-LEVEL (两库第五批 #1): 艾迪注射液 is paid only at 二级+ institutions; paid
at hosp_lv 08 (一级). vola_amt = 12.50 x 2 = 25.00.
''')
case('out_of_catalogue/hosp_level_near_miss', [
    event(M, H1, '2024-03-08 16:00:00', '21', [
        line(1, AIDI, '12.50', '2', '2024-03-08 09:00:00'),
    ], begntime='2024-03-05 08:00:00')], '''
Near miss for CAT-HOSP-LEVEL: the same 艾迪注射液 line as hosp_level_fires at
hosp_lv 05 (二级甲等, level 2 = min_level 2). No alert.
''')
OZ = 'XB01AXA223B004010180963'  # 14 days, scope course


def days(start, n, sn0=1):
    import datetime as dt
    d0 = dt.date.fromisoformat(start)
    return [line(sn0 + i, OZ, '28.50', '1', (d0 + dt.timedelta(days=i)).isoformat() + ' 09:00:00')
            for i in range(n)]


case('out_of_catalogue/course_fires', [
    event(M, H1, '2024-04-15 16:00:00', '21', days('2024-04-01', 15), begntime='2024-03-31 20:00:00')], '''
CAT-COURSE (两库第六批 #1): 奥扎格雷氨丁三醇 paid on at most 14 distinct days per
course. One inpatient settlement with one line a day 04-01..04-15: only the line
of 04-15 (sn 15, the 15th day) violates. vola_amt = 28.50.
''')
case('out_of_catalogue/course_14_days_near_miss', [
    event(M, H1, '2024-04-14 16:00:00', '21', days('2024-04-01', 14), begntime='2024-03-31 20:00:00')], '''
Near miss for CAT-COURSE: the same drug on 14 distinct days (04-01..04-14) =
max_days. No alert.
''')
case('out_of_catalogue/course_gap_reset_near_miss', [
    event(M, H1, '2024-04-10 16:00:00', '21', days('2024-04-01', 10), begntime='2024-03-31 20:00:00'),
    event(M, H2, '2024-05-19 16:00:00', '21', days('2024-05-10', 10), begntime='2024-05-09 20:00:00'),
], '''
Near miss for CAT-COURSE: 10 days (04-01..04-10) at one hospital, then 10 days
(05-10..05-19) at another. 04-10 -> 05-10 is 30 days = course_gap_days, which
starts a new course: 20 paid days but at most 10 per course. No alert.
''')
case('out_of_catalogue/course_gap_29_fires', [
    event(M, H1, '2024-04-10 16:00:00', '21', days('2024-04-01', 10), begntime='2024-03-31 20:00:00'),
    event(M, H2, '2024-05-13 16:00:00', '21', days('2024-05-09', 5), begntime='2024-05-08 20:00:00'),
], '''
CAT-COURSE across a 29-day gap and two institutions: 04-01..04-10 at
H33010000012, then 05-09..05-13 at H33010600045. 04-10 -> 05-09 is 29 days (<
course_gap_days 30), so it is one course; 05-13 is its 15th day and violates
(second settlement, sn 5). vola_amt = 28.50.
''')

# ---------------------------------------------------------------- core
g = event(M, P1, '2024-03-05 10:20:00', '41', [line(1, AIFU, '18.60', '2', '2024-03-05 10:20:00')])
case('core/idempotency', [g, g], '''
The same event (CAT-GENDER: 艾附暖宫丸 for a man) delivered twice with the same
event_id. The second copy is skipped as a whole (duplicates=1): exactly one
alert, vola_amt 37.20.
''')
case('core/refund_unmatched', [
    event(M, H1, '2024-03-06 17:00:00', '21', [
        line(1, CONS, '50.00', '1', '2024-03-06 09:00:00'),
        line(2, CONS, '50.00', '-1', '2024-03-06 16:00:00', init='9'),
    ], begntime='2024-03-01 08:00:00')], '''
A refund line (cnt -1) whose init_feedetl_sn 9 names no line of the visit. It is
counted (refunds=1, refunds_unmatched=1) and does nothing else: not judged, no
alert.
''', summary=['refunds=1', 'refunds_unmatched=1', 'alerts=0'])
case('core/refund_unmatched_keeps_target', [
    event(M, H1, '2024-03-06 17:00:00', '21', [
        line(1, CONS, '50.00', '1', '2024-03-06 09:00:00'),
        line(2, CONS, '50.00', '-1', '2024-03-06 16:00:00', init='9'),
    ], begntime='2024-03-01 08:00:00'),
    event(M, H1, '2024-03-06 20:00:00', '21', [
        line(3, CONS, '50.00', '1', '2024-03-06 19:00:00'),
    ], begntime='2024-03-01 08:00:00'),
], '''
The unmatched refund (init_feedetl_sn 9) must not fall back to cancelling line 1
(same code and price). A second 住院诊查费 the same day then makes 2 > cap 1:
DUP-DAILY-CAP on it, excess min(1, 2-1) = 1, vola_amt = 5000 x 1/1 = 50.00.
''')

# fix: keep one stay for the refund case
C[-1] = ('core/refund_unmatched_keeps_target', [
    event(M, H1, '2024-03-06 17:00:00', '21', [
        line(1, CONS, '50.00', '1', '2024-03-06 09:00:00'),
        line(2, CONS, '50.00', '-1', '2024-03-06 16:00:00', init='9'),
    ], mdtrt_id='330120240301080000000000771234', begntime='2024-03-01 08:00:00'),
    event(M, H1, '2024-03-06 20:00:00', '21', [
        line(3, CONS, '50.00', '1', '2024-03-06 19:00:00'),
    ], mdtrt_id='330120240301080000000000771234', begntime='2024-03-01 08:00:00'),
], C[-1][2], None, None)

import copy, json as _j
good = event(M, P1, '2024-03-05 10:20:00', '41', [line(1, AIFU, '18.60', '2', '2024-03-05 10:20:00')])
def bad(mut):
    e = event(F, H1, '2024-03-05 10:20:00', '11', [
        line(1, K, '20.00', '1', '2024-03-05 10:00:00'),
        line(2, HBA1C, '30.00', '1', '2024-03-05 10:01:00')])
    mut(e)
    return e
b_schema = bad(lambda e: e.__setitem__('schema', 'nhsa.claim.v0'))
b_psn = bad(lambda e: e.pop('psn_no'))
b_pric = bad(lambda e: e['feedetail'][1].__setitem__('pric', '30.OO'))
b_gend = bad(lambda e: e.__setitem__('gend', 2))
b_json = _j.dumps(bad(lambda e: None), ensure_ascii=False, separators=(',', ':'))[:160]  # truncated
case('core/malformed_quarantine', None, '''
Seven input lines: invalid JSON (an event cut off after 160 bytes), wrong schema
(nhsa.claim.v0), a blank line (skipped and counted, not quarantined), the one
valid event (CAT-GENDER, 艾附暖宫丸 for a man, vola_amt 37.20), missing psn_no,
feedetail[1].pric "30.OO" (letters O), gend as a JSON number. The five bad lines
are quarantined with the reasons in expected_dlq.txt and the valid one alerts.
''', raw=[b_json, b_schema, '', good, b_psn, b_pric, b_gend])

# ---------------------------------------------------------------- extra cases
CPT, ABPM = '003102070040000', '003107010210000'  # row 291 1h; 112.20 / 116.97
case('duplicate_billing/pair_1h_fires', [
    event(M2, H1, '2024-05-06 11:30:00', '11', [
        line(1, CPT, '100.00', '1', '2024-05-06 10:05:00'),
        line(2, ABPM, '80.00', '1', '2024-05-06 10:55:00'),
    ])], '''
DUP-PAIR, window 1h (两库第七批 #291): 冷加压试验 (主项) at 10:05 and 动态血压监测
(从项) at 10:55, same clock hour, same institution. The 从项 (sn 2) violates;
vola_amt = its inscp_amt = 80.00.
''')
case('duplicate_billing/pair_1h_next_hour_near_miss', [
    event(M2, H1, '2024-05-06 11:30:00', '11', [
        line(1, CPT, '100.00', '1', '2024-05-06 10:55:00'),
        line(2, ABPM, '80.00', '1', '2024-05-06 11:05:00'),
    ])], '''
Near miss for DUP-PAIR (1h): 冷加压试验 at 10:55, 动态血压监测 at 11:05: ten
minutes apart but in different clock hours (同一小时 = the same clock hour). No alert.
''')
case('duplicate_billing/pair_day_utc_offset_near_miss', [
    event(F, H1, '2024-04-03 00:30:00', '13', [
        line(1, MON, '12.00', '1', '2024-04-02T23:30:00+08:00'),
        line(2, EXAM, '10.00', '1', '2024-04-02T16:10:00Z'),
    ], begntime='2024-04-02 23:20:00')], '''
Near miss for DUP-PAIR (day) with ISO 8601 times: 主项 at 2024-04-02T23:30+08:00,
从项 at 2024-04-02T16:10Z = 2024-04-03 00:10 CST. Both are 2024-04-02 in UTC but
the day is the CST calendar day, so they are on different days. No alert.
''')
case('duplicate_billing/exact_partial_refund_near_miss', [
    event(M, H1, '2024-03-05 10:20:00', '11', [
        line(1, K, '20.00', '2', '2024-03-05 09:45:00'),
        line(2, K, '20.00', '2', '2024-03-05 09:45:30'),
        line(3, K, '20.00', '-1', '2024-03-05 10:10:00', init='2'),
    ])], '''
Near miss for DUP-EXACT: two identical cnt-2 lines in one minute, but line 3
refunds one unit of line 2 (net 1, not cancelled). DUP-EXACT needs that neither
line was touched by a refund, so no alert (and line 2 is not cancelled).
''')
OT = '003402000320000'  # 职业功能训练 over_working_age; course 90; * 105.68
W60 = Person('33010099000010000001689740', '1', '1964-03-12')
W59 = Person('33010099000010000001689741', '2', '1964-03-13')
case('out_of_catalogue/age_over_working_age_fires', [
    event(W60, H1, '2024-03-12 11:00:00', '11', [
        line(1, OT, '90.00', '1', '2024-03-12 10:00:00'),
    ])], '''
CAT-AGE (over_working_age, 两库第八批-2 #1): 职业功能训练 is not paid at or past
retirement_age 60. Person born 1964-03-12, treated 2024-03-12 (60th birthday):
age 60 >= 60. vola_amt = 90.00.
''')
case('out_of_catalogue/age_over_working_age_near_miss', [
    event(W59, H1, '2024-03-12 11:00:00', '11', [
        line(1, OT, '90.00', '1', '2024-03-12 10:00:00'),
    ])], '''
Near miss for CAT-AGE (over_working_age): born 1964-03-13, treated 2024-03-12,
one day before turning 60: age 59 < 60. No alert.
''')
GK = 'ZA12HAY0771010101463'  # 银杏二萜内酯葡胺注射液 14 days, scope stay; 二级+


def gdays(start, n, sn0=1):
    import datetime as dt
    d0 = dt.date.fromisoformat(start)
    return [line(sn0 + i, GK, '45.00', '1', (d0 + dt.timedelta(days=i)).isoformat() + ' 09:00:00')
            for i in range(n)]


case('out_of_catalogue/course_stay_fires', [
    event(M2, H1, '2024-04-10 16:00:00', '21', gdays('2024-04-01', 10),
          mdtrt_id='330120240331200000000000660017', begntime='2024-03-31 20:00:00'),
    event(M2, H1, '2024-04-15 16:00:00', '21', gdays('2024-04-11', 5, 11),
          mdtrt_id='330120240331200000000000660017', begntime='2024-03-31 20:00:00'),
], '''
CAT-COURSE, scope stay (两库第六批 #14): 银杏二萜内酯葡胺注射液 at most 14 days per
mdtrt_id. Two interim settlements of one stay, 04-01..04-10 and 04-11..04-15:
04-15 (second settlement, sn 15) is the stay's 15th day. vola_amt = 45.00.
''')
case('out_of_catalogue/course_stay_new_mdtrt_near_miss', [
    event(M2, H1, '2024-04-10 16:00:00', '21', gdays('2024-04-01', 10), begntime='2024-03-31 20:00:00'),
    event(M2, H2, '2024-04-15 16:00:00', '21', gdays('2024-04-11', 5), begntime='2024-04-11 08:00:00'),
], '''
Near miss for CAT-COURSE (scope stay): the same 15 consecutive days, but days
11-15 are a new stay (another mdtrt_id, at another hospital). Scope stay counts
the days of one mdtrt_id only: 10 and 5. No alert.
''')
SCAR_NEW = 'ZH01AAB0066010109999'
case('out_of_catalogue/not_listed_prefix_near_miss', [
    event(WI4, H1, '2024-03-05 10:20:00', '11', [
        line(1, SCAR_NEW, '25.80', '2', '2024-03-05 10:00:00', name='疤痕止痒软化膏'),
    ])], '''
Near miss for CAT-NOT-LISTED: ZH01AAB0066010109999 (a maker code not in any
exact row) is listed by the catalogue's prefix row ZH01AAB00660 (match=prefix,
first 12 characters). Paid under insutype 410. No alert.
''')

# ------------------------------------------------ re-sent line (regression)
RESENT = '330120240301080000000000775555'
case('core/resent_line_supersedes', [
    event(M, H1, '2024-03-06 17:00:00', '21', [
        line(1, CONS, '50.00', '1', '2024-03-06 09:00:00'),
    ], mdtrt_id=RESENT, begntime='2024-03-01 08:00:00'),
    dict(event(M, H1, '2024-03-06 18:00:00', '21', [
        line(1, CONS, '50.00', '1', '2024-03-06 09:00:00'),
    ], mdtrt_id=RESENT, begntime='2024-03-01 08:00:00')),
], '''
The same fee line (same institution, mdtrt_id and feedetl_sn 1) arrives again in a
second settlement of the visit (a re-settlement). The later copy supersedes the
earlier one instead of adding to it: one 住院诊查费 that day, at the cap of 1, so no
DUP-DAILY-CAP (before the fix it fired, counting the line twice).
''')

# ------------------------------- back-dated lines of one event (regression)
case('duplicate_billing/exact_refund_backdated_near_miss', [
    event(M, H1, '2024-03-10 10:20:00', '21', [
        line(1, K, '20.00', '1', '2024-03-05 09:45:00'),
        line(2, K, '20.00', '1', '2024-03-05 09:45:30'),
        line(3, K, '20.00', '-1', '2024-03-05 10:10:00', init='2'),
    ], begntime='2024-03-04 08:00:00')], '''
Regression: an inpatient settlement on 03-10 carries lines dated 03-05, five
days before the event, more than the 1-day lateness. Line 3 refunds line 2 in
the same event, so line 2 is cancelled and DUP-EXACT must not fire. Before the
fix, lines of the event itself counted as already expired (their retention ran
from fee_ocur_time), the refund found no target and DUP-EXACT fired.
''')


# Added later: at the end, so that the generated ids of the cases above
# (a running counter) stay as they were.
case('abnormal_pricing/outlier_next_day_near_miss', baseline('2024-06-10', 5) + [
    event(HIGH, H2, '2024-06-11 10:30:00', '11', [
        line(1, AIDI, '32.00', '1', '2024-06-11 10:00:00', uplmt='40.00')])], '''
Near miss for PRICE-OUTLIER: the 32.00 line is settled on 06-11. With the
default lateness of one day, 06-10 may still receive events (from a lagging
partition) while 06-11 is judged, so it is not yet complete: the baseline of
06-11 ends on 06-09 and is empty. No alert (outlier_fires is 06-12).
''', OUT_ARGS)
case('abnormal_pricing/outlier_event_day_not_fee_day', [
    event(p, (H1, H2)[i % 2], '2024-06-10 %02d:30:00' % (8 + i), '11', [
        line(1, AIDI, '10.00', '1', '2024-06-01 %02d:00:00' % (8 + i), uplmt='40.00')])
    for i, p in enumerate(BASE_P[:5])] + [
    event(HIGH, H2, '2024-06-11 10:30:00', '11', [
        line(1, AIDI, '32.00', '1', '2024-06-11 10:00:00', uplmt='40.00')]),
    event(HIGH, H2, '2024-06-12 10:30:00', '11', [
        line(2, AIDI, '32.00', '1', '2024-06-12 10:00:00', uplmt='40.00')])], '''
PRICE-OUTLIER keys observations by settlement (event) day, not by fee day:
five 10.00 lines dated 06-01 but settled on 06-10 belong to 06-10. The 32.00
line settled on 06-11 is not judged against them (its baseline ends on 06-09;
keyed by fee day it would have held all five); the 32.00 line settled on
06-12 fires (vola_amt 0.54). Judging by event day is what makes a day's
statistics complete once the slowest partition is a lateness past it.
''', OUT_ARGS)


# Settlement revocations (SETTLEMENT_REVOKE, 2208/2305).
_a = event(M, H1, '2024-05-06 10:00:00', '11', [line(1, K, '20.00', '1', '2024-05-06 09:45:00')])
_b = event(M, H1, '2024-05-06 10:05:00', '11', [line(1, K, '20.00', '1', '2024-05-06 09:45:20')])
case('core/revoke_retracts_duplicate', [_a, _b, revoke(_b, '2024-05-06 16:00:00')], '''
A revoke after a duplicate retracts it: settlements A and B each bill 钾测定 at
09:45 (DUP-EXACT on B's line, A's involved). B is revoked at 16:00: the
DUP-EXACT alert is published again as alert_type RETRACT with the same jr_id,
the same rule, amount and violating line, and the revocation's event id and
time.
''', summary=['revokes=1', 'revokes_unmatched=0', 'revoked_lines=1', 'retracts=1'])
_a = event(M, H1, '2024-05-07 10:00:00', '11', [line(1, K, '20.00', '1', '2024-05-07 09:45:00')])
_b = event(M, H1, '2024-05-07 10:05:00', '11', [line(1, K, '20.00', '1', '2024-05-07 09:45:20')])
case('core/revoke_involved_settlement_retracts', [_a, _b, revoke(_a, '2024-05-07 16:00:00')], '''
A revoke of the settlement holding the *involved* line (A, the first of the
duplicate pair) also withdraws the DUP-EXACT alert raised on B's line: the
duplicate no longer exists. One ALERT, then one RETRACT with its jr_id.
''', summary=['revokes=1', 'revokes_unmatched=0', 'revoked_lines=1', 'retracts=1'])
_a = event(F, H1, '2024-05-08 08:50:00', '13', [line(1, MON, '12.00', '1', '2024-05-08 08:30:00')])
case('core/revoke_before_pair_prevents_alert', [
    _a, revoke(_a, '2024-05-08 09:30:00'),
    event(F, H1, '2024-05-08 15:10:00', '13', [line(1, EXAM, '10.00', '1', '2024-05-08 14:00:00')]),
], '''
A revoke before the second line of a pair prevents the pair alert: 急诊监护费 is
settled and then revoked; 急诊诊查费 the same day no longer has a 主项 to pair
with (the revoked line is out of every window). No alert (without the revoke,
pair_day_reverse_order_fires shows DUP-PAIR firing).
''', summary=['revokes=1', 'revoked_lines=1', 'retracts=0', 'alerts=0'])
_ghost = event(M2, H1, '2024-05-09 10:00:00', '11', [line(1, K, '20.00', '1', '2024-05-09 09:00:00')])
case('core/revoke_unknown_settlement', [
    revoke(_ghost, '2024-05-09 11:00:00'),
    event(M2, H1, '2024-05-09 12:00:00', '11', [
        line(1, K, '20.00', '1', '2024-05-09 11:45:00'),
        line(2, K, '20.00', '1', '2024-05-09 11:45:30')]),
], '''
A revoke of a settlement never seen (the settlement itself is not in the
input) is counted (revokes_unmatched=1 in the summary) and does no harm: the
later duplicate in another settlement still raises DUP-EXACT, and nothing is
retracted.
''', summary=['revokes=1', 'revokes_unmatched=1', 'revoked_lines=0', 'retracts=0', 'alerts=1'])
