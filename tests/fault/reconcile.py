#!/usr/bin/env python3
# SPDX-License-Identifier: Apache-2.0
"""Helpers of the fault campaign (tests/fault/campaign.sh), stdlib only.

  reconcile.py prepare SEED STREAM WAVES STEPS DIR [--offsetfetch-notcoord]
      From the generated STREAM (good events, in order) and SEED, write into
      DIR: wave.K.keyed (K = 1..WAVES: the stream cut into waves of
      uneven size, with poison messages mixed in at seeded positions),
      burst.K.keyed (one per poison step of the plan: 2 to 8 poison
      messages each), every message "key<TAB>value" for
      `kcat -P -K '\\t'`; poison.raw (every
      poison value, one per line, for the replay's reasons); poison.tsv
      ("origin<TAB>hex": wave.K or burst.K); plan (STEPS fault steps, see
      below). Each poison value is distinct, so each can be traced.
      Some poison messages are a real event spoiled (bad amount, wrong
      schema...) that keeps its event_id and goes out before that event, in
      the same partition: quarantining it must not make the daemon take the
      real event for a duplicate.

      plan lines: "GAP_MS KIND ARGS": sleep GAP_MS (places the fault in
      time), then one of
        kill DELAY_MS BATCH_SIZE      kill -9 after DELAY_MS; restart
        redis OUTAGE_MS none|hup|kill  SIGTERM redis-server, keep it down
                                      OUTAGE_MS (meanwhile SIGHUP or kill -9
                                      + restart the daemon), restart it
        broker API:COUNT:CODE,...     push request errors to the devbroker
        hup ok|broken:HOW             SIGHUP with the config as it is (a
                                      valid reload), or made invalid (HOW:
                                      syntax, unknown-key, no-pack): the
                                      reload must be refused, the daemon
                                      keep running; then restored
        poison                        produce the next poison burst

  reconcile.py check DIR REDIS_PORT [--outlier-lenient] [--strict-reasons]
      DIR holds: stream.jsonl, poison.tsv, produced.log ("wave K" / "burst
      K" per produce), claims.dump (kcat '%p\\t%o\\t%k\\t%s'), dlq.dump
      ('%k\\t%h\\t%s'), alerts.tsv ('%k\\t%s'), committed.tsv (partition,
      committed offset of the daemon's group), replay.jsonl (canonical
      replay of the good events), poison.dlq (the replay's dead letters of
      poison.raw), faults.log (one line per fault injected, kind first).
      Checks, each a violation when broken:
        - the claims topic holds exactly what was produced, every partition
          from offset 0 without gaps (the mock broker dropped nothing);
        - the group committed every partition up to its end;
        - every good event is processed: its event_id is in the daemon's
          Redis seen-set of its person (fg:live:E:{psn_no}), which is
          written in the same MULTI/EXEC as the event's state;
        - every poison message is in the dead-letter topic with its key,
          its raw bytes, fg.reason equal to the replay's reason for the same
          bytes, and fg.source.* naming where it is in claims; nothing else
          is there (a payload ending in a blank may get another reason: the
          replay trims trailing blanks, the daemon does not; listed as
          KNOWN, a violation with --strict-reasons);
        - every alert is keyed by its fixmedins_code, says replay=false and
          names in source the claims message of its event;
        - no jr_id is delivered with two different contents (replay,
          source and detected_at aside);
        - the alert set equals the replay's, jr_id by jr_id.
      Prints the counts; exits 1 on any violation.
"""
import base64
import collections
import json
import os
import random
import re
import socket
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "integration"))
import fgit  # noqa: E402  (the alert comparison is the integration tests')



# ---------------------------------------------------------------- prepare

def _spoil(ev, how, rng):
    """A copy of event ev (a dict) made invalid in one way."""
    e = json.loads(json.dumps(ev))
    line = e["feedetail"][rng.randrange(len(e["feedetail"]))] if e.get("feedetail") else None
    if how == "schema":
        e["schema"] = "nhsa.claim.v2"
    elif how == "no_schema":
        del e["schema"]
    elif how == "no_psn":
        del e["psn_no"]
    elif how == "psn_number":
        e["psn_no"] = 33010099
    elif how == "event_time":
        e["event_time"] = "yesterday"
    elif how == "event_type":
        e["event_type"] = "REFUND_OF_SORTS"
    elif how == "feedetail_obj":
        e["feedetail"] = {"a": 1}
    elif how == "amount_decimals":
        line["det_item_fee_sumamt"] = "12.345"
    elif how == "amount_huge":
        line["det_item_fee_sumamt"] = "1" * 40
    elif how == "amount_float":
        line["inscp_amt"] = 1e300
    elif how == "pric_negative":
        line["pric"] = "-1"
    elif how == "pric_comma":
        line["pric"] = "12,5"
    elif how == "cnt_zero":
        line["cnt"] = "0"
    elif how == "cnt_text":
        line["cnt"] = "abc"
    elif how == "no_hilist":
        del line["hilist_code"]
    else:
        raise ValueError(how)
    return json.dumps(e, ensure_ascii=False).encode()


SPOIL = ["schema", "no_schema", "no_psn", "psn_number", "event_time", "event_type",
         "feedetail_obj", "amount_decimals", "amount_huge", "amount_float", "pric_negative",
         "pric_comma", "cnt_zero", "cnt_text", "no_hilist"]
RAW = ["truncated", "invalid", "array", "string", "number", "not_utf8", "dup_key"]


class Poisoner:
    def __init__(self, rng, raw_good, events):
        self.rng, self.raw_good, self.events = rng, raw_good, events
        self.seen = set()
        self.raw_good_set = set(raw_good)
        self.n = 0

    def make(self, base):
        """A new distinct poison value; base: index of a good event it may be
        made from. Returns (value, key)."""
        rng = self.rng
        for _ in range(100):
            self.n += 1
            n = self.n
            ev = self.events[base]
            key = ev["psn_no"].encode()
            if rng.random() < 0.6:
                how = rng.choice(SPOIL)
                if rng.random() < 0.5:   # not the shadow of a real event
                    ev = dict(ev, event_id="POISON-%d" % n)
                v = _spoil(ev, how, rng)
            else:
                how = rng.choice(RAW)
                g = self.raw_good[base]
                if how == "truncated":
                    v = g[: rng.randrange(10, len(g) - 2)]
                elif how == "invalid":
                    v = b'{"schema": "nhsa.claim.v1", "event_id": "POISON-%d", }' % n
                elif how == "array":
                    v = b'[%d, "poison"]' % n
                elif how == "string":
                    v = b'"poison-%d"' % n
                elif how == "number":
                    v = b"%d" % (900000 + n)
                elif how == "not_utf8":
                    v = b"\xff\xfe" + g[2:]
                else:
                    v = b'{"schema":"nhsa.claim.v1","schema":"nhsa.claim.v1","n":%d}' % n
                if rng.random() < 0.3:
                    key = b"bad"
            if b"\n" in v or b"\t" in v or v in self.seen or v in self.raw_good_set:
                continue
            self.seen.add(v)
            return v, key
        raise RuntimeError("cannot make a distinct poison value")


def prepare(seed, stream, waves, steps, out, offsetfetch_notcoord=False):
    seed, waves, steps = int(seed), int(waves), int(steps)
    rng = random.Random(seed)
    with open(stream, "rb") as f:
        raw_good = [l.rstrip(b"\n") for l in f if l.strip()]
    events = [json.loads(l) for l in raw_good]
    n = len(raw_good)
    if waves < 1 or n < waves * 5:
        sys.stderr.write("prepare: %d events is too few for %d waves\n" % (n, waves))
        return 2
    pz = Poisoner(rng, raw_good, events)
    # wave sizes: uneven (0.5x to 1.5x the mean), summing to n
    w = [rng.uniform(0.5, 1.5) for _ in range(waves)]
    cuts = [0]
    for i in range(waves - 1):
        cuts.append(max(cuts[-1] + 1, min(n - (waves - 1 - i), round(n * sum(w[: i + 1]) / sum(w)))))
    cuts.append(n)
    poison_rows = []
    for k in range(waves):
        lo, hi = cuts[k], cuts[k + 1]
        npois = max(1, (hi - lo) // rng.randint(60, 160))
        at = collections.Counter(rng.randrange(lo, hi) for _ in range(npois))
        lines = []
        for i in range(lo, hi):
            for _ in range(at.get(i, 0)):
                # made from an event at most 40 later in the same wave, so a
                # spoiled copy that keeps its event_id precedes the real one
                v, key = pz.make(rng.randrange(i, min(hi, i + 40)))
                lines.append(key + b"\t" + v)
                poison_rows.append(("wave.%d" % (k + 1), v))
            lines.append(events[i]["psn_no"].encode() + b"\t" + raw_good[i])
        with open("%s/wave.%d.keyed" % (out, k + 1), "wb") as f:
            f.write(b"".join(l + b"\n" for l in lines))
    # the fault plan
    kinds = ["kill"] * 5 + ["redis"] * 3 + ["broker"] * 5 + ["hup"] * 4 + ["poison"] * 3
    menu = [  # (api, code): Produce / Fetch / OffsetCommit / OffsetFetch
        (0, 6), (0, 7), (0, 10), (0, 10),  # NOT_LEADER, REQUEST_TIMED_OUT, MESSAGE_TOO_LARGE
        (1, 6), (1, 3),                   # NOT_LEADER, UNKNOWN_TOPIC_OR_PART
        (8, 16), (8, 14),                 # NOT_COORDINATOR, COORDINATOR_LOAD_IN_PROGRESS
        (9, 14),                          # OffsetFetch COORDINATOR_LOAD_IN_PROGRESS, at (re)assignment
    ]
    if offsetfetch_notcoord:
        # OffsetFetch NOT_COORDINATOR: librdkafka 2.0.2 never starts fetching
        # the assigned partitions after it, and the daemon stalls (README)
        menu.append((9, 16))
    plan = []
    for _ in range(steps):
        gap = rng.choice([200, 500, 1000, 1500, 2500, 4000])
        kind = rng.choice(kinds)
        if kind == "kill":
            args = "%d %d" % (rng.choice([0, 0, 50, 200, 700, 1500]),
                              rng.choice([10, 20, 50, 100, 500]))
        elif kind == "redis":
            args = "%d %s" % (rng.choice([500, 1500, 3000, 6000]),
                              rng.choice(["none", "none", "none", "hup", "kill"]))
        elif kind == "broker":
            args = ",".join("%d:%d:%d" % (a, rng.randint(1, 4), c)
                            for a, c in rng.sample(menu, rng.randint(1, 3)))
        elif kind == "hup":
            args = rng.choice(["ok", "ok", "ok", "broken:syntax", "broken:unknown-key", "broken:no-pack"])
        else:
            args = ""
        plan.append(("%d %s %s" % (gap, kind, args)).rstrip())
    with open(out + "/plan", "w") as f:
        f.write("".join(l + "\n" for l in plan))
    bursts = sum(1 for l in plan if l.split()[1] == "poison")
    for k in range(bursts):
        lines = []
        for _ in range(rng.randint(2, 8)):
            v, key = pz.make(rng.randrange(n))
            lines.append(key + b"\t" + v)
            poison_rows.append(("burst.%d" % (k + 1), v))
        with open("%s/burst.%d.keyed" % (out, k + 1), "wb") as f:
            f.write(b"".join(l + b"\n" for l in lines))
    with open(out + "/poison.raw", "wb") as f:
        f.write(b"".join(v + b"\n" for _, v in poison_rows))
    with open(out + "/poison.tsv", "w") as f:
        f.write("".join("%s\t%s\n" % (o, v.hex()) for o, v in poison_rows))
    print("prepared %d events in %d waves, %d poison messages (%d in waves, %d in %d bursts)"
          % (n, waves, len(poison_rows), sum(1 for o, _ in poison_rows if o.startswith("wave")),
             sum(1 for o, _ in poison_rows if o.startswith("burst")), bursts))
    return 0


# ---------------------------------------------------------------- check

def fg_hash64(s):
    """src/fg_hash.c fg_hash64: FNV-1a 64 with a final avalanche."""
    m = (1 << 64) - 1
    h = 0xcbf29ce484222325
    for b in s:
        h ^= b
        h = (h * 0x100000001b3) & m
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & m
    h ^= h >> 33
    return h


class Redis:
    """Just enough RESP for SCAN and ZRANGE."""

    def __init__(self, port):
        self.s = socket.create_connection(("127.0.0.1", int(port)), timeout=30)
        self.f = self.s.makefile("rb")

    def send(self, *args):
        out = b"*%d\r\n" % len(args)
        for a in args:
            a = a if isinstance(a, bytes) else str(a).encode()
            out += b"$%d\r\n%s\r\n" % (len(a), a)
        self.s.sendall(out)

    def read(self):
        line = self.f.readline()
        t, rest = line[:1], line[1:-2]
        if t == b"+":
            return rest
        if t == b"-":
            raise RuntimeError("redis: " + rest.decode())
        if t == b":":
            return int(rest)
        if t == b"$":
            n = int(rest)
            if n < 0:
                return None
            data = self.f.read(n + 2)
            return data[:-2]
        if t == b"*":
            n = int(rest)
            return None if n < 0 else [self.read() for _ in range(n)]
        raise RuntimeError("redis: unexpected reply %r" % line)

    def scan(self, pattern):
        cur, keys = b"0", []
        while True:
            self.send("SCAN", cur, "MATCH", pattern, "COUNT", 1000)
            cur, batch = self.read()
            keys += batch
            if cur == b"0":
                return keys


HDR = re.compile(rb"^fg\.reason=(.*),fg\.source\.topic=([^,]*),fg\.source\.partition=(-?\d+),"
                 rb"fg\.source\.offset=(-?\d+)$")


def check(d, redis_port, lenient, strict_reasons=False):
    errors, known = [], []

    def err(msg):
        errors.append(msg)

    # what was produced
    with open(d + "/stream.jsonl", "rb") as f:
        good = [l.rstrip(b"\n") for l in f if l.strip()]
    good_ev = [json.loads(l) for l in good]
    produced = set()
    with open(d + "/produced.log") as f:
        for line in f:
            if line.strip():
                produced.add(line.split()[0] + "." + line.split()[1])
    poison, poison_all = [], 0
    with open(d + "/poison.tsv") as f:
        for line in f:
            o, h = line.split()
            poison_all += 1
            if o in produced:
                poison.append(bytes.fromhex(h))
    waves_planned = len({l.split("\t")[0] for l in open(d + "/poison.tsv") if l.startswith("wave")})
    waves_done = sum(1 for p in produced if p.startswith("wave."))
    if waves_done < waves_planned:
        err("only %d of %d waves were produced" % (waves_done, waves_planned))
    poison_set = set(poison)

    # the claims topic
    where = collections.defaultdict(list)         # value -> [(p, o, key)]
    at = {}                                       # (p, o) -> value
    offs = collections.defaultdict(list)
    with open(d + "/claims.dump", "rb") as f:
        for line in f:
            p, o, k, v = line.rstrip(b"\n").split(b"\t", 3)
            p, o = int(p), int(o)
            where[v].append((p, o, k))
            at[(p, o)] = v
            offs[p].append(o)
    ends = {}
    for p, os_ in sorted(offs.items()):
        os_.sort()
        if os_ != list(range(len(os_))):
            err("claims partition %d holds offsets %d..%d (%d messages): not 0..n-1, the broker dropped some"
                % (p, os_[0], os_[-1], len(os_)))
        ends[p] = os_[-1] + 1
    n_claims = sum(len(v) for v in offs.values())
    expect = len(good) + len(poison)
    if n_claims != expect:
        err("claims topic holds %d messages, produced %d (%d events + %d poison)"
            % (n_claims, expect, len(good), len(poison)))
    for i, g in enumerate(good):
        w = where.get(g, [])
        if len(w) != 1:
            err("event %s is %d times in the claims topic" % (good_ev[i]["event_id"], len(w)))
        elif w[0][2] != good_ev[i]["psn_no"].encode():
            err("event %s keyed %r" % (good_ev[i]["event_id"], w[0][2]))
    for v in poison:
        if len(where.get(v, [])) != 1:
            err("poison %r is %d times in the claims topic" % (v[:60], len(where.get(v, []))))

    # committed offsets
    committed = {}
    with open(d + "/committed.tsv") as f:
        for line in f:
            if line.strip():
                p, o = line.split()
                committed[int(p)] = int(o)
    for p, end in sorted(ends.items()):
        c = committed.get(p)
        if c != end:
            err("group offset of claims/%d is %s, the partition ends at %d" % (p, c, end))

    # processed: each settlement / revocation is in its person's seen-set
    seen = {}
    try:
        r = Redis(redis_port)
        for key in r.scan("fg:live:E:*"):
            r.send("ZRANGE", key, 0, -1)
            psn = key.decode()[len("fg:live:E:{"):-1]
            seen[psn] = set(m.decode() for m in r.read())
    except (OSError, RuntimeError) as e:
        err("cannot read the seen-sets from Redis on port %s: %s" % (redis_port, e))
    stateful = processed = 0
    missing = []
    for e in good_ev:
        if e.get("event_type") not in ("SETTLEMENT", "SETTLEMENT_REVOKE"):
            continue            # no state; covered by the committed offsets
        stateful += 1
        if "%016x" % fg_hash64(e["event_id"].encode()) in seen.get(e["psn_no"], ()):
            processed += 1
        else:
            missing.append(e["event_id"])
    for m in missing[:20]:
        err("event %s not processed: not in the daemon's seen-set" % m)
    if len(missing) > 20:
        err("... and %d more events not processed" % (len(missing) - 20))
    processed_total = processed + (len(good_ev) - stateful)

    # the dead-letter topic
    reasons = {}
    with open(d + "/poison.dlq", encoding="utf-8") as f:
        for line in f:
            x = json.loads(line)
            raw = x["raw"].encode() if "raw" in x else base64.b64decode(x["raw_base64"])
            reasons[raw] = x["reason"]
    for v in poison:
        if v not in reasons:
            err("the replay does not quarantine poison %r" % v[:60])
    dl_seen = collections.Counter()
    n_dl = 0
    by_reason = collections.Counter()
    with open(d + "/dlq.dump", "rb") as f:
        for line in f:
            n_dl += 1
            k, h, v = line.rstrip(b"\n").split(b"\t", 2)
            m = HDR.match(h)
            if not m:
                err("dead letter %d: headers %r" % (n_dl, h[:200]))
                continue
            reason, topic, p, o = m.group(1).decode("utf-8", "replace"), m.group(2), int(m.group(3)), int(m.group(4))
            if v not in poison_set:
                err("dead letter %d is not a poison message we produced: %r" % (n_dl, v[:80]))
                continue
            dl_seen[v] += 1
            by_reason[re.sub(r"\[\d+\]| at column \d+", "", reason.split(":")[0])] += 1
            if topic != b"claims" or at.get((p, o)) != v:
                err("dead letter %d: fg.source %s/%d@%d does not hold it" % (n_dl, topic.decode(), p, o))
            elif k != where[v][0][2]:
                err("dead letter %d: key %r, produced with %r" % (n_dl, k, where[v][0][2]))
            if reason != reasons.get(v):
                msg = "dead letter %d: reason %r, the replay says %r" % (n_dl, reason, reasons.get(v))
                if v[-1:] in (b" ", b"\t", b"\r") and not strict_reasons:
                    # replay trims trailing blanks off a line before parsing
                    # (src/fg_reader.c), the daemon parses the payload as is
                    known.append(msg + " (the payload ends in a blank)")
                else:
                    err(msg)
    lost = [v for v in poison if v not in dl_seen]
    for v in lost[:20]:
        err("poison not in the dead-letter topic: %r (claims %s)" % (v[:80], where.get(v)))
    dl_dups = sum(c - 1 for c in dl_seen.values())

    # the alerts topic, against the replay
    outlier = []

    def note(rule, msg):
        (outlier if lenient and rule == "PRICE-OUTLIER" else errors).append(msg)

    def own_event(a):
        src = a.get("source") or {}
        sv = at.get((src.get("partition"), src.get("offset")))
        if sv is None or sv not in where or json.loads(sv).get("event_id") != a.get("event_id"):
            err("alert %s: source %r is not its event %s" % (a.get("jr_id"), src, a.get("event_id")))

    live, delivered, dups = fgit.read_live(d + "/alerts.tsv", errors, note, own_event)
    ref = fgit.read_replay(d + "/replay.jsonl")
    if not ref:
        err("the replay gave no alerts: the comparison proves nothing")
    fgit.diff_alerts(live, ref, note)

    faults = collections.Counter()
    try:
        with open(d + "/faults.log") as f:
            for line in f:
                if line.strip():
                    faults[line.split()[0]] += 1
    except FileNotFoundError:
        pass

    print("---- reconciliation")
    print("events in:            %d messages on claims = %d events + %d poison (%d poison planned)"
          % (n_claims, len(good), len(poison), poison_all))
    print("processed:            %d of %d events (%d settlements/revocations found in the Redis "
          "seen-sets, %d other events covered by committed offsets)"
          % (processed_total, len(good), processed, len(good) - stateful))
    print("quarantined:          %d of %d poison in the dead-letter topic (%d dead letters, "
          "%d duplicates delivered)" % (len(dl_seen), len(poison), n_dl, dl_dups))
    print("                      by reason: %s" % ", ".join("%s %d" % kv for kv in sorted(by_reason.items())))
    print("alerts:               %d distinct jr_id (%d delivered; the replay has %d)"
          % (len(live), delivered, len(ref)))
    print("duplicates delivered: %d alerts (same jr_id, same content)" % dups)
    print("faults injected:      %d: %s" % (sum(faults.values()),
                                           ", ".join("%s %d" % kv for kv in sorted(faults.items()))))
    for m in outlier:
        print("PRICE-OUTLIER (lenient) " + m)
    for m in known:
        print("KNOWN " + m)
    for m in errors[:60]:
        print("VIOLATION " + m)
    if len(errors) > 60:
        print("VIOLATION ... and %d more" % (len(errors) - 60))
    print("result: %s" % ("%d violations" % len(errors) if errors else "reconciled, no violation"))
    return 1 if errors else 0


def main(argv):
    if len(argv) in (6, 7) and argv[0] == "prepare":
        return prepare(*argv[1:6], offsetfetch_notcoord="--offsetfetch-notcoord" in argv[6:])
    if 3 <= len(argv) <= 5 and argv[0] == "check":
        return check(argv[1], argv[2], "--outlier-lenient" in argv[3:],
                     "--strict-reasons" in argv[3:])
    sys.stderr.write(__doc__)
    return 2


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
