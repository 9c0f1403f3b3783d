#!/usr/bin/env python3
"""A stand-in for the `cay` server, to test the integration harness itself.

Not part of ctest and not a SIP implementation: it speaks just enough of
cay's contract over UDP for run_sipp_test.py and send_torture.py to be run
end to end before cay exists, or to tell a harness bug from a cay bug:

  fake_cay.py -L udp:127.0.0.1:PORT [-c FILE] [-l LEVEL]

- INVITE: 100, then 180 with a To tag after ring_ms, then 200 with an SDP
  answer after answer_after_ms more; the 200 is retransmitted from T1,
  doubling up to T2, until the ACK (RFC 3261 section 13.3.1.4); no ACK
  within 64*T1 ends the call with a BYE. INVITE retransmissions get the
  last provisional again, or are absorbed once the 200 is out (RFC 6026).
- CANCEL before the final response: 200, then 487 for the INVITE,
  retransmitted (Timer G) until the ACK with the INVITE's branch (RFC 3261
  sections 9.2, 17.2.1). An ACK that matches nothing counts as `dropped`,
  so a UAC scenario that builds the ACK wrong shows up in the summary.
- OPTIONS: 200 with Allow; BYE in a dialog: 200, else 481; others: 405.
  Non-INVITE retransmissions get the stored response again until Timer J.
- Responses go to the source address and the Via port, or the source port
  with rport (RFC 3261 section 18.2.2, RFC 3581).
- SIGTERM/SIGINT: BYE for live dialogs, 480 for unanswered INVITEs, then
  `summary k=v ...` on stdout and exit 0.

The config file is read for `key: integer` pairs only (ring_ms,
answer_after_ms, t1_ms, t2_ms, t4_ms); that covers the YAML the harness
writes. The environment variable FAKE_CAY_FAULT makes it misbehave on
purpose, to prove the harness catches it: no-sdp (200 without a body),
exit-3 (exit code 3), no-summary, hang (ignore SIGTERM), leak-dialog
(report dialogs_live=1), no-options (never answer OPTIONS).
"""

import heapq
import os
import random
import re
import selectors
import signal
import socket
import sys
import time

FAULT = os.environ.get("FAKE_CAY_FAULT", "")

COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id",
           "m": "contact", "l": "content-length", "c": "content-type",
           "k": "supported", "s": "subject", "e": "content-encoding"}

ALLOW = "INVITE, ACK, BYE, CANCEL, OPTIONS"

COUNTERS = ("msgs_in", "msgs_out", "retransmits", "parse_errors",
            "bad_requests", "dropped", "calls_in", "calls_answered",
            "calls_rejected", "calls_out", "calls_out_answered",
            "calls_out_failed", "byes_sent", "dialogs_live", "txns_live",
            "send_errors", "handed_over", "dns_lookups", "dns_cache_hits",
            "overload_rejected", "udp_drops", "registers",
            "registers_refused", "bindings_live", "keepalives",
            "messages_in", "messages_relayed", "store_up", "store_writes",
            "store_failures", "responses_1xx", "responses_2xx",
            "responses_3xx", "responses_4xx", "responses_5xx",
            "responses_6xx", "requests_invite", "requests_ack",
            "requests_bye", "requests_cancel", "requests_options",
            "requests_register", "requests_info", "requests_update",
            "requests_prack", "requests_refer", "requests_notify",
            "requests_subscribe", "requests_publish", "requests_message",
            "requests_other", "cdrs", "cdrs_lost", "srd_le_50ms",
            "srd_le_100ms", "srd_le_250ms", "srd_le_500ms", "srd_le_1s",
            "srd_le_2500ms", "srd_le_5s", "srd_le_10s", "srd_ms_sum",
            "srd_count", "auth_challenges", "auth_failures",
            "auth_banned", "source_dropped",
            "source_conns_closed", "flows_failed", "messages_stored",
            "messages_delivered", "messages_dropped")


def log(fmt, *args):
    if LOG_DEBUG:
        sys.stderr.write("fake_cay: " + (fmt % args) + "\n")


LOG_DEBUG = False


class BadMessage(Exception):
    """The datagram is not a usable SIP message."""


class Msg:
    """A parsed message: start line, headers in order, body."""

    def __init__(self, data):
        m = re.search(rb"\r?\n\r?\n", data)
        if not m:
            raise BadMessage("no empty line after the headers")
        head = data[:m.start()].decode("latin-1")
        self.body = data[m.end():]
        lines = re.split(r"\r?\n", head)
        self.start = lines[0]
        self.headers = []
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.headers:
                name, value = self.headers[-1]
                self.headers[-1] = (name, value + " " + line.strip())
                continue
            hm = re.match(r"([A-Za-z0-9.!%*_+`'~-]+)[ \t]*:(.*)$", line)
            if not hm:
                raise BadMessage("bad header line %r" % line[:40])
            name = hm.group(1).lower()
            self.headers.append((COMPACT.get(name, name),
                                 hm.group(2).strip()))
        rq = re.match(r"([A-Za-z0-9.!%*_+`'~-]+) (\S+) SIP/2\.0$",
                      self.start)
        rs = re.match(r"SIP/2\.0 (\d{3}) ", self.start + " ")
        if rq:
            self.method, self.uri, self.status = rq.group(1), rq.group(2), 0
        elif rs:
            self.method, self.uri = None, None
            self.status = int(rs.group(1))
        else:
            raise BadMessage("bad start line %r" % self.start[:40])

    def all(self, name):
        return [v for n, v in self.headers if n == name]

    def get(self, name):
        values = self.all(name)
        return values[0] if values else None


def split_commas(value):
    """Split a header value at commas outside quotes and <>."""
    out, cur, quote, angle = [], "", False, False
    for ch in value:
        if ch == '"':
            quote = not quote
        elif ch == "<" and not quote:
            angle = True
        elif ch == ">" and not quote:
            angle = False
        if ch == "," and not quote and not angle:
            out.append(cur.strip())
            cur = ""
        else:
            cur += ch
    if cur.strip():
        out.append(cur.strip())
    return out


def parse_via(value):
    """(transport, host, port or None, params dict) of one Via value."""
    m = re.match(r"SIP\s*/\s*2\.0\s*/\s*(\w+)\s+(\[[^\]]*\]|[^\s;:]+)"
                 r"(?:\s*:\s*(\d+))?\s*(.*)$", value)
    if not m:
        raise BadMessage("bad Via %r" % value[:40])
    params = {}
    for p in m.group(4).split(";")[1:]:
        k, _, v = p.strip().partition("=")
        params[k.lower()] = v
    port = int(m.group(3)) if m.group(3) else None
    return m.group(1).upper(), m.group(2), port, params


def tag_of(value):
    m = re.search(r";\s*tag=([^;>\s]+)", value or "", re.I)
    return m.group(1) if m else None


def token():
    return "%x" % random.getrandbits(48)


class Fake:
    def __init__(self, host, port, cfg):
        self.cfg = cfg
        self.t1 = cfg.get("t1_ms", 500) / 1000.0
        self.t2 = cfg.get("t2_ms", 4000) / 1000.0
        self.t4 = cfg.get("t4_ms", 5000) / 1000.0
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((host, port))
        self.sock.setblocking(False)
        self.addr = (host, port)
        self.n = dict.fromkeys(COUNTERS, 0)
        self.txns = {}      # key -> txn dict
        self.dialogs = {}   # (call-id, local tag) -> dialog dict
        self.timers = []
        self.seq = 0
        self.stop = False

    # Timers: a heap of (when, seq, fn, args); a cancelled entry is
    # skipped by looking at its owner's generation.
    def at(self, delay, fn, *args):
        self.seq += 1
        heapq.heappush(self.timers, (time.monotonic() + delay, self.seq,
                                     fn, args))

    def run_timers(self):
        now = time.monotonic()
        while self.timers and self.timers[0][0] <= now:
            _, _, fn, args = heapq.heappop(self.timers)
            fn(*args)

    def send(self, data, dest, retrans=False):
        try:
            self.sock.sendto(data, dest)
            self.n["msgs_out"] += 1
            if retrans:
                self.n["retransmits"] += 1
        except OSError as e:
            log("send to %s failed: %s", dest, e)
            self.n["send_errors"] += 1

    def response(self, req, src, status, reason, to_tag=None, extra=(),
                 body=b""):
        """Build a response to req (RFC 3261 section 8.2.6.2)."""
        vias = []
        for v in req.all("via"):
            vias.extend(split_commas(v))
        top = vias[0]
        _, host, _, params = parse_via(top)
        if host != src[0]:
            top = re.sub(r";\s*received=[^;]*", "", top)
            top += ";received=" + src[0]
        if "rport" in params:
            top = re.sub(r";\s*rport(=[^;]*)?", ";rport=%d" % src[1], top)
        vias[0] = top
        to = req.get("to")
        if to_tag and not tag_of(to):
            to += ";tag=" + to_tag
        lines = ["SIP/2.0 %d %s" % (status, reason)]
        lines += ["Via: " + v for v in vias]
        lines += ["From: " + req.get("from"), "To: " + to,
                  "Call-ID: " + req.get("call-id"),
                  "CSeq: " + req.get("cseq")]
        lines += list(extra)
        lines.append("Content-Length: %d" % len(body))
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1") + body

    def bad_request(self, req, src):
        """A stateless 400 that copies whichever of the headers a
        response needs are there (only a Via is required)."""
        vias = []
        for v in req.all("via"):
            vias.extend(split_commas(v))
        parse_via(vias[0])
        vias[0] += ";received=" + src[0]
        lines = ["SIP/2.0 400 Bad Request"] + ["Via: " + v for v in vias]
        for name, label in (("from", "From"), ("to", "To"),
                            ("call-id", "Call-ID"), ("cseq", "CSeq")):
            if req.get(name):
                lines.append("%s: %s" % (label, req.get(name)))
        lines.append("Content-Length: 0")
        return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")

    def dest_of(self, req, src):
        """RFC 3261 section 18.2.2 and RFC 3581 section 4."""
        _, _, port, params = parse_via(split_commas(req.all("via")[0])[0])
        if "rport" in params:
            return src
        return (src[0], port or 5060)

    def txn_key(self, req, method):
        via = split_commas(req.all("via")[0])[0]
        _, host, port, params = parse_via(via)
        branch = params.get("branch", "")
        if branch.startswith("z9hG4bK"):
            return (branch, host, port, method)
        # RFC 3261 section 17.2.3: RFC 2543 fallback matching.
        return (req.get("call-id"), req.get("cseq").split()[0],
                tag_of(req.get("from")), via, method)

    def datagram(self, data, src):
        self.n["msgs_in"] += 1
        if not data.strip():
            return  # keep-alive
        try:
            msg = Msg(data)
        except BadMessage as e:
            log("parse error from %s: %s", src, e)
            self.n["parse_errors"] += 1
            return
        if msg.status:
            self.n["dropped"] += 1  # responses to our BYEs and strays
            return
        try:
            self.request(msg, src)
        except (BadMessage, TypeError, AttributeError, IndexError,
                ValueError) as e:
            # Missing or broken mandatory headers: 400 if we can answer.
            log("bad request from %s: %s", src, e)
            self.n["bad_requests"] += 1
            try:
                if msg.method != "ACK":
                    self.send(self.bad_request(msg, src),
                              self.dest_of(msg, src))
            except (BadMessage, TypeError, AttributeError, IndexError,
                    ValueError):
                self.n["dropped"] += 1

    def request(self, req, src):
        cseq = req.get("cseq").split()
        if len(cseq) != 2 or not cseq[0].isdigit() or cseq[1] != req.method:
            raise BadMessage("bad CSeq")
        for name in ("from", "to", "call-id"):
            if not req.get(name):
                raise BadMessage("no " + name)
        dest = self.dest_of(req, src)
        method = req.method
        if method == "ACK":
            return self.ack(req)
        key = self.txn_key(req, method)
        txn = self.txns.get(key)
        if txn is not None:
            # A retransmission: RFC 3261 sections 17.2.1 and 17.2.2.
            if txn.get("last") and not txn.get("accepted"):
                self.send(txn["last"], txn["dest"], retrans=True)
            return
        if method == "INVITE":
            return self.invite(req, key, dest)
        if method == "CANCEL":
            return self.cancel(req, key, dest)
        if method == "OPTIONS" and FAULT == "no-options":
            return
        if method == "OPTIONS":
            resp = self.response(req, src, 200, "OK", token(),
                                 ["Allow: " + ALLOW,
                                  "Accept: application/sdp"])
        elif method == "BYE":
            d = self.dialogs.pop((req.get("call-id"),
                                  tag_of(req.get("to"))), None)
            if d:
                self.n["dialogs_live"] -= 1
                resp = self.response(req, src, 200, "OK")
            else:
                resp = self.response(req, src, 481,
                                     "Call/Transaction Does Not Exist")
        else:
            resp = self.response(req, src, 405, "Method Not Allowed",
                                 token(), ["Allow: " + ALLOW])
        self.new_txn(key, {"dest": dest, "last": resp})
        self.send(resp, dest)
        # Timer J: 64*T1 on UDP (RFC 3261 section 17.2.2).
        self.at(64 * self.t1, self.end_txn, key)

    def new_txn(self, key, txn):
        self.txns[key] = txn
        self.n["txns_live"] += 1

    def end_txn(self, key):
        if self.txns.pop(key, None) is not None:
            self.n["txns_live"] -= 1

    def invite(self, req, key, dest):
        if tag_of(req.get("to")):
            resp = self.response(req, dest, 481,
                                 "Call/Transaction Does Not Exist")
            self.new_txn(key, {"dest": dest, "last": resp})
            self.send(resp, dest)
            self.at(64 * self.t1, self.end_txn, key)
            return
        self.n["calls_in"] += 1
        txn = {"dest": dest, "req": req, "tag": token(), "final": False,
               "src": dest, "last": None}
        self.new_txn(key, txn)
        txn["last"] = self.response(req, dest, 100, "Trying")
        self.send(txn["last"], dest)
        self.at(self.cfg.get("ring_ms", 0) / 1000.0, self.ring, key, txn)

    def ring(self, key, txn):
        if txn["final"] or self.txns.get(key) is not txn:
            return
        txn["last"] = self.response(txn["req"], txn["src"], 180, "Ringing",
                                    txn["tag"], [self.contact()])
        self.send(txn["last"], txn["dest"])
        self.at(self.cfg.get("answer_after_ms", 0) / 1000.0, self.answer,
                key, txn)

    def contact(self):
        return "Contact: <sip:cay@%s:%d>" % self.addr

    def answer(self, key, txn):
        if txn["final"] or self.txns.get(key) is not txn:
            return
        req = txn["req"]
        body = b""
        if FAULT != "no-sdp":
            body = ("v=0\r\no=cay 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                    "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                    "m=audio 40000 RTP/AVP 0\r\n"
                    "a=rtpmap:0 PCMU/8000\r\n").encode()
        extra = [self.contact()]
        if body:
            extra.append("Content-Type: application/sdp")
        resp = self.response(req, txn["src"], 200, "OK", txn["tag"], extra,
                             body)
        txn["final"] = True
        # RFC 6026: the transaction absorbs INVITE retransmissions
        # (Accepted state) for 64*T1; the dialog retransmits the 200.
        txn["accepted"] = True
        self.at(64 * self.t1, self.end_txn, key)
        self.n["calls_answered"] += 1
        d = {"resp": resp, "dest": txn["dest"], "acked": False,
             "req": req, "tag": txn["tag"], "start": time.monotonic()}
        self.dialogs[(req.get("call-id"), txn["tag"])] = d
        self.n["dialogs_live"] += 1
        self.send(resp, d["dest"])
        self.at(self.t1, self.retrans_2xx, d, self.t1)

    def retrans_2xx(self, d, interval):
        key = (d["req"].get("call-id"), d["tag"])
        if d["acked"] or self.dialogs.get(key) is not d:
            return
        if time.monotonic() - d["start"] >= 64 * self.t1:
            # RFC 3261 section 13.3.1.4: no ACK, end the session.
            self.bye(d)
            return
        self.send(d["resp"], d["dest"], retrans=True)
        interval = min(2 * interval, self.t2)
        self.at(interval, self.retrans_2xx, d, interval)

    def bye(self, d):
        key = (d["req"].get("call-id"), d["tag"])
        if self.dialogs.pop(key, None) is None:
            return
        self.n["dialogs_live"] -= 1
        req = d["req"]
        cseq = int(req.get("cseq").split()[0]) + 1
        bye = ("BYE %s SIP/2.0\r\nVia: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s\r\n"
               "From: %s;tag=%s\r\nTo: %s\r\nCall-ID: %s\r\nCSeq: %d BYE\r\n"
               "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n") % (
            "sip:%s:%d" % d["dest"], self.addr[0], self.addr[1], token(),
            re.sub(r";\s*tag=[^;]*", "", req.get("to")), d["tag"],
            req.get("from"), req.get("call-id"), cseq)
        self.n["byes_sent"] += 1
        self.send(bye.encode(), d["dest"])

    def cancel(self, req, key, dest):
        inv_key = key[:-1] + ("INVITE",)
        inv = self.txns.get(inv_key)
        if inv is None:
            resp = self.response(req, dest, 481,
                                 "Call/Transaction Does Not Exist")
        else:
            resp = self.response(req, dest, 200, "OK", inv.get("tag"))
        self.new_txn(key, {"dest": dest, "last": resp})
        self.send(resp, dest)
        self.at(64 * self.t1, self.end_txn, key)
        if inv is not None and not inv["final"]:
            # RFC 3261 section 9.2: the INVITE gets 487.
            self.reject(inv_key, inv, 487, "Request Terminated")

    def reject(self, key, txn, status, reason):
        txn["final"] = True
        txn["last"] = self.response(txn["req"], txn["src"], status, reason,
                                    txn["tag"])
        self.n["calls_rejected"] += 1
        self.send(txn["last"], txn["dest"])
        # Timer G retransmits, Timer H gives up (RFC 3261 section 17.2.1).
        self.at(self.t1, self.retrans_final, key, txn, self.t1)
        self.at(64 * self.t1, self.end_txn, key)

    def retrans_final(self, key, txn, interval):
        if self.txns.get(key) is not txn or txn.get("acked"):
            return
        self.send(txn["last"], txn["dest"], retrans=True)
        interval = min(2 * interval, self.t2)
        self.at(interval, self.retrans_final, key, txn, interval)

    def ack(self, req):
        key = self.txn_key(req, "INVITE")
        txn = self.txns.get(key)
        to_tag = tag_of(req.get("to"))
        if txn is not None and txn["final"] and not txn.get("accepted"):
            # ACK for a non-2xx final response: same branch as the INVITE
            # and the To tag of the response (RFC 3261 section 17.1.1.3).
            if to_tag != txn["tag"]:
                log("ACK with To tag %s, wanted %s", to_tag, txn["tag"])
                self.n["dropped"] += 1
                return
            if not txn.get("acked"):
                txn["acked"] = True
                self.at(self.t4, self.end_txn, key)  # Timer I
            return
        d = self.dialogs.get((req.get("call-id"), to_tag))
        if d is not None:
            d["acked"] = True
            return
        log("ACK matches nothing: %s", req.start)
        self.n["dropped"] += 1

    def drain(self):
        for d in list(self.dialogs.values()):
            log("drain: live dialog %s acked=%s", d["req"].get("call-id"),
                d["acked"])
            self.bye(d)
        for key, txn in list(self.txns.items()):
            if "req" in txn and not txn["final"]:
                self.reject(key, txn, 480, "Temporarily Unavailable")
        self.txns.clear()
        self.n["txns_live"] = 0

    def loop(self):
        sel = selectors.DefaultSelector()
        sel.register(self.sock, selectors.EVENT_READ)
        while not self.stop:
            timeout = 0.2
            if self.timers:
                timeout = max(0.0, min(timeout,
                                       self.timers[0][0] - time.monotonic()))
            for _ in sel.select(timeout):
                while True:
                    try:
                        data, src = self.sock.recvfrom(65535)
                    except (BlockingIOError, ConnectionRefusedError):
                        break
                    self.datagram(data, src)
            self.run_timers()


def read_config(path):
    cfg = {}
    if not path:
        return cfg
    with open(path) as f:
        for m in re.finditer(r"([a-z0-9_]+)\s*:\s*(\d+)\b", f.read()):
            cfg[m.group(1)] = int(m.group(2))
    return cfg


def main(argv):
    global LOG_DEBUG
    listen, config = "udp:127.0.0.1:5060", None
    i = 0
    while i < len(argv):
        if argv[i] == "-L":
            listen = argv[i + 1]
        elif argv[i] == "-c":
            config = argv[i + 1]
        elif argv[i] == "-l":
            LOG_DEBUG = argv[i + 1] == "debug"
        i += 2
    proto, host, port = listen.split(":")
    assert proto == "udp"
    fake = Fake(host, int(port), read_config(config))

    def on_signal(signum, frame):
        if FAULT != "hang":
            fake.stop = True
    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    sys.stderr.write("fake_cay: listening on %s\n" % listen)
    sys.stderr.flush()
    fake.loop()
    fake.drain()
    if FAULT == "leak-dialog":
        fake.n["dialogs_live"] = 1
    if FAULT != "no-summary":
        print("summary " + " ".join("%s=%d" % (k, fake.n[k])
                                    for k in COUNTERS), flush=True)
    return 3 if FAULT == "exit-3" else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
