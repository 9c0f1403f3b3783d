#!/usr/bin/env python3
"""Call detail records in run_b2bua_test.py: cay's cdr.file, rotated while
calls run, judged once cay has stopped.

Every record must be one line of JSON with the fields of b2bua/cdr.h in
their order, times in order (start <= progress, start <= answer <= end),
setup_ms and duration_ms agreeing with the times, a Call-ID no other
record has, a shard cay has; the records must number the calls, and the
summary's cdrs must count them with cdrs_lost 0. --cdr-expect adds what
every record must say: KEY=VALUE (VALUE as JSON: 200, "caller", null; a
bare word is a string; alternatives with |), KEY>=N or KEY<=N.

Standard library only.
"""

import datetime
import json
import os
import re
import signal
import threading
import time

KEYS = ["start", "progress", "answer", "end", "setup_ms", "duration_ms",
        "call_id", "from", "to", "ruri", "source", "target", "b_call_id",
        "attempts", "status", "b_status", "ended_by", "reason", "q850",
        "shard"]
ENDED_BY = {"caller", "callee", "ring_timeout", "max_duration", "error",
            "shutdown", "refused", "rejected"}
EXPECT = re.compile(r"^([a-z_0-9]+)(=|>=|<=)(.+)$")


def parse_expect(spec):
    """KEY=VALUE, KEY>=N, KEY<=N as (key, op, values): ValueError if bad."""
    m = EXPECT.match(spec)
    if not m or m.group(1) not in KEYS:
        raise ValueError("want KEY=VALUE, KEY>=N or KEY<=N with KEY one of "
                         "%s, got %r" % (", ".join(KEYS), spec))
    key, op, text = m.groups()
    if op != "=":
        return key, op, [int(text)]
    values = []
    for alt in text.split("|"):
        try:
            values.append(json.loads(alt))
        except ValueError:
            values.append(alt)
    return key, op, values


def rotate_later(cay, path, at_ms):
    """At at_ms from now, rename path to path.1 and send cay SIGHUP, which
    reopens path (a thread, returned; None without at_ms)."""
    if at_ms is None:
        return None

    def rotate():
        time.sleep(at_ms / 1000.0)
        os.rename(path, path + ".1")
        try:
            os.kill(cay.proc.pid, signal.SIGHUP)
        except ProcessLookupError:
            pass

    t = threading.Thread(target=rotate, daemon=True)
    t.start()
    return t


def ms_of(text):
    """"2026-11-25T10:00:00.123Z" as ms since 1970."""
    t = datetime.datetime.strptime(text, "%Y-%m-%dT%H:%M:%S.%fZ")
    t = t.replace(tzinfo=datetime.timezone.utc)
    return round(t.timestamp() * 1000)


def record_problems(rec, nshards):
    """What is wrong with one parsed record (a list of strings)."""
    if list(rec) != KEYS:
        return ["keys %s, want %s" % (list(rec), KEYS)]
    out = []
    start, end = ms_of(rec["start"]), ms_of(rec["end"])
    prog = ms_of(rec["progress"]) if rec["progress"] else None
    ans = ms_of(rec["answer"]) if rec["answer"] else None
    if end < start or (prog is not None and prog < start):
        out.append("times out of order")
    if ans is None:
        if rec["setup_ms"] is not None or rec["duration_ms"] != 0:
            out.append("not answered, yet setup_ms/duration_ms set")
    elif not start <= ans <= end:
        out.append("answer not between start and end")
    elif rec["setup_ms"] != ans - start or rec["duration_ms"] != end - ans:
        out.append("setup_ms/duration_ms do not match the times")
    if rec["ended_by"] not in ENDED_BY:
        out.append("ended_by %r" % rec["ended_by"])
    if not (isinstance(rec["status"], int) and 100 <= rec["status"] <= 699):
        out.append("status %r" % rec["status"])
    q850, reason = rec["q850"], rec["reason"]
    if q850 is not None and not (isinstance(q850, int) and 1 <= q850 <= 127):
        out.append("q850 %r" % q850)
    # Without a Q.850 Reason, an answered call's cause is a BYE's (RFC
    # 3398): 16, normal call clearing.
    if (ans is not None and not (reason and "Q.850" in reason.upper())
            and q850 != 16):
        out.append("answered, reason %r, yet q850 %r" % (reason, q850))
    # When Cay's timer ended the call, its own Reason (RFC 3326) is the
    # record's: Q.850 19, no answer; 102, recovery on timer expiry.
    cays = {"ring_timeout": 19, "max_duration": 102}.get(rec["ended_by"])
    if cays is not None and q850 != cays:
        out.append("%s, yet q850 %r" % (rec["ended_by"], q850))
    if not (isinstance(rec["shard"], int) and 0 <= rec["shard"] < nshards):
        out.append("shard %r of %d" % (rec["shard"], nshards))
    if rec["ended_by"] in ("refused", "rejected"):
        if rec["attempts"] != 0 or rec["b_call_id"] or rec["target"]:
            out.append("%s, yet a B leg named" % rec["ended_by"])
        if rec["answer"] or rec["progress"] or end != start:
            out.append("%s, yet it rang, was answered or lasted"
                       % rec["ended_by"])
    elif rec["attempts"] == 0:
        # Answered here, by Cay's own answering or the embedder.
        if rec["b_call_id"] or rec["target"] or rec["b_status"]:
            out.append("no B leg placed, yet one named")
    elif not rec["b_call_id"] or not rec["target"]:
        out.append("no B leg named")
    return out


def expect_problems(rec, expects):
    out = []
    for key, op, values in expects:
        v = rec[key]
        if op == "=" and v not in values:
            out.append("%s=%r, want %s" % (key, v, " or ".join(
                json.dumps(x) for x in values)))
        elif op == ">=" and not (isinstance(v, int) and v >= values[0]):
            out.append("%s=%r, want >= %d" % (key, v, values[0]))
        elif op == "<=" and not (isinstance(v, int) and v <= values[0]):
            out.append("%s=%r, want <= %d" % (key, v, values[0]))
    return out


def judge(path, rotated, want, expects, summary, nshards):
    """Problems of the records in path (and path.1 when rotated): a list
    of strings, and a one-line account."""
    files = [path + ".1", path] if rotated else [path]
    problems, recs, ids = [], 0, set()
    per_file = []
    for f in files:
        try:
            with open(f, "rb") as fh:
                lines = fh.read().split(b"\n")
        except OSError as e:
            return ["cdr: %s" % e], ""
        if lines and lines[-1] == b"":
            lines.pop()
        else:
            problems.append("cdr: %s does not end with a newline" % f)
        per_file.append(len(lines))
        for n, raw in enumerate(lines, 1):
            where = "cdr: %s:%d" % (os.path.basename(f), n)
            try:
                rec = json.loads(raw.decode("utf-8"))
            except ValueError as e:
                problems.append("%s: not JSON (%s): %.200r" % (where, e, raw))
                continue
            recs += 1
            if not isinstance(rec, dict):
                problems.append("%s: not an object" % where)
                continue
            bad = record_problems(rec, nshards)
            bad += [] if bad else expect_problems(rec, expects)
            if rec.get("call_id") in ids:
                bad.append("Call-ID %r twice" % rec.get("call_id"))
            ids.add(rec.get("call_id"))
            if bad:
                problems.append("%s: %s: %.300s" % (where, "; ".join(bad),
                                                   raw.decode("utf-8")))
    if len(problems) > 5:
        problems = problems[:5] + ["cdr: %d more" % (len(problems) - 5)]
    if want is not None and recs != want:
        problems.append("cdr: %d records, want %d" % (recs, want))
    if rotated and 0 in per_file:
        problems.append("cdr: a file of the rotation is empty (%s)"
                        % per_file)
    made = summary.get("cdrs") if summary else None
    if made != recs:
        problems.append("cdr: the summary says cdrs=%s, the files hold %d"
                        % (made, recs))
    if summary and summary.get("cdrs_lost") != 0:
        problems.append("cdr: cdrs_lost=%s" % summary.get("cdrs_lost"))
    return problems, "cdr %s" % "+".join(str(n) for n in per_file)
