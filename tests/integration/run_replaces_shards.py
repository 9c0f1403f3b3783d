#!/usr/bin/env python3
"""Attended transfer across shards: an INVITE with Replaces whose Call-ID
hashes to one shard and names a dialog of the other.

Usage:
  run_replaces_shards.py --cay build/cay [--name N] [--keep]

cay runs `shards: 2` with a route forwarding user carol to this script's
carol. The script plays every party over UDP and picks each Call-ID so
that it hashes (cay__callid_shard(), ported below) to the shard the case
needs:

 0. eve (Call-ID of shard 1) sends an INVITE whose Replaces names no
    dialog of shard 0 (Call-ID "gone-..."): it is handed to shard 0, which
    answers 481; eve's ACK comes to shard 1 and follows by the alias set
    when the INVITE was handed over, so the 481 is not retransmitted.
 1. alice (Call-ID of shard 0) calls carol through cay; bob (Call-ID of
    shard 1) sends an INVITE whose Replaces names alice's dialog. cay hands
    it to shard 0 (RFC 3891 section 3 needs the dialog); carol is
    re-INVITEd with bob's offer, bob gets 200 with carol's answer, alice
    gets BYE. bob's ACK comes to shard 1 and follows by alias. cay runs
    with T1 = 50 ms, and the script then waits longer than an alias lasts
    unheld (64*T1): shard 0 told shard 1 that bob's session lives there.
 2. dave (Call-ID of shard 0) replaces bob: bob's Call-ID hashes to
    shard 1, whose alias says bob's dialog lives on shard 0, so the INVITE
    goes 0 -> 1 -> 0. carol is re-INVITEd with dave's offer, bob gets BYE.
    dave's BYE ends the call at carol.
 3. The other way round: alice2 (shard 1), bob2 (shard 0) replaces her;
    then carol hangs up, and bob2's 200 to cay's BYE (Call-ID of shard 0)
    reaches shard 1 by alias.

Checks: every step above on the wire (carol's re-INVITE carries the new
caller's media port, each replaced caller gets BYE, each BYE is answered
200); cay's log says each INVITE was handed to the shard the script
computed; cay exits 0 with dialogs_live=0 and txns_live=0, and its shard
lines count calls_in 4 on shard 0 and 2 on shard 1 (the replacing INVITEs
are counted where their dialog lives).
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

SHARDS = 2
T1_MS = 50  # cay's T1: an alias not held lasts 64*T1 = 3.2 s
WAIT_S = 5.0
def call_id_on(shard, name):
    """A fresh Call-ID that cay's router gives to @shard."""
    while True:
        cid = "%s-%s@%s" % (name, cayrun.new_token(12), cayrun.HOST)
        if cayrun.cay_hash(cid.encode()) % SHARDS == shard:
            return cid


def sdp(port):
    return ("v=0\r\no=- %d 1 IN IP4 %s\r\ns=-\r\nc=IN IP4 %s\r\nt=0 0\r\n"
            "m=audio %d RTP/AVP 0\r\n" % (port, cayrun.HOST, cayrun.HOST,
                                          port))


class Msg:
    def __init__(self, data):
        self.data = data
        self.status = cayrun.response_status(data)
        first = data.split(b"\r\n", 1)[0].decode("latin-1")
        self.method = None if self.status else first.split(" ", 1)[0]
        self.uri = None if self.status else first.split(" ")[1]
        self.body = data.split(b"\r\n\r\n", 1)[1].decode("latin-1") \
            if b"\r\n\r\n" in data else ""

    def hdr(self, *names):
        return cayrun.header_value(self.data, tuple(n.lower() for n in names))

    def cseq_method(self):
        return (self.hdr("CSeq") or " ").split()[-1]

    def tag(self, name, short):
        m = re.search(r";\s*tag=([^;\s>]+)", self.hdr(name, short) or "")
        return m.group(1) if m else None

    def __str__(self):
        return self.data.split(b"\r\n", 1)[0].decode("latin-1")


class UA:
    """One party on its own UDP port: sends to cay, keeps what came."""

    def __init__(self, name, cay_addr):
        self.name = name
        self.cay = cay_addr
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind((cayrun.HOST, 0))
        self.port = self.sock.getsockname()[1]
        self.inbox = []
        self.seen = []  # every message, for the log

    def uri(self):
        return "sip:%s@%s:%d" % (self.name, cayrun.HOST, self.port)

    def send(self, text, to=None):
        self.sock.sendto(text.encode("latin-1"), to or self.cay)

    def expect(self, what, pred):
        """The first message (kept or new) for which pred holds; SystemExit
        naming @what after WAIT_S."""
        deadline = time.monotonic() + WAIT_S
        while True:
            for m in self.inbox:
                if pred(m):
                    self.inbox.remove(m)
                    return m
            left = deadline - time.monotonic()
            if left <= 0:
                raise SystemExit("%s: no %s within %.0f s (got: %s)" % (
                    self.name, what, WAIT_S,
                    ", ".join(str(m) for m in self.seen[-6:]) or "nothing"))
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                continue
            m = Msg(data)
            self.seen.append(m)
            self.inbox.append(m)

    def drain(self, seconds):
        """Keep what comes within @seconds."""
        deadline = time.monotonic() + seconds
        while (left := deadline - time.monotonic()) > 0:
            self.sock.settimeout(left)
            try:
                data, _ = self.sock.recvfrom(65535)
            except socket.timeout:
                break
            self.seen.append(Msg(data))
            self.inbox.append(self.seen[-1])

    def request(self, method, cid):
        return self.expect("%s (Call-ID %s)" % (method, cid),
                           lambda m: m.method == method
                           and m.hdr("Call-ID", "i") == cid)

    def response(self, status, method, cid):
        return self.expect("%d to %s" % (status, method),
                           lambda m: m.status == status
                           and m.cseq_method() == method
                           and m.hdr("Call-ID", "i") == cid)

    def reply(self, req, status, reason, to_tag=None, body=None,
              contact=True):
        to = req.hdr("To", "t")
        if to_tag and ";tag=" not in to:
            to += ";tag=%s" % to_tag
        vias = "".join("Via: %s\r\n" % v for v in all_values(req, "via",
                                                              "v"))
        extra = "Contact: <%s>\r\n" % self.uri() if contact else ""
        if body:
            extra += "Content-Type: application/sdp\r\n"
        self.send("SIP/2.0 %d %s\r\n%sFrom: %s\r\nTo: %s\r\nCall-ID: %s\r\n"
                  "CSeq: %s\r\n%sContent-Length: %d\r\n\r\n%s" % (
                      status, reason, vias, req.hdr("From", "f"), to,
                      req.hdr("Call-ID", "i"), req.hdr("CSeq"), extra,
                      len(body or ""), body or ""))

    def close(self):
        self.sock.close()


def all_values(msg, *names):
    head = msg.data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    out = []
    for line in head.split("\r\n")[1:]:
        name, sep, value = line.partition(":")
        if sep and name.strip().lower() in names:
            out += [v.strip() for v in value.split(",")]
    return out


class Caller:
    """alice, bob, dave: the UAC side of one dialog with cay."""

    def __init__(self, ua, cid):
        self.ua, self.cid = ua, cid
        self.tag = cayrun.new_token(8)
        self.cay_tag = None
        self.cseq = 1

    def headers(self, method, cseq, branch):
        to = "<sip:carol@%s:%d>" % self.ua.cay
        if self.cay_tag:
            to += ";tag=%s" % self.cay_tag
        return ("Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
                "Max-Forwards: 70\r\nFrom: <%s>;tag=%s\r\nTo: %s\r\n"
                "Call-ID: %s\r\nCSeq: %d %s\r\nContact: <%s>\r\n" % (
                    cayrun.HOST, self.ua.port, branch, self.ua.uri(),
                    self.tag, to, self.cid, cseq, method, self.ua.uri()))

    def invite(self, media_port, replaces=None):
        body = sdp(media_port)
        self.branch = cayrun.new_token()
        self.ua.send("INVITE sip:carol@%s:%d SIP/2.0\r\n%s%s"
                     "Content-Type: application/sdp\r\nContent-Length: %d"
                     "\r\n\r\n%s" % (
                         cayrun.HOST, self.ua.cay[1],
                         self.headers("INVITE", 1, self.branch),
                         "Replaces: %s\r\n" % replaces if replaces else "",
                         len(body), body))

    def answered(self):
        """cay's 200 to our INVITE, ACKed."""
        ok = self.ua.response(200, "INVITE", self.cid)
        self.cay_tag = ok.tag("To", "t")
        self.ua.send("ACK %s SIP/2.0\r\n%sContent-Length: 0\r\n\r\n" % (
            (ok.hdr("Contact", "m") or "").strip("<>"),
            self.headers("ACK", 1, cayrun.new_token())))
        return ok

    def refused(self, status):
        """cay's final @status to our INVITE, ACKed in its transaction
        (RFC 3261 section 17.1.1.3)."""
        no = self.ua.response(status, "INVITE", self.cid)
        self.cay_tag = no.tag("To", "t")
        self.ua.send("ACK sip:carol@%s:%d SIP/2.0\r\n%sContent-Length: 0"
                     "\r\n\r\n" % (self.ua.cay[0], self.ua.cay[1],
                                     self.headers("ACK", 1, self.branch)))

    def replaces(self):
        """The Replaces value naming this dialog (RFC 3891 section 6.1):
        to-tag is cay's, from-tag ours."""
        return "%s;to-tag=%s;from-tag=%s" % (self.cid, self.cay_tag, self.tag)

    def bye(self):
        self.cseq += 1
        self.ua.send("BYE sip:cay@%s:%d SIP/2.0\r\n%sContent-Length: 0\r\n"
                     "\r\n" % (self.ua.cay[0], self.ua.cay[1],
                               self.headers("BYE", self.cseq,
                                            cayrun.new_token())))
        self.ua.response(200, "BYE", self.cid)

    def answer_bye(self):
        self.ua.reply(self.ua.request("BYE", self.cid), 200, "OK",
                      contact=False)


class Carol:
    """The callee cay forwards to: answers INVITEs and re-INVITEs."""

    def __init__(self, ua):
        self.ua = ua
        self.tag = cayrun.new_token(8)
        self.leg = None  # cay's INVITE of the current call
        self.cseq = 1

    def answer_call(self):
        self.leg = self.ua.expect("INVITE", lambda m: m.method == "INVITE")
        self.ua.reply(self.leg, 200, "OK", self.tag, sdp(20000))
        self.ua.request("ACK", self.leg.hdr("Call-ID", "i"))

    def answer_reinvite(self, media_port):
        """cay's re-INVITE offering the joining caller's media."""
        cid = self.leg.hdr("Call-ID", "i")
        re_inv = self.ua.request("INVITE", cid)
        if ("m=audio %d " % media_port) not in re_inv.body:
            raise SystemExit("carol: re-INVITE does not offer port %d: %r"
                             % (media_port, re_inv.body))
        self.ua.reply(re_inv, 200, "OK", self.tag, sdp(20000))
        self.ua.request("ACK", cid)

    def answer_bye(self):
        self.ua.reply(self.ua.request("BYE", self.leg.hdr("Call-ID", "i")),
                      200, "OK", contact=False)

    def bye(self):
        """carol hangs up: a BYE in cay's leg to her."""
        leg = self.leg
        self.cseq += 1
        self.ua.send("BYE %s SIP/2.0\r\n"
                     "Via: SIP/2.0/UDP %s:%d;branch=z9hG4bK%s;rport\r\n"
                     "Max-Forwards: 70\r\nFrom: %s;tag=%s\r\nTo: %s\r\n"
                     "Call-ID: %s\r\nCSeq: %d BYE\r\nContent-Length: 0\r\n"
                     "\r\n" % (
                         (leg.hdr("Contact", "m") or "").strip("<>"),
                         cayrun.HOST, self.ua.port, cayrun.new_token(),
                         leg.hdr("To", "t"), self.tag, leg.hdr("From", "f"),
                         leg.hdr("Call-ID", "i"), self.cseq))
        self.ua.response(200, "BYE", leg.hdr("Call-ID", "i"))


def transfer(carol, old, new, port):
    """new's INVITE replaces old's dialog: carol is offered new's media,
    new is answered, old gets BYE."""
    new.invite(port, old.replaces())
    carol.answer_reinvite(port)
    new.answered()
    old.answer_bye()


def scenario(cay, carol_ua, uas):
    carol = Carol(carol_ua)
    alice = Caller(uas["alice"], call_id_on(0, "alice"))
    bob = Caller(uas["bob"], call_id_on(1, "bob"))
    dave = Caller(uas["dave"], call_id_on(0, "dave"))
    eve = Caller(uas["bob"], call_id_on(1, "eve"))
    gone = call_id_on(0, "gone")
    handed = [(eve.cid, gone, 0), (bob.cid, alice.cid, 0),
              (dave.cid, bob.cid, 1), (dave.cid, bob.cid, 0)]
    # 0. eve (shard 1) names no dialog of shard 0: 481 from there; her ACK
    # comes to shard 1, whose alias sends it to the 481's transaction, so
    # the 481 is not sent again (it would be at T1, 2*T1, ...).
    eve.invite(4010, "%s;to-tag=x;from-tag=y" % gone)
    eve.refused(481)
    eve.ua.drain(3 * T1_MS / 1000.0 + 0.5)
    if any(m.status == 481 for m in eve.ua.inbox):
        raise SystemExit("eve: the 481 came again after her ACK: the ACK "
                         "did not reach its transaction")
    # 1. bob (shard 1) replaces alice (shard 0).
    alice.invite(4000)
    carol.answer_call()
    alice.answered()
    transfer(carol, alice, bob, 4002)
    # bob's dialog is quiet for longer than an alias that is not held
    # lasts: shard 1 still knows it lives on shard 0 (shard 0 said so when
    # bob's session began).
    time.sleep(64 * T1_MS / 1000.0 + 0.5)
    # 2. dave (shard 0) replaces bob (hashes to 1, lives on 0).
    transfer(carol, bob, dave, 4004)
    dave.bye()
    carol.answer_bye()
    # 3. bob2 (shard 0) replaces alice2 (shard 1); carol hangs up.
    alice2 = Caller(uas["alice"], call_id_on(1, "alice2"))
    bob2 = Caller(uas["bob"], call_id_on(0, "bob2"))
    handed.append((bob2.cid, alice2.cid, 1))
    alice2.invite(4006)
    carol.answer_call()
    alice2.answered()
    transfer(carol, alice2, bob2, 4008)
    carol.bye()
    bob2.answer_bye()
    return handed


def judge_log(stderr_text, handed):
    out = []
    for cid, named, shard in handed:
        line = ("INVITE %s replaces a dialog of Call-ID %s (RFC 3891): "
                "handed to shard %d" % (cid, named, shard))
        if line not in stderr_text:
            out.append("cay's log lacks %r" % line)
    return out


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--cay", required=True)
    ap.add_argument("--name", default="replaces_shards")
    ap.add_argument("--keep", action="store_true")
    return ap.parse_args(argv)


def run(args):
    test = "integration.%s" % args.name
    workdir = tempfile.mkdtemp(prefix="cay-%s-" % args.name)
    problems, line, cay, uas = [], "", None, {}
    carol_ua = UA("carol", None)
    config = ("shards: %d\n"
              "timers: { t1_ms: %d }\n"
              "routes:\n"
              "  - match: { ruri_user: \"^carol$\" }\n"
              "    action: forward\n"
              "    target: \"sip:carol@%s:%d\"\n"
              % (SHARDS, T1_MS, cayrun.HOST, carol_ua.port))
    try:
        cay, err = cayrun.start_cay(args.cay, workdir, config)
        if err:
            raise SystemExit(err)
        carol_ua.cay = cay.address
        for name in ("alice", "bob", "dave"):
            uas[name] = UA(name, cay.address)
        handed = scenario(cay, carol_ua, uas)
        time.sleep(0.2)  # the last 200s reach cay before SIGTERM
        result = cay.stop()
        problems += judge_log(cay.stderr_tail(400), handed)
        problems += result.problems(
            ["dialogs_live=0", "txns_live=0", "calls_in=6",
             "calls_rejected=1"])
        per = cayrun.parse_shard_summaries(result.stdout_text)
        got = [s.get("calls_in") for s in per]
        if got != [4, 2]:
            problems.append("calls_in by shard %s, wanted [4, 2]" % got)
        line = result.summary_text()
    except SystemExit as e:
        problems.append(str(e))
    finally:
        for ua in [carol_ua] + list(uas.values()):
            ua.close()
        if cay is not None and cay.alive():
            cay.kill()
    return cayrun.verdict(test, problems, line, cay, workdir, args.keep)


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
