#!/usr/bin/env python3
"""STUN keep-alives on cay's SIP port (RFC 5626 section 8, RFC 5389).

Usage:
  run_stun_test.py --cay build/cay --name NAME [--shards 4] [--clients 16]
                   [--requests 10] [--expect KEY=N ...] [--keep]

--clients UDP sockets, each from its own port (the kernel spreads them
over the shards' SO_REUSEPORT sockets), send --requests STUN Binding
requests each to cay's SIP port, half of them with FINGERPRINT. Every
request must get a Binding success response with its transaction id
whose XOR-MAPPED-ADDRESS is the socket's own address (decoded here, by
the RFC, not by the library cay uses), with FINGERPRINT when the request
had one. A Binding indication and an RFC 3489 request (no magic cookie)
get nothing. cay still answers OPTIONS, and its summary (--expect)
counts the keep-alives.

Standard library only.
"""

import argparse
import os
import socket
import struct
import sys
import tempfile
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


def run(args):
    test = "integration.%s" % args.name
    workdir = tempfile.mkdtemp(prefix="cay-stun-%s-" % args.name)
    problems, line, cay, socks = [], "", None, []
    try:
        cay, err = cayrun.start_cay(
            args.cay, workdir,
            extra_args=["-s", str(args.shards)] if args.shards else [])
        if err:
            raise SystemExit(err)
        print("%s: cay: %s" % (test, " ".join(cay.command())), flush=True)
        for _ in range(args.clients):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((cayrun.HOST, 0))
            s.connect((cayrun.HOST, cay.port))
            socks.append(s)
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
        for s in socks:
            s.close()
        if cay is not None and cay.alive():
            cay.kill()
    return cayrun.verdict(test, problems, line, cay, workdir, args.keep)


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
