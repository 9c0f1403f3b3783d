#!/usr/bin/env python3
"""Run one call through `cay` as a B2BUA, SIPp on both sides, and judge it.

Usage (everything after `--` goes to the caller SIPp unchanged):

  run_b2bua_test.py --cay build/cay --name b2bua_calls_2000_udp \\
      --caller-scenario scenarios/uac_basic.xml --callee-sn uas \\
      --expect dialogs_live=0 --expect txns_live=0 -- -m 2000 -r 200

    caller SIPp (UAC) --A leg--> cay (route forward) --B leg--> callee SIPp

Steps:
 1. Start the callee SIPp (UAS: `-sn uas` or --callee-scenario FILE) on a
    free port, `-t t1` with --tcp or --callee-tcp, and wait until it
    holds the port.
 2. Write the cay config: --route-yaml with @CALLEE_PORT@ replaced, or a
    default table of one route forwarding every INVITE to
    sip:${ruri_user}@127.0.0.1:PORT (;transport=tcp with --tcp; --target
    replaces it), with any --route-opt KEY=VALUE lines added, and the dns
    section with --dns-record. Start cay on a free port (UDP, and TCP on
    the same port with --tcp or --cay-tcp), -s N with --shards, and wait
    until it answers OPTIONS.
 3. Run the caller SIPp (UAC) against cay, as run_sipp_test.py does;
    meanwhile --pause-cay AT_MS:FOR_MS stops cay (SIGSTOP) for a while,
    and each --reload AT_MS:FILE writes FILE (@KEY@ replaced) over cay's
    config file and sends cay SIGHUP, AT_MS after the caller started.
 4. SIGTERM cay (it drains and prints its summary), then SIGUSR1 the
    callee (SIPp's graceful quit: running calls finish, counters dumped).
 5. Judge: caller exit code 0, no failed calls, -m successful calls;
    callee exit code 0, no failed calls, --callee-calls (default -m)
    successful calls; cay exit code 0, every --expect on its summary and
    every --expect-log and --expect-log-count on its log; every --caller-count / --callee-count
    on SIPp's per-message counts; every --expect-dns-query,
    --expect-no-dns-query and --expect-dns-order on the fake DNS server's
    counts.
 6. Print `PASS ...` or `FAIL ...: reasons`, and on failure the tails of
    cay's log and both SIPp reports. Exit 0 or 1.

DNS (RFC 3263): --dns-record "TYPE NAME DATA..." (repeatable; A, AAAA,
SRV, NAPTR, NODATA, DROP, SERVFAIL as fake_dns.py takes them, @KEY@
replaced) starts fake_dns.py on a free UDP port before cay and adds `dns:
{ servers: ["127.0.0.1:PORT"], timeout_ms: --dns-timeout-ms }` to cay's
config (also with no record at all, when only --expect-dns-query or --dns
is given: every name is then NXDOMAIN). --target sets the default route's
target, e.g. "sip:${ruri_user}@callee.cay.test". At the end,
--expect-dns-query "TYPE [NAME]" wants at least one such query, and
--expect-no-dns-query "TYPE [NAME]" none (no NAME: any name), and
--expect-dns-order "TYPE NAME, TYPE NAME, ..." the first query of each in
that order (the fake server numbers its queries as they come).

Scenario files may hold @KEY@ placeholders, replaced in a copy in the work
directory (and in --route-yaml): CALLEE_PORT and DEAD_PORT (a port nobody
listens on) always, MAX_DURATION_MS from
--route-opt max_duration_s=N, BYE_AFTER_MS = MAX_DURATION_MS - --lead-ms
(the race of issue 5: the caller's BYE that many ms before the max
duration), and any --subst KEY=VALUE.

Per-message counts (--caller-count, --callee-count) come from SIPp's
-trace_counts file; a key is a column name without its step number, summed
over the steps that share it: `BYE_Recv=2000` is every BYE the callee
received (retransmissions are `BYE_Retrans`, unexpected ones `BYE_Unexp`).
"""

import argparse
import os
import re
import shutil
import socket
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402
import fake_dns  # noqa: E402
import run_sipp_test  # noqa: E402
import cdr_checks  # noqa: E402
from b2bua_checks import (  # noqa: E402
    check_counts, counts_text, dns_problems, expand, log_problems,
    pause_later, pause_spec, read_counts, reload_later, reload_spec)

DEFAULT_ROUTE = """\
routes:
  - match: { method: INVITE }
    action: forward
    target: "@TARGET@"
"""
DEFAULT_TARGET = "sip:${ruri_user}@127.0.0.1:@CALLEE_PORT@@TRANSPORT_PARAM@"


def parse_args(argv):
    if "--" in argv:
        cut = argv.index("--")
        ours, sipp_extra = argv[:cut], argv[cut + 1:]
    else:
        ours, sipp_extra = argv, []
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], allow_abbrev=False,
        epilog="Arguments after -- are passed to the caller SIPp (-m, -r, "
               "-l, -d, ...).")
    p.add_argument("--cay", required=True, help="the cay binary")
    p.add_argument("--sipp", default="sipp", help="SIPp binary")
    p.add_argument("--name", required=True, help="test name for reports")
    caller = p.add_mutually_exclusive_group(required=True)
    caller.add_argument("--caller-scenario", help="caller (UAC) XML file")
    caller.add_argument("--caller-sn", help="caller built-in, e.g. uac")
    callee = p.add_mutually_exclusive_group()
    callee.add_argument("--callee-scenario", help="callee (UAS) XML file")
    callee.add_argument("--callee-sn", default=None,
                        help="callee built-in scenario (default uas)")
    p.add_argument("--callee-arg", action="append", default=[],
                   help="one more argument for the callee SIPp (repeat "
                        "for each word, e.g. --callee-arg=-d "
                        "--callee-arg=500)")
    p.add_argument("--callee-calls", type=int, default=None,
                   help="successful calls wanted at the callee (default: "
                        "the caller's -m; -1: do not check)")
    p.add_argument("--shards", type=int, default=None,
                   help="run cay with -s N")
    p.add_argument("--tcp", action="store_true",
                   help="TCP on both legs: caller -t t1, cay listens on "
                        "TCP, route target ;transport=tcp, callee -t t1")
    p.add_argument("--cay-tcp", action="store_true",
                   help="cay listens on TCP too (the caller stays on UDP)")
    p.add_argument("--callee-tcp", action="store_true",
                   help="the callee listens on TCP only (-t t1)")
    p.add_argument("--callee-tcp-blackhole", action="store_true",
                   help="the callee's port on TCP takes no connection: a "
                        "listener whose accept queue is full, so that "
                        "the kernel drops every SYN (a firewall that "
                        "drops, not refuses)")
    p.add_argument("--route-yaml", default=None,
                   help="the cay config (routes:...), @CALLEE_PORT@ "
                        "replaced; default: forward every INVITE to the "
                        "callee")
    p.add_argument("--route-opt", action="append", default=[],
                   help="KEY=VALUE line added to the default route, e.g. "
                        "ring_timeout_s=2")
    p.add_argument("--target", default=DEFAULT_TARGET,
                   help="the default route's target, @KEY@ replaced "
                        "(default %(default)s)")
    p.add_argument("--config-extra", default="",
                   help="more YAML appended to the config (timers: ...)")
    p.add_argument("--dns", action="store_true",
                   help="run the fake DNS server and point cay at it "
                        "(implied by the --dns-* and --expect-*dns* "
                        "options)")
    p.add_argument("--dns-record", action="append", default=[],
                   help='a record of the fake DNS server, "TYPE NAME '
                        'DATA...", e.g. "SRV _sip._udp.x.test 10 5 '
                        '@CALLEE_PORT@ uas.x.test", "A uas.x.test '
                        '127.0.0.1", "NAPTR x.test 10 50 s SIP+D2T '
                        '_sip._tcp.x.test", "DROP slow.x.test"')
    p.add_argument("--dns-timeout-ms", type=int, default=500,
                   help="cay's dns.timeout_ms (default 500)")
    p.add_argument("--expect-dns-query", action="append", default=[],
                   help='"TYPE [NAME]": the fake DNS server got such a '
                        'query at least once')
    p.add_argument("--expect-no-dns-query", action="append", default=[],
                   help='"TYPE [NAME]": the fake DNS server got no such '
                        'query (no NAME: of any name)')
    p.add_argument("--expect-dns-order", action="append", default=[],
                   help='"TYPE [NAME], TYPE [NAME], ...": the first query '
                        'of each was asked, in this order')
    p.add_argument("--lead-ms", type=int, default=None,
                   help="BYE_AFTER_MS = max duration - this (the race)")
    p.add_argument("--subst", action="append", default=[],
                   help="KEY=VALUE: replace @KEY@ in the scenarios")
    p.add_argument("--register", action="append", default=[],
                   metavar="AOR",
                   help="before the caller starts, REGISTER AOR with cay "
                        "at the callee (sip:callee@127.0.0.1:CALLEE_PORT, "
                        ";transport=tcp with --callee-tcp); cay must "
                        "answer 200")
    p.add_argument("--register-nat", action="append", default=[],
                   metavar="AOR",
                   help="REGISTER AOR with cay from the callee's UDP port, "
                        "before the callee starts there, at the private "
                        "contact sip:callee@10.0.0.7:5060, as a UA behind "
                        "a NAT would; cay must answer 200")
    p.add_argument("--expect", action="append", default=[],
                   help="check on cay's summary: key=N, key>=N, key<N, ...")
    p.add_argument("--expect-shard", action="append", default=[],
                   help="check on every `shard=K` line of cay's summary")
    p.add_argument("--expect-log", action="append", default=[],
                   help="a regular expression some line of cay's log must "
                        "match")
    p.add_argument("--expect-log-count", action="append", nargs=2,
                   default=[], metavar=("OPN", "REGEX"),
                   help="how many lines of cay's log match REGEX, e.g. "
                        "'<=10' 'trying the next target'")
    p.add_argument("--caller-count", action="append", default=[],
                   help="check on the caller's message counts, e.g. "
                        "BYE_Recv>=1")
    p.add_argument("--callee-count", action="append", default=[],
                   help="check on the callee's message counts, e.g. "
                        "BYE_Recv=2000")
    p.add_argument("--sipp-timeout", type=float, default=60.0,
                   help="caller SIPp -timeout in s (default 60)")
    p.add_argument("--recv-timeout-ms", type=int, default=30000,
                   help="caller SIPp -recv_timeout unless given after --")
    p.add_argument("--stop-timeout", type=float,
                   default=cayrun.STOP_TIMEOUT_S,
                   help="s to wait for cay after SIGTERM before killing it")
    p.add_argument("--log-level", default=None, help="cay -l LEVEL")
    p.add_argument("--pause-cay", default=None, metavar="AT_MS:FOR_MS",
                   type=pause_spec,
                   help="AT_MS after the caller starts, stop cay (SIGSTOP) "
                        "for FOR_MS, as a machine too busy to run it would: "
                        "what arrives meanwhile waits in its receive queue")
    p.add_argument("--reload", action="append", default=[],
                   metavar="AT_MS:FILE", type=reload_spec,
                   help="AT_MS after the caller starts, write FILE (its "
                        "@KEY@ replaced, as the config) over cay's config "
                        "file and send cay SIGHUP; repeatable")
    p.add_argument("--cdr-expect", action="append", default=[],
                   metavar="KEY=VALUE",
                   help="write call detail records (cdr.file) and judge "
                        "them (cdr_checks.py); every record must have "
                        "this (KEY>=N, KEY<=N too); repeatable")
    p.add_argument("--cdr-count", type=int, default=None,
                   help="records wanted (default: the caller's -m)")
    p.add_argument("--cdr-rotate-ms", type=int, default=None,
                   metavar="AT_MS",
                   help="AT_MS after the caller starts, rename the records' "
                        "file and send cay SIGHUP: both files must hold "
                        "records")
    p.add_argument("--trace-msg", action="store_true",
                   help="SIPp -trace_msg on both sides (message logs in "
                        "the work directory, which a failure keeps)")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory even on success")
    p.add_argument("--quiet", action="store_true",
                   help="no progress lines (the command lines)")
    args = p.parse_args(ours)
    cayrun.check_expects(p, args.expect + args.expect_shard
                         + args.caller_count + args.callee_count)
    for kv in args.route_opt + args.subst:
        if "=" not in kv:
            p.error("want KEY=VALUE, got %r" % kv)
    if args.route_yaml and args.route_opt:
        p.error("--route-opt applies to the default route only")
    if args.route_yaml and args.target != DEFAULT_TARGET:
        p.error("--target applies to the default route only")
    for spec in (args.expect_dns_query + args.expect_no_dns_query
                 + [q for o in args.expect_dns_order for q in o.split(",")]):
        try:
            fake_dns.parse_query_spec(spec)
        except ValueError as e:
            p.error(str(e))
    for spec in args.dns_record:
        try:
            # Placeholders are not replaced yet: check the shape with a
            # stand-in for each.
            fake_dns.parse_record(re.sub(r"@[A-Z][A-Z0-9_]*@", "1", spec))
        except ValueError as e:
            p.error("--dns-record: %s" % e)
    args.dns = bool(args.dns or args.dns_record or args.expect_dns_query
                    or args.expect_no_dns_query or args.expect_dns_order)
    try:
        args.cdr_expect = [cdr_checks.parse_expect(s)
                           for s in args.cdr_expect]
    except ValueError as e:
        p.error("--cdr-expect: %s" % e)
    args.cdr = bool(args.cdr_expect or args.cdr_count is not None
                    or args.cdr_rotate_ms is not None)
    args.sipp_extra = sipp_extra
    args.calls = run_sipp_test.option_int(sipp_extra, "-m")
    if args.callee_calls is None:
        args.callee_calls = args.calls
    # The names run_sipp_test.uac_args() reads.
    args.scenario = args.caller_scenario
    args.sn = args.caller_sn
    args.host = cayrun.HOST
    return args


def free_port(tcp):
    """A port free for UDP (and for TCP when tcp) a moment ago."""
    for _ in range(50):
        port = cayrun.free_udp_port()
        if not tcp or not tcp_port_bound(port):
            return port
    raise RuntimeError("no free port found")


def tcp_port_bound(port, host=cayrun.HOST):
    """True if some process listens on (or holds) host:port for TCP."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind((host, port))
        except OSError:
            return True
        return False


class Blackhole:
    """A TCP port where connecting hangs: a listener with a backlog of 0
    whose one queue slot a connection that is never accepted holds. Linux
    drops the SYNs that find the accept queue full, and the connecting
    side retransmits them until its own timeout."""

    def __init__(self, port, host=cayrun.HOST):
        self.listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self.listener.bind((host, port))
        self.listener.listen(0)
        self.filler = socket.create_connection((host, port), timeout=5)

    def close(self):
        self.filler.close()
        self.listener.close()


def substitutions(args, callee_port):
    """The @KEY@ -> value table for scenarios and the config."""
    subs = {"CALLEE_PORT": str(callee_port),
            # Free a moment ago and listened on by nobody: a target that
            # refuses connections (RFC 3263 section 4.3 tests).
            "DEAD_PORT": str(free_port(tcp=True)),
            "TRANSPORT_PARAM": ";transport=tcp" if args.tcp else "",
            # The Contacts of scenarios that name them so: the SIPp's own
            # address unless --subst puts one behind a NAT.
            "CALLER_CONTACT": "sip:sipp@[local_ip]:[local_port]",
            "CALLEE_CONTACT": "sip:[local_ip]:[local_port];transport=[transport]",
            # b2b_uac_busy.xml: the callee's Reason must reach the caller
            # (check_it: a route that passes it) or must not (the default);
            # b2b_uas_ring.xml: Cay's CANCEL has its own Reason (check_it:
            # the ring timeout's) or none (a caller's CANCEL relayed).
            "REASON_CHECK": "check_it_inverse",
            # b2b_uac/uas_reinvite.xml: the P-Asserted-Identity of a
            # re-INVITE and its 200 must reach the other side (check_it:
            # a route that passes it) or must not (the default).
            "PAI_CHECK": "check_it_inverse"}
    opts = dict(kv.split("=", 1) for kv in args.route_opt)
    if "max_duration_s" in opts:
        subs["MAX_DURATION_MS"] = str(int(opts["max_duration_s"]) * 1000)
    if args.lead_ms is not None:
        if "MAX_DURATION_MS" not in subs:
            raise SystemExit("--lead-ms needs --route-opt max_duration_s=N")
        subs["BYE_AFTER_MS"] = str(int(subs["MAX_DURATION_MS"])
                                   - args.lead_ms)
    subs.update(kv.split("=", 1) for kv in args.subst)
    subs["TARGET"] = expand(args.target, subs)
    return subs


def config_text(args, subs):
    """The cay config: the route table (and --config-extra)."""
    if args.route_yaml:
        text = args.route_yaml
    else:
        text = DEFAULT_ROUTE + "".join(
            "    %s: %s\n" % tuple(kv.split("=", 1)) for kv in args.route_opt)
    if args.config_extra:
        text = text.rstrip() + "\n" + args.config_extra
    if "CDR_FILE" in subs:
        text = text.rstrip() + '\ncdr: { file: "@CDR_FILE@" }\n'
    if "DNS_PORT" in subs:
        text = text.rstrip() + "\n" + (
            'dns: { servers: [ "%s:@DNS_PORT@" ], timeout_ms: %d }\n'
            % (cayrun.HOST, args.dns_timeout_ms))
    return expand(text, subs)


def scenario_copy(path, workdir, subs, tag):
    """The scenario with its @KEY@ placeholders replaced, in workdir.

    A placeholder left over is an error: SIPp would take "@X@" as a
    literal timeout and fail in a less obvious way.
    """
    with open(path, encoding="latin-1") as f:
        text = expand(f.read(), subs)
    left = re.findall(r"@([A-Z][A-Z0-9_]*)@", text)
    if left:
        raise SystemExit("%s: no value for @%s@ (give --subst %s=...)"
                         % (path, left[0], left[0]))
    out = os.path.join(workdir, "%s_%s" % (tag, os.path.basename(path)))
    with open(out, "w", encoding="latin-1") as f:
        f.write(text)
    return out


class Callee(run_sipp_test.Sipp):
    """The SIPp UAS the B legs go to."""

    def counts(self):
        return read_counts(self.workdir, self.proc.pid)


def start_callee(args, workdir, port, scenario):
    callee = Callee(args.sipp, workdir, "callee")
    what = (["-sf", scenario] if scenario
            else ["-sn", args.callee_sn or "uas"])
    if args.tcp or args.callee_tcp:
        what += ["-t", "t1"]
    extra = ["-trace_counts"] + (["-trace_msg"] if args.trace_msg else [])
    callee.start(what + ["-i", cayrun.HOST, "-p", str(port),
                         "-timeout", "%ds" % int(args.sipp_timeout + 30)]
                 + extra + args.callee_arg)
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        if callee.proc.poll() is not None:
            return callee, "callee SIPp exited with code %s at start" % (
                callee.proc.returncode)
        bound = (tcp_port_bound(port) if args.tcp or args.callee_tcp
                 else cayrun.udp_port_bound(cayrun.HOST, port))
        if bound:
            return callee, None
        time.sleep(0.05)
    return callee, "callee SIPp did not bind %s:%s:%d in 5 s" % (
        "tcp" if args.tcp or args.callee_tcp else "udp", cayrun.HOST, port)


def register_nat(args, cay, port):
    """--register-nat: each AOR registered from udp:HOST:port at a
    private contact. None, or what went wrong."""
    for aor in args.register_nat:
        contact = "sip:callee@10.0.0.7:5060"
        status = cayrun.register_binding(cayrun.HOST, cay.port, aor, contact,
                                         src_port=port)
        if status != 200:
            return ("REGISTER %s -> %s from port %d got %s, not 200"
                    % (aor, contact, port, status))
    return None


def start_dns(dns, args, subs):
    """The fake DNS server's records from --dns-record (placeholders
    replaced); it serves from a thread from now on; subs gets DNS_PORT.

    The server was made (its port bound) before the callee's port was
    chosen, so that neither takes the other's port in between.
    """
    for spec in args.dns_record:
        dns.add(expand(spec, subs))
    dns.start()
    subs["DNS_PORT"] = str(dns.port)
    return dns


class Outcome:
    """Everything a run left, for the verdict and for the race sweep."""

    def __init__(self):
        self.ok = False
        self.problems = []
        self.reports = []
        self.line = ""
        self.caller_stats = self.callee_stats = None
        self.caller_counts = self.callee_counts = None
        self.summary = None
        self.workdir = None
        self.blackhole = None  # --callee-tcp-blackhole, closed with cay
        self.dns = None  # the fake DNS server (--dns-record ...)
        self.took = 0.0


def run_case(args):
    """Run one test; return an Outcome (nothing printed but progress)."""
    out = Outcome()
    try:
        return run_case_dns(args, out)
    finally:
        if out.dns is not None:
            out.dns.stop()


def run_case_dns(args, out):
    started = time.monotonic()
    workdir = out.workdir = tempfile.mkdtemp(prefix="cay-b2b-%s-" % args.name)
    test = "integration.%s" % args.name
    cay = callee = caller = None

    if args.dns:
        out.dns = fake_dns.FakeDns()
    callee_port = free_port(args.tcp or args.callee_tcp
                            or args.callee_tcp_blackhole)
    subs = substitutions(args, callee_port)
    if args.cdr:
        subs["CDR_FILE"] = os.path.join(workdir, "cdr.json")
    if args.dns:
        start_dns(out.dns, args, subs)
    caller_sf = (scenario_copy(args.caller_scenario, workdir, subs, "caller")
                 if args.caller_scenario else None)
    callee_sf = (scenario_copy(args.callee_scenario, workdir, subs, "callee")
                 if args.callee_scenario else None)

    # A UA behind a NAT registers from the callee's port before the
    # callee SIPp binds it: cay must start first.
    err = None
    if not args.register_nat:
        callee, err = start_callee(args, workdir, callee_port, callee_sf)
    if err is None and args.callee_tcp_blackhole:
        out.blackhole = Blackhole(callee_port)
    if err is None:
        cay, err = cayrun.start_cay(
            args.cay, workdir, config_text(args, subs), args.log_level,
            tcp=args.tcp or args.cay_tcp,
            extra_args=(["-s", str(args.shards)] if args.shards else []))
        if not args.quiet:
            print("%s: cay: %s" % (test, " ".join(cay.command())),
                  flush=True)
    if err is None and args.register_nat:
        err = register_nat(args, cay, callee_port)
        if err is None:
            callee, err = start_callee(args, workdir, callee_port, callee_sf)
    if err:
        out.problems.append(err)
        if cay is not None:
            out.reports.append("--- cay stderr (%s), last lines:\n%s"
                               % (cay.stderr_path, cay.stderr_tail()))
        if callee is not None:
            callee.wait(0.1)
            out.reports.append(callee.report())
        out.took = time.monotonic() - started
        return out
    if not args.quiet:
        print("%s: callee: %s" % (test, " ".join(callee.cmd)),
              flush=True)
    for aor in args.register:
        contact = "sip:callee@%s:%d%s" % (
            cayrun.HOST, callee_port,
            ";transport=tcp" if args.tcp or args.callee_tcp else "")
        status = cayrun.register_binding(cayrun.HOST, cay.port, aor, contact)
        if status != 200:
            out.problems.append("REGISTER %s -> %s got %s, not 200"
                                % (aor, contact, status))

    caller = run_sipp_test.Sipp(args.sipp, workdir, "caller")
    if caller_sf:
        args.scenario = caller_sf  # the copy with @KEY@ replaced
    uac = run_sipp_test.uac_args(args, cay.port)
    uac += ["-trace_counts"] + (["-trace_msg"] if args.trace_msg else [])
    caller.start(uac)
    if not args.quiet:
        print("%s: caller: %s" % (test, " ".join(caller.cmd)),
              flush=True)
    pauser = pause_later(cay.proc.pid, args.pause_cay)
    reloader = reload_later(cay, args.reload, subs)
    rotator = (cdr_checks.rotate_later(cay, subs["CDR_FILE"],
                                       args.cdr_rotate_ms)
               if args.cdr else None)
    rc = run_sipp_test.wait_uac(caller, cay, args.sipp_timeout + 20)
    for t in (pauser, reloader, rotator):
        if t:
            t.join()
    out.caller_stats = caller.stats()
    out.caller_counts = read_counts(workdir, caller.proc.pid)
    out.problems += ["caller: " + p for p in run_sipp_test.judge_sipp(
        caller, rc, out.caller_stats, args.calls)]
    out.problems += check_counts("caller", out.caller_counts,
                                 args.caller_count)
    line = "caller " + run_sipp_test.sipp_text(rc, out.caller_stats)
    line += counts_text(out.caller_counts, args.caller_count)

    # The callee must outlive the caller's calls: one that ended by itself
    # (crash, or a signal from outside) explains every failure after it.
    if callee.proc.poll() is not None:
        out.problems.append("callee SIPp ended before the caller did "
                            "(exit code %s)" % callee.proc.returncode)

    # cay first: its drain would BYE a dialog the callee still held.
    # Over TCP, stopping cay closes the callee's connection, and SIPp
    # fails a call that is still winding down (the last BYE's 200 just
    # sent: cay may answer the caller's BYE before the callee answers
    # its own) with FailedTcpClosed: give those calls a moment to end.
    if args.tcp or args.callee_tcp:
        time.sleep(0.5)
    if not cay.alive():
        out.problems.append("cay died during the SIPp run (exit code %s)"
                            % cay.proc.returncode)
    result = cay.stop(args.stop_timeout)
    if out.blackhole:
        out.blackhole.close()
    out.summary = result.summary
    out.problems += result.problems(args.expect, args.expect_shard,
                                    args.shards)
    out.problems += log_problems(cay.stderr_path, args.expect_log,
                                 args.expect_log_count)
    cdr_line = ""
    if args.cdr:
        bad, cdr_line = cdr_checks.judge(
            subs["CDR_FILE"], args.cdr_rotate_ms is not None,
            args.calls if args.cdr_count is None else args.cdr_count,
            args.cdr_expect, result.summary, args.shards or 1)
        out.problems += bad

    # SIGUSR1: the callee finishes its calls (timewait included) and
    # dumps its counters.
    crc = callee.quit(15)
    out.callee_stats = callee.stats()
    out.callee_counts = callee.counts()
    want = None if args.callee_calls == -1 else args.callee_calls
    out.problems += ["callee: " + p for p in run_sipp_test.judge_sipp(
        callee, crc, out.callee_stats, want)]
    out.problems += check_counts("callee", out.callee_counts,
                                 args.callee_count)
    line += " | callee " + run_sipp_test.sipp_text(crc, out.callee_stats)
    line += counts_text(out.callee_counts, args.callee_count)
    line += " | cay rc=%s %s" % (result.returncode, result.summary_text())
    if cdr_line:
        line += " | " + cdr_line
    if out.dns is not None:
        out.problems += dns_problems(out.dns, args.expect_dns_query,
                                     args.expect_no_dns_query,
                                     args.expect_dns_order)
        line += " | dns queries: %s" % (out.dns.counts_text() or "none")
    out.line = line

    if out.problems:
        out.reports.append("--- cay stderr (%s), last lines:\n%s"
                           % (cay.stderr_path, cay.stderr_tail()))
        if result.stdout_text.strip():
            out.reports.append("--- cay stdout:\n%s"
                               % result.stdout_text.strip()[-3000:])
        out.reports.append(caller.report())
        out.reports.append(callee.report())
    out.ok = not out.problems
    out.took = time.monotonic() - started
    return out


# SIPp 3.6.1 aborts (call.cpp: assert that a final response to a finished
# transaction is not an INVITE's) when a copy of a 2xx arrives between
# the 2xx and the ACK it has yet to send: a retransmission RFC 3261
# section 13.3.1.4 requires, which a SIGSTOPped cay sends in a burst.
SIPP_ACK_RACE = "transactions[checkTxn - 1].isInvite' failed"


def sipp_aborted_on_ack_race(out):
    """True when a SIPp of run @p out died of SIPP_ACK_RACE."""
    for who in ("caller", "callee"):
        try:
            with open(os.path.join(out.workdir, who + ".stdout")) as f:
                if SIPP_ACK_RACE in f.read():
                    return True
        except OSError:
            pass
    return False


def run(args):
    out = run_case(args)
    test = "integration.%s" % args.name
    if not out.ok and sipp_aborted_on_ack_race(out):
        # SIPp's fault, not cay's: once more, the first run kept.
        print("NOTE %s: SIPp aborted on its own ACK race (%s); run again, "
              "first run in %s" % (test, SIPP_ACK_RACE, out.workdir))
        out = run_case(args)
    if out.ok:
        print("PASS %s: %s (%.1f s)" % (test, out.line, out.took))
    else:
        print("FAIL %s: %s (%.1f s)" % (test, "; ".join(out.problems),
                                        out.took))
        if out.line:
            print("  " + out.line)
        for r in out.reports:
            print(r)
        print("--- work directory kept: %s" % out.workdir)
    if out.ok and not args.keep:
        shutil.rmtree(out.workdir, ignore_errors=True)
    elif out.ok:
        print("--- work directory: %s" % out.workdir)
    sys.stdout.flush()
    return 0 if out.ok else 1


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
