#!/usr/bin/env python3
"""An attended transfer (RFC 5589 section 7) through cay by three real SIP
clients, linphonec (Debian linphone-cli).

alice calls bob through Cay (a forward route), puts him on hold, calls
carol through Cay (a second route), and transfers bob to carol with
linphonec's `transfer 1 --to-call 2`: her REFER reaches bob through Cay
with a Refer-To naming her call with carol (?Replaces=, RFC 3891), bob's
INVITE with that Replaces reaches Cay (his outbound proxy), and Cay puts
bob in alice's place in the call with carol (a re-INVITE to carol with
bob's media, BYE to alice). Then bob hangs up and carol's call ends.

Each client is a linphonec on a pseudo-terminal (its readline loop is
what drives its SIP stack); commands go one at a time, each once the
step before it shows in the client's console. What is judged:

- alice is told bob was transferred, and her two calls end;
- bob's second call (to carol, with Replaces) is established;
- carol is re-INVITEd with bob's RTP port and keeps one call, which ends
  when bob hangs up;
- cay logged the replacement, and its summary has nothing live at the end.

Standard library only. Ports are free loopback ports.
"""

import argparse
import os
import pty
import re
import shutil
import signal
import subprocess
import sys
import tempfile

import cayrun

STEP_TIMEOUT_S = 15.0


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cay", required=True)
    p.add_argument("--linphonec", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--expect", action="append", default=[],
                   help="KEY=N on cay's summary (repeat)")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory when the test passes")
    p.add_argument("--shards", type=int, default=1,
                   help="cay's shards; above 1, the transfer is run again "
                        "(up to --attempts times) until bob's INVITE hashed "
                        "to another shard than alice's call with carol")
    p.add_argument("--attempts", type=int, default=6)
    args = p.parse_args(argv)
    cayrun.check_expects(p, args.expect)
    return args


class Client:
    """One linphonec with its own HOME, configuration and console."""

    def __init__(self, binary, workdir, name, auto_answer):
        self.binary = binary
        self.name = name
        self.home = os.path.join(workdir, name)
        # liblinphone does not start its core without its database.
        os.makedirs(os.path.join(self.home, ".local", "share", "linphone"))
        self.port = cayrun.free_udp_port()
        self.rtp_port = cayrun.free_udp_port()  # its first call's
        self.auto_answer = auto_answer
        self.out_path = os.path.join(workdir, name + ".out")
        self.log_path = os.path.join(workdir, name + ".log")
        self.proc = None
        self.master = None

    def write_config(self, cay_port):
        # Every request goes to Cay (an outbound proxy that never
        # registers): the Refer-To alice sends names carol without Cay's
        # port, and bob's INVITE to it must still reach Cay.
        with open(os.path.join(self.home, "rc"), "w") as f:
            f.write("[sip]\ndefault_proxy=0\nsip_tcp_port=-1\n"
                    "sip_tls_port=-1\nguess_hostname=0\n"
                    "contact=sip:%s@%s:%d\n"
                    "[rtp]\naudio_rtp_port=%d\n"
                    "[sound]\necho_cancellation=0\n"
                    "[proxy_0]\nreg_proxy=<sip:%s:%d>\n"
                    "reg_identity=sip:%s@%s\nreg_sendregister=0\n"
                    "publish=0\n"
                    % (self.name, cayrun.HOST, self.port, self.rtp_port,
                       cayrun.HOST, cay_port, self.name, cayrun.HOST))

    def start(self, cay_port):
        self.write_config(cay_port)
        cmd = [self.binary, "-c", os.path.join(self.home, "rc"), "-d", "6",
               "-l", self.log_path]
        if self.auto_answer:
            cmd.append("-a")
        self.master, slave = pty.openpty()
        # XDG_RUNTIME_DIR: libpulse (linphone's sound) makes its runtime
        # directory there, not as /tmp/pulse-XXXX left behind per run.
        env = dict(os.environ, HOME=self.home, XDG_RUNTIME_DIR=self.home)
        with open(self.out_path, "wb") as out:
            self.proc = subprocess.Popen(cmd, stdin=slave, stdout=out,
                                         stderr=subprocess.STDOUT,
                                         cwd=self.home, env=env,
                                         start_new_session=True)
        os.close(slave)
        return " ".join(cmd)

    def text(self):
        with open(self.out_path, "rb") as f:
            return f.read().decode("latin-1")

    def log(self):
        try:
            with open(self.log_path, "rb") as f:
                return f.read().decode("latin-1")
        except OSError:
            return ""

    def command(self, text):
        os.write(self.master, text.encode() + b"\n")

    def stop(self):
        if self.proc is None:
            return
        if self.proc.poll() is None:
            try:
                self.command("quit")
                self.proc.wait(5)
            except (OSError, subprocess.TimeoutExpired):
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait()
        os.close(self.master)
        self.proc = None


def wait_for(what, check):
    return cayrun.wait_for(what, check, STEP_TIMEOUT_S)


def config(b, c, shards):
    return "shards: %d\nroutes:\n" % shards + "".join(
        "  - match: { ruri_user: \"^%s$\" }\n"
        "    action: forward\n"
        "    target: \"sip:%s@%s:%d\"\n"
        % (x.name, x.name, cayrun.HOST, x.port) for x in (b, c))


def drive(a, b, c, cay):
    """(client, command, what, done) in order: each command once the
    previous step is done."""
    dial = "call sip:%%s@%s:%d" % (cayrun.HOST, cay.port)
    steps = [(x, "ports sip %d" % x.port, "%s's SIP port" % x.name,
              (lambda x: lambda: "Setting sip port" in x.text())(x))
             for x in (a, b, c)]
    steps += [
        (a, dial % "bob", "alice's call with bob",
         lambda: "Media streams established with sip:bob" in a.text()),
        (a, "pause 1", "alice's hold of bob",
         lambda: "is now paused" in a.text()),
        (a, dial % "carol", "alice's call with carol",
         lambda: "Media streams established with sip:carol" in a.text()),
        (a, "transfer 1 --to-call 2", "bob's call replacing alice's",
         lambda: re.search(r"Media streams established with <sip:carol"
                           r"[^>]*Replaces=", b.text())),
        (None, None, "alice told bob was transferred",
         lambda: "has been transfered" in a.text()),
        (None, None, "the end of alice's calls",
         lambda: len(re.findall(r"Call [12] with \S+ ended", a.text())) == 2),
        (b, "terminate 2", "the end of carol's call",
         lambda: re.search(r"Call 1 with \S+ ended", c.text())),
    ]
    for x, command, what, done in steps:
        if command:
            x.command(command)
        err = wait_for(what, done)
        if err:
            return err
    return None


def judge(c, b, cay_log):
    problems = []
    if "took the place of" not in cay_log:
        problems.append("cay: no leg replaced (RFC 3891) in its log")
    # carol's re-INVITE from Cay carries bob's media: the RTP port of his
    # INVITE with Replaces.
    m = re.search(r"^INVITE sip:carol@[^\n]*\n(?:[^\n]+\n)*?Replaces:"
                  r".*?^m=audio (\d+) ", b.log(), re.M | re.S)
    if m is None:
        problems.append("bob: no INVITE with Replaces and an offer in his "
                        "log")
    elif not re.search(r"^m=audio %s " % m.group(1), c.log(), re.M):
        problems.append("carol: no offer with bob's RTP port %s"
                        % m.group(1))
    if re.search(r"Call 2 with", c.text()):
        problems.append("carol: a second call (the transfer should "
                        "replace alice in her call, not add one)")
    return problems


def run(args):
    """One transfer; at more than one shard, again until one crossed
    shards (cay's log says it handed bob's INVITE over)."""
    test = "integration.%s" % args.name
    for attempt in range(1, args.attempts + 1):
        rc, crossed = run_once(args, test, attempt == args.attempts)
        if rc or args.shards == 1 or crossed:
            if args.shards > 1:
                print("%s: attempt %d crossed shards" % (test, attempt))
            return rc
        print("%s: attempt %d stayed on one shard: again" % (test, attempt),
              flush=True)
    print("%s: no attempt crossed shards (chance 1 in %d); "
          "run_replaces_shards.py covers that path" % (test, 2 ** args.attempts))
    return 0


def run_once(args, test, last):
    """@return (exit code, whether bob's INVITE crossed shards); prints
    the verdict when it fails, or passes crossing or @last."""
    workdir = tempfile.mkdtemp(prefix="cay-linphone-%s-" % args.name)
    problems, cay = [], None
    a = Client(args.linphonec, workdir, "alice", False)
    b = Client(args.linphonec, workdir, "bob", True)
    c = Client(args.linphonec, workdir, "carol", True)
    line = ""
    try:
        cay, err = cayrun.start_cay(args.cay, workdir,
                                    config(b, c, args.shards),
                                    log_level="info")
        if err:
            raise SystemExit(err)
        print("%s: cay: %s" % (test, " ".join(cay.command())), flush=True)
        for x in (a, b, c):
            print("%s: %s: %s" % (test, x.name, x.start(cay.port)),
                  flush=True)
        for x in (a, b, c):
            err = wait_for("%s's prompt" % x.name,
                           lambda: "linphonec>" in x.text())
            if err:
                raise SystemExit(err)
        err = drive(a, b, c, cay)
        if err:
            problems.append(err)
        for x in (a, b, c):
            x.stop()
        result = cay.stop()
        problems += judge(c, b, cay.stderr_tail(400))
        problems += result.problems(args.expect)
        line = result.summary_text()
    except SystemExit as e:
        problems.append(str(e))
    finally:
        for x in (a, b, c):
            x.stop()
        if cay is not None and cay.alive():
            cay.kill()
    crossed = cay is not None and "handed to shard" in cay.stderr_tail(400)
    if not problems and args.shards > 1 and not crossed and not last:
        shutil.rmtree(workdir, ignore_errors=True)
        return 0, False
    logs = [("%s console" % x.name, cayrun.tail(x.out_path, 40))
            for x in (a, b, c)]
    return cayrun.verdict(test, problems, line, cay, workdir, args.keep,
                          logs), crossed


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
