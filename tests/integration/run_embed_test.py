#!/usr/bin/env python3
"""Embedding test: a program with Cay on its own loop places calls to a
SIPp UAS while a SIPp UAC calls it.

    run_embed_test.py --embed PATH [--calls N] [--incoming N]

Starts `sipp -sn uas` on a free port, starts the embed program listening
on another free port with the UAS as its target, runs a SIPp UAC with
--incoming calls against the embed program meanwhile, and checks that the
program exits 0 (every outgoing call answered and ended by its own BYE)
and that SIPp's UAC succeeded.
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402


def cayrun_failed_calls(stat_csv):
    """FailedCall(C) from the last line of a SIPp -trace_stat CSV."""
    try:
        with open(stat_csv) as f:
            rows = [line.rstrip("\n").split(";") for line in f if line.strip()]
    except OSError:
        return None
    if len(rows) < 2:
        return None
    head, last = rows[0], rows[-1]
    return int(last[head.index("FailedCall(C)")])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--embed", required=True)
    ap.add_argument("--sipp", default="sipp")
    ap.add_argument("--calls", type=int, default=1000)
    ap.add_argument("--incoming", type=int, default=50)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cay-embed-")
    uas_port = cayrun.free_udp_port()
    own_port = cayrun.free_udp_port()
    # The callee checks that every INVITE carries the P-Asserted-Identity
    # the embed program's caller-id supplement adds.
    scen = os.path.join(os.path.dirname(os.path.abspath(__file__)),
                        "scenarios", "uas_pai.xml")
    uas = subprocess.Popen(
        [args.sipp, "-sf", scen, "-i", "127.0.0.1", "-p", str(uas_port),
         "-trace_stat", "-stf", os.path.join(work, "uas_stat.csv"),
         "-nostdin", "-trace_screen", "-screen_file",
         os.path.join(work, "uas_screen.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    time.sleep(0.5)
    embed = subprocess.Popen(
        [args.embed, str(own_port), "sip:service@127.0.0.1:%d" % uas_port,
         str(args.calls), "20", "4000"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work)
    time.sleep(0.3)
    uac_rc = subprocess.call(
        [args.sipp, "-sn", "uac", "127.0.0.1:%d" % own_port, "-i",
         "127.0.0.1", "-p", str(cayrun.free_udp_port()), "-m",
         str(args.incoming), "-r", "50", "-nostdin", "-timeout", "60s",
         "-timeout_error", "-trace_screen", "-screen_file",
         os.path.join(work, "uac_screen.log")],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    try:
        out, err = embed.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        embed.kill()
        out, err = embed.communicate()
        print("embed: timed out")
    uas.terminate()
    uas.wait(10)
    uas_failed = cayrun_failed_calls(os.path.join(work, "uas_stat.csv"))
    ok = embed.returncode == 0 and uac_rc == 0 and uas_failed == 0
    print("%s: embed rc=%s %s| incoming sipp uac rc=%s (%d calls) | "
          "callee failed calls (missing P-Asserted-Identity): %s" % (
              "PASS" if ok else "FAIL", embed.returncode, out.strip() + " ",
              uac_rc, args.incoming, uas_failed))
    if not ok:
        print(err[-3000:])
        print("work directory kept:", work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
