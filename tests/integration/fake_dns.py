#!/usr/bin/env python3
"""A small authoritative DNS server over UDP for the integration tests.

Standard library only (the packets are built with struct): the Python
CMake finds may not see Debian's dist-packages, so neither dnslib nor
dnspython is at hand.

It holds records given as one line each, "TYPE NAME DATA...":

    A     uas.cay.test 127.0.0.1
    AAAA  uas.cay.test ::1
    SRV   _sip._udp.callee.cay.test 10 5 5070 uas.cay.test
          (priority weight port target, RFC 2782)
    NAPTR callee.cay.test 10 50 s SIP+D2T _sip._tcp.callee.cay.test
          (order preference flags service [regexp] replacement, RFC 3403
          section 4.1; no regexp: an empty one; "" for an empty flags,
          service or regexp; replacement "." for none)
    NODATA noaddr.cay.test      the name exists, with no record (NOERROR
                                and an empty answer to every query)
    DROP  slow.cay.test         no answer at all to any query for it (the
                                client times out)
    SERVFAIL bad.cay.test       RCODE 2 to any query for it

and answers a query (RFC 1035 section 4.1) for
 - a name and type it holds: NOERROR, AA, the records in the answer
   section (TTL 300; SRV targets and NAPTR replacements uncompressed,
   RFC 2782, RFC 3403 section 4.1);
 - a name it holds with another type: NOERROR and no answer (NODATA);
 - any other name: NXDOMAIN (RCODE 3);
 - both negative answers with an SOA record in the authority section
   (TTL and MINIMUM 60: RFC 2308 section 5, how long a resolver may keep
   the negative answer), as a real server's;
 - an opcode other than QUERY, or a packet it cannot parse: NOTIMP or
   FORMERR (an unparsable packet with no header gets nothing).
Names match case-insensitively, without a trailing dot; the question goes
back as it came (a 0x20-randomised case included). Additional records in
the query (an EDNS0 OPT) are ignored and not echoed.

It counts every query it got by (TYPE, name), type as a mnemonic (A, AAAA,
SRV, NAPTR, ... or TYPEnnn) and name lowercased, and remembers which came
first.

As a module (run_b2bua_test.py):

    dns = FakeDns(["A uas.cay.test 127.0.0.1"])   # binds 127.0.0.1:0
    dns.start()                                   # a daemon thread
    ... dns.port ...
    dns.stop()
    dns.queries    # Counter {("A", "uas.cay.test"): 3, ...}

As a program, until SIGINT or SIGTERM, printing the counts on exit:

    fake_dns.py --port 5353 --record "A uas.cay.test 127.0.0.1" \\
        --record "SRV _sip._udp.callee.cay.test 10 5 5070 uas.cay.test"
    dig @127.0.0.1 -p 5353 SRV _sip._udp.callee.cay.test
"""

import argparse
import collections
import select
import signal
import socket
import struct
import sys
import threading

HOST = "127.0.0.1"
TTL = 300
NEGATIVE_TTL = 60

TYPES = {"A": 1, "NS": 2, "CNAME": 5, "SOA": 6, "PTR": 12, "MX": 15,
         "TXT": 16, "AAAA": 28, "SRV": 33, "NAPTR": 35, "OPT": 41,
         "ANY": 255}
TYPE_NAMES = {v: k for k, v in TYPES.items()}
CLASS_IN = 1

# Pseudo-types: the name exists for no type, and every query for it gets
# the given treatment.
BEHAVIOURS = ("DROP", "SERVFAIL")

RCODE_NOERROR, RCODE_FORMERR, RCODE_SERVFAIL = 0, 1, 2
RCODE_NXDOMAIN, RCODE_NOTIMP = 3, 4


def type_name(qtype):
    return TYPE_NAMES.get(qtype, "TYPE%d" % qtype)


def norm(name):
    """A name as records and counts hold it: lowercase, no final dot."""
    return name.rstrip(".").lower()


def encode_name(name):
    """A name in wire form (RFC 1035 section 3.1), uncompressed."""
    out = b""
    for label in norm(name).split("."):
        if not label:
            continue
        raw = label.encode("ascii")
        if len(raw) > 63:
            raise ValueError("label over 63 bytes in %r" % name)
        out += bytes([len(raw)]) + raw
    return out + b"\0"


def decode_name(pkt, off):
    """(name, offset after it) of the name at off; follows compression
    pointers (RFC 1035 section 4.1.4), at most 20 of them."""
    labels, end, jumps = [], None, 0
    while True:
        if off >= len(pkt):
            raise ValueError("name runs past the packet")
        n = pkt[off]
        if n & 0xC0 == 0xC0:
            if off + 1 >= len(pkt) or jumps >= 20:
                raise ValueError("bad compression pointer")
            if end is None:
                end = off + 2
            off = ((n & 0x3F) << 8) | pkt[off + 1]
            jumps += 1
            continue
        if n & 0xC0:
            raise ValueError("unknown label type")
        off += 1
        if n == 0:
            break
        labels.append(pkt[off:off + n].decode("ascii", "replace"))
        off += n
    return ".".join(labels), (end if end is not None else off)


def encode_string(text):
    """A <character-string> (RFC 1035 section 3.3): a length byte, then
    the bytes; '""' on the command line is the empty string."""
    raw = b"" if text == '""' else text.encode("ascii")
    if len(raw) > 255:
        raise ValueError("character-string over 255 bytes: %r" % text)
    return bytes([len(raw)]) + raw


def parse_record(spec):
    """("TYPE", name, rdata bytes or None) from "TYPE NAME DATA..."."""
    words = spec.split()
    if len(words) < 2:
        raise ValueError("want TYPE NAME DATA..., got %r" % spec)
    rtype, name, data = words[0].upper(), norm(words[1]), words[2:]
    if rtype in BEHAVIOURS or rtype == "NODATA":
        if data:
            raise ValueError("%s takes a name only: %r" % (rtype, spec))
        return rtype, name, None
    if rtype == "A":
        if len(data) != 1:
            raise ValueError("want A NAME IPV4, got %r" % spec)
        return rtype, name, socket.inet_pton(socket.AF_INET, data[0])
    if rtype == "AAAA":
        if len(data) != 1:
            raise ValueError("want AAAA NAME IPV6, got %r" % spec)
        return rtype, name, socket.inet_pton(socket.AF_INET6, data[0])
    if rtype == "SRV":
        if len(data) != 4:
            raise ValueError("want SRV NAME PRIORITY WEIGHT PORT TARGET, "
                             "got %r" % spec)
        prio, weight, port = (int(x) for x in data[:3])
        for v in (prio, weight, port):
            if not 0 <= v <= 65535:
                raise ValueError("SRV field out of range in %r" % spec)
        return rtype, name, (struct.pack("!HHH", prio, weight, port)
                             + encode_name(data[3]))
    if rtype == "NAPTR":
        if len(data) not in (5, 6):
            raise ValueError("want NAPTR NAME ORDER PREFERENCE FLAGS SERVICE "
                             "[REGEXP] REPLACEMENT, got %r" % spec)
        order, pref = (int(x) for x in data[:2])
        for v in (order, pref):
            if not 0 <= v <= 65535:
                raise ValueError("NAPTR field out of range in %r" % spec)
        regexp = data[4] if len(data) == 6 else '""'
        return rtype, name, (struct.pack("!HH", order, pref)
                             + encode_string(data[2]) + encode_string(data[3])
                             + encode_string(regexp)
                             + encode_name(data[-1]))
    raise ValueError("unknown record type %r (A, AAAA, SRV, NAPTR, NODATA, "
                     "%s)" % (rtype, ", ".join(BEHAVIOURS)))


class FakeDns:
    """The server: records in, a UDP socket on host, counts out."""

    def __init__(self, records=(), host=HOST, port=0, ttl=TTL,
                 negative_ttl=NEGATIVE_TTL):
        self.records = collections.defaultdict(list)  # (type, name) -> rdata
        self.names = {}  # name -> None, or a behaviour in BEHAVIOURS
        self.ttl = ttl
        self.negative_ttl = negative_ttl
        self.queries = collections.Counter()
        self.first = {}  # (type, name) -> number of its first query, from 0
        self.lock = threading.Lock()
        for spec in records:
            self.add(spec)
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.host, self.port = self.sock.getsockname()[:2]
        self.thread = None
        self.stopping = False

    def add(self, spec):
        """One more record, "TYPE NAME DATA..." (may be called while the
        server runs)."""
        rtype, name, rdata = parse_record(spec)
        with self.lock:
            if rtype in BEHAVIOURS:
                self.names[name] = rtype
            elif rtype == "NODATA":
                self.names.setdefault(name, None)
            else:
                self.records[(TYPES[rtype], name)].append(rdata)
                self.names.setdefault(name, None)

    def count(self, rtype, name=None):
        """Queries got of rtype for name (any name when None)."""
        rtype = rtype.upper()
        with self.lock:
            return sum(n for (t, q), n in self.queries.items()
                       if t == rtype and (name is None or q == norm(name)))

    def first_query(self, rtype, name=None):
        """The number of the first query of rtype for name (any name when
        None), counting all queries from 0; None if there was none."""
        rtype = rtype.upper()
        with self.lock:
            seen = [n for (t, q), n in self.first.items()
                    if t == rtype and (name is None or q == norm(name))]
        return min(seen) if seen else None

    def counts_text(self):
        """ "SRV _sip._udp.x=3 A y=3" in the order the first ones came."""
        with self.lock:
            return " ".join("%s %s=%d" % (t, q, n)
                            for (t, q), n in self.queries.items())

    def answer(self, pkt):
        """The response to one query datagram, or None for no response."""
        if len(pkt) < 12:
            return None
        qid, flags, qdcount = struct.unpack("!HHH", pkt[:6])
        if flags & 0x8000:
            return None  # a response: not for us
        opcode = (flags >> 11) & 0xF
        rd = flags & 0x0100
        head_flags = 0x8000 | (opcode << 11) | 0x0400 | rd  # QR, AA
        if opcode != 0 or qdcount != 1:
            rcode = RCODE_NOTIMP if opcode != 0 else RCODE_FORMERR
            return struct.pack("!HHHHHH", qid, head_flags | rcode,
                               0, 0, 0, 0)
        try:
            qname, off = decode_name(pkt, 12)
            qtype, qclass = struct.unpack("!HH", pkt[off:off + 4])
        except (ValueError, struct.error):
            return struct.pack("!HHHHHH", qid, head_flags | RCODE_FORMERR,
                               0, 0, 0, 0)
        question = pkt[12:off + 4]
        name = norm(qname)
        with self.lock:
            key = (type_name(qtype), name)
            self.first.setdefault(key, sum(self.queries.values()))
            self.queries[key] += 1
            behaviour = self.names.get(name, "NX")
            rdatas = list(self.records.get((qtype, name), ()))
        if behaviour == "DROP":
            return None
        if behaviour == "SERVFAIL":
            rcode = RCODE_SERVFAIL
        elif behaviour == "NX":
            rcode = RCODE_NXDOMAIN
        else:
            rcode = RCODE_NOERROR
        if qclass != CLASS_IN:
            rdatas = []
        answers = b"".join(
            struct.pack("!HHHIH", 0xC00C, qtype, CLASS_IN, self.ttl,
                        len(data)) + data for data in rdatas)
        authority = b""
        if rcode in (RCODE_NXDOMAIN, RCODE_NOERROR) and not rdatas:
            authority = self.soa()
        return (struct.pack("!HHHHHH", qid, head_flags | rcode, 1,
                            len(rdatas), 1 if authority else 0, 0)
                + question + answers + authority)

    def soa(self):
        """An SOA record owned by the question's name (RFC 1035 section
        3.3.13), TTL and MINIMUM negative_ttl (RFC 2308 section 3)."""
        rdata = (encode_name("ns.fake.test")
                 + encode_name("hostmaster.fake.test")
                 + struct.pack("!IIIII", 1, 3600, 600, 86400,
                               self.negative_ttl))
        return struct.pack("!HHHIH", 0xC00C, TYPES["SOA"], CLASS_IN,
                           self.negative_ttl, len(rdata)) + rdata

    def serve_once(self, timeout):
        """Wait up to timeout s for a query; answer it. False if none."""
        ready, _, _ = select.select([self.sock], [], [], timeout)
        if not ready:
            return False
        try:
            pkt, peer = self.sock.recvfrom(4096)
        except OSError:
            return False
        resp = self.answer(pkt)
        if resp is not None:
            try:
                self.sock.sendto(resp, peer)
            except OSError:
                pass
        return True

    def serve(self):
        while not self.stopping:
            self.serve_once(0.1)

    def start(self):
        """Serve from a daemon thread; returns at once."""
        self.thread = threading.Thread(target=self.serve, daemon=True,
                                       name="fake_dns")
        self.thread.start()
        return self

    def stop(self):
        """Stop the thread (if any) and close the socket."""
        self.stopping = True
        if self.thread is not None:
            self.thread.join(2.0)
            self.thread = None
        self.sock.close()


def parse_query_spec(spec):
    """("TYPE", name or None) from "TYPE [NAME]" (--expect-dns-query)."""
    words = spec.split()
    if not 1 <= len(words) <= 2 or (words[0].upper() not in TYPES
                                    and not words[0].upper().startswith(
                                        "TYPE")):
        raise ValueError("want TYPE [NAME], e.g. 'SRV _sip._udp.x.test', "
                         "got %r" % spec)
    return words[0].upper(), (norm(words[1]) if len(words) == 2 else None)


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--host", default=HOST)
    p.add_argument("--port", type=int, default=0,
                   help="UDP port (default: any free one, printed)")
    p.add_argument("--record", action="append", default=[],
                   help='"TYPE NAME DATA...", repeatable (see the top of '
                        'this file)')
    p.add_argument("--ttl", type=int, default=TTL)
    args = p.parse_args(argv)
    try:
        dns = FakeDns(args.record, args.host, args.port, args.ttl)
    except ValueError as e:
        p.error(str(e))

    def on_signal(signum, frame):
        dns.stopping = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    print("fake_dns listening on udp:%s:%d" % (dns.host, dns.port),
          flush=True)
    while not dns.stopping:
        dns.serve_once(0.2)
    dns.sock.close()
    for (t, q), n in dns.queries.items():
        print("query %s %s %d" % (t, q, n))
    sys.stdout.flush()
    return 0


if __name__ == "__main__":
    sys.exit(main())
