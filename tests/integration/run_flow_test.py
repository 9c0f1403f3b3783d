#!/usr/bin/env python3
"""Phones on outbound flows that die while ringing (RFC 5626 section 7).

Usage:
  run_flow_test.py --cay build/cay --name NAME [--shards 4] [--calls 8]
                   [--expect KEY=N ...] [--keep]

cay runs with a register route and a forward route with location: true
(ring_timeout_s 30). --calls phones each open their own TCP connection
to cay and register sip:phoneK@127.0.0.1 over it with reg-id and
+sip.instance at a private contact (10.0.0.7): an outbound flow, which
only that connection reaches. SIPp then calls each phone through cay
(scenarios/b2b_uac_flow_failed.xml). Each phone answers cay's INVITE
180 Ringing on its connection, then dies: the connection is reset.

cay's shard that owns the connection learns it closed and tells the
others; the call's shard ends the B leg's INVITE transaction (503, a
transport error) and the caller gets 500 within 5 s instead of the ring
timeout; the AOR's shard removes the binding. At 4 shards the three are
most often different shards.

Checks: every SIPp call got 180 then 500 "Callee Unavailable"; every
phone got its INVITE on the connection it registered over; cay's summary
(--expect), with nothing live at the end.

--answer: one phone answers 200 instead, and resets its connection once
the ACK came; the caller (scenarios/uac_basic.xml) hangs up a second
later. cay's BYE for the phone finds the flow gone and fails at once: it
is not sent on a new connection to the phone's old address (a NAT's
mapping nobody listens on; cay's debug log shows no connect there).

Standard library only.
"""

import argparse
import os
import re
import selectors
import socket
import struct
import sys
import tempfile
import threading
import time

import cayrun
import run_sipp_test

HERE = os.path.dirname(os.path.abspath(__file__))
SCENARIO = os.path.join(HERE, "scenarios", "b2b_uac_flow_failed.xml")
UAC_BASIC = os.path.join(HERE, "scenarios", "uac_basic.xml")

SDP = ("v=0\r\no=phone 1 1 IN IP4 10.0.0.7\r\ns=-\r\n"
       "c=IN IP4 10.0.0.7\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n"
       "a=rtpmap:0 PCMU/8000\r\n")

CONFIG = """routes:
  - match: { method: REGISTER }
    action: register
  - match: { method: INVITE }
    action: forward
    location: true
    ring_timeout_s: 30
"""


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cay", required=True)
    p.add_argument("--sipp", default="sipp")
    p.add_argument("--name", required=True)
    p.add_argument("--shards", type=int, default=None)
    p.add_argument("--calls", type=int, default=8)
    p.add_argument("--answer", action="store_true",
                   help="one phone answers, then dies; the caller hangs up")
    p.add_argument("--expect", action="append", default=[],
                   help="KEY=N on cay's summary (repeat)")
    p.add_argument("--keep", action="store_true")
    args = p.parse_args(argv)
    cayrun.check_expects(p, args.expect)
    return args


def header(text, name):
    m = re.search(r"^%s:\s*(.*?)\r?$" % name, text, re.M | re.I)
    return m.group(1) if m else None


class Phone:
    """One UA on its own TCP connection to cay."""

    def __init__(self, k, cay_port, answer):
        self.k = k
        self.answer = answer
        self.aor = "sip:phone%d@%s" % (k, cayrun.HOST)
        self.sock = socket.create_connection((cayrun.HOST, cay_port), 5)
        self.local = self.sock.getsockname()
        self.buf = b""
        self.registered = False
        self.invited = False
        self.dead = False

    def register(self):
        lh, lp = self.local[0], self.local[1]
        req = ("REGISTER sip:%s SIP/2.0\r\n"
               "Via: SIP/2.0/TCP %s:%d;branch=z9hG4bK%s;rport\r\n"
               "Max-Forwards: 70\r\n"
               "From: <%s>;tag=%s\r\n"
               "To: <%s>\r\n"
               "Call-ID: flow-%d-%s\r\n"
               "CSeq: 1 REGISTER\r\n"
               "Supported: outbound, path\r\n"
               "Contact: <sip:phone%d@10.0.0.7:5060;transport=tcp;ob>"
               ";reg-id=1;+sip.instance=\"<urn:uuid:00000000-0000-1000-"
               "8000-%012d>\"\r\n"
               "Expires: 600\r\n"
               "Content-Length: 0\r\n\r\n"
               % (cayrun.HOST, lh, lp, cayrun.new_token(16), self.aor,
                  cayrun.new_token(8), self.aor, self.k, cayrun.new_token(8),
                  self.k, self.k))
        self.sock.sendall(req.encode())

    def messages(self):
        """Complete messages read so far (framed by Content-Length)."""
        out = []
        while True:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return out
            head = self.buf[:end].decode("latin-1")
            clen = int(header(head, "(?:Content-Length|l)") or 0)
            if len(self.buf) < end + 4 + clen:
                return out
            out.append(head)
            self.buf = self.buf[end + 4 + clen:]

    def on_readable(self):
        data = self.sock.recv(65536)
        if not data:
            self.dead = True
            return
        self.buf += data
        for m in self.messages():
            if m.startswith("SIP/2.0 200") and "REGISTER" in (
                    header(m, "CSeq") or ""):
                self.registered = True
            elif m.startswith("INVITE "):
                self.invited = True
                if self.answer:
                    self.respond(m, "200 OK", SDP)
                else:
                    self.respond(m, "180 Ringing", "")
                    time.sleep(0.2)
                    self.die()
            elif m.startswith("ACK ") and self.answer:
                time.sleep(0.1)
                self.die()

    def respond(self, invite, status, sdp):
        """A response to invite on its connection."""
        vias = re.findall(r"^(?:Via|v):.*?\r?$", invite, re.M | re.I)
        lines = ["SIP/2.0 " + status] + [v.rstrip("\r") for v in vias]
        for name in ("From", "Call-ID", "CSeq"):
            lines.append("%s: %s" % (name, header(invite, name)))
        lines.append("To: %s;tag=ph%d" % (header(invite, "To"), self.k))
        lines.append("Contact: <sip:phone%d@10.0.0.7:5060;transport=tcp>"
                     % self.k)
        if sdp:
            lines.append("Content-Type: application/sdp")
        lines.append("Content-Length: %d" % len(sdp))
        self.sock.sendall(("\r\n".join(lines) + "\r\n\r\n" + sdp)
                          .encode())

    def die(self):
        """Reset the connection (SO_LINGER 0): a phone that is gone."""
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER,
                             struct.pack("ii", 1, 0))
        self.sock.close()
        self.dead = True


def judge_no_reopen(cay, phone):
    """cay sent the phone's BYE nowhere once its flow was gone."""
    with open(cay.stderr_path, encoding="utf-8", errors="replace") as f:
        log = f.read()
    where = "%s:%d" % phone.local
    problems = []
    if "tcp: connect to %s" % where in log or re.search(
            r"tcp: connect to 127\.0\.0\.1:%d " % phone.local[1], log):
        problems.append("cay opened a new connection to the dead phone's "
                        "flow address %s" % where)
    if "send failed: connection to the peer failed" not in log:
        problems.append("cay's log has no failed send for the BYE over "
                        "the dead flow")
    return problems


def serve(phones, stop):
    """Read every phone's connection until stop is set."""
    sel = selectors.DefaultSelector()
    for p in phones:
        sel.register(p.sock, selectors.EVENT_READ, p)
    while not stop.is_set():
        for key, _ in sel.select(0.05):
            p = key.data
            try:
                p.on_readable()
            except OSError:
                p.dead = True
            if p.dead:
                sel.unregister(key.fileobj)
    sel.close()


def run(args):
    test = "integration.%s" % args.name
    workdir = tempfile.mkdtemp(prefix="cay-flow-%s-" % args.name)
    problems, line, cay, caller = [], "", None, None
    phones, stop, reader = [], threading.Event(), None
    try:
        cay, err = cayrun.start_cay(
            args.cay, workdir, CONFIG, tcp=True,
            log_level="debug" if args.answer else None,
            extra_args=["-s", str(args.shards)] if args.shards else [])
        if err:
            raise SystemExit(err)
        print("%s: cay: %s" % (test, " ".join(cay.command())), flush=True)
        calls = 1 if args.answer else args.calls
        phones = [Phone(k, cay.port, args.answer)
                  for k in range(1, calls + 1)]
        reader = threading.Thread(target=serve, args=(phones, stop))
        reader.start()
        for p in phones:
            p.register()
        err = cayrun.wait_for("the phones' 200s to REGISTER",
                              lambda: all(p.registered for p in phones), 5)
        if err:
            raise SystemExit(err)
        caller = run_sipp_test.Sipp(args.sipp, workdir, "caller")
        what = (["-sf", UAC_BASIC, "-s", "phone1", "-d", "1000"]
                if args.answer else ["-sf", SCENARIO])
        caller.start(["%s:%d" % (cayrun.HOST, cay.port)] + what + [
                      "-i", cayrun.HOST,
                      "-p", str(cayrun.free_udp_port()),
                      "-m", str(calls), "-r", "10",
                      "-timeout", "30s", "-timeout_error",
                      "-recv_timeout", "10000"])
        print("%s: caller: %s" % (test, " ".join(caller.cmd)), flush=True)
        rc = run_sipp_test.wait_uac(caller, cay, 40)
        stats = caller.stats()
        problems += ["caller: " + x for x in run_sipp_test.judge_sipp(
            caller, rc, stats, calls)]
        line = "caller " + run_sipp_test.sipp_text(rc, stats)
        lost = [p.k for p in phones if not p.invited]
        if lost:
            problems.append("phones %s got no INVITE on the connection "
                            "they registered over" % lost)
        result = cay.stop()
        problems += result.problems(args.expect)
        if args.answer:
            problems += judge_no_reopen(cay, phones[0])
        line += " | cay " + result.summary_text()
    except SystemExit as e:
        problems.append(str(e))
    finally:
        stop.set()
        if reader is not None:
            reader.join()
        for p in phones:
            if not p.dead:
                p.sock.close()
        if cay is not None and cay.alive():
            cay.kill()
    logs = [("caller SIPp", caller.report())] if caller else []
    return cayrun.verdict(test, problems, line, cay, workdir, args.keep,
                          [(t, x) for t, x in logs])


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
