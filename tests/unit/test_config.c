/* Unit tests: configuration defaults, the YAML loader and its checks. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/config.h"
#include "cay/errno.h"
#include "core/alloc.h"

#define DATA CAY_TEST_DATA "/config/"

static long live_at_start;
static cay_config_t cfg;
static cay_config_t defaults;
static char err[512];

static void
setup(void)
{
  live_at_start = cay__alloc_live();
  cay_config_init(&cfg);
  cay_config_init(&defaults);
  memset(err, 0, sizeof err);
}

static void
teardown(void)
{
  cay__alloc_fail_nth(0);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

/* Load tests/data/config/NAME, expect CAY_ECONFIG and the message
 * "FULLPATH:" followed by @p where_what ("3:10: timers.t1_ms: ..."), and
 * expect @p cfg untouched. */
static void
expect_bad(const char *name, const char *where_what)
{
  char path[512], want[1024];

  snprintf(path, sizeof path, DATA "%s", name);
  snprintf(want, sizeof want, "%s:%s", path, where_what);
  ck_assert_int_eq(cay_config_load(&cfg, path, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, want);
  ck_assert_int_eq(memcmp(&cfg, &defaults, sizeof cfg), 0);
}

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
  /* Fail each allocation in turn until the load succeeds: every failure
   * must be -ENOMEM with a message, leave cfg alone and leak nothing. */
  int rc = -ENOMEM;
  long n;

  for (n = 1; rc == -ENOMEM && n < 1000; n++) {
    cay__alloc_fail_nth(n);
    rc = cay_config_load(&cfg, DATA "good_full.yaml", err, sizeof err);
    cay__alloc_fail_nth(0);
    if (rc == -ENOMEM) {
      ck_assert_ptr_nonnull(strstr(err, "out of memory"));
      ck_assert_int_eq(memcmp(&cfg, &defaults, sizeof cfg), 0);
      ck_assert_int_eq(cay__alloc_live(), live_at_start);
    }
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_int_gt(n, 3); /* the file, the index, libcyaml: all failed once */
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
             "answer, log, shards, udp_steering, limits, session_timers or "
             "routes)");
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
  ck_assert_uint_eq(cfg.max_transactions, defaults.max_transactions);
  /* Out of range from code, not the file: cay_config_check says so. */
  cfg.max_message_bytes = 100;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err,
                   "limits.max_message_bytes (100) must be 1024 to 16777216");
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
  ck_assert_str_eq(err, "limits.mailbox_messages must be at least 1");
  cfg.mailbox_messages = 1;
  cfg.udp_max_request_bytes = 65536;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(
      err, "limits.udp_max_request_bytes (65536) must be at most 65535");
}
END_TEST

START_TEST(load_bad_udp_max_request_bytes)
{
  expect_bad("bad_udp_max_request.yaml",
             "2:26: limits.udp_max_request_bytes: expected an integer from 0 "
             "to 65535, got '70000'");
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
             "2:21: limits.mailbox_messages: expected an integer from 1 to "
             "4294967295, got '0'");
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
             "2:21: limits.max_transactions (0) must be at least 1");
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

START_TEST(check_listen_tls_not_supported)
{
  strcpy(cfg.listen[0].proto, "tls");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "listen[0]: transport 'tls' is not supported yet (udp "
                        "and tcp are)");
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

/* ---- routes: and session_timers: ---- */

/* A route as cay_config_init() leaves a slot, at @p line:@p column. */
static cay_route_t
default_route(unsigned line, unsigned column)
{
  cay_route_t r = defaults.routes[0];

  r.line = line;
  r.column = column;
  return r;
}

START_TEST(load_routes_to_exact_structs)
{
  cay_route_t want[3];

  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "routes_good.yaml", err, sizeof err), 0);
  ck_assert_str_eq(err, "");
  ck_assert_uint_eq(cfg.session_expires_s, 600);
  ck_assert_uint_eq(cfg.min_se_s, 120);
  ck_assert_uint_eq(cfg.n_routes, 3);

  want[0] = default_route(4, 5);
  strcpy(want[0].method, "INVITE");
  strcpy(want[0].ruri_user, "^1");
  strcpy(want[0].ruri_domain, "example.com");
  strcpy(want[0].source, "10.0.0.0/8");
  want[0].action = CAY_ROUTE_FORWARD;
  strcpy(want[0].target, "sip:${ruri_user}@127.0.0.1:5070");
  want[0].max_duration_s = 3600;
  want[0].ring_timeout_s = 30;
  strcpy(want[0].codecs[0], "PCMU");
  strcpy(want[0].codecs[1], "telephone-event");
  want[0].n_codecs = 2;

  want[1] = default_route(11, 5);
  strcpy(want[1].source, "2001:db8::/32");
  want[1].action = CAY_ROUTE_ANSWER;

  want[2] = default_route(14, 5);
  want[2].action = CAY_ROUTE_REJECT;
  want[2].code = 486;
  strcpy(want[2].reason, "Busy Here");

  for (unsigned i = 0; i < 3; i++) {
    ck_assert_str_eq(cfg.routes[i].method, want[i].method);
    ck_assert_str_eq(cfg.routes[i].target, want[i].target);
    ck_assert_uint_eq(cfg.routes[i].line, want[i].line);
    ck_assert_uint_eq(cfg.routes[i].column, want[i].column);
    ck_assert_int_eq(memcmp(&cfg.routes[i], &want[i], sizeof want[i]), 0);
  }
  /* The slots after the last route keep the defaults. */
  ck_assert_int_eq(memcmp(&cfg.routes[3], &defaults.routes[3],
                          sizeof cfg.routes[3] * (CAY_CONFIG_MAX_ROUTES - 3)),
                   0);
}
END_TEST

START_TEST(load_routes_list_replaces_earlier_one)
{
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "routes_good.yaml", err, sizeof err), 0);
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "routes_replace.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.n_routes, 1);
  ck_assert_int_eq(cfg.routes[0].action, CAY_ROUTE_REJECT);
  ck_assert_str_eq(cfg.routes[0].method, "");
  ck_assert_str_eq(cfg.routes[1].target, "");
  /* A file without routes: keeps them. */
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "good_partial.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.n_routes, 1);
  /* An empty list: every INVITE is answered again. */
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "routes_empty.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.n_routes, 0);
}
END_TEST

START_TEST(load_routes_every_enomem_path)
{
  int rc = -ENOMEM;
  long n;

  for (n = 1; rc == -ENOMEM && n < 1000; n++) {
    cay__alloc_fail_nth(n);
    rc = cay_config_load(&cfg, DATA "routes_good.yaml", err, sizeof err);
    cay__alloc_fail_nth(0);
    if (rc == -ENOMEM) {
      ck_assert_int_eq(memcmp(&cfg, &defaults, sizeof cfg), 0);
      ck_assert_int_eq(cay__alloc_live(), live_at_start);
    }
  }
  ck_assert_int_eq(rc, 0);
  ck_assert_int_gt(n, 3);
  ck_assert_uint_eq(cfg.n_routes, 3);
}
END_TEST

START_TEST(load_bad_route_action)
{
  expect_bad("routes_bad_action.yaml",
             "4:13: routes[1].action: expected answer, reject or forward, "
             "got 'bounce'");
}
END_TEST

START_TEST(load_bad_route_without_action)
{
  expect_bad("routes_bad_no_action.yaml",
             "3:5: routes[1]: missing action (expected answer, reject or "
             "forward)");
}
END_TEST

START_TEST(load_bad_route_unknown_key)
{
  expect_bad("routes_bad_key.yaml",
             "3:5: routes[0]: unknown key 'cod' (expected match, action, "
             "target, code, reason, max_duration_s, ring_timeout_s or "
             "codecs)");
}
END_TEST

START_TEST(load_bad_route_unknown_match_key)
{
  expect_bad("routes_bad_match_key.yaml",
             "4:7: routes[0].match: unknown key 'user' (expected method, "
             "ruri_user, ruri_domain or source)");
}
END_TEST

START_TEST(load_bad_route_regex)
{
  expect_bad("routes_bad_regex.yaml",
             "2:25: routes[0].match.ruri_user: bad regular expression "
             "'^(1': Unmatched ( or \\(");
}
END_TEST

START_TEST(load_bad_route_cidr)
{
  expect_bad("routes_bad_cidr.yaml",
             "2:22: routes[0].match.source: prefix length '33' is not from 0 "
             "to 32");
}
END_TEST

START_TEST(load_bad_route_source_not_ip)
{
  expect_bad("routes_bad_source_ip.yaml",
             "2:22: routes[0].match.source: expected an IP address or a CIDR "
             "such as 10.0.0.0/8 or 2001:db8::/32, got 'pbx.example.com'");
}
END_TEST

START_TEST(load_bad_route_25_1_method_not_token)
{
  /* RFC 3261 section 25.1: a Method is a token; no spaces. */
  expect_bad("routes_bad_method.yaml",
             "2:22: routes[0].match.method: 'IN VITE' is not a SIP method (a "
             "token, RFC 3261 section 25.1)");
}
END_TEST

START_TEST(load_bad_route_forward_without_target)
{
  expect_bad("routes_bad_no_target.yaml",
             "3:13: routes[0]: action forward needs a target");
}
END_TEST

START_TEST(load_bad_route_target_with_reject)
{
  expect_bad("routes_bad_target_action.yaml",
             "3:13: routes[0].target: only action forward takes a target "
             "(this route's action is reject)");
}
END_TEST

START_TEST(load_bad_route_code_with_forward)
{
  expect_bad("routes_bad_code_action.yaml",
             "4:11: routes[0].code: only action reject takes a code (this "
             "route's action is forward)");
}
END_TEST

START_TEST(load_bad_route_target_not_sip_uri)
{
  expect_bad("routes_bad_target_uri.yaml",
             "3:13: routes[0].target: expected a sip: or sips: URI, got "
             "'http://127.0.0.1/${ruri_user}'");
}
END_TEST

START_TEST(load_bad_route_target_host_name)
{
  expect_bad("routes_bad_target_dns.yaml",
             "3:13: routes[0].target: Cay does no DNS: the target host must "
             "be an IP literal, got 'pbx.example.com'");
}
END_TEST

START_TEST(load_bad_route_target_unknown_variable)
{
  expect_bad("routes_bad_target_var.yaml",
             "3:13: routes[0].target: unknown variable '${user}' (expected "
             "${ruri_user} or ${ruri_domain})");
}
END_TEST

START_TEST(load_bad_route_21_code_not_4xx_to_6xx)
{
  /* RFC 3261 section 21: a rejection is a 4xx, 5xx or 6xx response. */
  expect_bad("routes_bad_code.yaml",
             "3:11: routes[0].code: expected an integer from 400 to 699, got "
             "'302'");
}
END_TEST

START_TEST(load_bad_route_codec)
{
  expect_bad("routes_bad_codec.yaml",
             "3:20: routes[0].codecs[1]: unknown codec 'OPUS' (expected PCMU, "
             "PCMA, G722, G729 or telephone-event)");
}
END_TEST

START_TEST(load_bad_route_too_many)
{
  /* The position is the 33rd route. */
  expect_bad("routes_bad_too_many.yaml",
             "35:5: routes: too many entries (at most 32)");
}
END_TEST

START_TEST(load_bad_route_string_too_long)
{
  expect_bad("routes_bad_long.yaml",
             "2:22: routes[0].match.method: longer than 15 bytes");
}
END_TEST

START_TEST(load_4028_session_timers_off)
{
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "session_timers_off.yaml", err, sizeof err),
      0);
  ck_assert_uint_eq(cfg.session_expires_s, 0);
  ck_assert_uint_eq(cfg.min_se_s, 90);
}
END_TEST

START_TEST(load_bad_4028_5_min_se_below_90)
{
  expect_bad("session_timers_bad_min_se.yaml",
             "2:13: session_timers.min_se_s (60) must be at least 90 (RFC "
             "4028 section 5)");
}
END_TEST

START_TEST(load_bad_4028_expires_below_min_se)
{
  expect_bad("session_timers_bad_expires.yaml",
             "1:30: session_timers.expires_s (100) must be 0 or at least "
             "session_timers.min_se_s (120)");
}
END_TEST

/* Routes filled in code go through the same checks. */

START_TEST(check_route_slot_defaults_pass)
{
  cfg.n_routes = 1; /* an answer route matching everything */
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
}
END_TEST

START_TEST(check_route_forward_without_target)
{
  cfg.routes[0].action = CAY_ROUTE_FORWARD;
  cfg.n_routes = 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes[0]: action forward needs a target");
}
END_TEST

START_TEST(check_route_bad_regex)
{
  strcpy(cfg.routes[1].ruri_user, "a{2");
  cfg.n_routes = 2;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_ptr_nonnull(
      strstr(err, "routes[1].match.ruri_user: bad regular expression"));
}
END_TEST

START_TEST(check_route_21_reject_code_range)
{
  cfg.routes[0].action = CAY_ROUTE_REJECT;
  cfg.routes[0].code = 0;
  cfg.n_routes = 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes[0].code (0) must be 400 to 699");
  cfg.routes[0].code = 699;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
}
END_TEST

START_TEST(check_route_25_1_reason_without_crlf)
{
  /* RFC 3261 section 25.1: no CR or LF in a Reason-Phrase; a reason with
   * one would smuggle a header into the response. */
  cfg.routes[0].action = CAY_ROUTE_REJECT;
  strcpy(cfg.routes[0].reason, "No\r\nX-Evil: 1");
  cfg.n_routes = 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes[0].reason: control characters are not "
                        "allowed in a reason phrase (RFC 3261 section 25.1)");
}
END_TEST

START_TEST(check_route_codecs_with_reject)
{
  cfg.routes[0].action = CAY_ROUTE_REJECT;
  strcpy(cfg.routes[0].codecs[0], "PCMU");
  cfg.routes[0].n_codecs = 1;
  cfg.n_routes = 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes[0].codecs: only actions answer and forward "
                        "take codecs (this route's action is reject)");
}
END_TEST

START_TEST(check_route_string_not_terminated)
{
  memset(cfg.routes[0].method, 'A', sizeof cfg.routes[0].method);
  cfg.n_routes = 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes[0]: a string field is not NUL-terminated");
}
END_TEST

START_TEST(check_too_many_routes)
{
  cfg.n_routes = CAY_CONFIG_MAX_ROUTES + 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes: at most 32 routes are allowed, got 33");
}
END_TEST

START_TEST(check_4028_session_timers)
{
  cfg.min_se_s = 89;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "session_timers.min_se_s (89) must be at least 90 "
                        "(RFC 4028 section 5)");
  cfg.min_se_s = 90;
  cfg.session_expires_s = 89;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "session_timers.expires_s (89) must be 0 or at least "
                        "session_timers.min_se_s (90)");
  cfg.session_expires_s = 90;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.session_expires_s = 0; /* off */
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
}
END_TEST

/* ---- cay_config_parse_listen ---- */

START_TEST(listen_ipv4)
{
  cay_listen_t l;

  ck_assert_int_eq(
      cay_config_parse_listen("udp:127.0.0.1:5060", &l, err, sizeof err), 0);
  ck_assert_str_eq(l.proto, "udp");
  ck_assert_str_eq(l.host, "127.0.0.1");
  ck_assert_uint_eq(l.port, 5060);
}
END_TEST

START_TEST(listen_ipv6_in_brackets)
{
  cay_listen_t l;

  ck_assert_int_eq(
      cay_config_parse_listen("udp:[::1]:5070", &l, err, sizeof err), 0);
  ck_assert_str_eq(l.proto, "udp");
  ck_assert_str_eq(l.host, "::1");
  ck_assert_uint_eq(l.port, 5070);
}
END_TEST

START_TEST(listen_port_zero_and_max)
{
  cay_listen_t l;

  ck_assert_int_eq(
      cay_config_parse_listen("udp:0.0.0.0:0", &l, err, sizeof err), 0);
  ck_assert_uint_eq(l.port, 0);
  ck_assert_int_eq(
      cay_config_parse_listen("UDP:[2001:db8::1]:65535", &l, err, sizeof err),
      0);
  ck_assert_str_eq(l.proto, "udp");
  ck_assert_str_eq(l.host, "2001:db8::1");
  ck_assert_uint_eq(l.port, 65535);
}
END_TEST

/* One bad spec: CAY_ECONFIG, this message, and @p out untouched. */
static void
expect_bad_listen(const char *spec, const char *msg)
{
  cay_listen_t l;

  memset(&l, 0x5a, sizeof l);
  ck_assert_int_eq(cay_config_parse_listen(spec, &l, err, sizeof err),
                   CAY_ECONFIG);
  ck_assert_str_eq(err, msg);
  ck_assert_int_eq(l.port, 0x5a5a5a5a);
}

START_TEST(listen_missing_transport)
{
  expect_bad_listen(
      "127.0.0.1:5060",
      "missing transport: expected udp:HOST:PORT or tcp:HOST:PORT (such as "
      "udp:127.0.0.1:5060), got '127.0.0.1:5060'");
  expect_bad_listen(
      "[::1]:5060",
      "missing transport: expected udp:HOST:PORT or tcp:HOST:PORT (such as "
      "udp:127.0.0.1:5060), got '[::1]:5060'");
  expect_bad_listen(
      "localhost:5060",
      "missing transport: expected udp:HOST:PORT or tcp:HOST:PORT (such as "
      "udp:127.0.0.1:5060), got 'localhost:5060'");
}
END_TEST

START_TEST(listen_tcp)
{
  cay_listen_t l;

  ck_assert_int_eq(
      cay_config_parse_listen("tcp:127.0.0.1:5070", &l, err, sizeof err), 0);
  ck_assert_str_eq(l.proto, "tcp");
  ck_assert_uint_eq(l.port, 5070);
}
END_TEST

START_TEST(listen_tls_not_supported_yet)
{
  expect_bad_listen("tls:127.0.0.1:5061",
                    "transport 'tls' is not supported yet (udp and tcp are)");
}
END_TEST

START_TEST(listen_unknown_transport)
{
  expect_bad_listen("foo:127.0.0.1:5060",
                    "unknown transport 'foo' (expected udp or tcp)");
}
END_TEST

START_TEST(listen_host_not_ip)
{
  expect_bad_listen("udp:localhost:5060",
                    "host 'localhost' is not an IP address (host names are "
                    "not resolved)");
  expect_bad_listen("udp:[::g]:5060", "host '::g' is not an IP address (host "
                                      "names are not resolved)");
  expect_bad_listen("udp::5060", "missing host: expected an IP address");
}
END_TEST

START_TEST(listen_ipv6_needs_brackets)
{
  expect_bad_listen("udp:::1:5060",
                    "an IPv6 address needs brackets, as in udp:[::1]:5060");
  expect_bad_listen("udp:[::1:5060", "missing ']' after the IPv6 address");
  expect_bad_listen("udp:[127.0.0.1]:5060",
                    "brackets are only for IPv6 addresses, got '127.0.0.1'");
}
END_TEST

START_TEST(listen_bad_port)
{
  expect_bad_listen("udp:127.0.0.1:65536",
                    "port '65536' is not a number from 0 to 65535");
  expect_bad_listen("udp:127.0.0.1:50x",
                    "port '50x' is not a number from 0 to 65535");
  expect_bad_listen("udp:127.0.0.1:", "port '' is not a number from 0 to "
                                      "65535");
  expect_bad_listen("udp:127.0.0.1", "missing port: expected udp:HOST:PORT");
  expect_bad_listen("udp:[::1]", "missing port: expected udp:[HOST]:PORT");
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
  tcase_add_test(tc, load_bad_max_transactions_zero);
  suite_add_tcase(s, tc);

  tc = tcase_create("check");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, check_17_1_2_2_t1_above_t2);
  tcase_add_test(tc, check_t1_zero);
  tcase_add_test(tc, check_t4_zero);
  tcase_add_test(tc, check_no_listen_address);
  tcase_add_test(tc, check_listen_tls_not_supported);
  tcase_add_test(tc, check_listen_port_range);
  tcase_add_test(tc, check_listen_host_not_ip);
  tcase_add_test(tc, check_unknown_codec);
  tcase_add_test(tc, check_codec_names_case_insensitive);
  tcase_add_test(tc, check_media_ip_not_ip);
  tcase_add_test(tc, check_shards_range);
  tcase_add_test(tc, check_bad_log_level);
  suite_add_tcase(s, tc);

  tc = tcase_create("routes");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, load_routes_to_exact_structs);
  tcase_add_test(tc, load_routes_list_replaces_earlier_one);
  tcase_add_test(tc, load_routes_every_enomem_path);
  tcase_add_test(tc, load_bad_route_action);
  tcase_add_test(tc, load_bad_route_without_action);
  tcase_add_test(tc, load_bad_route_unknown_key);
  tcase_add_test(tc, load_bad_route_unknown_match_key);
  tcase_add_test(tc, load_bad_route_regex);
  tcase_add_test(tc, load_bad_route_cidr);
  tcase_add_test(tc, load_bad_route_source_not_ip);
  tcase_add_test(tc, load_bad_route_25_1_method_not_token);
  tcase_add_test(tc, load_bad_route_forward_without_target);
  tcase_add_test(tc, load_bad_route_target_with_reject);
  tcase_add_test(tc, load_bad_route_code_with_forward);
  tcase_add_test(tc, load_bad_route_target_not_sip_uri);
  tcase_add_test(tc, load_bad_route_target_host_name);
  tcase_add_test(tc, load_bad_route_target_unknown_variable);
  tcase_add_test(tc, load_bad_route_21_code_not_4xx_to_6xx);
  tcase_add_test(tc, load_bad_route_codec);
  tcase_add_test(tc, load_bad_route_too_many);
  tcase_add_test(tc, load_bad_route_string_too_long);
  tcase_add_test(tc, check_route_slot_defaults_pass);
  tcase_add_test(tc, check_route_forward_without_target);
  tcase_add_test(tc, check_route_bad_regex);
  tcase_add_test(tc, check_route_21_reject_code_range);
  tcase_add_test(tc, check_route_25_1_reason_without_crlf);
  tcase_add_test(tc, check_route_codecs_with_reject);
  tcase_add_test(tc, check_route_string_not_terminated);
  tcase_add_test(tc, check_too_many_routes);
  suite_add_tcase(s, tc);

  tc = tcase_create("session_timers");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, load_4028_session_timers_off);
  tcase_add_test(tc, load_bad_4028_5_min_se_below_90);
  tcase_add_test(tc, load_bad_4028_expires_below_min_se);
  tcase_add_test(tc, check_4028_session_timers);
  suite_add_tcase(s, tc);

  tc = tcase_create("parse_listen");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, listen_ipv4);
  tcase_add_test(tc, listen_ipv6_in_brackets);
  tcase_add_test(tc, listen_port_zero_and_max);
  tcase_add_test(tc, listen_missing_transport);
  tcase_add_test(tc, listen_tcp);
  tcase_add_test(tc, listen_tls_not_supported_yet);
  tcase_add_test(tc, listen_unknown_transport);
  tcase_add_test(tc, listen_host_not_ip);
  tcase_add_test(tc, listen_ipv6_needs_brackets);
  tcase_add_test(tc, listen_bad_port);
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
