#!/usr/bin/env python3
"""Calls from a real SIP client, baresip, through cay.

  --mode answer   baresip (caller) -> cay's built-in UAS
  --mode bridge   baresip (caller) -> cay (forward route, codecs:
                  [PCMA, telephone-event]) -> baresip (callee, auto answer)
  --mode register alice and bob register with cay's registrar (digest,
                  RFC 3261 sections 10 and 22), and alice calls bob's
                  AOR: cay forwards the call to the contact bob
                  registered (a forward route with location: true;
                  alice's INVITE is challenged, 407, and she answers
                  with her credentials: authenticate: true), and the
                  call goes on as in bridge mode
  --mode transfer baresip alice -> cay -> baresip bob, then alice's
                  blind transfer of bob to carol (RFC 3515): her REFER
                  reaches bob through Cay, bob calls carol (through Cay,
                  a second forward route), and alice learns how it went
                  from bob's NOTIFYs, relayed by Cay
  --tcp           every leg over TCP (RFC 3261 section 18): the caller
                  dials ;transport=tcp, the route's target is one too
  --outbound      register mode: bob registers an outbound flow (RFC
                  5626: reg-id, +sip.instance; baresip's sipnat=outbound);
                  cay's 200 says Require: outbound and Flow-Timer: 2, and
                  bob keeps his flow alive with STUN Binding requests
                  (over UDP) that cay answers (its keepalives counter),
                  for longer than cay lets a flow be silent (Flow-Timer
                  + 8 s); then bob is killed, and cay removes his
                  binding once his flow has been silent for that long
                  (RFC 5626 section 4.4.1), not before
  --tls           register mode over TLS (RFC 3261 section 26.2): cay
                  listens on a tls: address too, with the certificates
                  of tests/data/tls; both clients trust its CA, register
                  and dial ;transport=tls to that port, and alice's
                  call reaches bob on the connection he registered over
  --idle-close    register mode over TCP with limits.tcp_idle_timeout_s
                  2: cay closes bob's idle registration connection
                  before alice calls, and the call goes to the contact
                  bob registered, on a new connection to his listening
                  port (a binding from the contact's own host, RFC 5923
                  section 1; RFC 5626 section 7 for the closed flow)
  --mode message  alice and bob register with cay's registrar, and alice
                  sends bob an instant message (RFC 3428, the pager
                  model: MESSAGE outside a dialog) to his AOR on cay,
                  with her contact module's /message command (bob's AOR
                  her only contact, so the current one). Her first
                  MESSAGE is challenged (407, authenticate: true), her
                  second carries her credentials; Cay relays it as a
                  MESSAGE of its own (its Call-ID, From tag and Via,
                  from its port) to the contact bob registered (a
                  forward route for MESSAGE with location: true), and
                  bob's 200 goes back to alice. No call is made.
  --offline       message mode: alice sends her message before bob has
                  registered; cay keeps it (registrar.offline_messages)
                  and answers her 202, and sends it to bob, with a Date
                  header of when it came, once he registers

The caller dials, puts the call on hold and takes it off hold (re-INVITEs
with a=sendonly, then a=sendrecv: RFC 3264 section 8.4), hangs up (BYE)
and quits. Commands reach it one at a time through its console module (a
UDP port), each once the step before it is done; baresip prints every SIP
message it sends and receives (-s), and that trace is what is judged:

- the caller gets 200 for its INVITE, both re-INVITEs and its BYE;
- the answer to the hold offer is recvonly (RFC 3264 section 6.1);
- bridge: the callee gets the INVITE with PCMA and telephone-event only
  (baresip offers PCMU first, so without Cay's filter it would pick
  PCMU), the hold re-INVITE (sendonly), the resume re-INVITE, and Cay's
  BYE; RTP flows both ways between the two clients (each logs its
  incoming RTP), which it only does if each side's SDP reached the other;
- cay's summary (--expect), with nothing live at the end.

In message mode alice's text holds a unique token, and it is judged so:
alice's first MESSAGE got 407 and her last 200; bob's menu module
printed the text as an incoming message from sip:alice@... (it prints
that only to its UIs: the harness reads bob's console, the cons
module's UDP port, from the socket it sends his commands from); bob's
trace shows exactly one MESSAGE, from cay's address and port, with
cay's Via on top and not alice's, a Call-ID and a From tag other than
her MESSAGE's, her From URI and her text as its body; cay's summary
counts it (messages_in>=1 and messages_relayed>=1, whatever --expect
says).

The driver is four files: this one parses the arguments and runs a
test (run()); client_common.py holds the baresip Client and what
every mode shares (free ports, waiting, steps, reading SIP text);
client_calls.py drives and judges the calls (answer, bridge,
register, transfer) and holds their cay configs; client_message.py
does the same for --mode message.

Standard library only. Ports are free loopback ports; baresip binds its
SIP port on UDP and TCP, and the port after it for TLS.
"""

import argparse
import sys
import tempfile

import cayrun
from client_calls import (bridge_config, drive_caller, drive_transfer,
                          judge_callee, judge_caller, judge_flow,
                          judge_outbound, judge_registered,
                          judge_silent_flow, judge_transfer,
                          register_config, start_registered, tls_config,
                          transfer_config)
from client_common import Client, free_tcp_port, wait_for
from client_message import (drive_message, judge_message, message_config,
                            send_offline, start_messaging)


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--cay", required=True)
    p.add_argument("--baresip", required=True)
    p.add_argument("--name", required=True)
    p.add_argument("--mode",
                   choices=("answer", "bridge", "register", "transfer",
                            "message"),
                   required=True)
    p.add_argument("--tcp", action="store_true",
                   help="both legs over TCP instead of UDP")
    p.add_argument("--tls", action="store_true",
                   help="register and call over TLS (RFC 3261 section "
                        "26.2) with the certificates of tests/data/tls")
    p.add_argument("--outbound", action="store_true",
                   help="bob registers an outbound flow (RFC 5626)")
    p.add_argument("--idle-close", action="store_true",
                   help="register over TCP; cay closes bob's idle "
                        "connection before alice calls")
    p.add_argument("--offline", action="store_true",
                   help="message mode: bob registers after alice's "
                        "message, which cay keeps for him")
    p.add_argument("--shards", type=int, default=None,
                   help="cay's shards (-s N)")
    p.add_argument("--expect", action="append", default=[],
                   help="KEY=N on cay's summary (repeat)")
    p.add_argument("--keep", action="store_true",
                   help="keep the work directory when the test passes")
    args = p.parse_args(argv)
    if args.idle_close and (args.mode != "register" or not args.tcp):
        p.error("--idle-close is for --mode register --tcp")
    if args.offline and args.mode != "message":
        p.error("--offline is for --mode message")
    if args.outbound and args.mode != "register":
        p.error("--outbound is for --mode register")
    if args.tls and (args.mode != "register" or args.tcp or args.outbound):
        p.error("--tls is for --mode register, without --tcp or --outbound")
    cayrun.check_expects(p, args.expect)
    return args


def run(args):
    test = "integration.%s" % args.name
    workdir = tempfile.mkdtemp(prefix="cay-client-%s-" % args.name)
    problems, cay = [], None
    a = Client(args.baresip, workdir, "caller", "alice", False, args.tls)
    b = (Client(args.baresip, workdir, "callee", "bob", True, args.tls)
         if args.mode != "answer" else None)
    c = (Client(args.baresip, workdir, "carol", "carol", True)
         if args.mode == "transfer" else None)
    try:
        if c is not None:
            print("%s: carol: %s" % (test, c.start()), flush=True)
        if b is not None and args.mode not in ("register", "message"):
            print("%s: callee: %s" % (test, b.start()), flush=True)
            err = wait_for("the callee to start",
                           lambda: "baresip is ready" in b.text())
            if err:
                raise SystemExit(err)
        config = (transfer_config(b, c) if c else
                  register_config() if args.mode == "register" else
                  message_config(args.offline) if args.mode == "message"
                  else
                  bridge_config(b, args.tcp) if b else None)
        if args.idle_close:
            config += "limits: { tcp_idle_timeout_s: 2 }\n"
        if args.outbound:
            config = config.replace("registrar:\n",
                                    "registrar:\n  flow_timer_s: 2\n")

        flow_log = args.mode == "register" and (args.tcp or args.tls)
        tls_port, extra = None, []
        if args.tls:
            tls_port = free_tcp_port()
            text, extra = tls_config(tls_port)
            config += text
        if args.shards:
            extra = list(extra) + ["-s", str(args.shards)]
        cay, err = cayrun.start_cay(args.cay, workdir, config, tcp=args.tcp,
                                    log_level="debug" if flow_log else None,
                                    extra_args=extra)
        if err:
            raise SystemExit(err)
        print("%s: cay: %s" % (test, " ".join(cay.command())), flush=True)
        if args.mode == "register":
            start_registered(test, a, b, cay,
                             "tls" if args.tls else args.tcp,
                             args.idle_close, args.outbound, tls_port)
        elif args.mode != "message":
            dial = "/dial sip:bob@%s:%d%s" % (
                cayrun.HOST, cay.port, ";transport=tcp" if args.tcp else "")
            print("%s: caller: %s" % (test, a.start([dial])), flush=True)
        if args.mode == "message":
            text = "hello bob %s" % cayrun.new_token(12)
            if args.offline:
                err = send_offline(test, a, b, cay, text)
            else:
                start_messaging(test, a, b, cay)
                err = drive_message(a, b, text)
            if err:
                problems.append(err)
            problems += judge_message(a, b, cay, text, args.offline)
        elif c is not None:
            err = drive_transfer(a, b, c, "sip:carol@%s:%d"
                                 % (cayrun.HOST, cay.port))
            if err:
                problems.append(err)
            problems += judge_transfer(a, b, c)
        else:
            first = 2 if args.mode == "register" else 1
            err = drive_caller(a, b, first)
            if err:
                problems.append(err)
            problems += judge_caller(a, first)
            if b is not None:
                problems += judge_callee(a, b)
            if args.mode == "register":
                problems += judge_registered(a)
            if args.outbound:
                problems += judge_outbound(b)
                problems += judge_silent_flow(cay, b)
            if flow_log:
                problems += judge_flow(cay, b, args.idle_close)
        want = "TLS" if args.tls else "TCP" if args.tcp else "UDP"
        for x in (a, b, c):
            if x is not None and x.transports() != {want}:
                problems.append("%s: SIP went over %s, wanted %s only" % (
                    x.name, "+".join(sorted(x.transports())), want))
        result = cay.stop()
        # Whatever --expect says, a message run must count the MESSAGE.
        counted = (["messages_in>=1", "messages_stored>=1",
                    "messages_delivered>=1"] if args.offline else
                   ["messages_in>=1", "messages_relayed>=1"])
        problems += result.problems(
            args.expect + (counted if args.mode == "message" else []))
        line = result.summary_text()
    except SystemExit as e:
        problems.append(str(e))
        line = ""
    finally:
        for x in (a, b, c):
            if x is not None:
                x.stop()
        if cay is not None and cay.alive():
            cay.kill()
    logs = [("%s log" % x.name, cayrun.tail(x.log_path, 60))
            for x in (a, b, c) if x is not None]
    logs += [("%s console" % x.name, x.console_out[-4000:])
             for x in (a, b, c) if x is not None and x.console_out]
    return cayrun.verdict(test, problems, line, cay, workdir, args.keep, logs)


def main(argv=None):
    return cayrun.main(parse_args, run, argv)


if __name__ == "__main__":
    sys.exit(main())
