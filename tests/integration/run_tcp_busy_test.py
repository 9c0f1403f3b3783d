#!/usr/bin/env python3
"""A full mailbox over TCP: the request gets a 503, not silence.

Usage:
  run_tcp_busy_test.py --cay build/cay [--calls 200] [--keep]

cay runs 2 shards with limits.mailbox_messages: 1 and listens on TCP.
The script opens one TCP connection and writes --calls INVITEs (random
Call-IDs, so about half belong to the shard that did not accept the
connection) in one burst. The accepting shard frames them all from its
reads and hands the other shard's INVITEs over by mailbox faster than that
shard drains it, so the bound refuses some of them. Over UDP a refused
message is dropped and the peer retransmits; over TCP nothing would come
again before the peer's own timeout (64*T1), so cay answers each refused
request with a stateless 503 and Retry-After (DESIGN.md section 7, RFC
3261 section 21.5.4).

The script ACKs every 200 it reads (a 200 retransmitted because its ACK
was refused too gets ACKed again), and reads until every INVITE has a
final response and no 200 came for 1.5 s. Checks:

 - every INVITE got a final response, 200 or 503, never both;
 - at least one 503 came (the bound was hit: with a bound of 1 and a burst
   of 200, the second shard cannot keep up; see above), each with
   Retry-After and a To tag;
 - cay still answers OPTIONS; after SIGTERM it exits 0, its summary counts
   calls_answered equal to the 200-answered INVITEs, dropped at least the
   503s, and nothing live (dialogs_live=0, txns_live=0).
"""

import argparse
import os
import random
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402

CONFIG = """\
shards: 2
limits: { mailbox_messages: 1 }
"""

SDP = ("v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\nc=IN IP4 127.0.0.1\r\n"
       "t=0 0\r\nm=audio 4000 RTP/AVP 0\r\n")


def invite(local, remote, call_id, tag, branch):
    return ("INVITE sip:busy@%s:%d;transport=tcp SIP/2.0\r\n"
            "Via: SIP/2.0/TCP %s:%d;branch=z9hG4bK%s\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:probe@%s>;tag=%s\r\n"
            "To: <sip:busy@%s>\r\n"
            "Call-ID: %s\r\n"
            "CSeq: 1 INVITE\r\n"
            "Contact: <sip:probe@%s:%d;transport=tcp>\r\n"
            "Content-Type: application/sdp\r\n"
            "Content-Length: %d\r\n\r\n%s"
            % (remote[0], remote[1], local[0], local[1], branch, local[0],
               tag, remote[0], call_id, local[0], local[1], len(SDP),
               SDP)).encode()


def ack_for(resp, remote, local):
    """The ACK of a 2xx (RFC 3261 section 13.2.2.4), to cay's Contact."""
    get = cayrun.header_value
    return ("ACK sip:busy@%s:%d;transport=tcp SIP/2.0\r\n"
            "Via: SIP/2.0/TCP %s:%d;branch=z9hG4bK%s\r\n"
            "Max-Forwards: 70\r\n"
            "From: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
            "CSeq: 1 ACK\r\nContent-Length: 0\r\n\r\n"
            % (remote[0], remote[1], local[0], local[1], cayrun.new_token(),
               get(resp, ("from", "f")), get(resp, ("to", "t")),
               get(resp, ("call-id", "i")))).encode()


def frames(buf):
    """Split complete messages off a stream buffer by Content-Length
    (RFC 3261 section 18.3); return (messages, rest)."""
    out = []
    while True:
        buf = buf.lstrip(b"\r\n")
        end = buf.find(b"\r\n\r\n")
        if end < 0:
            return out, buf
        clen = cayrun.header_value(buf[:end + 4], ("content-length", "l"))
        total = end + 4 + int(clen or 0)
        if len(buf) < total:
            return out, buf
        out.append(buf[:total])
        buf = buf[total:]


def exchange(sock, local, remote, calls, deadline):
    """Send the burst, ACK each 200, collect final statuses by Call-ID."""
    finals = {}
    ids = ["busy-%s" % cayrun.new_token(16) for _ in range(calls)]
    sock.sendall(b"".join(invite(local, remote, cid, cayrun.new_token(),
                                 cayrun.new_token()) for cid in ids))
    extra = []  # responses of problems: (call_id, status, why)
    buf, last_200 = b"", time.monotonic()
    while time.monotonic() < deadline:
        if len(finals) == calls and time.monotonic() - last_200 > 1.5:
            break
        sock.settimeout(0.2)
        try:
            data = sock.recv(65536)
        except socket.timeout:
            continue
        if not data:
            extra.append((None, None, "cay closed the connection"))
            break
        msgs, buf = frames(buf + data)
        for m in msgs:
            status = cayrun.response_status(m)
            cid = cayrun.header_value(m, ("call-id", "i"))
            if status is None or status < 200:
                continue
            finals.setdefault(cid, set()).add(status)
            if status == 200:
                last_200 = time.monotonic()
                sock.sendall(ack_for(m, remote, local))
            elif status == 503:
                if cayrun.header_value(m, ("retry-after",)) is None:
                    extra.append((cid, 503, "no Retry-After"))
                if ";tag=" not in (cayrun.header_value(m, ("to", "t"))
                                   or ""):
                    extra.append((cid, 503, "no To tag"))
    return ids, finals, extra


def judge(ids, finals, extra):
    problems = ["%s: %s %s" % (why, cid, st) for cid, st, why in extra]
    missing = [cid for cid in ids if cid not in finals]
    if missing:
        problems.append("%d INVITEs got no final response (first %s)"
                        % (len(missing), missing[0]))
    for cid, sts in finals.items():
        if sts - {200, 503} or len(sts) > 1:
            problems.append("%s got finals %s, wanted one of 200 or 503"
                            % (cid, sorted(sts)))
    n200 = sum(1 for s in finals.values() if s == {200})
    n503 = sum(1 for s in finals.values() if s == {503})
    if n503 == 0:
        problems.append("no 503: the mailbox bound was never hit")
    return problems, n200, n503


def run(args):
    workdir = tempfile.mkdtemp(prefix="cay-tcp-busy-")
    test = "integration.shards2_tcp_busy_503"
    cay, err = cayrun.start_cay(args.cay, workdir, CONFIG, tcp=True)
    problems, line = [], ""
    if err is None:
        remote = cay.address
        sock = socket.create_connection(remote, timeout=5)
        local = sock.getsockname()
        ids, finals, extra = exchange(sock, local, remote, args.calls,
                                      time.monotonic() + 20)
        sock.close()
        problems, n200, n503 = judge(ids, finals, extra)
        if cayrun.options_ping(cay.host, cay.port, timeout=2.0) != 200:
            problems.append("cay does not answer OPTIONS afterwards")
        result = cay.stop()
        problems += result.problems(
            ["calls_answered=%d" % n200, "dropped>=%d" % n503,
             "dialogs_live=0", "txns_live=0"])
        line = "200=%d 503=%d | cay rc=%s %s" % (
            n200, n503, result.returncode, result.summary_text())
    else:
        problems.append(err)
    return cayrun.verdict(test, problems, line, cay, workdir, args.keep)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cay", required=True, help="the cay binary")
    p.add_argument("--calls", type=int, default=200,
                   help="INVITEs in the burst (default 200)")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory on success too")
    return p.parse_args(argv)


if __name__ == "__main__":
    random.seed()
    sys.exit(cayrun.main(parse_args, run))
