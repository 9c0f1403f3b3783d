# Instant messages outside a dialog (RFC 3428, the pager model), included
# from CMakeLists.txt after b2bua.cmake (cay_b2bua_test(), CAY_B2B_RUN):
#
#   sender SIPp --MESSAGE--> cay (forward route) --its own MESSAGE--> target SIPp
#
# message_uac.xml sends MESSAGEs and expects @EXPECT@ as their final
# response; message_uas.xml checks each MESSAGE Cay sends (the sender's
# body and Content-Type, its From with a tag of Cay's, Max-Forwards one
# less, CSeq 1, no Contact, Cay's own Via) and answers @STATUS@ @PHRASE@.
# The client test client_message (CMakeLists.txt) sends one between two
# registered baresips.

set(CAY_MSG_ROUTE "routes: [ { match: { method: MESSAGE }, action: forward, target: \"sip:\${ruri_user}@127.0.0.1:@CALLEE_PORT@\" } ]")
set(CAY_MSG_SCENARIOS
  --caller-scenario ${CAY_IT_SCENARIOS}/message_uac.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/message_uas.xml)

# 200 MESSAGEs relayed and answered 200 (section 7): each gets the
# target's 200, and nothing is left (no dialog: section 4).
cay_b2bua_test(message_relay_udp 60
  ${CAY_MSG_SCENARIOS} --route-yaml "${CAY_MSG_ROUTE}"
  --subst STATUS=200 --subst PHRASE=OK --subst EXPECT=200
  --sipp-timeout 30
  --expect messages_in=200 --expect messages_relayed=200
  --expect calls_in=0 --expect dialogs_live=0 --expect txns_live=0
  --callee-count MESSAGE_Recv=200
  -- -m 200 -r 100)

# The same at 4 shards (more than cores): SIPp's Call-IDs spread over the
# shards, and the answer to Cay's MESSAGE comes back to the shard that
# sent it (its Call-ID hashes there, DESIGN.md rule 2); over TCP on both
# sides, each shard's MESSAGE to the target on a connection it owns.
cay_b2bua_test(message_relay_4shards_tcp 60
  ${CAY_MSG_SCENARIOS}
  --route-yaml "routes: [ { match: { method: MESSAGE }, action: forward, target: \"sip:\${ruri_user}@127.0.0.1:@CALLEE_PORT@;transport=tcp\" } ]"
  --tcp --shards 4
  --subst STATUS=202 --subst PHRASE=Accepted --subst EXPECT=202
  --sipp-timeout 30
  --expect messages_in=200 --expect messages_relayed=200
  --expect dialogs_live=0 --expect txns_live=0
  --expect-shard "messages_in>=1"
  --callee-count MESSAGE_Recv=200
  -- -m 200 -r 100)
# Several shards: in the ThreadSanitizer pass of `make test` too.
set_tests_properties(integration.message_relay_4shards_tcp PROPERTIES
  LABELS "integration;shards")

# The target refuses: its 486 reaches the sender as it is; its 503 is the
# target's overload, not Cay's, and becomes 500 (RFC 3261 section 16.7
# item 6, as for an INVITE).
cay_b2bua_test(message_refused_486 60
  ${CAY_MSG_SCENARIOS} --route-yaml "${CAY_MSG_ROUTE}"
  --subst STATUS=486 --subst PHRASE=Busy_Here --subst EXPECT=486
  --sipp-timeout 30
  --expect messages_in=20 --expect messages_relayed=0 --expect txns_live=0
  --callee-count MESSAGE_Recv=20
  -- -m 20 -r 20)
cay_b2bua_test(message_target_503 60
  ${CAY_MSG_SCENARIOS} --route-yaml "${CAY_MSG_ROUTE}"
  --subst STATUS=503 --subst PHRASE=Service_Unavailable --subst EXPECT=500
  --sipp-timeout 30
  --expect messages_in=20 --expect messages_relayed=0 --expect txns_live=0
  --callee-count MESSAGE_Recv=20
  -- -m 20 -r 20)

# A target that never answers is given up after the route's
# no_response_timeout_ms, and the MESSAGE goes to the failover target,
# whose 200 the sender gets well within its own transaction's 32 s.
cay_b2bua_test(message_failover 60
  ${CAY_MSG_SCENARIOS}
  --route-yaml "routes: [ { match: { method: MESSAGE }, action: forward, target: \"sip:\${ruri_user}@127.0.0.1:@DEAD_PORT@\", failover: [ \"sip:\${ruri_user}@127.0.0.1:@CALLEE_PORT@\" ], no_response_timeout_ms: 300 } ]"
  --subst STATUS=200 --subst PHRASE=OK --subst EXPECT=200
  --sipp-timeout 30
  --expect messages_in=10 --expect messages_relayed=10
  --expect-log-count "=10" "sent no response in no_response_timeout_ms"
  --expect-log-count "=10" "failed with 408: trying failover\\[0\\]"
  --callee-count MESSAGE_Recv=10
  -- -m 10 -r 10)

# No route takes it (the default route forwards INVITEs only): 404; a
# route that answers (Cay's own UAS has no use for a MESSAGE): 405. The
# target gets nothing.
cay_b2bua_test(message_no_route_404 60
  ${CAY_MSG_SCENARIOS}
  --subst STATUS=200 --subst PHRASE=OK --subst EXPECT=404
  --sipp-timeout 30 --callee-calls 0
  --expect messages_in=10 --expect messages_relayed=0 --expect txns_live=0
  --callee-count MESSAGE_Recv=0
  -- -m 10 -r 10)
cay_b2bua_test(message_answer_route_405 60
  ${CAY_MSG_SCENARIOS}
  --route-yaml "routes: [ { action: answer } ]"
  --subst STATUS=200 --subst PHRASE=OK --subst EXPECT=405
  --sipp-timeout 30 --callee-calls 0
  --expect messages_in=10 --expect messages_relayed=0 --expect txns_live=0
  --callee-count MESSAGE_Recv=0
  -- -m 10 -r 10)

# RFC 3261 section 8.2.2.2: each sender's MESSAGE comes again by a second
# path (the same Call-ID, From tag and CSeq, another branch) once the
# first got the target's 200: that server transaction is still Completed
# (timer J), so the copy gets 482 and the target gets each MESSAGE once.
cay_b2bua_test(message_merged_482 60
  --caller-scenario ${CAY_IT_SCENARIOS}/message_uac_merged.xml
  --callee-scenario ${CAY_IT_SCENARIOS}/message_uas.xml
  --route-yaml "${CAY_MSG_ROUTE}"
  --subst STATUS=200 --subst PHRASE=OK
  --sipp-timeout 30
  --expect messages_in=40 --expect messages_relayed=20 --expect txns_live=0
  --expect-log-count "=20" "merged request \\(CSeq 1\\): 482"
  --callee-count MESSAGE_Recv=20
  -- -m 20 -r 20)

# RFC 3263 section 4.3: the target's host is a name whose SRV gives first
# an address nobody answers on (DEAD_PORT), then the target. The first
# MESSAGE gives the silent address up after the route's
# no_response_timeout_ms and goes to the next address DNS found, whose
# 200 the sender gets; the shard then tries the silent one last
# (dns.failed_target_s), so the later MESSAGEs go to the target at once.
# (The MESSAGE given up waits for its timer F, past the end: txns_live is
# not checked, as in message_failover.)
cay_b2bua_test(message_dns_next_address 60
  ${CAY_MSG_SCENARIOS}
  --route-yaml "routes: [ { match: { method: MESSAGE }, action: forward, target: \"sip:\${ruri_user}@callee.cay.test\", no_response_timeout_ms: 500 } ]"
  --dns-record "SRV _sip._udp.callee.cay.test 10 5 @DEAD_PORT@ dead.cay.test"
  --dns-record "SRV _sip._udp.callee.cay.test 20 5 @CALLEE_PORT@ uas.cay.test"
  --dns-record "A dead.cay.test 127.0.0.1"
  --dns-record "A uas.cay.test 127.0.0.1"
  --subst STATUS=200 --subst PHRASE=OK --subst EXPECT=200
  --sipp-timeout 30
  --expect messages_in=6 --expect messages_relayed=6
  --expect-log-count "==1" "sent no response in no_response_timeout_ms"
  --expect-log-count "==1" "MESSAGE to sip:[^ ]+@callee\\.cay\\.test ended with 408: trying the next target DNS found, 127\\.0\\.0\\.1:[0-9]+ over UDP"
  --expect-log "127\\.0\\.0\\.1:[0-9]+ did not answer \\(408\\)"
  --callee-count MESSAGE_Recv=6
  -- -m 6 -r 1)

# MESSAGEs kept for users not registered (registrar.offline_messages 3)
# at 4 shards (run_offline_message_test.py, Python sockets): 8 users get
# two MESSAGEs each before they register (202 each; half of them on a
# Call-ID of another shard than the AOR's, handed to the AOR's shard,
# which keeps them and logs it), user 0 a third (202) and a fourth (480
# Message Store Full). Each user then registers and gets its MESSAGEs one
# at a time, in order, with the sender's From and text and a Date; the
# last user's 480 to its first keeps it until its next REGISTER. The
# client test client_message_offline (CMakeLists.txt) has a real client
# get one.
add_test(NAME integration.message_offline_4shards
         COMMAND ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_offline_message_test.py
                 --cay $<TARGET_FILE:cay> --name message_offline_4shards
                 --shards 4 --users 8
                 --expect messages_in=18 --expect messages_stored=17
                 --expect messages_delivered=17 --expect messages_dropped=0
                 --expect messages_relayed=0 --expect bindings_live=0
                 --expect txns_live=0)
set_tests_properties(integration.message_offline_4shards PROPERTIES
  TIMEOUT 60 LABELS "integration;shards" RESOURCE_LOCK cay_integration)

# The same kept in registrar.store (a redis-server of the test's own)
# across a restart: Redis holds a key per user's kept MESSAGEs; a second
# cay restores all 17 at start and its users get them, in order, with
# the Date of when they first came; no such key is left once all are
# taken. The --expect checks are the second cay's.
find_program(CAY_MSG_REDIS_SERVER redis-server)
if(CAY_MSG_REDIS_SERVER)
  add_test(NAME integration.message_offline_store_restart
           COMMAND ${Python3_EXECUTABLE}
                   ${CAY_IT_DIR}/run_offline_message_test.py
                   --cay $<TARGET_FILE:cay>
                   --name message_offline_store_restart
                   --shards 4 --users 8
                   --redis-server ${CAY_MSG_REDIS_SERVER}
                   --expect messages_in=0 --expect messages_stored=0
                   --expect messages_delivered=17
                   --expect messages_dropped=0 --expect bindings_live=0
                   --expect store_up=4 --expect txns_live=0)
  set_tests_properties(integration.message_offline_store_restart PROPERTIES
    TIMEOUT 60 LABELS "integration;shards" RESOURCE_LOCK cay_integration)
endif()
