#!/usr/bin/env python3
"""MESSAGEs kept for users not registered (registrar.offline_messages).

Usage:
  run_offline_message_test.py --cay build/cay --name NAME [--shards 4]
                              [--users 8] [--expect KEY=N ...] [--keep]

cay runs with a register route, a forward route with location: true for
MESSAGE, and registrar.offline_messages 3. A sender socket sends two
MESSAGEs to each of --users AORs (sip:off<i>@127.0.0.1) that nobody has
registered: each is answered 202 (kept), on Call-IDs chosen so that for
every even user the MESSAGE's shard is not the AOR's (the store is the
AOR's shard's: the MESSAGE is handed there) and for every odd one it is.
User 0 gets a third (202) and a fourth, which gets 480 (Message Store
Full). No MESSAGE reaches anybody yet.

Then each user registers from a socket of its own: cay sends it its
MESSAGEs, one at a time, in the order they were sent (the next only
after the user's 200 to the one before), each from the sender's From
URI, with the sender's text as its body and a Date header (RFC 3261
section 20.17). The last user answers its first one 480: it is kept and
sent again at that user's next REGISTER, and then taken. Each kept
MESSAGE is logged by its AOR's shard. Every user unregisters at the end.

With --redis-server, cay keeps them in registrar.store too (a
redis-server of the test's own, as run_store_test.py starts it): once
the MESSAGEs are sent, Redis must hold a key prefix + "msgs:" + AOR for
each user; cay is stopped (SIGTERM) and a second cay with the same
config restores them at start (its log: `restored 17 kept messages for
8 AORs`), and the users register with that one, getting their MESSAGEs
as above, with the Date of when they first came; once all are taken no
such key is left. --expect then holds for the second cay.

Standard library only.
"""

import argparse
import re
import socket
import sys
import tempfile

import cayrun
import run_store_test

PER_AOR = 3


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cay", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--shards", type=int, default=4)
    p.add_argument("--users", type=int, default=8)
    p.add_argument("--expect", action="append", default=[],
                   help="KEY=N on cay's summary (repeat)")
    p.add_argument("--redis-server", default=None,
                   help="keep them in a redis-server too, across a restart")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory when the test passes")
    args = p.parse_args(argv)
    if args.users < 2:
        p.error("--users must be 2 or more")
    cayrun.check_expects(p, args.expect)
    return args


def config(redis_port=None):
    """cay's config; with redis_port, registrar.store there too."""
    store = ("  store: { redis: \"%s:%d\" }\n" % (cayrun.HOST, redis_port)
             if redis_port else "")
    return ("registrar:\n  offline_messages: %d\n" % PER_AOR + store +
            "routes:\n"
            "  - match: { method: REGISTER }\n"
            "    action: register\n"
            "  - match: { method: MESSAGE }\n"
            "    action: forward\n"
            "    location: true\n"
            "    no_response_timeout_ms: 4000\n")


def aor_of(i):
    return "sip:off%d@%s" % (i, cayrun.HOST)


def call_id_for(i, k, shards):
    """A Call-ID for user i's k-th MESSAGE: of another shard than its
    AOR's for an even i, of the AOR's own for an odd one."""
    home = cayrun.cay_hash(aor_of(i).encode()) % shards
    while True:
        cid = "off%d-%d-%s@%s" % (i, k, cayrun.new_token(10), cayrun.HOST)
        here = cayrun.cay_hash(cid.encode()) % shards == home
        if shards < 2 or here == (i % 2 == 1):
            return cid


def message_request(local, port, i, cid, text):
    return (
        "MESSAGE {aor}:{rp} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP {lh}:{lp};branch=z9hG4bK{br};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: \"Sender\" <sip:sender@{lh}:{lp}>;tag={tag}\r\n"
        "To: <{aor}>\r\n"
        "Call-ID: {cid}\r\n"
        "CSeq: 1 MESSAGE\r\n"
        "Content-Type: text/plain\r\n"
        "Content-Length: {n}\r\n\r\n{text}"
    ).format(aor=aor_of(i), rp=port, lh=local[0], lp=local[1],
             br=cayrun.new_token(16), tag=cayrun.new_token(8), cid=cid,
             n=len(text), text=text).encode()


# Datagrams read while waiting for another, by socket, for the next wait.
PENDING = {}


def recv_for(sock, want, timeout=3.0):
    """The next datagram for which want(data) holds (one read before
    and passed over first), or None."""
    pending = PENDING.setdefault(sock, [])
    for n, data in enumerate(pending):
        if want(data):
            return pending.pop(n)
    sock.settimeout(timeout)
    while True:
        try:
            data = sock.recv(65536)
        except socket.timeout:
            return None
        if want(data):
            return data
        pending.append(data)


def final_to(sock, cid):
    """The final status cay answered Call-ID cid with, and its line."""
    got = recv_for(sock, lambda d: (cayrun.response_status(d) or 0) >= 200
                   and cayrun.header_value(d, ("call-id", "i")) == cid)
    if got is None:
        return None, "nothing"
    return cayrun.response_status(got), got.split(b"\r\n", 1)[0].decode()


def send_all(sender, port, shards, users):
    """Two MESSAGEs to each user, and two more to user 0: the texts
    each user is to get, in order, and the problems."""
    problems, texts = [], {i: [] for i in range(users)}
    plan = [(i, k) for k in range(2) for i in range(users)]
    plan += [(0, 2), (0, 3)]
    for i, k in plan:
        cid = call_id_for(i, k, shards)
        text = "to off%d, number %d, %s" % (i, k, cayrun.new_token(8))
        sender.send(message_request(sender.getsockname(), port, i, cid,
                                    text))
        status, line = final_to(sender, cid)
        want = 480 if k == PER_AOR else 202
        if status != want:
            problems.append("MESSAGE %d to off%d: %s, wanted %d"
                            % (k, i, line, want))
        elif k == PER_AOR and "Message Store Full" not in line:
            problems.append("MESSAGE %d to off%d: %r, wanted Message "
                            "Store Full" % (k, i, line))
        else:
            if k < PER_AOR:
                texts[i].append(text)
    return texts, problems


def register(sock, port, i, cseq_cid, expires=600):
    cid, seq = cseq_cid
    req = cayrun.register_request(
        sock.getsockname(), (cayrun.HOST, port), aor_of(i),
        "sip:off%d@%s:%d" % (i, cayrun.HOST, sock.getsockname()[1]), cid,
        expires=expires).replace(b"CSeq: 1 ", b"CSeq: %d " % seq)
    sock.send(req)
    got = recv_for(sock, lambda d: cayrun.response_status(d) is not None
                   and b"REGISTER" in d)
    return cayrun.response_status(got) if got else None


def answer(sock, req, status, phrase):
    """Answer cay's request req (bytes) with status."""
    head = req.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    keep = [line for line in head.split("\r\n")[1:]
            if re.match(r"(?i)(via|v|from|f|call-id|i|cseq)\s*:", line)]
    to = cayrun.header_value(req, ("to", "t"))
    sock.send(("SIP/2.0 %d %s\r\n%s\r\nTo: %s;tag=%s\r\n"
               "Content-Length: 0\r\n\r\n"
               % (status, phrase, "\r\n".join(keep), to,
                  cayrun.new_token(6))).encode())


def call_id(data):
    return cayrun.header_value(data, ("call-id", "i"))


def next_message(sock, seen, timeout=3.0):
    """The next MESSAGE cay sends sock that is not one of Call-IDs seen
    (a retransmission), or None."""
    return recv_for(sock, lambda d: d.startswith(b"MESSAGE ")
                    and call_id(d) not in seen, timeout)


def judge_message(req, i, text):
    """What is wrong with cay's MESSAGE req to user i (bytes), which
    should carry text."""
    body = req.split(b"\r\n\r\n", 1)[1].decode("utf-8", "replace")
    date = cayrun.header_value(req, ("date",)) or ""
    frm = cayrun.header_value(req, ("from", "f")) or ""
    if body != text:
        return "off%d got %r, wanted %r (kept MESSAGEs in order)" % (
            i, body, text)
    if not re.match(r"\w{3}, \d\d \w{3} \d{4} \d\d:\d\d:\d\d GMT$", date):
        return "off%d: the MESSAGE's Date is %r" % (i, date)
    if "sip:sender@" not in frm:
        return "off%d: the MESSAGE's From is %r" % (i, frm)
    return None


def collect(sock, i, texts, refuse_first):
    """User i takes its MESSAGEs (answering 200, or 480 to the first when
    refuse_first): the problems."""
    problems, seen = [], set()
    for n, text in enumerate(texts):
        req = next_message(sock, seen)
        if req is None:
            return ["off%d: MESSAGE %d of %d never came" % (i, n + 1,
                                                           len(texts))]
        seen.add(call_id(req))
        why = judge_message(req, i, text)
        if why:
            problems.append(why)
        if refuse_first and n == 0:
            answer(sock, req, 480, "Temporarily Unavailable")
            return problems
        # Nothing more before the answer: one at a time.
        if n + 1 < len(texts) and next_message(sock, seen, 0.3):
            problems.append("off%d: the next MESSAGE came before the 200 "
                            "to the one before" % i)
        answer(sock, req, 200, "OK")
    if next_message(sock, seen, 0.3):
        problems.append("off%d: more MESSAGEs than were kept" % i)
    return problems


def kept_on(cay, users, shards):
    """The problems with where cay's log says each MESSAGE was kept: on
    its AOR's shard."""
    problems = []
    log = cay.stderr_tail(200000)
    for i in range(users):
        home = cayrun.cay_hash(aor_of(i).encode()) % shards
        where = set(re.findall(r"shard=(\d+) message for %s kept"
                               % re.escape(aor_of(i)), log))
        if where != {str(home)}:
            problems.append("off%d's MESSAGEs were kept on shards %s, not "
                            "on its AOR's (%d)" % (i, sorted(where), home))
    return problems


def msgs_keys(users):
    return ["cay:aor:msgs:%s" % aor_of(i) for i in range(users)]


def restart(test, args, workdir, cay, redis, socks):
    """The MESSAGEs kept are in Redis; cay stops and a second cay with
    the same config restores them: that cay (the sockets now its)."""
    err = run_store_test.wait_keys(redis.port, present=msgs_keys(args.users))
    if err:
        raise SystemExit("the kept MESSAGEs not in redis: %s" % err)
    kept = 2 * args.users + 1
    bad = cay.stop().problems(["messages_stored=%d" % kept,
                               "messages_delivered=0"])
    if bad:
        raise SystemExit("the first cay: %s" % "; ".join(bad))
    cay, err = cayrun.start_cay(args.cay, workdir, config(redis.port),
                                extra_args=["-s", str(args.shards)])
    if err:
        raise SystemExit(err)
    print("%s: cay again: %s" % (test, " ".join(cay.command())), flush=True)
    want = r"restored %d kept messages for %d AORs" % (kept, args.users)
    if not re.search(want, run_store_test.log_text(cay)):
        raise SystemExit("the second cay's log lacks %r" % want)
    for s in socks:
        s.connect((cayrun.HOST, cay.port))
    return cay


def run(args):
    test = "integration.%s" % args.name
    workdir = tempfile.mkdtemp(prefix="cay-offline-%s-" % args.name)
    problems, line, cay, socks, redis = [], "", None, [], None
    try:
        if args.redis_server:
            redis = run_store_test.start_redis(args.redis_server, workdir,
                                               "redis")
        cay, err = cayrun.start_cay(args.cay, workdir,
                                    config(redis.port if redis else None),
                                    extra_args=["-s", str(args.shards)])
        if err:
            raise SystemExit(err)
        print("%s: cay: %s" % (test, " ".join(cay.command())), flush=True)
        for _ in range(args.users + 1):
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.bind((cayrun.HOST, 0))
            s.connect((cayrun.HOST, cay.port))
            socks.append(s)
        sender, users = socks[0], socks[1:]
        texts, more = send_all(sender, cay.port, args.shards, args.users)
        problems += more
        problems += kept_on(cay, args.users, args.shards)
        if redis:
            cay = restart(test, args, workdir, cay, redis, socks)
        last = args.users - 1
        for i, s in enumerate(users):
            cid = "reg-off%d-%s" % (i, cayrun.new_token(8))
            if register(s, cay.port, i, (cid, 1)) != 200:
                problems.append("off%d: no 200 to its REGISTER" % i)
                continue
            problems += collect(s, i, texts[i], i == last)
        # The last user's first MESSAGE, refused, comes again at its
        # next REGISTER.
        s = users[last]
        cid = "reg-again-%s" % cayrun.new_token(8)
        if register(s, cay.port, last, (cid, 1)) != 200:
            problems.append("off%d: no 200 to its second REGISTER" % last)
        else:
            problems += collect(s, last, texts[last], False)
        for i, s in enumerate(users):
            cid = "unreg-off%d-%s" % (i, cayrun.new_token(8))
            if register(s, cay.port, i, (cid, 1), expires=0) != 200:
                problems.append("off%d: no 200 to its unREGISTER" % i)
        if redis:
            err = run_store_test.wait_keys(redis.port,
                                           absent=msgs_keys(args.users))
            if err:
                problems.append("kept MESSAGEs left in redis: %s" % err)
        result = cay.stop()
        problems += result.problems(args.expect)
        line = result.summary_text()
    except (SystemExit, run_store_test.Fail) as e:
        problems.append(str(e))
    finally:
        for s in socks:
            s.close()
        if cay is not None and cay.alive():
            cay.kill()
        if redis is not None:
            redis.kill()
    return cayrun.verdict(test, problems, line, cay, workdir, args.keep)


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
