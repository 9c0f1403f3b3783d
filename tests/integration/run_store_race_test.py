#!/usr/bin/env python3
"""registrar.store's late load racing REGISTERs: an AOR that changes
while the load's MGET is out keeps what memory says, and one whose
binding is removed before the load restored it does not get it back.

Usage:
  run_store_race_test.py --cay build/cay [--redis-server PATH]
                         [--name NAME] [--shards 2] [--keep]

The test starts its own redis-server on 127.0.0.1:R (run_store_test.py's
RedisServer) and, later, a proxy on 127.0.0.1:P in front of it that can
hold what a client sends from its first MGET on.

Steps (each cay with `-s --shards`):
 1. cay #1, store at R: REGISTER sip:race@127.0.0.1,
    sip:other@127.0.0.1 and sip:gone@127.0.0.1 (expires 600); the
    three keys reach Redis. SIGTERM.
 2. cay #2, store at P, where nothing listens yet: it warns `cannot load`
    and starts with no binding. The proxy starts on P, holding every
    MGET; each shard connects, SCANs, and asks for its AORs' records
    (MGET, held), race's and gone's among them.
 3. While those MGETs are held: REGISTER race at a new contact, then
    remove it (Expires: 0); remove gone's binding, which cay has not
    restored yet (Expires: 0, nothing to remove here). All get 200, and
    cay queues a SET and DELs behind the MGETs. The proxy lets
    everything through.
 4. The MGETs' answers hold race's and gone's old records: neither may
    be restored over the removals. The shards' `loaded late` lines add
    up to 1 binding of 1 AOR (other's), Redis ends with no key for race
    or gone, and SIGTERM gives bindings_live=1.

On success the work directory (/tmp/cay-store-race-*) is removed; on
failure it is kept, and the logs' tails are printed. Standard library
only.
"""

import os
import socket
import sys
import threading
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402
import run_store_test as rs  # noqa: E402

HOST = cayrun.HOST
Fail = rs.Fail


class HoldingProxy:
    """TCP proxy HOST:port -> HOST:target. What a client sends from the
    chunk holding its first MGET on waits until release(); Redis's
    answers always pass."""

    def __init__(self, port, target):
        self.port = port
        self.target = target
        self.lock = threading.Lock()
        self.released = threading.Event()
        self.held_keys = b""  # what the held MGETs ask for
        self.held = {}        # server socket -> bytes held for it
        self.socks = []
        self.srv = None

    def start(self):
        self.srv = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.srv.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self.srv.bind((HOST, self.port))
        self.srv.listen(8)
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self):
        while True:
            try:
                client, _ = self.srv.accept()
            except OSError:
                return
            server = socket.create_connection((HOST, self.target), 2.0)
            server.settimeout(None)
            with self.lock:
                self.socks += [client, server]
            threading.Thread(target=self._up, args=(client, server),
                             daemon=True).start()
            threading.Thread(target=self._down, args=(server, client),
                             daemon=True).start()

    def _up(self, client, server):
        while True:
            try:
                data = client.recv(65536)
            except OSError:
                return
            if not data:
                return
            # Under the lock: release() flushes what is held first, so
            # the order of the bytes stays.
            with self.lock:
                if not self.released.is_set() and (
                        server in self.held or b"MGET" in data):
                    self.held_keys += data
                    self.held[server] = self.held.get(server, b"") + data
                    continue
                try:
                    server.sendall(data)
                except OSError:
                    return

    def _down(self, server, client):
        while True:
            try:
                data = server.recv(65536)
                if not data:
                    return
                client.sendall(data)
            except OSError:
                return

    def holding(self, what):
        with self.lock:
            return what in self.held_keys

    def release(self):
        """Send what is held, in order; from now on everything passes."""
        with self.lock:
            self.released.set()
            for server, data in self.held.items():
                try:
                    server.sendall(data)
                except OSError:
                    pass
            self.held.clear()

    def stop(self):
        self.released.set()
        try:
            self.srv.close()
        except OSError:
            pass
        with self.lock:
            for s in self.socks:
                try:
                    s.close()
                except OSError:
                    pass


GONE_CONTACT = "sip:gone@%s:5996" % HOST


def step1_keys(st, redis, race, other, gone):
    cay = st.start_cay("cay1", rs.config_yaml(redis.port))
    rs.register(cay, race, "sip:race@%s:5999" % HOST, 600)
    rs.register(cay, other, "sip:other@%s:5998" % HOST, 600)
    rs.register(cay, gone, GONE_CONTACT, 600)
    err = rs.wait_keys(redis.port, present=[rs.key_of(race),
                                            rs.key_of(other),
                                            rs.key_of(gone)])
    if err:
        raise Fail("cay1: %s" % err)
    st.stop_cay("cay1", cay, ["registers=3", "store_failures=0"])
    st.notes.append("cay1: race, other and gone written")


def step2_held_load(st, redis, race, gone):
    port = rs.free_tcp_port()
    cay = st.start_cay("cay2", rs.config_yaml(port))
    rs.wait_log(cay, "`cannot load` warning",
                r"registrar store:.*cannot load", 2.0)
    proxy = HoldingProxy(port, redis.port)
    proxy.start()
    err = cayrun.wait_for("MGETs of race's and gone's keys at the proxy",
                          lambda: proxy.holding(rs.key_of(race).encode())
                          and proxy.holding(rs.key_of(gone).encode()),
                          10.0)
    if err:
        proxy.stop()
        raise Fail("cay2: %s" % err)
    return cay, proxy


def step3_change(st, cay, proxy, race, gone):
    contact = "sip:race-new@%s:5997" % HOST
    try:
        rs.register(cay, race, contact, 600)
        rs.register(cay, race, contact, 0)
        rs.register(cay, gone, GONE_CONTACT, 0)
    finally:
        proxy.release()
    st.notes.append("race registered and removed, gone removed, while "
                    "their MGETs were held")


def step4_check(st, cay, redis, race, other, gone):
    deadline = time.monotonic() + 10.0
    while True:
        done = {int(s): (int(b), int(a))
                for s, b, a in rs.LATE_RE.findall(rs.log_text(cay))}
        if len(done) == st.args.shards or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    bindings = sum(b for b, _ in done.values())
    aors = sum(a for _, a in done.values())
    if len(done) != st.args.shards or (bindings, aors) != (1, 1):
        raise Fail("cay2: late loads %s (shard: bindings, AORs), wanted 1 "
                   "binding of 1 AOR in all (other's; not race's or gone's "
                   "old one)" % done)
    err = rs.wait_keys(redis.port, present=[rs.key_of(other)],
                       absent=[rs.key_of(race), rs.key_of(gone)])
    if err:
        raise Fail("cay2: %s" % err)
    st.stop_cay("cay2", cay, ["registers=3", "bindings_live=1",
                              "store_up=%d" % st.args.shards])
    st.notes.append("late load: other restored, race and gone left removed")


def run(args):
    race, other, gone = rs.aor_of("race"), rs.aor_of("other"), \
        rs.aor_of("gone")
    proxies = []

    def steps(st):
        redis = rs.start_redis(args.redis_server, st.workdir, "redis")
        st.redis.append(redis)
        step1_keys(st, redis, race, other, gone)
        cay, proxy = step2_held_load(st, redis, race, gone)
        proxies.append(proxy)
        step3_change(st, cay, proxy, race, gone)
        step4_check(st, cay, redis, race, other, gone)

    def cleanup():
        for p in proxies:
            p.stop()
    return rs.run_steps(args, "cay-store-race-", steps, cleanup)


def parse_args(argv):
    p = rs.store_arg_parser(__doc__, "registrar_store_late_race")
    return rs.find_redis_server(p, p.parse_args(argv))


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
