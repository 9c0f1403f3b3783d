# The registrar's bindings in Redis (registrar.store), end to end
# (run_store_test.py), included from CMakeLists.txt after registrar.cmake
# (CAY_IT_DIR, SIPP_EXECUTABLE). The driver starts its own redis-server
# on a free loopback port, so the test needs one installed (Debian
# package redis-server); without it the test is left out.
#
# At 2 shards: 8 users register (and user9 registers and unregisters)
# with a first cay, whose keys Redis must hold (user9's deleted); a
# second cay restores the 8 bindings at start (`restored 8 bindings of 8
# AORs`, the short ones expired while it was down skipped), and SIPp's
# calls to user1..8 reach the restored contacts; Redis is killed and
# started again on its port holding only user8's key, which was removed
# meanwhile: REGISTERs are still answered, cay writes every AOR anew and
# deletes user8's key; a third cay, whose Redis is not there, warns and
# starts with no binding. The --expect checks hold for the second cay.
find_program(REDIS_SERVER_EXECUTABLE redis-server)
if(NOT REDIS_SERVER_EXECUTABLE)
  message(STATUS "Registrar store test disabled: need redis-server "
                 "(Debian package redis-server)")
  return()
endif()

add_test(NAME integration.registrar_store_redis
         COMMAND ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_store_test.py
                 --cay $<TARGET_FILE:cay> --sipp ${SIPP_EXECUTABLE}
                 --redis-server ${REDIS_SERVER_EXECUTABLE}
                 --name registrar_store_redis --shards 2 --calls 40
                 --expect calls_in=40 --expect calls_out=40
                 --expect calls_out_answered=40
                 --expect registers=2 --expect registers_refused=0
                 --expect bindings_live=8
                 --expect dialogs_live=0 --expect txns_live=0
                 --expect store_up=2 --expect store_writes>=9
                 --expect store_failures>=2)
set_tests_properties(integration.registrar_store_redis PROPERTIES
  TIMEOUT 90
  LABELS "integration;shards"
  RESOURCE_LOCK cay_integration)

# A host name in registrar.store.redis (run_store_dns_test.py, about 9 s):
# looked up with c-ares (a fake DNS server as dns.servers) at start and on
# each shard's loop, its addresses tried in order past one that takes no
# connection (2 s) and one that refuses; a name whose lookup hangs holds
# no shard: a REGISTER is answered while it is out.
add_test(NAME integration.registrar_store_dns
         COMMAND ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_store_dns_test.py
                 --cay $<TARGET_FILE:cay>
                 --redis-server ${REDIS_SERVER_EXECUTABLE}
                 --name registrar_store_dns --shards 2)
set_tests_properties(integration.registrar_store_dns PROPERTIES
  TIMEOUT 60
  LABELS "integration;shards"
  RESOURCE_LOCK cay_integration)

# The late load racing a REGISTER (run_store_race_test.py, about 2 s): a
# proxy in front of Redis holds the MGET that reads an AOR's old record
# while that AOR registers anew and is removed; the old record must not
# come back over the removal.
add_test(NAME integration.registrar_store_late_race
         COMMAND ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_store_race_test.py
                 --cay $<TARGET_FILE:cay>
                 --redis-server ${REDIS_SERVER_EXECUTABLE}
                 --name registrar_store_late_race --shards 2)
set_tests_properties(integration.registrar_store_late_race PROPERTIES
  TIMEOUT 60
  LABELS "integration;shards"
  RESOURCE_LOCK cay_integration)
