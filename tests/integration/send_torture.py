#!/usr/bin/env python3
"""Send the RFC 4475 and RFC 5118 torture messages to `cay` over UDP.

Usage:
  send_torture.py --cay build/cay [--data tests/data] [--keep]

Every tests/data/rfc4475/*.dat and tests/data/rfc5118/*.dat goes to cay as
one raw datagram, bytes unchanged. The script collects what comes back,
prints per file the responses (status and CSeq method) or "nothing", then
checks that cay still answers OPTIONS with 200, stops it with SIGTERM and
checks its exit code (0) and summary (dialogs_live=0, txns_live=0, plus
any --expect).

Where the responses go. cay answers a request over UDP at the source
address (it adds `received`, RFC 3261 section 18.2.1) and the *Via port*,
5060 when the Via has none (section 18.2.2); these messages carry no
rport. So the script binds one socket per Via port on a loopback address
other than 127.0.0.1 (127.0.0.X, X random, so a cay of someone else on
127.0.0.1:5060 is neither hit nor in the way) and sends each file from the
socket whose port its top Via names. Whether cay follows the Via port or
answers the source port, the response reaches the same socket.

No call is left behind. cay runs with answer_after_ms long enough that no
INVITE is answered while the script runs: when an INVITE gets a
provisional response the script CANCELs it (RFC 3261 section 9.1) and
ACKs the 487 (section 17.1.1.3), built from the response's headers; any
non-2xx final response to an INVITE is ACKed too. So cay never sends a BYE
to the Contact of a torture message, which names hosts such as
host5.example.net or 2001:db8::1: nothing leaves the loopback interface.
Short timers (T1 50 ms, T4 500 ms) let every transaction end within the
settle time before SIGTERM.

Strict check: each request listed in ANSWERABLE (syntactically valid
requests, and invalid ones DESIGN.md says are answered with 400) must get
at least one response. --no-strict reports without failing on that.
"""

import argparse
import glob
import os
import random
import re
import selectors
import shutil
import socket
import sys
import tempfile
import time

# Import the shared module from beside this script, and leave no
# __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
DEFAULT_DATA = os.path.normpath(os.path.join(HERE, "..", "data"))
SETS = ("rfc4475", "rfc5118")

CONFIG = """\
answer: { ring_ms: 0, answer_after_ms: 60000 }
timers: { t1_ms: 50, t2_ms: 400, t4_ms: 500 }
"""
# A transaction of the config above is over 64*T1 (Timer J, H) plus T4
# (Timer I) after its request, at the latest.
TXN_LIFE_S = 64 * 0.050 + 0.500 + 0.300

# Requests that must get a response: a responder has everything it needs
# (a request line, a usable Via, Call-ID, CSeq, From, To).
ANSWERABLE = {
    # RFC 4475 section 3.1.1: valid messages, however odd.
    "rfc4475/wsinv", "rfc4475/intmeth", "rfc4475/esc01", "rfc4475/escnull",
    "rfc4475/esc02", "rfc4475/lwsdisp", "rfc4475/longreq",
    "rfc4475/dblreq", "rfc4475/semiuri", "rfc4475/transports",
    "rfc4475/mpart01",
    # RFC 4475 section 3.3: valid syntax, application-level errors, each
    # with the response the RFC expects (416, 420, 415, 400, 483, ...).
    "rfc4475/unkscm", "rfc4475/novelsc", "rfc4475/unksm2",
    "rfc4475/bext01", "rfc4475/invut", "rfc4475/regaut01",
    "rfc4475/multi01", "rfc4475/mcl01", "rfc4475/zeromf",
    "rfc4475/cparam01", "rfc4475/cparam02", "rfc4475/regescrt",
    "rfc4475/sdp01",
    # RFC 4475 section 3.3.1: no Call-ID, From or To; DESIGN.md section 7
    # answers such a request with a stateless 400.
    "rfc4475/insuf",
    # RFC 4475 section 3.4.1: RFC 2543 syntax (no branch), still valid.
    "rfc4475/inv2543",
    # RFC 5118 section 4: valid IPv6 (and IPv4-mapped) messages.
    "rfc5118/ipv6-good", "rfc5118/port-ambiguous",
    "rfc5118/port-unambiguous", "rfc5118/ipv6-correct-abnf-2-colons",
    "rfc5118/ipv4-mapped-ipv6", "rfc5118/ipv6-in-sdp",
    "rfc5118/mult-ip-in-header", "rfc5118/mult-ip-in-sdp",
    "rfc5118/via-received-param-with-delim",
}


class Item:
    """One torture file: its bytes, what it is, and what came back."""

    def __init__(self, name, path):
        self.name = name
        with open(path, "rb") as f:
            self.data = f.read()
        first = self.data.split(b"\n", 1)[0].rstrip(b"\r")
        m = re.match(rb"([^ \t]+)[ \t]+(.*?)[ \t]+SIP/2\.0[ \t]*$", first)
        self.is_response = first.startswith(b"SIP/")
        self.method = m.group(1).decode("latin-1") if m else None
        self.uri = m.group(2).decode("latin-1").strip() if m else None
        # For the report: the method, or the first word of a start line
        # that is not a request line (SIP/7.0, no SIP version, ...).
        words = first.split()
        if self.is_response:
            self.label = "(response)"
        elif self.method:
            self.label = self.method
        else:
            self.label = words[0].decode("latin-1") if words else "?"
        self.call_id = cayrun.header_value(self.data, ("call-id", "i"))
        self.via_port = via_port(self.data)
        self.txn_key = txn_key(self.data, self.method)
        self.sent_at = None
        self.sock = None
        self.responses = []   # (status, CSeq method)
        self.cancelled = False
        self.byed = False
        self.answered_2xx = False

    def final_seen(self):
        """A final response to the request itself (not to our CANCEL)."""
        return any(s >= 200 and m == self.method for s, m in self.responses)

    def summary(self):
        if not self.responses:
            return "nothing"
        out = []
        for status, method in self.responses:
            label = str(status) if method == self.method else "%d/%s" % (
                status, method)
            if out and out[-1][0] == label:
                out[-1][1] += 1
            else:
                out.append([label, 1])
        return " ".join(l if n == 1 else "%sx%d" % (l, n) for l, n in out)


def via_port(data):
    """Port of the top Via's sent-by: explicit, or the transport default.

    RFC 3261 section 18.2.2: 5060, or 5061 for TLS. Returns 5060 when the
    Via cannot be read (the response, if any, is then most likely sent
    there too).
    """
    value = cayrun.header_value(data, ("via", "v"))
    if not value:
        return 5060
    m = re.match(r"SIP\s*/\s*2\.0\s*/\s*(\w+)\s+(\[[^\]]*\]|[^\s;:,]+)"
                 r"(?:\s*:\s*(\d+))?", value)
    if not m:
        return 5060
    if m.group(3):
        return int(m.group(3))
    return 5061 if m.group(1).upper() == "TLS" else 5060


def txn_key(data, method):
    """What a UAS matches a request to its transaction by (RFC 3261
    section 17.2.3): top Via branch, sent-by and method; None for a
    branch without the magic cookie (RFC 2543 matching uses the Call-ID
    and more, which differ between the files)."""
    value = cayrun.header_value(data, ("via", "v"))
    if not value or not method:
        return None
    m = re.match(r"SIP\s*/\s*2\.0\s*/\s*\w+\s+([^;,]+?)\s*;(.*)", value)
    if not m:
        return None
    b = re.search(r"branch\s*=\s*([^;,\s]+)", m.group(2))
    if not b or not b.group(1).startswith("z9hG4bK"):
        return None
    return (b.group(1), re.sub(r"\s+", "", m.group(1)).lower(),
            "INVITE" if method == "ACK" else method)


def first_via(value):
    """The first Via value of a header value, without what cay added."""
    depth, out = 0, ""
    for ch in value:
        if ch == "[":
            depth += 1
        elif ch == "]":
            depth -= 1
        elif ch == "," and depth == 0:
            break
        out += ch
    out = re.sub(r";\s*received=[^;]*", "", out.strip())
    return re.sub(r";\s*rport=\d+", ";rport", out)


def strip_tag(value):
    return re.sub(r";\s*tag=[^;]*", "", value)


class Torture:
    """Sockets, the send loop, and the CANCEL/ACK bookkeeping."""

    def __init__(self, cay_addr, items):
        self.cay_addr = cay_addr
        self.items = items
        self.sent = []       # items in the order sent
        self.current = None
        self.unattributed = []
        self.sel = selectors.DefaultSelector()
        self.socks = {}
        self.unobservable = []
        self.bind_sockets(sorted({it.via_port for it in items}))

    def bind_sockets(self, ports):
        """One socket per Via port, on 127.0.0.X (X random).

        A port another process holds on the wildcard address (a SIPp or a
        server on 0.0.0.0:5060) cannot be bound on any 127.0.0.X; the
        files naming that port are then sent from an ephemeral port and
        their responses, sent to the Via port, cannot be seen. Those
        ports are listed in self.unobservable and reported.
        """
        self.host = "127.0.0.%d" % random.randint(2, 250)
        for port in ports:
            s = None
            for host in [self.host] + ["127.0.0.%d" % random.randint(2, 250)
                                       for _ in range(4)]:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                try:
                    s.bind((host, port))
                    break
                except OSError:
                    s.close()
                    s = None
            if s is None:
                s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
                s.bind((self.host, 0))
                self.unobservable.append(port)
            s.setblocking(False)
            self.socks[port] = s
            self.sel.register(s, selectors.EVENT_READ, port)

    def close(self):
        for s in self.socks.values():
            self.sel.unregister(s)
            s.close()

    def send(self, sock, data):
        try:
            sock.sendto(data, self.cay_addr)
        except OSError as e:
            print("  (send failed: %s)" % e)

    def pump(self, seconds, until=None):
        """Receive and handle datagrams for up to seconds, or until
        until() is true."""
        deadline = time.monotonic() + seconds
        while True:
            if until is not None and until():
                return
            left = deadline - time.monotonic()
            if left <= 0:
                return
            for key, _ in self.sel.select(left):
                while True:
                    try:
                        data, _ = key.fileobj.recvfrom(65535)
                    except (BlockingIOError, ConnectionRefusedError):
                        break
                    self.handle(key.fileobj, data)

    def attribute(self, data):
        """The item a response belongs to: latest sent with its Call-ID."""
        call_id = cayrun.header_value(data, ("call-id", "i"))
        for item in reversed(self.sent):
            if call_id is not None and item.call_id == call_id:
                return item
        # No Call-ID in the response (the request had none, RFC 4475
        # section 3.3.1) or one we cannot match: it answers the file
        # being sent now.
        return self.current

    def handle(self, sock, data):
        status = cayrun.response_status(data)
        if status is None:
            # A request from cay (a BYE would mean a call was answered).
            self.unattributed.append(data.split(b"\r\n", 1)[0].decode(
                "latin-1"))
            return
        cseq = (cayrun.header_value(data, ("cseq",)) or "").split()
        method = cseq[1] if len(cseq) == 2 else "?"
        item = self.attribute(data)
        if item is None:
            self.unattributed.append("%d %s" % (status, method))
            return
        item.responses.append((status, method))
        if method == "INVITE" and item.method == "INVITE":
            self.follow_invite(item, sock, data, status, cseq[0])

    def follow_invite(self, item, sock, data, status, num):
        """CANCEL on a provisional, ACK every final response."""
        via = cayrun.header_value(data, ("via", "v"))
        frm = cayrun.header_value(data, ("from", "f"))
        to = cayrun.header_value(data, ("to", "t"))
        call_id = cayrun.header_value(data, ("call-id", "i"))
        if not (via and frm and to and call_id):
            return
        common = ("Max-Forwards: 70\r\nFrom: %s\r\n" % frm
                  + "Call-ID: %s\r\n" % call_id)
        if 100 <= status < 200 and not item.cancelled:
            # RFC 3261 section 9.1: same Request-URI, Call-ID, From, To
            # (no tag), CSeq number and the single top Via of the INVITE.
            item.cancelled = True
            msg = ("CANCEL %s SIP/2.0\r\nVia: %s\r\n%sTo: %s\r\n"
                   "CSeq: %s CANCEL\r\nContent-Length: 0\r\n\r\n") % (
                item.uri, first_via(via), common, strip_tag(to), num)
            self.send(sock, msg.encode("latin-1"))
        elif 300 <= status:
            # RFC 3261 section 17.1.1.3: the ACK repeats the INVITE's
            # top Via and takes the To (with tag) of the response; sent
            # again for every retransmitted final response.
            msg = ("ACK %s SIP/2.0\r\nVia: %s\r\n%sTo: %s\r\n"
                   "CSeq: %s ACK\r\nContent-Length: 0\r\n\r\n") % (
                item.uri, first_via(via), common, to, num)
            self.send(sock, msg.encode("latin-1"))
        elif 200 <= status < 300:
            self.end_answered_call(item, sock, data, common, to, num)

    def end_answered_call(self, item, sock, data, common, to, num):
        """A 2xx should not come (answer_after_ms is long); if it does,
        ACK it and hang up ourselves so cay never BYEs a torture host."""
        item.answered_2xx = True
        local = sock.getsockname()
        contact = cayrun.header_value(data, ("contact", "m")) or ""
        m = re.search(r"<([^>]+)>", contact)
        target = m.group(1) if m else (contact.split(";")[0].strip()
                                       or "sip:%s:%d" % self.cay_addr)
        for method, cseq in (("ACK", num), ("BYE", str(int(num) + 1))):
            if method == "BYE" and item.byed:
                break
            msg = ("%s %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s"
                   ";rport\r\n%sTo: %s\r\nCSeq: %s %s\r\n"
                   "Content-Length: 0\r\n\r\n") % (
                method, target, local[0], local[1], cayrun.new_token(16),
                common, to, cseq, method)
            self.send(sock, msg.encode("latin-1"))
        item.byed = True

    def run(self, cay, per_file_s, txn_life_s):
        """Send every item; returns the name of the item after which cay
        died, or None.

        Several files share a transaction key (cparam01 and cparam02,
        escnull and regescrt, novelsc and unkscm: same branch, sent-by
        and method). Sent back to back, the second is a retransmission of
        the first to any RFC 3261 server, which answers it with the first
        one's response. Such a file is held back and sent once the
        earlier transaction is over (txn_life_s after it was sent), so
        that every file is judged on its own.
        """
        # Biggest groups of shared keys first: their waits then overlap
        # with sending everything else.
        size = {}
        for item in self.items:
            if item.txn_key:
                size[item.txn_key] = size.get(item.txn_key, 0) + 1
        queue = sorted(self.items, key=lambda it: -size.get(it.txn_key, 1))
        while queue:
            item = self.next_item(queue, txn_life_s)
            item.sock = self.socks[item.via_port]
            self.sent.append(item)
            self.current = item
            item.sent_at = time.monotonic()
            self.send(item.sock, item.data)
            # Wait for the final response (for an INVITE: the one that
            # follows our CANCEL) or for per_file_s of silence.
            self.pump(per_file_s, until=item.final_seen)
            if item.cancelled:
                self.pump(1.0, until=item.final_seen)
            if not cay.alive():
                return item.name
        self.current = None
        return None

    def next_item(self, queue, txn_life_s):
        """Pop the first item whose transaction key is free, waiting for
        one to become free if none is."""
        while True:
            wait = None
            for i, item in enumerate(queue):
                busy = [s.sent_at + txn_life_s for s in self.sent
                        if item.txn_key and s.txn_key == item.txn_key]
                free_at = max(busy) if busy else 0.0
                if free_at <= time.monotonic():
                    return queue.pop(i)
                wait = free_at if wait is None else min(wait, free_at)
            self.current = None
            self.pump(max(0.0, wait - time.monotonic()))


def load_items(data_dir):
    items = []
    for name in SETS:
        for path in sorted(glob.glob(os.path.join(data_dir, name, "*.dat"))):
            base = os.path.splitext(os.path.basename(path))[0]
            items.append(Item("%s/%s" % (name, base), path))
    return items


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                allow_abbrev=False)
    p.add_argument("--cay", required=True, help="the cay binary")
    p.add_argument("--name", default="torture", help="test name")
    p.add_argument("--data", default=DEFAULT_DATA,
                   help="directory holding rfc4475/ and rfc5118/")
    p.add_argument("--per-file-ms", type=int, default=300,
                   help="wait for responses to one file (ms)")
    p.add_argument("--settle-ms", type=int, default=4500,
                   help="wait before SIGTERM so transactions end (ms); "
                        "64*T1 + T4 of the generated config is 3.7 s")
    p.add_argument("--expect", action="append", default=[],
                   help="extra check on cay's summary, e.g. dropped<100")
    p.add_argument("--no-strict", action="store_true",
                   help="do not fail when an ANSWERABLE request gets "
                        "nothing")
    p.add_argument("--stop-timeout", type=float,
                   default=cayrun.STOP_TIMEOUT_S)
    p.add_argument("--log-level", default=None, help="cay -l LEVEL")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory even on success")
    args = p.parse_args(argv)
    cayrun.check_expects(p, args.expect)
    return args


def run(args):
    started = time.monotonic()
    test = "integration.%s" % args.name
    items = load_items(args.data)
    if not items:
        print("FAIL %s: no torture files under %s" % (test, args.data))
        return 1
    workdir = tempfile.mkdtemp(prefix="cay-it-%s-" % args.name)
    problems = []
    cay, err = cayrun.start_cay(args.cay, workdir, CONFIG, args.log_level)
    print("%s: cay: %s" % (test, " ".join(cay.command())), flush=True)
    if err:
        print("FAIL %s: %s" % (test, err))
        print("--- cay stderr (%s), last lines:\n%s"
              % (cay.stderr_path, cay.stderr_tail()))
        print("--- work directory kept: %s" % workdir)
        return 1

    t = Torture(cay.address, items)
    print("%s: sending %d files from %s (ports %s)" % (
        test, len(items), t.host, ",".join(str(p) for p in sorted(t.socks))),
        flush=True)
    blind = [it.name for it in items if it.via_port in t.unobservable]
    if blind:
        print("  WARNING: Via port(s) %s are held by another process on "
              "the wildcard address; responses to the %d files naming "
              "them cannot be seen and are not judged"
              % (",".join(map(str, t.unobservable)), len(blind)))
    died_after = t.run(cay, args.per_file_ms / 1000.0, TXN_LIFE_S)
    if died_after:
        problems.append("cay died after %s (exit code %s)"
                        % (died_after, cay.proc.returncode))
    else:
        # Late responses and retransmissions (re-ACKed) until the
        # transactions are over.
        t.pump(args.settle_ms / 1000.0)
    t.close()

    print("%-46s %-10s %s" % ("file", "method", "responses"))
    missing = []
    for item in items:
        print("%-46s %-10s %s" % (item.name, item.label[:10],
                                  item.summary()))
        if (item.name in ANSWERABLE and not item.responses
                and item.via_port not in t.unobservable):
            missing.append(item.name)
        if item.answered_2xx:
            problems.append("%s was answered 2xx despite answer_after_ms"
                            % item.name)
    if t.unattributed:
        print("unattributed: %s" % ", ".join(t.unattributed[:20]))
    if missing:
        msg = "no response to %d answerable request(s): %s" % (
            len(missing), " ".join(missing))
        if args.no_strict:
            print("  note: " + msg)
        else:
            problems.append(msg)

    if not died_after:
        status = cayrun.options_ping(cay.host, cay.port, timeout=2.0)
        if status != 200:
            problems.append("OPTIONS after the torture got %s, wanted 200"
                            % (status or "nothing"))
    result = cay.stop(args.stop_timeout)
    expects = ["dialogs_live=0", "txns_live=0"] + args.expect
    problems += result.problems(expects)
    took = time.monotonic() - started
    line = "cay rc=%s %s" % (result.returncode, result.summary_text())
    if problems:
        print("FAIL %s: %s (%.1f s)" % (test, "; ".join(problems), took))
        print("  " + line)
        print("--- cay stderr (%s), last lines:\n%s"
              % (cay.stderr_path, cay.stderr_tail(60)))
        print("--- work directory kept: %s" % workdir)
        return 1
    answered = sum(1 for it in items if it.responses)
    note = ""
    if blind:
        note = ", %d NOT OBSERVABLE (Via port busy)" % len(blind)
    print("PASS %s: %d files, %d answered%s, OPTIONS 200 after | %s "
          "(%.1f s)" % (test, len(items), answered, note, line, took))
    if args.keep:
        print("--- work directory: %s" % workdir)
    else:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
