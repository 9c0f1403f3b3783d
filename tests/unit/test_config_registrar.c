/* Unit tests: the registrar: section of the configuration (RFC 3261
 * section 10.3's bounds, RFC 2617's users) and the routes with action
 * register, loaded from a file and checked in code. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "support/config_fixture.h"

/* Expect cay_config_check() to refuse cfg with exactly @p want. */
#define expect_check(want)                                                     \
  do {                                                                         \
    ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);    \
    ck_assert_str_eq(err, want);                                               \
  } while (0)

/* ---- defaults and a good file ---- */

START_TEST(defaults_registrar)
{
  ck_assert_str_eq(defaults.reg_realm, ""); /* the Request-URI's host */
  ck_assert_uint_eq(defaults.reg_min_expires_s, 60);
  ck_assert_uint_eq(defaults.reg_max_expires_s, 3600);
  ck_assert_uint_eq(defaults.reg_default_expires_s, 3600);
  ck_assert_uint_eq(defaults.reg_max_bindings, 10);
  ck_assert_uint_eq(defaults.reg_max_aors, 100000);
  ck_assert_uint_eq(defaults.reg_flow_timer_s, 0);
  ck_assert_uint_eq(defaults.reg_offline_messages, 0); /* none kept */
  ck_assert_uint_eq(defaults.reg_offline_message_s, 604800);
  ck_assert_uint_eq(defaults.reg_ban_failures, 0); /* no ban */
  ck_assert_uint_eq(defaults.reg_ban_window_s, 60);
  ck_assert_uint_eq(defaults.reg_ban_s, 600);
  ck_assert_uint_eq(defaults.reg_flows, CAY_REG_FLOWS_AUTO);
  ck_assert_uint_eq(defaults.n_reg_users, 0);
  ck_assert_str_eq(defaults.reg_store_redis, ""); /* memory only */
  ck_assert_str_eq(defaults.reg_store_prefix, "cay:aor:");
  ck_assert_uint_eq(defaults.reg_store_db, 0);
  ck_assert_str_eq(defaults.reg_store_password, "");
  ck_assert_int_eq(cay_config_check(&defaults, err, sizeof err), 0);
}
END_TEST

START_TEST(load_registrar_to_exact_fields)
{
  cay_registrar_user_t want[CAY_CONFIG_MAX_USERS];

  memset(want, 0, sizeof want);
  strcpy(want[0].username, "alice");
  strcpy(want[0].password, "secret");
  strcpy(want[1].username, "bob.smith+1");
  strcpy(want[1].password, "p4ss: with spaces");

  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "registrar_good.yaml", err, sizeof err), 0);
  ck_assert_str_eq(err, "");
  ck_assert_str_eq(cfg.reg_realm, "example.com");
  ck_assert_uint_eq(cfg.reg_min_expires_s, 30);
  ck_assert_uint_eq(cfg.reg_max_expires_s, 7200);
  ck_assert_uint_eq(cfg.reg_default_expires_s, 1800);
  ck_assert_uint_eq(cfg.reg_max_bindings, 5);
  ck_assert_uint_eq(cfg.reg_max_aors, 2000);
  ck_assert_uint_eq(cfg.reg_flow_timer_s, 90);
  ck_assert_uint_eq(cfg.reg_offline_messages, 20);
  ck_assert_uint_eq(cfg.reg_offline_message_s, 86400);
  ck_assert_uint_eq(cfg.reg_ban_failures, 10);
  ck_assert_uint_eq(cfg.reg_ban_window_s, 120);
  ck_assert_uint_eq(cfg.reg_ban_s, 3600);
  ck_assert_uint_eq(cfg.reg_flows, CAY_REG_FLOWS_NEVER);
  ck_assert_uint_eq(cfg.n_reg_users, 2);
  ck_assert_str_eq(cfg.reg_users[1].username, "bob.smith+1");
  ck_assert_str_eq(cfg.reg_users[1].password, "p4ss: with spaces");
  ck_assert_str_eq(cfg.reg_store_redis, "[::1]:6380");
  ck_assert_str_eq(cfg.reg_store_prefix, "pbx1:aor:");
  ck_assert_uint_eq(cfg.reg_store_db, 2);
  ck_assert_str_eq(cfg.reg_store_password, "s3cret");
  ck_assert_uint_eq(cfg.n_reg_ban_exempt, 3);
  ck_assert_str_eq(cfg.reg_ban_exempt[0], "10.0.0.0/8");
  ck_assert_str_eq(cfg.reg_ban_exempt[1], "2001:db8::/32");
  ck_assert_str_eq(cfg.reg_ban_exempt[2], "192.0.2.7");
  /* The slots after the last user stay empty. */
  ck_assert_int_eq(memcmp(cfg.reg_users, want, sizeof want), 0);
  /* Nothing outside registrar: changed. */
  ck_assert_int_eq(memcmp(cfg.routes, defaults.routes, sizeof cfg.routes), 0);
  ck_assert_uint_eq(cfg.t1_ms, defaults.t1_ms);
}
END_TEST

START_TEST(load_registrar_users_list_replaces_earlier_one)
{
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "registrar_good.yaml", err, sizeof err), 0);
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "registrar_users_one.yaml", err, sizeof err),
      0);
  ck_assert_uint_eq(cfg.n_reg_users, 1);
  ck_assert_str_eq(cfg.reg_users[0].username, "carol");
  ck_assert_str_eq(cfg.reg_users[0].password, "x");
  /* bob of the first file is gone, not merely past n_reg_users. */
  ck_assert_str_eq(cfg.reg_users[1].username, "");
  ck_assert_str_eq(cfg.reg_users[1].password, "");
  /* Keys absent from the second file kept the first file's values. */
  ck_assert_str_eq(cfg.reg_realm, "example.com");
  ck_assert_uint_eq(cfg.reg_max_bindings, 5);
  /* A registrar: without users: keeps them. */
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "registrar_realm_only.yaml", err, sizeof err),
      0);
  ck_assert_str_eq(cfg.reg_realm, "sip.example.org");
  ck_assert_uint_eq(cfg.n_reg_users, 1);
  /* An empty list: no authentication again. */
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "registrar_users_empty.yaml", err, sizeof err),
      0);
  ck_assert_uint_eq(cfg.n_reg_users, 0);
  ck_assert_str_eq(cfg.reg_users[0].username, "");
  /* ban_exempt likewise: kept by a registrar: without it, emptied by []. */
  ck_assert_uint_eq(cfg.n_reg_ban_exempt, 3);
  ck_assert_int_eq(cay_config_load(&cfg, DATA "registrar_ban_exempt_empty.yaml",
                                   err, sizeof err),
                   0);
  ck_assert_uint_eq(cfg.n_reg_ban_exempt, 0);
  ck_assert_str_eq(cfg.reg_ban_exempt[0], "");
}
END_TEST

/* registrar.ban_exempt: each entry an address block (cidr.h), at its
 * position in the file; at most 16. */
START_TEST(load_bad_registrar_ban_exempt)
{
  expect_bad("registrar_bad_ban_exempt.yaml",
             "5:7: registrar.ban_exempt[1]: '10.0.0.1/8' has bits set beyond "
             "the prefix (the network is 10.0.0.0/8)");
  expect_bad("registrar_bad_ban_exempt_host.yaml",
             "2:17: registrar.ban_exempt[0]: expected an IP address or a CIDR "
             "such as 10.0.0.0/8 or 2001:db8::/32, got 'proxy.example.com'");
  expect_bad("registrar_bad_ban_exempt_many.yaml",
             "20:7: registrar.ban_exempt: too many entries (at most 16)");
}
END_TEST

START_TEST(check_registrar_ban_exempt)
{
  static const char *const good[]
      = { "0.0.0.0/0", "127.0.0.1", "::1", "::/0", "fe80::/10" };

  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    strcpy(cfg.reg_ban_exempt[i], good[i]);
    cfg.n_reg_ban_exempt = (unsigned)i + 1;
    ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == 0, "%s: %s",
                  good[i], err);
  }
  strcpy(cfg.reg_ban_exempt[2], "::1/129");
  expect_check("registrar.ban_exempt[2]: prefix length '129' is not from 0 "
               "to 128");
  strcpy(cfg.reg_ban_exempt[2], "[::1]");
  expect_check("registrar.ban_exempt[2]: expected an IP address or a CIDR "
               "such as 10.0.0.0/8 or 2001:db8::/32, got '[::1]'");
  strcpy(cfg.reg_ban_exempt[2], "::1");
  cfg.n_reg_ban_exempt = CAY_CONFIG_MAX_BAN_EXEMPT + 1;
  expect_check("registrar.ban_exempt: at most 16 entries are allowed, got 17");
  cfg.n_reg_ban_exempt = 1;
  memset(cfg.reg_ban_exempt[0], 'a', sizeof cfg.reg_ban_exempt[0]);
  expect_check("registrar.ban_exempt[0]: longer than 63 bytes");
}
END_TEST

START_TEST(load_registrar_every_enomem_path)
{
  expect_every_enomem_path("registrar_good.yaml");
  ck_assert_uint_eq(cfg.n_reg_users, 2);
}
END_TEST

/* ---- numbers: the shared range table, from a file and from code ---- */

START_TEST(load_bad_registrar_ranges)
{
  expect_bad("registrar_bad_min.yaml",
             "2:18: registrar.min_expires_s: expected an integer from 1 to "
             "86400, got '0'");
  expect_bad("registrar_bad_max.yaml",
             "2:18: registrar.max_expires_s: expected an integer from 1 to "
             "604800, got '604801'");
  expect_bad("registrar_bad_default.yaml",
             "2:22: registrar.default_expires_s: expected an integer from 1 "
             "to 604800, got '0'");
  expect_bad("registrar_bad_bindings.yaml",
             "2:17: registrar.max_bindings: expected an integer from 1 to "
             "1000, got '1001'");
  expect_bad("registrar_bad_aors.yaml",
             "2:13: registrar.max_aors: expected an integer from 1 to "
             "10000000, got '10000001'");
  expect_bad("registrar_bad_aors_unit.yaml",
             "2:13: registrar.max_aors: expected an integer from 1 to "
             "10000000, got '10k'");
  expect_bad("registrar_bad_ban.yaml",
             "2:23: registrar.ban_after_failures: expected an integer from 0 "
             "to 1000, got '1001'");
  expect_bad("registrar_bad_ban_s.yaml",
             "2:10: registrar.ban_s: expected an integer from 1 to 604800, "
             "got '0'");
}
END_TEST

START_TEST(check_registrar_ranges)
{
  static const struct {
    size_t offset;
    unsigned value;
    const char *want;
  } bad[] = {
    { offsetof(cay_config_t, reg_min_expires_s), 0,
      "registrar.min_expires_s (0) must be 1 to 86400" },
    { offsetof(cay_config_t, reg_min_expires_s), 86401,
      "registrar.min_expires_s (86401) must be 1 to 86400" },
    { offsetof(cay_config_t, reg_max_expires_s), 604801,
      "registrar.max_expires_s (604801) must be 1 to 604800" },
    { offsetof(cay_config_t, reg_default_expires_s), 0,
      "registrar.default_expires_s (0) must be 1 to 604800" },
    { offsetof(cay_config_t, reg_max_bindings), 0,
      "registrar.max_bindings (0) must be 1 to 1000" },
    { offsetof(cay_config_t, reg_max_bindings), 1001,
      "registrar.max_bindings (1001) must be 1 to 1000" },
    { offsetof(cay_config_t, reg_max_aors), 0,
      "registrar.max_aors (0) must be 1 to 10000000" },
    { offsetof(cay_config_t, reg_max_aors), 10000001,
      "registrar.max_aors (10000001) must be 1 to 10000000" },
    { offsetof(cay_config_t, reg_flow_timer_s), 3601,
      "registrar.flow_timer_s (3601) must be 0 to 3600" },
    { offsetof(cay_config_t, reg_offline_messages), 1001,
      "registrar.offline_messages (1001) must be 0 to 1000" },
    { offsetof(cay_config_t, reg_offline_message_s), 0,
      "registrar.offline_message_s (0) must be 1 to 2592000" },
    { offsetof(cay_config_t, reg_offline_message_s), 2592001,
      "registrar.offline_message_s (2592001) must be 1 to 2592000" },
    { offsetof(cay_config_t, reg_ban_failures), 1001,
      "registrar.ban_after_failures (1001) must be 0 to 1000" },
    { offsetof(cay_config_t, reg_ban_window_s), 0,
      "registrar.ban_window_s (0) must be 1 to 86400" },
    { offsetof(cay_config_t, reg_ban_s), 604801,
      "registrar.ban_s (604801) must be 1 to 604800" },
  };

  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    cay_config_init(&cfg);
    *(unsigned *)((char *)&cfg + bad[i].offset) = bad[i].value;
    expect_check(bad[i].want);
  }
  /* The bounds themselves are allowed. */
  cay_config_init(&cfg);
  cfg.reg_min_expires_s = 1;
  cfg.reg_default_expires_s = 604800;
  cfg.reg_max_expires_s = 604800;
  cfg.reg_max_bindings = 1000;
  cfg.reg_max_aors = 10000000;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
}
END_TEST

/* min_expires_s <= default_expires_s <= max_expires_s: the default a
 * REGISTER without an interval gets is one the registrar takes as it is
 * (RFC 3261 section 10.3 step 7). */
START_TEST(load_bad_registrar_min_above_default)
{
  expect_bad("registrar_bad_min_default.yaml",
             "3:18: registrar.min_expires_s (600) must not exceed "
             "registrar.default_expires_s (300)");
  /* min_expires_s is the default's 60: the file's value is pointed at. */
  expect_bad("registrar_bad_default_only.yaml",
             "1:33: registrar.min_expires_s (60) must not exceed "
             "registrar.default_expires_s (30)");
}
END_TEST

START_TEST(load_bad_registrar_default_above_max)
{
  expect_bad("registrar_bad_default_max.yaml",
             "3:22: registrar.default_expires_s (7200) must not exceed "
             "registrar.max_expires_s (3600)");
  /* default_expires_s is the default's 3600. */
  expect_bad("registrar_bad_max_only.yaml",
             "2:18: registrar.default_expires_s (3600) must not exceed "
             "registrar.max_expires_s (1800)");
}
END_TEST

START_TEST(check_registrar_expires_order)
{
  cfg.reg_min_expires_s = 600;
  cfg.reg_default_expires_s = 600;
  cfg.reg_max_expires_s = 600;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.reg_min_expires_s = 601;
  expect_check("registrar.min_expires_s (601) must not exceed "
               "registrar.default_expires_s (600)");
  cfg.reg_min_expires_s = 600;
  cfg.reg_max_expires_s = 599;
  expect_check("registrar.default_expires_s (600) must not exceed "
               "registrar.max_expires_s (599)");
}
END_TEST

/* ---- realm and users ---- */

START_TEST(load_bad_registrar_realm)
{
  /* RFC 2617 section 3.2.1: the realm is a quoted-string. */
  expect_bad("registrar_bad_realm.yaml",
             "2:10: registrar.realm: '\"', '\\' and control characters (line "
             "breaks too) are not allowed");
  expect_bad("registrar_bad_realm_long.yaml",
             "2:10: registrar.realm: longer than 63 bytes");
}
END_TEST

/* ---- store ---- */

START_TEST(load_bad_registrar_store)
{
  expect_bad("registrar_bad_store_redis.yaml",
             "2:19: registrar.store.redis: expected host:port ([v6]:port, "
             "the port 1..65535) or a Unix socket's path (/...), got "
             "'localhost'");
  expect_bad("registrar_bad_store_prefix.yaml",
             "4:13: registrar.store.prefix: '*', '?', '[', ']', '\\', "
             "spaces and control characters are not allowed");
  expect_bad("registrar_bad_store_db.yaml",
             "4:9: registrar.store.db: expected an integer from 0 to 65535, "
             "got '70000'");
}
END_TEST

START_TEST(check_registrar_store)
{
  static const char *const good[] = { "127.0.0.1:6379",
                                      "redis.example.com:1",
                                      "[::1]:65535",
                                      "/run/redis/redis.sock",
                                      "redis_1:6379",
                                      "redis.example.:2",
                                      "" };
  static const char *const bad[]
      = { "::1:6379",  "127.0.0.1",     "127.0.0.1:0",    "127.0.0.1:65536",
          ":6379",     "[]:6379",       "host:63x",       "a b:6379",
          "a..b:6379", "redis!:6379",   "[1.2.3.4]:6379", "[::1:6379",
          ".a:6379",   "[redis.x]:6379" };

  for (unsigned i = 0; i < sizeof good / sizeof good[0]; i++) {
    strcpy(cfg.reg_store_redis, good[i]);
    ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == 0, "%s: %s",
                  good[i], err);
  }
  for (unsigned i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    strcpy(cfg.reg_store_redis, bad[i]);
    ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == CAY_ECONFIG,
                  "%s taken", bad[i]);
    ck_assert_ptr_nonnull(strstr(err, "registrar.store.redis: "));
  }
  /* RFC 1035 section 2.3.4: a label is at most 63 bytes. */
  memset(cfg.reg_store_redis, 'a', 63);
  strcpy(cfg.reg_store_redis + 63, ".lan:6379");
  ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == 0, "%s", err);
  memset(cfg.reg_store_redis, 'a', 64);
  strcpy(cfg.reg_store_redis + 64, ".lan:6379");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  strcpy(cfg.reg_store_redis, "127.0.0.1:6379");
  cfg.reg_store_prefix[0] = '\0';
  expect_check("registrar.store.prefix: empty (every key of the database "
               "would be taken for an AOR)");
  strcpy(cfg.reg_store_prefix, "a b");
  expect_check("registrar.store.prefix: '*', '?', '[', ']', '\\', spaces "
               "and control characters are not allowed");
  strcpy(cfg.reg_store_prefix, "cay:");
  strcpy(cfg.reg_store_password, "pw\n");
  expect_check("registrar.store.password: control characters are not "
               "allowed");
}
END_TEST

/* ---- flows ---- */

START_TEST(load_bad_registrar_flows)
{
  expect_bad("registrar_bad_flows.yaml",
             "2:10: registrar.flows: expected auto, always or never, got "
             "'sometimes'");
}
END_TEST

START_TEST(check_registrar_flows)
{
  cfg.reg_flows = CAY_REG_FLOWS_ALWAYS;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.reg_flows = 3;
  expect_check("registrar.flows (3) must be 0 (auto), 1 (always) or 2 "
               "(never)");
}
END_TEST

/* dialog.flows takes the same words (cay_reg_flows_t). */
START_TEST(load_dialog_flows)
{
  ck_assert_uint_eq(defaults.dialog_flows, CAY_REG_FLOWS_AUTO);
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "dialog_flows.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.dialog_flows, CAY_REG_FLOWS_ALWAYS);
  ck_assert_uint_eq(cfg.reg_flows, CAY_REG_FLOWS_AUTO);
  ck_assert_uint_eq(cfg.dialog_max_duration_s, defaults.dialog_max_duration_s);
  cay_config_init(&cfg);
  expect_bad("dialog_bad_flows.yaml",
             "2:10: dialog.flows: expected auto, always or never, got "
             "'maybe'");
  cay_config_init(&cfg);
  cfg.dialog_flows = 7;
  expect_check("dialog.flows (7) must be 0 (auto), 1 (always) or 2 (never)");
}
END_TEST

START_TEST(check_registrar_realm)
{
  static const char *const bad[] = { "a\"b", "a\\b", "a\rb", "a\nb" };

  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    strcpy(cfg.reg_realm, bad[i]);
    expect_check("registrar.realm: '\"', '\\' and control characters (line "
                 "breaks too) are not allowed");
  }
  strcpy(cfg.reg_realm, "sip.example.com");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  memset(cfg.reg_realm, 'r', sizeof cfg.reg_realm);
  expect_check("registrar.realm: longer than 63 bytes");
}
END_TEST

START_TEST(load_bad_registrar_username)
{
  expect_bad("registrar_bad_username.yaml",
             "4:19: registrar.users[1].username: '\"', '\\', ':', spaces and "
             "control characters are not allowed");
  /* RFC 2617 section 3.2.2.2: ':' separates HA1's parts. */
  expect_bad("registrar_bad_username_colon.yaml",
             "3:17: registrar.users[0].username: '\"', '\\', ':', spaces and "
             "control characters are not allowed");
  expect_bad("registrar_bad_username_long.yaml",
             "3:19: registrar.users[0].username: longer than 63 bytes");
}
END_TEST

START_TEST(load_bad_registrar_duplicate_username)
{
  expect_bad("registrar_bad_duplicate.yaml",
             "5:19: registrar.users[2].username: 'alice' is "
             "registrar.users[0]'s too");
}
END_TEST

START_TEST(load_bad_registrar_missing_password)
{
  /* No password: key, so the entry itself is pointed at. */
  expect_bad("registrar_bad_no_password.yaml",
             "4:7: registrar.users[1].password: missing or empty");
  expect_bad("registrar_bad_empty_password.yaml",
             "3:36: registrar.users[0].password: missing or empty");
}
END_TEST

START_TEST(load_bad_registrar_too_many_users)
{
  /* The position is the 65th user. */
  expect_bad("registrar_bad_too_many.yaml",
             "68:7: registrar.users: too many entries (at most 64)");
}
END_TEST

START_TEST(load_bad_registrar_unknown_keys)
{
  expect_bad("registrar_bad_key.yaml",
             "3:3: registrar: unknown key 'realms' (expected realm, "
             "min_expires_s, max_expires_s, default_expires_s, max_bindings, "
             "max_aors, flows, flow_timer_s, offline_messages, "
             "offline_message_s, ban_after_failures, ban_window_s, ban_s, "
             "ban_exempt, users or store)");
  expect_bad("registrar_bad_user_key.yaml",
             "3:9: registrar.users[0]: unknown key 'name' (expected username "
             "or password)");
}
END_TEST

START_TEST(check_registrar_username_chars)
{
  static const char *const bad[]
      = { "a b", "a\tb", "a:b", "a\"b", "a\\b", "a\rb", "a\nb", "a\x7f" };
  static const char *const good[]
      = { "alice", "bob.smith+1", "1000", "j\xc3\xbcrgen" };

  strcpy(cfg.reg_users[0].password, "pw");
  cfg.n_reg_users = 1;
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
    strcpy(cfg.reg_users[0].username, bad[i]);
    ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
    ck_assert_msg(strcmp(err, "registrar.users[0].username: '\"', '\\', ':', "
                              "spaces and control characters are not allowed")
                      == 0,
                  "%zu: %s", i, err);
  }
  for (size_t i = 0; i < sizeof good / sizeof *good; i++) {
    strcpy(cfg.reg_users[0].username, good[i]);
    ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == 0, "%s: %s",
                  good[i], err);
  }
  cfg.reg_users[0].username[0] = '\0';
  expect_check("registrar.users[0].username: missing or empty");
  memset(cfg.reg_users[0].username, 'u', sizeof cfg.reg_users[0].username);
  expect_check("registrar.users[0].username: longer than 63 bytes");
}
END_TEST

START_TEST(check_registrar_password)
{
  strcpy(cfg.reg_users[0].username, "alice");
  cfg.n_reg_users = 1;
  expect_check("registrar.users[0].password: missing or empty");
  strcpy(cfg.reg_users[0].password, "a\r\nb");
  expect_check("registrar.users[0].password: line breaks are not allowed");
  strcpy(cfg.reg_users[0].password, "a\nb");
  expect_check("registrar.users[0].password: line breaks are not allowed");
  /* Never on the wire (only its hash is): anything else goes. */
  strcpy(cfg.reg_users[0].password, "a b:\"c\\d");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  memset(cfg.reg_users[0].password, 'p', sizeof cfg.reg_users[0].password);
  expect_check("registrar.users[0].password: longer than 63 bytes");
}
END_TEST

START_TEST(check_registrar_duplicate_is_case_sensitive)
{
  strcpy(cfg.reg_users[0].username, "alice");
  strcpy(cfg.reg_users[0].password, "a");
  strcpy(cfg.reg_users[1].username, "Alice");
  strcpy(cfg.reg_users[1].password, "b");
  cfg.n_reg_users = 2;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  strcpy(cfg.reg_users[1].username, "alice");
  expect_check("registrar.users[1].username: 'alice' is "
               "registrar.users[0]'s too");
}
END_TEST

START_TEST(check_registrar_too_many_users)
{
  for (unsigned i = 0; i < CAY_CONFIG_MAX_USERS; i++) {
    snprintf(cfg.reg_users[i].username, sizeof cfg.reg_users[i].username, "u%u",
             i);
    strcpy(cfg.reg_users[i].password, "p");
  }
  cfg.n_reg_users = CAY_CONFIG_MAX_USERS;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.n_reg_users = CAY_CONFIG_MAX_USERS + 1;
  expect_check("registrar.users: at most 64 users are allowed, got 65");
}
END_TEST

/* ---- routes with action register ---- */

START_TEST(load_route_register)
{
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "routes_register.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.n_routes, 3);
  ck_assert_int_eq(cfg.routes[0].action, CAY_ROUTE_REGISTER);
  ck_assert_str_eq(cfg.routes[0].method, "REGISTER");
  ck_assert_str_eq(cfg.routes[0].ruri_domain, "example.com");
  /* A REGISTER may be rejected. */
  ck_assert_int_eq(cfg.routes[1].action, CAY_ROUTE_REJECT);
  ck_assert_str_eq(cfg.routes[1].method, "REGISTER");
  /* Without a method: REGISTER is the only one it takes. */
  ck_assert_int_eq(cfg.routes[2].action, CAY_ROUTE_REGISTER);
  ck_assert_str_eq(cfg.routes[2].method, "");
}
END_TEST

/* location: true (the registrar's contacts) stands for a forward
 * route's target; false is as if absent. */
START_TEST(load_route_location)
{
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "routes_location.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.routes[0].location, 1);
  ck_assert_str_eq(cfg.routes[0].target, "");
  ck_assert_uint_eq(cfg.routes[0].n_failover, 1);
  ck_assert_uint_eq(cfg.routes[1].location, 0);
  cay_config_init(&cfg); /* expect_bad() wants a failed load to change
                            nothing of the defaults */
  expect_bad("routes_bad_location_target.yaml",
             "4:13: routes[0].target: a route with location: true takes its "
             "targets from the registrar, not a target");
  expect_bad("routes_bad_location_answer.yaml",
             "3:15: routes[0].location: only action forward takes location "
             "(this route's action is answer)");
  expect_bad("routes_bad_location_word.yaml",
             "3:15: routes[0].location: expected true or false, got 'yes'");
}
END_TEST

/* authenticate: true wants the callers' credentials among
 * registrar.users, on an answer or forward route. */
START_TEST(load_route_authenticate)
{
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "routes_authenticate.yaml", err, sizeof err),
      0);
  ck_assert_uint_eq(cfg.routes[0].authenticate, 1);
  ck_assert_uint_eq(cfg.routes[1].authenticate, 0);
  cay_config_init(&cfg);
  expect_bad("routes_bad_authenticate_users.yaml",
             "4:19: routes[0].authenticate: the callers' credentials are "
             "registrar.users, and there is none");
  expect_bad("routes_bad_authenticate_reject.yaml",
             "5:19: routes[0].authenticate: only actions answer and forward "
             "take authenticate (this route's action is reject)");
}
END_TEST

START_TEST(load_bad_route_register_takes_only_register)
{
  expect_bad("routes_bad_register_method.yaml",
             "3:22: routes[1].match.method: action register takes REGISTER "
             "requests, got 'INVITE'");
}
END_TEST

START_TEST(load_bad_route_register_method_with_call_action)
{
  expect_bad("routes_bad_forward_register.yaml",
             "2:22: routes[0].match.method: action forward does not take "
             "REGISTER requests (REGISTER needs action register or reject)");
  expect_bad("routes_bad_answer_register.yaml",
             "3:15: routes[0].match.method: action answer does not take "
             "REGISTER requests (REGISTER needs action register or reject)");
}
END_TEST

START_TEST(load_bad_route_register_with_forward_keys)
{
  expect_bad("routes_bad_register_target.yaml",
             "3:13: routes[0].target: only action forward takes a target "
             "(this route's action is register)");
  expect_bad("routes_bad_register_ring.yaml",
             "4:21: routes[0].ring_timeout_s: only action forward takes "
             "ring_timeout_s (this route's action is register)");
}
END_TEST

START_TEST(check_route_register)
{
  cfg.routes[0].action = CAY_ROUTE_REGISTER;
  cfg.n_routes = 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  strcpy(cfg.routes[0].method, "REGISTER");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  /* RFC 3261 section 7.1: methods are case-sensitive. */
  strcpy(cfg.routes[0].method, "register");
  expect_check("routes[0].match.method: action register takes REGISTER "
               "requests, got 'register'");
  strcpy(cfg.routes[0].method, "REGISTER");
  cfg.routes[0].action = CAY_ROUTE_REJECT;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.routes[0].action = CAY_ROUTE_ANSWER;
  expect_check("routes[0].match.method: action answer does not take "
               "REGISTER requests (REGISTER needs action register or "
               "reject)");
  cfg.routes[0].action = CAY_ROUTE_REGISTER;
  strcpy(cfg.routes[0].codecs[0], "PCMU");
  cfg.routes[0].n_codecs = 1;
  expect_check("routes[0].codecs: only actions answer and forward take "
               "codecs (this route's action is register)");
  cfg.routes[0].n_codecs = 0;
  cfg.routes[0].action = (cay_route_action_t)(CAY_ROUTE_REGISTER + 1);
  expect_check("routes[0].action: unknown action 4");
}
END_TEST

static Suite *
config_registrar_suite(void)
{
  Suite *s = suite_create("config_registrar");
  TCase *tc;

  tc = tcase_create("registrar");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, defaults_registrar);
  tcase_add_test(tc, load_registrar_to_exact_fields);
  tcase_add_test(tc, load_registrar_users_list_replaces_earlier_one);
  tcase_add_test(tc, load_registrar_every_enomem_path);
  tcase_add_test(tc, load_bad_registrar_ranges);
  tcase_add_test(tc, check_registrar_ranges);
  tcase_add_test(tc, load_bad_registrar_min_above_default);
  tcase_add_test(tc, load_bad_registrar_default_above_max);
  tcase_add_test(tc, check_registrar_expires_order);
  tcase_add_test(tc, load_bad_registrar_realm);
  tcase_add_test(tc, check_registrar_realm);
  tcase_add_test(tc, load_bad_registrar_store);
  tcase_add_test(tc, check_registrar_store);
  tcase_add_test(tc, load_bad_registrar_flows);
  tcase_add_test(tc, check_registrar_flows);
  tcase_add_test(tc, load_dialog_flows);
  tcase_add_test(tc, load_bad_registrar_username);
  tcase_add_test(tc, load_bad_registrar_duplicate_username);
  tcase_add_test(tc, load_bad_registrar_missing_password);
  tcase_add_test(tc, load_bad_registrar_too_many_users);
  tcase_add_test(tc, load_bad_registrar_unknown_keys);
  tcase_add_test(tc, load_bad_registrar_ban_exempt);
  tcase_add_test(tc, check_registrar_ban_exempt);
  tcase_add_test(tc, check_registrar_username_chars);
  tcase_add_test(tc, check_registrar_password);
  tcase_add_test(tc, check_registrar_duplicate_is_case_sensitive);
  tcase_add_test(tc, check_registrar_too_many_users);
  suite_add_tcase(s, tc);

  tc = tcase_create("routes");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, load_route_register);
  tcase_add_test(tc, load_route_location);
  tcase_add_test(tc, load_route_authenticate);
  tcase_add_test(tc, load_bad_route_register_takes_only_register);
  tcase_add_test(tc, load_bad_route_register_method_with_call_action);
  tcase_add_test(tc, load_bad_route_register_with_forward_keys);
  tcase_add_test(tc, check_route_register);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(config_registrar_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
