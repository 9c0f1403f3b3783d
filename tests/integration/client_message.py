"""--mode message of run_client_test.py: cay's config, alice and bob
registering, alice's instant message (RFC 3428) to bob's AOR, and the
judging of it in both clients' traces and bob's console. With
--offline, alice sends it before bob has registered: cay keeps it (202
to alice) and sends it to bob once he registers.
"""

import re

import cayrun
from client_common import (TRACE_RE, cseq, final_ok, from_tag, header,
                           registered_users_config, wait_for)


def message_config(offline=False):
    """alice and bob may register; a MESSAGE outside a dialog goes to
    the contacts of its Request-URI's AOR; offline: one for an AOR not
    registered is kept until it registers."""
    config = registered_users_config("MESSAGE")
    if offline:
        config = config.replace("registrar:\n",
                                "registrar:\n  offline_messages: 5\n")
    return config


def start_messaging(test, a, b, cay):
    """bob, then alice, register with cay; alice's only contact is bob's
    AOR on cay."""
    aor = "sip:bob@%s:%d" % (cayrun.HOST, cay.port)
    b.register_with(cay.port, "bobpw", False)
    print("%s: bob: %s" % (test, b.start()), flush=True)
    err = wait_for("the 200 to bob's REGISTER", b.registered)
    if err:
        raise SystemExit(err)
    b.watch_console()
    err = wait_for("bob's console to answer", b.console_text)
    if err:
        raise SystemExit(err)
    a.register_with(cay.port, "alicepw", False)
    a.message_to("Bob", aor)
    print("%s: alice: %s" % (test, a.start()), flush=True)
    err = wait_for("the 200 to alice's REGISTER", a.registered)
    if err:
        raise SystemExit(err)


def send_offline(test, a, b, cay, text):
    """alice registers and sends text to bob's AOR before bob has
    registered: cay answers 202 (kept). Then bob registers, and cay
    sends him the message; both quit."""
    a.register_with(cay.port, "alicepw", False)
    a.message_to("Bob", "sip:bob@%s:%d" % (cayrun.HOST, cay.port))
    print("%s: alice: %s" % (test, a.start()), flush=True)
    err = wait_for("the 200 to alice's REGISTER", a.registered)
    if err:
        raise SystemExit(err)
    a.command("/message %s" % text)
    err = wait_for("the 202 to alice's MESSAGE (kept for bob)",
                   lambda: final_ok(a.messages(), "MESSAGE",
                                    len(sent(a, "MESSAGE")), "202"))
    if err:
        raise SystemExit(err)
    # bob starts unregistered, his console watched, and only then adds
    # the account that registers with cay: the menu module prints the
    # message, which cay sends right after his REGISTER, to a console
    # already there.
    print("%s: bob: %s" % (test, b.start()), flush=True)
    b.watch_console()
    err = wait_for("bob's console to answer", b.console_text)
    if err:
        raise SystemExit(err)
    b.command("/uanew <sip:bob@%s:%d>;auth_pass=bobpw;regint=600"
              % (cayrun.HOST, cay.port))
    err = wait_for("the 200 to bob's REGISTER", b.registered)
    err = err or wait_for("bob to print alice's message once he registered",
                          lambda: message_shown(b, text))
    for x in (a, b):
        x.command("/quit")
    return err or wait_for("alice and bob to quit",
                           lambda: a.proc.poll() is not None
                           and b.proc.poll() is not None)


def drive_message(a, b, text):
    """alice sends text to her current contact, bob's AOR; then both
    quit, which they do once they have unregistered (so before cay is
    stopped, not while it drains)."""
    a.command("/message %s" % text)
    err = wait_for("bob to print alice's message",
                   lambda: message_shown(b, text))
    if err is None:
        err = wait_for("the 200 to alice's MESSAGE",
                       lambda: final_ok(a.messages(), "MESSAGE",
                                        len(sent(a, "MESSAGE"))))
    for x in (a, b):
        x.command("/quit")
    return err or wait_for("alice and bob to quit",
                           lambda: a.proc.poll() is not None
                           and b.proc.poll() is not None)


def message_shown(b, text):
    """bob's menu module printed alice's text as an incoming message (the
    sender's URI, a colon, the quoted text) on his console."""
    return re.search(r'sip:alice@\S+: "%s"' % re.escape(text),
                     b.console_text()) is not None


def sent(c, method):
    return [t for way, first, t in c.messages()
            if way == "out" and first.startswith(method + " ")]


def judge_message(a, b, cay, text, offline=False):
    """alice's MESSAGE was challenged (407), then relayed by Cay as its
    own MESSAGE to bob, who answered 200; alice got it. offline: alice
    got 202, and the MESSAGE bob got says when it came (Date)."""
    problems = []
    mine = sent(a, "MESSAGE")
    if not mine:
        return ["alice: sent no MESSAGE"]
    challenged = [t for way, first, t in a.messages()
                  if way == "in" and first.startswith("SIP/2.0 407")
                  and cseq(t) == cseq(mine[0])]
    if not challenged:
        problems.append("alice: her first MESSAGE was not challenged (407)")
    want = "202" if offline else "200"
    if final_ok(a.messages(), "MESSAGE", len(mine), want) is None:
        problems.append("alice: no %s to her MESSAGE" % want)
    if not message_shown(b, text):
        problems.append("bob: did not print alice's message")
    got = traced_requests(b, "MESSAGE")
    keys = {(header(t, "Call-ID", "i"), cseq(t)) for src, t in got}
    if len(keys) != 1:
        return problems + ["bob: got %d MESSAGEs, wanted 1" % len(keys)]
    src, t = got[0]
    cay_at = "%s:%d" % (cayrun.HOST, cay.port)
    if src != cay_at:
        problems.append("bob: the MESSAGE came from %s, not from cay (%s)"
                        % (src, cay_at))
    vias = re.findall(r"^(?:Via|v):\s*SIP/2\.0/\w+\s+([^;\s]+)", t,
                      re.M | re.I)
    if not vias or vias[0] != cay_at:
        problems.append("bob: the MESSAGE's top Via is %s, not cay's (%s)"
                        % (vias[0] if vias else "none", cay_at))
    if "%s:%d" % (cayrun.HOST, a.port) in vias:
        problems.append("bob: the MESSAGE carries alice's Via (proxied, "
                        "not relayed by Cay as its own)")
    if header(t, "Call-ID", "i") == header(mine[-1], "Call-ID", "i"):
        problems.append("bob: the MESSAGE has alice's Call-ID")
    if from_tag(t) is None or from_tag(t) == from_tag(mine[-1]):
        problems.append("bob: the MESSAGE has alice's From tag (or none)")
    if not re.search(r"sip:alice@", header(t, "From", "f") or ""):
        problems.append("bob: the MESSAGE's From is not alice")
    if t.split("\n\n", 1)[-1] != text:
        problems.append("bob: the MESSAGE's body is not alice's text")
    date = header(t, "Date", "Date") or ""
    if offline and not re.search(r"\d\d:\d\d:\d\d GMT$", date):
        problems.append("bob: the kept MESSAGE has no Date (RFC 3261 "
                        "section 20.17): %r" % date)
    return problems


def traced_requests(c, method):
    """(source "host:port", text) of each method request c's trace shows
    arriving at its SIP port, retransmissions included."""
    out = []
    for m in TRACE_RE.finditer(c.text()):
        body = m.group(4).replace("\r\n", "\n").strip("\n")
        if (body.startswith(method + " ")
                and m.group(3) == "%s:%d" % (cayrun.HOST, c.port)):
            out.append((m.group(2), body))
    return out
