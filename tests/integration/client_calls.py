"""The calls of run_client_test.py (--mode answer, bridge, register and
transfer): cay's config for each, starting the registered clients, and
driving and judging the calls (hold, resume, hang up; the blind
transfer; the registration, the outbound flow and the TCP/TLS flow the
call took).
"""

import os
import re
import time

import cayrun
from client_common import (STEP_TIMEOUT_S, TLS_DATA, TRACE_RE, cseq,
                           final_ok, free_sip_port, received,
                           registered_users_config, run_steps,
                           transport_param, wait_for)


def bridge_config(b, tcp):
    return ("routes:\n"
            "  - action: forward\n"
            "    target: \"sip:${ruri_user}@%s:%d%s\"\n"
            "    codecs: [ PCMA, telephone-event ]\n"
            % (cayrun.HOST, b.port, ";transport=tcp" if tcp else ""))


def transfer_config(b, c):
    return ("routes:\n"
            "  - match: { ruri_user: \"^bob$\" }\n"
            "    action: forward\n"
            "    target: \"sip:bob@%s:%d\"\n"
            "  - match: { ruri_user: \"^carol$\" }\n"
            "    action: forward\n"
            "    target: \"sip:carol@%s:%d\"\n"
            % (cayrun.HOST, b.port, cayrun.HOST, c.port))


def register_config():
    """alice and bob may register; a call, from one of them (digest,
    RFC 3261 section 22.3), goes to its AOR's contacts."""
    return registered_users_config(
        "INVITE", "    codecs: [ PCMA, telephone-event ]\n")


def tls_config(port):
    """cay's TLS listen address and certificates (tests/data/tls)."""
    return ("tls:\n"
            "  certificate: %s\n"
            "  private_key: %s\n"
            "  ca_file: %s\n" % (os.path.join(TLS_DATA, "server.pem"),
                                 os.path.join(TLS_DATA, "server.key"),
                                 os.path.join(TLS_DATA, "ca.pem")),
            ["-L", "tls:%s:%d" % (cayrun.HOST, port)])


def start_registered(test, a, b, cay, tcp, idle_close, outbound,
                     port=None):
    """bob, then alice, register with cay (on port, cay's own by
    default); alice dials bob's AOR."""
    port = port or cay.port
    b.register_with(port, "bobpw", tcp, outbound)
    print("%s: callee: %s" % (test, b.start()), flush=True)
    err = wait_for("the 200 to the callee's REGISTER", b.registered)
    if err:
        raise SystemExit(err)
    if outbound:
        # bob dies without unregistering and comes back on another port,
        # the same instance (baresip keeps its uuid): his binding is
        # replaced (RFC 5626 section 6), not doubled.
        b.proc.kill()
        b.proc.wait()
        b.port = free_sip_port()
        b.write_config(b.user, b.auto_answer)
        b.register_with(port, "bobpw", tcp, outbound)
        print("%s: callee again: %s" % (test, b.start()), flush=True)
        err = wait_for("the 200 to the callee's second REGISTER",
                       b.registered)
        if err:
            raise SystemExit(err)
        b.registered_at = time.monotonic()
        if "replaced by sip:bob" not in cay_log(cay):
            raise SystemExit("cay: bob's second binding did not replace "
                             "his first")
        # Flow-Timer 2: a STUN Binding request every 1.6 to 2 s.
        err = cayrun.wait_for("cay to answer 2 of the callee's STUN "
                              "keep-alives", lambda: keepalives(cay) >= 2,
                              STEP_TIMEOUT_S)
        if err:
            raise SystemExit(err)
    if idle_close:
        err = wait_for("cay to close the callee's idle connection",
                       lambda: "idle for 2000 ms, closing" in cay_log(cay))
        if err:
            raise SystemExit(err)
    a.register_with(port, "alicepw", tcp)
    dial = "/dial sip:bob@%s:%d%s" % (cayrun.HOST, port, transport_param(tcp))
    print("%s: caller: %s" % (test, a.start([dial])), flush=True)


def drive_caller(a, b, first=1):
    """Hold, resume, hang up, quit: each step once the last one is done.
    first: the number of the caller's INVITE that the call took (2 when
    its first was challenged). With a callee client b, the hold waits
    for the callee's RTP to reach the caller: held, the callee sends
    none, and the call may be over before it would come."""
    rtp = "incoming rtp for 'audio' established"
    steps = [
        ("the caller's call to be established"
         + (" and the callee's RTP" if b is not None else ""),
         lambda: "Call established" in a.text()
         and (b is None or rtp in a.text()), None),
        ("the 200 to the hold re-INVITE",
         lambda: final_ok(a.messages(), "INVITE", first + 1), "/hold"),
        ("the 200 to the resume re-INVITE",
         lambda: final_ok(a.messages(), "INVITE", first + 2), "/resume"),
        ("the 200 to the caller's BYE",
         lambda: final_ok(a.messages(), "BYE", 1), "/hangup"),
    ]
    err = run_steps(a, steps)
    if err:
        return err
    if b is not None:
        err = wait_for("Cay's BYE at the callee",
                       lambda: received(b.messages(), "BYE"))
        if err:
            return err
    a.command("/quit")
    return wait_for("the caller to quit", lambda: a.proc.poll() is not None)


def judge_caller(a, first=1):
    msgs = a.messages()
    problems = []
    for method, nth in (("INVITE", first), ("INVITE", first + 1),
                        ("INVITE", first + 2), ("BYE", 1)):
        if final_ok(msgs, method, nth) is None:
            problems.append("caller: no 200 to its %s #%d" % (method, nth))
    hold = final_ok(msgs, "INVITE", first + 1)
    if hold and "a=recvonly" not in hold:
        problems.append("caller: the answer to its hold offer is not "
                        "recvonly")
    return problems


def judge_callee(a, b):
    msgs = b.messages()
    problems = []
    invites = received(msgs, "INVITE")
    if len(invites) != 3:
        problems.append("callee: got %d INVITEs, wanted 3" % len(invites))
    else:
        if not re.search(r"^m=audio \d+ RTP/AVP 8 101$", invites[0], re.M):
            problems.append("callee: the offer is not PCMA and "
                            "telephone-event only (route codecs)")
        if "a=sendonly" not in invites[1]:
            problems.append("callee: the hold re-INVITE is not sendonly")
    if len(received(msgs, "BYE")) != 1:
        problems.append("callee: got %d BYEs, wanted 1"
                        % len(received(msgs, "BYE")))
    for c in (a, b):
        if "incoming rtp for 'audio' established" not in c.text():
            problems.append("%s: no RTP from the other client" % c.name)
    return problems


def drive_transfer(a, b, c, cay_uri):
    """alice transfers bob to carol; then bob and carol hang up."""
    steps = [
        ("alice's call to be established",
         lambda: "Call established" in a.text(), None),
        ("carol to be called by bob and answer",
         lambda: "Call established" in c.text(),
         "/transfer %s" % cay_uri),
        ("the NOTIFY telling alice that bob's call was answered",
         lambda: [t for t in received(a.messages(), "NOTIFY")
                  if re.search(r"^SIP/2\.0 200", t, re.M)], None),
        ("bob's call with alice to end",
         lambda: received(b.messages(), "BYE")
         or final_ok(b.messages(), "BYE", 1), None),
    ]
    err = run_steps(a, steps)
    if err:
        return err
    b.command("/hangup")
    err = wait_for("the end of bob's call with carol",
                   lambda: received(c.messages(), "BYE"))
    for x in (a, b, c):
        x.command("/quit")
    return err


def judge_transfer(a, b, c):
    problems = []
    refers = received(b.messages(), "REFER")
    if len(refers) != 1:
        problems.append("bob: got %d REFERs, wanted 1" % len(refers))
    elif not re.search(r"^(Refer-To|r):.*sip:carol@", refers[0],
                       re.M | re.I):
        problems.append("bob: the REFER's Refer-To is not carol")
    sent = [t for way, first, t in a.messages()
            if way == "out" and first.startswith("REFER ")]
    got_202 = [t for way, first, t in a.messages()
               if way == "in" and first.startswith("SIP/2.0 202")
               and sent and cseq(t) == cseq(sent[0])]
    if not got_202:
        problems.append("alice: no 202 to her REFER")
    for t in received(a.messages(), "NOTIFY"):
        ev = re.search(r"^(?:Event|o):\s*refer(?:;id=(\d+))?", t,
                       re.M | re.I)
        if ev is None:
            problems.append("alice: a NOTIFY without Event: refer")
        elif ev.group(1) and sent and int(ev.group(1)) != cseq(sent[0])[0]:
            problems.append("alice: a NOTIFY's Event id %s does not name "
                            "her REFER (CSeq %d)"
                            % (ev.group(1), cseq(sent[0])[0]))
    invites = received(c.messages(), "INVITE")
    if len(invites) != 1:
        problems.append("carol: got %d INVITEs, wanted 1" % len(invites))
    for x in (b, c):
        if "incoming rtp for 'audio' established" not in x.text():
            problems.append("%s: no RTP from the other client" % x.name)
    return problems


def judge_registered(a):
    """alice registered, and her first INVITE was challenged (407)."""
    problems = []
    if not a.registered():
        problems.append("caller: no 200 to its REGISTER")
    challenged = [t for way, first, t in a.messages()
                  if way == "in" and first.startswith("SIP/2.0 407")
                  and cseq(t)[1] == "INVITE"
                  and re.search(r"^Proxy-Authenticate:\s*Digest", t,
                                re.M | re.I)]
    if not challenged:
        problems.append("caller: its INVITE was not challenged (407 with "
                        "Proxy-Authenticate)")
    return problems


def cay_log(cay):
    with open(cay.stderr_path, encoding="utf-8", errors="replace") as f:
        return f.read()


def invite_ports(b):
    """The local port of the connection each INVITE b got came on (from
    its trace: "TCP src -> dst", or TLS)."""
    ports = []
    for m in TRACE_RE.finditer(b.text()):
        if (m.group(1) in ("TCP", "TLS")
                and m.group(4).lstrip().startswith("INVITE ")):
            ports.append(int(m.group(3).rsplit(":", 1)[1]))
    return ports


def judge_flow(cay, b, idle_close):
    """Over TCP, Cay called bob on the connection he registered over
    (registrar.flows auto, RFC 5626 section 5.3), not on a new one to
    his listening port; with idle_close, once cay had closed that
    connection, on a new one to his listening port."""
    ports = invite_ports(b)
    if not ports:
        return ["callee: no INVITE over a connection in its trace"]
    if idle_close:
        if re.search(r"AOR sip:bob@\S+: binding \S+: the flow it "
                     r"registered over \(tcp:\S+\) closed: calls go to "
                     r"the contact now",
                     cay_log(cay)) is None:
            return ["cay: no log line that bob's connection closed"]
        if ports[0] != b.port:
            return ["callee: the INVITE came on a connection to port %d, "
                    "not to bob's listening port %d" % (ports[0], b.port)]
        return []
    if re.search(r"bridge: \S+ -> sip:bob\S*@\S+ on the connection it "
                 r"registered over", cay_log(cay)) is None:
        return ["cay: the call to bob did not go over his registered flow "
                "(no 'bridge: ... on the connection it registered over' "
                "in its log)"]
    if ports[0] == b.port:
        return ["callee: the INVITE came on a connection to his listening "
                "port %d, not the one he registered over" % b.port]
    return []


def keepalives(cay):
    """cay's live keepalives counter (SIGUSR1), or -1."""
    live = cay.live_counters(2.0)
    return live[1].get("keepalives", -1) if live else -1


# How long cay lets an outbound UDP flow be silent: Flow-Timer 2 plus
# CAY__FLOW_LEEWAY_S (registrar.h).
SILENCE_S = 2 + 8
SILENT_RE = (r"AOR sip:bob@\S+: binding \S+ removed: the flow it registered "
             r"over \(udp:\S+\) sent no keep-alive for \d+ s")


def judge_silent_flow(cay, b):
    """bob's STUN keep-alives kept his binding for longer than cay lets
    a flow be silent (RFC 5626 section 4.4.1); killed (he does not
    unregister), his flow falls silent, and cay removes his binding
    once the time is up, not before."""
    left = b.registered_at + SILENCE_S + 2 - time.monotonic()
    if left > 0:
        time.sleep(left)
    if re.search(SILENT_RE, cay_log(cay)):
        return ["cay: bob's flow counted as silent while he kept it alive"]
    b.proc.kill()
    b.proc.wait()
    killed = time.monotonic()
    err = cayrun.wait_for("cay to find bob's flow silent",
                          lambda: re.search(SILENT_RE, cay_log(cay)),
                          SILENCE_S + STEP_TIMEOUT_S)
    if err:
        return ["cay: " + err]
    took = time.monotonic() - killed
    # His last keep-alive came at most Flow-Timer (2 s) before the kill.
    if took < SILENCE_S - 2.5:
        return ["cay: bob's flow counted as silent %.1f s after he died, "
                "before its time (%d s)" % (took, SILENCE_S)]
    return []


def judge_outbound(b):
    """bob's REGISTER asked for outbound and cay's 200 granted it (RFC
    5626 section 6) with the configured Flow-Timer."""
    ok = b.registered()
    problems = []
    if not ok or not re.search(r"^Require:\s*outbound\s*$", ok, re.M | re.I):
        problems.append("callee: the 200 to its REGISTER has no "
                        "Require: outbound")
    if not ok or not re.search(r"^Flow-Timer:\s*2\s*$", ok, re.M | re.I):
        problems.append("callee: the 200 to its REGISTER has no "
                        "Flow-Timer: 2")
    sent = [t for way, first, t in b.messages()
            if way == "out" and first.startswith("REGISTER ")]
    if not sent or "reg-id=1" not in sent[0]:
        problems.append("callee: its REGISTER did not ask for outbound "
                        "(no reg-id)")
    return problems
