# TLS integration tests (RFC 3261 section 26, RFC 5922), included from
# CMakeLists.txt after registrar.cmake (CAY_IT_DIR, SIPP_EXECUTABLE).
#
# run_tls_test.py starts cay with a config file listing a UDP listener
# (the readiness probe, the SIPp callers: SIPp here has no TLS) and a TLS
# one, and a tls: section with the fixture certificates of
# tests/data/tls (server.pem, ca.pem). Its peers are Python ssl sockets
# speaking raw SIP; each case is described at the top of the script. Run
# them alone with:
#
#   ctest -L tls --output-on-failure

set(CAY_TLS_RUN ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_tls_test.py
    --cay $<TARGET_FILE:cay> --sipp ${SIPP_EXECUTABLE}
    --certs ${PROJECT_SOURCE_DIR}/tests/data/tls)

# cay_runner_test(RUNNER_VAR NAME TIMEOUT_S LABELS runner-args...): the
# command in variable RUNNER_VAR with --name NAME (ws.cmake uses it too).
function(cay_runner_test runner name timeout labels)
  add_test(NAME integration.${name}
           COMMAND ${${runner}} --name ${name} ${ARGN})
  set_tests_properties(integration.${name} PROPERTIES
    TIMEOUT ${timeout}
    LABELS "${labels}"
    RESOURCE_LOCK cay_integration)
endfunction()

# cay_tls_test(NAME TIMEOUT_S LABELS runner-args...)
function(cay_tls_test name timeout labels)
  cay_runner_test(CAY_TLS_RUN ${name} ${timeout} "${labels}" ${ARGN})
endfunction()

# Two calls to cay's own UAS over TLS: INVITE, 200 (Via SIP/2.0/TLS, a
# Contact with the TLS port: transport=tls for a sip: Request-URI, a
# sips: URI for a sips: one, RFC 3261 section 12.1.1), ACK and BYE on
# the same connection. Before it, an OPTIONS in clear text on the TLS port: cay
# closes the connection without a SIP answer, and goes on.
cay_tls_test(tls_answer_call 60 "integration;tls"
  --expect calls_in=2 --expect calls_answered=2
  --expect dialogs_live=0 --expect txns_live=0)

# A phone registers over TLS (registrar.flows auto, its Contact naming
# the connection's own IP); a SIPp caller's call to its AOR reaches it on
# its registration connection (Via SIP/2.0/TLS); it answers, the caller
# hangs up, and the phone unregisters.
cay_tls_test(tls_register_call 90 "integration;tls;b2bua"
  --expect registers=2 --expect bindings_live=0
  --expect calls_in=1 --expect calls_out_answered=1
  --expect dialogs_live=0 --expect txns_live=0)

# RFC 3327: bob registers through an edge proxy (its TLS connection, a
# Path naming its TLS listener, bob's contact a private address); the
# 200 names the Path; the SIPp caller's call reaches the edge with the
# Path as Route and bob's contact as Request-URI.
cay_tls_test(tls_register_path 60 "integration;tls;b2bua"
  --expect registers=2 --expect bindings_live=0
  --expect calls_in=1 --expect calls_out_answered=1
  --expect dialogs_live=0 --expect txns_live=0)
# The same at 4 shards: the call's shard is usually not the binding's,
# and calls through its copy, whose Path came by mailbox.
cay_tls_test(tls_register_path_4shards 60 "integration;tls;b2bua;shards"
  --shards 4
  --expect registers=2 --expect bindings_live=0
  --expect calls_in=1 --expect calls_out_answered=1
  --expect dialogs_live=0 --expect txns_live=0)

# RFC 5922: a forward route to sips:USER@localhost:PORT and to
# sip:USER@127.0.0.1:PORT;transport=tls. A callee whose certificate the
# CA signed for those names answers; one of another CA (rogue.pem) or
# for another name (wrong_name.pem) fails the connection at once: the
# callee gets no SIP, the caller 500 within 10 s (not timer B), and cay
# logs the verification failure.
cay_tls_test(tls_forward_verify 90 "integration;tls;b2bua"
  --expect calls_in=6 --expect calls_out_answered=2
  --expect calls_out_failed=4
  --expect dialogs_live=0 --expect txns_live=0)

# tls.verify_client: true: no client certificate (TLS 1.2, 1.3), one of
# another CA, or one that tls.crl_file revokes (RFC 5280) gets no SIP
# through; client.pem gets 200 to OPTIONS.
cay_tls_test(tls_client_cert 60 "integration;tls"
  --expect calls_in=0 --expect dialogs_live=0 --expect txns_live=0)

# tls.crl_check (RFC 5280 section 6.3): with the CA's CRL revoking an
# intermediate CA, a client certificate that intermediate issued passes
# with the default (leaf: its issuer's CRL only) and is refused with
# crl_check: chain; one the CA issued passes both.
cay_tls_test(tls_crl_chain 60 "integration;tls"
  --expect calls_in=0 --expect dialogs_live=0 --expect txns_live=0)

# tls_register_call at 4 shards with 4 phones (bob1..bob4), each
# registered on his own TLS connection and called once in turn. The
# shard that accepted a phone's connection is usually not the one that
# owns the call's Call-ID (or the REGISTER's): the INVITE, ACK and BYE
# go to the connection's shard by mailbox, and the phone's REGISTERs and
# answers, read there, are handed over to the owner (handed_over, noted
# per shard). That nothing at all crosses has odds of about (1/16)^4.
cay_tls_test(tls_register_call_4shards 90 "integration;tls;b2bua;shards"
  --shards 4 --phones 4 --expect handed_over>0
  --expect registers=8 --expect bindings_live=0
  --expect calls_in=4 --expect calls_out_answered=4
  --expect dialogs_live=0 --expect txns_live=0)

# A certificate renewed in place (SIGHUP, cay_server_reload()) at 2
# shards: every new connection, on either shard, gets the new certificate
# (wrong_name.pem: it names other.test, not cay.test); a connection from
# before keeps its session and still gets 200 to an OPTIONS; a reload
# whose key is not its certificate's is refused and changes nothing.
cay_tls_test(tls_reload_2shards 60 "integration;tls;shards"
  --shards 2 --expect dialogs_live=0 --expect txns_live=0)
