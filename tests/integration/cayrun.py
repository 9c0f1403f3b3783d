"""Start, probe and stop a `cay` server for the integration tests.

Shared by run_sipp_test.py (SIPp scenarios) and send_torture.py (raw
torture messages). Standard library only.

The contract with the `cay` binary (see DESIGN.md section 6):

- `cay -L udp:127.0.0.1:PORT [-c FILE] [-l LEVEL]` listens on that address
  and answers OPTIONS with 200, which is how readiness is detected.
- SIGTERM (or SIGINT) drains the server; it exits 0 and prints one line
  `summary key=value ...` on stdout (msgs_in, msgs_out, retransmits,
  parse_errors, bad_requests, dropped, calls_in, calls_answered,
  calls_rejected, calls_out, calls_out_answered, calls_out_failed,
  byes_sent, dialogs_live, txns_live, send_errors, handed_over,
  dns_lookups, dns_cache_hits, overload_rejected, udp_drops,
  registers, registers_refused, bindings_live, keepalives, messages_in,
  messages_relayed, store_up, store_writes, store_failures,
  responses_1xx, ..., responses_6xx, requests_invite, ...,
  requests_other, cdrs, cdrs_lost, srd_le_50ms, ..., srd_le_10s,
  srd_ms_sum, srd_count, auth_challenges, auth_failures, auth_banned,
  source_dropped, source_conns_closed, flows_failed, messages_stored,
  messages_delivered, messages_dropped).
- Logs go to stderr.

stdout and stderr of the server go to files in the work directory, never to
pipes: a debug log of 2,000 calls would fill a pipe and stall the server.
"""

import ctypes
import fcntl
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time

HOST = "127.0.0.1"

# How long a stopped server may take to drain before it is killed.
STOP_TIMEOUT_S = 20.0

# Every child process started through popen(), for kill_children().
CHILDREN = []

_PR_SET_PDEATHSIG = 1


def _die_with_parent():
    """In the child: get SIGKILL when the harness dies.

    ctest kills a test that runs past its TIMEOUT; without this a cay or
    SIPp child would outlive it and keep a port and a core busy on a
    shared machine.
    """
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def popen(cmd, stdout, stderr, cwd):
    """subprocess.Popen that registers the child and ties it to us."""
    proc = subprocess.Popen(cmd, stdout=stdout, stderr=stderr,
                            stdin=subprocess.DEVNULL, cwd=cwd,
                            preexec_fn=_die_with_parent)
    CHILDREN.append(proc)
    return proc


def kill_children():
    """Kill every child still running (error and interrupt paths)."""
    for proc in CHILDREN:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def exit_on_sigterm():
    """Turn SIGTERM into SystemExit so that finally blocks run."""
    def handler(signum, frame):
        raise SystemExit(128 + signum)
    signal.signal(signal.SIGTERM, handler)


# Ports for children (cay, SIPp, baresip) come from below the kernel's
# ephemeral range (net.ipv4.ip_local_port_range, 32768-60999 by
# default): the kernel never gives one of them to a socket bound to port 0
# or to an outgoing connection, so a port found free stays free until the
# child binds it, unless another test picked it too. A lock file per port
# (PORT_DIR/PORT, flock, held until this process exits) keeps the tests
# that ctest runs side by side apart, and a port this process handed out
# is never handed out again (two clients of one test on the same port
# would take each other's calls).
PORT_DIR = os.path.join(tempfile.gettempdir(), "cay-test-ports")
PORT_SPAN = 12000
_LOCKED = {}  # port -> the descriptor holding its lock


def _port_range():
    """(lo, hi) below the ephemeral range, or None when there is no room
    there (the range starts near 1024)."""
    try:
        with open("/proc/sys/net/ipv4/ip_local_port_range") as f:
            low = int(f.read().split()[0])
    except (OSError, ValueError, IndexError):
        low = 32768
    hi = low - 1
    lo = max(1024, hi - PORT_SPAN)
    return (lo, hi) if hi - lo >= 1000 else None


def _claim(port):
    """Lock port for this process: False when another process holds it."""
    os.makedirs(PORT_DIR, exist_ok=True)
    fd = os.open(os.path.join(PORT_DIR, str(port)), os.O_RDWR | os.O_CREAT,
                 0o666)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        os.close(fd)
        return False
    _LOCKED[port] = fd
    return True


def _kernel_port(host):
    """A port the kernel picks (bind to port 0): the fallback when the
    ephemeral range leaves no room below it."""
    with socket.socket(family_of(host), socket.SOCK_DGRAM) as s:
        s.bind((host, 0))
        return s.getsockname()[1]


def free_udp_port(host=HOST):
    """Return a UDP port free on host, locked for this process (above)."""
    span = _port_range()
    for _ in range(200):
        port = random.randint(*span) if span else _kernel_port(host)
        if port in _LOCKED or not _claim(port):
            continue
        with socket.socket(family_of(host), socket.SOCK_DGRAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue  # in use: it stays locked, never tried again
        return port
    raise RuntimeError("no free UDP port on %s" % host)


def free_udp_tcp_port(host=HOST):
    """A port free for both UDP and TCP on host (cay listens on both
    with --tcp), locked as free_udp_port()'s."""
    for _ in range(50):
        port = free_udp_port(host)
        with socket.socket(family_of(host), socket.SOCK_STREAM) as s:
            try:
                s.bind((host, port))
            except OSError:
                continue
        return port
    raise RuntimeError("no port free for both UDP and TCP on %s" % host)


def family_of(host):
    """AF_INET6 for an IPv6 literal, else AF_INET."""
    return socket.AF_INET6 if ":" in host else socket.AF_INET


def uri_host(host):
    """Host as it goes in a SIP URI or Via: IPv6 in brackets."""
    return "[%s]" % host if ":" in host else host


def udp_port_bound(host, port):
    """True if some process holds host:port for UDP (our bind fails)."""
    with socket.socket(family_of(host), socket.SOCK_DGRAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
        return False


_MASK64 = (1 << 64) - 1


def cay_hash(data):
    """cay__hash() of src/core/hash.c (bytes -> int): FNV-1a, then
    MurmurHash3's fmix64. A Call-ID's or an AOR's shard is this modulo
    the shard count (DESIGN.md rule 2)."""
    h = 0xcbf29ce484222325
    for c in data:
        h = ((h ^ c) * 0x100000001b3) & _MASK64
    h ^= h >> 33
    h = (h * 0xff51afd7ed558ccd) & _MASK64
    h ^= h >> 33
    h = (h * 0xc4ceb9fe1a85ec53) & _MASK64
    return h ^ (h >> 33)


def new_token(n=10):
    """Random token for tags, branches and Call-IDs (RFC 3261 s.19.3)."""
    return "".join(random.choice("0123456789abcdef") for _ in range(n))


def response_status(data):
    """Status code of a SIP response datagram, or None for a request."""
    m = re.match(rb"SIP/2\.0 +(\d{3})\b", data)
    return int(m.group(1)) if m else None


def header_value(data, names):
    """First value of a header given by its full and compact names.

    data is one SIP message (bytes); names is a tuple of lowercase names,
    e.g. ("call-id", "i"). Returns the value as str (latin-1) or None.
    Folded continuation lines are joined (RFC 3261 s.7.3.1).
    """
    head = data.split(b"\r\n\r\n", 1)[0].decode("latin-1")
    lines = re.split(r"\r?\n", head)
    for i, line in enumerate(lines[1:], start=1):
        m = re.match(r"([A-Za-z0-9.!%*_+`'~-]+)\s*:(.*)", line)
        if not m or m.group(1).lower() not in names:
            continue
        value = m.group(2)
        for cont in lines[i + 1:]:
            if cont[:1] not in (" ", "\t"):
                break
            value += " " + cont.strip()
        return value.strip()
    return None


def options_request(local, remote, call_id=None):
    """Build an OPTIONS request from local (host, port) to remote."""
    call_id = call_id or "probe-" + new_token(16)
    return (
        "OPTIONS sip:probe@{rh}:{rp} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP {lh}:{lp};branch=z9hG4bK{br};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <sip:probe@{lh}:{lp}>;tag={tag}\r\n"
        "To: <sip:probe@{rh}:{rp}>\r\n"
        "Call-ID: {cid}\r\n"
        "CSeq: 1 OPTIONS\r\n"
        "Accept: application/sdp\r\n"
        "Content-Length: 0\r\n\r\n"
    ).format(lh=uri_host(local[0]), lp=local[1], rh=uri_host(remote[0]),
             rp=remote[1],
             br=new_token(16), tag=new_token(8), cid=call_id).encode()


def register_request(local, remote, aor, contact, call_id, expires=3600,
                     contact_params="", extra=""):
    """Build a REGISTER binding aor to contact for expires seconds (0:
    removing it; RFC 3261 s.10.2), without credentials, from local (host,
    port) to remote. contact_params follow the Contact's <uri> (";reg-id=1"),
    extra header lines ("Name: value\r\n" each) go before Contact."""
    domain = aor.split("@", 1)[1]
    return (
        "REGISTER sip:{dom} SIP/2.0\r\n"
        "Via: SIP/2.0/UDP {lh}:{lp};branch=z9hG4bK{br};rport\r\n"
        "Max-Forwards: 70\r\n"
        "From: <{aor}>;tag={tag}\r\n"
        "To: <{aor}>\r\n"
        "Call-ID: {cid}\r\n"
        "CSeq: 1 REGISTER\r\n"
        "{extra}"
        "Contact: <{contact}>{params}\r\n"
        "Expires: {exp}\r\n"
        "Content-Length: 0\r\n\r\n"
    ).format(dom=domain, lh=uri_host(local[0]), lp=local[1],
             br=new_token(16), tag=new_token(8), aor=aor, cid=call_id,
             contact=contact, exp=expires, params=contact_params,
             extra=extra).encode()


def transact(host, port, build, timeout=1.0, src_host=None, src_port=0):
    """Send one request built by build(local, remote, call_id) to
    host:port from src_host:src_port (port 0: any) and return the final
    status or None.

    Provisional responses are skipped; anything whose Call-ID is not ours
    (a late answer to an earlier probe) is ignored. Our Via carries our
    real port and rport (RFC 3581), so the answer reaches this socket
    whichever of the two the server honours.
    """
    if src_host is None:
        src_host = "::1" if ":" in host else HOST
    with socket.socket(family_of(host), socket.SOCK_DGRAM) as s:
        s.bind((src_host, src_port))
        call_id = "probe-" + new_token(16)
        s.sendto(build(s.getsockname(), (host, port), call_id), (host, port))
        deadline = time.monotonic() + timeout
        while True:
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            s.settimeout(left)
            try:
                data, _ = s.recvfrom(65535)
            except (socket.timeout, ConnectionRefusedError):
                # An ICMP port unreachable surfaces as ECONNREFUSED on
                # Linux: nobody listens yet; keep waiting out the slot.
                time.sleep(min(0.05, max(left, 0)))
                continue
            status = response_status(data)
            if status is None or status < 200:
                continue
            if header_value(data, ("call-id", "i")) != call_id:
                continue
            return status


def options_ping(host, port, timeout=1.0, src_host=None):
    """Send one OPTIONS to host:port: the final status or None."""
    return transact(host, port, options_request, timeout, src_host)


def register_binding(host, port, aor, contact, timeout=2.0, src_port=0):
    """REGISTER aor at contact with the registrar host:port, from local
    port src_port (0: any): the final status or None."""
    return transact(host, port,
                    lambda local, remote, cid: register_request(
                        local, remote, aor, contact, cid), timeout,
                    src_port=src_port)


def tail(path, lines=40):
    """Last lines of a text file, for failure reports."""
    try:
        with open(path, "rb") as f:
            f.seek(0, os.SEEK_END)
            size = f.tell()
            f.seek(max(0, size - 256 * 1024))
            text = f.read().decode("utf-8", "replace")
    except OSError as e:
        return "(cannot read %s: %s)" % (path, e)
    return "\n".join(text.splitlines()[-lines:])


def parse_summary(text):
    """Parse the last `summary k=v ...` line of cay's stdout into a dict.

    Values that are integers become int; others stay str. Returns None if
    there is no summary line.
    """
    found = None
    for line in text.splitlines():
        if line.startswith("summary "):
            found = line
    if found is None:
        return None
    out = {}
    for item in found.split()[1:]:
        key, sep, value = item.partition("=")
        if not sep:
            continue
        try:
            out[key] = int(value)
        except ValueError:
            out[key] = value
    return out


def parse_shard_summaries(text):
    """Parse cay's `shard=K k=v ...` lines into a list of dicts by K."""
    shards = {}
    for line in text.splitlines():
        if not line.startswith("shard="):
            continue
        out = {}
        for item in line.split():
            key, sep, value = item.partition("=")
            if sep:
                try:
                    out[key] = int(value)
                except ValueError:
                    out[key] = value
        shards[out.get("shard")] = out
    return [shards[k] for k in sorted(shards)]


def parse_live(text):
    """Parse the last block of `live shard=K k=v ...` lines and the `live
    summary k=v ...` line that ends it (what cay prints on SIGUSR1).

    Returns (list of per-shard dicts in print order, summary dict), or
    None when no block is complete.
    """
    block, last = [], None
    for line in text.splitlines():
        if line.startswith("live shard="):
            block.append(parse_summary("summary " + line[len("live "):]))
        elif line.startswith("live summary "):
            last = (block, parse_summary(line[len("live "):]))
            block = []
    return last


_EXPECT_RE = re.compile(r"^\s*([A-Za-z0-9_]+)\s*"
                        r"(==|=|!=|>=|<=|>|<)\s*(-?\d+)\s*$")
_OPS = {
    "=": lambda a, b: a == b,
    "==": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    ">=": lambda a, b: a >= b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    "<": lambda a, b: a < b,
}


def parse_expect(spec):
    """Check one `key OP integer` spec; return (key, op, value).

    Raises ValueError on a malformed spec, so a typo in CMakeLists.txt
    fails the test loudly instead of checking nothing.
    """
    m = _EXPECT_RE.match(spec)
    if not m:
        raise ValueError("bad --expect %r: want key=N, key>=N, key<N, ..."
                         % spec)
    return m.group(1), m.group(2), int(m.group(3))


def check_expects(parser, specs):
    """parse_expect() each of specs; a bad one ends the run through
    parser.error(), as a bad option does."""
    for spec in specs:
        try:
            parse_expect(spec)
        except ValueError as e:
            parser.error(str(e))


def check_op(op, got, want):
    """Whether `got OP want` holds, for an OP parse_expect() gave."""
    return _OPS[op](got, want)


def check_expectations(summary, specs):
    """Return a list of failed-expectation messages (empty = all hold)."""
    failures = []
    for spec in specs:
        key, op, want = parse_expect(spec)
        if summary is None or key not in summary:
            failures.append("summary has no %s (wanted %s%s%d)"
                            % (key, key, op, want))
            continue
        got = summary[key]
        if not isinstance(got, int) or not _OPS[op](got, want):
            failures.append("summary %s=%s, wanted %s%s%d"
                            % (key, got, key, op, want))
    return failures


def write_config(workdir, yaml_text, name="cay-test.yaml"):
    """Write the generated config file; return its path.

    The listen address is not in the file: it comes from -L on the
    command line, so the file holds only what the test asked for.
    """
    path = os.path.join(workdir, name)
    with open(path, "w") as f:
        f.write("# Generated by tests/integration/cayrun.py\n")
        f.write(yaml_text.rstrip() + "\n")
    return path


class CayResult:
    """What a stopped server left: exit code, summary, output paths."""

    def __init__(self, returncode, summary, stdout_text, stderr_path,
                 killed, stop_timeout=STOP_TIMEOUT_S):
        self.stop_timeout = stop_timeout
        self.returncode = returncode
        self.summary = summary
        self.stdout_text = stdout_text
        self.stderr_path = stderr_path
        self.killed = killed

    def problems(self, expects=(), shard_expects=(), shards=None):
        """Failure messages for exit code, summary and expectations.

        shard_expects hold for every `shard=K` line; shards, when given, is
        how many such lines there must be.
        """
        out = []
        per_shard = parse_shard_summaries(self.stdout_text)
        if shards is not None and len(per_shard) != shards:
            out.append("cay printed %d shard lines, wanted %d"
                       % (len(per_shard), shards))
        for s in per_shard:
            for f in check_expectations(s, shard_expects):
                out.append("shard %s: %s" % (s.get("shard"), f))
        if self.killed:
            out.append("cay did not exit within %.0f s of SIGTERM "
                       "(killed)" % self.stop_timeout)
        elif self.returncode < 0:
            out.append("cay killed by signal %d (%s)" % (
                -self.returncode, signal.Signals(-self.returncode).name))
        elif self.returncode != 0:
            out.append("cay exit code %s (wanted 0)" % self.returncode)
        if self.summary is None:
            out.append("cay printed no 'summary' line on stdout")
        else:
            out.extend(check_expectations(self.summary, expects))
        return out

    def summary_text(self):
        if self.summary is None:
            return "(no summary)"
        return " ".join("%s=%s" % kv for kv in self.summary.items())


class Cay:
    """One cay server process listening on udp:HOST:port."""

    def __init__(self, binary, workdir, port=None, config_path=None,
                 log_level=None, extra_args=(), host=HOST, tcp=False):
        # The child runs in workdir: a relative path must not change
        # meaning. A bare name is left to the PATH search.
        self.binary = os.path.abspath(binary) if os.sep in binary else binary
        self.workdir = workdir
        self.host = host
        self.port = port or (free_udp_tcp_port(host) if tcp
                             else free_udp_port(host))
        self.config_path = config_path
        self.log_level = log_level
        self.extra_args = list(extra_args)
        self.tcp = tcp
        self.proc = None
        self.stdout_path = os.path.join(workdir, "cay.stdout")
        self.stderr_path = os.path.join(workdir, "cay.stderr")

    @property
    def address(self):
        return (self.host, self.port)

    def command(self):
        # A binary that is a script (the harness's own stand-in) runs
        # through its interpreter line like any executable.
        cmd = [self.binary, "-L", "udp:%s:%d" % (uri_host(self.host),
                                                  self.port)]
        if self.tcp:
            # TCP on the same port; UDP stays for the OPTIONS probe.
            cmd += ["-L", "tcp:%s:%d" % (uri_host(self.host), self.port)]
        if self.config_path:
            cmd += ["-c", self.config_path]
        if self.log_level:
            cmd += ["-l", self.log_level]
        return cmd + self.extra_args

    def start(self):
        with open(self.stdout_path, "wb") as out, \
                open(self.stderr_path, "wb") as err:
            self.proc = popen(self.command(), out, err, self.workdir)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, timeout=5.0):
        """Probe with OPTIONS until a 200 comes back; return True/False.

        Returns False at once if the process exits meanwhile.
        """
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if not self.alive():
                return False
            slot = min(0.3, max(0.05, deadline - time.monotonic()))
            if options_ping(self.host, self.port, timeout=slot) == 200:
                return True
        return False

    def stop(self, timeout=STOP_TIMEOUT_S):
        """SIGTERM, wait (bounded), kill if needed; return a CayResult."""
        killed = False
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                killed = True
                self.proc.kill()
                self.proc.wait()
        with open(self.stdout_path, "rb") as f:
            stdout_text = f.read().decode("utf-8", "replace")
        return CayResult(self.proc.returncode, parse_summary(stdout_text),
                         stdout_text, self.stderr_path, killed, timeout)

    def live_counters(self, timeout=5.0):
        """SIGUSR1, then wait (bounded) for the block of `live` lines it
        prints; return parse_live()'s result for it, or None."""
        before = os.path.getsize(self.stdout_path)
        self.proc.send_signal(signal.SIGUSR1)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline and self.alive():
            with open(self.stdout_path, "rb") as f:
                f.seek(before)
                got = parse_live(f.read().decode("utf-8", "replace"))
            if got is not None:
                return got
            time.sleep(0.05)
        return None

    def kill(self):
        """Last-resort cleanup for error paths (no result wanted)."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()

    def stderr_tail(self, lines=40):
        return tail(self.stderr_path, lines)


def start_cay(binary, workdir, config_yaml=None, log_level=None,
              ready_timeout=5.0, host=HOST, extra_args=(), tcp=False):
    """Start cay on a free port and wait until it answers OPTIONS.

    The port was free a moment before cay binds it (free_udp_port()): a
    start that another process beat to it ("address already in use") is
    tried again on a new port, at most 3 times in all.

    Returns (cay, error): error is None on success, else a message (the
    process is then already stopped).
    """
    config_path = write_config(workdir, config_yaml) if config_yaml else None
    for attempt in range(3):
        cay = Cay(binary, workdir, config_path=config_path,
                  log_level=log_level, host=host, extra_args=extra_args,
                  tcp=tcp)
        try:
            cay.start()
        except OSError as e:
            return cay, "cannot start %s: %s" % (binary, e)
        if cay.wait_ready(ready_timeout):
            return cay, None
        if cay.alive():
            cay.kill()
            why = "no 200 to OPTIONS within %.0f s" % ready_timeout
            break
        why = "exited with code %s before answering OPTIONS" % (
            cay.proc.returncode)
        if "address already in use" not in cay.stderr_tail(5):
            break
    return cay, "cay on udp:%s:%d %s" % (cay.host, cay.port, why)


def wait_for(what, check, timeout):
    """Poll check() every 50 ms until it is true: None, or after timeout
    seconds the error "timed out waiting for <what>"."""
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if check():
            return None
        time.sleep(0.05)
    return "timed out waiting for " + what


def verdict(test, problems, line, cay, workdir, keep=False, logs=()):
    """Print PASS or FAIL for a script that drives cay itself; return the
    exit code, 0 or 1. On FAIL: the (title, text) pairs of logs (the
    peers' log tails), cay's log tail (cay may be None when it never
    started), and workdir is kept."""
    if problems:
        print("FAIL %s: %s\n  %s" % (test, "; ".join(problems[:10]), line))
        for title, text in logs:
            print("--- %s, last lines:\n%s" % (title, text))
        if cay is not None:
            print("--- cay stderr, last lines:\n%s" % cay.stderr_tail())
        print("--- work directory kept: %s" % workdir)
        return 1
    print("PASS %s: %s" % (test, line))
    if not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    return 0


def wait_embedded(proc, timeout, name):
    """Wait at most timeout s for the embedding program proc (stdout and
    stderr piped, text) to exit: its (stdout, stderr); killed, and said so,
    past the timeout."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        out, err = proc.communicate()
        print("%s: timed out" % name)
        return out, err


def embedded_verdict(ok, line, err, workdir):
    """Print PASS or FAIL and line for an embedding program's test; return
    the exit code, 0 or 1. On FAIL: the program's stderr tail, and workdir
    is kept."""
    print("%s: %s" % ("PASS" if ok else "FAIL", line))
    if ok:
        shutil.rmtree(workdir, ignore_errors=True)
        return 0
    print(err[-3000:])
    print("work directory kept: %s" % workdir)
    return 1


def main(parse_args, run, argv=None):
    """Entry point of a test script: parse, run, and never leave a child
    process behind (on SIGTERM from ctest's timeout either)."""
    args = parse_args(sys.argv[1:] if argv is None else argv)
    exit_on_sigterm()
    try:
        return run(args)
    finally:
        kill_children()
