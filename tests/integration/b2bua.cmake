# B2BUA integration tests (issue 5), included from CMakeLists.txt after the
# Python/SIPp checks there (CAY_IT_DIR, CAY_IT_SCENARIOS, SIPP_EXECUTABLE):
#
#   caller SIPp --A leg--> cay (route forward) --B leg--> callee SIPp
#
# run_b2bua_test.py starts the callee on a free port, writes a config with
# one forward route to it, starts cay, runs the caller, stops cay (SIGTERM)
# and then the callee (SIGUSR1), and judges both SIPps' counters (and the
# callee's per-message counts) and cay's summary. Run them alone with:
#
#   ctest -R b2bua --output-on-failure

set(CAY_B2B_RUN ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_b2bua_test.py
    --cay $<TARGET_FILE:cay> --sipp ${SIPP_EXECUTABLE})

# cay_b2bua_test(NAME TIMEOUT_S runner-args... -- caller-sipp-args...)
function(cay_b2bua_test name timeout)
  add_test(NAME integration.${name}
           COMMAND ${CAY_B2B_RUN} --name ${name} ${ARGN})
  set_tests_properties(integration.${name} PROPERTIES
    TIMEOUT ${timeout}
    LABELS integration
    RESOURCE_LOCK cay_integration)
endfunction()

# 2,000 bridged calls at 200 calls/s (uac_basic.xml -> cay -> sipp -sn uas):
# every call completes on both legs, the callee gets each BYE once, and
# cay ends with nothing live.
cay_b2bua_test(b2bua_calls_2000_udp 120
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --sipp-timeout 60
  --expect calls_in=2000 --expect byes_sent=2000
  --expect calls_answered=2000 --expect calls_out=2000
  --expect calls_out_answered=2000
  --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=2000
  -- -m 2000 -r 200)
set_tests_properties(integration.b2bua_calls_2000_udp PROPERTIES
  RUN_SERIAL TRUE)

# The same over TCP on both legs: the caller on one connection (-t t1), cay
# listening on TCP, the route target ;transport=tcp, the callee -t t1.
cay_b2bua_test(b2bua_calls_2000_tcp 120
  --tcp
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --sipp-timeout 60
  --expect calls_in=2000 --expect byes_sent=2000
  --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=2000
  -- -m 2000 -r 200)
set_tests_properties(integration.b2bua_calls_2000_tcp PROPERTIES
  RUN_SERIAL TRUE)

# A route's pass_headers, both ways: the callee checks that each INVITE
# from Cay carries the caller's P-Asserted-Identity, Privacy and Subject
# and not its User-Agent, and that the BYE carries the caller's Reason
# (b2b_uas_pass.xml); the caller that Cay's 200 carries the callee's
# P-Asserted-Identity and not its Server header (b2b_uac_pass.xml).
cay_b2bua_test(b2bua_pass_headers 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_pass.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_pass.xml
  --route-opt "pass_headers=[ P-Asserted-Identity, Privacy, Subject, Reason ]"
  --sipp-timeout 30
  --expect calls_in=20 --expect calls_out_answered=20
  --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=20
  -- -m 20 -r 20)

# The callee is busy: its 486 reaches the caller unchanged, each leg ACKs
# its own 486 (RFC 3261 section 17.1.1.3). Each call's record (cdr.file)
# says so: 486 on both legs, no answer, ended by the callee, for the
# 486's Reason (RFC 6432: Q.850 cause 17, user busy).
cay_b2bua_test(b2bua_busy_486 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_busy.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_busy.xml
  --sipp-timeout 30
  --expect calls_in=20 --expect byes_sent=0
  --expect calls_rejected=20 --expect calls_out_failed=20
  --expect dialogs_live=0 --expect txns_live=0
  --cdr-expect status=486 --cdr-expect b_status=486
  --cdr-expect ended_by=callee --cdr-expect answer=null
  --cdr-expect q850=17
  -- -m 20 -r 20)

# The same with a route that passes Reason (RFC 3326): the callee's Q.850
# cause reaches the caller in the 486 (without the route, above, it must
# not).
cay_b2bua_test(b2bua_busy_486_reason 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_busy.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_busy.xml
  --route-opt "pass_headers=[ Reason ]"
  --subst REASON_CHECK=check_it
  --sipp-timeout 30
  --expect calls_in=20 --expect calls_out_failed=20
  --expect dialogs_live=0 --expect txns_live=0
  -- -m 20 -r 20)

# The callee cannot be reached (TCP connect refused): the caller gets 500
# at once (RFC 3261 section 17.1.4), not after Timer B; nothing is left.
cay_b2bua_test(b2bua_unreachable_tcp 60
  --tcp
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_unreachable.xml
  --route-yaml "routes: [ { action: forward, target: \"sip:\${ruri_user}@127.0.0.1:9;transport=tcp\" } ]"
  --subst FINAL_STATUS=500
  --callee-calls -1
  --sipp-timeout 20 --recv-timeout-ms 5000
  --expect dialogs_live=0 --expect txns_live=0
  -- -m 5 -r 5)

# The callee never responds, not even 100 Trying (UDP to a port nobody
# answers on), and the route has no_response_timeout_ms: 1000. The B leg
# is given up after 1 s as on timer B, and the caller gets 408 within its
# 5 s receive timeout, not after timer B's 32 s.
cay_b2bua_test(b2bua_no_response_timeout_408 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_unreachable.xml
  --route-yaml "routes: [ { action: forward, target: \"sip:\${ruri_user}@127.0.0.1:@DEAD_PORT@\", no_response_timeout_ms: 1000 } ]"
  --subst FINAL_STATUS=408
  --callee-calls -1
  --sipp-timeout 20 --recv-timeout-ms 5000
  --expect calls_in=5 --expect calls_out_failed=5 --expect dialogs_live=0
  --expect txns_live=0
  --expect-log-count "==5" "INVITE to sip:[^ ]+ \\(127\\.0\\.0\\.1:[0-9]+\\) had no response in 1000 ms"
  -- -m 5 -r 5)

# A route's failover: the target never responds (a port nobody answers
# on; no_response_timeout_ms: 500 makes that a 408), and the next target,
# failover[0], is the callee: every call is answered there, and cay logs
# each failover.
cay_b2bua_test(b2bua_failover_after_no_response 60
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --route-yaml "routes: [ { action: forward, target: \"sip:\${ruri_user}@127.0.0.1:@DEAD_PORT@\", failover: [ \"sip:\${ruri_user}@127.0.0.1:@CALLEE_PORT@\" ], no_response_timeout_ms: 500 } ]"
  --sipp-timeout 30
  --expect calls_in=10 --expect calls_out_failed=10
  --expect calls_out_answered=10 --expect byes_sent=10
  --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=10
  --expect-log-count "==10" "the callee failed with 408: trying failover\\[0\\], sip:service@127\\.0\\.0\\.1:[0-9]+"
  -- -m 10 -r 10)

# Overload (DESIGN.md section 7, limits.udp_overload_percent): cay is
# stopped (SIGSTOP) for 1.5 s while 300 calls/s come in, as on a machine
# too busy to run it, so INVITEs and their retransmissions pile up in its
# UDP receive queue. Read back in full batches from a queue over 1% of
# the buffer, new INVITEs get 503 with Retry-After in a transaction of
# their own (the queued copies get that 503 again, never a call); once
# the queue has drained, calls are bridged again. Every call ends one
# way or the other, and nothing is left. The callee takes the B-leg
# INVITE retransmissions that a paused Cay sends before it reads the
# queued 200s.
cay_b2bua_test(b2bua_overload_503 90
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_overload.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_invite_retrans.xml
  --config-extra "limits: { udp_overload_percent: 1 }"
  --pause-cay 500:1500
  --callee-calls -1
  --sipp-timeout 40 --recv-timeout-ms 20000
  --expect calls_in=600 --expect overload_rejected>=50
  --expect calls_out>=100 --expect dialogs_live=0 --expect txns_live=0
  --caller-count 503_Recv>=50
  --expect-log "udp 127\\.0\\.0\\.1:[0-9]+: receive queue [0-9]+% full .*new INVITEs get 503"
  -- -m 600 -r 300)

# The same over TCP (limits.tcp_overload_kib): nothing is lost on a
# stream, but the INVITEs of the pause wait in cay's receive queue on the
# caller's connection. Read back in full 64 KiB reads that leave 16 KiB
# or more unread, new INVITEs get 503 (DESIGN.md section 7); once a read
# drains the connection, calls are bridged again.
cay_b2bua_test(b2bua_overload_503_tcp 90
  --tcp
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_overload.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_invite_retrans.xml
  --config-extra "limits: { tcp_overload_kib: 16 }"
  --pause-cay 500:1500
  --callee-calls -1
  --sipp-timeout 40 --recv-timeout-ms 20000
  --expect calls_in=600 --expect overload_rejected>=50
  --expect calls_out>=100 --expect dialogs_live=0 --expect txns_live=0
  --caller-count 503_Recv>=50
  --expect-log "tcp connection from 127\\.0\\.0\\.1:[0-9]+: [0-9]+ KiB unread after a full read .*new INVITEs on it get 503"
  -- -m 600 -r 300)

# The same at 2 shards: shard 0 or 1 reads the caller's one connection
# and hands every call of the other shard over to it, with the backlogged
# state of the read, so both shards refuse INVITEs.
cay_b2bua_test(b2bua_overload_503_tcp_2_shards 90
  --tcp --shards 2
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_overload.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_invite_retrans.xml
  --config-extra "limits: { tcp_overload_kib: 16 }"
  --pause-cay 500:1500
  --callee-calls -1
  --sipp-timeout 40 --recv-timeout-ms 20000
  --expect calls_in=600 --expect overload_rejected>=50
  --expect-shard overload_rejected>=20
  --expect calls_out>=100 --expect dialogs_live=0 --expect txns_live=0
  --caller-count 503_Recv>=50
  -- -m 600 -r 300)

# Ring timeout (route ring_timeout_s: 2): the callee rings and never
# answers; Cay CANCELs it once (200 + 487, ACK), with Reason: Q.850
# cause 19 (RFC 3326), and the caller gets 180 then 480 "No Answer"
# between 1.5 and 4.5 s after the 180. The records say ring_timeout,
# 480 and Q.850 cause 19.
cay_b2bua_test(b2bua_ring_timeout 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_ring_timeout.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_ring.xml
  --route-opt ring_timeout_s=2
  --subst REASON_CHECK=check_it
  --sipp-timeout 30
  --expect calls_in=20 --expect byes_sent=0
  --expect dialogs_live=0 --expect txns_live=0
  --cdr-expect status=480 --cdr-expect ended_by=ring_timeout
  --cdr-expect b_status=487 --cdr-expect q850=19
  --callee-count CANCEL_Recv=20 --callee-count CANCEL_Retrans=0
  -- -m 20 -r 10)

# The caller CANCELs after the 180 (uac_cancel.xml): the callee gets the
# CANCEL (200, 487, ACK), the caller 200 and 487; the records 487, ended
# by the caller, for the CANCEL's Reason (RFC 3326: Q.850 cause 31).
cay_b2bua_test(b2bua_cancel_from_a 60
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_cancel.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_ring.xml
  --sipp-timeout 30
  --expect calls_in=20 --expect byes_sent=0
  --expect dialogs_live=0 --expect txns_live=0
  --cdr-expect status=487 --cdr-expect b_status=487
  --cdr-expect ended_by=caller --cdr-expect q850=31
  --callee-count CANCEL_Recv=20 --callee-count CANCEL_Retrans=0
  -- -m 20 -r 20)

# The callee hangs up 300 ms after the ACK: the caller gets the BYE in its
# dialog and answers 200; the callee's BYE gets 200.
cay_b2bua_test(b2bua_bye_from_b 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_bye_from_b.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_bye.xml
  --callee-arg=-d --callee-arg=300
  --sipp-timeout 30
  --expect calls_in=20 --expect byes_sent=20
  --expect dialogs_live=0 --expect txns_live=0
  -- -m 20 -r 20)

# A delayed offer (RFC 3261 section 13.2.1): the caller's INVITE has no
# SDP, so neither has the callee's; the callee's offer in its 200 reaches
# the caller in Cay's 200 with the route's codecs only (PCMU and PCMA of
# PCMU, PCMA and G729), and the caller's answer in its ACK reaches the
# callee in Cay's ACK, which waits for it (b2b_uac_delayed.xml).
cay_b2bua_test(b2bua_delayed_offer 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_delayed.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_delayed.xml
  --route-opt "codecs=[PCMU, PCMA]"
  --sipp-timeout 30
  --expect calls_in=20 --expect byes_sent=20
  --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=20
  -- -m 20 -r 20)

# The callee's offer in its 200 has none of the route's codecs: the caller
# gets 488 "No Common Codec", the callee an ACK without an answer and then
# a BYE (13.2.2.4: a 2xx cannot be refused). The records: 488 to the
# caller, 200 from the callee, ended by Cay (error).
cay_b2bua_test(b2bua_delayed_offer_no_codec 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_delayed_488.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_delayed_refused.xml
  --route-opt "codecs=[G722]"
  --sipp-timeout 30
  --expect calls_in=20 --expect calls_rejected=20
  --expect calls_out_answered=20 --expect byes_sent=20
  --expect dialogs_live=0 --expect txns_live=0
  --cdr-expect status=488 --cdr-expect b_status=200
  --cdr-expect ended_by=error
  --callee-count BYE_Recv=20
  -- -m 20 -r 20)

# The same with an answer of about 1,700 bytes in the caller's ACK, and Cay
# listening on TCP: Cay's ACK to the callee is over 1300 bytes and goes
# over TCP (RFC 3261 18.1.1 holds for the ACK of a 2xx too). The callee
# is on UDP only and refuses the connection; its next copy of the 200
# gets the ACK again over UDP (b2b_uac_delayed_large.xml).
cay_b2bua_test(b2bua_delayed_offer_large_ack 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_delayed_large.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_delayed.xml
  --cay-tcp
  --route-opt "codecs=[PCMU, PCMA]"
  --sipp-timeout 30
  --expect calls_in=20 --expect byes_sent=20
  --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=20
  --expect-log "took no connection for a request of [0-9]+ bytes \\(refused or timed out\\): sent over UDP instead"
  -- -m 20 -r 20)

# re-INVITE from the caller (offer to the callee, answer back), then from
# the callee (offer to the caller, answer back), then INFO
# application/dtmf-relay from the caller to the callee, then BYE. The SDP
# ports mark whose offer or answer arrived where (b2b_uac_reinvite.xml);
# each re-INVITE offers PCMU and G729 and the route keeps PCMU only.
cay_b2bua_test(b2bua_reinvite_both_ways 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_reinvite.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_reinvite.xml
  --route-opt "codecs=[PCMU, PCMA]"
  --sipp-timeout 30
  --expect calls_in=20 --expect byes_sent=20
  --expect dialogs_live=0 --expect txns_live=0
  -- -m 20 -r 10)

# The same with a route that passes P-Asserted-Identity (RFC 3325): the
# caller's re-INVITE gives the callee's copy its identity, and the
# callee's 200 gives the caller's its own (above, without the route, they
# must not).
cay_b2bua_test(b2bua_reinvite_pass_headers 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_reinvite.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_reinvite.xml
  --route-opt "codecs=[PCMU, PCMA]"
  --route-opt "pass_headers=[ P-Asserted-Identity ]"
  --subst PAI_CHECK=check_it
  --sipp-timeout 30
  --expect calls_in=20 --expect byes_sent=20
  --expect dialogs_live=0 --expect txns_live=0
  -- -m 20 -r 10)

# INFO and MESSAGE in early dialogs (RFC 6086 section 4.2.1, RFC 3428
# section 4): the caller sends DTMF and then a text while the callee
# rings; Cay relays each in the B leg's early dialog (the callee checks
# their Request-URI, To tag and body), and the callee's 200s reach the
# caller before the call is answered.
cay_b2bua_test(b2bua_info_early_dialog 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_early_info.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_early_info.xml
  --sipp-timeout 30
  --expect calls_in=20 --expect calls_out_answered=20
  --expect dialogs_live=0 --expect txns_live=0
  --expect requests_info>=20 --expect requests_message>=20
  --expect requests_refer=0 --expect requests_prack=0
  --callee-count INFO_Recv=20 --callee-count MESSAGE_Recv=20
  --caller-count 200_Recv=80
  -- -m 20 -r 10)

# MESSAGE in a bridged call (RFC 3428 section 4: sent in the dialog an
# INVITE made), both ways: the caller's reaches the callee in the B leg's
# dialog and the callee's the caller in the A leg's, each with its
# text/plain body and Content-Type intact and no Contact, and each
# sender gets the other side's final response in its own transaction
# (b2b_uac_message.xml, b2b_uas_message.xml check both ends).
cay_b2bua_test(b2bua_message_in_dialog 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_message.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_message.xml
  --subst "MSG_STATUS=200 OK" --subst MSG_EXPECT=200
  --sipp-timeout 30
  --expect calls_in=20 --expect calls_out_answered=20
  --expect byes_sent=20 --expect dialogs_live=0 --expect txns_live=0
  --callee-count MESSAGE_Recv=20 --callee-count MESSAGE_Retrans=0
  --callee-count 200_Recv=20
  --caller-count MESSAGE_Recv=20
  -- -m 20 -r 10)

# The callee refuses the caller's MESSAGE: its 488 reaches the caller as
# it is, and its 503 (its own overload, not Cay's) as 500, as a re-INVITE's
# would (RFC 3261 section 16.7 item 6). Either fails that transaction
# only: the callee's MESSAGE and the BYE still go through (RFC 5057).
cay_b2bua_test(b2bua_message_in_dialog_refused 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_message.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_message.xml
  --subst "MSG_STATUS=488 Not Acceptable Here" --subst MSG_EXPECT=488
  --sipp-timeout 30
  --expect calls_in=20 --expect calls_out_answered=20
  --expect byes_sent=20 --expect dialogs_live=0 --expect txns_live=0
  --callee-count MESSAGE_Recv=20 --callee-count 200_Recv=20
  --caller-count 488_Recv=20 --caller-count MESSAGE_Recv=20
  -- -m 20 -r 10)
cay_b2bua_test(b2bua_message_in_dialog_503 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_message.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_message.xml
  --subst "MSG_STATUS=503 Service Unavailable" --subst MSG_EXPECT=500
  --sipp-timeout 30
  --expect calls_in=20 --expect calls_out_answered=20
  --expect byes_sent=20 --expect dialogs_live=0 --expect txns_live=0
  --callee-count MESSAGE_Recv=20 --callee-count 200_Recv=20
  --caller-count 500_Recv=20 --caller-count MESSAGE_Recv=20
  -- -m 20 -r 10)

# UPDATE in early dialogs (RFC 3311 section 5.1): the callee answers the
# caller's offer in a reliable 183 (RFC 3262), each side's UPDATE then
# reaches the other in its early dialog with the answer relayed back
# (both scenarios check the bodies), and the callee's 200 without SDP
# gives the caller a 200 repeating the SDP it last got.
cay_b2bua_test(b2bua_update_early_dialog 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_early_update.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_early_update.xml
  --sipp-timeout 30
  --expect calls_in=20 --expect calls_out_answered=20
  --expect dialogs_live=0 --expect txns_live=0
  --callee-count UPDATE_Recv=20
  -- -m 20 -r 10)

# THE RACE (issue 5, OpenSIPS issue 3835): 4 shards, route max_duration_s:
# 2, 2,000 calls at 200 calls/s; the caller sends its BYE 100 ms before
# the max duration (b2b_uac_race.xml with --lead-ms 100) and takes a BYE
# from Cay instead or as well. Every call ends cleanly on both legs, the
# callee gets exactly one BYE per call, Cay sends the caller at most one
# and none after answering the caller's (the scenario fails the call
# otherwise), nothing stays live. Label shards: the ThreadSanitizer build
# runs it too. b2bua_race_sweep.py runs the same at other leads. The 4
# shards append each call's record to one cdr.file: 2,000 whole lines,
# each answered, ended by the caller (for its BYE's Reason, Q.850 cause
# 16) or the max duration (Cay's, 102) within it.
cay_b2bua_test(b2bua_shards4_race_asan 150
  --shards 4
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_race.xml
  --route-opt max_duration_s=2 --lead-ms 100
  --sipp-timeout 90
  --expect calls_in=2000 --expect byes_sent>=2000 --expect byes_sent<=4000
  --expect dialogs_live=0 --expect txns_live=0
  --cdr-expect status=200 --cdr-expect ended_by=caller|max_duration
  --cdr-expect duration_ms<=2000 --cdr-expect q850=16|102
  --callee-count BYE_Recv=2000 --callee-count BYE_Unexp=0
  -- -m 2000 -r 200)
set_tests_properties(integration.b2bua_shards4_race_asan PROPERTIES
  RUN_SERIAL TRUE LABELS "integration;shards")

# RFC 3261 section 18.1.1: the caller's INVITE (UDP) carries a large SDP,
# so the B leg's INVITE is over limits.udp_max_request_bytes (1300). Cay
# listens on TCP too and the route target names no transport: the INVITE
# must go over TCP, and the ACK and BYE follow it. The callee listens on
# TCP only, so a call completes only if they do.
cay_b2bua_test(b2bua_large_invite_over_tcp 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_large.xml
  --cay-tcp --callee-tcp
  --sipp-timeout 30
  --expect calls_in=200 --expect calls_out_answered=200
  --expect byes_sent=200 --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=200
  -- -m 200 -r 100)

# The same INVITE to a callee on UDP only: the TCP connection is refused,
# and Cay sends the INVITE over UDP instead (18.1.1), saying so once.
cay_b2bua_test(b2bua_large_invite_tcp_refused_udp 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_large.xml
  --cay-tcp
  --sipp-timeout 30
  --expect calls_in=200 --expect calls_out_answered=200
  --expect byes_sent=200 --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=200
  --expect-log "took no connection for a request of [0-9]+ bytes \\(refused or timed out\\): sent over UDP instead"
  -- -m 200 -r 100)

# The same when the callee's TCP port drops SYNs instead of refusing them
# (a listener whose accept queue is full): the connection is given up after
# limits.tcp_connect_timeout_ms and the INVITE goes over UDP; the next
# large INVITEs go over UDP at once.
cay_b2bua_test(b2bua_large_invite_tcp_timeout_udp 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_large.xml
  --cay-tcp --callee-tcp-blackhole
  --config-extra "limits: { tcp_connect_timeout_ms: 300 }"
  --sipp-timeout 30
  --expect calls_in=50 --expect calls_out_answered=50
  --expect byes_sent=50 --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=50
  --expect-log "connect to 127\\.0\\.0\\.1:[0-9]+ failed: not connected after 300 ms"
  --expect-log "took no connection for a request of [0-9]+ bytes"
  -- -m 50 -r 50)

# DNS (RFC 3263 section 4): the route target names a host, and fake_dns.py
# (on a free UDP port, cay's dns.servers, timeout_ms 500) holds the records.
# The fake server counts the queries it got; --expect-dns-query wants one
# at least, --expect-no-dns-query none, --expect-dns-order the first of
# each in that order. fake_dns.py's answers have TTL 300 (negative ones
# an SOA of TTL 60), so each shard's cache (dns.cache_entries, default
# 1024) asks once per name and type: the summary's dns_lookups and
# dns_cache_hits count what was asked and what was found kept.
#
# No port and no transport in the target: NAPTR first (4.1), NXDOMAIN
# there, so SRV "_sip._udp" (4.1) gives uas.cay.test and the callee's port
# (4.2), its A record the address.
cay_b2bua_test(b2bua_dns_srv_udp 60
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --target "sip:\${ruri_user}@callee.cay.test"
  --dns-record "SRV _sip._udp.callee.cay.test 10 5 @CALLEE_PORT@ uas.cay.test"
  --dns-record "A uas.cay.test 127.0.0.1"
  --sipp-timeout 30
  --expect calls_in=200 --expect calls_out_answered=200
  --expect byes_sent=200 --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=200
  --expect-dns-query "SRV _sip._udp.callee.cay.test"
  --expect-dns-query "A uas.cay.test"
  --expect-dns-order "NAPTR callee.cay.test, SRV _sip._udp.callee.cay.test, A uas.cay.test"
  --expect dns_lookups<=6 --expect dns_cache_hits>=594
  -- -m 200 -r 100)

# The same at 4 shards (a resolver per shard). Label shards: the
# ThreadSanitizer build runs it too.
cay_b2bua_test(shards4_b2bua_dns_srv_udp 60
  --shards 4
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --target "sip:\${ruri_user}@callee.cay.test"
  --dns-record "SRV _sip._udp.callee.cay.test 10 5 @CALLEE_PORT@ uas.cay.test"
  --dns-record "A uas.cay.test 127.0.0.1"
  --sipp-timeout 30
  --expect calls_in=400 --expect calls_out_answered=400
  --expect byes_sent=400 --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=400
  --expect-dns-query "SRV _sip._udp.callee.cay.test"
  --expect-dns-query "A uas.cay.test"
  --expect dns_lookups<=24 --expect dns_cache_hits>=1176
  -- -m 400 -r 100)
set_tests_properties(integration.shards4_b2bua_dns_srv_udp PROPERTIES
  LABELS "integration;shards")

# Only "_sip._tcp" has SRV records ("_sip._udp" is NXDOMAIN), asked after
# "_sip._udp": the B legs go over TCP to a callee that listens on TCP
# only, so a call completes only if they do.
cay_b2bua_test(b2bua_dns_srv_tcp 60
  --cay-tcp --callee-tcp
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --target "sip:\${ruri_user}@callee.cay.test"
  --dns-record "SRV _sip._tcp.callee.cay.test 10 5 @CALLEE_PORT@ uas.cay.test"
  --dns-record "A uas.cay.test 127.0.0.1"
  --sipp-timeout 30
  --expect calls_in=100 --expect calls_out_answered=100
  --expect byes_sent=100 --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=100
  --expect-dns-query "SRV _sip._udp.callee.cay.test"
  --expect-dns-query "SRV _sip._tcp.callee.cay.test"
  --expect-dns-query "A uas.cay.test"
  --expect-dns-order "SRV _sip._udp.callee.cay.test, SRV _sip._tcp.callee.cay.test"
  --expect-dns-order "SRV _sip._tcp.callee.cay.test, A uas.cay.test"
  -- -m 100 -r 100)

# A port in the target: no SRV query (4.2), the A record of the host.
cay_b2bua_test(b2bua_dns_a_with_port 60
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --target "sip:\${ruri_user}@uas.cay.test:@CALLEE_PORT@"
  --dns-record "A uas.cay.test 127.0.0.1"
  --sipp-timeout 30
  --expect calls_in=100 --expect calls_out_answered=100
  --expect byes_sent=100 --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=100
  --expect-dns-query "A uas.cay.test"
  --expect-no-dns-query "SRV"
  --expect-no-dns-query "NAPTR"
  -- -m 100 -r 100)

# A name the server does not know (NXDOMAIN for NAPTR, SRV and A): the B leg
# fails as a transport failure would, the caller gets "500 Server
# Internal Error - Callee Unavailable" (b2b_uac_dns_fail.xml checks the
# phrase), the callee gets nothing, and nothing stays live.
cay_b2bua_test(b2bua_dns_nxdomain 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_dns_fail.xml
  --target "sip:\${ruri_user}@nosuch.cay.test"
  --callee-calls 0
  --sipp-timeout 20 --recv-timeout-ms 5000
  --expect calls_in=20 --expect calls_rejected=20 --expect byes_sent=0
  --expect dialogs_live=0 --expect txns_live=0
  --expect-log "DNS found no target for .*nosuch\\.cay\\.test"
  --expect-dns-query "NAPTR nosuch.cay.test"
  --expect-dns-query "SRV _sip._udp.nosuch.cay.test"
  --expect-dns-query "SRV _sip._tcp.nosuch.cay.test"
  --expect-dns-query "A nosuch.cay.test"
  -- -m 20 -r 20)

# SRV records whose target has no address (NODATA for A and AAAA): no
# place to send to, the same 500.
cay_b2bua_test(b2bua_dns_srv_no_address 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_dns_fail.xml
  --target "sip:\${ruri_user}@callee.cay.test"
  --dns-record "SRV _sip._udp.callee.cay.test 10 5 @CALLEE_PORT@ noaddr.cay.test"
  --dns-record "NODATA noaddr.cay.test"
  --callee-calls 0
  --sipp-timeout 20 --recv-timeout-ms 5000
  --expect calls_in=20 --expect calls_rejected=20 --expect byes_sent=0
  --expect dialogs_live=0 --expect txns_live=0
  --expect-log "DNS found no target for .*callee\\.cay\\.test"
  --expect-dns-query "SRV _sip._udp.callee.cay.test"
  --expect-dns-query "A noaddr.cay.test"
  -- -m 20 -r 20)

# The server never answers for the name (timeout_ms 500, per try): the
# caller gets the same 500, later, and nothing stays live.
cay_b2bua_test(b2bua_dns_timeout 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_dns_fail.xml
  --target "sip:\${ruri_user}@slow.cay.test:@CALLEE_PORT@"
  --dns-record "DROP slow.cay.test"
  --callee-calls 0
  --sipp-timeout 30 --recv-timeout-ms 15000
  --expect calls_in=10 --expect calls_rejected=10 --expect byes_sent=0
  --expect dialogs_live=0 --expect txns_live=0
  --expect-log "DNS found no target for .*slow\\.cay\\.test"
  --expect-dns-query "A slow.cay.test"
  --expect-no-dns-query "NAPTR"
  -- -m 10 -r 10)

# RFC 3263 section 4.3: the first SRV target (priority 10) refuses TCP
# connections, so the first B leg's INVITE fails there (503 inside Cay)
# and a new INVITE goes to the next target (priority 20), the callee:
# every call completes, and the log says so. The shard then remembers the
# refusing target (dns.failed_target_s, default 60 s) and gives it last,
# so most of the 50 calls go to the callee at once (without that memory,
# all 50 would fail over).
cay_b2bua_test(b2bua_dns_srv_failover_tcp 60
  --cay-tcp --callee-tcp
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --target "sip:\${ruri_user}@callee.cay.test\;transport=tcp"
  --dns-record "SRV _sip._tcp.callee.cay.test 10 5 @DEAD_PORT@ dead.cay.test"
  --dns-record "SRV _sip._tcp.callee.cay.test 20 5 @CALLEE_PORT@ uas.cay.test"
  --dns-record "A dead.cay.test 127.0.0.1"
  --dns-record "A uas.cay.test 127.0.0.1"
  --sipp-timeout 30
  --expect calls_in=50 --expect calls_out_answered=50
  --expect calls_out_failed=0
  --expect byes_sent=50 --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=50
  --expect-log "ended with 503: trying the next target DNS found, 127\\.0\\.0\\.1:[0-9]+ over TCP"
  --expect-log "127\\.0\\.0\\.1:[0-9]+ did not answer \\(503\\)"
  --expect-log-count "<=10" "trying the next target DNS found"
  --expect-dns-query "SRV _sip._tcp.callee.cay.test"
  --expect-no-dns-query "SRV _sip._udp.callee.cay.test"
  --expect-no-dns-query "NAPTR"
  -- -m 50 -r 50)

# SRV for callee.cay.test over UDP: first a target nobody answers on
# (DEAD_PORT), then the callee.
set(SILENT_FIRST_UDP_SRV
  --dns-record "SRV _sip._udp.callee.cay.test 10 5 @DEAD_PORT@ dead.cay.test"
  --dns-record "SRV _sip._udp.callee.cay.test 20 5 @CALLEE_PORT@ uas.cay.test"
  --dns-record "A dead.cay.test 127.0.0.1"
  --dns-record "A uas.cay.test 127.0.0.1")

# The same over UDP, where a target that does not answer costs a call
# timer B (64*T1: 3.2 s with t1_ms 50) before the next target: the calls
# placed before the first timer B fired (about 7 of 16 at 2 calls/s) fail
# over after it; the shard then tries the silent target last, so the
# calls after it go to the callee at once. Without that memory all 16
# would fail over.
cay_b2bua_test(b2bua_dns_srv_failover_udp 60
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --target "sip:\${ruri_user}@callee.cay.test"
  ${SILENT_FIRST_UDP_SRV}
  --config-extra "timers: { t1_ms: 50 }"
  --sipp-timeout 40
  --expect calls_in=16 --expect calls_out_answered=16
  --expect calls_out_failed=0
  --expect byes_sent=16 --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=16
  --expect-log "127\\.0\\.0\\.1:[0-9]+ did not answer \\(408\\)"
  --expect-log-count ">=1" "ended with 408: trying the next target DNS found, 127\\.0\\.0\\.1:[0-9]+ over UDP"
  --expect-log-count "<=12" "trying the next target DNS found"
  -- -m 16 -r 2)

# The same with the route's no_response_timeout_ms: 500 and the default
# T1 (timer B 32 s, past the caller's 10 s receive timeout): the first
# call gives the silent target up after 500 ms and goes to the callee;
# the calls after it go to the callee at once (dns.failed_target_s).
cay_b2bua_test(b2bua_dns_srv_failover_no_response 60
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --target "sip:\${ruri_user}@callee.cay.test"
  --route-opt no_response_timeout_ms=500
  ${SILENT_FIRST_UDP_SRV}
  --sipp-timeout 30 --recv-timeout-ms 10000
  --expect calls_in=6 --expect calls_out_answered=6
  --expect calls_out_failed=0
  --expect byes_sent=6 --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=6
  --expect-log-count "==1" "had no response in 500 ms \\(no_response_timeout_ms\\)"
  --expect-log-count "==1" "ended with 408: trying the next target DNS found, 127\\.0\\.0\\.1:[0-9]+ over UDP"
  -- -m 6 -r 1)

# The same at 4 shards, one call every 1.5 s, timer B 640 ms (t1_ms 10):
# the first call waits for the silent target and fails over; its shard
# tells the other three (MAIL_TARGET, logged at debug), so no later call
# fails over, whichever shard owns it. Without the sharing, the first
# call of each shard would. Label shards: the ThreadSanitizer build runs
# it too.
cay_b2bua_test(shards4_b2bua_dns_failed_target_shared 60
  --shards 4
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --target "sip:\${ruri_user}@callee.cay.test"
  ${SILENT_FIRST_UDP_SRV}
  --config-extra "timers: { t1_ms: 10 }"
  --log-level debug
  --sipp-timeout 40
  --expect calls_in=8 --expect calls_out_answered=8
  --expect calls_out_failed=0
  --expect byes_sent=8 --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=8
  --expect-log-count "==1" "127\\.0\\.0\\.1:[0-9]+ did not answer \\(408\\)"
  --expect-log-count "==3" "shard [0-3] says 127\\.0\\.0\\.1:[0-9]+ did not answer"
  --expect-log-count "==1" "trying the next target DNS found"
  -- -m 8 -r 1 -rp 1500)
set_tests_properties(integration.shards4_b2bua_dns_failed_target_shared
  PROPERTIES LABELS "integration;shards")

# RFC 3263 section 4.1: no port and no transport in the target, and
# callee.cay.test has a NAPTR record "S" "SIP+D2T" to
# "_sip._tcp.callee.cay.test": the SRV there (not "_sip._udp") gives
# uas.cay.test and the callee's port, and the B legs go over TCP to a
# callee that listens on TCP only, so a call completes only if they do.
cay_b2bua_test(b2bua_dns_naptr_tcp 60
  --cay-tcp --callee-tcp
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --target "sip:\${ruri_user}@callee.cay.test"
  --dns-record "NAPTR callee.cay.test 10 50 s SIP+D2T _sip._tcp.callee.cay.test"
  --dns-record "SRV _sip._tcp.callee.cay.test 10 5 @CALLEE_PORT@ uas.cay.test"
  --dns-record "A uas.cay.test 127.0.0.1"
  --sipp-timeout 30
  --expect calls_in=100 --expect calls_out_answered=100
  --expect byes_sent=100 --expect dialogs_live=0 --expect txns_live=0
  --callee-count BYE_Recv=100
  --expect-dns-query "NAPTR callee.cay.test"
  --expect-dns-order "NAPTR callee.cay.test, SRV _sip._tcp.callee.cay.test, A uas.cay.test"
  --expect-no-dns-query "SRV _sip._udp.callee.cay.test"
  -- -m 100 -r 100)

# Reload (SIGHUP, cay_server_reload()) at 4 shards while calls go on: the
# route forwards with max_duration_s 2 until, at 1.5 s, the config file is
# replaced by one whose route rejects with 403 "Forbidden - Reloaded" (and
# whose limits.tcp_max_connections needs a restart: logged, kept). Just
# before, at 1 s, a file that does not load (unknown action) is logged
# with its line and column and changes nothing. Every call placed before
# the reload is bridged and ended by Cay after the old route's 2 s, also
# the calls the callee answers after the reload (it rings for 1 s); every
# call after it gets the 403; none fails, nothing is left live.
cay_b2bua_test(b2bua_reload 60
  --shards 4
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_reload.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_answer_late.xml
  --callee-calls -1
  --route-opt max_duration_s=2
  --reload 1000:${PROJECT_SOURCE_DIR}/tests/data/reload/bad_action.yaml
  --reload 1500:${PROJECT_SOURCE_DIR}/tests/data/reload/reject.yaml
  --sipp-timeout 30
  --expect calls_in=80 --expect calls_out>=20 --expect calls_rejected>=20
  --expect calls_out_answered>=20 --expect dialogs_live=0
  --expect txns_live=0 --expect retransmits=0
  --caller-count 403_Recv>=20 --caller-count BYE_Recv>=20
  --expect-log "reload failed: .*cay-test\\.yaml:5:13: routes\\[0\\]\\.action: expected answer, reject or forward"
  --expect-log "reload: limits\\.tcp_max_connections changed \\(10000 -> 500\\): takes effect at a restart"
  --expect-log "reload: 1 route taken by 4 shards for new calls"
  -- -m 80 -r 20)
set_tests_properties(integration.b2bua_reload PROPERTIES
  LABELS "integration;shards")

# A callee that wants digest credentials, as a SIP trunk does (RFC 3261
# section 22.2): the route's auth: answers its 401 with an INVITE that
# SIPp verifies (verifyauth, qop auth, opaque kept, CSeq 2), and the ACK
# of its 200 carries the same credentials (13.2.2.4). The relayed BYE is
# challenged too and goes again with credentials. Wrong credentials would
# get 403 and fail the caller's calls (INVITE) or the callee's (BYE).
set(CAY_AUTH_ROUTE "routes: [ { action: forward, target: \"@TARGET@\", auth: { username: cay, password: s3cret } } ]")
cay_b2bua_test(b2bua_digest_auth_401 60
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_auth.xml
  --route-yaml "${CAY_AUTH_ROUTE}"
  --sipp-timeout 30
  --expect calls_in=20 --expect calls_out_answered=20
  --expect calls_out_failed=0 --expect byes_sent=20 --expect retransmits=0
  --expect dialogs_live=0 --expect txns_live=0
  --callee-count INVITE_Recv=40 --callee-count ACK_Recv=40
  --callee-count BYE_Recv=40
  -- -m 20 -r 10)

# The same trunk challenging every request Cay sends it, in a call the
# caller changes twice and sends DTMF in (b2b_uac_modify.xml,
# b2b_uas_auth_modify.xml): the INVITE, the relayed re-INVITE, UPDATE and
# INFO, and the BYE each get 401 and go again with credentials SIPp
# verifies over their own method, carrying the caller's offer or DTMF; the
# ACKs of both INVITEs' 200s carry credentials. Five challenges per call:
# the limit of three is per request.
cay_b2bua_test(b2bua_digest_auth_modify 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_modify.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_auth_modify.xml
  --route-yaml "${CAY_AUTH_ROUTE}"
  --sipp-timeout 30
  --expect calls_in=20 --expect calls_out_answered=20
  --expect calls_out_failed=0 --expect byes_sent=20 --expect retransmits=0
  --expect dialogs_live=0 --expect txns_live=0
  --callee-count INVITE_Recv=80 --callee-count UPDATE_Recv=40
  --callee-count INFO_Recv=40 --callee-count BYE_Recv=40
  -- -m 20 -r 10)

# Both parties behind NATs (dialog.flows auto): the caller's Contact is
# sip:sipp@10.0.0.8:5060 and the callee's 200 names sip:10.0.0.9:5060,
# addresses nobody here reaches. Cay's ACK reaches the callee where its
# INVITE went, and the BYE it relays from the callee reaches the caller
# where the caller's INVITE came from; as in b2bua_bye_from_b otherwise.
cay_b2bua_test(b2bua_bye_from_b_nat 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_bye_from_b.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/b2b_uas_bye.xml
  --subst CALLER_CONTACT=sip:sipp@10.0.0.8:5060
  --subst CALLEE_CONTACT=sip:10.0.0.9:5060
  --callee-arg=-d --callee-arg=300
  --sipp-timeout 30
  --expect calls_in=20 --expect byes_sent=20
  --expect dialogs_live=0 --expect txns_live=0 --expect send_errors=0
  -- -m 20 -r 20)
