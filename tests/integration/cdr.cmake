# Call detail records (cdr.file) end to end, included from CMakeLists.txt
# after b2bua.cmake (cay_b2bua_test). run_b2bua_test.py's --cdr-* options
# write the records to the work directory and judge them once cay has
# stopped (cdr_checks.py): one whole line of JSON per call, fields in
# order and agreeing, what --cdr-expect asks of each, and the summary's
# cdrs and cdrs_lost. The busy, ring-timeout, CANCEL and 4-shard race
# tests of b2bua.cmake check their records too.

# Call detail records (cdr.file) of 200 calls of 1 s on 2 shards, the file
# renamed and cay sent SIGHUP (rotation) 2 s in: every call has one
# whole line of JSON in one of the two files, answered, ended by the
# caller after about 1 s (its BYE gives no Reason: reason null, q850 16,
# a BYE's cause in RFC 3398); the summary counts them (cdr_checks.py), and
# each call's session request delay (RFC 6076: INVITE to 180) within 1 s.
cay_b2bua_test(b2bua_cdr_rotate 60
  --shards 2
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --sipp-timeout 40
  --expect calls_in=200 --expect calls_out_answered=200
  --expect dialogs_live=0 --expect txns_live=0
  --expect srd_count=200 --expect srd_le_1s=200
  --cdr-rotate-ms 2000
  --cdr-expect status=200 --cdr-expect b_status=200
  --cdr-expect attempts=1 --cdr-expect ended_by=caller
  --cdr-expect duration_ms>=950 --cdr-expect duration_ms<=1900
  --cdr-expect reason=null --cdr-expect q850=16
  -- -m 200 -r 50 -d 1000)
set_tests_properties(integration.b2bua_cdr_rotate PROPERTIES
  LABELS "integration;shards")

# INVITEs the routes refuse leave records too: a reject route answers 20
# calls 603; each has one record, ended_by rejected, no B leg, no time,
# q850 21 (call rejected: RFC 3398's cause for a 603).
cay_b2bua_test(b2bua_cdr_rejected 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_unreachable.xml
  --route-yaml "routes: [ { action: reject, code: 603, reason: Decline } ]"
  --subst FINAL_STATUS=603
  --callee-calls -1
  --sipp-timeout 20
  --expect calls_in=20 --expect calls_rejected=20
  --expect dialogs_live=0 --expect txns_live=0
  --cdr-expect status=603 --cdr-expect b_status=0
  --cdr-expect attempts=0 --cdr-expect ended_by=rejected
  --cdr-expect target=null --cdr-expect answer=null
  --cdr-expect q850=21
  -- -m 20 -r 20)

# Calls answered here (an answer route: Cay's own answering; no callee)
# leave records too, with no B leg (attempts 0, target null): 40 calls of
# 500 ms, ended by the caller's BYE.
cay_b2bua_test(cdr_answered_here 60
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --route-yaml "routes: [ { action: answer } ]"
  --callee-calls -1
  --sipp-timeout 30
  --expect calls_in=40 --expect calls_answered=40
  --expect dialogs_live=0 --expect txns_live=0
  --cdr-expect status=200 --cdr-expect b_status=0
  --cdr-expect attempts=0 --cdr-expect target=null
  --cdr-expect b_call_id=null --cdr-expect ended_by=caller
  --cdr-expect duration_ms>=450 --cdr-expect duration_ms<=1500
  --cdr-expect reason=null --cdr-expect q850=16
  -- -m 40 -r 20 -d 500)

# Cay's answering hangs up after answer.hangup_after_ms (the caller
# would wait 5 s): the callee ended each call, its BYE's Reason (Q.850
# 16) the record's.
cay_b2bua_test(cdr_answered_here_hangup 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_race.xml
  --route-yaml "routes: [ { action: answer } ]"
  --config-extra "answer: { hangup_after_ms: 500 }"
  --subst BYE_AFTER_MS=5000
  --callee-calls -1
  --sipp-timeout 30
  --expect calls_in=20 --expect byes_sent=20
  --expect dialogs_live=0 --expect txns_live=0
  --cdr-expect status=200 --cdr-expect attempts=0
  --cdr-expect ended_by=callee --cdr-expect q850=16
  --cdr-expect duration_ms>=450 --cdr-expect duration_ms<=1500
  -- -m 20 -r 20)

# The answer route's max_duration_s ends the calls: max_duration, Q.850
# 102 (cdr_checks.py asks it of every max_duration record).
cay_b2bua_test(cdr_answered_here_max_duration 60
  --caller-scenario ${CAY_IT_SCENARIOS}/b2b_uac_race.xml
  --route-yaml "routes: [ { action: answer, max_duration_s: 1 } ]"
  --subst BYE_AFTER_MS=5000
  --callee-calls -1
  --sipp-timeout 30
  --expect calls_in=20 --expect byes_sent=20
  --expect dialogs_live=0 --expect txns_live=0
  --cdr-expect status=200 --cdr-expect ended_by=max_duration
  --cdr-expect duration_ms>=950 --cdr-expect duration_ms<=2000
  -- -m 20 -r 20)

# The caller cancels while Cay's answering rings (answer_after_ms 10 s):
# 487, not answered, ended by the caller, the CANCEL's Reason (Q.850 31).
cay_b2bua_test(cdr_answered_here_cancel 60
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_cancel.xml
  --route-yaml "routes: [ { action: answer } ]"
  --config-extra "answer: { ring_ms: 0, answer_after_ms: 10000 }"
  --callee-calls -1
  --sipp-timeout 30
  --expect calls_in=20 --expect calls_rejected=20
  --expect dialogs_live=0 --expect txns_live=0
  --cdr-expect status=487 --cdr-expect attempts=0
  --cdr-expect answer=null --cdr-expect ended_by=caller
  --cdr-expect q850=31
  -- -m 20 -r 20)
