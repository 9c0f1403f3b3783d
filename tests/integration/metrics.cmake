# The counters over HTTP (metrics.listen), end to end (run_metrics_test.py),
# included from CMakeLists.txt (CAY_IT_DIR, SIPP_EXECUTABLE). A real
# Prometheus server (Debian package prometheus, which brings promtool)
# scrapes Cay while SIPp makes calls; without it the test is left out.
#
# At 2 shards: the text before any call passes `promtool check metrics`;
# HEAD, 404 and 405 answers; 200 SIPp calls, after which the shards'
# cay_calls_in_total add up to 200, each shard took some, and no dialog
# is live; 20 scrapes while SIGUSR1 asks for the same counters all
# answer; Prometheus's own query API sums the calls to 200 and shows
# the target up without a scrape error.
find_program(PROMETHEUS_EXECUTABLE prometheus)
find_program(PROMTOOL_EXECUTABLE promtool)
if(NOT PROMETHEUS_EXECUTABLE OR NOT PROMTOOL_EXECUTABLE)
  message(STATUS "Metrics test disabled: need prometheus and promtool "
                 "(Debian package prometheus)")
  return()
endif()

add_test(NAME integration.metrics_prometheus
         COMMAND ${Python3_EXECUTABLE} ${CAY_IT_DIR}/run_metrics_test.py
                 --cay $<TARGET_FILE:cay> --sipp ${SIPP_EXECUTABLE}
                 --prometheus ${PROMETHEUS_EXECUTABLE}
                 --promtool ${PROMTOOL_EXECUTABLE}
                 --name metrics_prometheus --shards 2 --calls 200 --rate 100
                 --expect calls_in=200 --expect calls_answered=200
                 --expect dialogs_live=0 --expect txns_live=0)
set_tests_properties(integration.metrics_prometheus PROPERTIES
  TIMEOUT 120
  LABELS "integration;shards"
  RESOURCE_LOCK cay_integration)
