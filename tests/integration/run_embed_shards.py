#!/usr/bin/env python3
"""Hooks and callbacks run on the owning shard: run tests/embed/embed_shards
(Cay embedded with N shards, a thread-recording supplement, incoming calls
answered through cay_server_on_session) while a SIPp UAC calls it.

    run_embed_shards.py --embed PATH [--shards 4] [--calls 400]

Passes when SIPp's calls all succeed and embed_shards exits 0 (every hook
of a call ran on the thread of that call's session, more than one shard
took calls).
"""
import argparse
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--embed", required=True)
    ap.add_argument("--sipp", default="sipp")
    ap.add_argument("--shards", type=int, default=4)
    ap.add_argument("--calls", type=int, default=400)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cay-embed-shards-")
    port = cayrun.free_udp_port()
    run_ms = 3000 + args.calls * 10
    embed = subprocess.Popen(
        [args.embed, str(port), str(args.shards), str(run_ms)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work)
    time.sleep(0.5)
    uac_rc = subprocess.call(
        [args.sipp, "-sn", "uac", "127.0.0.1:%d" % port, "-i", "127.0.0.1",
         "-p", str(cayrun.free_udp_port()), "-m", str(args.calls), "-r",
         "200", "-nostdin", "-timeout", "60s", "-timeout_error"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    out, err = cayrun.wait_embedded(embed, run_ms / 1000 + 30, "embed_shards")
    ok = embed.returncode == 0 and uac_rc == 0
    return cayrun.embedded_verdict(
        ok, "embed_shards rc=%s %s| sipp uac rc=%s (%d calls)" % (
            embed.returncode, out.strip() + " ", uac_rc, args.calls),
        err, work)


if __name__ == "__main__":
    sys.exit(main())
