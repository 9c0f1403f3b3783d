# limits.source_requests (server/worker_flood.c): a source that sends
# more requests within the window than the limit is dropped, unanswered,
# on every shard. SIPp is the flooder: one OPTIONS per call, sent once,
# not waited for. The harness's OPTIONS that finds Cay up comes from the
# same address and counts too: one more dropped.

# One shard, 10 requests per 2 s: 40 OPTIONS in 0.4 s; the first 10
# requests answered (the harness's and 9 of SIPp's), the 31 after them
# dropped.
cay_sipp_test(flood_options 60
  --config-yaml "{ limits: { source_requests: 10, source_window_s: 2, source_block_s: 60 } }"
  --scenario ${CAY_IT_SCENARIOS}/options_flood.xml
  --sipp-timeout 30
  --expect requests_options=10 --expect source_dropped=31
  --expect txns_live=0
  -- -inf ${CAY_IT_SCENARIOS}/flood_callids.csv -m 40 -r 100 -nr)

# Four shards, each counting the requests it reads (steered by Call-ID):
# the 12 first Call-IDs of flood_callids.csv are shard 0's, which blocks
# the source at its 11th and tells the others (MAIL_BLOCK); the 36 after
# them, the other shards' (12 each), are all dropped (the harness's
# OPTIONS, read by one of the shards, makes 11 answered at most).
# Without the message, each of those shards would answer 10 of its own
# (40 in all).
# (The file was made for cay__callid_shard() at 4 shards: a change of
# that hash shows here as more than 10 answered.)
cay_sipp_test(flood_options_4shards 60
  --shards 4
  --config-yaml "{ limits: { source_requests: 10, source_window_s: 2, source_block_s: 60 } }"
  --scenario ${CAY_IT_SCENARIOS}/options_flood.xml
  --sipp-timeout 30
  --expect requests_options>=10 --expect requests_options<=11
  --expect source_dropped>=37
  --expect txns_live=0
  -- -inf ${CAY_IT_SCENARIOS}/flood_callids.csv -m 48 -r 100 -nr)
set_tests_properties(integration.flood_options_4shards PROPERTIES
  LABELS "integration;shards")

# A flood over TCP (run_flood_tcp_test.py): SIPp floods 2 shards with
# OPTIONS over one connection from 127.0.0.1; when the source is blocked,
# each shard closes the connections it accepted from it (SIPp's and idle
# ones the script opened on every shard) and refuses new ones until the
# block ends; a neighbour at 127.0.0.2 keeps its connection and its
# answers.
add_test(NAME integration.flood_tcp_shards2
         COMMAND ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_flood_tcp_test.py
                 --cay $<TARGET_FILE:cay> --sipp ${SIPP_EXECUTABLE}
                 --shards 2)
set_tests_properties(integration.flood_tcp_shards2 PROPERTIES
  TIMEOUT 60 LABELS "integration;shards" RESOURCE_LOCK cay_integration)
