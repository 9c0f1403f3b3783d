#!/usr/bin/env python3
"""STUN keep-alives on cay's SIP port (RFC 5626 section 8, RFC 5389).

Usage:
  run_stun_test.py --cay build/cay --name NAME [--shards 4] [--clients 16]
                   [--requests 10] [--flow-timer S] [--expect KEY=N ...]
                   [--keep]

--clients UDP sockets, each from its own port (the kernel spreads them
over the shards' SO_REUSEPORT sockets), send --requests STUN Binding
requests each to cay's SIP port, half of them with FINGERPRINT. Every
request must get a Binding success response with its transaction id
whose XOR-MAPPED-ADDRESS is the socket's own address (decoded here, by
the RFC, not by the library cay uses), with FINGERPRINT when the request
had one. A Binding indication and an RFC 3489 request (no magic cookie)
get nothing. cay still answers OPTIONS, and its summary (--expect)
counts the keep-alives.

With --flow-timer S, each client first registers an outbound flow
(RFC 5626: Supported: outbound, a Contact with reg-id and
+sip.instance) for its own AOR, sip:ka<i>@127.0.0.1, with
registrar.flow_timer_s S; the 200 must say Require: outbound and
Flow-Timer: S. Then every client sends a keep-alive each second for
S + 8 + 3 s, longer than cay lets a flow be silent (Flow-Timer + 8 s,
RFC 5626 section 4.4.1): every binding must still be there
(bindings_live, no "sent no keep-alive" in cay's log), wherever the
kernel put a client's keep-alives (at several shards, mostly not on its
AOR's shard, which must hear of them). Then a caller calls client 0's
AOR (a Call-ID of another shard than the AOR's), client 0 answers cay's
INVITE with 180, and the first half of the clients fall silent while
the others go on as long again: exactly the silent half's bindings are
removed, each logged, and the ringing call ends with a final response
(its flow failed, RFC 5626 section 7) long before its ring_timeout_s
(60 s).

Standard library only.
"""

import argparse
import os
import re
import socket
import struct
import sys
import tempfile
import time
import zlib

import cayrun

COOKIE = 0x2112A442


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cay", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--shards", type=int, default=None)
    p.add_argument("--clients", type=int, default=16)
    p.add_argument("--requests", type=int, default=10)
    p.add_argument("--flow-timer", type=int, default=0,
                   help="register outbound flows with this Flow-Timer "
                        "and judge which ones cay keeps (seconds)")
    p.add_argument("--expect", action="append", default=[],
                   help="KEY=N on cay's summary (repeat)")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)
    cayrun.check_expects(p, args.expect)
    return args


def request(tid, fingerprint, msg_type=0x0001, cookie=COOKIE):
    m = struct.pack(">HHI", msg_type, 8 if fingerprint else 0, cookie) + tid
    if fingerprint:
        m += struct.pack(">HHI", 0x8028, 4, zlib.crc32(m) ^ 0x5354554E)
    return m


def attributes(data):
    """{type: value} of a STUN message's attributes."""
    out, i = {}, 20
    while i + 4 <= len(data):
        t, n = struct.unpack(">HH", data[i:i + 4])
        out[t] = data[i + 4:i + 4 + n]
        i += 4 + ((n + 3) & ~3)
    return out


def judge(data, tid, fingerprint, me):
    """What is wrong with answer data to request tid from me, or None."""
    if len(data) < 20:
        return "an answer of %d bytes" % len(data)
    msg_type, length, cookie = struct.unpack(">HHI", data[:8])
    if msg_type != 0x0101 or cookie != COOKIE or data[8:20] != tid:
        return "not a Binding success response to the request"
    if length != len(data) - 20:
        return "length field %d for %d bytes" % (length, len(data) - 20)
    attrs = attributes(data)
    xma = attrs.get(0x0020)
    if xma is None or xma[1] != 0x01:
        return "no IPv4 XOR-MAPPED-ADDRESS"
    port = struct.unpack(">H", xma[2:4])[0] ^ (COOKIE >> 16)
    addr = socket.inet_ntoa(struct.pack(
        ">I", struct.unpack(">I", xma[4:8])[0] ^ COOKIE))
    if (addr, port) != me:
        return "XOR-MAPPED-ADDRESS %s:%d, not %s:%d" % (addr, port, me[0],
                                                        me[1])
    if fingerprint:
        fp = attrs.get(0x8028)
        want = zlib.crc32(data[:-8]) ^ 0x5354554E
        if fp is None or struct.unpack(">I", fp)[0] != want:
            return "no FINGERPRINT, or a wrong one"
    elif 0x8028 in attrs:
        return "a FINGERPRINT nobody asked for"
    return None


def exchange(sock, req, timeout=2.0):
    sock.settimeout(timeout)
    sock.send(req)
    try:
        return sock.recv(2048)
    except socket.timeout:
        return None


FLOW_LEEWAY_S = 8  # CAY__FLOW_LEEWAY_S (registrar.h)


def register_flow(sock, i, port, flow_timer):
    """Client i registers an outbound flow for sip:ka<i>: what is wrong
    with cay's answer, or None."""
    req = cayrun.register_request(
        sock.getsockname(), (cayrun.HOST, port),
        "sip:ka%d@%s" % (i, cayrun.HOST),
        "sip:ka%d@192.0.2.%d:5060" % (i, i + 1),
        "ka%d-%s@test" % (i, cayrun.new_token(8)), expires=600,
        contact_params=(";reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-"
                        "1000-8000-%012d>\"" % i),
        extra="Supported: outbound\r\n")
    got = exchange(sock, req)
    if got is None:
        return "no answer to its REGISTER"
    text = got.decode("utf-8", "replace")
    if not text.startswith("SIP/2.0 200"):
        return "REGISTER answered %r" % text.split("\r\n", 1)[0]
    for want in (r"^Require:\s*outbound\s*$",
                 r"^Flow-Timer:\s*%d\s*$" % flow_timer):
        if not re.search(want, text, re.M | re.I):
            return "the 200 to its REGISTER lacks %s" % want
    return None


def keep_alive(socks, seconds):
    """Each socket sends a keep-alive every second for seconds: the
    problems (no answer)."""
    problems = []
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        start = time.monotonic()
        for i, s in socks:
            if exchange(s, request(os.urandom(12), False)) is None:
                problems.append("client %d: a keep-alive got no answer" % i)
        time.sleep(max(0.0, 1.0 - (time.monotonic() - start)))
    return problems


def silent_aors(cay):
    """The AORs whose flow cay found silent, from its log."""
    return set(re.findall(r"AOR (sip:ka\d+@\S+): binding \S+ removed: the "
                          r"flow it registered over \(udp:\S+\) sent no "
                          r"keep-alive", cay.stderr_tail(100000)))


def call_id_off(aor, shards):
    """A Call-ID whose shard is not AOR aor's (any with one shard)."""
    home = cayrun.cay_hash(aor.encode()) % shards
    while True:
        cid = "ring-%s@%s" % (cayrun.new_token(12), cayrun.HOST)
        if shards < 2 or cayrun.cay_hash(cid.encode()) % shards != home:
            return cid


def ring(caller, callee, port, shards):
    """caller calls sip:ka0 (callee's AOR) through cay on a Call-ID of
    another shard than the AOR's; callee answers cay's INVITE with 180.
    The problems."""
    me = caller.getsockname()
    cid = call_id_off("sip:ka0@%s" % cayrun.HOST, shards)
    body = ("v=0\r\no=- 1 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio 40000 RTP/AVP 0\r\n" % (me[0], me[0]))
    caller.send(("INVITE sip:ka0@%s:%d SIP/2.0\r\n"
                 "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-ring1;rport\r\n"
                 "Max-Forwards: 70\r\n"
                 "From: <sip:caller@%s>;tag=c1\r\n"
                 "To: <sip:ka0@%s>\r\n"
                 "Call-ID: %s\r\n"
                 "CSeq: 1 INVITE\r\n"
                 "Contact: <sip:caller@%s:%d>\r\n"
                 "Content-Type: application/sdp\r\n"
                 "Content-Length: %d\r\n\r\n%s"
                 % (cayrun.HOST, port, me[0], me[1], cayrun.HOST,
                    cayrun.HOST, cid, me[0], me[1], len(body),
                    body)).encode())
    callee.settimeout(3.0)
    try:
        while True:
            data = callee.recv(65536)
            if data.startswith(b"INVITE "):
                break
    except socket.timeout:
        return ["the callee (client 0) got no INVITE from cay"]
    callee.send(("SIP/2.0 180 Ringing\r\n"
                 "Via: %s\r\nFrom: %s\r\nTo: %s;tag=ka0\r\n"
                 "Call-ID: %s\r\nCSeq: %s\r\n"
                 "Contact: <sip:ka0@192.0.2.1:5060>\r\n"
                 "Content-Length: 0\r\n\r\n"
                 % tuple(cayrun.header_value(data, names) for names in
                         (("via", "v"), ("from", "f"), ("to", "t"),
                          ("call-id", "i"), ("cseq",)))).encode())
    return []


def caller_final(caller, port):
    """The caller's final response to its INVITE, ACKed; None if none
    came yet."""
    caller.setblocking(False)
    final = None
    try:
        while True:
            data = caller.recv(65536)
            status = cayrun.response_status(data)
            if status and status >= 200 and final is None:
                final, h = status, {
                    name: cayrun.header_value(data, (name, short))
                    for name, short in (("from", "f"), ("to", "t"),
                                        ("call-id", "i"))}
    except BlockingIOError:
        pass
    caller.setblocking(True)
    if final is not None:
        caller.send(("ACK sip:ka0@%s:%d SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK-ring1;rport\r\n"
                     "Max-Forwards: 70\r\nFrom: %s\r\nTo: %s\r\n"
                     "Call-ID: %s\r\nCSeq: 1 ACK\r\n"
                     "Content-Length: 0\r\n\r\n"
                     % ((cayrun.HOST, port) + caller.getsockname()
                        + (h["from"], h["to"], h["call-id"]))).encode())
    return final


def run_flows(args, cay, socks, caller):
    """--flow-timer: the problems."""
    problems = []
    for i, s in enumerate(socks):
        why = register_flow(s, i, cay.port, args.flow_timer)
        if why:
            problems.append("client %d: %s" % (i, why))
    if problems:
        return problems
    window = args.flow_timer + FLOW_LEEWAY_S + 3
    problems += keep_alive(list(enumerate(socks)), window)
    live = cay.live_counters()
    bound = live[1].get("bindings_live") if live else None
    if bound != len(socks) or silent_aors(cay):
        problems.append("cay dropped flows that were kept alive: "
                        "bindings_live %s of %d, silent %s"
                        % (bound, len(socks), sorted(silent_aors(cay))))
        return problems
    half = len(socks) // 2
    problems += ring(caller, socks[0], cay.port, args.shards or 1)
    if problems:
        return problems
    problems += keep_alive(list(enumerate(socks))[half:], window)
    final = caller_final(caller, cay.port)
    if final is None or final < 400:
        problems.append("the call ringing client 0 did not end when its "
                        "flow failed (final response: %s)" % final)
    live = cay.live_counters()
    bound = live[1].get("bindings_live") if live else None
    want = set("sip:ka%d@%s" % (i, cayrun.HOST) for i in range(half))
    if bound != len(socks) - half or silent_aors(cay) != want:
        problems.append("after the first %d clients fell silent: "
                        "bindings_live %s, wanted %d; silent %s"
                        % (half, bound, len(socks) - half,
                           sorted(silent_aors(cay))))
    return problems


def run(args):
    test = "integration.%s" % args.name
    workdir = tempfile.mkdtemp(prefix="cay-stun-%s-" % args.name)
    problems, line, cay, socks, socks_extra = [], "", None, [], []
    try:
        config = None
        if args.flow_timer:
            config = ("registrar:\n  flow_timer_s: %d\n"
                      "routes:\n"
                      "  - match: { method: REGISTER }\n"
                      "    action: register\n"
                      "  - match: { method: INVITE }\n"
                      "    action: forward\n"
                      "    location: true\n"
                      "    ring_timeout_s: 60\n" % args.flow_timer)
        cay, err = cayrun.start_cay(
            args.cay, workdir, config,
            extra_args=["-s", str(args.shards)] if args.shards else [])
        if err:
            raise SystemExit(err)
        print("%s: cay: %s" % (test, " ".join(cay.command())), flush=True)
        for _ in range(args.clients):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((cayrun.HOST, 0))
            s.connect((cayrun.HOST, cay.port))
            socks.append(s)
        if args.flow_timer:
            caller = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            caller.bind((cayrun.HOST, 0))
            caller.connect((cayrun.HOST, cay.port))
            socks_extra.append(caller)
            problems += run_flows(args, cay, socks, caller)
        for k in range(args.requests):
            for i, s in enumerate(socks):
                tid = os.urandom(12)
                fingerprint = (i + k) % 2 == 0
                got = exchange(s, request(tid, fingerprint))
                why = ("no answer" if got is None else
                       judge(got, tid, fingerprint, s.getsockname()))
                if why:
                    problems.append("client %d, request %d: %s" % (i, k, why))
        for what, req in (("a Binding indication",
                           request(os.urandom(12), False, 0x0011)),
                          ("an RFC 3489 request",
                           request(os.urandom(12), False, cookie=0))):
            if exchange(socks[0], req, 0.5) is not None:
                problems.append("%s was answered" % what)
        if cayrun.options_ping(cayrun.HOST, cay.port) != 200:
            problems.append("no 200 to OPTIONS after the keep-alives")
        result = cay.stop()
        problems += result.problems(args.expect)
        line = result.summary_text()
    except SystemExit as e:
        problems.append(str(e))
    finally:
        for s in socks + socks_extra:
            s.close()
        if cay is not None and cay.alive():
            cay.kill()
    return cayrun.verdict(test, problems, line, cay, workdir, args.keep)


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
