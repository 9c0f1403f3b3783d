#!/usr/bin/env python3
"""Embedding test: a program with Cay on its own loop places calls to a
SIPp UAS while a SIPp UAC calls it.

    run_embed_test.py --embed PATH [--calls N] [--incoming N]
        [--mode plain|modify|hold|auth] [--uas-scenario FILE] [--uas-calls N]
        [--concurrency N] [--min-run-ms MS] [--timeout S] [--keep]

Starts a SIPp UAS (scenarios/uas_pai.xml, or --uas-scenario) on a free
port, starts the embed program (tests/embed/embed_calls.c) listening on
another free port with the UAS as its target, runs a SIPp UAC with
--incoming calls against the embed program meanwhile (none with
--incoming 0), and checks that:

- the program exits 0: every outgoing call answered and ended by a 200 to
  its BYE (and in modify mode, every re-INVITE answered 200);
- the incoming SIPp UAC succeeded;
- the UAS failed no call; with --uas-calls N it must also count exactly N
  successful calls, and it is then stopped gracefully (SIGUSR1: its last
  calls finish first) rather than terminated.

--mode is passed to embed_calls as its last argument (not passed when not
given, which is embed_calls' own default, plain): modify makes it send a
re-INVITE in every answered call (cay_session_modify) and hang up after its
200; hold keeps the call until the callee hangs up.

Prints one line `PASS ...` or `FAIL ...`, then on failure the embed
program's stderr, the SIPp screens and errors, and keeps the work
directory (also kept with --keep).
"""
import argparse
import os
import re
import shutil
import signal
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402

HERE = os.path.dirname(os.path.abspath(__file__))


def sipp_counts(stat_csv):
    """(SuccessfulCall, FailedCall) from the last line of a SIPp
    -trace_stat CSV, or None when there is none."""
    try:
        with open(stat_csv) as f:
            rows = [line.rstrip("\n").split(";") for line in f if line.strip()]
    except OSError:
        return None
    if len(rows) < 2:
        return None
    head, last = rows[0], rows[-1]
    try:
        return (int(last[head.index("SuccessfulCall(C)")]),
                int(last[head.index("FailedCall(C)")]))
    except (ValueError, IndexError):
        return None


def parse_args(argv):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                 allow_abbrev=False)
    ap.add_argument("--embed", required=True, help="embed_calls binary")
    ap.add_argument("--sipp", default="sipp")
    ap.add_argument("--calls", type=int, default=1000,
                    help="outgoing calls the program places")
    ap.add_argument("--incoming", type=int, default=50,
                    help="calls a SIPp UAC places to the program (0: none)")
    ap.add_argument("--mode", choices=("plain", "modify", "hold", "auth"),
                    default=None, help="embed_calls MODE")
    ap.add_argument("--uas-scenario", default=os.path.join(
        HERE, "scenarios", "uas_pai.xml"), help="the callee's scenario")
    ap.add_argument("--uas-calls", type=int, default=None,
                    help="successful calls the callee must count")
    ap.add_argument("--concurrency", type=int, default=20,
                    help="outgoing calls at a time")
    ap.add_argument("--min-run-ms", type=int, default=4000,
                    help="the program runs at least this long")
    ap.add_argument("--timeout", type=float, default=120.0,
                    help="s the program may run before it is killed")
    ap.add_argument("--trace-msg", action="store_true",
                    help="SIPp callee writes every message (-trace_msg)")
    ap.add_argument("--keep", action="store_true",
                    help="keep the work directory even on success")
    return ap.parse_args(argv)


def wait_bound(proc, port, what, limit=5.0):
    """Wait until proc holds udp:127.0.0.1:port; None or an error text."""
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            return "%s exited with code %s at start" % (what, proc.returncode)
        if cayrun.udp_port_bound(cayrun.HOST, port):
            return None
        time.sleep(0.05)
    return "%s did not bind udp:%s:%d in %.0f s" % (what, cayrun.HOST, port,
                                                    limit)


def stop_uas(uas, graceful):
    """Stop the callee: SIGUSR1 (finish running calls, dump statistics)
    when graceful, else SIGTERM. Returns its exit code."""
    if uas.poll() is None:
        uas.send_signal(signal.SIGUSR1 if graceful else signal.SIGTERM)
    try:
        return uas.wait(15 if graceful else 10)
    except subprocess.TimeoutExpired:
        uas.kill()
        return uas.wait()


def collapse(lines):
    """Lines with runs of equal lines shown once, with their count."""
    out = []
    for line in lines:
        if out and out[-1][0] == line:
            out[-1][1] += 1
        else:
            out.append([line, 1])
    return [text if n == 1 else "%s  (%d times)" % (text, n)
            for text, n in out]


def report(work, tag):
    """The SIPp screen head and errors of one SIPp run."""
    out = []
    screen = os.path.join(work, tag + "_screen.log")
    errors = os.path.join(work, tag + "_errors.log")
    if os.path.exists(screen) and os.path.getsize(screen):
        with open(screen, encoding="latin-1") as f:
            out.append("--- SIPp %s screen (%s), first lines:\n%s" % (
                tag, screen, "".join(f.readlines()[:40]).rstrip()))
    if os.path.exists(errors) and os.path.getsize(errors):
        with open(errors, encoding="latin-1") as f:
            text = f.read()
        # The first events tell the cause, the last ones how it ended.
        if len(text) > 4000:
            text = text[:2500] + "\n[...]\n" + text[-1500:]
        # SIPp writes its events without line breaks between them: start a
        # line at each time stamp.
        text = re.sub(r"(\d{4}-\d\d-\d\d\t[0-9:.]+\t[0-9.]+: )", r"\n\1",
                      text)
        out.append("--- SIPp %s errors (%s):%s" % (
            tag, errors, text.replace("\t", " ")))
    return "\n".join(out)


def run(args):
    started = time.monotonic()
    work = tempfile.mkdtemp(prefix="cay-embed-")
    uas_port = cayrun.free_udp_port()
    own_port = cayrun.free_udp_port()
    problems = []

    uas_cmd = [args.sipp, "-sf", os.path.abspath(args.uas_scenario),
               "-i", cayrun.HOST, "-p", str(uas_port), "-nostdin",
               "-trace_stat", "-stf", os.path.join(work, "uas_stat.csv"),
               "-trace_screen", "-screen_file",
               os.path.join(work, "uas_screen.log"),
               "-trace_err", "-error_file",
               os.path.join(work, "uas_errors.log")]
    if args.trace_msg:
        uas_cmd += ["-trace_msg", "-message_file",
                    os.path.join(work, "uas_messages.log")]
    uas = cayrun.popen(uas_cmd, subprocess.DEVNULL, subprocess.DEVNULL, work)
    err = wait_bound(uas, uas_port, "SIPp callee")
    if err:
        problems.append(err)
        out, err_text, uac_rc = "", "", None
        embed_rc = None
    else:
        embed_cmd = [args.embed, str(own_port),
                     "sip:service@127.0.0.1:%d" % uas_port, str(args.calls),
                     str(args.concurrency), str(args.min_run_ms)]
        if args.mode:
            embed_cmd.append(args.mode)
        embed_out = open(os.path.join(work, "embed.stdout"), "w+")
        embed_err = open(os.path.join(work, "embed.stderr"), "w+")
        embed = cayrun.popen(embed_cmd, embed_out, embed_err, work)
        uac_rc = 0
        if args.incoming > 0:
            err = wait_bound(embed, own_port, "embed program")
            if err:
                problems.append(err)
                uac_rc = None
            else:
                uac_rc = cayrun.popen(
                    [args.sipp, "-sn", "uac", "127.0.0.1:%d" % own_port,
                     "-i", "127.0.0.1", "-p", str(cayrun.free_udp_port()),
                     "-m", str(args.incoming), "-r", "50", "-nostdin",
                     "-timeout", "60s", "-timeout_error", "-trace_screen",
                     "-screen_file", os.path.join(work, "uac_screen.log"),
                     "-trace_err", "-error_file",
                     os.path.join(work, "uac_errors.log")],
                    subprocess.DEVNULL, subprocess.DEVNULL, work).wait()
        try:
            embed_rc = embed.wait(timeout=args.timeout)
        except subprocess.TimeoutExpired:
            embed.kill()
            embed_rc = embed.wait()
            problems.append("embed program still running after %.0f s "
                            "(killed)" % args.timeout)
        embed_out.seek(0)
        embed_err.seek(0)
        out, err_text = embed_out.read(), embed_err.read()
        embed_out.close()
        embed_err.close()
    uas_rc = stop_uas(uas, args.uas_calls is not None)
    counts = sipp_counts(os.path.join(work, "uas_stat.csv"))

    if embed_rc is not None and embed_rc != 0:
        problems.append("embed rc=%s" % embed_rc)
    if args.incoming > 0 and uac_rc != 0:
        problems.append("incoming SIPp UAC rc=%s" % uac_rc)
    if counts is None:
        problems.append("no statistics from the SIPp callee (rc=%s)" % uas_rc)
    else:
        if counts[1] != 0:
            problems.append("SIPp callee failed calls=%d" % counts[1])
        if args.uas_calls is not None and counts[0] != args.uas_calls:
            problems.append("SIPp callee successful calls=%d, wanted %d"
                            % (counts[0], args.uas_calls))
    ok = not problems
    line = "embed rc=%s %s| incoming sipp uac rc=%s (%d calls) | callee %s: " \
           "successful=%s failed=%s" % (
               embed_rc, out.strip() + " ", uac_rc, args.incoming,
               os.path.basename(args.uas_scenario),
               counts[0] if counts else "?", counts[1] if counts else "?")
    took = time.monotonic() - started
    if ok:
        print("PASS %s (%.1f s)" % (line, took))
    else:
        print("FAIL %s: %s (%.1f s)" % ("; ".join(problems), line, took))
        if err_text.strip():
            print("--- embed stderr, last lines:\n%s"
                  % "\n".join(collapse(err_text.strip().splitlines())[-30:]))
        print(report(work, "uas"))
        if args.incoming > 0:
            print(report(work, "uac"))
    if ok and not args.keep:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print("work directory kept:", work)
    sys.stdout.flush()
    return 0 if ok else 1


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
