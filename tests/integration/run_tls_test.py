#!/usr/bin/env python3
"""SIP over TLS through cay (RFC 3261 section 26, RFC 5922), Python ssl peers.

Usage:
  run_tls_test.py --cay build/cay --name CASE [--sipp sipp]
                  [--certs tests/data/tls] [--expect KEY=N ...]
                  [--shards N] [--phones K] [--log-level LEVEL] [--keep]

cay runs with a config file that lists its listeners, a UDP one (for the
OPTIONS readiness probe and the SIPp callers, which have no TLS) and a
TLS one, and a `tls:` section with the fixture certificates of
tests/data/tls (server.pem for cay, ca.pem to verify peers). The Python
peers speak raw SIP over `ssl` sockets, framed by Content-Length as on
TCP (RFC 3261 section 18.3); each verifies cay's certificate against
ca.pem for the name cay.test. The peers live in tls_peers.py. With
--shards N, cay's config says `shards: N`, and cay must print N `shard=K`
lines (noted: each shard's messages in, handed over, calls, registers).
CASE is one of:

tls_answer_call
    No routes: cay answers every INVITE itself. First a plain TCP
    connection to the TLS port sends an OPTIONS in clear text: cay must
    close it without a SIP answer. Then a TLS UAC sends INVITE (SDP),
    gets 200 (its Via SIP/2.0/TLS, Contact with transport=tls and the TLS
    port, an SDP answer), and sends ACK and BYE on the same connection;
    the BYE gets 200.
tls_register_call
    A register route and a forward route with location: true. Phone bob
    registers over TLS (Contact sip:bob@127.0.0.1:PHONEPORT;
    transport=tls; bob also listens there, with client.pem). A SIPp caller
    (UDP, uac_basic.xml) calls bob through cay: with registrar.flows auto
    the INVITE must come on bob's registration connection (Via
    SIP/2.0/TLS with cay's TLS port); bob answers 180 and 200 (SDP), gets
    the ACK and the caller's BYE (on whichever connection cay picks),
    answers 200, and unregisters at the end. With --phones K, phones
    bob1..bobK register so, each on his own connection and at his own
    contact port, and SIPp calls each in turn: each INVITE must reach its
    phone on that phone's registration connection. At several shards the
    shard that accepted a phone's connection is usually not the one that
    owns a call's Call-ID: the INVITE, the phone's answers, the ACK and
    the BYE cross shards by mailbox.
tls_register_call_4shards
    tls_register_call under its own test name, which tls.cmake runs with
    --shards 4 --phones 4.
tls_forward_verify
    A forward route to a Python TLS UAS: sips:USER@localhost:UASPORT for
    users starting "sips-", sip:USER@127.0.0.1:UASPORT;transport=tls for
    the others. With server.pem both calls complete. With rogue.pem (an
    unknown CA) and with wrong_name.pem (SAN other.test only, neither
    localhost nor 127.0.0.1) the connection cay opens must fail its
    verification: the UAS gets no SIP message, the SIPp caller gets 500
    within 10 s (b2b_uac_unreachable.xml), not after timer B, and cay's
    log says why (a line matching LOG_VERIFY_RE during the call).
tls_client_cert
    tls.verify_client: true, tls.crl_file: ca.crl. Clients without a
    certificate (TLS 1.2 and 1.3), with one of another CA (rogue.pem)
    and with one the CRL revokes (revoked.pem) fail the handshake or
    are closed before any SIP answer; one with client.pem gets 200 to
    OPTIONS; cay still answers afterwards.
tls_crl_chain
    tls.verify_client: true, tls.crl_file: chain_revoked.crl (the CA's
    CRL, which revokes the intermediate CA inter_ca.pem, and
    inter_ca's). Without tls.crl_check (leaf), a client showing
    inter_client.pem (issued by inter_ca, the chain in its file) gets
    200 to OPTIONS: only its issuer's CRL is read. Restarted with
    crl_check: chain, the same client gets no SIP answer, cay logs
    "certificate revoked", and client.pem (issued by the CA) still gets
    200.
tls_register_path, tls_register_path_4shards
    RFC 3327: bob registers through an edge proxy (a TLS connection
    whose REGISTER has Path: <sip:edge@127.0.0.1:EDGE;transport=tls;lr>
    and Supported: path; bob's Contact is a private address); the 200
    must name the Path. A SIPp caller's call must reach the edge (a TLS
    listener on EDGE with client.pem, a new connection from cay) with
    that Route and bob's contact as Request-URI; ACK and BYE follow.
    The second runs at 4 shards (tls.cmake), where the call's shard
    calls through its copy of the binding.

Every case then stops cay (SIGTERM), which must exit 0, and checks its
summary line (--expect, as given by tls.cmake). Every SIP message the
Python peers send and read is written to peers.sip in the work
directory, which is kept on failure (and with --keep).

Standard library only.
"""

import argparse
import os
import re
import signal
import socket
import ssl
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import cayrun  # noqa: E402
import tls_peers  # noqa: E402
from tls_peers import (CAY_NAME, SDP, ConnThread, Failure, Phone,  # noqa: E402
                       TlsListener, build_request, final_to, names_tls_port,
                       register, scenario_copy, tls_connect, uri_of,
                       via_is_tls)
from tls_run import Run, config_text  # noqa: E402

HOST = cayrun.HOST
SCENARIOS = os.path.join(HERE, "scenarios")
UAC_BASIC = os.path.join(SCENARIOS, "uac_basic.xml")
# Caller of a callee cay cannot reach: @FINAL_STATUS@ within seconds.
UAC_UNREACHABLE = os.path.join(SCENARIOS, "b2b_uac_unreachable.xml")
CERTS = os.path.normpath(os.path.join(HERE, "..", "data", "tls"))
# What cay logs (info) when a certificate it checks does not verify.
LOG_VERIFY_RE = re.compile(r"(?i)tls.*(certificate|verify)")
# A call whose TLS connection fails must end well before timer B (32 s).
FAIL_WITHIN_S = 10.0


# --------------------------------------------------------------------- #
# The cases                                                             #
# --------------------------------------------------------------------- #

def cleartext_is_closed(r):
    """Bytes that are no TLS handshake on the TLS port: an OPTIONS in
    clear text over plain TCP. cay must close the connection (a TLS alert
    before the close is fine) and never answer in SIP."""
    opts = cayrun.options_request((HOST, 9), (HOST, r.cay.tls_port))
    opts = opts.replace(b"SIP/2.0/UDP", b"SIP/2.0/TCP")
    got = b""
    with socket.create_connection((HOST, r.cay.tls_port), 5) as s:
        s.sendall(opts)
        deadline = time.monotonic() + 5.0
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                r.problems.append(
                    "clear text on the TLS port: connection still open "
                    "after 5 s (got %r)" % got[:80])
                return
            s.settimeout(left)
            try:
                data = s.recv(4096)
            except socket.timeout:
                continue
            except ConnectionResetError:
                data = b""
            if not data:
                break
            got += data
    if b"SIP/2.0" in got:
        r.problems.append("clear text on the TLS port got a SIP answer: %r"
                          % got[:200])
    else:
        r.notes.append("clear text closed (%d bytes before EOF)" % len(got))


def answer_call(r, conn, ruri, scheme):
    """One call to cay's UAS on conn: INVITE, 200 whose Contact is a
    scheme URI naming the TLS listener, ACK and BYE."""
    lp = conn.sock.getsockname()[1]
    call_id = "tls-" + cayrun.new_token(16)
    from_ = "<sip:alice@%s>;tag=%s" % (HOST, cayrun.new_token(8))
    contact = "<%s:alice@%s:%d;transport=tls>" % (scheme, HOST, lp)
    conn.send(build_request("INVITE", ruri, conn, from_, "<%s>" % ruri,
                            call_id, 1, contact, SDP))
    ok = conn.expect("final response to the INVITE", final_to("INVITE"))
    if not r.check(ok.status == 200, "INVITE got %s, wanted 200" % ok):
        return
    r.check(via_is_tls(ok.top_via()),
            "200 to the INVITE: Via %r is not SIP/2.0/TLS" % ok.top_via())
    r.check(names_tls_port(ok.get("contact"), r.cay.tls_port),
            "200 to the INVITE: Contact %r does not name the TLS listener "
            "127.0.0.1:%d with transport=tls"
            % (ok.get("contact"), r.cay.tls_port))
    # RFC 3261 section 12.1.1: a sips Request-URI, a sips Contact; a sip
    # one over TLS, transport=tls.
    r.check(uri_of(ok.get("contact")).lower().startswith(scheme + ":"),
            "200 to an INVITE for %s: Contact %r is not a %s: URI"
            % (ruri, ok.get("contact"), scheme))
    r.check(re.search(r"^m=audio \d+ RTP/AVP", ok.body, re.M),
            "200 to the INVITE has no SDP answer: %r" % ok.body[:200])
    target = uri_of(ok.get("contact")) or ruri
    to = ok.get("to")
    # RFC 3261 section 13.2.2.4: the ACK for a 2xx is a new transaction
    # to the remote target; then the BYE, all on this connection.
    conn.send(build_request("ACK", target, conn, from_, to, call_id, 1))
    conn.send(build_request("BYE", target, conn, from_, to, call_id, 2))
    bye_ok = conn.expect("final response to the BYE", final_to("BYE"))
    r.check(bye_ok.status == 200, "BYE got %s, wanted 200" % bye_ok)
    r.notes.append("%s: INVITE 200, ACK, BYE %d on one connection"
                   % (scheme, bye_ok.status))


def case_answer_call(r):
    cay = r.start_cay()
    cleartext_is_closed(r)
    conn = tls_connect(r.args.certs, cay.tls_port, "alice's TLS connection")
    r.closers.append(conn.close)
    r.notes.append("alice %s" % conn.sock.version())
    answer_call(r, conn, "sip:service@%s:%d;transport=tls"
                % (HOST, cay.tls_port), "sip")
    answer_call(r, conn, "sips:service@%s:%d" % (HOST, cay.tls_port),
                "sips")
    conn.close()
    r.stop_cay()


ROUTES_REGISTER = """routes:
  - match: { method: REGISTER }
    action: register
  - match: { method: INVITE }
    action: forward
    location: true
    ring_timeout_s: 10
"""


class Registered:
    """A phone with a binding: its Phone, its TLS listener on its Contact,
    its registration connection and that REGISTER's Call-ID and tag."""

    def __init__(self, r, name):
        self.name = name
        self.port = cayrun.free_udp_tcp_port()
        self.aor = "sip:%s@%s" % (name, HOST)
        self.contact = "<sip:%s@%s:%d;transport=tls>" % (name, HOST,
                                                         self.port)
        self.phone = Phone(name, self.contact)
        # The phone listens on its contact too (client.pem names
        # 127.0.0.1): the ACK and BYE may go to the 200's Contact on a
        # connection of cay's.
        self.listener = TlsListener(self.phone, r.args.certs, "client",
                                    self.port)
        r.closers.append(self.listener.close)
        self.reg = tls_connect(r.args.certs, r.cay.tls_port,
                               "%s's registration connection" % name)
        r.closers.append(self.reg.close)
        self.call_id = "reg-" + cayrun.new_token(16)
        self.from_tag = cayrun.new_token(8)
        self.served = None

    def register(self, cseq, expires):
        return register(self.reg, self.aor, self.contact, cseq,
                        self.call_id, self.from_tag, expires)


def register_phone(r, name):
    """A Registered phone whose REGISTER got 200, or None."""
    p = Registered(r, name)
    ok = p.register(1, 600)
    if not r.check(ok.status == 200, "%s: REGISTER got %s, wanted 200"
                   % (name, ok)):
        return None
    r.check(via_is_tls(ok.top_via()), "%s: 200 to the REGISTER: Via %r is "
            "not SIP/2.0/TLS" % (name, ok.top_via()))
    r.check(any(":%d" % p.port in c for c in ok.values("contact")),
            "%s: 200 to the REGISTER lists no binding at port %d: %s"
            % (name, p.port, ok.values("contact")))
    return p


def check_phone(r, p, tls_port):
    """The phone got its call: the INVITE on its registration connection,
    for it and no other phone, from cay's TLS listener; ACK and BYE."""
    name, got = p.name, p.phone
    invites = got.requests("INVITE")
    if r.check(invites, "%s got no INVITE (handshakes %s, errors %s)"
               % (name, got.handshakes, got.errors)):
        label, inv = invites[0]
        r.check(label == p.reg.label, "%s's INVITE came on %s, not on his "
                "registration connection" % (name, label))
        for _, m in invites:
            r.check(m.first.split(" ")[1].startswith("sip:%s@" % name),
                    "%s got an INVITE for someone else: %s" % (name, m))
        r.check(via_is_tls(inv.top_via(), tls_port),
                "INVITE to %s: top Via %r is not SIP/2.0/TLS 127.0.0.1:%d"
                % (name, inv.top_via(), tls_port))
        r.check(names_tls_port(inv.get("contact"), tls_port),
                "INVITE to %s: Contact %r does not name the TLS listener "
                "127.0.0.1:%d with transport=tls"
                % (name, inv.get("contact"), tls_port))
        r.notes.append("%s: %s on the registration connection"
                       % (name, inv))
    for method in ("ACK", "BYE"):
        reqs = got.requests(method)
        if r.check(reqs, "%s got no %s" % (name, method)):
            r.check(via_is_tls(reqs[0][1].top_via(), tls_port),
                    "%s to %s: top Via %r is not SIP/2.0/TLS 127.0.0.1:%d"
                    % (method, name, reqs[0][1].top_via(), tls_port))
            r.notes.append("%s %s on %s" % (name, method, reqs[0][0]))
    r.check(not got.errors, "%s: %s" % (name, got.errors))


def case_register_call(r):
    """bob, or with --phones K bob1..bobK, each registered on his own TLS
    connection; then one SIPp call to each in turn."""
    cay = r.start_cay(ROUTES_REGISTER)
    k = r.args.phones
    names = ["bob"] if k == 1 else ["bob%d" % i for i in range(1, k + 1)]
    phones = []
    for name in names:
        p = register_phone(r, name)
        if p is None:
            return
        phones.append(p)
    for p in phones:
        p.served = ConnThread(p.reg, p.phone)
    for p in phones:
        tag = "caller" if k == 1 else "caller-" + p.name
        if r.sipp_call(tag, UAC_BASIC, p.name)[0]:
            # cay answers the caller's BYE and then sends its own.
            r.check(cayrun.wait_for("%s's BYE" % p.name,
                                    lambda: p.phone.requests("BYE"), 5)
                    is None, "%s got no BYE within 5 s of the caller's"
                    % p.name)
    for p in phones:
        p.served.join()
    for p in phones:
        check_phone(r, p, cay.tls_port)
    for p in phones:
        ok = p.register(2, 0)
        r.check(ok.status == 200, "%s: REGISTER Expires: 0 got %s, wanted "
                "200" % (p.name, ok))
        p.reg.close()
        p.listener.close()
    r.stop_cay()


def case_register_path(r):
    """bob behind an edge proxy (RFC 3327): the edge's TLS connection
    carries his REGISTER with a Path naming the edge, and bob's Contact
    is a private address only the edge reaches. The 200 names the Path
    (Supported: path); SIPp's call reaches the edge (a new TLS connection
    to its listener) with the Path as Route and bob's contact as
    Request-URI."""
    cay = r.start_cay(ROUTES_REGISTER)
    edge_port = cayrun.free_udp_tcp_port()
    edge = Phone("edge", "<sip:bob@%s:%d;transport=tls>" % (HOST, edge_port))
    listener = TlsListener(edge, r.args.certs, "client", edge_port)
    r.closers.append(listener.close)
    conn = tls_connect(r.args.certs, cay.tls_port, "the edge's connection")
    r.closers.append(conn.close)
    aor, contact = "sip:bob@%s" % HOST, "sip:bob@10.0.0.7:5060"
    path = "<sip:edge@%s:%d;transport=tls;lr>" % (HOST, edge_port)
    from_ = "<%s>;tag=%s" % (aor, cayrun.new_token(8))
    call_id = "reg-" + cayrun.new_token(12)

    def register_bob(cseq, expires):
        conn.send(build_request(
            "REGISTER", "sip:" + HOST, conn, from_, "<%s>" % aor, call_id,
            cseq, "<%s>" % contact, extra=["Expires: %d" % expires,
                                           "Path: " + path,
                                           "Supported: path"]))
        return conn.expect("final response to the REGISTER",
                           final_to("REGISTER"))

    ok = register_bob(1, 600)
    r.check(ok.status == 200 and ok.values("path") == [path],
            "REGISTER with Path got %s, Path %s; wanted 200 naming %s"
            % (ok, ok.values("path"), path))
    if r.sipp_call("caller", UAC_BASIC, "bob")[0]:
        cayrun.wait_for("the BYE", lambda: edge.requests("BYE"), 5)
    invites = edge.requests("INVITE")
    if r.check(invites, "the edge got no INVITE (handshakes %s, errors %s)"
               % (edge.handshakes, edge.errors)):
        label, inv = invites[0]
        r.check(inv.first.startswith("INVITE %s " % contact),
                "INVITE through the edge: %r, wanted Request-URI %s"
                % (inv.first, contact))
        r.check(inv.values("route") == [path], "INVITE through the edge: "
                "Route %s, wanted %s" % (inv.values("route"), path))
        r.check("listener" in label, "the INVITE came on %s" % label)
        r.notes.append("%s with Route %s on %s" % (inv, path, label))
    for method in ("ACK", "BYE"):
        r.check(edge.requests(method), "the edge got no %s" % method)
    ok = register_bob(2, 0)
    r.check(ok.status == 200, "unREGISTER got %s" % ok)
    conn.close()
    listener.close()
    r.stop_cay()


ROUTES_FORWARD = """dns: { failed_target_s: 0 }
routes:
  - match: { method: INVITE, ruri_user: "^sips-" }
    action: forward
    target: "sips:${ruri_user}@localhost:%(port)d"
    ring_timeout_s: 10
  - match: { method: INVITE }
    action: forward
    target: "sip:${ruri_user}@127.0.0.1:%(port)d;transport=tls"
    ring_timeout_s: 10
"""


def case_forward_verify(r):
    uas_port = cayrun.free_udp_tcp_port()
    cay = r.start_cay(ROUTES_FORWARD % {"port": uas_port})
    unreachable = scenario_copy(UAC_UNREACHABLE, r.workdir,
                                {"FINAL_STATUS": "500"}, "caller")
    # (certificate the UAS presents, callee users, whether calls complete)
    rounds = (("server", ("sips-good", "tls-good"), True),
              ("rogue", ("sips-rogue", "tls-rogue"), False),
              ("wrong_name", ("sips-wrong-name", "tls-wrong-name"), False))
    for cert, users, good in rounds:
        uas = Phone("uas-" + cert, "<sip:uas@%s:%d;transport=tls>"
                    % (HOST, uas_port))
        listener = TlsListener(uas, r.args.certs, cert, uas_port)
        r.closers.append(listener.close)
        for user in users:
            before_log = r.log_size()
            before_got = len(uas.messages())
            before_hs = len(uas.handshakes)
            ok, elapsed = r.sipp_call("caller-" + user,
                                      UAC_BASIC if good else unreachable,
                                      user)
            if good and ok:
                # cay answers the caller's BYE, then sends its own.
                cayrun.wait_for("the UAS's BYE", lambda: any(
                    m.method == "BYE" for _, m in
                    uas.messages()[before_got:]), 5)
            got = uas.messages()[before_got:]
            hs = uas.handshakes[before_hs:]
            if good:
                invs = [m for _, m in got if m.method == "INVITE"]
                if r.check(invs, "%s: the UAS (%s.pem) got no INVITE "
                           "(handshakes %s)" % (user, cert, hs)):
                    inv = invs[0]
                    r.check(via_is_tls(inv.top_via(), cay.tls_port),
                            "%s: top Via %r is not SIP/2.0/TLS "
                            "127.0.0.1:%d" % (user, inv.top_via(),
                                              cay.tls_port))
                    r.check(names_tls_port(inv.get("contact"),
                                           cay.tls_port),
                            "%s: Contact %r does not name the TLS listener"
                            " 127.0.0.1:%d with transport=tls"
                            % (user, inv.get("contact"), cay.tls_port))
                    r.notes.append("%s: %s" % (user, inv))
                for method in ("ACK", "BYE"):
                    r.check(any(m.method == method for _, m in got),
                            "%s: the UAS got no %s" % (user, method))
                continue
            r.check(elapsed < FAIL_WITHIN_S,
                    "%s: the caller's call took %.1f s, wanted < %.0f s"
                    % (user, elapsed, FAIL_WITHIN_S))
            r.check(not got, "%s: the UAS (%s.pem) got SIP over a "
                    "connection that should not have verified: %s"
                    % (user, cert, [str(m) for _, m in got]))
            r.check(hs, "%s: cay never connected to the UAS (%s.pem)"
                    % (user, cert))
            r.notes.append("%s: handshakes %s" % (user, hs))
            log = r.log_since(before_log)
            lines = [ln for ln in log.splitlines()
                     if LOG_VERIFY_RE.search(ln)]
            if r.check(lines, "%s: cay's log has no line matching %s "
                       "during the call" % (user, LOG_VERIFY_RE.pattern)):
                r.notes.append("%s: log %r" % (user, lines[0][-200:]))
        listener.close()
        r.check(not uas.errors, "uas (%s.pem): %s" % (cert, uas.errors))
        time.sleep(0.3)  # cay sees the closed connections before the next
    r.stop_cay()


def refused(r, what, cert=None, max_version=None):
    """A client that cay must not let talk SIP (verify_client: true)."""
    try:
        conn = tls_connect(r.args.certs, r.cay.tls_port, what, cert=cert,
                           max_version=max_version)
    except (OSError, EOFError) as e:
        r.notes.append("%s: handshake failed (%s)" % (what, e))
        return
    version = conn.sock.version()
    # TLS 1.3: the client's side of the handshake ends before cay has seen
    # its (empty or unverifiable) certificate; cay's alert comes later.
    try:
        conn.send(cayrun.options_request(
            conn.sock.getsockname()[:2], (HOST, r.cay.tls_port))
            .replace(b"SIP/2.0/UDP", b"SIP/2.0/TLS"))
        msg = conn.read(5.0)
    except (OSError, EOFError) as e:
        r.notes.append("%s: %s handshake, then closed (%s)"
                       % (what, version, e))
        return
    finally:
        conn.close()
    if msg is None:
        r.problems.append("%s: connection neither closed nor answered "
                          "within 5 s" % what)
    else:
        r.problems.append("%s: got a SIP answer: %s" % (what, msg))


def options_on(r, conn, what):
    """An OPTIONS on conn gets 200, with its Call-ID and a TLS Via."""
    call_id = "opt-" + cayrun.new_token(16)
    conn.send(cayrun.options_request(
        conn.sock.getsockname()[:2], (HOST, r.cay.tls_port), call_id)
        .replace(b"SIP/2.0/UDP", b"SIP/2.0/TLS"))
    ok = conn.expect("final response to the OPTIONS", final_to("OPTIONS"),
                     5.0)
    r.check(ok.status == 200, "%s: OPTIONS got %s, wanted 200" % (what, ok))
    r.check(ok.get("call-id") == call_id,
            "%s: the answer's Call-ID is %r" % (what, ok.get("call-id")))
    r.check(via_is_tls(ok.top_via()), "%s: Via %r is not SIP/2.0/TLS"
            % (what, ok.top_via()))
    return ok


def options_over_tls(r, what, cert):
    conn = tls_connect(r.args.certs, r.cay.tls_port, what, cert=cert)
    try:
        ok = options_on(r, conn, what)
        r.notes.append("%s: %s %s" % (what, conn.sock.version(), ok))
    finally:
        conn.close()


def case_client_cert(r):
    r.start_cay(verify_client=True)
    refused(r, "no certificate, TLS 1.2", max_version=ssl.TLSVersion.TLSv1_2)
    refused(r, "no certificate, TLS 1.3")
    refused(r, "rogue.pem (another CA)", cert="rogue")
    refused(r, "revoked.pem (ca.crl revokes it)", cert="revoked")
    options_over_tls(r, "client.pem", "client")
    refused(r, "no certificate again")
    options_over_tls(r, "client.pem again", "client")
    r.stop_cay()


def case_crl_chain(r):
    """inter_client.pem's issuer, inter_ca, is revoked by the root's CRL
    in chain_revoked.crl (which has inter_ca's own CRL too)."""
    r.start_cay(verify_client=True, crl="chain_revoked.crl")
    options_over_tls(r, "inter_client.pem, crl_check absent (leaf)",
                     "inter_client")
    r.stop_cay()
    r.start_cay(verify_client=True, crl="chain_revoked.crl", crl_check="chain")
    offset = r.log_size()
    refused(r, "inter_client.pem, crl_check: chain (its CA revoked)",
            cert="inter_client")
    options_over_tls(r, "client.pem, crl_check: chain", "client")
    log = r.log_since(offset)
    r.check("certificate revoked" in log,
            "cay did not log the revoked intermediate: %r" % log[-300:])
    r.stop_cay()


def names_it(r, name, tries=10):
    """How many of tries new TLS connections verified cay's certificate
    for name (at 2 shards the kernel spreads them over both)."""
    ok = 0
    for i in range(tries):
        try:
            conn = tls_connect(r.args.certs, r.cay.tls_port,
                               "%s #%d" % (name, i), name=name)
        except ssl.SSLCertVerificationError:
            continue
        ok += 1
        conn.close()
    return ok


def reload_with(r, cert, key, want):
    """cay's config with cert and key of tests/data/tls, SIGHUP, and the
    reload's log line (want: taken, or refused)."""
    text = config_text(r.args.certs, r.cay.port, r.cay.tls_port, "", False,
                       r.args.shards)
    text = text.replace("server.pem", cert).replace("server.key", key)
    cayrun.write_config(r.workdir, text)
    mark = r.log_size()
    os.kill(r.cay.proc.pid, signal.SIGHUP)
    pattern = (r"reload: tls: \S*%s read again" % re.escape(cert)
               if want == "taken" else r"reload (failed|refused).*tls")
    err = cayrun.wait_for("cay's reload line (%s)" % want,
                          lambda: re.search(pattern, r.log_since(mark))
                          is not None, 5.0)
    if err:
        raise Failure("%s: %s" % (err, r.log_since(mark)[-400:]))


def case_reload(r):
    """A renewed certificate (SIGHUP) is served to new connections at
    every shard; a connection from before keeps its session; a reload
    whose key is not the certificate's is refused and changes nothing."""
    r.start_cay()
    before = tls_connect(r.args.certs, r.cay.tls_port, "before the reload")
    r.closers.append(before.close)
    r.check(names_it(r, CAY_NAME) == 10, "before the reload: not every "
            "connection got the certificate for %s" % CAY_NAME)
    reload_with(r, "wrong_name.pem", "wrong_name.key", "taken")
    got_old, got_new = names_it(r, CAY_NAME), names_it(r, "other.test")
    r.check(got_old == 0 and got_new == 10,
            "after the reload: %d of 10 connections verified for %s and "
            "%d of 10 for other.test, wanted 0 and 10"
            % (got_old, CAY_NAME, got_new))
    r.notes.append("renewed certificate on %d of 10 new connections"
                   % got_new)
    options_on(r, before, "the connection from before the reload")
    reload_with(r, "server.pem", "wrong_name.key", "refused")
    r.check(names_it(r, "other.test") == 10,
            "after a refused reload the certificate changed")
    r.stop_cay()


CASES = {
    "tls_answer_call": case_answer_call,
    "tls_register_call": case_register_call,
    "tls_register_call_4shards": case_register_call,
    "tls_forward_verify": case_forward_verify,
    "tls_register_path": case_register_path,
    "tls_register_path_4shards": case_register_path,
    "tls_client_cert": case_client_cert,
    "tls_crl_chain": case_crl_chain,
    "tls_reload_2shards": case_reload,
}


def parse_args(argv):
    p = argparse.ArgumentParser(
        description=__doc__.split("\n")[0],
        epilog="Cases: %s. Each is described at the top of this file."
        % ", ".join(CASES))
    p.add_argument("--cay", required=True, help="the cay binary")
    p.add_argument("--sipp", default="sipp", help="SIPp binary")
    p.add_argument("--name", required=True, choices=sorted(CASES),
                   help="the case to run (also the test's name)")
    p.add_argument("--certs", default=CERTS,
                   help="the fixture certificates (default %(default)s)")
    p.add_argument("--expect", action="append", default=[],
                   help="check on cay's summary: key=N, key>=N, ... "
                        "(repeat)")
    p.add_argument("--shards", type=int, default=1,
                   help="cay's shards (config shards: N, default 1)")
    p.add_argument("--phones", type=int, default=1,
                   help="tls_register_call: phones bob1..bobK, each called "
                        "once (default 1: bob)")
    p.add_argument("--log-level", default=None, help="cay -l LEVEL")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory even on success")
    args = p.parse_args(argv)
    cayrun.check_expects(p, args.expect)
    if args.shards < 1 or args.phones < 1:
        p.error("--shards and --phones must be at least 1")
    if args.phones != 1 and CASES[args.name] is not case_register_call:
        p.error("--phones is for tls_register_call only")
    args.certs = os.path.abspath(args.certs)
    return args


def run(args):
    test = "integration.%s" % args.name
    workdir = tempfile.mkdtemp(prefix="cay-tls-%s-" % args.name)
    trace = tls_peers.Trace(os.path.join(workdir, "peers.sip"))
    tls_peers.TRACE = trace
    r = Run(args, workdir)
    try:
        CASES[args.name](r)
    except (Failure, OSError, EOFError) as e:
        r.problems.append("%s: %s" % (type(e).__name__, e)
                          if not isinstance(e, Failure) else str(e))
    except SystemExit as e:
        r.problems.append(str(e))
    finally:
        for close in reversed(r.closers):
            try:
                close()
            except OSError:
                pass
        if r.cay is not None and r.cay.alive():
            r.cay.kill()
    logs = [("SIPp %s" % s.tag, s.report()) for s, bad in r.sipps if bad]
    if r.problems and os.path.exists(trace.path):
        logs.append(("the Python peers' SIP (%s)" % trace.path,
                     cayrun.tail(trace.path, 60)))
    return cayrun.verdict(test, r.problems, "; ".join(r.notes), r.cay,
                          workdir, args.keep, logs)


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
