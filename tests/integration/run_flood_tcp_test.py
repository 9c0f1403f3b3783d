#!/usr/bin/env python3
"""A flood over TCP: the blocked source loses its connections, on every shard.

Usage:
  run_flood_tcp_test.py --cay build/cay --sipp sipp [--shards 2] [--keep]

cay runs --shards shards with limits.source_requests 10 (window 2 s,
block 60 s), listening on UDP and TCP, logging at debug level (each shard
logs the connections it accepts). Before the flood the script opens idle
TCP connections from 127.0.0.1 until each shard has accepted at least
one, and one from 127.0.0.2 (a neighbour); each answers a CRLF
keep-alive with its pong (RFC 5626 section 3.5.1), so each is live.

SIPp then floods cay with OPTIONS over one TCP connection from
127.0.0.1 (scenarios/options_flood.xml, -t t1, 100/s, at most 200: 2 s,
so that SIPp is still sending when cay cuts it off even if cay was slow
to read the first ones). The shard that reads them blocks the address at
the 11th request of its window and tells the others (MAIL_BLOCK); each
shard closes the connections it accepted from 127.0.0.1. SIPp's own
connection is cut: SIPp exits on its next send (1, a call failed, or
255, a fatal error: which one depends on where that send is), as a peer
cut off does.

Checks:
 - SIPp's connection was closed by cay (SIPp exit code 1 or 255, and
   SIPp's errors say the connection broke: a broken pipe, a reset, a
   close); every idle connection from 127.0.0.1 gets end of file, and
   each shard logged the connections it closed;
 - a new connection from 127.0.0.1 is closed at once: its OPTIONS gets no
   answer; an OPTIONS over UDP from 127.0.0.1 gets none either;
 - the neighbour's connection still answers an OPTIONS with 200, and so
   does UDP from 127.0.0.2;
 - cay exits 0 with source_conns_closed = the idle connections + SIPp's +
   the refused one, source_dropped >= 1, and no transaction live.

Standard library only.
"""

import argparse
import os
import re
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402
import run_sipp_test  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "scenarios", "options_flood.xml")
CALLIDS = os.path.join(HERE, "scenarios", "flood_callids.csv")
NEIGHBOUR = "127.0.0.2"
# What SIPp's errors say of a connection the peer closed.
CUT_RE = re.compile(r"(?i)broken pipe|connection reset|closed")
# At most this many idle connections to reach every shard.
MAX_IDLE = 40

CONFIG = """\
shards: %d
limits: { source_requests: 10, source_window_s: 2, source_block_s: 60 }
"""


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cay", required=True)
    p.add_argument("--sipp", default="sipp")
    p.add_argument("--shards", type=int, default=2)
    p.add_argument("--keep", action="store_true")
    return p.parse_args(argv)


def options_tcp(local, remote, call_id):
    """One OPTIONS over TCP from local (host, port) to remote."""
    return cayrun.options_request(local, remote, call_id).replace(
        b"SIP/2.0/UDP", b"SIP/2.0/TCP")


def connect(remote, src_host):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind((src_host, 0))
    s.settimeout(5)
    s.connect(remote)
    return s


def read_until(sock, want, timeout):
    """Read until want(bytes so far) is true: (bytes, "eof"|"ok"|"timeout")."""
    buf = b""
    end = time.monotonic() + timeout
    while not want(buf):
        left = end - time.monotonic()
        if left <= 0:
            return buf, "timeout"
        sock.settimeout(left)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return buf, "timeout"
        except (ConnectionResetError, BrokenPipeError):
            return buf, "eof"
        if not data:
            return buf, "eof"
        buf += data
    return buf, "ok"


def pong(sock):
    """A CRLF keep-alive answered: True (the connection is live)."""
    sock.sendall(b"\r\n\r\n")
    _, how = read_until(sock, lambda b: b.startswith(b"\r\n"), 3)
    return how == "ok"


def accepted_by(log_path):
    """{shard: count} of the connections from 127.0.0.1 cay accepted."""
    with open(log_path, encoding="utf-8", errors="replace") as f:
        text = f.read()
    got = {}
    for m in re.finditer(r"shard=(\d+) tcp: accepted 127\.0\.0\.1:", text):
        got[m.group(1)] = got.get(m.group(1), 0) + 1
    return got


def open_idle(cay, shards, problems):
    """Idle live connections from 127.0.0.1 until every shard has one."""
    idle = []
    while len(idle) < MAX_IDLE:
        s = connect(cay.address, cayrun.HOST)
        idle.append(s)
        if not pong(s):
            problems.append("idle connection %d: no pong" % len(idle))
            return idle
        if len(accepted_by(cay.stderr_path)) == shards:
            return idle
    problems.append("%d connections did not reach all %d shards: %s"
                    % (MAX_IDLE, shards, accepted_by(cay.stderr_path)))
    return idle


def flood(args, workdir, cay):
    """SIPp's OPTIONS flood over TCP: (problems, text)."""
    sipp = run_sipp_test.Sipp(args.sipp, workdir, "flood")
    sipp.start(["%s:%d" % (cayrun.HOST, cay.port), "-sf", SCENARIO,
                "-t", "t1", "-i", cayrun.HOST,
                "-p", str(cayrun.free_udp_port()),
                "-inf", CALLIDS, "-m", "200", "-r", "100", "-nr",
                "-timeout", "20s", "-timeout_error"])
    print("flood: %s" % " ".join(sipp.cmd), flush=True)
    rc = run_sipp_test.wait_uac(sipp, cay, 30)
    problems = []
    try:
        with open(sipp.errors, encoding="latin-1") as f:
            errors = f.read()
    except OSError:
        errors = ""
    if rc not in (1, 255) or not CUT_RE.search(errors):
        problems.append("SIPp was not cut off: exit code %s, errors %r"
                        % (rc, errors[-300:]))
    return problems, "sipp rc=%s" % rc, sipp


def judge_after(cay, idle, neighbour):
    problems = []
    for i, s in enumerate(idle):
        _, how = read_until(s, lambda b: False, 5)
        if how != "eof":
            problems.append("idle connection %d from 127.0.0.1 not closed"
                            % (i + 1))
    log = open(cay.stderr_path, encoding="utf-8", errors="replace").read()
    for k in sorted(accepted_by(cay.stderr_path)):
        if not re.search(r"shard=%s flood: closed \d+ connections? from "
                         r"blocked 127\.0\.0\.1" % k, log):
            problems.append("shard %s closed no connection of the blocked "
                            "source" % k)
    # A new connection from the blocked address: closed unanswered.
    s = connect(cay.address, cayrun.HOST)
    try:
        s.sendall(options_tcp(s.getsockname(), cay.address, "after-block"))
        got, how = read_until(s, lambda b: False, 3)
    except (ConnectionResetError, BrokenPipeError):
        got, how = b"", "eof"
    s.close()
    if how != "eof" or got:
        problems.append("a new connection from the blocked address was not "
                        "closed unanswered: %s, %r" % (how, got[:60]))
    if cayrun.options_ping(cay.host, cay.port, 1.0) is not None:
        problems.append("UDP from the blocked address answered")
    neighbour.sendall(options_tcp(neighbour.getsockname(), cay.address,
                                  "neighbour-" + cayrun.new_token()))
    got, how = read_until(neighbour, lambda b: b"\r\n\r\n" in b, 3)
    if cayrun.response_status(got) != 200:
        problems.append("the neighbour's connection got %s, not a 200"
                        % (how if how != "ok" else got[:40]))
    if cayrun.options_ping(cay.host, cay.port, 1.0, NEIGHBOUR) != 200:
        problems.append("UDP from the neighbour not answered 200")
    return problems


def run(args):
    workdir = tempfile.mkdtemp(prefix="cay-flood-tcp-")
    test = "integration.flood_tcp_shards%d" % args.shards
    cay, err = cayrun.start_cay(args.cay, workdir, CONFIG % args.shards,
                                log_level="debug", tcp=True)
    problems, line, idle, sipp, neighbour = [], "", [], None, None
    try:
        if err:
            raise SystemExit(err)
        print("%s: cay: %s" % (test, " ".join(cay.command())), flush=True)
        idle = open_idle(cay, args.shards, problems)
        neighbour = connect(cay.address, NEIGHBOUR)
        if not pong(neighbour):
            problems.append("the neighbour's connection: no pong")
        if problems:
            raise SystemExit("; ".join(problems))
        bad, line, sipp = flood(args, workdir, cay)
        problems += bad
        problems += judge_after(cay, idle, neighbour)
        result = cay.stop()
        problems += result.problems(
            ["source_conns_closed=%d" % (len(idle) + 2),
             "source_dropped>=1", "txns_live=0"])
        line += " | %d idle connections over %d shards | cay %s" % (
            len(idle), args.shards, result.summary_text())
    except SystemExit as e:
        problems.append(str(e))
    finally:
        for s in idle + ([neighbour] if neighbour else []):
            s.close()
        if cay is not None and cay.alive():
            cay.kill()
    logs = [("flood SIPp", sipp.report())] if sipp else []
    return cayrun.verdict(test, problems, line, cay, workdir, args.keep, logs)


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
