#!/usr/bin/env python3
"""Python WebSocket peers speaking SIP to cay (RFC 7118 on RFC 6455), for
run_ws_test.py.

WsConn is a tls_peers.SipConn whose messages travel one per WebSocket
message: it sends each as one masked text frame (a client masks,
RFC 6455 section 5.1), answers pings, and reads each text or binary
message as one SIP message (no Content-Length framing, RFC 7118 section
5.2). ws_connect() opens a connection to cay's ws or wss port and does
the upgrade (section 4.1), checking cay's 101: its Sec-WebSocket-Accept
and the "sip" subprotocol. Its requests name themselves the way browser
clients do: Via SIP/2.0/WS (or WSS) with a host under .invalid.

Standard library only.
"""

import base64
import hashlib
import os
import socket
import ssl
import struct
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.dont_write_bytecode = True
sys.path.insert(0, HERE)
import cayrun  # noqa: E402
import tls_peers  # noqa: E402
from tls_peers import CAY_NAME, Failure, Msg, SipConn  # noqa: E402

GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


ORIGIN = "https://phone.test"


def upgrade_request(key, protocols="sip", version="13", origin=ORIGIN):
    """The client's opening handshake (RFC 6455 section 4.1), from a page
    of origin (None: no Origin, as a client that is not a browser)."""
    lines = ["GET / HTTP/1.1", "Host: %s" % CAY_NAME,
             "Upgrade: websocket", "Connection: Upgrade",
             "Sec-WebSocket-Key: " + key,
             "Sec-WebSocket-Version: " + version]
    if origin is not None:
        lines.insert(4, "Origin: " + origin)
    if protocols:
        lines.append("Sec-WebSocket-Protocol: " + protocols)
    return ("\r\n".join(lines) + "\r\n\r\n").encode()


def accept_of(key):
    return base64.b64encode(hashlib.sha1((key + GUID).encode())
                            .digest()).decode()


def read_http_head(sock, timeout=5.0):
    """The HTTP response head and what came after it."""
    sock.settimeout(timeout)
    buf = b""
    while b"\r\n\r\n" not in buf:
        data = sock.recv(4096)
        if not data:
            raise EOFError("closed before the HTTP response ended (got %r)"
                           % buf[:200])
        buf += data
    head, _, rest = buf.partition(b"\r\n\r\n")
    return head.decode("latin-1"), rest


def open_socket(port, certs=None):
    """A TCP connection to cay's port, TLS on it when certs is given
    (cay's certificate checked against ca.pem for cay.test)."""
    raw = socket.create_connection((cayrun.HOST, port), 5.0)
    if certs is None:
        return raw
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.load_verify_locations(os.path.join(certs, "ca.pem"))
    try:
        return ctx.wrap_socket(raw, server_hostname=CAY_NAME)
    except BaseException:
        raw.close()
        raise


class WsConn(SipConn):
    """SIP on one WebSocket (over TCP or TLS)."""

    def __init__(self, sock, label, secure):
        super().__init__(sock, label)
        self.via_transport = "WSS" if secure else "WS"
        self.via_host = cayrun.new_token(12).lower() + ".invalid"
        self.pongs = 0

    def _send_frame(self, opcode, payload):
        mask = os.urandom(4)
        n = len(payload)
        head = bytes([0x80 | opcode])
        if n < 126:
            head += bytes([0x80 | n])
        elif n < 65536:
            head += bytes([0x80 | 126]) + struct.pack("!H", n)
        else:
            head += bytes([0x80 | 127]) + struct.pack("!Q", n)
        body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
        self.sock.sendall(head + mask + body)

    def send(self, data):
        if isinstance(data, str):
            data = data.encode("latin-1")
        if tls_peers.TRACE is not None:
            tls_peers.TRACE.write("sent on", self.label, data)
        self._send_frame(1, data)

    def _frame(self):
        while True:
            if len(self.buf) < 2:
                return None
            b0, b1 = self.buf[0], self.buf[1]
            if b1 & 0x80:
                raise Failure("%s: cay sent a masked frame (RFC 6455 "
                              "section 5.1)" % self.label)
            n, at = b1 & 0x7f, 2
            if n == 126:
                if len(self.buf) < 4:
                    return None
                n, at = struct.unpack("!H", self.buf[2:4])[0], 4
            elif n == 127:
                if len(self.buf) < 10:
                    return None
                n, at = struct.unpack("!Q", self.buf[2:10])[0], 10
            if len(self.buf) < at + n:
                return None
            payload, self.buf = self.buf[at:at + n], self.buf[at + n:]
            opcode = b0 & 0x0f
            if opcode == 9:
                self._send_frame(10, payload)
            elif opcode == 10:
                self.pongs += 1
            elif opcode == 8:
                raise EOFError("%s: cay closed the WebSocket (%r)"
                               % (self.label, payload))
            elif opcode in (1, 2):
                if not b0 & 0x80:
                    raise Failure("%s: a fragmented message" % self.label)
                if tls_peers.TRACE is not None:
                    tls_peers.TRACE.write("read on", self.label, payload)
                return Msg(payload)


def ws_connect(port, label, certs=None):
    """A WebSocket to cay's ws port (wss with certs), upgraded: a WsConn.
    Failure when cay's 101 is not right."""
    sock = open_socket(port, certs)
    try:
        key = base64.b64encode(os.urandom(16)).decode()
        sock.sendall(upgrade_request(key))
        head, rest = read_http_head(sock)
    except BaseException:
        sock.close()
        raise
    lines = head.split("\r\n")
    fields = {}
    for line in lines[1:]:
        name, _, value = line.partition(":")
        fields[name.strip().lower()] = value.strip()
    problems = []
    if not lines[0].startswith("HTTP/1.1 101 "):
        problems.append("status line %r" % lines[0])
    if fields.get("sec-websocket-accept") != accept_of(key):
        problems.append("Sec-WebSocket-Accept %r, wanted %r"
                        % (fields.get("sec-websocket-accept"),
                           accept_of(key)))
    if fields.get("sec-websocket-protocol") != "sip":
        problems.append("Sec-WebSocket-Protocol %r, wanted sip"
                        % fields.get("sec-websocket-protocol"))
    if problems:
        sock.close()
        raise Failure("%s: upgrade: %s" % (label, "; ".join(problems)))
    conn = WsConn(sock, label, certs is not None)
    conn.buf = rest
    return conn
