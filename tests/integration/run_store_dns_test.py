#!/usr/bin/env python3
"""registrar.store's Redis named by a host name, looked up without
blocking a shard.

Usage:
  run_store_dns_test.py --cay build/cay [--redis-server PATH]
                        [--name NAME] [--shards 2] [--keep]

The test starts its own redis-server on 127.0.0.1:P (run_store_test.py's
RedisServer) and a fake DNS server (fake_dns.py) that every cay is given
as dns.servers, with

  A redis.cay.test 127.0.0.3, 127.0.0.2, 127.0.0.1   (in that order)
  slow.cay.test: no answer at all

On 127.0.0.3:P a socket listens with a backlog of 0 whose one place is
taken (the test checks that a further connection hangs): a Redis that
does not take connections. Nothing listens on 127.0.0.2:P (refused).

Steps (each cay with `-s --shards`):
 1. cay #1 with store `redis.cay.test:P`. At start its load looks the name
    up and walks the addresses: it logs that 127.0.0.3:P timed out and
    that 127.0.0.2:P refused, then `restored 0 bindings of 0 AORs`. Each
    shard then does the same on its loop (`shard=K`, its timeout `no
    connection within 2000 ms`). A REGISTER of
    sip:user1@127.0.0.1 gets 200 and its key reaches Redis.
 2. cay #2, the same config: its load at start `restored 1 bindings of 1
    AORs`, found through the name. The fake DNS got A queries for
    redis.cay.test from both cays.
 3. cay #3 with store `slow.cay.test:P` and dns.timeout_ms 300: the load
    at start fails (`no DNS server answered`). While every shard's lookup
    is still out, a REGISTER gets its 200 (a shard's loop is not held by
    its lookup); then each shard logs its `connection lost (its host
    name: no DNS server answered)`. SIGTERM: cay exits 0.

On success the work directory (/tmp/cay-store-dns-*) is removed; on
failure it is kept, and the logs' tails are printed. Standard library
only.
"""

import os
import re
import socket
import sys

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402
import fake_dns  # noqa: E402
import run_store_test as rs  # noqa: E402

HOST = cayrun.HOST
STUCK = "127.0.0.3"
REFUSING = "127.0.0.2"
NAME = "redis.cay.test"
SLOW = "slow.cay.test"


Fail = rs.Fail


def stuck_listener(port):
    """A socket on STUCK:port that takes no connection: listening with a
    backlog of 0, its one place taken. Returns the sockets to keep open."""
    lsock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    lsock.bind((STUCK, port))
    lsock.listen(0)
    held = [lsock]
    for _ in range(4):
        c = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        c.settimeout(0.3)
        try:
            c.connect((STUCK, port))
        except socket.timeout:
            c.close()
            return held
        held.append(c)
    for s in held:
        s.close()
    raise Fail("a listener with a backlog of 0 on %s:%d took 4 connections: "
               "cannot make a Redis that does not answer" % (STUCK, port))


def config_yaml(host, port, dns_port, timeout_ms=2000):
    return ('registrar: { min_expires_s: 1, store: { redis: "%s:%d" } }\n'
            'dns: { servers: ["%s:%d"], timeout_ms: %d }\n%s'
            % (host, port, HOST, dns_port, timeout_ms, rs.ROUTES))


def walk_lines(shard, port):
    """The two lines of a walk past the stuck and the refusing address;
    shard None: the load at start's (blocking, with hiredis's timeout)."""
    head = r"shard=%s .*" % ("-" if shard is None else shard)
    text = r"registrar store: redis %s:%d: %s:%d: %s: trying its next address"
    timeout = ("Connection timed out" if shard is None
               else "no connection within 2000 ms")
    return [head + text % (re.escape(NAME), port, re.escape(STUCK), port,
                           timeout),
            head + text % (re.escape(NAME), port, re.escape(REFUSING), port,
                           "Connection refused")]


def step1_walk(st, redis, dns):
    cay = st.start_cay("cay1", config_yaml(NAME, redis.port, dns.port))
    for pattern in walk_lines(None, redis.port):
        rs.wait_log(cay, "walk at start", pattern, 1.0)
    rs.wait_log(cay, "load at start", r"redis %s:%d: restored 0 bindings of 0 "
                r"AORs" % (re.escape(NAME), redis.port), 1.0)
    rs.register(cay, rs.aor_of("user1"), "sip:user1@%s:5999" % HOST, 600)
    for k in range(st.args.shards):
        for pattern in walk_lines(k, redis.port):
            rs.wait_log(cay, "shard %d's walk" % k, pattern, 6.0)
    err = rs.wait_keys(redis.port, present=[rs.key_of(rs.aor_of("user1"))],
                       timeout=6.0)
    if err:
        raise Fail("cay1: user1's key: %s" % err)
    # Each shard: the stuck address and the refusing one failed.
    st.stop_cay("cay1", cay, ["registers=1", "bindings_live=1",
                              "store_up=%d" % st.args.shards,
                              "store_failures=%d" % (2 * st.args.shards),
                              "store_writes=1"])
    st.notes.append("walked 3 addresses at start and on %d shards"
                    % st.args.shards)


def step2_restore(st, redis, dns):
    cay = st.start_cay("cay2", config_yaml(NAME, redis.port, dns.port))
    rs.wait_log(cay, "load at start", r"redis %s:%d: restored 1 bindings of 1 "
                r"AORs" % (re.escape(NAME), redis.port), 1.0)
    st.stop_cay("cay2", cay, ["bindings_live=1"])
    asked = dns.count("A", NAME)
    if asked < 2:
        raise Fail("the fake DNS got %d A queries for %s, expected at least "
                   "2 (%s)" % (asked, NAME, dns.counts_text()))
    st.notes.append("restored through the name (%d A queries)" % asked)


def step3_slow(st, redis, dns):
    cay = st.start_cay("cay3", config_yaml(SLOW, redis.port, dns.port, 300))
    rs.wait_log(cay, "failed load", r"redis %s:%d: cannot load the bindings "
                r"\(its host name: no DNS server answered\)"
                % (re.escape(SLOW), redis.port), 1.0)
    lost = re.compile(r"shard=\d+ .*redis %s:%d: connection lost \(its host "
                      r"name: no DNS server answered\)"
                      % (re.escape(SLOW), redis.port))
    rs.register(cay, rs.aor_of("user2"), "sip:user2@%s:5999" % HOST, 600)
    early = lost.findall(rs.log_text(cay))
    if early:
        raise Fail("cay3: a shard's lookup ended before the REGISTER was "
                   "answered, so the REGISTER did not show that the loop ran "
                   "meanwhile: %s" % early[0])
    for k in range(st.args.shards):
        rs.wait_log(cay, "shard %d's failed lookup" % k,
                    r"shard=%d .*redis %s:%d: connection lost \(its host "
                    r"name: no DNS server answered\)"
                    % (k, re.escape(SLOW), redis.port), 5.0)
    st.stop_cay("cay3", cay, ["registers=1", "bindings_live=1", "store_up=0",
                              "store_failures>=%d" % st.args.shards])
    st.notes.append("REGISTER answered during the lookups")


def run(args):
    held, dnss = [], []

    def steps(st):
        redis = rs.start_redis(args.redis_server, st.workdir, "redis")
        st.redis.append(redis)
        held.extend(stuck_listener(redis.port))
        dns = fake_dns.FakeDns(["A %s %s" % (NAME, STUCK),
                                "A %s %s" % (NAME, REFUSING),
                                "A %s %s" % (NAME, HOST),
                                "DROP %s" % SLOW])
        dns.start()
        dnss.append(dns)
        step1_walk(st, redis, dns)
        step2_restore(st, redis, dns)
        step3_slow(st, redis, dns)

    def cleanup():
        for s in held:
            s.close()
        for dns in dnss:
            dns.stop()

    def more_logs():
        return [("fake DNS queries", d.counts_text()) for d in dnss]
    return rs.run_steps(args, "cay-store-dns-", steps, cleanup, more_logs)


def parse_args(argv):
    p = rs.store_arg_parser(__doc__, "registrar_store_dns")
    return rs.find_redis_server(p, p.parse_args(argv))


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
