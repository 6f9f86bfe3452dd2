#!/bin/sh
# SPDX-License-Identifier: Apache-2.0
# The malformed-input corpus is quarantined line by line, each with its
# reason and raw bytes; the valid events between the bad ones are all
# processed; nothing crashes; and, where valgrind is installed and the
# build is not sanitized, valgrind finds no leak or error on the replay.
set -eu
: "${FG:?}" "${PYTHON3:=python3}"
tmp=$(mktemp -d "${TMPDIR:-/tmp}/fg-malformed.XXXXXX")
trap 'rm -rf "$tmp"' EXIT

"$PYTHON3" tests/scripts/make_malformed.py "$tmp/corpus.jsonl" "$tmp/expect.txt"
nbad=$(wc -l <"$tmp/expect.txt")

run() {
    "$@" replay -c config/fundguard.json --input "$tmp/corpus.jsonl" --canonical \
        --no-progress --output "$tmp/alerts.jsonl" --dead-letter "$tmp/dlq.jsonl" \
        --set replay.max_event_bytes=1048576 2>"$tmp/stderr"
}
run "$FG" || { cat "$tmp/stderr"; echo "FAIL: replay exited $?"; exit 1; }

"$PYTHON3" - "$tmp" "$nbad" <<'PY'
import base64, json, sys
tmp, nbad = sys.argv[1], int(sys.argv[2])
expect = [l.rstrip("\n") for l in open(tmp + "/expect.txt", encoding="utf-8")]
raw_lines = open(tmp + "/corpus.jsonl", "rb").read().split(b"\n")
dlq = [json.loads(l) for l in open(tmp + "/dlq.jsonl", encoding="utf-8")]
assert len(dlq) == nbad, "quarantined %d, expected %d" % (len(dlq), nbad)
for want, got in zip(expect, dlq):
    assert got["reason"].startswith(want), "reason %r does not start with %r" % (got["reason"], want)
    line = got["source"]["line"]
    raw = got["raw"].encode() if "raw" in got else base64.b64decode(got["raw_base64"])
    assert raw == raw_lines[line - 1], "raw bytes of line %d not preserved" % line
summary = open(tmp + "/stderr", encoding="utf-8").read()
assert "settlements=%d " % (nbad + 1) in summary, summary
assert "quarantined=%d " % nbad in summary, summary
print("ok: %d bad lines quarantined with reasons and raw bytes; %d valid events processed"
      % (nbad, nbad + 1))
PY

if [ -n "${VALGRIND:-}" ] && [ -z "${FG_SANITIZED:-}" ] && [ -x "${VALGRIND}" ]; then
    run "$VALGRIND" --quiet --leak-check=full --show-leak-kinds=definite,indirect \
        --errors-for-leak-kinds=definite,indirect --error-exitcode=3 "$FG" ||
        { cat "$tmp/stderr"; echo "FAIL: valgrind reported errors or leaks"; exit 1; }
    echo "ok: valgrind clean on the malformed corpus"
fi
