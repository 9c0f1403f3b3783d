#!/usr/bin/env python3
"""SIP over WebSocket through cay (RFC 7118), Python WebSocket peers.

Usage:
  run_ws_test.py --cay build/cay --name CASE [--sipp sipp]
                 [--certs tests/data/tls] [--expect KEY=N ...]
                 [--shards N] [--log-level LEVEL] [--keep]

cay runs with a config file listing a UDP listener (the readiness probe,
the SIPp callers), a ws one and a wss one, with the fixture certificates
of tests/data/tls for wss (tls_run.py's Run, with these listeners
added). The peers (ws_peers.py) upgrade their connection (RFC 6455
section 4) asking for the sip subprotocol, send each SIP message as one
masked text frame, and name themselves as browser clients do: Via
SIP/2.0/WS (WSS) with a host under .invalid, a Contact under .invalid
with transport=ws. CASE is one of:

ws_register_call
    A register route and a forward route with location: true. alice
    registers over ws with a plain Contact (cay can reach it only on her
    connection: RFC 7118 section 5), carol over wss with reg-id and
    +sip.instance (RFC 5626). A SIPp caller (UDP) calls each: the INVITE
    must come on the phone's registration connection with Via SIP/2.0/WS
    (WSS) at cay's ws (wss) port and a Contact with transport=ws and that
    port; the phone answers 180 and 200, gets the ACK and, after the
    caller's BYE, a BYE. A TLS caller calls sips:carol and sips:alice
    (RFC 5630): carol, on wss, gets the call (a sips Contact in the 200,
    ACK, BYE); alice, on ws, must not: 480 with Warning 380 "SIPS Not
    Allowed" (section 5.1.1). Then alice calls carol from her WebSocket: the
    200 she gets names cay's ws port with transport=ws, her ACK and BYE
    on the same connection reach carol through cay. Both unregister.
ws_upgrade_refused
    An upgrade without the sip subprotocol gets HTTP 400 and the
    connection closes; a SIP OPTIONS sent as is (no upgrade) on the ws
    port gets HTTP 400, no SIP answer, and closes; an upgrade with
    version 8 gets 426. cay runs with websocket.origins listing the
    peers' page (RFC 6455 section 10.2): upgrades from another page, and
    without an Origin, get 403 and close (several, so that at 4 shards
    each shard's listener refuses some), each logged. Then an OPTIONS
    over a proper WebSocket gets 200, and after a reload (SIGHUP) to a
    config without the list the other page's upgrade is taken.

Every case then stops cay (SIGTERM), which must exit 0, and checks its
summary line (--expect, as ws.cmake gives it). Every SIP message the
peers send and read is in peers.sip in the work directory, kept on
failure (and with --keep).

Standard library only.
"""

import os
import re
import signal
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import cayrun  # noqa: E402
import run_tls_test  # noqa: E402
import tls_run  # noqa: E402
from run_tls_test import ROUTES_REGISTER, UAC_BASIC  # noqa: E402
from tls_peers import (CAY_NAME, SDP, ConnThread, Failure, Phone,  # noqa
                       build_request, final_to, register, tls_connect,
                       uri_of)
from ws_peers import (ORIGIN, open_socket, read_http_head,  # noqa
                      upgrade_request, ws_connect)

HOST = cayrun.HOST
JSSIP_DIR = os.path.join(HERE, "jssip")


class WsRun(tls_run.Run):
    """tls_run.Run with a ws and a wss listener besides UDP and TLS."""

    def config_text(self, port, tls_port, body, verify_client):
        self.ws_port = cayrun.free_udp_tcp_port()
        self.wss_port = cayrun.free_udp_tcp_port()
        text = super().config_text(port, tls_port, body, verify_client)
        return re.sub(r'(?m)^listen: \[ (.*) \]$',
                      lambda m: 'listen: [ %s, "ws:%s:%d", "wss:%s:%d" ]'
                      % (m.group(1), HOST, self.ws_port, HOST,
                         self.wss_port), text, count=1)


def via_ws(via, secure, port):
    """A Via value SIP/2.0/WS (WSS) with sent-by 127.0.0.1:port."""
    return re.match(r"SIP\s*/\s*2\.0\s*/\s*%s\s+127\.0\.0\.1:%d\s*;"
                    % ("WSS" if secure else "WS", port), via,
                    re.I) is not None


def names_ws_port(contact, port):
    """Contact names cay at 127.0.0.1:port with transport=ws (RFC 7118
    section 5.4: ws for both WebSocket transports)."""
    uri = uri_of(contact)
    return (re.match(r"sip:([^@;>]*@)?127\.0\.0\.1:%d(?![0-9])" % port, uri,
                     re.I) is not None
            and re.search(r";transport=ws\b", uri, re.I) is not None)


class WsPhone:
    """A registered WebSocket phone: its Phone, its connection, its
    REGISTER's Call-ID and tag."""

    def __init__(self, r, name, secure, outbound):
        self.name = name
        self.secure = secure
        self.port = r.wss_port if secure else r.ws_port
        self.conn = ws_connect(self.port, "%s's %s" % (
            name, "wss" if secure else "ws"),
            r.args.certs if secure else None)
        r.closers.append(self.conn.close)
        self.aor = "sip:%s@%s" % (name, HOST)
        self.contact = "<sip:%s@%s;transport=ws>" % (
            cayrun.new_token(8), self.conn.via_host)
        self.reg_contact = self.contact
        if outbound:  # RFC 5626 section 4.2
            self.reg_contact += (';reg-id=1;+sip.instance="<urn:uuid:'
                                 '00000000-0000-4000-8000-%012d>"'
                                 % len(name))
        self.phone = Phone(name, self.contact)
        self.call_id = "reg-" + cayrun.new_token(16)
        self.from_tag = cayrun.new_token(8)
        self.served = None

    def register(self, r, cseq, expires):
        ok = register(self.conn, self.aor, self.reg_contact, cseq,
                      self.call_id, self.from_tag, expires)
        r.check(ok.status == 200, "%s: REGISTER (Expires %d) got %s, "
                "wanted 200" % (self.name, expires, ok))
        if expires:
            r.check(ok.top_via().upper().startswith(
                "SIP/2.0/%s %s" % (self.conn.via_transport,
                                   self.conn.via_host.upper())),
                "%s: 200 to the REGISTER has Via %r"
                % (self.name, ok.top_via()))
            r.check(any(self.conn.via_host in c
                        for c in ok.values("contact")),
                    "%s: 200 to the REGISTER lists no binding of %s: %s"
                    % (self.name, self.conn.via_host, ok.values("contact")))
        return ok


def check_called(r, p):
    """p got the SIPp call on its registration connection: INVITE (Via
    and Contact of cay's WebSocket listener), ACK, BYE."""
    invites = p.phone.requests("INVITE")
    if not r.check(invites, "%s got no INVITE (errors %s)"
                   % (p.name, p.phone.errors)):
        return
    inv = invites[0][1]
    r.check(via_ws(inv.top_via(), p.secure, p.port),
            "INVITE to %s: top Via %r is not SIP/2.0/%s 127.0.0.1:%d"
            % (p.name, inv.top_via(), p.conn.via_transport, p.port))
    r.check(names_ws_port(inv.get("contact"), p.port),
            "INVITE to %s: Contact %r does not name 127.0.0.1:%d with "
            "transport=ws" % (p.name, inv.get("contact"), p.port))
    r.notes.append("%s: %s over %s" % (p.name, inv, p.conn.via_transport))
    for method in ("ACK", "BYE"):
        r.check(p.phone.requests(method), "%s got no %s" % (p.name, method))
    r.check(not p.phone.errors, "%s: %s" % (p.name, p.phone.errors))


def call_over_ws(r, caller, callee):
    """caller calls callee's AOR from its WebSocket: 200 naming cay's ws
    listener, ACK, BYE with 200; the callee (served on its thread) got
    INVITE, ACK and BYE."""
    conn, call_id = caller.conn, "ws-call-" + cayrun.new_token(12)
    from_ = "<%s>;tag=%s" % (caller.aor, cayrun.new_token(8))
    conn.send(build_request("INVITE", callee.aor, conn, from_,
                            "<%s>" % callee.aor, call_id, 1, caller.contact,
                            SDP))
    ok = conn.expect("200 to the INVITE", final_to("INVITE"))
    if not r.check(ok.status == 200, "%s -> %s: INVITE got %s"
                   % (caller.name, callee.name, ok)):
        return
    r.check(names_ws_port(ok.get("contact"), caller.port),
            "%s's 200: Contact %r does not name cay's ws port %d with "
            "transport=ws" % (caller.name, ok.get("contact"), caller.port))
    target, to = uri_of(ok.get("contact")), ok.get("to")
    conn.send(build_request("ACK", target, conn, from_, to, call_id, 1))
    conn.send(build_request("BYE", target, conn, from_, to, call_id, 2))
    bye = conn.expect("200 to the BYE", final_to("BYE"))
    r.check(bye.status == 200, "%s's BYE got %s" % (caller.name, bye))
    r.check(cayrun.wait_for("%s's BYE" % callee.name,
                            lambda: callee.phone.requests("BYE"), 5) is None,
            "%s got no BYE" % callee.name)
    got = [m.method for _, m in callee.phone.messages() if m.method]
    r.check(got[:3] == ["INVITE", "ACK", "BYE"], "%s got %s, wanted "
            "INVITE, ACK, BYE" % (callee.name, got))
    r.notes.append("%s -> %s over ws and wss: %s" % (caller.name,
                                                      callee.name, got))


def ack_of(invite, final):
    """The ACK of a non-2xx final response (RFC 3261 section 17.1.1.3):
    the INVITE's Request-URI, Via (its branch), From, Call-ID and CSeq
    number, the response's To."""
    lines = invite.split("\r\n\r\n", 1)[0].split("\r\n")
    ruri = lines[0].split(" ")[1]
    keep = [ln for ln in lines[1:] if ln.split(":", 1)[0].lower() in
            ("via", "from", "call-id", "max-forwards")]
    cseq = [ln for ln in lines if ln.lower().startswith("cseq:")][0]
    return "\r\n".join(["ACK %s SIP/2.0" % ruri] + keep + [
        "To: " + final.get("to"), cseq.replace("INVITE", "ACK"),
        "Content-Length: 0"]) + "\r\n\r\n"


def sips_call(r, callee, allowed):
    """A TLS UAC calls sips:callee (RFC 5630): to a phone registered
    over wss the call goes through (200, ACK, BYE); to one registered
    over ws, 480 with Warning 380 "SIPS Not Allowed" (section 5.1.1), and
    the phone gets nothing."""
    conn = tls_connect(r.args.certs, r.cay.tls_port, "sips caller of %s"
                       % callee.name)
    r.closers.append(conn.close)
    lh, lp = conn.sock.getsockname()[:2]
    call_id, target = "sips-" + cayrun.new_token(12), "sips:%s@%s" % (
        callee.name, HOST)
    from_ = "<sips:caller@%s>;tag=%s" % (HOST, cayrun.new_token(8))
    invite = build_request("INVITE", target, conn, from_, "<%s>" % target,
                           call_id, 1, "<sips:caller@%s:%d>" % (HOST, lp),
                           SDP)
    before = len(callee.phone.requests("INVITE"))
    conn.send(invite)
    final = conn.expect("final response to INVITE %s" % target,
                        final_to("INVITE"))
    if not allowed:
        conn.send(ack_of(invite, final))
        warning = final.get("warning") or ""
        r.check(final.status == 480 and re.match(
            r'380 \S+ "SIPS Not Allowed"$', warning),
            "%s over ws: got %s (Warning %r), wanted 480 with Warning "
            "380 \"SIPS Not Allowed\"" % (target, final, warning))
        r.check(len(callee.phone.requests("INVITE")) == before,
                "%s got the sips call over ws" % callee.name)
        r.notes.append("%s: %s, %s" % (target, final, warning))
        return
    if not r.check(final.status == 200, "%s over wss: got %s, wanted 200"
                   % (target, final)):
        return
    to, contact = final.get("to"), uri_of(final.get("contact"))
    r.check(contact.lower().startswith("sips:"), "%s: the 200's Contact "
            "%r is not sips (RFC 3261 section 12.1.1)" % (target, contact))
    conn.send(build_request("ACK", contact, conn, from_, to, call_id, 1))
    conn.send(build_request("BYE", contact, conn, from_, to, call_id, 2))
    bye = conn.expect("200 to the BYE", final_to("BYE"))
    r.check(bye.status == 200, "%s: BYE got %s" % (target, bye))
    r.notes.append("%s over wss: 200, BYE %s" % (target, bye))


def case_register_call(r):
    r.start_cay(ROUTES_REGISTER)
    alice = WsPhone(r, "alice", secure=False, outbound=False)
    carol = WsPhone(r, "carol", secure=True, outbound=True)
    for p in (alice, carol):
        p.register(r, 1, 600)
    for p in (alice, carol):
        p.served = ConnThread(p.conn, p.phone)
        if r.sipp_call("caller-" + p.name, UAC_BASIC, p.name)[0]:
            r.check(cayrun.wait_for("%s's BYE" % p.name,
                                    lambda: p.phone.requests("BYE"), 5)
                    is None, "%s got no BYE within 5 s" % p.name)
        p.served.join()
        check_called(r, p)
    carol.phone.got.clear()
    carol.served = ConnThread(carol.conn, carol.phone)
    alice.served = ConnThread(alice.conn, alice.phone)
    sips_call(r, alice, allowed=False)
    sips_call(r, carol, allowed=True)
    alice.served.join()
    r.check(cayrun.wait_for("carol's BYE", lambda: carol.phone.requests(
        "BYE"), 5) is None, "carol got no BYE of the sips call")
    carol.phone.got.clear()
    call_over_ws(r, alice, carol)
    carol.served.join()
    for p in (alice, carol):
        p.register(r, 2, 0)
    r.stop_cay()


def refused(r, request, status, what):
    """request on a fresh connection to the ws port gets HTTP status and
    the connection closes."""
    sock = open_socket(r.ws_port)
    try:
        sock.sendall(request)
        head, _ = read_http_head(sock)
        if not head.startswith("HTTP/1.1 %d " % status):
            raise Failure("%s: got %r, wanted HTTP %d"
                          % (what, head[:60], status))
        closed = cayrun.wait_for("the close", lambda: sock.recv(4096) == b"",
                                 5)
        r.check(closed is None, "%s: the connection stayed open" % what)
        r.notes.append("%s: %s" % (what, head.split("\r\n")[0]))
    except (OSError, EOFError) as e:
        r.check(False, "%s: %s" % (what, e))
    finally:
        sock.close()


ORIGINS = 'websocket:\n  origins: [ "%s" ]\n' % ORIGIN


def case_upgrade_refused(r):
    r.start_cay(ORIGINS)
    key = "dGhlIHNhbXBsZSBub25jZQ=="
    refused(r, upgrade_request(key, protocols="chat"), 400,
            "no sip subprotocol")
    refused(r, upgrade_request(key, version="8"), 426, "version 8")
    refused(r, ("OPTIONS sip:%s SIP/2.0\r\nVia: SIP/2.0/TCP 127.0.0.1:9;"
                "branch=z9hG4bK1\r\nContent-Length: 0\r\n\r\n" % HOST)
            .encode(), 400, "SIP without an upgrade")
    mark = r.log_size()
    for i in range(8):
        refused(r, upgrade_request(key, origin="https://other.test"), 403,
                "an upgrade from another page (%d)" % i)
        refused(r, upgrade_request(key, origin=None), 403,
                "an upgrade without Origin (%d)" % i)
    logged = re.findall(r"Origin ('https://other.test'|\(none\)) is not "
                        r"in websocket.origins", r.log_since(mark))
    r.check(len(logged) == 16, "%d of 16 refused origins logged"
            % len(logged))
    conn = ws_connect(r.ws_port, "ws after the refusals")
    r.closers.append(conn.close)
    conn.send(build_request("OPTIONS", "sip:%s" % HOST, conn,
                            "<sip:probe@%s>;tag=1" % HOST,
                            "<sip:%s>" % HOST, "ws-opt-" +
                            cayrun.new_token(8), 1))
    ok = conn.expect("200 to the OPTIONS", final_to("OPTIONS"))
    r.check(ok.status == 200, "OPTIONS over ws got %s" % ok)
    conn.close()
    reload_without_origins(r)
    for i in range(4):
        other = open_socket(r.ws_port)
        try:
            other.sendall(upgrade_request(key, origin="https://other.test"))
            head, _ = read_http_head(other)
            r.check(head.startswith("HTTP/1.1 101 "), "after the reload, "
                    "another page's upgrade got %r" % head[:60])
        finally:
            other.close()
    r.stop_cay()


def reload_without_origins(r):
    """cay's config file without websocket.origins, SIGHUP, and the
    reload's log line."""
    with open(r.cay.config_path) as f:
        text = f.read()
    cayrun.write_config(r.workdir, text.replace(ORIGINS, ""))
    mark = r.log_size()
    os.kill(r.cay.proc.pid, signal.SIGHUP)
    err = cayrun.wait_for("cay's reload line", lambda: re.search(
        r"reload: \d+ routes? taken", r.log_since(mark)) is not None, 5.0)
    if err:
        raise Failure("%s: %s" % (err, r.log_since(mark)[-400:]))


def case_jssip_call(r):
    """jssip/call.js (JsSIP under Node.js) against cay's ws listener."""
    if not os.path.isdir(os.path.join(JSSIP_DIR, "node_modules", "jssip")):
        raise Failure("%s/node_modules has no jssip: run `make deps` (it "
                      "runs npm ci there)" % JSSIP_DIR)
    # Its page's origin is the one cay takes WebSockets from.
    r.start_cay(ROUTES_REGISTER + ORIGINS)
    run_jssip(r, "ws", ["ws://%s:%d" % (HOST, r.ws_port), HOST])
    # Over wss, cay's certificate checked for cay.test against the CA.
    run_jssip(r, "wss", ["wss://%s:%d" % (HOST, r.wss_port), HOST,
                         os.path.join(r.args.certs, "ca.pem"), CAY_NAME])
    r.stop_cay()


def run_jssip(r, label, args):
    """node call.js ARGS: every step and RESULT ok."""
    try:
        out = subprocess.run(["node", "call.js"] + args, cwd=JSSIP_DIR,
                             capture_output=True, text=True, timeout=60)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise Failure("node call.js (%s): %s" % (label, e))
    with open(os.path.join(r.workdir, "jssip-%s.log" % label), "w") as f:
        f.write(out.stdout + out.stderr)
    steps = [line[5:] for line in out.stdout.splitlines()
             if line.startswith("STEP ")]
    result = [line for line in out.stdout.splitlines()
              if line.startswith("RESULT ")]
    r.check(out.returncode == 0 and result == ["RESULT ok"],
            "JsSIP over %s: exit %d, %s (stderr: %s)"
            % (label, out.returncode, result or "no RESULT line",
               out.stderr.strip()[-300:]))
    for want in ("registered alice 200", "registered bob 200",
                 "incoming bob from sip:alice@", "confirmed alice -> bob",
                 "ended bob remote", "failed alice -> nobody 4",
                 "unregistered alice", "unregistered bob"):
        r.check(any(s.startswith(want) for s in steps),
                "JsSIP over %s: no step %r (steps: %s)" % (label, want,
                                                           steps))
    r.notes.append("JsSIP over %s: %s" % (label, "; ".join(steps)))


CASES = {
    "ws_register_call": case_register_call,
    "ws_register_call_4shards": case_register_call,
    "ws_upgrade_refused": case_upgrade_refused,
    "ws_upgrade_refused_4shards": case_upgrade_refused,
    "ws_jssip_call": case_jssip_call,
}


def main(argv=None):
    run_tls_test.CASES = CASES
    run_tls_test.Run = WsRun
    return run_tls_test.main(argv)


if __name__ == "__main__":
    sys.exit(main())
