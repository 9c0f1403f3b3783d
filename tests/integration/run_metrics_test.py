#!/usr/bin/env python3
"""The counters over HTTP (metrics.listen), scraped by Prometheus.

Usage:
  run_metrics_test.py --cay build/cay --sipp sipp --prometheus prometheus
                      --promtool promtool [--name NAME] [--shards 2]
                      [--calls 200] [--rate 100] [--expect KEY=N ...]
                      [--keep]

Steps:
 1. cay runs with `-s --shards` and `metrics: { listen: "127.0.0.1:0" }`
    (the kernel picks the port); its log line `metrics: serving the
    counters at http://127.0.0.1:P/metrics` names it.
 2. Before any call: GET /metrics answers 200, text/plain version 0.0.4,
    with one cay_calls_in_total sample per shard, all 0; `promtool check
    metrics` finds nothing wrong with the text; HEAD answers the same
    length and no body; /other answers 404, POST 405.
 3. A Prometheus server (its own, in the work directory) scrapes that URL
    every second.
 4. A SIPp UAC makes --calls calls at --rate calls/s (Cay answers them);
    every one must succeed.
 5. GET /metrics: the shards' cay_calls_in_total and
    cay_calls_answered_total add up to --calls, every shard took some,
    and no dialog is live; cay_requests_total has each method for each
    shard, at least --calls INVITEs, ACKs and BYEs, and no REGISTER. Meanwhile 20 scrapes in a row from a thread
    while cay is sent SIGUSR1: the live lines and every scrape answer
    (both ask for a gather; the later one joins the earlier).
 6. Prometheus's query API: up{job="cay"} is 1, count(cay_calls_in_total)
    is --shards and sum(cay_calls_in_total) reaches --calls (polled for
    at most 15 s); its target page shows no scrape error.
 7. SIGTERM: cay exits 0, every --expect holds on its summary, and
    Prometheus is stopped.

On success the work directory (/tmp/cay-metrics-*) is removed; on failure
it is kept, and the logs' tails are printed. Standard library only.
"""

import argparse
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.parse
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import cayrun  # noqa: E402
import run_sipp_test  # noqa: E402

URL_LINE = re.compile(r"metrics: serving the counters at (http://\S+)")
SAMPLE = re.compile(r'^(cay_[a-z_]+)\{shard="(\d+)"\} (\d+)$', re.M)
REQUESTS = re.compile(
    r'^cay_requests_total\{shard="(\d+)",method="([A-Za-z]+)"\} (\d+)$', re.M)
METHODS = ("INVITE", "ACK", "BYE", "CANCEL", "OPTIONS", "REGISTER", "INFO",
           "UPDATE", "PRACK", "REFER", "NOTIFY", "SUBSCRIBE", "PUBLISH",
           "MESSAGE", "other")


def http(method, url, timeout=5.0):
    """(status, headers, body) of one request; status 0 and the error's
    text as the body when there is no HTTP answer."""
    req = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.headers, r.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as e:
        return e.code, e.headers, e.read().decode("utf-8", "replace")
    except (urllib.error.URLError, OSError) as e:
        return 0, {}, str(e)


def samples(text, name):
    """{shard: value} of the samples of counter name in the text."""
    return {int(s): int(v) for n, s, v in SAMPLE.findall(text) if n == name}


def scrape(url, problems, what):
    """GET the counters; their text, or None after noting why."""
    status, headers, body = http("GET", url)
    if status != 200:
        problems.append("%s: GET /metrics: %s %s" % (what, status, body[:200]))
        return None
    ctype = headers.get("Content-Type", "")
    if not ctype.startswith("text/plain; version=0.0.4"):
        problems.append("%s: Content-Type %r" % (what, ctype))
    return body


def promtool_check(promtool, text, problems):
    """`promtool check metrics` reads the exposition on stdin and lints it
    (exit 0 and nothing printed: clean)."""
    p = subprocess.run([promtool, "check", "metrics"], input=text.encode(),
                       stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                       timeout=30)
    out = p.stdout.decode("utf-8", "replace").strip()
    if p.returncode != 0 or out:
        problems.append("promtool check metrics: rc=%d %s"
                        % (p.returncode, out[:400]))


def check_before_calls(url, args, promtool, problems):
    """Step 2."""
    text = scrape(url, problems, "before the calls")
    if text is None:
        return
    calls = samples(text, "cay_calls_in_total")
    if sorted(calls) != list(range(args.shards)) or any(calls.values()):
        problems.append("before the calls: cay_calls_in_total %s" % calls)
    promtool_check(promtool, text, problems)
    status, headers, body = http("HEAD", url)
    if status != 200 or body or \
            headers.get("Content-Length") != str(len(text.encode())):
        problems.append("HEAD /metrics: %s, Content-Length %s, %d body bytes"
                        % (status, headers.get("Content-Length"), len(body)))
    base = url.rsplit("/", 1)[0]
    for method, path, want in (("GET", "/other", 404),
                               ("POST", "/metrics", 405)):
        status, _, _ = http(method, base + path)
        if status != want:
            problems.append("%s %s: %s, wanted %d" % (method, path, status,
                                                      want))


def start_prometheus(args, workdir, target):
    """A Prometheus of our own scraping target each second; (process, its
    base URL)."""
    port = cayrun.free_udp_tcp_port()
    parsed = urllib.parse.urlparse(target)
    conf = os.path.join(workdir, "prometheus.yml")
    with open(conf, "w") as f:
        f.write("global: { scrape_interval: 1s, scrape_timeout: 1s }\n"
                "scrape_configs:\n"
                "  - job_name: cay\n"
                "    metrics_path: %s\n"
                "    static_configs: [ { targets: [ \"%s\" ] } ]\n"
                % (parsed.path, parsed.netloc))
    with open(os.path.join(workdir, "prometheus.log"), "wb") as out:
        proc = cayrun.popen(
            [args.prometheus, "--config.file=" + conf,
             "--storage.tsdb.path=" + os.path.join(workdir, "tsdb"),
             "--web.listen-address=%s:%d" % (cayrun.HOST, port)],
            out, subprocess.STDOUT, workdir)
    return proc, "http://%s:%d" % (cayrun.HOST, port)


def prom_query(base, query):
    """The value of an instant query's single result, or None."""
    status, _, body = http("GET", base + "/api/v1/query?"
                           + urllib.parse.urlencode({"query": query}))
    if status != 200:
        return None
    try:
        result = json.loads(body)["data"]["result"]
        return float(result[0]["value"][1]) if len(result) == 1 else None
    except (ValueError, KeyError, IndexError):
        return None


def check_prometheus(base, args, problems):
    """Step 6."""
    want = {'up{job="cay"}': 1, "count(cay_calls_in_total)": args.shards,
            "sum(cay_calls_in_total)": args.calls}
    got = {}

    def all_there():
        for q, v in want.items():
            got[q] = prom_query(base, q)
        return all(got[q] == v for q, v in want.items())

    if cayrun.wait_for("Prometheus to see the calls", all_there, 15):
        problems.append("Prometheus: %s, wanted %s" % (got, want))
    status, _, body = http("GET", base + "/api/v1/targets")
    try:
        targets = json.loads(body)["data"]["activeTargets"]
        errors = [t.get("lastError") for t in targets if t.get("lastError")]
    except (ValueError, KeyError):
        targets, errors = [], ["targets page: %s %s" % (status, body[:200])]
    if len(targets) != 1 or errors:
        problems.append("Prometheus targets: %d, errors %s"
                        % (len(targets), errors))


def scrapes_during_usr1(cay, url, problems):
    """Step 5's race: a thread scrapes 20 times while SIGUSR1 asks for
    the live counters."""
    statuses = []

    def loop():
        for _ in range(20):
            statuses.append(http("GET", url)[0])

    t = threading.Thread(target=loop)
    t.start()
    live = cay.live_counters()
    t.join(30)
    if live is None:
        problems.append("no live counters after SIGUSR1")
    if statuses != [200] * 20:
        problems.append("scrapes during SIGUSR1: %s" % statuses)


def check_after_calls(cay, url, args, problems):
    """Step 5."""
    text = scrape(url, problems, "after the calls")
    if text is None:
        return
    for name in ("cay_calls_in_total", "cay_calls_answered_total"):
        per = samples(text, name)
        if sum(per.values()) != args.calls or len(per) != args.shards:
            problems.append("%s %s, wanted %d in all" % (name, per,
                                                         args.calls))
        elif args.shards > 1 and not all(per.values()):
            problems.append("%s %s: a shard took no call" % (name, per))
    live = samples(text, "cay_dialogs_live")
    if len(live) != args.shards or any(live.values()):
        problems.append("cay_dialogs_live %s after the calls" % live)
    check_requests(text, args, problems)
    scrapes_during_usr1(cay, url, problems)


def check_requests(text, args, problems):
    """Step 5's requests by method: one sample per shard and method; the
    INVITEs, ACKs and BYEs at least --calls in all (a retransmission
    counts again), no REGISTER or MESSAGE."""
    per = {}
    for shard, method, value in REQUESTS.findall(text):
        per.setdefault(method, {})[int(shard)] = int(value)
    if sorted(per) != sorted(METHODS) or any(
            len(v) != args.shards for v in per.values()):
        problems.append("cay_requests_total: methods/shards %s" % per)
        return
    for method in ("INVITE", "ACK", "BYE"):
        if sum(per[method].values()) < args.calls:
            problems.append("cay_requests_total{method=%s} %s, wanted at "
                            "least %d" % (method, per[method], args.calls))
    for method in ("REGISTER", "MESSAGE", "other"):
        if any(per[method].values()):
            problems.append("cay_requests_total{method=%s} %s, wanted 0"
                            % (method, per[method]))


def run_calls(args, workdir, cay, problems):
    """Step 4; SIPp's verdict text."""
    uac = run_sipp_test.Sipp(args.sipp, workdir, "uac")
    uac.start(["%s:%d" % (cayrun.HOST, cay.port), "-sn", "uac",
               "-i", cayrun.HOST, "-p", str(cayrun.free_udp_port()),
               "-m", str(args.calls), "-r", str(args.rate),
               "-timeout", "60s", "-timeout_error"])
    rc = run_sipp_test.wait_uac(uac, cay, 80)
    stats = uac.stats()
    problems.extend(run_sipp_test.judge_sipp(uac, rc, stats, args.calls))
    return uac, run_sipp_test.sipp_text(rc, stats)


def metrics_url(cay):
    """The URL in cay's log line, or None."""
    with open(cay.stderr_path, encoding="utf-8", errors="replace") as f:
        m = URL_LINE.search(f.read())
    return m.group(1) if m else None


def run(args):
    workdir = tempfile.mkdtemp(prefix="cay-metrics-")
    test = "integration.%s" % args.name
    problems, notes, logs = [], [], []
    prom = uac = None
    config = ('shards: %d\nmetrics: { listen: "%s:0" }\n'
              % (args.shards, cayrun.HOST))
    cay, err = cayrun.start_cay(args.cay, workdir, config, log_level="info")
    try:
        url = None if err else metrics_url(cay)
        if err or url is None:
            problems.append(err or "no 'metrics: serving' line in cay's log")
        else:
            check_before_calls(url, args, args.promtool, problems)
            prom, base = start_prometheus(args, workdir, url)
            uac, text = run_calls(args, workdir, cay, problems)
            notes.append(text)
            check_after_calls(cay, url, args, problems)
            check_prometheus(base, args, problems)
    finally:
        if prom is not None:
            prom.terminate()
            try:
                prom.wait(10)
            except subprocess.TimeoutExpired:
                prom.kill()
            logs.append(("prometheus", cayrun.tail(
                os.path.join(workdir, "prometheus.log"))))
        if uac is not None:
            logs.append(("sipp", uac.report()))
    if cay is not None and cay.proc is not None:
        result = cay.stop()
        problems.extend(result.problems(args.expect, shards=args.shards))
        notes.append(result.summary_text())
    return cayrun.verdict(test, problems, "; ".join(notes), cay, workdir,
                          args.keep, logs)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                allow_abbrev=False)
    p.add_argument("--cay", required=True, help="the cay binary")
    p.add_argument("--sipp", default="sipp", help="SIPp binary")
    p.add_argument("--prometheus", default="prometheus",
                   help="Prometheus server binary")
    p.add_argument("--promtool", default="promtool", help="promtool binary")
    p.add_argument("--name", default="metrics_prometheus")
    p.add_argument("--shards", type=int, default=2)
    p.add_argument("--calls", type=int, default=200)
    p.add_argument("--rate", type=int, default=100, help="calls/s")
    p.add_argument("--expect", action="append", default=[],
                   help="check on cay's summary: key=N, key>=N, ...")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory even on success")
    args = p.parse_args(argv)
    cayrun.check_expects(p, args.expect)
    return args


if __name__ == "__main__":
    sys.exit(cayrun.main(parse_args, run))
