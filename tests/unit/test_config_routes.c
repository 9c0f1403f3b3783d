/* Unit tests: the routes:, session_timers: and dns: sections of the
 * configuration (issue 5's route table, RFC 4028, RFC 3263), loaded and
 * checked. */
#include <check.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "support/config_fixture.h"

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
  want[0].no_response_timeout_ms = 2500;
  strcpy(want[0].codecs[0], "PCMU");
  strcpy(want[0].codecs[1], "telephone-event");
  want[0].n_codecs = 2;
  strcpy(want[0].auth_username, "trunk-7");
  strcpy(want[0].auth_password, "s3cret: with spaces");
  strcpy(want[0].pass_headers[0], "P-Asserted-Identity");
  strcpy(want[0].pass_headers[1], "Privacy");
  strcpy(want[0].pass_headers[2], "X-*");
  want[0].n_pass_headers = 3;
  strcpy(want[0].failover[0], "sip:${ruri_user}@127.0.0.2:5070");
  strcpy(want[0].failover[1], "sip:${ruri_user}@[::1]");
  want[0].n_failover = 2;

  want[1] = default_route(15, 5);
  strcpy(want[1].source, "2001:db8::/32");
  want[1].action = CAY_ROUTE_ANSWER;

  want[2] = default_route(18, 5);
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
  expect_every_enomem_path("routes_good.yaml");
  ck_assert_uint_eq(cfg.n_routes, 3);
}
END_TEST

START_TEST(load_bad_route_action)
{
  expect_bad("routes_bad_action.yaml",
             "4:13: routes[1].action: expected answer, reject or forward, "
             "or register for REGISTER requests, got 'bounce'");
}
END_TEST

START_TEST(load_bad_route_without_action)
{
  expect_bad("routes_bad_no_action.yaml",
             "3:5: routes[1]: missing action (expected answer, reject or "
             "forward, or register for REGISTER requests)");
}
END_TEST

START_TEST(load_bad_route_unknown_key)
{
  expect_bad("routes_bad_key.yaml",
             "3:5: routes[0]: unknown key 'cod' (expected match, action, "
             "target, location, authenticate, code, reason, max_duration_s, "
             "ring_timeout_s, "
             "no_response_timeout_ms, codecs, auth, pass_headers or "
             "failover)");
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
             "'^(1' at offset 3: missing closing parenthesis");
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
  expect_bad(
      "routes_bad_no_target.yaml",
      "3:13: routes[0]: action forward needs a target (or location: true)");
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

/* RFC 3261 17.1.1.2: a shorter limit than timer B for a silent target,
 * forward only, at most ten minutes. */
START_TEST(load_bad_route_no_response_timeout)
{
  expect_bad("routes_bad_no_response.yaml",
             "4:29: routes[0].no_response_timeout_ms: expected an integer "
             "from 0 to 600000, got '700000'");
  expect_bad("routes_bad_no_response_action.yaml",
             "3:29: routes[0].no_response_timeout_ms: only action forward "
             "takes no_response_timeout_ms (this route's action is answer)");
}
END_TEST

/* RFC 3261 section 22.2: credentials for a target that challenges,
 * forward only, username and password both. */
START_TEST(load_bad_route_auth)
{
  expect_bad("routes_bad_auth_action.yaml",
             "3:11: routes[0].auth: only action forward takes auth (this "
             "route's action is reject)");
  expect_bad("routes_bad_auth_half.yaml",
             "4:11: routes[0].auth: needs both username and password");
  expect_bad("routes_bad_auth_key.yaml",
             "4:13: routes[0].auth: unknown key 'user' (expected username or "
             "password)");
}
END_TEST

START_TEST(load_bad_route_target_not_sip_uri)
{
  expect_bad("routes_bad_target_uri.yaml",
             "3:13: routes[0].target: expected a sip: or sips: URI, got "
             "'http://127.0.0.1/${ruri_user}'");
}
END_TEST

/* RFC 3261 section 26.2: a target over TLS (sips:, or ;transport=tls in
 * any case) needs a tls listen address to send from; with one it loads. */
START_TEST(load_bad_route_tls_target_without_tls_listen)
{
  expect_bad("routes_bad_target_tls.yaml",
             "3:13: routes[0].target: a sips: or ;transport=tls target needs "
             "a tls listen address (listen: tls:HOST:PORT)");
  expect_bad("routes_bad_failover_tls.yaml",
             "4:17: routes[0].failover[0]: a sips: or ;transport=tls target "
             "needs a tls listen address (listen: tls:HOST:PORT)");
  /* The same route with a tls listen address (and its certificate). */
  cay_config_init(&cfg);
  cfg.routes[0].action = CAY_ROUTE_FORWARD;
  strcpy(cfg.routes[0].target, "sips:${ruri_user}@127.0.0.1:5061");
  cfg.n_routes = 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_int_eq(cay_config_parse_listen("tls:127.0.0.1:0", &cfg.listen[2],
                                           err, sizeof err),
                   0);
  cfg.n_listen = 3;
  strcpy(cfg.tls_certificate, CAY_TEST_DATA "/tls/server.pem");
  strcpy(cfg.tls_private_key, CAY_TEST_DATA "/tls/server.key");
  ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == 0, "%s", err);
  /* A plain sip: target with transport=tcp is no TLS target. */
  cfg.n_listen = 2;
  strcpy(cfg.routes[0].target, "sip:${ruri_user}@127.0.0.1:5061;transport=tcp");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
}
END_TEST

/* RFC 7118 section 5: Cay opens no WebSocket connection, so a target
 * with transport=ws or wss is an error at its place, with or without a
 * ws listen address; transport=wsx is another transport. */
START_TEST(load_bad_route_ws_target)
{
  expect_bad("routes_bad_failover_ws.yaml",
             "4:17: routes[0].failover[0]: Cay opens no WebSocket "
             "connections (RFC 7118): a WebSocket client is reached on its "
             "registration, by a route with location: true");
  cay_config_init(&cfg);
  cfg.routes[0].action = CAY_ROUTE_FORWARD;
  strcpy(cfg.routes[0].target, "sip:${ruri_user}@127.0.0.1:8080;transport=ws");
  cfg.n_routes = 1;
  ck_assert_int_eq(cay_config_parse_listen("ws:127.0.0.1:0", &cfg.listen[2],
                                           err, sizeof err),
                   0);
  cfg.n_listen = 3;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_msg(strstr(err, "routes[0].target: Cay opens no WebSocket") != NULL,
                "%s", err);
  strcpy(cfg.routes[0].target, "sip:${ruri_user}@127.0.0.1:8080;transport=wsx");
  ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == 0, "%s", err);
}
END_TEST

/* RFC 3263: a host name is located when the call is forwarded. */
/* ---- dns: (RFC 3263 lookups) ---- */

START_TEST(load_3263_dns_servers_and_timeout)
{
  ck_assert_uint_eq(defaults.n_dns_servers, 0); /* the system's */
  ck_assert_uint_eq(defaults.dns_timeout_ms, 2000);
  ck_assert_uint_eq(defaults.dns_cache_entries, 1024);
  ck_assert_uint_eq(defaults.dns_cache_max_ttl_s, 3600);
  ck_assert_uint_eq(defaults.dns_failed_target_s, 60);
  ck_assert_int_eq(cay_config_load(&cfg, DATA "dns_good.yaml", err, sizeof err),
                   0);
  ck_assert_uint_eq(cfg.n_dns_servers, 3);
  ck_assert_str_eq(cfg.dns_servers[0], "127.0.0.1:5353");
  ck_assert_str_eq(cfg.dns_servers[1], "[::1]");
  ck_assert_str_eq(cfg.dns_servers[2], "192.0.2.53");
  ck_assert_uint_eq(cfg.dns_timeout_ms, 750);
  ck_assert_uint_eq(cfg.dns_cache_entries, 10);
  ck_assert_uint_eq(cfg.dns_cache_max_ttl_s, 60);
  ck_assert_uint_eq(cfg.dns_failed_target_s, 0); /* no memory */
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
}
END_TEST

START_TEST(load_bad_3263_dns)
{
  expect_bad("dns_bad_server.yaml",
             "2:32: dns.servers[1]: expected IP, IP:PORT or [IPv6]:PORT (a "
             "DNS server's address), got 'ns.example.com'");
  expect_bad("dns_bad_timeout.yaml",
             "2:15: dns.timeout_ms: expected an integer from 100 to 60000, "
             "got '50'");
  expect_bad("dns_bad_cache.yaml",
             "2:18: dns.cache_entries: expected an integer from 0 to "
             "1000000, got '2000000'");
  expect_bad("dns_bad_failed.yaml",
             "2:20: dns.failed_target_s: expected an integer from 0 to "
             "86400, got '90000'");
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "dns_too_many.yaml", err, sizeof err),
      CAY_ECONFIG);
  ck_assert_ptr_nonnull(strstr(err, "dns_too_many.yaml:2:"));
}
END_TEST

START_TEST(check_3263_dns)
{
  cfg.dns_timeout_ms = 99;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "dns.timeout_ms (99) must be 100 to 60000");
  cfg.dns_timeout_ms = 2000;
  cfg.n_dns_servers = 1;
  strcpy(cfg.dns_servers[0], "[::1]:0");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "dns.servers[0]: expected IP, IP:PORT or "
                        "[IPv6]:PORT (a DNS server's address), got '[::1]:0'");
  strcpy(cfg.dns_servers[0], "::1"); /* a bare IPv6 literal: port 53 */
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.n_dns_servers = CAY_CONFIG_MAX_DNS + 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "dns.servers: at most 4 servers");
  cfg.n_dns_servers = 0;
  cfg.dns_cache_entries = 1000001;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "dns.cache_entries (1000001) must be 0 to 1000000");
  cfg.dns_cache_entries = 0; /* no cache */
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.dns_cache_max_ttl_s = 0;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "dns.cache_max_ttl_s (0) must be 1 to 604800");
  cfg.dns_cache_max_ttl_s = 1;
  cfg.dns_failed_target_s = 86401;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "dns.failed_target_s (86401) must be 0 to 86400");
  cfg.dns_failed_target_s = 86400;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
}
END_TEST

START_TEST(load_route_target_host_name)
{
  ck_assert_int_eq(
      cay_config_load(&cfg, DATA "routes_target_dns.yaml", err, sizeof err), 0);
  ck_assert_str_eq(cfg.routes[0].target, "sip:${ruri_user}@pbx.example.com");
}
END_TEST

START_TEST(load_bad_route_target_host_name)
{
  expect_bad("routes_bad_target_host.yaml",
             "3:13: routes[0].target: target host 'pbx_1.example.com' is "
             "neither an IP address nor a host name");
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

START_TEST(load_bad_route_failover_target)
{
  expect_bad("routes_bad_failover.yaml",
             "4:39: routes[0].failover[1]: unknown variable '${user}' "
             "(expected ${ruri_user} or ${ruri_domain})");
}
END_TEST

/* failover goes with forward only, and an empty target is no target. */
START_TEST(check_route_failover)
{
  cay_config_init(&cfg);
  cfg.routes[0].action = CAY_ROUTE_FORWARD;
  strcpy(cfg.routes[0].target, "sip:1000@127.0.0.1:5070");
  cfg.routes[0].n_failover = 1;
  cfg.n_routes = 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes[0].failover[0]: expected a sip: or sips: URI");
  strcpy(cfg.routes[0].failover[0], "sip:${ruri_user}@127.0.0.2");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.routes[0].action = CAY_ROUTE_ANSWER;
  cfg.routes[0].target[0] = '\0';
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes[0].failover: only action forward takes "
                        "failover (this route's action is answer)");
}
END_TEST

START_TEST(load_bad_route_pass_header_of_cay_s_own)
{
  expect_bad("routes_bad_pass_header.yaml",
             "4:30: routes[0].pass_headers[1]: 'Contact': Cay writes this "
             "header itself");
}
END_TEST

/* What a pass_headers name may be: a token of two or more characters, a
 * prefix ending in '*', not a header Cay writes (any case). */
START_TEST(check_route_pass_header_names)
{
  static const char *const good[] = {
    "P-Asserted-Identity", "X-*", "x-*", "Diversion", "C*", "Alert-Info"
  };
  static const struct {
    const char *name, *why;
  } bad[] = {
    { "call-id", "Cay writes this header itself" },
    { "s", "a compact form: give the full name (Subject, not s)" },
    { "*", "not a header name (\"X-*\" is a prefix; \"*\" alone would pass "
           "everything)" },
    { "X Foo", "not a header name (RFC 3261 token)" },
    { "X-*-Y", "not a header name (RFC 3261 token)" },
    { "Via:", "not a header name (RFC 3261 token)" },
  };

  for (unsigned i = 0; i < sizeof good / sizeof *good; i++) {
    cay_config_init(&cfg);
    cfg.routes[0].action = CAY_ROUTE_FORWARD;
    strcpy(cfg.routes[0].target, "sip:1000@127.0.0.1:5070");
    strcpy(cfg.routes[0].pass_headers[0], good[i]);
    cfg.routes[0].n_pass_headers = 1;
    cfg.n_routes = 1;
    ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == 0, "%s: %s",
                  good[i], err);
  }
  for (unsigned i = 0; i < sizeof bad / sizeof *bad; i++) {
    char want[256];
    strcpy(cfg.routes[0].pass_headers[0], bad[i].name);
    ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
    snprintf(want, sizeof want, "routes[0].pass_headers[0]: '%s': %s",
             bad[i].name, bad[i].why);
    ck_assert_str_eq(err, want);
  }
  cfg.routes[0].action = CAY_ROUTE_REJECT;
  cfg.routes[0].target[0] = '\0';
  strcpy(cfg.routes[0].pass_headers[0], "Privacy");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes[0].pass_headers: only action forward takes "
                        "pass_headers (this route's action is reject)");
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
  ck_assert_str_eq(
      err, "routes[0]: action forward needs a target (or location: true)");
}
END_TEST

START_TEST(check_route_bad_regex)
{
  strcpy(cfg.routes[1].ruri_user, "a(2");
  cfg.n_routes = 2;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_ptr_nonnull(
      strstr(err, "routes[1].match.ruri_user: bad regular expression"));
}
END_TEST

/* Fuzzing found user patterns that glibc's regcomp() (Cay's regex engine
 * before PCRE2) took gigabytes or minutes to compile: stacked and nested
 * repetitions. PCRE2 refuses what is not a pattern (a quantifier after a
 * quantifier, parentheses past 32 deep) and compiles the rest at once. */
START_TEST(check_route_regex_costly_patterns)
{
  static const char *const refused[] = {
    "^(0)\\1*+++++++++++++++++++++++++++++++++++++++++++++++++++0*$",
    "^a*+*+*+*+*$",
    "^(((((((((((((((((((((((((((((((((1)))))))))))))))))))))))))))))))))$",
  };
  static const char *const kept[] = {
    "^((((((((((a*)+)*)+)*)+)*)+)*)+)$", /* exponential in regcomp() */
    "^((a*){1,40}){1,40}$",              /* not ending in regcomp() */
    "^(((a+)+)+)+$",
    "^(0)\\1$", /* a back-reference: matching is bounded (test_routes) */
    "^1[0-9]{3}$",
    "^\\+?[0-9]{7,15}$",
    "^(sip|tel)[[:digit:]]+(x|y)?$",
  };

  cfg.n_routes = 1;
  for (size_t i = 0; i < sizeof refused / sizeof *refused; i++) {
    strcpy(cfg.routes[0].ruri_user, refused[i]);
    ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
    ck_assert_msg(strstr(err, "routes[0].match.ruri_user: bad regular "
                              "expression"),
                  "%s: %s", refused[i], err);
  }
  for (size_t i = 0; i < sizeof kept / sizeof *kept; i++) {
    strcpy(cfg.routes[0].ruri_user, kept[i]);
    ck_assert_msg(cay_config_check(&cfg, err, sizeof err) == 0, "%s: %s",
                  kept[i], err);
  }
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

/* The username goes between quotes in Authorization (RFC 2617 3.2.2). */
START_TEST(check_route_auth_username_quotable)
{
  cfg.routes[0].action = CAY_ROUTE_FORWARD;
  strcpy(cfg.routes[0].target, "sip:1000@127.0.0.1");
  strcpy(cfg.routes[0].auth_username, "a\"b");
  strcpy(cfg.routes[0].auth_password, "x");
  cfg.n_routes = 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes[0].auth.username: '\"', '\\' and line "
                        "breaks are not allowed");
  strcpy(cfg.routes[0].auth_username, "ab");
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
}
END_TEST

START_TEST(check_route_no_response_timeout)
{
  cfg.routes[0].action = CAY_ROUTE_FORWARD;
  strcpy(cfg.routes[0].target, "sip:1000@127.0.0.1");
  cfg.routes[0].no_response_timeout_ms = 600000;
  cfg.n_routes = 1;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), 0);
  cfg.routes[0].no_response_timeout_ms = 600001;
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes[0].no_response_timeout_ms (600001) must be 0 "
                        "to 600000");
  cfg.routes[0].no_response_timeout_ms = 3000;
  cfg.routes[0].action = CAY_ROUTE_REJECT;
  cfg.routes[0].target[0] = '\0';
  ck_assert_int_eq(cay_config_check(&cfg, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes[0].no_response_timeout_ms: only action "
                        "forward takes no_response_timeout_ms (this route's "
                        "action is reject)");
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

static Suite *
config_routes_suite(void)
{
  Suite *s = suite_create("config_routes");
  TCase *tc;

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
  tcase_add_test(tc, load_bad_route_tls_target_without_tls_listen);
  tcase_add_test(tc, load_bad_route_ws_target);
  tcase_add_test(tc, load_bad_route_auth);
  tcase_add_test(tc, load_bad_route_no_response_timeout);
  tcase_add_test(tc, load_route_target_host_name);
  tcase_add_test(tc, load_bad_route_target_host_name);
  tcase_add_test(tc, load_bad_route_target_unknown_variable);
  tcase_add_test(tc, load_bad_route_21_code_not_4xx_to_6xx);
  tcase_add_test(tc, load_bad_route_codec);
  tcase_add_test(tc, load_bad_route_too_many);
  tcase_add_test(tc, load_bad_route_string_too_long);
  tcase_add_test(tc, check_route_slot_defaults_pass);
  tcase_add_test(tc, check_route_forward_without_target);
  tcase_add_test(tc, check_route_bad_regex);
  tcase_add_test(tc, check_route_regex_costly_patterns);
  tcase_add_test(tc, check_route_21_reject_code_range);
  tcase_add_test(tc, check_route_25_1_reason_without_crlf);
  tcase_add_test(tc, check_route_codecs_with_reject);
  tcase_add_test(tc, load_bad_route_pass_header_of_cay_s_own);
  tcase_add_test(tc, load_bad_route_failover_target);
  tcase_add_test(tc, check_route_failover);
  tcase_add_test(tc, check_route_pass_header_names);
  tcase_add_test(tc, check_route_no_response_timeout);
  tcase_add_test(tc, check_route_auth_username_quotable);
  tcase_add_test(tc, check_route_string_not_terminated);
  tcase_add_test(tc, check_too_many_routes);
  suite_add_tcase(s, tc);

  tc = tcase_create("dns");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, load_3263_dns_servers_and_timeout);
  tcase_add_test(tc, load_bad_3263_dns);
  tcase_add_test(tc, check_3263_dns);
  suite_add_tcase(s, tc);

  tc = tcase_create("session_timers");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, load_4028_session_timers_off);
  tcase_add_test(tc, load_bad_4028_5_min_se_below_90);
  tcase_add_test(tc, load_bad_4028_expires_below_min_se);
  tcase_add_test(tc, check_4028_session_timers);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  SRunner *sr = srunner_create(config_routes_suite());
  int failed;

  srunner_run_all(sr, CK_NORMAL);
  failed = srunner_ntests_failed(sr);
  srunner_free(sr);
  return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
