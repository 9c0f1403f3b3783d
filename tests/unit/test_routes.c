/*
 * The route matcher (src/b2bua/route.h): first match wins, each match key
 * alone and all together, target templates, and the compiled table's
 * memory.
 */
#include <check.h>

#include "support/run.h"
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "b2bua/route.h"
#include "cay/config.h"
#include "cay/errno.h"
#include "core/alloc.h"
#include "transport/addr.h"

static long live_at_start;
static cay_config_t cfg;
static cay__routes_t *table;
static char err[256];

static void
setup(void)
{
  live_at_start = cay__alloc_live();
  cay_config_init(&cfg);
  table = NULL;
  memset(err, 0, sizeof err);
}

static void
teardown(void)
{
  cay__routes_free(table);
  cay__alloc_fail_nth(0);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
}

/* Append a route with @p action; every other key keeps its default. */
static cay_route_t *
add_route(cay_route_action_t action)
{
  cay_route_t *r = &cfg.routes[cfg.n_routes++];

  r->action = action;
  return r;
}

static void
compile(void)
{
  ck_assert_int_eq(cay__routes_new(&cfg, &table, err, sizeof err), 0);
  ck_assert_str_eq(err, "");
}

/* The index of the route an INVITE from @p src (NULL: none) to
 * sip:@p user@@p domain takes, or -1 when none matches. */
static int
route_for(const char *method, const char *user, const char *domain,
          const char *src)
{
  cay__addr_t a;
  cay__route_req_t req = { method, user, domain, NULL };
  const cay_route_t *r;

  if (src) {
    ck_assert_int_eq(cay__addr_set(&a, src, 5060), 0);
    req.source = &a;
  }
  r = cay__routes_match(table, &req);
  return r ? (int)r->line - 1 : -1;
}

/* Number each route by its line (1-based) so that route_for() can tell
 * them apart. */
static void
number_routes(void)
{
  for (unsigned i = 0; i < cfg.n_routes; i++)
    cfg.routes[i].line = i + 1;
}

/* ---- order ---- */

START_TEST(routes_first_match_wins)
{
  strcpy(add_route(CAY_ROUTE_REJECT)->ruri_user, "^9");
  add_route(CAY_ROUTE_ANSWER);
  add_route(CAY_ROUTE_REJECT); /* never reached: the one above matches all */
  number_routes();
  compile();
  ck_assert_uint_eq(cay__routes_count(table), 3);
  ck_assert_int_eq(route_for("INVITE", "900", "x", NULL), 0);
  ck_assert_int_eq(route_for("INVITE", "800", "x", NULL), 1);
}
END_TEST

START_TEST(routes_no_match_is_null)
{
  cay__route_req_t req = { "INVITE", "100", "example.com", NULL };

  strcpy(add_route(CAY_ROUTE_ANSWER)->method, "OPTIONS");
  compile();
  ck_assert_ptr_null(cay__routes_match(table, &req));
}
END_TEST

START_TEST(routes_empty_table_matches_nothing)
{
  cay__route_req_t req = { "INVITE", "100", "example.com", NULL };

  compile();
  ck_assert_uint_eq(cay__routes_count(table), 0);
  ck_assert_ptr_null(cay__routes_match(table, &req));
  ck_assert_uint_eq(cay__routes_count(NULL), 0);
  ck_assert_ptr_null(cay__routes_match(NULL, &req));
}
END_TEST

START_TEST(routes_table_is_a_copy)
{
  /* Each shard owns its table: changing the config afterwards changes
   * nothing, and the route returned is the table's. */
  cay__route_req_t req = { "INVITE", "100", "example.com", NULL };
  const cay_route_t *r;

  strcpy(add_route(CAY_ROUTE_REJECT)->method, "INVITE");
  cfg.routes[0].code = 486;
  compile();
  strcpy(cfg.routes[0].method, "BYE");
  cfg.routes[0].code = 500;
  r = cay__routes_match(table, &req);
  ck_assert_ptr_nonnull(r);
  ck_assert_ptr_ne(r, &cfg.routes[0]);
  ck_assert_str_eq(r->method, "INVITE");
  ck_assert_uint_eq(r->code, 486);
}
END_TEST

/* ---- each key alone ---- */

START_TEST(routes_7_1_method_exact_case_sensitive)
{
  /* RFC 3261 section 7.1: the method name is case-sensitive. */
  strcpy(add_route(CAY_ROUTE_ANSWER)->method, "INVITE");
  number_routes();
  compile();
  ck_assert_int_eq(route_for("INVITE", "1", "x", NULL), 0);
  ck_assert_int_eq(route_for("invite", "1", "x", NULL), -1);
  ck_assert_int_eq(route_for("INVITEX", "1", "x", NULL), -1);
  ck_assert_int_eq(route_for("OPTIONS", "1", "x", NULL), -1);
}
END_TEST

START_TEST(routes_user_exact)
{
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_user, "^1000$");
  number_routes();
  compile();
  ck_assert_int_eq(route_for("INVITE", "1000", "x", NULL), 0);
  ck_assert_int_eq(route_for("INVITE", "10000", "x", NULL), -1);
  ck_assert_int_eq(route_for("INVITE", "100", "x", NULL), -1);
  ck_assert_int_eq(route_for("INVITE", "a1000", "x", NULL), -1);
  ck_assert_int_eq(route_for("INVITE", NULL, "x", NULL), -1);
}
END_TEST

START_TEST(routes_user_prefix)
{
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_user, "^1");
  number_routes();
  compile();
  ck_assert_int_eq(route_for("INVITE", "1", "x", NULL), 0);
  ck_assert_int_eq(route_for("INVITE", "123", "x", NULL), 0);
  ck_assert_int_eq(route_for("INVITE", "21", "x", NULL), -1);
  ck_assert_int_eq(route_for("INVITE", "", "x", NULL), -1);
}
END_TEST

START_TEST(routes_user_regex)
{
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_user, "^[0-9]{3}$");
  /* Not a literal: '.' is any character, so this takes the regex. */
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_user, "^1.5");
  /* Unanchored: anywhere in the user. */
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_user, "bob");
  number_routes();
  compile();
  ck_assert_int_eq(route_for("INVITE", "123", "x", NULL), 0);
  ck_assert_int_eq(route_for("INVITE", "1x5", "x", NULL), 1);
  ck_assert_int_eq(route_for("INVITE", "1234", "x", NULL), -1);
  ck_assert_int_eq(route_for("INVITE", "alice.bob.2", "x", NULL), 2);
  ck_assert_int_eq(route_for("INVITE", "Bob", "x", NULL), -1);
}
END_TEST

/* A caller picks the Request-URI user. With "^(a|aa)+c" first, a user
 * of 40 a's and a b costs about 10^8 backtracking steps before the
 * second alternative can match: PCRE2's match limit (about 10^5) gives
 * up first, and a match given up is no match, so the next route is
 * taken. With 10 a's it is a few hundred steps: a match. */
START_TEST(routes_user_regex_backtracking_is_bounded)
{
  char user[64];

  strcpy(add_route(CAY_ROUTE_REJECT)->ruri_user, "^(a|aa)+c|^a+b$");
  add_route(CAY_ROUTE_ANSWER);
  number_routes();
  compile();
  memset(user, 'a', 40);
  strcpy(user + 40, "b");
  ck_assert_int_eq(route_for("INVITE", user, "x", NULL), 1);
  strcpy(user + 10, "b");
  ck_assert_int_eq(route_for("INVITE", user, "x", NULL), 0);
  ck_assert_int_eq(route_for("INVITE", "aaad", "x", NULL), 1);
}
END_TEST

START_TEST(routes_user_absent_is_empty)
{
  /* A R-URI without a user matches only a pattern accepting "". */
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_user, "^1");
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_user, "^$");
  number_routes();
  compile();
  ck_assert_int_eq(route_for("INVITE", NULL, "x", NULL), 1);
  ck_assert_int_eq(route_for("INVITE", "", "x", NULL), 1);
  ck_assert_int_eq(route_for("INVITE", "1", "x", NULL), 0);
}
END_TEST

START_TEST(routes_domain_case_insensitive)
{
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_domain, "Example.COM");
  number_routes();
  compile();
  ck_assert_int_eq(route_for("INVITE", "1", "example.com", NULL), 0);
  ck_assert_int_eq(route_for("INVITE", "1", "EXAMPLE.com", NULL), 0);
  ck_assert_int_eq(route_for("INVITE", "1", "example.co", NULL), -1);
  ck_assert_int_eq(route_for("INVITE", "1", "sub.example.com", NULL), -1);
  ck_assert_int_eq(route_for("INVITE", "1", NULL, NULL), -1);
}
END_TEST

START_TEST(routes_domain_ip_literal_by_address)
{
  /* "::1" and "0:0::1" are one address; brackets in the config are
   * allowed, the request's domain comes without them. */
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_domain, "[::1]");
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_domain, "10.0.0.1");
  number_routes();
  compile();
  ck_assert_int_eq(route_for("INVITE", "1", "::1", NULL), 0);
  ck_assert_int_eq(route_for("INVITE", "1", "0:0::1", NULL), 0);
  ck_assert_int_eq(route_for("INVITE", "1", "10.0.0.1", NULL), 1);
  ck_assert_int_eq(route_for("INVITE", "1", "10.0.0.2", NULL), -1);
  ck_assert_int_eq(route_for("INVITE", "1", "localhost", NULL), -1);
}
END_TEST

START_TEST(routes_source_ipv4_cidr_edges)
{
  strcpy(add_route(CAY_ROUTE_ANSWER)->source, "10.0.0.0/8");
  strcpy(add_route(CAY_ROUTE_ANSWER)->source, "192.168.1.128/25");
  number_routes();
  compile();
  ck_assert_int_eq(route_for("INVITE", "1", "x", "10.0.0.0"), 0);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "10.255.255.255"), 0);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "9.255.255.255"), -1);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "11.0.0.0"), -1);
  /* A prefix that ends inside a byte. */
  ck_assert_int_eq(route_for("INVITE", "1", "x", "192.168.1.128"), 1);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "192.168.1.255"), 1);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "192.168.1.127"), -1);
  /* No source given: a route with a source never matches. */
  ck_assert_int_eq(route_for("INVITE", "1", "x", NULL), -1);
}
END_TEST

START_TEST(routes_source_ipv4_slash0_and_slash32)
{
  strcpy(add_route(CAY_ROUTE_ANSWER)->source, "127.0.0.1/32");
  strcpy(add_route(CAY_ROUTE_ANSWER)->source, "0.0.0.0/0");
  number_routes();
  compile();
  ck_assert_int_eq(route_for("INVITE", "1", "x", "127.0.0.1"), 0);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "127.0.0.2"), 1);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "255.255.255.255"), 1);
  /* An IPv4 block never matches an IPv6 source, even /0. */
  ck_assert_int_eq(route_for("INVITE", "1", "x", "::1"), -1);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "::ffff:127.0.0.1"), -1);
}
END_TEST

START_TEST(routes_source_bare_ip)
{
  strcpy(add_route(CAY_ROUTE_ANSWER)->source, "192.0.2.7");
  strcpy(add_route(CAY_ROUTE_ANSWER)->source, "2001:db8::7");
  number_routes();
  compile();
  ck_assert_int_eq(route_for("INVITE", "1", "x", "192.0.2.7"), 0);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "192.0.2.6"), -1);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "2001:db8::7"), 1);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "2001:db8::6"), -1);
}
END_TEST

START_TEST(routes_source_ipv6_cidr_edges)
{
  strcpy(add_route(CAY_ROUTE_ANSWER)->source, "2001:db8::/32");
  strcpy(add_route(CAY_ROUTE_ANSWER)->source, "fe80::/10");
  strcpy(add_route(CAY_ROUTE_ANSWER)->source, "::1/128");
  strcpy(add_route(CAY_ROUTE_REJECT)->source, "::/0");
  number_routes();
  compile();
  ck_assert_int_eq(route_for("INVITE", "1", "x", "2001:db8::"), 0);
  ck_assert_int_eq(
      route_for("INVITE", "1", "x", "2001:db8:ffff:ffff:ffff:ffff:ffff:ffff"),
      0);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "2001:db9::"), 3);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "fe80::1"), 1);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "febf::1"), 1);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "fec0::1"), 3);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "::1"), 2);
  ck_assert_int_eq(route_for("INVITE", "1", "x", "::2"), 3);
  /* An IPv6 block never matches an IPv4 source. */
  ck_assert_int_eq(route_for("INVITE", "1", "x", "127.0.0.1"), -1);
}
END_TEST

START_TEST(routes_all_keys_together)
{
  cay_route_t *r = add_route(CAY_ROUTE_FORWARD);

  strcpy(r->method, "INVITE");
  strcpy(r->ruri_user, "^1");
  strcpy(r->ruri_domain, "example.com");
  strcpy(r->source, "10.0.0.0/8");
  strcpy(r->target, "sip:${ruri_user}@127.0.0.1:5070");
  add_route(CAY_ROUTE_REJECT); /* whatever the first one leaves */
  number_routes();
  compile();
  ck_assert_int_eq(route_for("INVITE", "100", "example.com", "10.1.1.1"), 0);
  /* Each key failing alone sends the request on to the next route. */
  ck_assert_int_eq(route_for("MESSAGE", "100", "example.com", "10.1.1.1"), 1);
  ck_assert_int_eq(route_for("INVITE", "200", "example.com", "10.1.1.1"), 1);
  ck_assert_int_eq(route_for("INVITE", "100", "example.org", "10.1.1.1"), 1);
  ck_assert_int_eq(route_for("INVITE", "100", "example.com", "11.1.1.1"), 1);
}
END_TEST

/* ---- target templates ---- */

static long
expand(const char *tmpl, const char *user, const char *domain, char *out,
       size_t outlen)
{
  cay_route_t r;
  cay__route_req_t req = { "INVITE", user, domain, NULL };

  memset(&r, 0, sizeof r);
  r.action = CAY_ROUTE_FORWARD;
  strcpy(r.target, tmpl);
  return cay__route_target(&r, &req, out, outlen);
}

START_TEST(target_expands_both_variables)
{
  char out[128];

  ck_assert_int_eq(expand("sip:${ruri_user}@127.0.0.1:5070;x=${ruri_domain}",
                          "1000", "example.com", out, sizeof out),
                   (long)strlen("sip:1000@127.0.0.1:5070;x=example.com"));
  ck_assert_str_eq(out, "sip:1000@127.0.0.1:5070;x=example.com");
  ck_assert_int_eq(expand("sip:${ruri_user}${ruri_user}@10.0.0.1", "12", "d",
                          out, sizeof out),
                   (long)strlen("sip:1212@10.0.0.1"));
  ck_assert_str_eq(out, "sip:1212@10.0.0.1");
}
END_TEST

START_TEST(target_without_variables_is_copied)
{
  char out[64];

  ck_assert_int_eq(expand("sip:pbx@10.0.0.1", "1", "d", out, sizeof out), 16);
  ck_assert_str_eq(out, "sip:pbx@10.0.0.1");
}
END_TEST

START_TEST(target_25_1_ipv6_domain_in_brackets)
{
  /* RFC 3261 section 25.1: an IPv6 host is an IPv6reference, "[...]". */
  char out[64];

  ck_assert_int_eq(expand("sip:${ruri_user}@${ruri_domain}:5070", "7", "::1",
                          out, sizeof out),
                   (long)strlen("sip:7@[::1]:5070"));
  ck_assert_str_eq(out, "sip:7@[::1]:5070");
}
END_TEST

START_TEST(target_user_absent_is_empty)
{
  char out[64];

  ck_assert_int_eq(
      expand("sip:${ruri_user}@127.0.0.1", NULL, "d", out, sizeof out),
      (long)strlen("sip:@127.0.0.1"));
  ck_assert_str_eq(out, "sip:@127.0.0.1");
}
END_TEST

/* RFC 3261 section 25.1: what a user part may not hold is escaped (a '>'
 * sofia-sip took in a Request-URI would end the target's URI early; found
 * by test_bridge_random); what it may hold, escapes included, stays. */
START_TEST(target_25_1_user_escaped)
{
  char out[96];

  ck_assert_int_eq(expand("sip:${ruri_user}@127.0.0.1", "service> a\"<", "d",
                          out, sizeof out),
                   (long)strlen("sip:service%3E%20a%22%3C@127.0.0.1"));
  ck_assert_str_eq(out, "sip:service%3E%20a%22%3C@127.0.0.1");
  ck_assert_int_gt(expand("sip:${ruri_user}@127.0.0.1",
                          "+1-(555)_x.y!~*';&=$,?/%41", "d", out, sizeof out),
                   0);
  ck_assert_str_eq(out, "sip:+1-(555)_x.y!~*';&=$,?/%41@127.0.0.1");
  /* An escape counts as three bytes against the room. */
  ck_assert_int_eq(expand("sip:${ruri_user}@h", "a>", "d", out, 10),
                   CAY_ELIMIT);
  ck_assert_int_eq(expand("sip:${ruri_user}@h", "a>", "d", out, 11),
                   (long)strlen("sip:a%3E@h"));
}
END_TEST

START_TEST(target_overflow_is_elimit)
{
  /* "sip:1000@127.0.0.1" is 18 bytes: 19 with the NUL fits, 18 does
   * not. */
  char out[32];

  ck_assert_int_eq(expand("sip:${ruri_user}@127.0.0.1", "1000", "d", out, 19),
                   18);
  ck_assert_str_eq(out, "sip:1000@127.0.0.1");
  memset(out, 'x', sizeof out);
  ck_assert_int_eq(expand("sip:${ruri_user}@127.0.0.1", "1000", "d", out, 18),
                   CAY_ELIMIT);
  ck_assert_str_eq(out, "");
  /* Overflowing inside the variable, and with no room at all. */
  ck_assert_int_eq(expand("sip:${ruri_user}@127.0.0.1", "1000", "d", out, 6),
                   CAY_ELIMIT);
  ck_assert_int_eq(expand("", "1", "d", out, 0), CAY_ELIMIT);
}
END_TEST

/* ---- compile errors and memory ---- */

START_TEST(routes_new_bad_regex)
{
  add_route(CAY_ROUTE_ANSWER);
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_user, "^(1");
  ck_assert_int_eq(cay__routes_new(&cfg, &table, err, sizeof err), CAY_ECONFIG);
  ck_assert_ptr_null(table);
  ck_assert_str_eq(err, "routes[1].match.ruri_user: bad regular expression "
                        "'^(1' at offset 3: missing closing parenthesis");
}
END_TEST

START_TEST(routes_new_bad_source)
{
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_user, "[0-9]+");
  strcpy(add_route(CAY_ROUTE_ANSWER)->source, "10.0.0.0/40");
  ck_assert_int_eq(cay__routes_new(&cfg, &table, err, sizeof err), CAY_ECONFIG);
  ck_assert_ptr_null(table);
  ck_assert_str_eq(err, "routes[1].match.source: prefix length '40' is not "
                        "from 0 to 32");
}
END_TEST

START_TEST(routes_new_too_many)
{
  cfg.n_routes = CAY_CONFIG_MAX_ROUTES + 1;
  ck_assert_int_eq(cay__routes_new(&cfg, &table, err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "routes: at most 32 routes are allowed, got 33");
}
END_TEST

START_TEST(routes_new_enomem)
{
  strcpy(add_route(CAY_ROUTE_ANSWER)->ruri_user, "[0-9]+");
  cay__alloc_fail_nth(1);
  ck_assert_int_eq(cay__routes_new(&cfg, &table, err, sizeof err), -ENOMEM);
  ck_assert_ptr_null(table);
  ck_assert_str_eq(err, "out of memory");
}
END_TEST

START_TEST(routes_free_releases_everything)
{
  /* Regexes, literals and CIDRs, all routes full: back to the start. */
  for (unsigned i = 0; i < CAY_CONFIG_MAX_ROUTES; i++) {
    cay_route_t *r = add_route(CAY_ROUTE_ANSWER);

    snprintf(r->ruri_user, sizeof r->ruri_user, i % 2 ? "^%u$" : "^%u[0-9]*$",
             i);
    strcpy(r->source, i % 2 ? "10.0.0.0/8" : "2001:db8::/32");
  }
  compile();
  ck_assert_uint_eq(cay__routes_count(table), CAY_CONFIG_MAX_ROUTES);
  /* The table, and PCRE2's memory for 16 regexes through the shim. */
  ck_assert_int_gt(cay__alloc_live(), live_at_start + 16);
  cay__routes_free(table);
  table = NULL;
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
  ck_assert_int_eq(cay__alloc_live(), live_at_start);
  cay__routes_free(NULL);
}
END_TEST

/* ---- check helpers ---- */

static int
check_target(const char *tmpl, const char *domain)
{
  cay_route_t r;

  memset(&r, 0, sizeof r);
  r.action = CAY_ROUTE_FORWARD;
  strcpy(r.target, tmpl);
  strcpy(r.ruri_domain, domain);
  return cay__route_check_target(&r, err, sizeof err);
}

START_TEST(check_target_accepts_ip_hosts)
{
  ck_assert_int_eq(check_target("sip:${ruri_user}@127.0.0.1:5070", ""), 0);
  ck_assert_int_eq(check_target("sips:${ruri_user}@[2001:db8::1]", ""), 0);
  ck_assert_int_eq(check_target("sip:pbx@10.0.0.1;transport=tcp", ""), 0);
  /* The route pins the domain to an IP: ${ruri_domain} is that IP. */
  ck_assert_int_eq(check_target("sip:${ruri_user}@${ruri_domain}", "::1"), 0);
}
END_TEST

START_TEST(check_target_refuses)
{
  ck_assert_int_eq(check_target("sip:1@127.0.0.1:0", ""), CAY_ECONFIG);
  ck_assert_str_eq(err, "target port '0' is not from 1 to 65535");
  ck_assert_int_eq(check_target("sip:1@127.0.0.1:65536", ""), CAY_ECONFIG);
  ck_assert_str_eq(err, "target port '65536' is not from 1 to 65535");
  ck_assert_int_eq(check_target("sip:${ruri_user@127.0.0.1", ""), CAY_ECONFIG);
  ck_assert_str_eq(err, "'${' without a closing '}' in "
                        "'sip:${ruri_user@127.0.0.1'");
  ck_assert_int_eq(check_target("sip:a b@127.0.0.1", ""), CAY_ECONFIG);
  ck_assert_str_eq(err, "expected a sip: or sips: URI, got 'sip:a "
                        "b@127.0.0.1'");
  ck_assert_int_eq(check_target("tel:+123", ""), CAY_ECONFIG);
  ck_assert_str_eq(err, "expected a sip: or sips: URI, got 'tel:+123'");
  ck_assert_int_eq(check_target("sip:1@pbx_1.example.com", ""), CAY_ECONFIG);
  ck_assert_str_eq(err, "target host 'pbx_1.example.com' is neither an IP "
                        "address nor a host name");
  ck_assert_int_eq(check_target("sip:1@pbx.-example.com", ""), CAY_ECONFIG);
  ck_assert_int_eq(check_target("sip:1@pbx.example.123", ""), CAY_ECONFIG);
  ck_assert_int_eq(check_target("sip:1@pbx..example.com", ""), CAY_ECONFIG);
}
END_TEST

/* RFC 3263: a host name is located when a call is forwarded. */
START_TEST(check_target_takes_host_names)
{
  ck_assert_int_eq(check_target("sip:${ruri_user}@${ruri_domain}", "Pbx.Lan"),
                   0);
  ck_assert_int_eq(check_target("sip:1@pbx.example.com.", ""), 0);
  ck_assert_int_eq(check_target("sip:1@gw-1.example.com:5080", ""), 0);
  ck_assert_int_eq(check_target("sips:1@localhost", ""), 0);
}
END_TEST

START_TEST(check_user_and_source)
{
  ck_assert_int_eq(cay__route_check_user("^1(0|1)*$", err, sizeof err), 0);
  ck_assert_int_eq(cay__route_check_user("a[2", err, sizeof err), CAY_ECONFIG);
  ck_assert_str_eq(err, "bad regular expression 'a[2' at offset 3: missing "
                        "terminating ] for character class");
  ck_assert_int_eq(cay__route_check_source("::/0", err, sizeof err), 0);
  ck_assert_int_eq(cay__route_check_source("[::1]", err, sizeof err),
                   CAY_ECONFIG);
  ck_assert_str_eq(err, "expected an IP address or a CIDR such as "
                        "10.0.0.0/8 or 2001:db8::/32, got '[::1]'");
  ck_assert_int_eq(cay__route_check_source("10.0.0.0/+8", err, sizeof err),
                   CAY_ECONFIG);
  ck_assert_str_eq(err, "prefix length '+8' is not from 0 to 32");
  ck_assert_int_eq(cay__route_check_source("2001:db8::1/32", err, sizeof err),
                   CAY_ECONFIG);
  ck_assert_str_eq(err, "'2001:db8::1/32' has bits set beyond the prefix "
                        "(the network is 2001:db8::/32)");
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("routes");
  TCase *tc;

  tc = tcase_create("match");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, routes_first_match_wins);
  tcase_add_test(tc, routes_no_match_is_null);
  tcase_add_test(tc, routes_empty_table_matches_nothing);
  tcase_add_test(tc, routes_table_is_a_copy);
  tcase_add_test(tc, routes_7_1_method_exact_case_sensitive);
  tcase_add_test(tc, routes_user_exact);
  tcase_add_test(tc, routes_user_prefix);
  tcase_add_test(tc, routes_user_regex);
  tcase_add_test(tc, routes_user_regex_backtracking_is_bounded);
  tcase_add_test(tc, routes_user_absent_is_empty);
  tcase_add_test(tc, routes_domain_case_insensitive);
  tcase_add_test(tc, routes_domain_ip_literal_by_address);
  tcase_add_test(tc, routes_source_ipv4_cidr_edges);
  tcase_add_test(tc, routes_source_ipv4_slash0_and_slash32);
  tcase_add_test(tc, routes_source_bare_ip);
  tcase_add_test(tc, routes_source_ipv6_cidr_edges);
  tcase_add_test(tc, routes_all_keys_together);
  suite_add_tcase(s, tc);

  tc = tcase_create("target");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, target_expands_both_variables);
  tcase_add_test(tc, target_without_variables_is_copied);
  tcase_add_test(tc, target_25_1_ipv6_domain_in_brackets);
  tcase_add_test(tc, target_user_absent_is_empty);
  tcase_add_test(tc, target_25_1_user_escaped);
  tcase_add_test(tc, target_overflow_is_elimit);
  suite_add_tcase(s, tc);

  tc = tcase_create("table");
  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, routes_new_bad_regex);
  tcase_add_test(tc, routes_new_bad_source);
  tcase_add_test(tc, routes_new_too_many);
  tcase_add_test(tc, routes_new_enomem);
  tcase_add_test(tc, routes_free_releases_everything);
  tcase_add_test(tc, check_target_accepts_ip_hosts);
  tcase_add_test(tc, check_target_refuses);
  tcase_add_test(tc, check_target_takes_host_names);
  tcase_add_test(tc, check_user_and_source);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
