#!/usr/bin/env python3
"""Call detail records handed to an embedder: run tests/embed/embed_cdr
(Cay embedded with 2 shards, a reject route for user "busy", a forward
route to a SIPp UAS, cdr.file, and cay_server_on_cdr()) while SIPp calls
it: answered calls, calls the reject route refuses, and long calls still
up when Cay closes with no grace (it BYEs them and cuts them at once).

    run_embed_cdr.py --embed PATH [--sipp sipp] [--calls 100] [--busy 10]
                     [--long 5]

Passes when both SIPp callers succeed, embed_cdr exits 0 (records from
each shard on that shard's thread only, one per record the summary
counts), cdr.file's lines are exactly the json the embedder got, the
embedder's fields say what the JSON says for every Call-ID (times as ms
since 1970), and the records are those of the calls: --calls answered
(200, ended by the caller after about 500 ms), --busy rejected (486) and
--long answered and ended by the shutdown, for the Reason of Cay's BYE
(SIP 503, RFC 3326; the summary counts those too).
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cayrun  # noqa: E402
import cdr_checks  # noqa: E402
from b2bua_checks import expand  # noqa: E402

CONFIG = """\
listen: [ "udp:127.0.0.1:{port}" ]
shards: 2
log: {{ level: warn }}
routes:
  - match: {{ ruri_user: "^busy$" }}
    action: reject
    code: 486
  - action: forward
    target: "sip:${{ruri_user}}@127.0.0.1:{callee}"
cdr: {{ file: {cdr} }}
"""


def lines_of(path):
    with open(path, "rb") as f:
        return f.read().decode("utf-8").splitlines()


def field_problems(view, rec):
    """Where the embedder's record (view) and the file's (rec) differ."""
    out = []
    for key in ("start", "progress", "answer", "end"):
        want = cdr_checks.ms_of(rec[key]) if rec[key] else 0
        if view[key + "_ms"] != want:
            out.append("%s_ms %r, the file says %r" % (key, view[key + "_ms"],
                                                      rec[key]))
    if view["setup_ms"] != (-1 if rec["setup_ms"] is None
                            else rec["setup_ms"]):
        out.append("setup_ms %r vs %r" % (view["setup_ms"], rec["setup_ms"]))
    for key in cdr_checks.KEYS[5:]:
        if view[key] != rec[key]:
            out.append("%s %r vs %r" % (key, view[key], rec[key]))
    return out


def judge(work, calls, busy, long_calls):
    problems = []
    file_lines = lines_of(os.path.join(work, "cdr.json"))
    got_json = lines_of(os.path.join(work, "out.json"))
    if sorted(file_lines) != sorted(got_json):
        problems.append("cdr.file (%d lines) and the embedder's json (%d) "
                        "differ" % (len(file_lines), len(got_json)))
    recs = {}
    for raw in file_lines:
        rec = json.loads(raw)
        bad = cdr_checks.record_problems(rec, 2)
        if bad:
            problems.append("%s: %s" % ("; ".join(bad), raw[:300]))
        recs[rec["call_id"]] = rec
    views = [json.loads(x) for x in lines_of(os.path.join(work, "out"))]
    for view in views:
        rec = recs.get(view["call_id"])
        if rec is None:
            problems.append("no file record for %r" % view["call_id"])
            continue
        bad = field_problems(view, rec)
        if bad:
            problems.append("%s: %s" % (view["call_id"], "; ".join(bad)))
    answered = [r for r in recs.values() if r["status"] == 200
                and r["ended_by"] == "caller" and r["attempts"] == 1
                and 450 <= r["duration_ms"] <= 1500]
    rejected = [r for r in recs.values() if r["status"] == 486
                and r["ended_by"] == "rejected" and r["ruri"].startswith(
                    "sip:busy@")]
    cut = [r for r in recs.values() if r["status"] == 200
           and r["ended_by"] == "shutdown" and r["answer"]
           and r["reason"] == 'SIP;cause=503;text="shutdown"']
    want = (calls, busy, long_calls, calls + busy + long_calls)
    if (len(answered), len(rejected), len(cut), len(recs)) != want \
            or len(views) != len(recs):
        problems.append("records: %d answered, %d rejected, %d cut, %d in "
                        "the file, %d to the embedder; want %d, %d, %d, %d"
                        % ((len(answered), len(rejected), len(cut),
                            len(recs), len(views)) + want))
    if len({r["shard"] for r in recs.values()}) != 2:
        problems.append("records of one shard only")
    return problems[:8]


def scenario(work, name, subs):
    """The template scenarios/NAME with its @KEY@s replaced (subs), written
    to work: its path."""
    with open(os.path.join(HERE, "scenarios", name)) as f:
        text = expand(f.read(), subs)
    path = os.path.join(work, name)
    with open(path, "w") as f:
        f.write(text)
    return path


def sipp(args, work, port, extra):
    return subprocess.Popen(
        [args.sipp, "127.0.0.1:%d" % port, "-i", "127.0.0.1", "-p",
         str(cayrun.free_udp_port()), "-nostdin", "-timeout", "60s",
         "-timeout_error"] + extra,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--embed", required=True)
    ap.add_argument("--sipp", default="sipp")
    ap.add_argument("--calls", type=int, default=100)
    ap.add_argument("--busy", type=int, default=10)
    ap.add_argument("--long", type=int, default=5)
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cay-embed-cdr-")
    port, callee_port = cayrun.free_udp_port(), cayrun.free_udp_port()
    cfg = cayrun.write_config(work, CONFIG.format(
        port=port, callee=callee_port, cdr=os.path.join(work, "cdr.json")))
    busy_xml = scenario(work, "b2b_uac_unreachable.xml",
                        {"FINAL_STATUS": "486"})
    long_xml = scenario(work, "b2b_uac_race.xml", {"BYE_AFTER_MS": "60000"})
    callee = subprocess.Popen(
        [args.sipp, "-sn", "uas", "-i", "127.0.0.1", "-p", str(callee_port),
         "-nostdin", "-m", str(args.calls + args.long)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    run_ms = 4000 + args.calls * 20
    embed = subprocess.Popen(
        [args.embed, cfg, str(run_ms), "0", os.path.join(work, "out")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work)
    time.sleep(0.5)
    uac = sipp(args, work, port, ["-sn", "uac", "-m", str(args.calls), "-r",
                                  "100", "-d", "500"])
    busy = sipp(args, work, port, ["-sf", busy_xml, "-s", "busy", "-m",
                                   str(args.busy), "-r", "20"])
    # Up when Cay closes: Cay's BYE (the drain) ends them.
    long_calls = sipp(args, work, port, ["-sf", long_xml, "-m",
                                         str(args.long), "-r", "10"])
    uac_rc, busy_rc = uac.wait(90), busy.wait(90)
    out, err = cayrun.wait_embedded(embed, run_ms / 1000 + 30, "embed_cdr")
    rcs = [uac_rc, busy_rc]
    for proc in (long_calls, callee):
        try:
            rcs.append(proc.wait(10))
        except subprocess.TimeoutExpired:
            proc.kill()
            rcs.append("killed")
    problems = []
    if embed.returncode == 0 and rcs == [0] * 4:
        problems = judge(work, args.calls, args.busy, args.long)
    ok = embed.returncode == 0 and rcs == [0] * 4 and not problems
    line = ("embed_cdr rc=%s %s| sipp rc: uac %s (%d calls), busy %s (%d), "
            "long %s (%d), callee %s" % (
                embed.returncode, out.strip() + " ", rcs[0], args.calls,
                rcs[1], args.busy, rcs[2], args.long, rcs[3]))
    line += "".join("\n  " + p for p in problems)
    return cayrun.embedded_verdict(ok, line, err, work)


if __name__ == "__main__":
    sys.exit(main())
