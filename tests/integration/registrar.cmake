# Registrar integration tests (RFC 3261 section 10), included from
# CMakeLists.txt after b2bua.cmake (CAY_IT_RUN, CAY_B2B_RUN,
# cay_sipp_test(), cay_b2bua_test()).

# 16 users, user1/pw1 ... user16/pw16 (scenarios/register_users.csv).
set(CAY_REG_USERS "")
foreach(i RANGE 1 16)
  if(i GREATER 1)
    string(APPEND CAY_REG_USERS ", ")
  endif()
  string(APPEND CAY_REG_USERS "{ username: user${i}, password: pw${i} }")
endforeach()
set(CAY_REG_YAML "{ registrar: { users: [ ${CAY_REG_USERS} ] }, routes: [ { match: { method: REGISTER }, action: register } ] }")

# Each of 16 users registers with digest credentials that SIPp computes
# (401, then 200 with its binding), asks for its bindings, and removes
# them (register_digest.xml), at 4 shards from one SIPp socket: each
# REGISTER is handed to its AOR's shard, and the 16 AORs spread over all
# four. Over UDP, then over one TCP connection (the shard that owns the
# connection writes the AOR shards' answers).
cay_sipp_test(registrar_digest_4shards 60
  --shards 4
  --config-yaml "${CAY_REG_YAML}"
  --scenario ${CAY_IT_SCENARIOS}/register_digest.xml
  --sipp-timeout 30
  --expect registers=48 --expect registers_refused=0
  --expect bindings_live=0 --expect txns_live=0 --expect calls_in=0
  --expect-shard "registers>0"
  -- -inf ${CAY_IT_SCENARIOS}/register_users.csv -m 16 -r 20)
set_tests_properties(integration.registrar_digest_4shards PROPERTIES
  LABELS "integration;shards")
cay_sipp_test(registrar_digest_4shards_tcp 60
  --shards 4 --tcp
  --config-yaml "${CAY_REG_YAML}"
  --scenario ${CAY_IT_SCENARIOS}/register_digest.xml
  --sipp-timeout 30
  --expect registers=48 --expect registers_refused=0
  --expect bindings_live=0 --expect txns_live=0
  --expect-shard "registers>0"
  -- -inf ${CAY_IT_SCENARIOS}/register_users.csv -m 16 -r 20)
set_tests_properties(integration.registrar_digest_4shards_tcp PROPERTIES
  LABELS "integration;shards")

# Password guessing: 20 REGISTERs of user1 with a wrong password, each
# challenged (401) and refused (403). Cay counts both (auth_challenges,
# auth_failures) and logs each refusal with its source, which fail2ban's
# own fail2ban-regex, given the filter Cay ships
# (contrib/fail2ban/cay.conf), reads as 20 failures of 127.0.0.1.
cay_sipp_test(registrar_password_guessing 60
  --config-yaml "${CAY_REG_YAML}"
  --scenario ${CAY_IT_SCENARIOS}/register_wrong.xml
  --sipp-timeout 30
  --expect auth_challenges=20 --expect auth_failures=20
  --expect registers=0 --expect registers_refused=20
  --expect bindings_live=0 --expect txns_live=0
  --after-command "${Python3_EXECUTABLE} ${CAY_IT_DIR}/check_fail2ban.py --log {log} --want 127.0.0.1=20"
  -- -m 20 -r 20)

# RFC 5626 section 7: a flow that fails takes its bindings with it. 16
# users register outbound flows (reg-id, a contact behind a NAT) at 4
# shards, each over its own TCP connection (-t tn), which SIPp closes
# when the call ends. The shard that accepted a connection is told it
# closed and tells the others (MAIL_FLOW_CLOSED); the AOR's shard, most
# often another, removes the binding: none is left, long before the
# 600 s they were registered for.
cay_sipp_test(registrar_flow_closed_4shards_tcp 60
  --shards 4 --tcp-per-call
  --config-yaml "routes: [ { match: { method: REGISTER }, action: register } ]"
  --scenario ${CAY_IT_SCENARIOS}/register_flow.xml
  --sipp-timeout 30 --settle-ms 500
  --expect registers=16 --expect registers_refused=0
  --expect bindings_live=0 --expect txns_live=0
  --expect "handed_over>0"
  -- -inf ${CAY_IT_SCENARIOS}/register_users.csv -m 16 -r 20)
set_tests_properties(integration.registrar_flow_closed_4shards_tcp PROPERTIES
  LABELS "integration;shards")

# A phone on an outbound flow that dies while ringing (RFC 5626 section
# 7, run_flow_test.py): 8 phones register over their own TCP connections
# at 4 shards, SIPp calls each through a location route, each phone
# rings (180) and resets its connection. Every caller gets 500 within
# 5 s (the B leg's transaction ends when its flow fails, not at the
# 30 s ring timeout), and every binding goes.
add_test(NAME integration.b2bua_flow_failed_ringing_4shards
         COMMAND ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_flow_test.py
                 --cay $<TARGET_FILE:cay> --sipp ${SIPP_EXECUTABLE}
                 --name b2bua_flow_failed_ringing_4shards --shards 4
                 --calls 8
                 --expect registers=8 --expect bindings_live=0
                 --expect calls_in=8 --expect calls_out=8
                 --expect calls_out_failed=8
                 --expect dialogs_live=0 --expect txns_live=0)
# The same phone answers, then resets its connection; the caller hangs
# up a second later. Cay's BYE for the phone fails at once: a flow is
# not replaced by a new connection to the NAT's address.
add_test(NAME integration.b2bua_flow_failed_answered
         COMMAND ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_flow_test.py
                 --cay $<TARGET_FILE:cay> --sipp ${SIPP_EXECUTABLE}
                 --name b2bua_flow_failed_answered --answer
                 --expect registers=1 --expect bindings_live=0
                 --expect calls_out_answered=1
                 --expect dialogs_live=0 --expect txns_live=0)
set_tests_properties(integration.b2bua_flow_failed_ringing_4shards
                     integration.b2bua_flow_failed_answered PROPERTIES
  TIMEOUT 90 LABELS "integration;shards;b2bua"
  RESOURCE_LOCK cay_integration)

# STUN keep-alives (RFC 5626 section 8) at 4 shards (run_stun_test.py):
# 16 UDP sockets send 10 Binding requests each to cay's SIP port, half
# with FINGERPRINT; every one gets a success response with the socket's
# own address, whichever shard read it; an indication and an RFC 3489
# request get nothing; OPTIONS is answered afterwards.
add_test(NAME integration.stun_keepalives_4shards
         COMMAND ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_stun_test.py
                 --cay $<TARGET_FILE:cay> --name stun_keepalives_4shards
                 --shards 4 --clients 16 --requests 10
                 --expect keepalives=160 --expect dropped=2
                 --expect txns_live=0)
set_tests_properties(integration.stun_keepalives_4shards PROPERTIES
  TIMEOUT 60 LABELS "integration;shards" RESOURCE_LOCK cay_integration)

# Calls to a registered user at 4 shards: the callee SIPp's address is
# registered as the contact of sip:service@127.0.0.1 (one REGISTER, on
# that AOR's shard), and 400 calls to sip:service@... come in on every
# shard by their Call-IDs: each shard finds the contact in its copy of
# the binding (location: true) and bridges the call there.
cay_b2bua_test(b2bua_location_4shards 90
  --shards 4
  --register "sip:service@127.0.0.1"
  --route-yaml "routes: [ { match: { method: REGISTER }, action: register }, { match: { method: INVITE }, action: forward, location: true } ]"
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --sipp-timeout 40
  --expect registers=1 --expect bindings_live=1
  --expect calls_in=400 --expect calls_out_answered=400
  --expect dialogs_live=0 --expect txns_live=0
  --expect-shard "calls_in>50"
  --callee-count BYE_Recv=400
  -- -m 400 -r 100)
set_tests_properties(integration.b2bua_location_4shards PROPERTIES
  LABELS "integration;shards;b2bua")

# A callee behind a NAT (RFC 5626 section 5.3, registrar.flows auto): the
# AOR is registered from the callee SIPp's own UDP port (before SIPp binds
# it) at the private contact sip:callee@10.0.0.7:5060, which nobody here
# can reach. At 4 shards, 200 calls to it: each shard sends the B leg to
# the REGISTER's source address (its copy of the binding carries the
# flow), with the private contact as the Request-URI, and the ACK and BYE
# follow the same flow.
cay_b2bua_test(b2bua_location_nat_4shards 90
  --shards 4
  --register-nat "sip:service@127.0.0.1"
  --route-yaml "routes: [ { match: { method: REGISTER }, action: register }, { match: { method: INVITE }, action: forward, location: true } ]"
  --caller-scenario ${CAY_IT_SCENARIOS}/uac_basic.xml
  --sipp-timeout 40
  --expect-log "AOR sip:service@127.0.0.1: binding sip:callee@10.0.0.7:5060 added, expires in 3600 s, calls over udp:127.0.0.1:[0-9]+"
  --expect registers=1 --expect bindings_live=1
  --expect calls_in=200 --expect calls_out_answered=200
  --expect dialogs_live=0 --expect txns_live=0
  --expect-shard "calls_in>20"
  --callee-count BYE_Recv=200
  -- -m 200 -r 100)
set_tests_properties(integration.b2bua_location_nat_4shards PROPERTIES
  LABELS "integration;shards;b2bua")

# Password guessing stopped by Cay itself (registrar.ban_after_failures
# 5 within 60 s, for 600 s): 20 wrong passwords from SIPp, one at a time,
# for user1, user2, ...; the fifth refusal bans 127.0.0.1, and the 15
# REGISTERs after it get "403 Forbidden - Too Many Failures" at once,
# without a challenge.
set(CAY_BAN_YAML "{ registrar: { ban_after_failures: 5, ban_window_s: 60, ban_s: 600, users: [ ${CAY_REG_USERS} ] }, routes: [ { match: { method: REGISTER }, action: register } ] }")
cay_sipp_test(registrar_ban 60
  --config-yaml "${CAY_BAN_YAML}"
  --scenario ${CAY_IT_SCENARIOS}/register_banned.xml
  --sipp-timeout 30
  --expect auth_challenges=5 --expect auth_failures=5
  --expect auth_banned=15
  --expect registers=0 --expect bindings_live=0 --expect txns_live=0
  -- -inf ${CAY_IT_SCENARIOS}/register_guess.csv -m 20 -r 10)

# The same at 4 shards, 48 tries for 16 users: each REGISTER goes to its
# AOR's shard, which counts its refusals; the first shard to count 5
# bans 127.0.0.1 on every shard (MAIL_BAN). Without that, each shard
# would have to count 5 of its own (20 refusals in all, at least).
cay_sipp_test(registrar_ban_4shards 60
  --shards 4
  --config-yaml "${CAY_BAN_YAML}"
  --scenario ${CAY_IT_SCENARIOS}/register_banned.xml
  --sipp-timeout 30
  --expect auth_failures>=5 --expect auth_failures<=17
  --expect auth_banned>=31
  --expect registers=0 --expect bindings_live=0 --expect txns_live=0
  --expect-shard "auth_banned>0"
  -- -inf ${CAY_IT_SCENARIOS}/register_guess.csv -m 48 -r 10)
set_tests_properties(integration.registrar_ban_4shards PROPERTIES
  LABELS "integration;shards")

# registrar.ban_exempt: the same 20 wrong passwords, from an address in
# the list (SIPp's 127.0.0.1, as a front proxy's would be): each one is
# challenged and refused for its credentials, and none bans.
cay_sipp_test(registrar_ban_exempt 60
  --config-yaml "{ registrar: { ban_after_failures: 5, ban_window_s: 60, ban_s: 600, ban_exempt: [ 192.0.2.0/24, 127.0.0.1 ], users: [ ${CAY_REG_USERS} ] }, routes: [ { match: { method: REGISTER }, action: register } ] }"
  --scenario ${CAY_IT_SCENARIOS}/register_banned.xml
  --sipp-timeout 30
  --expect auth_challenges=20 --expect auth_failures=20
  --expect auth_banned=0
  --expect registers=0 --expect bindings_live=0 --expect txns_live=0
  -- -inf ${CAY_IT_SCENARIOS}/register_guess.csv -m 20 -r 10)

# UDP flows watched for keep-alives (RFC 5626 section 4.4.1) at 4
# shards (run_stun_test.py --flow-timer): 16 clients register an
# outbound flow each (registrar.flow_timer_s 1) and send a STUN
# keep-alive every second, mostly read by a shard other than their AOR's,
# which passes it on: after 12 s (longer than Flow-Timer + 8 s) all 16
# bindings are there. A caller then calls client 0 (a Call-ID of another
# shard than the AOR's), which rings (180), and 8 fall silent, client 0
# among them: exactly their bindings go, each logged, flows_failed
# counts them, and the ringing call ends with a 5xx long before its
# ring_timeout_s (the AOR's shard tells the call's).
add_test(NAME integration.flow_keepalive_4shards
         COMMAND ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_stun_test.py
                 --cay $<TARGET_FILE:cay> --name flow_keepalive_4shards
                 --shards 4 --clients 16 --requests 1 --flow-timer 1
                 --expect registers=16 --expect flows_failed=8
                 --expect bindings_live=8 --expect calls_rejected=1
                 --expect calls_out_failed=1 --expect txns_live=0)
set_tests_properties(integration.flow_keepalive_4shards PROPERTIES
  TIMEOUT 90 LABELS "integration;shards" RESOURCE_LOCK cay_integration)
