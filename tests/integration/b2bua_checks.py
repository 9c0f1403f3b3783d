#!/usr/bin/env python3
"""Helpers of run_b2bua_test.py: placeholders in scenario and config
text, what SIPp counted, what the fake DNS server was asked, cay's log,
and actions on cay during a run (SIGSTOP for a while, a reload by
SIGHUP).

Standard library only.
"""

import argparse
import glob
import os
import re
import signal
import threading
import time

import cayrun
import fake_dns


def expand(text, subs):
    for key, value in subs.items():
        text = text.replace("@%s@" % key, value)
    return text


def read_counts(workdir, pid):
    """SIPp's last -trace_counts line as {key: total}, or None.

    Column names are STEP_NAME_KIND (4_BYE_Recv); the step number is
    dropped and steps of the same NAME_KIND are added up. The columns of
    single steps stay in the dict too, under their own names (4_BYE_Recv).
    """
    files = glob.glob(os.path.join(workdir, "*_%d_counts.csv" % pid))
    if not files:
        return None
    with open(files[0], encoding="latin-1") as f:
        lines = [ln.rstrip("\r\n") for ln in f if ln.strip()]
    if len(lines) < 2:
        return None
    out = {}
    for name, value in zip(lines[0].split(";"), lines[-1].split(";")):
        step, sep, key = name.partition("_")
        if not sep or not step.isdigit():
            continue
        try:
            out[key] = out.get(key, 0) + int(value)
            out[name] = int(value)
        except ValueError:
            pass
    return out


def dns_problems(dns, want, want_not, orders):
    """One problem per --expect-dns-query never asked, per
    --expect-no-dns-query asked and per --expect-dns-order broken."""
    out = []
    for order in orders:
        specs = [fake_dns.parse_query_spec(q) for q in order.split(",")]
        firsts = [dns.first_query(t, n) for t, n in specs]
        if None in firsts or firsts != sorted(firsts):
            out.append("dns: first queries not in the order %s (query "
                       "numbers %s%s)" % (order, firsts, ", None: never asked"
                                          if None in firsts else ""))
    for spec in want:
        rtype, name = fake_dns.parse_query_spec(spec)
        if dns.count(rtype, name) == 0:
            out.append("dns: no %s query for %s" % (rtype, name or "any name"))
    for spec in want_not:
        rtype, name = fake_dns.parse_query_spec(spec)
        n = dns.count(rtype, name)
        if n:
            out.append("dns: %d %s queries for %s, wanted none"
                       % (n, rtype, name or "any name"))
    return out


def pause_spec(text):
    """--pause-cay AT_MS:FOR_MS as a (seconds, seconds) pair."""
    try:
        at, length = (int(x) for x in text.split(":"))
    except ValueError:
        raise argparse.ArgumentTypeError("want AT_MS:FOR_MS, got %r" % text)
    if at < 0 or length <= 0:
        raise argparse.ArgumentTypeError("want AT_MS >= 0, FOR_MS > 0")
    return at / 1000.0, length / 1000.0


def pause_later(pid, spec):
    """Stop process pid at spec[0] s from now for spec[1] s (a thread,
    returned; None without spec). SIGCONT follows whatever happens."""
    if not spec:
        return None

    def pause():
        time.sleep(spec[0])
        try:
            os.kill(pid, signal.SIGSTOP)
        except ProcessLookupError:
            return
        try:
            time.sleep(spec[1])
        finally:
            try:
                os.kill(pid, signal.SIGCONT)
            except ProcessLookupError:
                pass

    t = threading.Thread(target=pause, daemon=True)
    t.start()
    return t


def reload_spec(text):
    """--reload AT_MS:FILE as a (seconds, path) pair."""
    at, _, path = text.partition(":")
    try:
        at_ms = int(at)
    except ValueError:
        raise argparse.ArgumentTypeError("want AT_MS:FILE, got %r" % text)
    if at_ms < 0 or not path:
        raise argparse.ArgumentTypeError("want AT_MS >= 0 and a FILE")
    return at_ms / 1000.0, path


def reload_later(cay, specs, subs):
    """At each spec's time, replace cay's config file by the spec's file
    (its @KEY@ placeholders replaced) and send cay SIGHUP (a thread,
    returned; None without specs)."""
    if not specs:
        return None
    texts = []
    for at, path in sorted(specs):
        with open(path) as f:
            texts.append((at, expand(f.read(), subs)))

    def reload():
        start = time.monotonic()
        for at, text in texts:
            time.sleep(max(0.0, start + at - time.monotonic()))
            with open(cay.config_path, "w") as f:
                f.write(text)
            try:
                os.kill(cay.proc.pid, signal.SIGHUP)
            except ProcessLookupError:
                return

    t = threading.Thread(target=reload, daemon=True)
    t.start()
    return t


def check_counts(who, counts, specs):
    if not specs:
        return []
    if counts is None:
        return ["%s: no SIPp message counts (-trace_counts)" % who]
    return ["%s: %s" % (who, f.replace("summary ", "counts "))
            for f in cayrun.check_expectations(counts, specs)]


def counts_text(counts, specs):
    keys = [cayrun.parse_expect(s)[0] for s in specs]
    if counts is None or not keys:
        return ""
    return " " + " ".join("%s=%s" % (k, counts.get(k)) for k in keys)


def log_problems(path, patterns, counts=()):
    """One problem per --expect-log pattern no line of cay's log matches,
    and per --expect-log-count ("OPN", REGEX) whose count of matching
    lines is not OP N."""
    if not patterns and not counts:
        return []
    with open(path, encoding="latin-1") as f:
        lines = f.read().splitlines()
    problems = ["cay log: no line matches %r" % pat for pat in patterns
                if not any(re.search(pat, ln) for ln in lines)]
    for spec, pat in counts:
        _, op, want = cayrun.parse_expect("lines" + spec)
        got = sum(1 for ln in lines if re.search(pat, ln))
        if not cayrun.check_op(op, got, want):
            problems.append("cay log: %d lines match %r, wanted %s%d"
                            % (got, pat, op, want))
    return problems
