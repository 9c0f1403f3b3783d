#!/usr/bin/env python3
"""The registrar's bindings in Redis (registrar.store), end to end.

Usage:
  run_store_test.py --cay build/cay --sipp sipp [--redis-server PATH]
                    [--name NAME] [--shards 2] [--calls 40]
                    [--expect KEY=N ...] [--keep]

The test starts its own redis-server on a free loopback TCP port (no
persistence, in the work directory) and speaks RESP to it over a socket.
Every cay runs with `-s --shards` and the config

  registrar: { min_expires_s: 1, store: { redis: "127.0.0.1:P", ... } }
  routes: REGISTER -> register; INVITE -> forward, location: true

Steps:
 1. cay #1 (prefix "cay:aor:" given): REGISTER sip:userK@127.0.0.1
    (K = 1..8, expires 600) at sip:userK@127.0.0.1:CALLEE_PORT, where
    CALLEE_PORT is the SIPp UAS's port (started in step 2); user9 is
    registered, its key awaited, and removed (Expires: 0); then
    sip:brief@127.0.0.1 with expires 2, and a second binding of user8
    with expires 2 at a port nobody answers on. Redis must hold the keys
    cay:aor:sip:userK@127.0.0.1 and cay:aor:sip:brief@127.0.0.1, each
    with a PTTL > 0 (<= 600 s; brief's <= 2 s), and no key for user9.
    SIGTERM: cay exits 0 and the keys stay.
 2. Once the short bindings have expired (2.5 s after their REGISTERs),
    cay #2 (no prefix: the default must be "cay:aor:") restores the rest
    at start: its log says `registrar store: redis 127.0.0.1:P: restored
    8 bindings of 8 AORs` (the two short ones expired while cay was
    down; brief's key most often gone from Redis by its own TTL, so the
    "(E expired)" count is only bounded, E <= 2). A SIPp UAS on
    CALLEE_PORT answers, and a SIPp UAC makes --calls calls to user1..8
    through cay (a copy of scenarios/uac_basic.xml whose Request-URI user
    comes from a CSV): each must reach the restored contact and succeed.
 3. Still cay #2: the keys of user1..7 are deleted from Redis behind
    cay's back and Redis saves (dump.rdb: user8's key only); redis-server
    is killed; cay logs `connection lost`; REGISTER sip:late@127.0.0.1
    still gets 200, and user8's binding is removed (Expires: 0); its live
    counters (SIGUSR1) come to store_up=0; a redis-server on the same
    port, loading that dump, gets within 10 s the key of late and those
    of user1..7 (cay writes every AOR anew, and logs `connected`) and
    loses user8's (cay DELs an AOR removed while Redis was away); cay's
    store_writes grew by exactly those 8 writes and the DEL.
    SIGTERM: cay exits 0, its summary holds every --expect (and every
    shard took calls), and the keys are still in Redis.
 4. cay #3 with a store on a port where nothing listens: it warns
    `registrar store: ... cannot load`, starts anyway, answers OPTIONS
    and REGISTERs of sip:nostore and (at a new contact) user1. Then a
    redis-server starts on that port with step 3's keys (late, user1..7,
    saved by that Redis to dump.rdb with their expiry): cay writes
    nostore's key and user1's new one, and each shard logs `loaded late:
    restored B bindings of A AORs`, the Bs adding up to 7 (user1's old
    binding is not restored over its new one). SIGTERM: cay exits 0 with
    registers=2 and bindings_live=9.

On success the work directory (/tmp/cay-store-*) is removed; on failure
it is kept, and the logs' tails are printed. Standard library only.
"""

import argparse
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402
import run_sipp_test  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))
UAC_BASIC = os.path.join(HERE, "scenarios", "uac_basic.xml")
HOST = cayrun.HOST
PREFIX = "cay:aor:"
USERS = ["user%d" % k for k in range(1, 9)]
USER_EXPIRES = 600
BRIEF_EXPIRES = 2

ROUTES = """\
routes:
  - match: { method: REGISTER }
    action: register
  - match: { method: INVITE }
    action: forward
    location: true
"""

RESTORED_RE = re.compile(
    r"registrar store: redis [^\s:]+:(\d+): restored (\d+) bindings of "
    r"(\d+) AORs(?: \((\d+) expired)?")


class Fail(Exception):
    """A step went wrong: the message says what; later steps are moot."""


# -- Redis: the server and a tiny RESP client --------------------------------

class RedisError(Exception):
    """An error reply (-ERR ...) from Redis."""


def _read_reply(f):
    line = f.readline()
    if not line.endswith(b"\r\n"):
        raise ConnectionError("redis closed the connection")
    kind, rest = line[:1], line[1:-2]
    if kind == b"+":
        return rest.decode("latin-1")
    if kind == b"-":
        raise RedisError(rest.decode("latin-1"))
    if kind == b":":
        return int(rest)
    if kind == b"$":
        n = int(rest)
        if n < 0:
            return None
        data = f.read(n + 2)
        if len(data) != n + 2:
            raise ConnectionError("redis closed the connection")
        return data[:-2]
    if kind == b"*":
        n = int(rest)
        return None if n < 0 else [_read_reply(f) for _ in range(n)]
    raise ConnectionError("not a RESP reply: %r" % line[:80])


def redis_command(port, *args, timeout=2.0):
    """Send one command to 127.0.0.1:port on a new connection; return the
    reply (str, int, bytes, None or list). Raises OSError when nobody
    answers, RedisError on an error reply."""
    out = b"*%d\r\n" % len(args)
    for a in args:
        a = a if isinstance(a, bytes) else str(a).encode()
        out += b"$%d\r\n%s\r\n" % (len(a), a)
    with socket.create_connection((HOST, port), timeout=timeout) as s:
        s.sendall(out)
        with s.makefile("rb") as f:
            return _read_reply(f)


def free_tcp_port():
    """A loopback TCP port free and locked for this process
    (cayrun.free_udp_port())."""
    return cayrun.free_udp_tcp_port(HOST)


class RedisServer:
    """One redis-server on 127.0.0.1:port: no RDB, no AOF, in workdir."""

    def __init__(self, binary, workdir, port, tag):
        self.binary = binary
        self.workdir = workdir
        self.port = port
        self.log = os.path.join(workdir, tag + ".log")
        self.proc = None

    def start(self, timeout=5.0):
        """Start it and wait until it answers PING: None or an error."""
        cmd = [self.binary, "--port", str(self.port), "--bind", HOST,
               "--save", "", "--appendonly", "no", "--daemonize", "no",
               "--dir", self.workdir]
        with open(self.log, "wb") as out:
            self.proc = cayrun.popen(cmd, out, subprocess.STDOUT,
                                     self.workdir)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                return "redis-server on port %d exited with code %s" % (
                    self.port, self.proc.returncode)
            try:
                if redis_command(self.port, "PING", timeout=0.5) == "PONG":
                    return None
            except (OSError, RedisError):
                pass
            time.sleep(0.05)
        return "redis-server on port %d not answering PING in %.0f s" % (
            self.port, timeout)

    def kill(self):
        """SIGKILL: the connections drop at once, nothing is saved."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def tail(self):
        return cayrun.tail(self.log, 20)


def start_redis(binary, workdir, tag):
    """A redis-server on a free port (tried again on another port, at most
    3 times in all, when another process took it first)."""
    err = None
    for _ in range(3):
        r = RedisServer(binary, workdir, free_tcp_port(), tag)
        err = r.start()
        if err is None:
            return r
        r.kill()
        if "Address already in use" not in r.tail():
            break
    raise Fail(err)


def key_of(aor):
    return PREFIX + aor


def aor_of(user):
    return "sip:%s@%s" % (user, HOST)


def keys_in(port):
    """Every key under the prefix (sorted), for reports."""
    try:
        return sorted(k.decode("latin-1")
                      for k in redis_command(port, "KEYS", PREFIX + "*"))
    except (OSError, RedisError) as e:
        return ["(KEYS failed: %s)" % e]


def wait_keys(port, present=(), absent=(), timeout=3.0):
    """Wait until every key of present exists and none of absent does:
    None, or what is still wrong when the time is up."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            missing = [k for k in present
                       if redis_command(port, "EXISTS", k) != 1]
            extra = [k for k in absent
                     if redis_command(port, "EXISTS", k) != 0]
        except (OSError, RedisError) as e:
            missing, extra = ["(redis: %s)" % e], []
        if not missing and not extra:
            return None
        if time.monotonic() >= deadline:
            bad = []
            if missing:
                bad.append("missing %s" % ", ".join(missing))
            if extra:
                bad.append("still there %s" % ", ".join(extra))
            return "after %.0f s: %s (keys: %s)" % (
                timeout, "; ".join(bad), " ".join(keys_in(port)) or "none")
        time.sleep(0.05)


# -- SIP --------------------------------------------------------------------

def register(cay, aor, contact, expires):
    """REGISTER with cay; raise Fail unless the answer is 200."""
    status = cayrun.transact(
        HOST, cay.port,
        lambda local, remote, cid: cayrun.register_request(
            local, remote, aor, contact, cid, expires), timeout=2.0)
    if status != 200:
        raise Fail("REGISTER %s -> %s expires %d got %s, not 200"
                   % (aor, contact, expires, status))


def log_text(cay):
    """cay's stdout and stderr so far (it logs to stderr)."""
    text = ""
    for path in (cay.stderr_path, cay.stdout_path):
        try:
            with open(path, "rb") as f:
                text += f.read().decode("utf-8", "replace")
        except OSError:
            pass
    return text


def wait_log(cay, what, pattern, timeout):
    """Wait until a line of cay's log matches pattern: the match, or
    raise Fail."""
    rx = re.compile(pattern)
    deadline = time.monotonic() + timeout
    while True:
        m = rx.search(log_text(cay))
        if m:
            return m
        if time.monotonic() >= deadline:
            raise Fail("cay logged no %s within %.0f s (/%s/)"
                       % (what, timeout, pattern))
        time.sleep(0.05)


def line_of(m):
    """Match m (of the log's text) to the end of its line."""
    text = m.string
    end = text.find("\n", m.end())
    return text[m.start():end if end >= 0 else len(text)].strip()


def config_yaml(redis_port, prefix=True):
    store = '{ redis: "%s:%d"%s }' % (
        HOST, redis_port, ', prefix: "%s"' % PREFIX if prefix else "")
    return "registrar: { min_expires_s: 1, store: %s }\n%s" % (store,
                                                              ROUTES)


def run_dir(workdir, name):
    path = os.path.join(workdir, name)
    os.mkdir(path)
    return path


class State:
    """What the steps leave for the report."""

    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.cays = []      # (title, Cay)
        self.redis = []     # RedisServer
        self.sipps = []     # run_sipp_test.Sipp
        self.notes = []     # one-line results of the steps

    def start_cay(self, title, yaml_text):
        cay, err = cayrun.start_cay(
            self.args.cay, run_dir(self.workdir, title), yaml_text,
            extra_args=["-s", str(self.args.shards)])
        self.cays.append((title, cay))
        if err:
            raise Fail("%s: %s" % (title, err))
        return cay

    def stop_cay(self, title, cay, expects=(), shard_expects=()):
        result = cay.stop()
        bad = result.problems(expects, shard_expects, self.args.shards)
        if bad:
            raise Fail("%s: %s (%s)" % (title, "; ".join(bad),
                                        result.summary_text()))
        return result


# -- the steps --------------------------------------------------------------

def step1_register(st, redis, callee_port):
    cay = st.start_cay("cay1", config_yaml(redis.port, prefix=True))
    for user in USERS:
        register(cay, aor_of(user),
                 "sip:%s@%s:%d" % (user, HOST, callee_port), USER_EXPIRES)
    # user9: bound, written, then removed: its key must go.
    user9 = aor_of("user9")
    contact9 = "sip:user9@%s:%d" % (HOST, callee_port)
    register(cay, user9, contact9, USER_EXPIRES)
    err = wait_keys(redis.port, present=[key_of(user9)])
    if err:
        raise Fail("cay1: user9's key not written: %s" % err)
    register(cay, user9, contact9, 0)
    brief = aor_of("brief")
    register(cay, brief, "sip:brief@%s:%d" % (HOST, callee_port),
             BRIEF_EXPIRES)
    # A second, short binding of user8, at a port nobody answers on: its
    # record outlives it (the other binding's 600 s), so the restore must
    # skip it, and calls to user8 must not try it.
    register(cay, aor_of("user8"),
             "sip:user8-old@%s:%d" % (HOST, cayrun.free_udp_port()),
             BRIEF_EXPIRES)
    brief_at = time.monotonic()
    want = [key_of(aor_of(u)) for u in USERS] + [key_of(brief)]
    err = wait_keys(redis.port, present=want, absent=[key_of(user9)],
                    timeout=1.5)
    if err:
        raise Fail("cay1: keys after the REGISTERs: %s" % err)
    for key in want:
        pttl = redis_command(redis.port, "PTTL", key)
        top = (BRIEF_EXPIRES if key == key_of(brief) else USER_EXPIRES)
        if not isinstance(pttl, int) or not 0 < pttl <= top * 1000 + 1000:
            raise Fail("cay1: PTTL %s = %s, wanted 0 < PTTL <= %d ms"
                       % (key, pttl, top * 1000 + 1000))
        value = redis_command(redis.port, "GET", key)
        if not value:
            raise Fail("cay1: key %s holds %r, not a record" % (key, value))
    st.stop_cay("cay1", cay, ["registers=12", "registers_refused=0",
                              "txns_live=0", "calls_in=0", "store_up=%d"
                              % st.args.shards, "store_writes>=12",
                              "store_failures=0"])
    err = wait_keys(redis.port, present=[key_of(aor_of(u)) for u in USERS],
                    timeout=0.5)
    if err:
        raise Fail("keys after cay1's SIGTERM: %s" % err)
    st.notes.append("cay1: 8 user keys + brief written, user9's deleted")
    return brief_at


def step2_restore(st, redis, callee_port, brief_at):
    # brief's binding (2 s) must have expired before cay2 reads Redis.
    time.sleep(max(0.0, brief_at + BRIEF_EXPIRES + 0.5 - time.monotonic()))
    cay = st.start_cay("cay2", config_yaml(redis.port, prefix=False))
    m = wait_log(cay, "restore line", RESTORED_RE.pattern, 2.0)
    port, bindings, aors, expired = m.groups()
    if int(port) != redis.port:
        raise Fail("cay2: restore line names port %s, not %d: %s"
                   % (port, redis.port, m.group(0)))
    if (int(bindings), int(aors)) != (len(USERS), len(USERS)):
        raise Fail("cay2: restored %s bindings of %s AORs, wanted %d of "
                   "%d: %s" % (bindings, aors, len(USERS), len(USERS),
                               m.group(0)))
    # Expired while cay was down: user8's short binding, unless cay1
    # removed it itself before its SIGTERM (a slow run); brief's key has
    # a 2 s TTL of its own, so Redis has most often dropped it before cay
    # reads it. Loosely: at most these 2.
    if expired is not None and int(expired) > 2:
        raise Fail("cay2: %s bindings expired while cay was down, wanted "
                   "at most 2: %s" % (expired, m.group(0)))
    if re.search(r"registrar store:.*cannot load", log_text(cay)):
        raise Fail("cay2: logged `cannot load` with redis up")
    err = wait_keys(redis.port, absent=[key_of(aor_of("brief")),
                                        key_of(aor_of("user9"))],
                    timeout=1.0)
    if err:
        raise Fail("cay2: %s" % err)
    st.notes.append("cay2: " + line_of(m))
    return cay


def step2_calls(st, cay, callee_port):
    args, workdir = st.args, st.workdir
    callee = run_sipp_test.Sipp(args.sipp, workdir, "callee")
    st.sipps.append(callee)
    callee.start(["-sn", "uas", "-i", HOST, "-p", str(callee_port),
                  "-timeout", "40s"])
    err = cayrun.wait_for(
        "the callee SIPp to bind udp:%s:%d" % (HOST, callee_port),
        lambda: (callee.proc.poll() is not None
                 or cayrun.udp_port_bound(HOST, callee_port)), 5.0)
    if err or callee.proc.poll() is not None:
        raise Fail(err or "callee SIPp exited with code %s at start"
                   % callee.proc.returncode)

    # uac_basic.xml with the Request-URI's user from a CSV: user1..8 in
    # turn.
    csv = os.path.join(workdir, "users.csv")
    with open(csv, "w") as f:
        f.write("SEQUENTIAL\n" + "".join("%s;\n" % u for u in USERS))
    with open(UAC_BASIC, encoding="latin-1") as f:
        text = f.read().replace("[service]", "[field0]")
    scenario = os.path.join(workdir, "caller_uac_users.xml")
    with open(scenario, "w", encoding="latin-1") as f:
        f.write(text)
    caller = run_sipp_test.Sipp(args.sipp, workdir, "caller")
    st.sipps.append(caller)
    caller.start(["%s:%d" % (HOST, cay.port), "-sf", scenario,
                  "-inf", csv, "-i", HOST,
                  "-p", str(cayrun.free_udp_port()),
                  "-m", str(args.calls), "-r", "20",
                  "-timeout", "30s", "-timeout_error",
                  "-recv_timeout", "10000"])
    rc = run_sipp_test.wait_uac(caller, cay, 40)
    stats = caller.stats()
    bad = run_sipp_test.judge_sipp(caller, rc, stats, args.calls)
    if not cay.alive():
        bad.append("cay died during the calls (exit code %s)"
                   % cay.proc.returncode)
    if bad:
        raise Fail("caller: %s" % "; ".join(bad))
    # SIPp's graceful quit: the UAS ends its calls' timewait meanwhile;
    # judged in step 3.
    callee.proc.send_signal(signal.SIGUSR1)
    st.notes.append("caller " + run_sipp_test.sipp_text(rc, stats))
    return callee


def store_writes(cay):
    """The store_writes of every shard (SIGUSR1's live total)."""
    live = cay.live_counters(2.0)
    if live is None or "store_writes" not in live[1]:
        raise Fail("cay2: no live counters on SIGUSR1")
    return live[1]["store_writes"]


def step3_redis_lost(st, redis, cay, callee_port):
    # The Redis that comes back holds user8's key only (dump.rdb of the
    # work directory): user8 is removed while Redis is away, so Cay must
    # DEL it; the others it must write anew.
    user8 = key_of(aor_of("user8"))
    for u in USERS[:-1]:
        redis_command(redis.port, "DEL", key_of(aor_of(u)))
    if redis_command(redis.port, "SAVE") != "OK":
        raise Fail("SAVE refused by the first redis-server")
    writes = store_writes(cay)
    redis.kill()
    wait_log(cay, "`connection lost` warning",
             r"registrar store: redis [^\s:]+:%d: connection lost"
             % redis.port, 5.0)
    late = aor_of("late")
    register(cay, late, "sip:late@%s:%d" % (HOST, callee_port),
             USER_EXPIRES)
    register(cay, aor_of("user8"),
             "sip:user8@%s:%d" % (HOST, callee_port), 0)

    def store_down():
        live = cay.live_counters(2.0)
        return live is not None and live[1].get("store_up") == 0
    err = cayrun.wait_for("store_up=0 (SIGUSR1) while redis is down",
                          store_down, 5.0)
    if err:
        raise Fail("cay2: %s" % err)
    fresh = RedisServer(st.args.redis_server, st.workdir, redis.port,
                        "redis2")
    st.redis.append(fresh)
    err = fresh.start()
    if err:
        raise Fail(err)
    want = [key_of(late)] + [key_of(aor_of(u)) for u in USERS[:-1]]
    err = wait_keys(fresh.port, present=want, absent=[user8], timeout=10.0)
    if err:
        raise Fail("cay2, redis-server started again: %s" % err)
    wait_log(cay, "`connected` line after the loss",
             r"registrar store: redis [^\s]*:%d: connected" % fresh.port,
             2.0)
    # One write per AOR (late, user1..7) and the DEL of user8's key.
    got = store_writes(cay) - writes
    if got != len(want) + 1:
        raise Fail("cay2: %d store_writes after the reconnect, wanted %d "
                   "(%d AORs and one DEL)" % (got, len(want) + 1, len(want)))
    pttl = redis_command(fresh.port, "PTTL", key_of(late))
    if not isinstance(pttl, int) or not 0 < pttl <= USER_EXPIRES * 1000:
        raise Fail("PTTL %s = %s after the reconnect" % (key_of(late), pttl))
    st.notes.append("redis lost and back: %d keys written again, user8's "
                    "deleted" % len(want))
    return fresh, want


def step3_stop(st, cay, fresh, want, callee):
    args = st.args
    st.stop_cay("cay2", cay, args.expect, ["calls_in>0"])
    err = wait_keys(fresh.port, present=want, timeout=0.5)
    if err:
        raise Fail("keys after cay2's SIGTERM: %s" % err)
    crc = callee.wait(15)
    bad = run_sipp_test.judge_sipp(callee, crc, callee.stats(), args.calls)
    if bad:
        raise Fail("callee: %s" % "; ".join(bad))


LATE_RE = re.compile(r"shard=(\d+) .*registrar store: redis [^\s]+: loaded "
                     r"late: restored (\d+) bindings of (\d+) AORs")


def step4_late_load(st, fresh, want, callee_port):
    """cay3 starts before its Redis (warns, starts empty), takes a
    REGISTER, then its Redis comes up holding cay2's keys: each shard
    loads its AORs late, and writes its own."""
    # cay2's keys into dump.rdb of the work directory, which the Redis
    # started below loads before it takes a connection.
    if redis_command(fresh.port, "SAVE") != "OK":
        raise Fail("SAVE refused by the step 3 redis-server")
    dead = free_tcp_port()
    cay = st.start_cay("cay3", config_yaml(dead, prefix=True))
    m = wait_log(cay, "`cannot load` warning",
                 r"registrar store:.*cannot load", 2.0)
    register(cay, aor_of("nostore"),
             "sip:nostore@%s:%d" % (HOST, callee_port), USER_EXPIRES)
    # user1 registers anew before Redis is up: memory is newer than the
    # key copied below, which the late load must leave to it.
    register(cay, aor_of("user1"),
             "sip:user1-new@%s:%d" % (HOST, callee_port), USER_EXPIRES)
    if cayrun.options_ping(HOST, cay.port) != 200:
        raise Fail("cay3: no 200 to OPTIONS after the REGISTERs")
    late = RedisServer(st.args.redis_server, st.workdir, dead, "redis3")
    st.redis.append(late)
    err = late.start()
    if err:
        raise Fail(err)
    err = wait_keys(late.port, present=[key_of(aor_of("nostore"))],
                    timeout=5.0)
    if err:
        raise Fail("cay3, redis up: its own REGISTER not written: %s" % err)
    deadline = time.monotonic() + 10.0
    while True:
        done = {int(s): (int(b), int(a))
                for s, b, a in LATE_RE.findall(log_text(cay))}
        if len(done) == st.args.shards or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    bindings = sum(b for b, _ in done.values())
    if len(done) != st.args.shards or bindings != len(want) - 1:
        raise Fail("cay3: late loads %s (shard: bindings, AORs), wanted %d "
                   "shards restoring %d bindings in all (not user1's)"
                   % (done, st.args.shards, len(want) - 1))
    value = redis_command(late.port, "GET", key_of(aor_of("user1")))
    if not value or b"user1-new" not in value:
        raise Fail("cay3: user1's key holds %r, not its new contact" % value)
    st.stop_cay("cay3", cay, ["registers=2",
                              "bindings_live=%d" % (len(want) + 1),
                              "store_up=%d" % st.args.shards,
                              "store_failures>=%d" % st.args.shards])
    st.notes.append("cay3: %s; redis up later: %d bindings loaded late"
                    % (line_of(m), bindings))


def run_steps(args, prefix, steps, cleanup=None, more_logs=None):
    """The frame of every store driver: a work directory /tmp/PREFIX*,
    steps(st) run with a State, every cay, SIPp and redis-server of st
    ended afterwards (and cleanup() called), and the verdict: on failure
    with the logs' tails (and more_logs(), a list of (title, text))."""
    workdir = tempfile.mkdtemp(prefix=prefix)
    test = "integration.%s" % args.name
    st = State(args, workdir)
    problems = []
    started = time.monotonic()
    try:
        steps(st)
    except Fail as e:
        problems.append(str(e))
    except (OSError, RedisError) as e:
        problems.append("%s: %s" % (type(e).__name__, e))
    finally:
        for _, cay in st.cays:
            cay.kill()
        for s in st.sipps:  # a failed step's: its screen file for the report
            if s.proc is not None and s.proc.poll() is None:
                s.quit(5)
        if cleanup:
            cleanup()
        for r in st.redis:
            r.kill()
    logs = []
    if problems:
        for title, cay in st.cays[:-1]:
            logs.append(("%s stderr (%s)" % (title, cay.stderr_path),
                         cay.stderr_tail()))
        for r in st.redis:
            logs.append(("redis-server (%s)" % r.log, r.tail()))
        for s in st.sipps:
            if s.cmd:
                logs.append(("SIPp " + s.tag, s.report()))
        logs += more_logs() if more_logs else []
    line = "%s (%.1f s)" % ("; ".join(st.notes) or "nothing done",
                            time.monotonic() - started)
    last = st.cays[-1][1] if st.cays else None
    return cayrun.verdict(test, problems, line, last, workdir, args.keep,
                          logs)


def run(args):
    def steps(st):
        redis = start_redis(args.redis_server, st.workdir, "redis1")
        st.redis.append(redis)
        callee_port = cayrun.free_udp_port()
        brief_at = step1_register(st, redis, callee_port)
        cay2 = step2_restore(st, redis, callee_port, brief_at)
        callee = step2_calls(st, cay2, callee_port)
        fresh, want = step3_redis_lost(st, redis, cay2, callee_port)
        step3_stop(st, cay2, fresh, want, callee)
        step4_late_load(st, fresh, want, callee_port)
    return run_steps(args, "cay-store-", steps)


def store_arg_parser(doc, name):
    """The options both store drivers take: --cay, --redis-server, --name
    (default name), --shards, --keep."""
    p = argparse.ArgumentParser(description=doc.split("\n\n")[0],
                                allow_abbrev=False)
    p.add_argument("--cay", required=True, help="the cay binary")
    p.add_argument("--redis-server", default=None,
                   help="redis-server binary (default: found on PATH)")
    p.add_argument("--name", default=name, help="test name for reports")
    p.add_argument("--shards", type=int, default=2, help="cay -s N")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory even on success")
    return p


def find_redis_server(p, args):
    """args.redis_server, or redis-server on PATH (else p.error)."""
    args.redis_server = args.redis_server or shutil.which("redis-server")
    if not args.redis_server:
        p.error("no redis-server on PATH (Debian package redis-server)")
    return args


def parse_args(argv):
    p = store_arg_parser(__doc__, "registrar_store_redis")
    p.add_argument("--sipp", default="sipp", help="SIPp binary")
    p.add_argument("--calls", type=int, default=40,
                   help="calls to user1..8 after the restore (default 40)")
    p.add_argument("--expect", action="append", default=[],
                   help="check on the summary of cay #2 (restore, calls, "
                        "redis lost): key=N, key>=N, ...")
    args = p.parse_args(argv)
    cayrun.check_expects(p, args.expect)
    return find_redis_server(p, args)


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
