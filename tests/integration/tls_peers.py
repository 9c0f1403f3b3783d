#!/usr/bin/env python3
"""Python ssl peers speaking raw SIP to cay over TLS, for run_tls_test.py.

Msg parses a SIP message just enough for the tests; SipConn frames
messages on a stream socket by Content-Length (RFC 3261 section 18.3)
and writes every one it sends or reads to the Trace (peers.sip in the
work directory, once TRACE is set); build_request() and build_response()
write messages; tls_connect() opens a connection to cay's TLS port,
checking cay's certificate against ca.pem for CAY_NAME. A Phone answers
what it gets (INVITE with 180 and 200, others with 200), on connections
it opened (ConnThread) or accepted (TlsListener, presenting a fixture
certificate); register() registers a binding on a connection.

Standard library only.
"""

import os
import re
import selectors
import socket
import ssl
import sys
import threading
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import cayrun  # noqa: E402

HOST = cayrun.HOST

# The name the peers expect in cay's certificate (server.pem's SAN).
CAY_NAME = "cay.test"

SDP = ("v=0\r\no=phone 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
       "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 7000 RTP/AVP 0\r\n"
       "a=rtpmap:0 PCMU/8000\r\n")

# RFC 3261 section 7.3.3: compact header names.
COMPACT = {"v": "via", "f": "from", "t": "to", "i": "call-id",
           "m": "contact", "l": "content-length", "c": "content-type",
           "k": "supported", "s": "subject", "e": "content-encoding",
           "o": "event", "r": "refer-to", "x": "session-expires"}


class Failure(Exception):
    """A step of a case went wrong; the message says which."""


# --------------------------------------------------------------------- #
# SIP messages over a stream                                            #
# --------------------------------------------------------------------- #

class Msg:
    """One SIP message, parsed just enough for these tests."""

    def __init__(self, raw):
        self.raw = raw
        head, _, body = raw.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        self.first = lines[0]
        self.lines = []  # (full lowercase name, whole header line)
        for line in lines[1:]:
            if line[:1] in (" ", "\t") and self.lines:
                name, text = self.lines[-1]
                self.lines[-1] = (name, text + " " + line.strip())
                continue
            name = line.split(":", 1)[0].strip().lower()
            self.lines.append((COMPACT.get(name, name), line))
        self.body = body.decode("latin-1")

    def raw_lines(self, name):
        return [line for n, line in self.lines if n == name]

    def values(self, name):
        return [line.split(":", 1)[1].strip() for line in self.raw_lines(name)]

    def get(self, name):
        vals = self.values(name)
        return vals[0] if vals else None

    @property
    def status(self):
        m = re.match(r"SIP/2\.0 +(\d{3})\b", self.first)
        return int(m.group(1)) if m else None

    @property
    def method(self):
        return None if self.status else self.first.split(" ", 1)[0]

    @property
    def cseq_method(self):
        parts = (self.get("cseq") or "").split()
        return parts[1] if len(parts) > 1 else None

    def top_via(self):
        via = self.get("via")
        return via.split(",")[0].strip() if via else ""

    def __str__(self):
        return self.first


class Trace:
    """Every SIP message the peers send and read, in one file of the
    work directory (peers.sip), for the report of a failure."""

    def __init__(self, path):
        self.path = path
        self.lock = threading.Lock()
        self.t0 = time.monotonic()

    def write(self, direction, label, data):
        with self.lock, open(self.path, "ab") as f:
            f.write(("--- %.3f s %s %s\n" % (time.monotonic() - self.t0,
                                            direction, label)).encode())
            f.write(data if data.endswith(b"\n") else data + b"\n")


TRACE = None  # a Trace once the runner has a work directory


class SipConn:
    """SIP messages on one stream socket (TLS or TCP), framed by
    Content-Length (RFC 3261 section 18.3). One thread uses it at a time:
    an ssl socket must not be read and written from two threads."""

    def __init__(self, sock, label):
        self.sock = sock
        self.label = label
        self.buf = b""

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        if TRACE is not None:
            TRACE.write("sent on", self.label, data)
        self.sock.sendall(data)

    def _frame(self):
        # RFC 5626 section 4.4.1: a CRLF CRLF ping gets a CRLF pong; lone
        # CRLFs between messages are skipped (RFC 3261 section 7.5).
        while self.buf.startswith(b"\r\n\r\n"):
            self.buf = self.buf[4:]
            self.sock.sendall(b"\r\n")
        while self.buf.startswith(b"\r\n"):
            self.buf = self.buf[2:]
        end = self.buf.find(b"\r\n\r\n")
        if end < 0:
            return None
        head = self.buf[:end].decode("latin-1")
        m = re.search(r"^(?:content-length|l)[ \t]*:[ \t]*(\d+)", head,
                      re.M | re.I)
        clen = int(m.group(1)) if m else 0
        if len(self.buf) < end + 4 + clen:
            return None
        raw, self.buf = self.buf[:end + 4 + clen], self.buf[end + 4 + clen:]
        if TRACE is not None:
            TRACE.write("read on", self.label, raw)
        return Msg(raw)

    def read(self, timeout):
        """The next message, or None after timeout s. Raises EOFError when
        the peer closed, OSError (ssl.SSLError among them) on an error."""
        deadline = time.monotonic() + timeout
        while True:
            msg = self._frame()
            if msg is not None:
                return msg
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            self.sock.settimeout(left)
            try:
                data = self.sock.recv(65536)
            except socket.timeout:
                return None
            if not data:
                raise EOFError("%s: closed by the peer" % self.label)
            self.buf += data

    def expect(self, what, pred, timeout=10.0):
        """Read until a message with pred(msg); Failure after timeout s or
        when the connection ends first."""
        deadline = time.monotonic() + timeout
        seen = []
        while True:
            left = deadline - time.monotonic()
            try:
                msg = self.read(max(left, 0)) if left > 0 else None
            except (EOFError, OSError) as e:
                raise Failure("%s: no %s (%s; got before: %s)"
                              % (self.label, what, e, seen or "nothing"))
            if msg is None:
                raise Failure("%s: no %s within %.0f s (got: %s)"
                              % (self.label, what, timeout,
                                 seen or "nothing"))
            if pred(msg):
                return msg
            seen.append(msg.first)

    def close(self):
        try:
            self.sock.close()
        except OSError:
            pass


def final_to(cseq_method):
    """A predicate: a final response to a request of that method."""
    return lambda m: (m.status is not None and m.status >= 200
                      and m.cseq_method == cseq_method)


def build_request(method, ruri, conn, from_, to, call_id, cseq,
                  contact=None, body="", extra=()):
    """A request sent from conn's socket: Via SIP/2.0/TLS (or the
    connection's via_transport) with its own address (or via_host), a new
    branch, rport (RFC 3581)."""
    lh, lp = conn.sock.getsockname()[:2]
    sent_by = getattr(conn, "via_host", None) or "%s:%d" % (
        cayrun.uri_host(lh), lp)
    lines = ["%s %s SIP/2.0" % (method, ruri),
             "Via: SIP/2.0/%s %s;branch=z9hG4bK%s;rport"
             % (getattr(conn, "via_transport", "TLS"), sent_by,
                cayrun.new_token(16)),
             "Max-Forwards: 70",
             "From: " + from_,
             "To: " + to,
             "Call-ID: " + call_id,
             "CSeq: %d %s" % (cseq, method)]
    if contact:
        lines.append("Contact: " + contact)
    lines.extend(extra)
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body.encode("latin-1")))
    return "\r\n".join(lines) + "\r\n\r\n" + body


def build_response(req, status, reason, to_tag, contact=None, body=""):
    """A response to req: its Via lines as they came (RFC 3261 section
    8.2.6.2), From, Call-ID, CSeq, and To with to_tag unless it has one."""
    lines = ["SIP/2.0 %d %s" % (status, reason)]
    lines += req.raw_lines("via")
    to = req.get("to") or ""
    if not re.search(r";\s*tag=", to, re.I):
        to += ";tag=" + to_tag
    lines += ["From: %s" % req.get("from"), "To: %s" % to,
              "Call-ID: %s" % req.get("call-id"), "CSeq: %s" % req.get("cseq")]
    if contact:
        lines.append("Contact: " + contact)
    if body:
        lines.append("Content-Type: application/sdp")
    lines.append("Content-Length: %d" % len(body.encode("latin-1")))
    return "\r\n".join(lines) + "\r\n\r\n" + body


def uri_of(name_addr):
    """The URI of a Contact/To value: inside <...>, else up to ';'."""
    m = re.search(r"<([^>]*)>", name_addr or "")
    return m.group(1) if m else (name_addr or "").split(";")[0].strip()


def names_tls_port(contact, tls_port):
    """Contact names cay's TLS listener: host:port 127.0.0.1:tls_port, and
    transport=tls (or a sips: URI, RFC 3261 section 26.2.2)."""
    uri = uri_of(contact)
    return (re.match(r"sips?:([^@;>]*@)?127\.0\.0\.1:%d(?![0-9])" % tls_port,
                     uri, re.I) is not None
            and (uri.lower().startswith("sips:")
                 or re.search(r";transport=tls\b", uri, re.I) is not None))


def via_is_tls(via, tls_port=None):
    """A Via value SIP/2.0/TLS (any case, RFC 3261 section 7.3.1), and
    when tls_port is given, sent-by 127.0.0.1 at that port."""
    if tls_port is None:
        return re.match(r"SIP\s*/\s*2\.0\s*/\s*TLS\s", via, re.I) is not None
    return re.match(r"SIP\s*/\s*2\.0\s*/\s*TLS\s+127\.0\.0\.1:%d\s*;"
                    % tls_port, via, re.I) is not None


# --------------------------------------------------------------------- #
# TLS peers                                                             #
# --------------------------------------------------------------------- #

def cert_paths(certs, name):
    return os.path.join(certs, name + ".pem"), os.path.join(certs,
                                                            name + ".key")


def tls_connect(certs, port, label, cert=None, max_version=None,
                timeout=5.0, name=None):
    """A TLS connection to cay's TLS port, cay's certificate checked
    against ca.pem for name (CAY_NAME by default); cert: the fixture to
    present (client)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(certs, "ca.pem"))
    if cert:
        ctx.load_cert_chain(*cert_paths(certs, cert))
    if max_version is not None:
        ctx.maximum_version = max_version
    raw = socket.create_connection((HOST, port), timeout)
    try:
        tls = ctx.wrap_socket(raw, server_hostname=name or CAY_NAME)
    except BaseException:
        raw.close()
        raise
    return SipConn(tls, label)


class Phone:
    """A UA that answers what it gets on any of its connections: INVITE
    with 180 and 200 (SDP), BYE, OPTIONS and others with 200, ACK with
    nothing. It records every message as (connection label, Msg) and every
    TLS handshake its listener saw as (ok, text)."""

    def __init__(self, name, contact):
        self.name = name
        self.contact = contact
        self.tag = cayrun.new_token(8)
        self.lock = threading.Lock()
        self.got = []
        self.handshakes = []
        self.errors = []

    def handle(self, conn, msg):
        with self.lock:
            self.got.append((conn.label, msg))
        if msg.status is not None or msg.method == "ACK":
            return
        if msg.method == "INVITE":
            conn.send(build_response(msg, 180, "Ringing", self.tag,
                                     self.contact))
            conn.send(build_response(msg, 200, "OK", self.tag, self.contact,
                                     SDP))
        else:
            conn.send(build_response(msg, 200, "OK", self.tag))

    def requests(self, method):
        with self.lock:
            return [(label, m) for label, m in self.got
                    if m.method == method]

    def messages(self):
        with self.lock:
            return list(self.got)

    def note_handshake(self, ok, text):
        with self.lock:
            self.handshakes.append((ok, text))

    def note_error(self, text):
        with self.lock:
            self.errors.append(text)


def serve_conn(conn, phone, stop):
    """Answer what comes on conn until stop is set or it closes."""
    while not stop.is_set():
        try:
            msg = conn.read(0.1)
        except (EOFError, OSError) as e:
            if not stop.is_set() and not isinstance(e, EOFError):
                phone.note_error("%s: %s" % (conn.label, e))
            return
        if msg is not None:
            try:
                phone.handle(conn, msg)
            except OSError as e:
                phone.note_error("%s: answering %s: %s"
                                 % (conn.label, msg, e))
                return


class ConnThread:
    """serve_conn() on its own thread, stoppable."""

    def __init__(self, conn, phone):
        self.conn = conn
        self.stop = threading.Event()
        self.thread = threading.Thread(target=serve_conn,
                                       args=(conn, phone, self.stop),
                                       daemon=True)
        self.thread.start()

    def join(self):
        self.stop.set()
        self.thread.join()


class TlsListener:
    """A TLS server for a Phone on 127.0.0.1:port (and [::1]:port when
    that can be bound) presenting the fixture cert; each accepted
    connection does its handshake and SIP on its own thread."""

    def __init__(self, phone, certs, cert, port):
        self.phone = phone
        self.cert = cert
        self.port = port
        self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        self.ctx.load_cert_chain(*cert_paths(certs, cert))
        self.socks = []
        for host in (HOST, "::1"):
            s = socket.socket(cayrun.family_of(host), socket.SOCK_STREAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind((host, port))
            except OSError:
                s.close()
                if host == HOST:
                    raise
                continue
            s.listen(16)
            self.socks.append(s)
        self.stop = threading.Event()
        self.threads = []
        self.acceptor = threading.Thread(target=self._accept, daemon=True)
        self.acceptor.start()

    def _accept(self):
        sel = selectors.DefaultSelector()
        for s in self.socks:
            sel.register(s, selectors.EVENT_READ)
        while not self.stop.is_set():
            for key, _ in sel.select(0.1):
                try:
                    sock, addr = key.fileobj.accept()
                except OSError:
                    continue
                t = threading.Thread(target=self._serve, args=(sock, addr),
                                     daemon=True)
                t.start()
                self.threads.append(t)
        sel.close()

    def _serve(self, sock, addr):
        peer = "%s:%d" % (cayrun.uri_host(addr[0]), addr[1])
        sock.settimeout(5.0)
        try:
            tls = self.ctx.wrap_socket(sock, server_side=True)
        except (OSError, ValueError) as e:
            self.phone.note_handshake(False, "%s (%s): %s"
                                      % (peer, self.cert, e))
            sock.close()
            return
        self.phone.note_handshake(True, "%s (%s): %s" % (
            peer, self.cert, tls.version()))
        conn = SipConn(tls, "%s listener, from %s" % (self.cert, peer))
        serve_conn(conn, self.phone, self.stop)
        conn.close()

    def close(self):
        """Stop accepting and close every connection (cay sees EOF)."""
        self.stop.set()
        self.acceptor.join()
        for t in self.threads:
            t.join()
        for s in self.socks:
            s.close()


# --------------------------------------------------------------------- #
# Registration and SIPp scenarios                                       #
# --------------------------------------------------------------------- #

def register(conn, aor, contact, cseq, call_id, from_tag, expires):
    """REGISTER on conn (RFC 3261 section 10.2): its final response."""
    from_ = "<%s>;tag=%s" % (aor, from_tag)
    conn.send(build_request("REGISTER", "sip:" + aor.split("@", 1)[1],
                            conn, from_, "<%s>" % aor, call_id, cseq,
                            contact, extra=["Expires: %d" % expires]))
    return conn.expect("final response to the REGISTER", final_to("REGISTER"))


def scenario_copy(path, workdir, subs, tag):
    """The scenario with its @KEY@ placeholders replaced, in workdir."""
    with open(path, encoding="latin-1") as f:
        text = f.read()
    for key, value in subs.items():
        text = text.replace("@%s@" % key, value)
    left = re.findall(r"@([A-Z][A-Z0-9_]*)@", text)
    if left:
        raise Failure("%s: no value for @%s@" % (path, left[0]))
    out = os.path.join(workdir, "%s_%s" % (tag, os.path.basename(path)))
    with open(out, "w", encoding="latin-1") as f:
        f.write(text)
    return out
