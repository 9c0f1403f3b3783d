#!/usr/bin/env python3
"""Call detail records handed to an embedder: run tests/embed/embed_cdr
(Cay embedded with 2 shards, a reject route for user "busy", a forward
route to a SIPp UAS, cdr.file, and cay_server_on_cdr()) while SIPp calls
it: answered calls, and calls the reject route refuses.

    run_embed_cdr.py --embed PATH [--sipp sipp] [--calls 100] [--busy 10]

Passes when both SIPp callers succeed, embed_cdr exits 0 (records from
each shard on that shard's thread only, one per record the summary
counts), cdr.file's lines are exactly the json the embedder got, the
embedder's fields say what the JSON says for every Call-ID (times as ms
since 1970), and the records are those of the calls: --calls answered
(200, ended by the caller after about 500 ms) and --busy rejected (486).
"""
import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.dont_write_bytecode = True
HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import cayrun  # noqa: E402
import cdr_checks  # noqa: E402

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


def judge(work, calls, busy):
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
    if (len(answered), len(rejected), len(recs), len(views)) != (
            calls, busy, calls + busy, calls + busy):
        problems.append("records: %d answered, %d rejected, %d in the "
                        "file, %d to the embedder; want %d, %d, %d, %d"
                        % (len(answered), len(rejected), len(recs),
                           len(views), calls, busy, calls + busy,
                           calls + busy))
    if len({r["shard"] for r in recs.values()}) != 2:
        problems.append("records of one shard only")
    return problems[:8]


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
    args = ap.parse_args()
    work = tempfile.mkdtemp(prefix="cay-embed-cdr-")
    port, callee_port = cayrun.free_udp_port(), cayrun.free_udp_port()
    cfg = os.path.join(work, "cay.yaml")
    with open(cfg, "w") as f:
        f.write(CONFIG.format(port=port, callee=callee_port,
                              cdr=os.path.join(work, "cdr.json")))
    with open(os.path.join(HERE, "scenarios",
                           "b2b_uac_unreachable.xml")) as f:
        busy_xml = f.read().replace("@FINAL_STATUS@", "486")
    with open(os.path.join(work, "busy.xml"), "w") as f:
        f.write(busy_xml)
    callee = subprocess.Popen(
        [args.sipp, "-sn", "uas", "-i", "127.0.0.1", "-p", str(callee_port),
         "-nostdin", "-m", str(args.calls)],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=work)
    run_ms = 4000 + args.calls * 20
    embed = subprocess.Popen(
        [args.embed, cfg, str(run_ms), os.path.join(work, "out")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=work)
    time.sleep(0.5)
    uac = sipp(args, work, port, ["-sn", "uac", "-m", str(args.calls), "-r",
                                  "100", "-d", "500"])
    busy = sipp(args, work, port, ["-sf", "busy.xml", "-s", "busy", "-m",
                                   str(args.busy), "-r", "20"])
    uac_rc, busy_rc = uac.wait(90), busy.wait(90)
    try:
        out, err = embed.communicate(timeout=run_ms / 1000 + 30)
    except subprocess.TimeoutExpired:
        embed.kill()
        out, err = embed.communicate()
        print("embed_cdr: timed out")
    try:
        callee.wait(10)
    except subprocess.TimeoutExpired:
        callee.kill()
    problems = []
    if embed.returncode == 0 and uac_rc == 0 and busy_rc == 0:
        problems = judge(work, args.calls, args.busy)
    ok = embed.returncode == 0 and uac_rc == 0 and busy_rc == 0 \
        and not problems
    print("%s: embed_cdr rc=%s %s| sipp uac rc=%s (%d calls), busy rc=%s "
          "(%d calls)" % ("PASS" if ok else "FAIL", embed.returncode,
                          out.strip() + " ", uac_rc, args.calls, busy_rc,
                          args.busy))
    for p in problems:
        print("  " + p)
    if ok:
        shutil.rmtree(work, ignore_errors=True)
    else:
        print(err[-3000:])
        print("work directory kept: %s" % work)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
