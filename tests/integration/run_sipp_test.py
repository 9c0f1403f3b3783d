#!/usr/bin/env python3
"""Run one SIPp scenario against a freshly started `cay` and judge it.

Usage (everything after `--` goes to SIPp unchanged):

  run_sipp_test.py --cay build/cay --name calls_2000 \\
      --scenario scenarios/uac_basic.xml \\
      --expect dialogs_live=0 --expect txns_live=0 \\
      --expect calls_answered=2000 -- -m 2000 -r 200

Steps:
 1. Pick a free UDP port, write the config (if --config-yaml), start
    `cay -L udp:127.0.0.1:PORT [-c FILE]` and wait (<= 5 s) until it
    answers an OPTIONS with 200.
 2. Run SIPp as UAC with its statistics (-trace_stat), final screen
    (-trace_screen) and unexpected messages (-trace_err) in a work
    directory, a global -timeout so it cannot hang, and a Python-side
    timeout on top.
 3. Read SIPp's final counters and exit code (0 = every call succeeded).
 4. SIGTERM cay, wait (kill after --stop-timeout, 20 s), parse its
    `summary` line, check the exit code is 0 and every --expect holds.
 5. Print one line `PASS ...` or `FAIL ...: reasons`, then on failure
    cay's stderr tail and SIPp's screen and errors. Exit 0 or 1.

--parallel-scenario FILE runs one more SIPp UAC with FILE against the
same cay at the same time (same SIPp arguments, judged the same way), and
--parallel-command CMD runs CMD (split like a shell line) alongside, which
must exit 0: so that tests that mostly wait (session timers) share one
cay run and one wall-clock wait. Both may be repeated. cay is stopped
once all of them are done, and its --expect checks cover all of them.
--after-command CMD runs CMD once cay has stopped, {log} in it replaced
by cay's log (its stderr); it must exit 0 (check_fail2ban.py).

--peer-only replaces cay by a SIPp UAS (`-sn uas`, or --peer-scenario
FILE): the same SIPp run and parsing, used to check the harness itself
when there is no cay binary. Its readiness is the UAS holding its port;
it is stopped with SIGUSR1 (SIPp's graceful quit) and its own failed-call
count must be 0 too. --expect does not apply there (no summary).

Validate the harness itself with the stand-in server fake_cay.py:
  run_sipp_test.py --cay tests/integration/fake_cay.py --name x \
      --scenario scenarios/uac_lossy.xml \
      --config-yaml "timers: { t1_ms: 100 }" -- -m 300 -r 50 -lost 10
"""

import argparse
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import time

# Import the shared module from beside this script, and leave no
# __pycache__ in the source tree.
sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402

SIPP_EXIT = {
    0: "all calls succeeded",
    1: "at least one call failed",
    97: "exit on internal command",
    99: "normal exit without calls processed",
    254: "fatal error binding a socket",
    255: "fatal error (or -timeout reached)",
}

# Counters copied from SIPp's statistics file when they are non-zero.
SIPP_DETAIL = (
    "FailedCannotSendMessage", "FailedMaxUDPRetrans",
    "FailedUnexpectedMessage", "FailedCallRejected", "FailedCmdNotSent",
    "FailedRegexpDoesntMatch", "FailedRegexpShouldntMatch",
    "FailedRegexpHdrNotFound", "FailedOutboundCongestion",
    "FailedTimeoutOnRecv", "FailedTimeoutOnSend", "FailedTestDoesntMatch",
    "FailedStrcmpDoesntMatch", "OutOfCallMsgs", "DeadCallMsgs",
    "Retransmissions", "Warnings", "FatalErrors",
)


def parse_args(argv):
    if "--" in argv:
        cut = argv.index("--")
        ours, sipp_extra = argv[:cut], argv[cut + 1:]
    else:
        ours, sipp_extra = argv, []
    p = argparse.ArgumentParser(
        description=__doc__.split("\n\n")[0], allow_abbrev=False,
        epilog="Arguments after -- are passed to SIPp (-m, -r, -lost, "
               "-l, -d, ...).")
    p.add_argument("--cay", help="the cay binary (not with --peer-only)")
    p.add_argument("--name", required=True, help="test name for reports")
    what = p.add_mutually_exclusive_group(required=True)
    what.add_argument("--scenario", help="SIPp scenario XML file")
    what.add_argument("--sn", help="SIPp built-in scenario, e.g. uac")
    p.add_argument("--config-yaml", default=None,
                   help="YAML text for the generated cay config (-c)")
    p.add_argument("--expect", action="append", default=[],
                   help="check on cay's summary: key=N, key>=N, key<N, ...")
    p.add_argument("--calls", type=int, default=None,
                   help="successful calls wanted (default: SIPp's -m)")
    p.add_argument("--peer-only", action="store_true",
                   help="run against a SIPp UAS instead of cay")
    p.add_argument("--peer-scenario", default=None,
                   help="UAS scenario file for --peer-only (default -sn uas)")
    p.add_argument("--sipp", default="sipp", help="SIPp binary")
    p.add_argument("--shards", type=int, default=None,
                   help="run cay with -s N")
    p.add_argument("--tcp", action="store_true",
                   help="cay listens on TCP too and SIPp calls over TCP "
                        "(-t t1: one connection for every call)")
    p.add_argument("--tcp-per-call", action="store_true",
                   help="as --tcp, but a connection per call, closed when "
                        "the call ends (-t tn)")
    p.add_argument("--expect-shard", action="append", default=[],
                   help="check on every `shard=K` line of cay's summary")
    p.add_argument("--host", default=cayrun.HOST,
                   help="loopback address cay listens on: 127.0.0.1 or ::1")
    p.add_argument("--sipp-timeout", type=float, default=60.0,
                   help="SIPp -timeout in s (default 60)")
    p.add_argument("--recv-timeout-ms", type=int, default=30000,
                   help="SIPp -recv_timeout unless given after --")
    p.add_argument("--settle-ms", type=int, default=0,
                   help="wait this long after SIPp before stopping cay")
    p.add_argument("--stop-timeout", type=float,
                   default=cayrun.STOP_TIMEOUT_S,
                   help="s to wait for cay after SIGTERM before killing it")
    p.add_argument("--live-counters", action="store_true",
                   help="after SIPp, ask cay for its live counters "
                   "(SIGUSR1): one line per shard whose sum is the live "
                   "total, and the calls in it equal the final summary's")
    p.add_argument("--log-level", default=None, help="cay -l LEVEL")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory even on success")
    p.add_argument("--parallel-scenario", action="append", default=[],
                   help="one more SIPp UAC with this scenario, run at the "
                        "same time against the same cay")
    p.add_argument("--parallel-command", action="append", default=[],
                   help="a command (one shell-like string) run at the same "
                        "time; it must exit 0")
    p.add_argument("--after-command", action="append", default=[],
                   help="a command (one shell-like string) run once cay has "
                        "stopped, {log} replaced by cay's log; it must exit "
                        "0")
    args = p.parse_args(ours)
    if not args.peer_only and not args.cay:
        p.error("--cay is required unless --peer-only")
    if args.peer_only and (args.parallel_scenario or args.parallel_command
                           or args.after_command):
        p.error("--parallel-* and --after-command need cay (not with "
                "--peer-only)")
    cayrun.check_expects(p, args.expect + args.expect_shard)
    args.sipp_extra = sipp_extra
    if args.calls is None:
        args.calls = option_int(sipp_extra, "-m")
    return args


def option_int(argv, name):
    """Integer value of option name in a SIPp argument list, or None."""
    for i, a in enumerate(argv[:-1]):
        if a == name:
            try:
                return int(argv[i + 1])
            except ValueError:
                return None
    return None


def read_sipp_stats(stat_csv, screen_log):
    """SIPp's final cumulative counters as a dict, or None.

    The statistics file (-trace_stat -stf) is ';'-separated: one header
    line, then one line per dump; SIPp writes a last dump when it exits.
    The screen file is the fallback when the statistics file is missing.
    """
    try:
        with open(stat_csv, encoding="latin-1") as f:
            lines = [ln.rstrip("\r\n") for ln in f if ln.strip()]
    except OSError:
        lines = []
    if len(lines) >= 2:
        names = lines[0].split(";")
        values = lines[-1].split(";")
        row = dict(zip(names, values))
        out = {}
        for key in ("SuccessfulCall", "FailedCall") + SIPP_DETAIL:
            try:
                out[key] = int(row[key + "(C)"])
            except (KeyError, ValueError):
                pass
        if "SuccessfulCall" in out and "FailedCall" in out:
            return out
    return read_sipp_screen(screen_log)


def read_sipp_screen(screen_log):
    """Fallback: the cumulative column of the final statistics screen."""
    out = {}
    try:
        with open(screen_log, encoding="latin-1") as f:
            text = f.read()
    except OSError:
        return None
    for line in text.splitlines():
        for label, key in (("Successful call", "SuccessfulCall"),
                           ("Failed call", "FailedCall")):
            if line.strip().startswith(label) and "|" in line:
                try:
                    out[key] = int(line.split("|")[-1].strip())
                except ValueError:
                    pass
    return out if len(out) == 2 else None


class Sipp:
    """One SIPp process with its trace files in a work directory."""

    def __init__(self, binary, workdir, tag):
        self.binary = binary
        self.workdir = workdir
        self.tag = tag
        self.stat = os.path.join(workdir, tag + "_stat.csv")
        self.screen = os.path.join(workdir, tag + "_screen.log")
        self.errors = os.path.join(workdir, tag + "_errors.log")
        self.stdout = os.path.join(workdir, tag + ".stdout")
        self.proc = None
        self.cmd = None
        self.timed_out = False

    def start(self, args):
        self.cmd = [self.binary] + args + [
            "-nostdin",
            "-trace_stat", "-stf", self.stat,
            "-trace_screen", "-screen_file", self.screen,
            "-trace_err", "-error_file", self.errors,
        ]
        with open(self.stdout, "wb") as out:
            self.proc = cayrun.popen(self.cmd, out, subprocess.STDOUT,
                                     self.workdir)

    def wait(self, timeout):
        """Wait for exit; on timeout stop it hard and remember that."""
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.timed_out = True
            self.proc.terminate()
            try:
                return self.proc.wait(timeout=3)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                return self.proc.wait()

    def quit(self, timeout):
        """SIGUSR1 is SIPp's 'q': no new calls, finish the running ones,
        dump the statistics, exit."""
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGUSR1)
        return self.wait(timeout)

    def stats(self):
        return read_sipp_stats(self.stat, self.screen)

    def report(self):
        """The scenario screen (per-message counts, retransmissions,
        timeouts, unexpected messages), the last errors, and stdout only
        when SIPp left no screen file (it failed before running)."""
        parts = ["--- SIPp (%s) command: %s" % (self.tag, " ".join(self.cmd))]
        if os.path.exists(self.screen) and os.path.getsize(self.screen):
            parts.append("--- SIPp (%s) final screen (%s), first lines:"
                         % (self.tag, self.screen))
            parts.append(head(self.screen, 45))
        elif os.path.exists(self.stdout):
            parts.append("--- SIPp (%s) stdout (%s), last lines:"
                         % (self.tag, self.stdout))
            parts.append(cayrun.tail(self.stdout, 40))
        if os.path.exists(self.errors) and os.path.getsize(self.errors):
            # SIPp writes error events without line breaks between them.
            parts.append("--- SIPp (%s) errors (%s), last 4000 chars:"
                         % (self.tag, self.errors))
            with open(self.errors, encoding="latin-1") as f:
                parts.append(f.read()[-4000:].replace(
                    "\t", " ").replace("'20", "'\n20"))
        return "\n".join(parts)


def head(path, lines):
    with open(path, encoding="latin-1") as f:
        return "".join(f.readlines()[:lines]).rstrip()


def start_peer(args, workdir, port):
    """Start the SIPp UAS stand-in and wait until it holds its port."""
    peer = Sipp(args.sipp, workdir, "peer")
    what = (["-sf", os.path.abspath(args.peer_scenario)]
            if args.peer_scenario else ["-sn", "uas"])
    peer.start(what + ["-i", cayrun.HOST, "-p", str(port),
                       "-timeout", "%ds" % int(args.sipp_timeout + 10)])
    deadline = time.monotonic() + 5.0
    while time.monotonic() < deadline:
        if peer.proc.poll() is not None:
            return peer, "peer SIPp exited with code %s at start" % (
                peer.proc.returncode)
        if cayrun.udp_port_bound(cayrun.HOST, port):
            return peer, None
        time.sleep(0.05)
    return peer, "peer SIPp did not bind udp:%s:%d in 5 s" % (
        cayrun.HOST, port)


def uac_args(args, port, scenario=None):
    scenario = scenario or args.scenario
    what = (["-sf", os.path.abspath(scenario)] if scenario
            else ["-sn", args.sn])
    if getattr(args, "tcp_per_call", False):
        what = what + ["-t", "tn", "-max_socket", "1000"]
    elif args.tcp:
        what = what + ["-t", "t1"]
    out = ["%s:%d" % (cayrun.uri_host(args.host), port)] + what + [
        "-i", args.host, "-p", str(cayrun.free_udp_port(args.host)),
        "-timeout", "%ds" % int(args.sipp_timeout), "-timeout_error",
    ]
    if "-recv_timeout" not in args.sipp_extra:
        out += ["-recv_timeout", str(args.recv_timeout_ms)]
    return out + args.sipp_extra


def judge_sipp(uac, rc, stats, wanted_calls):
    """Failure messages about the UAC run (empty = fine)."""
    problems = []
    if uac.timed_out:
        problems.append("SIPp still running after the Python-side timeout "
                        "(killed)")
    if rc is not None and rc < 0:
        problems.append("SIPp killed by signal %d" % -rc)
    elif rc != 0:
        problems.append("SIPp exit code %d (%s)"
                        % (rc, SIPP_EXIT.get(rc, "unknown")))
    if stats is None:
        problems.append("no SIPp statistics found")
        return problems
    if stats["FailedCall"] != 0:
        problems.append("SIPp failed calls=%d" % stats["FailedCall"])
    if wanted_calls is not None and stats["SuccessfulCall"] != wanted_calls:
        problems.append("SIPp successful calls=%d, wanted %d"
                        % (stats["SuccessfulCall"], wanted_calls))
    return problems


def wait_uac(uac, cay, timeout):
    """Wait for the UAC; stop it early if cay dies meanwhile.

    A crashed server would otherwise leave SIPp retransmitting into the
    void until its -timeout. 1 s after the crash SIPp gets SIGUSR1 (no
    new calls); as its running calls still wait for answers that will
    never come, SIGTERM follows 2 s later. The statistics file keeps what
    SIPp had dumped so far; the crash is the failure that matters.
    """
    deadline = time.monotonic() + timeout
    while cay is None or cay.alive():
        try:
            return uac.proc.wait(timeout=min(0.5, max(
                0.0, deadline - time.monotonic())))
        except subprocess.TimeoutExpired:
            if time.monotonic() >= deadline:
                return uac.wait(0)
    time.sleep(1.0)
    uac.proc.send_signal(signal.SIGUSR1)
    try:
        return uac.proc.wait(timeout=2.0)
    except subprocess.TimeoutExpired:
        uac.proc.terminate()
        return uac.wait(3.0)


def sipp_text(rc, stats):
    if stats is None:
        return "sipp rc=%s (no statistics)" % rc
    extra = "".join(" %s=%d" % (k, stats[k]) for k in SIPP_DETAIL
                    if stats.get(k))
    return "sipp rc=%s successful=%d failed=%d%s" % (
        rc, stats["SuccessfulCall"], stats["FailedCall"], extra)


class ParallelSipp:
    """A SIPp UAC run alongside the main one (--parallel-scenario)."""

    def __init__(self, args, workdir, port, scenario, tag):
        self.tag = tag
        self.sipp = Sipp(args.sipp, workdir, tag)
        self.sipp.start(uac_args(args, port, scenario))

    def finish(self, cay, args):
        rc = wait_uac(self.sipp, cay, args.sipp_timeout + 20)
        stats = self.sipp.stats()
        bad = ["%s: %s" % (self.tag, p)
               for p in judge_sipp(self.sipp, rc, stats, args.calls)]
        return sipp_text(rc, stats), bad

    def report(self):
        return self.sipp.report()


class ParallelCommand:
    """A command run alongside SIPp (--parallel-command); exit 0 wanted."""

    def __init__(self, workdir, command, tag):
        self.tag = tag
        self.cmd = shlex.split(command)
        self.out = os.path.join(workdir, tag + ".out")
        with open(self.out, "wb") as out:
            self.proc = cayrun.popen(self.cmd, out, subprocess.STDOUT,
                                     workdir)

    def finish(self, cay, args):
        try:
            rc = self.proc.wait(timeout=args.sipp_timeout + 20)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            rc = self.proc.wait()
            return "killed", ["%s: still running after %.0f s (killed)"
                              % (self.tag, args.sipp_timeout + 20)]
        # Its verdict is its first PASS/FAIL line, else its last line.
        with open(self.out, encoding="utf-8", errors="replace") as f:
            lines = [ln.rstrip() for ln in f if ln.strip()]
        verdict = next((ln for ln in lines if ln.startswith(("PASS", "FAIL"))),
                       lines[-1] if lines else "(no output)")
        bad = [] if rc == 0 else ["%s: exit code %s" % (self.tag, rc)]
        return "rc=%s %s" % (rc, verdict), bad

    def report(self):
        return "--- %s command: %s\n--- %s output (%s), last lines:\n%s" % (
            self.tag, " ".join(self.cmd), self.tag, self.out,
            cayrun.tail(self.out, 60))


def start_parallel(args, workdir, port, test):
    """Start every --parallel-scenario and --parallel-command."""
    out = []
    for i, scenario in enumerate(args.parallel_scenario):
        p = ParallelSipp(args, workdir, port, scenario, "uac%d" % (i + 2))
        print("%s: sipp (%s): %s" % (test, p.tag, " ".join(p.sipp.cmd)),
              flush=True)
        out.append(p)
    for i, command in enumerate(args.parallel_command):
        c = ParallelCommand(workdir, command, "cmd%d" % (i + 1))
        print("%s: %s: %s" % (test, c.tag, " ".join(c.cmd)), flush=True)
        out.append(c)
    return out


def run(args):
    started = time.monotonic()
    workdir = tempfile.mkdtemp(prefix="cay-it-%s-" % args.name)
    test = "integration.%s" % args.name
    problems = []
    reports = []
    cay = peer = None
    cay_result = None
    peer_bad = False

    if args.peer_only:
        if args.expect:
            print("%s: note: --expect is ignored with --peer-only" % test)
        port = cayrun.free_udp_port()
        peer, err = start_peer(args, workdir, port)
        target = "SIPp UAS peer"
    else:
        cay, err = cayrun.start_cay(
            args.cay, workdir, args.config_yaml, args.log_level,
            host=args.host, tcp=args.tcp or args.tcp_per_call,
            extra_args=(["-s", str(args.shards)] if args.shards else []))
        port = cay.port
        target = "cay"
        print("%s: cay: %s" % (test, " ".join(cay.command())), flush=True)
    if err:
        problems.append(err)
        if cay is not None:
            reports.append("--- cay stderr (%s), last lines:\n%s"
                           % (cay.stderr_path, cay.stderr_tail()))
        if peer is not None:
            peer.wait(0.1)
            reports.append(peer.report())
        return finish(test, False, problems, "", reports, workdir, started,
                      args.keep)

    uac = Sipp(args.sipp, workdir, "uac")
    uac.start(uac_args(args, port))
    print("%s: sipp: %s" % (test, " ".join(uac.cmd)), flush=True)
    others = start_parallel(args, workdir, port, test)
    rc = wait_uac(uac, cay, args.sipp_timeout + 20)
    stats = uac.stats()
    problems += judge_sipp(uac, rc, stats, args.calls)
    line = sipp_text(rc, stats)
    for what in others:
        text, bad = what.finish(cay, args)
        line += " | %s %s" % (what.tag, text)
        problems += bad
        if bad:
            reports.append(what.report())

    if args.settle_ms:
        time.sleep(args.settle_ms / 1000.0)

    if peer is not None:
        # The stand-in finishes its calls (timewait included) and exits.
        prc = peer.quit(15)
        pstats = peer.stats()
        if prc != 0 or pstats is None or pstats["FailedCall"] != 0:
            problems.append("peer: " + sipp_text(prc, pstats))
            peer_bad = True
        line += " | peer " + sipp_text(prc, pstats)
    else:
        if not cay.alive():
            problems.append("cay died during the SIPp run (exit code %s)"
                            % cay.proc.returncode)
        live = cay.live_counters() if args.live_counters else None
        cay_result = cay.stop(args.stop_timeout)
        problems += cay_result.problems(args.expect, args.expect_shard,
                                        args.shards)
        for command in args.after_command:
            problems += after_command(command, cay.stderr_path, workdir)
        if args.live_counters:
            problems += check_live(live, cay_result.summary,
                                   args.shards or 1)
            line += " | live %s" % (
                "calls_in=%s" % live[1].get("calls_in") if live else "none")
        line += " | cay rc=%s %s" % (cay_result.returncode,
                                     cay_result.summary_text())

    if problems:
        if cay is not None:
            reports.append("--- cay stderr (%s), last lines:\n%s"
                           % (cay.stderr_path, cay.stderr_tail()))
            if cay_result is not None and cay_result.stdout_text.strip():
                reports.append("--- cay stdout:\n%s"
                               % cay_result.stdout_text.strip()[-3000:])
        reports.append(uac.report())
        if peer_bad:
            reports.append(peer.report())
    return finish(test, not problems, problems, "%s vs %s: %s"
                  % (args.scenario or args.sn, target, line), reports,
                  workdir, started, args.keep)


def after_command(command, log, workdir):
    """Run --after-command COMMAND ({log}: cay's log) in workdir: [] when
    it exits 0, else the problem, with the end of its output."""
    cmd = [a.replace("{log}", log) for a in shlex.split(command)]
    name = " ".join(os.path.basename(a) for a in cmd[:2])
    try:
        r = subprocess.run(cmd, cwd=workdir, stdout=subprocess.PIPE,
                           stderr=subprocess.STDOUT, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        return ["after-command %s: %s" % (name, e)]
    out = r.stdout.decode("utf-8", "replace").strip()
    if r.returncode != 0:
        return ["after-command %s exited %d: %s"
                % (name, r.returncode, out[-500:])]
    return []


def check_live(live, final, shards):
    """Problems with the live counters cay printed on SIGUSR1 after SIPp
    was done: a line per shard, every total the sum of the shard lines,
    and the calls equal to the final summary's (none came in between)."""
    if live is None:
        return ["cay printed no live counters within 5 s of SIGUSR1"]
    per_shard, total = live
    out = []
    if [s.get("shard") for s in per_shard] != list(range(shards)):
        out.append("live counters: shard lines %s, wanted 0..%d"
                   % ([s.get("shard") for s in per_shard], shards - 1))
    for key, value in total.items():
        got = sum(s.get(key, 0) for s in per_shard)
        if got != value:
            out.append("live %s=%s is not the sum of the shards' (%s)"
                       % (key, value, got))
    for key in ("calls_in", "calls_answered"):
        if final is not None and total.get(key) != final.get(key):
            out.append("live %s=%s, final %s=%s"
                       % (key, total.get(key), key, final.get(key)))
    return out


def finish(test, ok, problems, line, reports, workdir, started, keep):
    took = time.monotonic() - started
    if ok:
        print("PASS %s: %s (%.1f s)" % (test, line, took))
    else:
        print("FAIL %s: %s (%.1f s)" % (test, "; ".join(problems), took))
        if line:
            print("  " + line)
        for r in reports:
            print(r)
        print("--- work directory kept: %s" % workdir)
    if ok and not keep:
        shutil.rmtree(workdir, ignore_errors=True)
    elif ok:
        print("--- work directory: %s" % workdir)
    sys.stdout.flush()
    return 0 if ok else 1


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
