#!/usr/bin/env python3
"""Judge a log of cay with the fail2ban filter contrib/fail2ban/cay.conf,
run by fail2ban's own fail2ban-regex: which addresses fail2ban would
count failures for, and how many each.

    check_fail2ban.py --log cay.stderr --want 127.0.0.1=20 [--filter F]

Exits 0 when fail2ban-regex found exactly the --want failures (each
address that many times, no other address), else 1 saying what it found.
run_sipp_test.py runs it with --after-command once cay has stopped.

Standard library only, and Debian's fail2ban: the one `make deps`
unpacks into tests/integration/fail2ban/ (not installed), else one on
the PATH.
"""
import argparse
import collections
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
FILTER = os.path.normpath(os.path.join(HERE, "..", "..", "contrib",
                                       "fail2ban", "cay.conf"))
UNPACKED = os.path.join(HERE, "fail2ban")


def fail2ban_regex():
    """The fail2ban-regex command, and the environment it needs: the
    unpacked one (its Python package beside it), else the PATH's."""
    tool = os.path.join(UNPACKED, "usr", "bin", "fail2ban-regex")
    if not os.path.exists(tool):
        return ["fail2ban-regex"], None
    lib = os.path.join(UNPACKED, "usr", "lib", "python3", "dist-packages")
    return [sys.executable, tool], dict(os.environ, PYTHONPATH=lib)


def parse_want(specs):
    """["IP=N", ...] as {IP: N}; ValueError if one is not IP=N."""
    want = {}
    for spec in specs:
        ip, _, n = spec.rpartition("=")
        if not ip or not n.isdigit():
            raise ValueError("--want %r: want IP=N" % spec)
        want[ip] = int(n)
    return want


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--log", required=True, help="cay's log")
    p.add_argument("--filter", default=FILTER, help="the fail2ban filter")
    p.add_argument("--want", action="append", default=[],
                   help="IP=N: N failures of IP (repeatable)")
    args = p.parse_args()
    try:
        want = parse_want(args.want)
    except ValueError as e:
        p.error(str(e))
    # -o ip: one line per failure, its address.
    tool, env = fail2ban_regex()
    try:
        r = subprocess.run(tool + ["-o", "ip", args.log,
                                   os.path.abspath(args.filter)],
                           stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                           env=env, timeout=120)
    except (OSError, subprocess.TimeoutExpired) as e:
        print("fail2ban-regex: %s" % e)
        return 1
    out = r.stdout.decode("utf-8", "replace")
    if r.returncode != 0:
        print("fail2ban-regex exited %d: %s" % (r.returncode, out[-500:]))
        return 1
    found = collections.Counter(x.strip() for x in out.splitlines()
                                if x.strip())
    if dict(found) != want:
        print("fail2ban-regex found %s, want %s" % (dict(found), want))
        return 1
    print("fail2ban-regex found %s" % dict(found))
    return 0


if __name__ == "__main__":
    sys.exit(main())
