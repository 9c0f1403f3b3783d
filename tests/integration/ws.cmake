# SIP over WebSocket integration tests (RFC 7118), included from
# CMakeLists.txt after tls.cmake (CAY_IT_DIR, SIPP_EXECUTABLE).
#
# run_ws_test.py starts cay with a config file listing a UDP listener
# (the readiness probe, the SIPp callers), a TLS one, a ws one and a wss
# one (the fixture certificates of tests/data/tls). Its peers are Python
# WebSocket clients (ws_peers.py) speaking raw SIP; each case is
# described at the top of the script. Run them alone with:
#
#   ctest -L ws --output-on-failure

set(CAY_WS_RUN ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_ws_test.py
    --cay $<TARGET_FILE:cay> --sipp ${SIPP_EXECUTABLE}
    --certs ${PROJECT_SOURCE_DIR}/tests/data/tls)

# cay_ws_test(NAME TIMEOUT_S LABELS runner-args...)
function(cay_ws_test name timeout labels)
  cay_runner_test(CAY_WS_RUN ${name} ${timeout} "${labels}" ${ARGN})
endfunction()

# alice registers over ws (a plain .invalid Contact: reachable on her
# connection only), carol over wss (RFC 5626 reg-id); a SIPp caller
# reaches each on her WebSocket (Via SIP/2.0/WS and WSS, Contact
# transport=ws at cay's port); a TLS caller's sips: call reaches carol
# (wss) and gets 480 with Warning 380 "SIPS Not Allowed" for alice (ws,
# RFC 5630); then alice calls carol WebSocket to WebSocket through the
# B2BUA; both unregister.
cay_ws_test(ws_register_call 90 "integration;ws;b2bua"
  --expect registers=4 --expect bindings_live=0
  --expect calls_in=5 --expect calls_out_answered=4
  --expect dialogs_live=0 --expect txns_live=0)

# Upgrades cay refuses (no sip subprotocol: 400; version 8: 426; SIP
# without an upgrade: 400; websocket.origins lists the peers' page, and
# another page's Origin or none gets 403), each connection closed; a
# proper WebSocket afterwards gets 200 to an OPTIONS; a reload without
# the list takes the other page. Again at 4 shards: each shard's listener
# has the list, and takes the reload's.
cay_ws_test(ws_upgrade_refused 60 "integration;ws"
  --expect dialogs_live=0 --expect txns_live=0)
cay_ws_test(ws_upgrade_refused_4shards 60 "integration;ws;shards"
  --shards 4 --expect dialogs_live=0 --expect txns_live=0)

# A real SIP over WebSocket client: JsSIP under Node.js (jssip/call.js;
# `make deps` runs npm ci in tests/integration/jssip), from a page whose
# origin websocket.origins lists, over ws and then over wss (cay's
# certificate verified for cay.test). alice and bob register; alice
# calls bob through the B2BUA, bob answers, alice hangs up (bob gets the
# BYE); a call to an AOR without binding fails with a 4xx; both
# unregister.
cay_ws_test(ws_jssip_call 90 "integration;ws;b2bua"
  --expect registers=8 --expect bindings_live=0
  --expect calls_in=4 --expect calls_out_answered=2
  --expect dialogs_live=0 --expect txns_live=0)

# ws_register_call at 4 shards: a phone's WebSocket belongs to the shard
# that accepted it, a call to the shard of its Call-ID; what crosses goes
# by mailbox (rule 1), the frames are written by the connection's shard.
cay_ws_test(ws_register_call_4shards 90 "integration;ws;b2bua;shards"
  --shards 4
  --expect registers=4 --expect bindings_live=0
  --expect calls_in=5 --expect calls_out_answered=4
  --expect dialogs_live=0 --expect txns_live=0)
