/* Unit tests: configuration defaults, the YAML loader and its checks (routes,
 * session timers and dns: test_config_routes.c; the listen spec:
 * test_config_listen.c). */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/config.h"
#include "cay/errno.h"
#include "core/alloc.h"

#include "support/config_fixture.h"

/* ---- defaults ---- */

START_TEST(defaults_listen_udp_and_tcp_loopback_5060)
{
  /* DESIGN.md section 6: UDP and TCP on 127.0.0.1:5060. */
  ck_assert_uint_eq(cfg.n_listen, 2);
  ck_assert_str_eq(cfg.listen[0].proto, "udp");
  ck_assert_str_eq(cfg.listen[0].host, "127.0.0.1");
  ck_assert_uint_eq(cfg.listen[0].port, 5060);
  ck_assert_str_eq(cfg.listen[1].proto, "tcp");
  ck_assert_str_eq(cfg.listen[1].host, "127.0.0.1");
  ck_assert_uint_eq(cfg.listen[1].port, 5060);
}
END_TEST

START_TEST(defaults_17_1_1_1_timer_values)
{
  /* RFC 3261 section 17.1.1.1 and table 4. */
  ck_assert_uint_eq(cfg.t1_ms, 500);
  ck_assert_uint_eq(cfg.t2_ms, 4000);
  ck_assert_uint_eq(cfg.t4_ms, 5000);
}
END_TEST

START_TEST(defaults_answer_dialog_log_limits)
{
  ck_assert_uint_eq(cfg.dialog_max_duration_s, 7200);
  ck_assert_uint_eq(cfg.ring_ms, 0);
  ck_assert_uint_eq(cfg.answer_after_ms, 0);
  ck_assert_uint_eq(cfg.hangup_after_ms, 0);
  ck_assert_uint_eq(cfg.n_codecs, 3);
  ck_assert_str_eq(cfg.codecs[0], "PCMU");
  ck_assert_str_eq(cfg.codecs[1], "PCMA");
  ck_assert_str_eq(cfg.codecs[2], "telephone-event");
  ck_assert_str_eq(cfg.media_ip, "127.0.0.1");
  ck_assert_int_eq(cfg.log_level, CAY_LOG_INFO);
  ck_assert_uint_eq(cfg.shards, 1);
  ck_assert_uint_eq(cfg.max_transactions, 100000);
  ck_assert_uint_eq(cfg.udp_overload_percent, 50);
  ck_assert_uint_eq(cfg.tcp_overload_kib, 256);
  ck_assert_uint_eq(cfg.source_requests, 0); /* no flood limit */
  ck_assert_uint_eq(cfg.source_window_s, 2);
  ck_assert_uint_eq(cfg.source_block_s, 60);
}
END_TEST

START_TEST(defaults_4028_session_timers_and_no_routes)
{
  /* RFC 4028 section 4 recommends 1800 s; section 5 sets Min-SE >= 90. */
  ck_assert_uint_eq(cfg.session_expires_s, 1800);
  ck_assert_uint_eq(cfg.min_se_s, 90);
  /* No routes: every INVITE is answered. Each slot holds the defaults of
   * a route, for code that fills routes[n_routes++]. */
  ck_assert_uint_eq(cfg.n_routes, 0);
  for (unsigned i = 0; i < CAY_CONFIG_MAX_ROUTES; i++) {
    ck_assert_int_eq(cfg.routes[i].action, CAY_ROUTE_ANSWER);
    ck_assert_uint_eq(cfg.routes[i].code, 403);
    ck_assert_int_eq(cfg.routes[i].max_duration_s, -1);
    ck_assert_uint_eq(cfg.routes[i].ring_timeout_s, 60);
    ck_assert_str_eq(cfg.routes[i].method, "");
    ck_assert_uint_eq(cfg.routes[i].n_codecs, 0);
  }
}
END_TEST

START_TEST(defaults_pass_check)
{
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
}
END_TEST

/* ---- good files ---- */

START_TEST(load_full_file_sets_every_key)
{
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "good_full.yaml", err, sizeof err), 0);
  ck_assert_str_eq(err, "");
  ck_assert_uint_eq(cfg.n_listen, 2);
  ck_assert_str_eq(cfg.listen[0].host, "127.0.0.1");
  ck_assert_uint_eq(cfg.listen[0].port, 5080);
  ck_assert_str_eq(cfg.listen[1].proto, "udp");
  ck_assert_str_eq(cfg.listen[1].host, "::1");
  ck_assert_uint_eq(cfg.listen[1].port, 5081);
  ck_assert_uint_eq(cfg.t1_ms, 250);
  ck_assert_uint_eq(cfg.t2_ms, 2000);
  ck_assert_uint_eq(cfg.t4_ms, 3000);
  ck_assert_uint_eq(cfg.dialog_max_duration_s, 60);
  ck_assert_uint_eq(cfg.ring_ms, 100);
  ck_assert_uint_eq(cfg.answer_after_ms, 200);
  ck_assert_uint_eq(cfg.hangup_after_ms, 3000);
  ck_assert_uint_eq(cfg.n_codecs, 3);
  ck_assert_str_eq(cfg.codecs[0], "PCMA");
  ck_assert_str_eq(cfg.codecs[1], "G722");
  ck_assert_str_eq(cfg.codecs[2], "telephone-event");
  ck_assert_str_eq(cfg.media_ip, "::1");
  ck_assert_int_eq(cfg.log_level, CAY_LOG_DEBUG);
  ck_assert_uint_eq(cfg.shards, 1);
  ck_assert_uint_eq(cfg.max_transactions, 500);
  ck_assert_uint_eq(cfg.udp_overload_percent, 0);
  ck_assert_uint_eq(cfg.tcp_overload_kib, 1024);
  ck_assert_uint_eq(cfg.source_requests, 200);
  ck_assert_uint_eq(cfg.source_window_s, 5);
  ck_assert_uint_eq(cfg.source_block_s, 300);
}
END_TEST

START_TEST(load_partial_file_keeps_defaults)
{
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "good_partial.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.t1_ms, 250);
  ck_assert_int_eq(cfg.log_level, CAY_LOG_WARN);
  /* Put the two changed values back: the rest must be the defaults. */
  cfg.t1_ms = defaults.t1_ms;
  cfg.log_level = defaults.log_level;
  ck_assert_int_eq(memcmp(&cfg, &defaults, sizeof cfg), 0);
}
END_TEST

START_TEST(load_comment_only_file_changes_nothing)
{
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "good_empty.yaml", err, sizeof err), 0);
  ck_assert_int_eq(memcmp(&cfg, &defaults, sizeof cfg), 0);
}
END_TEST

START_TEST(load_listen_list_replaces_defaults)
{
  /* Start from two addresses: the file's list must replace both. */
  cfg.listen[1] = cfg.listen[0];
  cfg.listen[1].port = 5099;
  cfg.n_listen = 2;
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "good_listen.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.n_listen, 2);
  ck_assert_str_eq(cfg.listen[0].host, "0.0.0.0");
  ck_assert_uint_eq(cfg.listen[0].port, 0);
  ck_assert_str_eq(cfg.listen[1].host, "::1");
  ck_assert_uint_eq(cfg.listen[1].port, 5070);
}
END_TEST

START_TEST(load_sample_file_equals_defaults)
{
  /* cay.yaml.sample at the repository root documents every key with its
   * default: it must load, and change nothing. */
  ck_assert_int_eq(cay_config_load(&cfg, CAY_TEST_DATA "/../../cay.yaml.sample",
                                   err, sizeof err),
                   0);
  ck_assert_int_eq(memcmp(&cfg, &defaults, sizeof cfg), 0);
}
END_TEST

START_TEST(load_applies_on_top_of_caller_values)
{
  /* Keys absent from the file keep the caller's value, not the default. */
  cfg.ring_ms = 1234;
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "good_partial.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.ring_ms, 1234);
}
END_TEST

START_TEST(load_null_err_buffer)
{
  ck_assert_int_eq(cay_config_load(&cfg, DATA "bad_int.yaml", NULL, 0),
                   CAY_ECONFIG);
  ck_assert_int_eq(cay_config_load(&cfg, DATA "good_full.yaml", NULL, 0), 0);
}
END_TEST

START_TEST(load_every_enomem_path)
{
  /* Fail each allocation in turn until the load succeeds. */
  expect_every_enomem_path("good_full.yaml");
  ck_assert_uint_eq(cfg.t1_ms, 250);
}
END_TEST

/* ---- bad files: FILE:LINE:COLUMN: what was expected ---- */

START_TEST(load_bad_int)
{
  expect_bad("bad_int.yaml",
             "3:10: timers.t1_ms: expected an unsigned integer, got 'abc'");
}
END_TEST

START_TEST(load_bad_negative_number)
{
  expect_bad("bad_negative.yaml",
             "2:12: answer.ring_ms: expected an unsigned integer, got '-5'");
}
END_TEST

START_TEST(load_bad_number_with_unit)
{
  /* libcyaml alone would read "500ms" as 500. */
  expect_bad("bad_unit.yaml",
             "2:10: timers.t1_ms: expected an unsigned integer, got '500ms'");
}
END_TEST

START_TEST(load_bad_unknown_top_level_key)
{
  expect_bad("bad_unknown_top.yaml",
             "3:1: unknown key 'bogus' (expected listen, timers, dialog, "
             "answer, log, shards, udp_steering, limits, session_timers, dns, "
             "routes, registrar, tls, websocket, metrics or cdr)");
}
END_TEST

START_TEST(load_bad_unknown_nested_key)
{
  expect_bad("bad_unknown_nested.yaml",
             "3:3: answer: unknown key 'ringing_ms' (expected ring_ms, "
             "answer_after_ms, hangup_after_ms, codecs or media_ip)");
}
END_TEST

START_TEST(load_bad_sequence_where_mapping_expected)
{
  expect_bad("bad_wrong_type.yaml",
             "2:3: timers: expected a mapping of keys, got a sequence");
}
END_TEST

START_TEST(load_bad_empty_mapping_value)
{
  expect_bad("bad_null_mapping.yaml",
             "1:8: timers: expected a mapping of keys, got nothing");
}
END_TEST

START_TEST(load_bad_top_level_scalar)
{
  expect_bad("bad_top_scalar.yaml",
             "1:1: top level: expected a mapping of keys, got a single value");
}
END_TEST

START_TEST(load_bad_yaml_syntax_unclosed_quote)
{
  expect_bad("bad_syntax.yaml",
             "3:1: YAML syntax error: found unexpected end of stream "
             "(while scanning a quoted scalar at 2:10)");
}
END_TEST

START_TEST(load_bad_yaml_syntax_indentation)
{
  expect_bad("bad_indent.yaml",
             "3:2: YAML syntax error: did not find expected key "
             "(while parsing a block mapping at 1:1)");
}
END_TEST

START_TEST(load_bad_duplicate_key)
{
  expect_bad("bad_duplicate.yaml", "3:1: duplicate key 'timers'");
}
END_TEST

START_TEST(load_bad_alias)
{
  expect_bad("bad_alias.yaml", "3:10: aliases (*b) are not supported");
}
END_TEST

START_TEST(load_bad_listen_spec)
{
  expect_bad("bad_listen.yaml",
             "3:5: listen[1]: host 'localhost' is not an IP address "
             "(host names are not resolved)");
}
END_TEST

START_TEST(load_bad_listen_empty)
{
  expect_bad("bad_listen_empty.yaml",
             "1:9: listen: at least one listen address is required");
}
END_TEST

START_TEST(load_bad_listen_too_many)
{
  /* The position is the 17th entry. */
  expect_bad("bad_listen_many.yaml",
             "5:3: listen: too many entries (at most 16)");
}
END_TEST

START_TEST(load_bad_log_level)
{
  expect_bad("bad_log_level.yaml",
             "2:10: log.level: expected error, warn, info or debug, "
             "got 'loud'");
}
END_TEST

START_TEST(load_bad_17_1_2_2_t1_above_t2)
{
  expect_bad("bad_t1_t2.yaml",
             "2:10: timers.t1_ms (5000) must not exceed timers.t2_ms (4000)");
}
END_TEST

START_TEST(load_bad_17_1_2_2_t2_below_default_t1)
{
  /* T1 comes from the defaults, so the message points at t2_ms. */
  expect_bad("bad_t2_only.yaml",
             "2:10: timers.t1_ms (500) must not exceed timers.t2_ms (400)");
}
END_TEST

START_TEST(load_bad_unknown_codec)
{
  expect_bad("bad_codec.yaml",
             "2:18: answer.codecs[1]: unknown codec 'OPUS' (expected PCMU, "
             "PCMA, G722, G729 or telephone-event)");
}
END_TEST

START_TEST(load_stream_limits)
{
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "limits_tcp.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.max_message_bytes, 8192);
  ck_assert_uint_eq(cfg.max_headers, 64);
  ck_assert_uint_eq(cfg.tcp_max_connections, 50);
  ck_assert_uint_eq(cfg.tcp_idle_timeout_s, 30);
  ck_assert_uint_eq(defaults.tcp_connect_timeout_ms, 5000);
  ck_assert_uint_eq(cfg.tcp_connect_timeout_ms, 2500);
  ck_assert_uint_eq(cfg.max_transactions, defaults.max_transactions);
  /* Out of range from code, not the file: cay_config_check says so. */
  cfg.max_message_bytes = 100;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err,
                   "limits.max_message_bytes (100) must be 1024 to 16777216");
  cfg.max_message_bytes = 8192;
  cfg.tcp_connect_timeout_ms = 99;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err,
                   "limits.tcp_connect_timeout_ms (99) must be 100 to 600000");
}
END_TEST

START_TEST(load_bad_tcp_connect_timeout)
{
  expect_bad("bad_tcp_connect_timeout.yaml",
             "3:27: limits.tcp_connect_timeout_ms: expected an integer from "
             "100 to 600000, got '0'");
}
END_TEST

START_TEST(load_shards_number_and_auto)
{
  ck_assert_int_eq(cay_config_load(&cfg, DATA "shards_4.yaml", err, sizeof err),
                   0);
  ck_assert_uint_eq(cfg.shards, 4);
  /* auto: one per CPU, decided when the server starts. */
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "shards_auto.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.shards, 0);
}
END_TEST

START_TEST(load_udp_steering_off_and_mailbox_bound)
{
  ck_assert_uint_eq(defaults.udp_steering, 1);
  ck_assert_uint_eq(defaults.mailbox_messages, 65536);
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "shards_handover.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.shards, 4);
  ck_assert_uint_eq(cfg.udp_steering, 0);
  ck_assert_uint_eq(cfg.mailbox_messages, 128);
  ck_assert_uint_eq(defaults.udp_max_request_bytes, 1300);
  ck_assert_uint_eq(cfg.udp_max_request_bytes, 0);
  /* Set in code out of range: the check names the key. */
  cfg.udp_steering = 2;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "udp_steering (2) must be 1 (auto) or 0 (off)");
  cfg.udp_steering = 1;
  cfg.mailbox_messages = 0;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "limits.mailbox_messages (0) must be at least 1");
  cfg.mailbox_messages = 1;
  cfg.udp_max_request_bytes = 65536;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err,
                   "limits.udp_max_request_bytes (65536) must be 0 to 65535");
  cfg.udp_max_request_bytes = 0;
  cfg.udp_overload_percent = 101;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "limits.udp_overload_percent (101) must be 0 to 100");
  cfg.udp_overload_percent = 100;
  cfg.tcp_overload_kib = 65537;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "limits.tcp_overload_kib (65537) must be 0 to 65536");
  cfg.tcp_overload_kib = 65536;
  cfg.source_requests = 1000001;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err,
                   "limits.source_requests (1000001) must be 0 to 1000000");
  cfg.source_requests = 1000000;
  cfg.source_window_s = 0;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "limits.source_window_s (0) must be 1 to 3600");
  cfg.source_window_s = 3600;
  cfg.source_block_s = 86401;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "limits.source_block_s (86401) must be 1 to 86400");
  cfg.source_block_s = 86400;
  /* The file's bounds hold for values set in code too. */
  cfg.tcp_max_connections = 1000001;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err,
                   "limits.tcp_max_connections (1000001) must be 1 to 1000000");
  cfg.tcp_max_connections = 1000000;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
}
END_TEST

START_TEST(load_bad_udp_max_request_bytes)
{
  expect_bad("bad_udp_max_request.yaml",
             "2:26: limits.udp_max_request_bytes: expected an integer from 0 "
             "to 65535, got '70000'");
}
END_TEST

START_TEST(load_bad_udp_overload_percent)
{
  expect_bad("bad_udp_overload_percent.yaml",
             "3:25: limits.udp_overload_percent: expected an integer from 0 "
             "to 100, got '150'");
}
END_TEST

START_TEST(load_bad_tcp_overload_kib)
{
  expect_bad("bad_tcp_overload_kib.yaml",
             "2:21: limits.tcp_overload_kib: expected an integer from 0 "
             "to 65536, got '70000'");
  expect_bad("bad_source_window.yaml",
             "3:20: limits.source_window_s: expected an integer from 1 to "
             "3600, got '0'");
}
END_TEST

START_TEST(load_bad_udp_steering)
{
  expect_bad("bad_udp_steering.yaml",
             "1:15: udp_steering: expected auto or off, got 'kernel'");
}
END_TEST

START_TEST(load_bad_mailbox_messages_zero)
{
  expect_bad("bad_mailbox_zero.yaml",
             "2:21: limits.mailbox_messages: expected an integer of at least "
             "1, got '0'");
}
END_TEST

START_TEST(load_bad_shards_out_of_range)
{
  expect_bad("bad_shards_range.yaml",
             "1:9: shards: expected an integer from 1 to 64, got '65'");
}
END_TEST

START_TEST(load_bad_max_transactions_zero)
{
  expect_bad("bad_limits.yaml",
             "2:21: limits.max_transactions: expected an integer of at least "
             "1, got '0'");
}
END_TEST

START_TEST(load_missing_file)
{
  ck_assert_int_eq(cay_config_load(&cfg, DATA "nope.yaml", err, sizeof err),
                   -ENOENT);
  ck_assert_str_eq(err, DATA "nope.yaml: cannot open: No such file or "
                             "directory");
  ck_assert_int_eq(memcmp(&cfg, &defaults, sizeof cfg), 0);
}
END_TEST

START_TEST(load_message_truncates_to_errlen)
{
  char small[16];

  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "bad_int.yaml", small, sizeof small),
      CAY_ECONFIG);
  ck_assert_uint_eq(strlen(small), sizeof small - 1);
  ck_assert_int_eq(strncmp(small, DATA, sizeof small - 1), 0);
}
END_TEST

/* ---- cay_config_check ---- */

START_TEST(check_17_1_2_2_t1_above_t2)
{
  cfg.t1_ms = 5000;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err,
                   "timers.t1_ms (5000) must not exceed timers.t2_ms (4000)");
}
END_TEST

START_TEST(check_t1_zero)
{
  cfg.t1_ms = 0;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "timers.t1_ms (0) must be at least 1");
}
END_TEST

START_TEST(check_t4_zero)
{
  cfg.t4_ms = 0;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "timers.t4_ms (0) must be at least 1");
}
END_TEST

START_TEST(check_no_listen_address)
{
  cfg.n_listen = 0;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "listen: at least one listen address is required");
}
END_TEST

START_TEST(check_listen_tls_needs_a_certificate)
{
  strcpy(cfg.listen[0].proto, "tls");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "listen[0]: a tls listen address needs "
                        "tls.certificate and tls.private_key");
  /* The files are tried: a key that is not the certificate's. */
  strcpy(cfg.tls_certificate, CAY_TEST_DATA "/tls/server.pem");
  strcpy(cfg.tls_private_key, CAY_TEST_DATA "/tls/client.key");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_msg(strncmp(err, "tls.private_key ", 16) == 0
                    && strstr(err, "key values mismatch"),
                "%s", err);
  strcpy(cfg.tls_private_key, CAY_TEST_DATA "/tls/server.key");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  /* A CRL past its nextUpdate would fail every peer: refused. */
  strcpy(cfg.tls_crl_file, CAY_TEST_DATA "/tls/stale.crl");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_msg(strncmp(err, "tls.crl_file ", 13) == 0
                    && strstr(err, "is past its nextUpdate"),
                "%s", err);
  strcpy(cfg.tls_crl_file, CAY_TEST_DATA "/tls/ca.crl");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.tls_verify_client = 2;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err,
                   "tls.verify_server and tls.verify_client must be 0 or 1");
}
END_TEST

START_TEST(check_tls_files_unread_without_a_tls_listen)
{
  /* Nothing listens on TLS: the section's files are not opened. */
  strcpy(cfg.tls_certificate, "/nonexistent/cert.pem");
  strcpy(cfg.tls_private_key, "/nonexistent/key.pem");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  ck_assert_uint_eq(cfg.tls_verify_server, 1); /* the default */
  ck_assert_uint_eq(cfg.tls_verify_client, 0);
}
END_TEST

START_TEST(check_listen_port_range)
{
  cfg.listen[0].port = 65536;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "listen[0]: port 65536 is not from 0 to 65535");
}
END_TEST

START_TEST(check_listen_host_not_ip)
{
  strcpy(cfg.listen[0].host, "example.com");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "listen[0]: host 'example.com' is not an IP address "
                        "without brackets");
}
END_TEST

START_TEST(check_unknown_codec)
{
  strcpy(cfg.codecs[1], "opus");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "answer.codecs[1]: unknown codec 'opus' (expected "
                        "PCMU, PCMA, G722, G729 or telephone-event)");
}
END_TEST

START_TEST(check_codec_names_case_insensitive)
{
  strcpy(cfg.codecs[0], "pcmu");
  strcpy(cfg.codecs[1], "g729");
  strcpy(cfg.codecs[2], "Telephone-Event");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
}
END_TEST

START_TEST(check_media_ip_not_ip)
{
  strcpy(cfg.media_ip, "[::1]");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "answer.media_ip: '[::1]' is not an IP address");
}
END_TEST

START_TEST(check_shards_range)
{
  cfg.shards = 4;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.shards = 0; /* auto */
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.shards = 65;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "shards (65) must be at most 64");
}
END_TEST

START_TEST(check_bad_log_level)
{
  cfg.log_level = (cay_log_level_t)7;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "log.level: unknown level 7");
}
END_TEST

static Suite *
config_suite(void)
{
  Suite *s = suite_create("config");
  TCase *tc;

  tc = tcase_create("defaults");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, defaults_listen_udp_and_tcp_loopback_5060);
  tcase_add_test(tc, defaults_17_1_1_1_timer_values);
  tcase_add_test(tc, defaults_answer_dialog_log_limits);
  tcase_add_test(tc, defaults_4028_session_timers_and_no_routes);
  tcase_add_test(tc, defaults_pass_check);
  suite_add_tcase(s, tc);

  tc = tcase_create("load");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, load_full_file_sets_every_key);
  tcase_add_test(tc, load_partial_file_keeps_defaults);
  tcase_add_test(tc, load_comment_only_file_changes_nothing);
  tcase_add_test(tc, load_listen_list_replaces_defaults);
  tcase_add_test(tc, load_sample_file_equals_defaults);
  tcase_add_test(tc, load_applies_on_top_of_caller_values);
  tcase_add_test(tc, load_null_err_buffer);
  tcase_add_test(tc, load_every_enomem_path);
  tcase_add_test(tc, load_missing_file);
  tcase_add_test(tc, load_message_truncates_to_errlen);
  suite_add_tcase(s, tc);

  tc = tcase_create("load_errors");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, load_bad_int);
  tcase_add_test(tc, load_bad_negative_number);
  tcase_add_test(tc, load_bad_number_with_unit);
  tcase_add_test(tc, load_bad_unknown_top_level_key);
  tcase_add_test(tc, load_bad_unknown_nested_key);
  tcase_add_test(tc, load_bad_sequence_where_mapping_expected);
  tcase_add_test(tc, load_bad_empty_mapping_value);
  tcase_add_test(tc, load_bad_top_level_scalar);
  tcase_add_test(tc, load_bad_yaml_syntax_unclosed_quote);
  tcase_add_test(tc, load_bad_yaml_syntax_indentation);
  tcase_add_test(tc, load_bad_duplicate_key);
  tcase_add_test(tc, load_bad_alias);
  tcase_add_test(tc, load_bad_listen_spec);
  tcase_add_test(tc, load_bad_listen_empty);
  tcase_add_test(tc, load_bad_listen_too_many);
  tcase_add_test(tc, load_bad_log_level);
  tcase_add_test(tc, load_bad_17_1_2_2_t1_above_t2);
  tcase_add_test(tc, load_bad_17_1_2_2_t2_below_default_t1);
  tcase_add_test(tc, load_bad_unknown_codec);
  tcase_add_test(tc, load_shards_number_and_auto);
  tcase_add_test(tc, load_stream_limits);
  tcase_add_test(tc, load_bad_shards_out_of_range);
  tcase_add_test(tc, load_udp_steering_off_and_mailbox_bound);
  tcase_add_test(tc, load_bad_udp_steering);
  tcase_add_test(tc, load_bad_mailbox_messages_zero);
  tcase_add_test(tc, load_bad_udp_max_request_bytes);
  tcase_add_test(tc, load_bad_udp_overload_percent);
  tcase_add_test(tc, load_bad_tcp_overload_kib);
  tcase_add_test(tc, load_bad_tcp_connect_timeout);
  tcase_add_test(tc, load_bad_max_transactions_zero);
  suite_add_tcase(s, tc);

  tc = tcase_create("check");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, check_17_1_2_2_t1_above_t2);
  tcase_add_test(tc, check_t1_zero);
  tcase_add_test(tc, check_t4_zero);
  tcase_add_test(tc, check_no_listen_address);
  tcase_add_test(tc, check_listen_tls_needs_a_certificate);
  tcase_add_test(tc, check_tls_files_unread_without_a_tls_listen);
  tcase_add_test(tc, check_listen_port_range);
  tcase_add_test(tc, check_listen_host_not_ip);
  tcase_add_test(tc, check_unknown_codec);
  tcase_add_test(tc, check_codec_names_case_insensitive);
  tcase_add_test(tc, check_media_ip_not_ip);
  tcase_add_test(tc, check_shards_range);
  tcase_add_test(tc, check_bad_log_level);
  suite_add_tcase(s, tc);

  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(config_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
