/* Unit tests: the listen spec "udp|tcp:HOST:PORT" of the configuration
 * (cay_config_parse_listen()), websocket.origins, the pages whose
 * scripts may use the ws and wss listen addresses, metrics.listen,
 * where the counters are served over HTTP, and cdr.file, where the call
 * detail records are written. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cay/config.h"
#include "cay/errno.h"

#include "support/config_fixture.h"

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
      "missing transport: expected udp:HOST:PORT, tcp:, tls:, ws: or "
      "wss:HOST:PORT (such as udp:127.0.0.1:5060), got '127.0.0.1:5060'");
  expect_bad_listen(
      "[::1]:5060",
      "missing transport: expected udp:HOST:PORT, tcp:, tls:, ws: or "
      "wss:HOST:PORT (such as udp:127.0.0.1:5060), got '[::1]:5060'");
  expect_bad_listen(
      "localhost:5060",
      "missing transport: expected udp:HOST:PORT, tcp:, tls:, ws: or "
      "wss:HOST:PORT (such as udp:127.0.0.1:5060), got 'localhost:5060'");
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

START_TEST(listen_tls)
{
  cay_listen_t l;

  ck_assert_int_eq(
      cay_config_parse_listen("TLS:[::1]:5061", &l, err, sizeof err), 0);
  ck_assert_str_eq(l.proto, "tls");
  ck_assert_str_eq(l.host, "::1");
  ck_assert_uint_eq(l.port, 5061);
}
END_TEST

START_TEST(listen_sctp_not_supported_yet)
{
  expect_bad_listen(
      "sctp:127.0.0.1:5060",
      "transport 'sctp' is not supported yet (udp, tcp, tls, ws and wss are)");
}
END_TEST

START_TEST(listen_unknown_transport)
{
  expect_bad_listen(
      "foo:127.0.0.1:5060",
      "unknown transport 'foo' (expected udp, tcp, tls, ws or wss)");
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

/* ---- tls.crl_check (RFC 5280 section 6.3) ---- */

START_TEST(load_tls_crl_check)
{
  ck_assert_uint_eq(defaults.tls_crl_check, CAY_CRL_LEAF);
  expect_bad("tls_crl_check_bad.yaml",
             "3:14: tls.crl_check: expected leaf or chain, got 'all'");
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "tls_crl_check_chain.yaml", err, sizeof err),
      0);
  ck_assert_uint_eq(cfg.tls_crl_check, CAY_CRL_CHAIN);
  ck_assert_str_eq(cfg.tls_crl_file, "/etc/cay/crls.pem");
}
END_TEST

/* chain without CRLs to check against is refused, and so is a value
 * outside the enum (an embedder's). */
START_TEST(check_tls_crl_check)
{
  strcpy(cfg.listen[0].proto, "tls");
  strcpy(cfg.tls_certificate, CAY_TEST_DATA "/tls/server.pem");
  strcpy(cfg.tls_private_key, CAY_TEST_DATA "/tls/server.key");
  cfg.tls_crl_check = CAY_CRL_CHAIN;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "tls.crl_check: chain needs tls.crl_file (the CRLs "
                        "to check the chain against)");
  strcpy(cfg.tls_crl_file, CAY_TEST_DATA "/tls/chain_revoked.crl");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.tls_crl_check = 2;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "tls.crl_check must be CAY_CRL_LEAF or CAY_CRL_CHAIN");
}
END_TEST

/* ---- websocket.origins (RFC 6455 section 10.2) ---- */

START_TEST(load_websocket_origins)
{
  ck_assert_uint_eq(defaults.n_ws_origins, 0); /* any origin */
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "ws_origins_good.yaml", err, sizeof err), 0);
  ck_assert_uint_eq(cfg.n_ws_origins, 2);
  ck_assert_str_eq(cfg.ws_origins[0], "https://phone.example.com");
  ck_assert_str_eq(cfg.ws_origins[1], "http://[::1]:8080");
}
END_TEST

START_TEST(load_bad_websocket_origin)
{
  expect_bad("ws_origins_bad.yaml",
             "4:7: websocket.origins[1] 'https://phone.example.com/app': an "
             "origin is scheme://host[:port], without a path, a query or "
             "spaces");
  expect_bad("ws_origins_not_list.yaml",
             "2:12: websocket.origins: expected a sequence, got a single "
             "value");
}
END_TEST

START_TEST(check_websocket_origins)
{
  static const struct {
    const char *origin, *why; /* why NULL: taken */
  } cases[] = {
    { "https://phone.example.com:8443", NULL },
    { "HTTP://Phone.Example.COM", NULL },
    { "http://[2001:db8::1]:8080", NULL },
    { "phone.example.com", "expected http:// or https:// and a host" },
    { "null", "expected http:// or https://" },
    { "wss://phone.example.com", "expected http:// or https://" },
    { "https://", "no host after the scheme" },
    { "https://[zz::1]", "a bad IPv6 host" },
    { "https://a.example ", "without a path, a query or spaces" },
    { "https://a.example?x", "without a path, a query or spaces" },
    { "https://a.example:0", "the port is not 1..65535" },
    { "https://a.example:65536", "the port is not 1..65535" },
    { "https://a.example:", "the port is not 1..65535" },
    { "https://a.example:443", "the scheme's default port" },
    { "http://a.example:80", "the scheme's default port" },
  };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cay_config_init(&cfg);
    strcpy(cfg.ws_origins[0], "https://ok.example");
    strcpy(cfg.ws_origins[1], cases[i].origin);
    cfg.n_ws_origins = 2;
    if (cases[i].why == NULL) {
      ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == 0, "%s: %s",
                    cases[i].origin, err);
      continue;
    }
    ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
    ck_assert_msg(strncmp(err, "websocket.origins[1] '", 22) == 0
                      && strstr(err, cases[i].why) != NULL,
                  "%s: %s", cases[i].origin, err);
  }
  cfg.n_ws_origins = CAY_CONFIG_MAX_ORIGINS + 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "websocket.origins: at most 16 entries");
}
END_TEST

/* ---- metrics.listen (the counters over HTTP) ---- */

START_TEST(load_metrics_listen)
{
  ck_assert_str_eq(defaults.metrics_listen, ""); /* none */
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "metrics_good.yaml", err, sizeof err), 0);
  ck_assert_str_eq(cfg.metrics_listen, "[::1]:9090");
}
END_TEST

START_TEST(load_bad_metrics_listen)
{
  expect_bad("metrics_bad.yaml",
             "3:11: metrics.listen: expected IP:PORT or [IPv6]:PORT (an "
             "address literal; the port 0..65535, 0 for one the kernel "
             "picks), got '127.0.0.1'");
  expect_bad("metrics_bad_key.yaml",
             "2:3: metrics: unknown key 'port' (expected listen)");
}
END_TEST

START_TEST(check_metrics_listen)
{
  static const char *const good[]
      = { "127.0.0.1:9090", "0.0.0.0:0", "[::1]:65535", "[::]:9090", "" };
  static const char *const bad[]
      = { "127.0.0.1",      "::1:9090",        "[::1]", "[::1]9090",
          "localhost:9090", "127.0.0.1:65536", ":9090", "127.0.0.1:90x",
          "[]:9090",        "127.0.0.1: 9090" };

  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    cay_config_init(&cfg);
    strcpy(cfg.metrics_listen, good[i]);
    ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == 0, "%s: %s",
                  good[i], err);
  }
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cay_config_init(&cfg);
    strcpy(cfg.metrics_listen, bad[i]);
    ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == CAY_ECONFIG,
                  "%s taken", bad[i]);
    ck_assert_ptr_nonnull(strstr(err, "metrics.listen: expected IP:PORT"));
  }
}
END_TEST

/* ---- cdr.file (call detail records) ---- */

START_TEST(load_cdr_file)
{
  ck_assert_str_eq(defaults.cdr_file, ""); /* none */
  ck_assert_int_eq(cay_config_load(&cfg, DATA "cdr_good.yaml", err, sizeof err),
                   0);
  ck_assert_str_eq(cfg.cdr_file, "/tmp/cay-cdr-config-test.json");
}
END_TEST

START_TEST(load_bad_cdr_file)
{
  expect_bad("cdr_bad_key.yaml",
             "3:3: cdr: unknown key 'path' (expected file)");
  expect_bad("cdr_bad_dir.yaml",
             "3:9: cdr.file '/nonexistent/dir/cdr.json': its directory "
             "'/nonexistent/dir' does not exist");
}
END_TEST

/* The check looks, and creates nothing: a file or a directory to create
 * it in that can be written; not a directory itself. */
START_TEST(check_cdr_file)
{
  static const char *const good[]
      = { "", "/tmp/cay-cdr-check-absent.json", "/dev/null", "/tmp/x" };
  static const struct {
    const char *path, *msg;
  } bad[] = {
    { "/tmp", "cdr.file '/tmp': a directory, not a file" },
    { "/tmp/", "cdr.file '/tmp/': a directory, not a file" },
    { "/nonexistent/cdr.json",
      "cdr.file '/nonexistent/cdr.json': its directory '/nonexistent' does "
      "not exist" },
    { "/dev/null/cdr.json", "cdr.file '/dev/null/cdr.json': Not a directory" },
  };

  (void)remove("/tmp/cay-cdr-check-absent.json");
  for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
    cay_config_init(&cfg);
    strcpy(cfg.cdr_file, good[i]);
    ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == 0, "%s: %s",
                  good[i], err);
  }
  ck_assert_int_ne(access("/tmp/cay-cdr-check-absent.json", F_OK), 0);
  for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
    cay_config_init(&cfg);
    strcpy(cfg.cdr_file, bad[i].path);
    ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
    ck_assert_str_eq(err, bad[i].msg);
  }
}
END_TEST

static Suite *
config_listen_suite(void)
{
  Suite *s = suite_create("config_listen");
  TCase *tc;

  tc = tcase_create("parse_listen");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, listen_ipv4);
  tcase_add_test(tc, listen_ipv6_in_brackets);
  tcase_add_test(tc, listen_port_zero_and_max);
  tcase_add_test(tc, listen_missing_transport);
  tcase_add_test(tc, listen_tcp);
  tcase_add_test(tc, listen_tls);
  tcase_add_test(tc, load_tls_crl_check);
  tcase_add_test(tc, check_tls_crl_check);
  tcase_add_test(tc, listen_sctp_not_supported_yet);
  tcase_add_test(tc, listen_unknown_transport);
  tcase_add_test(tc, listen_host_not_ip);
  tcase_add_test(tc, listen_ipv6_needs_brackets);
  tcase_add_test(tc, listen_bad_port);
  tcase_add_test(tc, load_websocket_origins);
  tcase_add_test(tc, load_bad_websocket_origin);
  tcase_add_test(tc, check_websocket_origins);
  tcase_add_test(tc, load_metrics_listen);
  tcase_add_test(tc, load_bad_metrics_listen);
  tcase_add_test(tc, check_metrics_listen);
  tcase_add_test(tc, load_cdr_file);
  tcase_add_test(tc, load_bad_cdr_file);
  tcase_add_test(tc, check_cdr_file);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(config_listen_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
