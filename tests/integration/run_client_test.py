#!/usr/bin/env python3
"""Calls from a real SIP client, baresip, through cay.

  --mode answer   baresip (caller) -> cay's built-in UAS
  --mode bridge   baresip (caller) -> cay (forward route, codecs:
                  [PCMA, telephone-event]) -> baresip (callee, auto answer)
  --mode register alice and bob register with cay's registrar (digest,
                  RFC 3261 sections 10 and 22), and alice calls bob's
                  AOR: cay forwards the call to the contact bob
                  registered (a forward route with location: true;
                  alice's INVITE is challenged, 407, and she answers
                  with her credentials: authenticate: true), and the
                  call goes on as in bridge mode
  --mode transfer baresip alice -> cay -> baresip bob, then alice's
                  blind transfer of bob to carol (RFC 3515): her REFER
                  reaches bob through Cay, bob calls carol (through Cay,
                  a second forward route), and alice learns how it went
                  from bob's NOTIFYs, relayed by Cay
  --tcp           every leg over TCP (RFC 3261 section 18): the caller
                  dials ;transport=tcp, the route's target is one too
  --outbound      register mode: bob registers an outbound flow (RFC
                  5626: reg-id, +sip.instance; baresip's sipnat=outbound);
                  cay's 200 says Require: outbound and Flow-Timer: 2, and
                  bob keeps his flow alive with STUN Binding requests
                  (over UDP) that cay answers (its keepalives counter)
  --tls           register mode over TLS (RFC 3261 section 26.2): cay
                  listens on a tls: address too, with the certificates
                  of tests/data/tls; both clients trust its CA, register
                  and dial ;transport=tls to that port, and alice's
                  call reaches bob on the connection he registered over
  --idle-close    register mode over TCP with limits.tcp_idle_timeout_s
                  2: cay closes bob's idle registration connection
                  before alice calls, and the call goes to the contact
                  bob registered, on a new connection to his listening
                  port (a binding from the contact's own host, RFC 5923
                  section 1; RFC 5626 section 7 for the closed flow)
  --mode message  alice and bob register with cay's registrar, and alice
                  sends bob an instant message (RFC 3428, the pager
                  model: MESSAGE outside a dialog) to his AOR on cay,
                  with her contact module's /message command (bob's AOR
                  her only contact, so the current one). Her first
                  MESSAGE is challenged (407, authenticate: true), her
                  second carries her credentials; Cay relays it as a
                  MESSAGE of its own (its Call-ID, From tag and Via,
                  from its port) to the contact bob registered (a
                  forward route for MESSAGE with location: true), and
                  bob's 200 goes back to alice. No call is made.

The caller dials, puts the call on hold and takes it off hold (re-INVITEs
with a=sendonly, then a=sendrecv: RFC 3264 section 8.4), hangs up (BYE)
and quits. Commands reach it one at a time through its console module (a
UDP port), each once the step before it is done; baresip prints every SIP
message it sends and receives (-s), and that trace is what is judged:

- the caller gets 200 for its INVITE, both re-INVITEs and its BYE;
- the answer to the hold offer is recvonly (RFC 3264 section 6.1);
- bridge: the callee gets the INVITE with PCMA and telephone-event only
  (baresip offers PCMU first, so without Cay's filter it would pick
  PCMU), the hold re-INVITE (sendonly), the resume re-INVITE, and Cay's
  BYE; RTP flows both ways between the two clients (each logs its
  incoming RTP), which it only does if each side's SDP reached the other;
- cay's summary (--expect), with nothing live at the end.

In message mode alice's text holds a unique token, and it is judged so:
alice's first MESSAGE got 407 and her last 200; bob's menu module
printed the text as an incoming message from sip:alice@... (it prints
that only to its UIs: the harness reads bob's console, the cons
module's UDP port, from the socket it sends his commands from); bob's
trace shows exactly one MESSAGE, from cay's address and port, with
cay's Via on top and not alice's, a Call-ID and a From tag other than
her MESSAGE's, her From URI and her text as its body; cay's summary
counts it (messages_in>=1 and messages_relayed>=1, whatever --expect
says).

Standard library only. Ports are free loopback ports; baresip binds its
SIP port on UDP and TCP, and the port after it for TLS.
"""

import argparse
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import wave

import cayrun

TLS_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "data", "tls")

STEP_TIMEOUT_S = 10.0

# One traced message: "#", "UDP src -> dst", the message, "\x1b[;m".
_TRACE_RE = re.compile(r"#\r?\n(UDP|TCP|TLS) (\S+) -> (\S+)\r?\n(.*?)\x1b\[;m",
                       re.S)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cay", required=True)
    p.add_argument("--baresip", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--mode",
                   choices=("answer", "bridge", "register", "transfer",
                            "message"),
                   required=True)
    p.add_argument("--tcp", action="store_true",
                   help="both legs over TCP instead of UDP")
    p.add_argument("--tls", action="store_true",
                   help="register and call over TLS (RFC 3261 section "
                        "26.2) with the certificates of tests/data/tls")
    p.add_argument("--outbound", action="store_true",
                   help="bob registers an outbound flow (RFC 5626)")
    p.add_argument("--idle-close", action="store_true",
                   help="register over TCP; cay closes bob's idle "
                        "connection before alice calls")
    p.add_argument("--expect", action="append", default=[],
                   help="KEY=N on cay's summary (repeat)")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory when the test passes")
    args = p.parse_args(argv)
    if args.idle_close and (args.mode != "register" or not args.tcp):
        p.error("--idle-close is for --mode register --tcp")
    if args.outbound and args.mode != "register":
        p.error("--outbound is for --mode register")
    if args.tls and (args.mode != "register" or args.tcp or args.outbound):
        p.error("--tls is for --mode register, without --tcp or --outbound")
    for spec in args.expect:
        cayrun.parse_expect(spec)
    return args


def free_sip_port():
    """A port free for UDP and TCP whose next port is free for TCP (TLS)."""
    for _ in range(50):
        port = cayrun.free_udp_port()
        socks = []
        try:
            for kind, p in ((socket.SOCK_STREAM, port),
                            (socket.SOCK_STREAM, port + 1)):
                s = socket.socket(socket.AF_INET, kind)
                socks.append(s)
                s.bind((cayrun.HOST, p))
            return port
        except OSError:
            continue
        finally:
            for s in socks:
                s.close()
    raise SystemExit("no free SIP port for baresip")


class Client:
    """One baresip process with its own config directory."""

    def __init__(self, binary, workdir, name, user, auto_answer, tls=False):
        self.name = name
        self.tls = tls
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.port = free_sip_port()
        self.cons_port = cayrun.free_udp_port()
        self.uri = "sip:%s@%s:%d" % (user, cayrun.HOST, self.port)
        self.log_path = os.path.join(workdir, name + ".log")
        self.binary = binary
        self.proc = None
        self.console = None
        self.console_out = ""
        self.user = user
        self.auto_answer = auto_answer
        self.write_config(user, auto_answer)

    def write_config(self, user, auto_answer):
        tone = os.path.join(self.dir, "tone.wav")
        write_silence(tone)
        with open(os.path.join(self.dir, "config"), "w") as f:
            f.write("sip_listen %s:%d\n" % (cayrun.HOST, self.port))
            f.write("net_interface %s\n" % cayrun.HOST)
            f.write("module_path /usr/lib/baresip/modules\n")
            for m in ("g711", "aufile", "aubridge", "cons"):
                f.write("module %s.so\n" % m)
            # uuid: the +sip.instance of an outbound registration.
            f.write("module_tmp uuid.so\nmodule_tmp account.so\n"
                    "module_app menu.so\n")
            f.write("cons_listen %s:%d\n" % (cayrun.HOST, self.cons_port))
            # A file as the microphone, a bridge device as the speaker:
            # no sound card needed.
            f.write("audio_source aufile,%s\n" % tone)
            f.write("audio_player aubridge,play_%s\n" % self.name)
            f.write("audio_alert aubridge,alert_%s\n" % self.name)
            if self.tls:
                # Trust cay's CA; a certificate of its own (baresip wants
                # the key in the same file) for its TLS listener.
                pem = os.path.join(self.dir, "cert.pem")
                with open(pem, "w") as out:
                    for part in ("client.pem", "client.key"):
                        with open(os.path.join(TLS_DATA, part)) as f_in:
                            out.write(f_in.read())
                f.write("sip_certificate %s\n" % pem)
                f.write("sip_cafile %s\n" % os.path.join(TLS_DATA, "ca.pem"))
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write("<%s>;regint=0%s\n"
                    % (self.uri, ";answermode=auto" if auto_answer else ""))

    def register_with(self, cay_port, password, tcp, outbound=False):
        """Register with cay (the account's AOR is on cay's address, so
        baresip sends its REGISTERs there) instead of using no
        registrar; with outbound, an RFC 5626 flow through cay. tcp:
        False, True, or "tls" (cay_port is then cay's TLS port)."""
        aor = "sip:%s@%s:%d%s" % (self.user, cayrun.HOST, cay_port,
                                  transport_param(tcp))
        ob = (';sipnat=outbound;outbound="sip:%s:%d%s"'
              % (cayrun.HOST, cay_port, ";transport=tcp" if tcp else "")
              if outbound else "")
        with open(os.path.join(self.dir, "accounts"), "w") as f:
            f.write("<%s>;auth_pass=%s;regint=600%s%s\n"
                    % (aor, password, ob,
                       ";answermode=auto" if self.auto_answer else ""))

    def message_to(self, name, uri):
        """Load the contact module with uri as the only contact, so the
        current one: its /message command sends there. (A
        current_contact file is not needed, and baresip 1.0 matches its
        line with the newline, so it would not be found.)"""
        with open(os.path.join(self.dir, "config"), "a") as f:
            f.write("module_app contact.so\n")
        with open(os.path.join(self.dir, "contacts"), "w") as f:
            f.write("\"%s\" <%s>\n" % (name, uri))

    def registered(self):
        """The 200 to one of the client's REGISTERs, or None."""
        for way, first, t in self.messages():
            if (way == "in" and first.startswith("SIP/2.0 200")
                    and cseq(t)[1] == "REGISTER"):
                return t
        return None

    def start(self, commands=()):
        cmd = [self.binary, "-s", "-f", self.dir, "-t", "60"]
        for c in commands:
            cmd += ["-e", c]
        self.log = open(self.log_path, "wb")
        self.proc = cayrun.popen(cmd, self.log, self.log, self.dir)
        return " ".join(cmd)

    def text(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode("latin-1")

    def messages(self):
        """[(direction 'in'/'out', first line, whole text)] in order.

        The direction comes from the top Via, not the addresses: over TCP
        a connection's local port is not the SIP port. A request whose
        top Via is ours was sent by us, a response with it came to us
        (RFC 3261 sections 8.1.1.7 and 18.2.2).
        """
        out = []
        for m in _TRACE_RE.finditer(self.text()):
            body = m.group(4).replace("\r\n", "\n")
            lines = [ln for ln in body.split("\n") if ln.strip()]
            first = lines[0] if lines else ""
            via = re.search(r"^(?:Via|v):\s*SIP/2\.0/\w+\s+[^;:\s]+:(\d+)",
                            "\n".join(lines), re.M | re.I)
            # Over TLS baresip's Via names its TLS port, the next one.
            ours = via is not None and int(via.group(1)) in (self.port,
                                                             self.port + 1)
            response = first.startswith("SIP/2.0 ")
            way = "in" if ours == response else "out"
            out.append((way, first, "\n".join(lines)))
        return out

    def transports(self):
        """The transports ("UDP", "TCP", "TLS") of every traced message."""
        return {m.group(1) for m in _TRACE_RE.finditer(self.text())}

    def command(self, text):
        if self.console is not None:
            self.console.sendto(text.encode() + b"\n",
                                (cayrun.HOST, self.cons_port))
            return
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as s:
            s.sendto(text.encode() + b"\n", (cayrun.HOST, self.cons_port))

    def watch_console(self):
        """Read what the client prints to its console. The menu module
        prints some things (an incoming message) through the UIs only,
        not to the log, and the cons module sends that output to the
        address its last command came from: from now on commands go from
        one socket of ours, which gets it. The first, /reginfo, makes
        the client print something at once (console_text())."""
        self.console = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.console.bind((cayrun.HOST, 0))
        self.console.setblocking(False)
        self.command("/reginfo")

    def console_text(self):
        """Everything the client printed to the console so far."""
        while self.console is not None:
            try:
                data = self.console.recv(65536)
            except BlockingIOError:
                break
            self.console_out += data.decode("latin-1")
        return self.console_out

    def stop(self):
        if self.console is not None:
            self.console.close()
            self.console = None
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def transport_param(tcp):
    """The URI parameter for tcp (False, True or "tls")."""
    return (";transport=tls" if tcp == "tls" else
            ";transport=tcp" if tcp else "")


def free_tcp_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((cayrun.HOST, 0))
        return s.getsockname()[1]


def tls_config(port):
    """cay's TLS listen address and certificates (tests/data/tls)."""
    return ("tls:\n"
            "  certificate: %s\n"
            "  private_key: %s\n"
            "  ca_file: %s\n" % (os.path.join(TLS_DATA, "server.pem"),
                                 os.path.join(TLS_DATA, "server.key"),
                                 os.path.join(TLS_DATA, "ca.pem")),
            ["-L", "tls:%s:%d" % (cayrun.HOST, port)])


def write_silence(path, seconds=20):
    """8 kHz 16-bit mono WAV of silence (the caller's microphone)."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000 * seconds)


def cseq(text):
    m = re.search(r"^CSeq:\s*(\d+)\s+(\w+)", text, re.M | re.I)
    return (int(m.group(1)), m.group(2).upper()) if m else (None, None)


def final_ok(msgs, method, nth):
    """The 200 the client got for its nth request of method (1-based)."""
    sent = [cseq(t)[0] for way, first, t in msgs
            if way == "out" and first.startswith(method + " ")]
    if len(sent) < nth:
        return None
    for way, first, t in msgs:
        if (way == "in" and first.startswith("SIP/2.0 200")
                and cseq(t) == (sent[nth - 1], method)):
            return t
    return None


def received(msgs, method):
    return [t for way, first, t in msgs
            if way == "in" and first.startswith(method + " ")]


def wait_for(what, check):
    return cayrun.wait_for(what, check, STEP_TIMEOUT_S)


def run_steps(a, steps):
    """(what, done, command) in order: send command (if any) to a, then
    wait until done(); the first wait that times out is the error."""
    for what, done, command in steps:
        if command:
            a.command(command)
        err = wait_for(what, done)
        if err:
            return err
    return None


def drive_caller(a, b, first=1):
    """Hold, resume, hang up, quit: each step once the last one is done.
    first: the number of the caller's INVITE that the call took (2 when
    its first was challenged)."""
    steps = [
        ("the caller's call to be established",
         lambda: "Call established" in a.text(), None),
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


def transfer_config(b, c):
    return ("routes:\n"
            "  - match: { ruri_user: \"^bob$\" }\n"
            "    action: forward\n"
            "    target: \"sip:bob@%s:%d\"\n"
            "  - match: { ruri_user: \"^carol$\" }\n"
            "    action: forward\n"
            "    target: \"sip:carol@%s:%d\"\n"
            % (cayrun.HOST, b.port, cayrun.HOST, c.port))


def bridge_config(b, tcp):
    return ("routes:\n"
            "  - action: forward\n"
            "    target: \"sip:${ruri_user}@%s:%d%s\"\n"
            "    codecs: [ PCMA, telephone-event ]\n"
            % (cayrun.HOST, b.port, ";transport=tcp" if tcp else ""))


def register_config():
    """alice and bob may register; a call, from one of them (digest,
    RFC 3261 section 22.3), goes to its AOR's contacts."""
    return ("registrar:\n"
            "  users:\n"
            "    - { username: alice, password: alicepw }\n"
            "    - { username: bob, password: bobpw }\n"
            "routes:\n"
            "  - match: { method: REGISTER }\n"
            "    action: register\n"
            "  - match: { method: INVITE }\n"
            "    action: forward\n"
            "    location: true\n"
            "    authenticate: true\n"
            "    codecs: [ PCMA, telephone-event ]\n")


def message_config():
    """alice and bob may register; a MESSAGE outside a dialog goes to
    the contacts of its Request-URI's AOR."""
    return ("registrar:\n"
            "  users:\n"
            "    - { username: alice, password: alicepw }\n"
            "    - { username: bob, password: bobpw }\n"
            "routes:\n"
            "  - match: { method: REGISTER }\n"
            "    action: register\n"
            "  - match: { method: MESSAGE }\n"
            "    action: forward\n"
            "    location: true\n"
            "    authenticate: true\n")


def traced_requests(c, method):
    """(source "host:port", text) of each method request c's trace shows
    arriving at its SIP port, retransmissions included."""
    out = []
    for m in _TRACE_RE.finditer(c.text()):
        body = m.group(4).replace("\r\n", "\n").strip("\n")
        if (body.startswith(method + " ")
                and m.group(3) == "%s:%d" % (cayrun.HOST, c.port)):
            out.append((m.group(2), body))
    return out


def header(text, name, compact):
    m = re.search(r"^(?:%s|%s):\s*(.*?)\s*$" % (name, compact), text,
                  re.M | re.I)
    return m.group(1) if m else None


def from_tag(text):
    m = re.search(r";\s*tag=([^;>\s]+)", header(text, "From", "f") or "")
    return m.group(1) if m else None


def message_shown(b, text):
    """bob's menu module printed alice's text as an incoming message (the
    sender's URI, a colon, the quoted text) on his console."""
    return re.search(r'sip:alice@\S+: "%s"' % re.escape(text),
                     b.console_text()) is not None


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


def sent(c, method):
    return [t for way, first, t in c.messages()
            if way == "out" and first.startswith(method + " ")]


def judge_message(a, b, cay, text):
    """alice's MESSAGE was challenged (407), then relayed by Cay as its
    own MESSAGE to bob, who answered 200; alice got it."""
    problems = []
    mine = sent(a, "MESSAGE")
    if not mine:
        return ["alice: sent no MESSAGE"]
    challenged = [t for way, first, t in a.messages()
                  if way == "in" and first.startswith("SIP/2.0 407")
                  and cseq(t) == cseq(mine[0])]
    if not challenged:
        problems.append("alice: her first MESSAGE was not challenged (407)")
    if final_ok(a.messages(), "MESSAGE", len(mine)) is None:
        problems.append("alice: no 200 to her MESSAGE")
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
    for m in _TRACE_RE.finditer(b.text()):
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
        if re.search(r"AOR sip:bob@\S+: binding \S+: the connection it "
                     r"registered over closed: calls go to the contact now",
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


def run(args):
    test = "integration.%s" % args.name
    workdir = tempfile.mkdtemp(prefix="cay-client-%s-" % args.name)
    problems, cay = [], None
    a = Client(args.baresip, workdir, "caller", "alice", False, args.tls)
    b = (Client(args.baresip, workdir, "callee", "bob", True, args.tls)
         if args.mode != "answer" else None)
    c = (Client(args.baresip, workdir, "carol", "carol", True)
         if args.mode == "transfer" else None)
    try:
        if c is not None:
            print("%s: carol: %s" % (test, c.start()), flush=True)
        if b is not None and args.mode not in ("register", "message"):
            print("%s: callee: %s" % (test, b.start()), flush=True)
            err = wait_for("the callee to start",
                           lambda: "baresip is ready" in b.text())
            if err:
                raise SystemExit(err)
        config = (transfer_config(b, c) if c else
                  register_config() if args.mode == "register" else
                  message_config() if args.mode == "message" else
                  bridge_config(b, args.tcp) if b else None)
        if args.idle_close:
            config += "limits: { tcp_idle_timeout_s: 2 }\n"
        if args.outbound:
            config = config.replace("registrar:\n",
                                    "registrar:\n  flow_timer_s: 2\n")

        flow_log = args.mode == "register" and (args.tcp or args.tls)
        tls_port, extra = None, []
        if args.tls:
            tls_port = free_tcp_port()
            text, extra = tls_config(tls_port)
            config += text
        cay, err = cayrun.start_cay(args.cay, workdir, config, tcp=args.tcp,
                                    log_level="debug" if flow_log else None,
                                    extra_args=extra)
        if err:
            raise SystemExit(err)
        print("%s: cay: %s" % (test, " ".join(cay.command())), flush=True)
        if args.mode == "register":
            start_registered(test, a, b, cay,
                             "tls" if args.tls else args.tcp,
                             args.idle_close, args.outbound, tls_port)
        elif args.mode != "message":
            dial = "/dial sip:bob@%s:%d%s" % (
                cayrun.HOST, cay.port, ";transport=tcp" if args.tcp else "")
            print("%s: caller: %s" % (test, a.start([dial])), flush=True)
        if args.mode == "message":
            text = "hello bob %s" % cayrun.new_token(12)
            start_messaging(test, a, b, cay)
            err = drive_message(a, b, text)
            if err:
                problems.append(err)
            problems += judge_message(a, b, cay, text)
        elif c is not None:
            err = drive_transfer(a, b, c, "sip:carol@%s:%d"
                                 % (cayrun.HOST, cay.port))
            if err:
                problems.append(err)
            problems += judge_transfer(a, b, c)
        else:
            first = 2 if args.mode == "register" else 1
            err = drive_caller(a, b, first)
            if err:
                problems.append(err)
            problems += judge_caller(a, first)
            if b is not None:
                problems += judge_callee(a, b)
            if args.mode == "register":
                problems += judge_registered(a)
            if args.outbound:
                problems += judge_outbound(b)
            if flow_log:
                problems += judge_flow(cay, b, args.idle_close)
        want = "TLS" if args.tls else "TCP" if args.tcp else "UDP"
        for x in (a, b, c):
            if x is not None and x.transports() != {want}:
                problems.append("%s: SIP went over %s, wanted %s only" % (
                    x.name, "+".join(sorted(x.transports())), want))
        result = cay.stop()
        # Whatever --expect says, a message run must count the MESSAGE.
        problems += result.problems(
            args.expect + (["messages_in>=1", "messages_relayed>=1"]
                           if args.mode == "message" else []))
        line = result.summary_text()
    except SystemExit as e:
        problems.append(str(e))
        line = ""
    finally:
        for x in (a, b, c):
            if x is not None:
                x.stop()
        if cay is not None and cay.alive():
            cay.kill()
    logs = [("%s log" % x.name, cayrun.tail(x.log_path, 60))
            for x in (a, b, c) if x is not None]
    logs += [("%s console" % x.name, x.console_out[-4000:])
             for x in (a, b, c) if x is not None and x.console_out]
    return cayrun.verdict(test, problems, line, cay, workdir, args.keep, logs)


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
