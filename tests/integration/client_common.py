"""What every mode of run_client_test.py shares: the baresip Client (one
process, its config directory, its console and its SIP trace), free
ports, waiting for a step, running steps in order, and reading SIP text
(CSeq, a header, the From tag, the 200 to a request, requests received).
"""

import os
import re
import signal
import socket
import subprocess
import time
import wave

import cayrun

TLS_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "..", "data", "tls")

STEP_TIMEOUT_S = 10.0

# One traced message: "#", "UDP src -> dst", the message, "\x1b[;m".
TRACE_RE = re.compile(r"#\r?\n(UDP|TCP|TLS) (\S+) -> (\S+)\r?\n(.*?)\x1b\[;m",
                      re.S)


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


def registered_users_config(method, extra=""):
    """alice and bob may register; a @method from one of them (digest,
    RFC 3261 section 22.3) goes to the contacts of its Request-URI's AOR;
    extra: more keys of that route (YAML lines)."""
    return ("registrar:\n"
            "  users:\n"
            "    - { username: alice, password: alicepw }\n"
            "    - { username: bob, password: bobpw }\n"
            "routes:\n"
            "  - match: { method: REGISTER }\n"
            "    action: register\n"
            "  - match: { method: %s }\n"
            "    action: forward\n"
            "    location: true\n"
            "    authenticate: true\n" % method) + extra


def free_tcp_port():
    """A TCP port free and locked for this process (cayrun)."""
    return cayrun.free_udp_tcp_port()


class Client:
    """One baresip process with its own config directory."""

    def __init__(self, binary, workdir, name, user, auto_answer, tls=False):
        self.name = name
        self.tls = tls
        self.dir = os.path.join(workdir, name)
        os.makedirs(self.dir)
        self.port = free_sip_port()
        # The cons module listens on UDP and TCP: a port that is some
        # connection's local end for TCP makes it fail on both, and the
        # client then takes no command at all.
        self.cons_port = cayrun.free_udp_tcp_port()
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
        """Start baresip and wait (at most 5 s) until it says it is
        ready. Its SIP port was free a moment before (free_sip_port()),
        but another test's socket may take it first: baresip then exits
        with "Address already in use", and is started again on the same
        ports (the config and the peers know them) after 0.5 s, at most
        3 times in all."""
        cmd = [self.binary, "-s", "-f", self.dir, "-t", "60"]
        for c in commands:
            cmd += ["-e", c]
        for _ in range(3):
            self.log = open(self.log_path, "wb")
            self.proc = cayrun.popen(cmd, self.log, self.log, self.dir)
            cayrun.wait_for("baresip to be ready", lambda: (
                self.proc.poll() is not None
                or "baresip is ready." in self.text()
                or "Address already in use" in self.text()), 5.0)
            if "Address already in use" not in self.text():
                break
            self.proc.kill()
            self.proc.wait()
            self.log.close()
            time.sleep(0.5)
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
        for m in TRACE_RE.finditer(self.text()):
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
        return {m.group(1) for m in TRACE_RE.finditer(self.text())}

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


def write_silence(path, seconds=20):
    """8 kHz 16-bit mono WAV of silence (the caller's microphone)."""
    with wave.open(path, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\0\0" * 8000 * seconds)


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


def cseq(text):
    m = re.search(r"^CSeq:\s*(\d+)\s+(\w+)", text, re.M | re.I)
    return (int(m.group(1)), m.group(2).upper()) if m else (None, None)


def header(text, name, compact):
    m = re.search(r"^(?:%s|%s):\s*(.*?)\s*$" % (name, compact), text,
                  re.M | re.I)
    return m.group(1) if m else None


def from_tag(text):
    m = re.search(r";\s*tag=([^;>\s]+)", header(text, "From", "f") or "")
    return m.group(1) if m else None


def final_ok(msgs, method, nth, code="200"):
    """The 200 (or code) the client got for its nth request of method
    (1-based)."""
    sent = [cseq(t)[0] for way, first, t in msgs
            if way == "out" and first.startswith(method + " ")]
    if len(sent) < nth:
        return None
    for way, first, t in msgs:
        if (way == "in" and first.startswith("SIP/2.0 %s " % code)
                and cseq(t) == (sent[nth - 1], method)):
            return t
    return None


def received(msgs, method):
    return [t for way, first, t in msgs
            if way == "in" and first.startswith(method + " ")]
