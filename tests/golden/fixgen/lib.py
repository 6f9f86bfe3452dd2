"""Builder for the nhsa.claim.v1 golden fixtures under tests/fixtures (see build.py)."""
import csv, json, os, datetime
from decimal import Decimal

ROOT = os.path.abspath(os.path.join(os.path.dirname(__file__), '..', '..', '..'))
OUT = os.path.join(ROOT, 'tests/fixtures')

CAT = {}
for r in csv.DictReader(open(os.path.join(ROOT, 'config/reference/catalogue.example.csv'), encoding='utf-8')):
    CAT.setdefault(r['hilist_code'], []).append(r)
PRICE = {}
for r in csv.DictReader(open(os.path.join(ROOT, 'config/reference/price_list.example.csv'), encoding='utf-8')):
    PRICE.setdefault(r['hilist_code'], []).append(r)


def cat_row(code, day):
    for r in CAT.get(code, []):
        if r['begndate'] <= day and (r['enddate'] == '' or day <= r['enddate']):
            return r
    for r in CAT.get(code[:12], []):
        if r['match'] == 'prefix' and r['begndate'] <= day and (r['enddate'] == '' or day <= r['enddate']):
            return r
    return None


def list_price(code, lv, day):
    best = None
    for r in PRICE.get(code, []):
        if r['begndate'] <= day and (r['enddate'] == '' or day <= r['enddate']):
            if r['hosp_lv'] == lv:
                return Decimal(r['max_pric'])
            if r['hosp_lv'] == '*':
                best = Decimal(r['max_pric'])
    return best


class Person:
    def __init__(self, psn_no, gend, brdy, insutype='310'):
        self.psn_no, self.gend, self.brdy, self.insutype = psn_no, gend, brdy, insutype


class Inst:
    def __init__(self, code, hosp_lv, admvs='330100'):
        self.code, self.hosp_lv, self.admvs = code, hosp_lv, admvs


H1 = Inst('H33010000012', '05')        # 二级甲等 general hospital
H2 = Inst('H33010600045', '05')
H3 = Inst('H33010200003', '01')        # 三级甲等
H4 = Inst('H33010800127', '08')        # 一级
P1 = Inst('P33010000003', '11')        # retail pharmacy (无等级)

_seq = [0]


def ids(ts):
    _seq[0] += 1
    d = ts.replace('-', '').replace(' ', '').replace(':', '')
    return ('3301' + d + '%012d' % (880000 + _seq[0] * 7),
            '3301' + d + '%012d' % (550000 + _seq[0] * 13))


def fmt(d, places):
    q = Decimal(1).scaleb(-places)
    v = Decimal(d).quantize(q)
    assert v == Decimal(d), (d, places)
    return str(v)


def line(sn, code, pric, cnt, t, **kw):
    """One fee line. kw may override any field; special keys:
    fee= (det_item_fee_sumamt, default pric*cnt), inscp=, uplmt=, overlmt=, init=."""
    pric, cnt = Decimal(pric), Decimal(cnt)
    day = t[:10]
    cr = cat_row(code, day) or (CAT.get(code) or [None])[-1]
    fee = kw.pop('fee', None)
    if fee is None:
        fee = pric * cnt
    fee = Decimal(fee)
    inscp = Decimal(kw.pop('inscp', fee))
    uplmt = Decimal(kw.pop('uplmt', pric))
    overlmt = Decimal(kw.pop('overlmt', '0'))
    d = {
        'feedetl_sn': str(sn),
        'init_feedetl_sn': kw.pop('init', None),
        'fee_ocur_time': t,
        'hilist_code': code,
        'hilist_name': kw.pop('name', cr['hilist_name'] if cr else '未知项目'),
        'list_type': cr['list_type'] if cr else ('101' if code[0] in 'XZ' else '201'),
        'chrgitm_lv': cr['chrgitm_lv'] if cr else '02',
        'pric': fmt(pric, 6),
        'cnt': fmt(cnt, 4),
        'det_item_fee_sumamt': fmt(fee, 2),
        'pric_uplmt_amt': fmt(uplmt, 6),
        'inscp_amt': fmt(inscp, 2),
        'overlmt_amt': fmt(overlmt, 2),
        'bilg_dept_codg': 'A03',
        'bilg_dr_codg': 'D330100123',
    }
    for k, v in kw.items():
        if v is DROP:
            d.pop(k, None)
        else:
            d[k] = v
    return d


DROP = object()


def iso(ts):
    return ts.replace(' ', 'T') + '+08:00'


def revoke(settlement, revoke_time):
    """A SETTLEMENT_REVOKE (2208/2305) withdrawing an earlier event()."""
    return {
        'schema': 'nhsa.claim.v1',
        'event_id': '%s:%s:SETTLEMENT_REVOKE' % (settlement['fixmedins_code'],
                                                 settlement['setl_id']),
        'event_type': 'SETTLEMENT_REVOKE',
        'event_time': iso(revoke_time),
        'fixmedins_code': settlement['fixmedins_code'],
        'psn_no': settlement['psn_no'],
        'setl_id': settlement['setl_id'],
        'mdtrt_id': settlement['mdtrt_id'],
    }


def event(person, inst, setl_time, med_type, lines, mdtrt_id=None, begntime=None, **kw):
    setl_id, mdtrt = ids(setl_time)
    mdtrt_id = mdtrt_id or mdtrt
    fee = sum(Decimal(l['det_item_fee_sumamt']) for l in lines)
    inscp = sum(Decimal(l['inscp_amt']) for l in lines)
    e = {
        'schema': 'nhsa.claim.v1',
        'event_id': '%s:%s:SETTLEMENT' % (inst.code, setl_id),
        'event_type': 'SETTLEMENT',
        'event_time': iso(setl_time),
        'fixmedins_code': inst.code,
        'hosp_lv': inst.hosp_lv,
        'mdtrtarea_admvs': inst.admvs,
        'setl_id': setl_id,
        'init_setl_id': None,
        'mdtrt_id': mdtrt_id,
        'psn_no': person.psn_no,
        'gend': person.gend,
        'brdy': person.brdy,
        'insutype': person.insutype,
        'med_type': med_type,
        'begntime': begntime or min(l['fee_ocur_time'] for l in lines),
        'endtime': setl_time if med_type.startswith('2') else None,
        'setl_time': setl_time,
        'medfee_sumamt': fmt(fee, 2),
        'inscp_scp_amt': fmt(inscp, 2),
        'feedetail': lines,
    }
    for k, v in kw.items():
        if v is DROP:
            e.pop(k, None)
        else:
            e[k] = v
    return e


def write_case(rel, events, readme, args=None, raw_lines=None):
    d = os.path.join(OUT, rel)
    os.makedirs(d, exist_ok=True)
    with open(os.path.join(d, 'events.jsonl'), 'w', encoding='utf-8') as f:
        if raw_lines is not None:
            for x in raw_lines:
                f.write((x if isinstance(x, str) else json.dumps(x, ensure_ascii=False, separators=(',', ':'))) + '\n')
        else:
            for e in events:
                f.write(json.dumps(e, ensure_ascii=False, separators=(',', ':')) + '\n')
    with open(os.path.join(d, 'README'), 'w', encoding='utf-8') as f:
        f.write(readme.strip() + '\n')
    ap = os.path.join(d, 'args')
    if args:
        with open(ap, 'w') as f:
            f.write(args + '\n')
    elif os.path.exists(ap):
        os.remove(ap)
    return d
