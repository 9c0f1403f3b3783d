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
# caller after about 1 s (its BYE gives no Reason: reason and q850
# null); the summary counts them (cdr_checks.py), and
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
  --cdr-expect reason=null --cdr-expect q850=null
  -- -m 200 -r 50 -d 1000)
set_tests_properties(integration.b2bua_cdr_rotate PROPERTIES
  LABELS "integration;shards")

# INVITEs the routes refuse leave records too: a reject route answers 20
# calls 603; each has one record, ended_by rejected, no B leg, no time.
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
  -- -m 20 -r 20)
