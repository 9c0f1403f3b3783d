"""cay with TLS for run_tls_test.py and run_ws_test.py: its config file
(a UDP listener for the readiness probe and a TLS one, the fixture
certificates of tests/data/tls), the cay process, and a case's state
(Run: cay, the SIPp calls, problems and notes).

Standard library only.
"""

import json
import os
import time

import cayrun
import run_sipp_test
from tls_peers import Failure

HOST = cayrun.HOST


# --------------------------------------------------------------------- #
# cay and SIPp                                                          #
# --------------------------------------------------------------------- #

class TlsCay(cayrun.Cay):
    """cay whose listeners (UDP for the probe, TLS) come from its config
    file: -L would replace the configured list."""

    def __init__(self, binary, workdir, port, tls_port, config_path,
                 log_level):
        super().__init__(binary, workdir, port=port, config_path=config_path,
                         log_level=log_level)
        self.tls_port = tls_port

    def command(self):
        cmd = [self.binary, "-c", self.config_path]
        if self.log_level:
            cmd += ["-l", self.log_level]
        return cmd + self.extra_args


def config_text(certs, port, tls_port, body, verify_client, shards,
                crl="ca.crl", crl_check=None):
    """crl: the CRL file of certs that mutual TLS checks; crl_check:
    tls.crl_check (None: the default)."""
    def q(path):
        return json.dumps(os.path.abspath(path))  # a YAML quoted scalar
    # shards: only when not 1, so that the 1-shard file is as it was.
    head = "shards: %d\n" % shards if shards != 1 else ""
    # Mutual TLS checks revocation too: ca.crl revokes revoked.pem.
    crl = ("  crl_file: %s\n" % q(os.path.join(certs, crl))
           if verify_client else "")
    if crl_check:
        crl += "  crl_check: %s\n" % crl_check
    return head + ('listen: [ "udp:%s:%d", "tls:%s:%d" ]\n'
                   "tls:\n"
                   "  certificate: %s\n"
                   "  private_key: %s\n"
                   "  ca_file: %s\n"
                   "  verify_server: true\n"
                   "  verify_client: %s\n"
                   % (HOST, port, HOST, tls_port,
                      q(os.path.join(certs, "server.pem")),
                      q(os.path.join(certs, "server.key")),
                      q(os.path.join(certs, "ca.pem")),
                      "true" if verify_client else "false")) + crl + body


class Run:
    """One case's state: cay, the SIPp runs, problems and notes."""

    def __init__(self, args, workdir):
        self.args = args
        self.workdir = workdir
        self.cay = None
        self.problems = []
        self.notes = []
        self.sipps = []  # (Sipp, judged bad) for the failure report
        self.closers = []  # cleanup on every path, last first
        self.crl = ("ca.crl", None)  # start_cay()'s crl, crl_check

    def check(self, cond, text):
        if not cond:
            self.problems.append(text)
        return cond

    def config_text(self, port, tls_port, body, verify_client):
        """cay's config file (run_ws_test.py adds its listeners)."""
        return config_text(self.args.certs, port, tls_port, body,
                           verify_client, self.args.shards, *self.crl)

    def start_cay(self, body="", verify_client=False, crl="ca.crl",
                  crl_check=None):
        """Start cay on free ports (again on new ones, at most 3 times in
        all, when another process took one first); wait for its 200 to
        an OPTIONS over UDP. With verify_client, crl (a file of certs)
        is its tls.crl_file and crl_check (None: absent) its
        tls.crl_check."""
        self.crl = (crl, crl_check)
        why = "did not start"
        for _ in range(3):
            port = cayrun.free_udp_port()
            tls_port = cayrun.free_udp_tcp_port()
            path = cayrun.write_config(
                self.workdir, self.config_text(port, tls_port, body,
                                               verify_client))
            self.cay = TlsCay(self.args.cay, self.workdir, port, tls_port,
                              path, self.args.log_level)
            try:
                self.cay.start()
            except OSError as e:
                raise Failure("cannot start %s: %s" % (self.args.cay, e))
            if self.cay.wait_ready(5.0):
                print("%s: cay: %s (tls port %d)"
                      % (self.args.name, " ".join(self.cay.command()),
                         tls_port), flush=True)
                return self.cay
            if self.cay.alive():
                self.cay.kill()
                why = "gave no 200 to OPTIONS within 5 s"
                break
            why = "exited with code %s before answering OPTIONS" % (
                self.cay.proc.returncode)
            if "address already in use" not in self.cay.stderr_tail(5):
                break
        raise Failure("cay (%s) %s" % (" ".join(self.cay.command()), why))

    def log_size(self):
        return os.path.getsize(self.cay.stderr_path)

    def log_since(self, offset):
        with open(self.cay.stderr_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def sipp_call(self, tag, scenario, user):
        """One SIPp call over UDP to sip:user@cay; (ok, elapsed s)."""
        s = run_sipp_test.Sipp(self.args.sipp, self.workdir, tag)
        t0 = time.monotonic()
        s.start(["%s:%d" % (HOST, self.cay.port), "-sf", scenario,
                 "-s", user, "-i", HOST,
                 "-p", str(cayrun.free_udp_port()),
                 "-m", "1", "-r", "10",
                 "-timeout", "15s", "-timeout_error",
                 "-recv_timeout", "10000"])
        rc = run_sipp_test.wait_uac(s, self.cay, 20)
        elapsed = time.monotonic() - t0
        stats = s.stats()
        bad = run_sipp_test.judge_sipp(s, rc, stats, 1)
        self.sipps.append((s, bool(bad)))
        self.problems += ["%s: %s" % (tag, b) for b in bad]
        self.notes.append("%s %s (%.1f s)"
                          % (tag, run_sipp_test.sipp_text(rc, stats),
                             elapsed))
        return not bad, elapsed

    def stop_cay(self):
        result = self.cay.stop()
        self.problems += result.problems(self.args.expect,
                                         shards=self.args.shards)
        if self.args.shards > 1:
            keys = ("msgs_in", "handed_over", "calls_in", "calls_out",
                    "registers", "byes_sent")
            for s in cayrun.parse_shard_summaries(result.stdout_text):
                self.notes.append("shard %s %s" % (s.get("shard"), " ".join(
                    "%s=%s" % (k, s.get(k)) for k in keys)))
        self.notes.append("cay " + result.summary_text())
