#!/usr/bin/env python3
"""Sweep the BYE/max-duration race of Cay's B2BUA over several leads.

Not part of `make test`: a measurement, best against a Release build.

  b2bua_race_sweep.py --cay build-release/cay [--leads 100,20,0,-20]
                      [--calls 2000] [--rate 200] [--shards 4]

For each lead L (ms) it runs what integration.b2bua_shards4_race_asan
runs: caller SIPp -> cay -s N (one forward route, max_duration_s: 2) ->
callee SIPp -sn uas, the caller sending its BYE L ms before the max
duration (b2b_uac_race.xml; a negative L is after it). It then prints one
Markdown table:

  lead_ms     the lead
  calls       calls placed by the caller
  failed      failed calls, caller + callee (SIPp)
  A_bye       BYEs the caller sent (its timer ran out first)
  cay_bye_A   BYEs Cay sent the caller = received while waiting (Cay's
              timeout first) + in the window after the caller's timer
              ran out, before its BYE left (SIPp runs one step per turn)
              + crossing the caller's BYE on the wire
  A_bye_200   answers to the caller's BYE: 200 / 481
  B_bye       BYEs the callee got (SIPp counts; retransmissions and
              unexpected ones in brackets when not 0)
  byes_sent   cay's own count of BYEs it sent (both legs)
  live        cay's summary: dialogs_live/txns_live after SIGTERM
  verdict     PASS or FAIL (the same judgement as the ctest entry)

Cay's max-duration timer starts when the callee's 200 reaches it; the
caller's starts when it sends its ACK, a little later. So the two BYEs
really cross at a lead of a few ms, not at 0: the default leads add 5 and
2 to the four of the issue.
"""

import argparse
import os
import shutil
import sys
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cayrun  # noqa: E402
import run_b2bua_test  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                allow_abbrev=False)
    p.add_argument("--cay", required=True, help="the cay binary (Release)")
    p.add_argument("--sipp", default="sipp", help="SIPp binary")
    p.add_argument("--leads", default="100,20,5,2,0,-20",
                   help="comma-separated leads in ms (default %(default)s)")
    p.add_argument("--calls", type=int, default=2000,
                   help="calls per lead (default %(default)s)")
    p.add_argument("--rate", type=int, default=200,
                   help="calls per second (default %(default)s)")
    p.add_argument("--shards", type=int, default=4,
                   help="cay -s N (default %(default)s)")
    p.add_argument("--max-duration-s", type=int, default=2,
                   help="the route's max_duration_s (default %(default)s)")
    p.add_argument("--keep", action="store_true",
                   help="keep every work directory")
    args = p.parse_args(argv)
    try:
        args.leads = [int(x) for x in args.leads.split(",") if x.strip()]
    except ValueError:
        p.error("--leads: want integers, e.g. 100,20,0,-20")
    return args


def case_args(args, lead):
    """The run_b2bua_test.py arguments of one lead."""
    n = str(args.calls)
    return run_b2bua_test.parse_args([
        "--cay", args.cay, "--sipp", args.sipp,
        "--name", "b2bua_race_lead%+d" % lead, "--quiet",
        "--shards", str(args.shards),
        "--caller-scenario",
        os.path.join(HERE, "scenarios", "b2b_uac_race.xml"),
        "--route-opt", "max_duration_s=%d" % args.max_duration_s,
        "--lead-ms", str(lead),
        "--sipp-timeout", str(60 + args.calls // max(args.rate, 1)),
        "--expect", "dialogs_live=0", "--expect", "txns_live=0",
        "--callee-count", "BYE_Recv=" + n,
        "--callee-count", "BYE_Unexp=0",
        "--", "-m", n, "-r", str(args.rate)])


def steps(counts, suffix):
    """Values of the per-step columns ending in suffix, in step order."""
    cols = [(int(k.split("_", 1)[0]), v) for k, v in counts.items()
            if k[:1].isdigit() and k.endswith(suffix)]
    return [v for _, v in sorted(cols)]


def row(lead, calls, out):
    cc = out.caller_counts or {}
    ce = out.callee_counts or {}
    cs = out.caller_stats or {}
    es = out.callee_stats or {}
    summ = out.summary or {}
    failed = cs.get("FailedCall", 0) + es.get("FailedCall", 0)
    # b2b_uac_race.xml receives Cay's BYE at two steps, "catch" then
    # "wait" (Cay's timeout first), and answers it from two: the first when
    # it sent no BYE of its own, the second when the two crossed.
    byes = steps(cc, "_BYE_Recv") + [0, 0]
    answered = steps(cc, "_200_Sent") + [0, 0]
    crossed = answered[1]
    window = byes[0] - crossed
    a_200 = sum(steps(cc, "_200_Recv")[1:])  # the first is the INVITE's
    b_extra = [ce.get("BYE_Retrans", 0), ce.get("BYE_Unexp", 0)]
    b_bye = str(ce.get("BYE_Recv", "?"))
    if any(b_extra):
        b_bye += " (%d retrans, %d unexp)" % tuple(b_extra)
    return [
        "%+d" % lead, str(calls), str(failed),
        str(cc.get("BYE_Sent", "?")),
        "%d = %d + %d + %d" % (byes[0] + byes[1], byes[1], window, crossed),
        "%d / %d" % (a_200, cc.get("481_Recv", 0)),
        b_bye, str(summ.get("byes_sent", "?")),
        "%s/%s" % (summ.get("dialogs_live", "?"), summ.get("txns_live", "?")),
        "PASS" if out.ok else "FAIL",
    ]


HEADER = ["lead_ms", "calls", "failed", "A_bye",
          "cay_bye_A = wait+window+crossed",
          "A_bye_200/481", "B_bye", "byes_sent", "live", "verdict"]


def table(rows):
    widths = [max(len(r[i]) for r in [HEADER] + rows)
              for i in range(len(HEADER))]
    line = lambda r: "| " + " | ".join(  # noqa: E731
        c.ljust(w) for c, w in zip(r, widths)) + " |"
    out = [line(HEADER), "|" + "|".join("-" * (w + 2) for w in widths) + "|"]
    return "\n".join(out + [line(r) for r in rows])


def run(args):
    rows = []
    failed = []
    started = time.monotonic()
    for lead in args.leads:
        out = run_b2bua_test.run_case(case_args(args, lead))
        rows.append(row(lead, args.calls, out))
        print("lead %+d ms: %s (%.1f s) %s" % (
            lead, "PASS" if out.ok else "FAIL", out.took,
            "; ".join(out.problems)), flush=True)
        if not out.ok:
            failed.append(lead)
            print("  work directory kept: %s" % out.workdir)
        elif not args.keep:
            shutil.rmtree(out.workdir, ignore_errors=True)
    print()
    print("cay -s %d, route max_duration_s: %d, %d calls at %d calls/s per "
          "lead, %.0f s in all" % (args.shards, args.max_duration_s,
                                   args.calls, args.rate,
                                   time.monotonic() - started))
    print()
    print(table(rows))
    return 1 if failed else 0


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
