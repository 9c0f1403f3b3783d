#!/usr/bin/env python3
"""Responses after the request's TCP connection closed (RFC 3261 18.2.2).

Usage:
  run_tcp_reopen_test.py --cay build/cay [--shards 2] [--calls 16] [--keep]

Section 18.2.2: over a reliable transport a response goes back on the
connection the request came on while it is open; once it has closed, the
server SHOULD open a new connection to the IP of "received" (the source)
and the port in sent-by (5060 without one). The source port of a TCP
client is an ephemeral one that nobody listens on; sent-by names the port
the client listens on.

cay answers every INVITE after ring_ms (180) and answer_after_ms (200).
For each of --calls INVITEs the script opens a connection from an
ephemeral port, sends the INVITE with a Via whose sent-by is the port of
its own listening socket, waits for the 100 Trying on that connection
(cay has read the INVITE) and closes it. The 180 and 200 can then only
arrive on a connection cay opens to the sent-by port. The script ACKs each
200 and sends a BYE on the connection the 200 came on, and wants its 200.

With 2 shards about half the calls belong to the shard that did not
accept the connection: their responses cross to the accepting shard
(MAIL_TCP_WRITE), which finds the connection gone and opens one to the
address it was given.

Checks: every call got 180, 200 and a 200 to its BYE, on connections cay
opened to the sent-by port; after SIGTERM cay exits 0 with
calls_answered equal to --calls and nothing live.
"""

import argparse
import os
import random
import selectors
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402
from run_tcp_busy_test import SDP, frames  # noqa: E402

CONFIG = """\
shards: %d
answer: { ring_ms: 300, answer_after_ms: 300 }
"""


def request(method, remote, sent_by, call_id, from_tag, cseq, to=None,
            body=""):
    """A request over TCP whose Via and Contact name the listening port."""
    host, port = sent_by
    return ("%s sip:reopen@%s:%d;transport=tcp SIP/2.0\r\n"
            "Via: SIP/2.0/TCP %s:%d;branch=z9hG4bK%s\r\n"
            "Max-Forwards: 70\r\n"
            "From: <sip:probe@%s>;tag=%s\r\n"
            "To: %s\r\n"
            "Call-ID: %s\r\n"
            "CSeq: %d %s\r\n"
            "Contact: <sip:probe@%s:%d;transport=tcp>\r\n"
            "%s"
            "Content-Length: %d\r\n\r\n%s"
            % (method, remote[0], remote[1], host, port, cayrun.new_token(),
               host, from_tag, to or "<sip:reopen@%s>" % remote[0], call_id,
               cseq, method, host, port,
               "Content-Type: application/sdp\r\n" if body else "",
               len(body), body)).encode()


def send_and_close(remote, sent_by, call_id, deadline):
    """INVITE on a new connection; close it once the 100 Trying came."""
    sock = socket.create_connection(remote, timeout=5)
    try:
        sock.sendall(request("INVITE", remote, sent_by, call_id, "ft-" +
                             call_id, 1, body=SDP))
        buf = b""
        while time.monotonic() < deadline:
            data = sock.recv(65536)
            if not data:
                return "cay closed the connection before its 100"
            msgs, buf = frames(buf + data)
            if any(cayrun.response_status(m) == 100 for m in msgs):
                return None
        return "no 100 Trying on the request's connection"
    finally:
        sock.close()


class Reopened:
    """The listening socket of sent-by and the connections cay opens."""

    def __init__(self, host):
        self.listener = socket.socket(cayrun.family_of(host),
                                      socket.SOCK_STREAM)
        self.listener.bind((host, 0))
        self.listener.listen(16)
        self.listener.setblocking(False)
        self.sel = selectors.DefaultSelector()
        self.sel.register(self.listener, selectors.EVENT_READ, None)
        self.conns = []
        self.got = {}  # Call-ID -> {"180": conn, "200": (conn, msg), ...}

    @property
    def address(self):
        return self.listener.getsockname()[:2]

    def poll(self, timeout):
        for key, _ in self.sel.select(timeout):
            if key.data is None:
                conn, _ = self.listener.accept()
                conn.setblocking(False)
                self.conns.append(conn)
                self.sel.register(conn, selectors.EVENT_READ, [b""])
                continue
            data = key.fileobj.recv(65536)
            if not data:
                self.sel.unregister(key.fileobj)
                continue
            msgs, key.data[0] = frames(key.data[0] + data)
            for m in msgs:
                self.take(key.fileobj, m)

    def take(self, conn, m):
        cid = cayrun.header_value(m, ("call-id", "i"))
        status = cayrun.response_status(m)
        cseq = cayrun.header_value(m, ("cseq",)) or ""
        if status is None:
            self.got.setdefault(cid, {})["request " + cseq] = (conn, m)
        else:
            self.got.setdefault(cid, {})["%d %s" % (status, cseq)] = (conn, m)

    def close(self):
        for c in self.conns:
            c.close()
        self.listener.close()
        self.sel.close()


def finish_calls(lst, remote, ids, deadline):
    """ACK and BYE each answered call on the connection its 200 came on."""
    done = set()
    while time.monotonic() < deadline and len(done) < len(ids):
        lst.poll(0.1)
        for cid in ids:
            got = lst.got.get(cid, {})
            if cid in done or "200 1 INVITE" not in got:
                continue
            conn, ok = got["200 1 INVITE"]
            to = cayrun.header_value(ok, ("to", "t"))
            conn.setblocking(True)
            conn.sendall(request("ACK", remote, lst.address, cid, "ft-" + cid,
                                 1, to))
            conn.sendall(request("BYE", remote, lst.address, cid, "ft-" + cid,
                                 2, to))
            conn.setblocking(False)
            done.add(cid)
    while time.monotonic() < deadline and not all(
            "200 2 BYE" in lst.got.get(cid, {}) for cid in ids):
        lst.poll(0.1)


def judge(lst, ids, problems):
    for cid in ids:
        got = lst.got.get(cid, {})
        for want in ("180 1 INVITE", "200 1 INVITE", "200 2 BYE"):
            if want not in got:
                problems.append("%s: no %s on a connection to sent-by"
                                % (cid, want))
                break
    if not lst.conns:
        problems.append("cay opened no connection to the sent-by port")


def run(args):
    workdir = tempfile.mkdtemp(prefix="cay-tcp-reopen-")
    test = "integration.tcp_18_2_2_reopen_shards%d" % args.shards
    cay, err = cayrun.start_cay(args.cay, workdir, CONFIG % args.shards,
                                tcp=True)
    problems, line = [], ""
    if err is None:
        remote = cay.address
        lst = Reopened(cay.host)
        ids = ["reopen-%s" % cayrun.new_token(16) for _ in range(args.calls)]
        deadline = time.monotonic() + 20
        for cid in ids:
            why = send_and_close(remote, lst.address, cid, deadline)
            if why:
                problems.append("%s: %s" % (cid, why))
        if not problems:
            finish_calls(lst, remote, ids, deadline)
            judge(lst, ids, problems)
        conns = len(lst.conns)
        lst.close()
        result = cay.stop()
        problems += result.problems(
            ["calls_answered=%d" % args.calls, "dialogs_live=0",
             "txns_live=0"])
        line = "calls=%d connections to sent-by=%d | cay rc=%s %s" % (
            args.calls, conns, result.returncode, result.summary_text())
    else:
        problems.append(err)
    return cayrun.verdict(test, problems, line, cay, workdir, args.keep)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--cay", required=True, help="the cay binary")
    p.add_argument("--shards", type=int, default=1)
    p.add_argument("--calls", type=int, default=16,
                   help="calls, each on its own closed connection")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory on success too")
    return p.parse_args(argv)


if __name__ == "__main__":
    random.seed()
    sys.exit(cayrun.main(parse_args, run))
