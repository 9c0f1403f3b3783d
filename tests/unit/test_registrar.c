/*
 * The registrar (RFC 3261 section 10.3) through the UAS core: REGISTERs
 * from a scripted peer, the shard's virtual clock for expiry, and the
 * 200's Contact list as the judge of what is bound.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "b2bua/route.h"
#include "dialog/auth.h"
#include "registrar/registrar.h"
#include "support/peer.h"
#include "support/register.h"
#include "support/run.h"

#define ALICE "sip:alice@example.com"
#define BOB   "sip:bob@example.com"

/* A configuration with one route, action register, and the registrar's
 * values this file counts on (@p users: alice/secret and bob/hunter2). */
static void
reg_config(cay_config_t *cfg, int users)
{
  cay_config_init(cfg);
  cfg->n_routes = 1;
  cfg->routes[0].action = CAY_ROUTE_REGISTER;
  strcpy(cfg->routes[0].method, "REGISTER");
  cfg->reg_min_expires_s = 60;
  cfg->reg_max_expires_s = 3600;
  cfg->reg_default_expires_s = 1800;
  cfg->reg_max_bindings = 3;
  cfg->reg_max_aors = 100;
  cfg->n_reg_users = 0;
  if (users) {
    strcpy(cfg->reg_users[0].username, "alice");
    strcpy(cfg->reg_users[0].password, "secret");
    strcpy(cfg->reg_users[1].username, "bob");
    strcpy(cfg->reg_users[1].password, "hunter2");
    cfg->n_reg_users = 2;
  }
}

static peer_t *
reg_peer(int users)
{
  cay_config_t cfg;

  reg_config(&cfg, users);
  return peer_new(&cfg);
}

/* REGISTER sip:example.com for @p aor: its status. */
static int
reg(peer_t *p, const char *aor, const char *cid, unsigned cseq,
    const char *extra)
{
  return reg_send(p, "example.com", aor, cid, cseq, extra);
}

/* The Contact header values of the last message Cay sent, joined by
 * ", " as sofia-sip prints them ("" when there is none); free(). */
static char *
contacts(peer_t *p)
{
  char *c = peer_header(p, p->nsent - 1, "Contact");

  return c ? c : strdup("");
}

/* The bindings of @p aor now, by a REGISTER without Contact (a query:
 * section 10.2.3); free(). */
static char *
bindings(peer_t *p, const char *aor)
{
  ck_assert_int_eq(reg(p, aor, "query", 1, ""), 200);
  return contacts(p);
}

static void
bindings_are(peer_t *p, const char *aor, const char *want)
{
  char *got = bindings(p, aor);

  ck_assert_str_eq(got, want);
  free(got);
}

START_TEST(register_10_3_without_register_route_405)
{
  peer_t *p = peer_new(NULL);

  ck_assert_int_eq(
      reg(p, ALICE, "c1", 1, "Contact: <sip:alice@127.0.0.1:5070>\r\n"), 405);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 0);
  peer_free(p);
}
END_TEST

/* The Allow header of what Cay sent to @p method "request.sip"
 * (outside a dialog): is REGISTER among its methods? */
static int
allows_register(peer_t *p, const char *method, int status)
{
  char *allow;
  int found;

  peer_send(p, "request.sip", "method", method, "branch", "z9hG4bK-allow",
            "fromtag", "ft1", "callid", method, "cseq", "1", "totag", "",
            "maxfwd", "70", "extra", "", NULL);
  ck_assert_int_eq(peer_last_status(p), status);
  allow = peer_header(p, p->nsent - 1, "Allow");
  ck_assert_ptr_nonnull(allow);
  ck_assert_ptr_nonnull(strstr(allow, "INVITE"));
  found = strstr(allow, "REGISTER") != NULL;
  free(allow);
  return found;
}

/* Sections 11.2 and 8.2.1: OPTIONS and a 405 outside a dialog list
 * REGISTER when a route takes it, and only then. */
START_TEST(register_10_3_allow_lists_register)
{
  peer_t *p = peer_new(NULL);

  ck_assert(!allows_register(p, "OPTIONS", 200));
  ck_assert(!allows_register(p, "SUBSCRIBE", 405));
  peer_free(p);
  p = reg_peer(0);
  ck_assert(allows_register(p, "OPTIONS", 200));
  ck_assert(allows_register(p, "SUBSCRIBE", 405));
  peer_free(p);
}
END_TEST

START_TEST(register_10_3_bound_listed_and_expired)
{
  peer_t *p = reg_peer(0);
  char *date;

  ck_assert_int_eq(reg(p, ALICE, "c1", 1,
                       "Contact: <sip:alice@127.0.0.1:5070>\r\n"
                       "Expires: 120\r\n"),
                   200);
  bindings_are(p, ALICE, "<sip:alice@127.0.0.1:5070>;expires=120");
  date = peer_header(p, p->nsent - 1, "Date");
  ck_assert_ptr_nonnull(date);
  ck_assert(strstr(date, " GMT") != NULL);
  free(date);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 1);
  ck_assert_uint_eq(p->shard.stats.registers, 2);
  /* Another AOR is another set of bindings. */
  bindings_are(p, BOB, "");
  peer_advance(p, 119500);
  bindings_are(p, ALICE, "<sip:alice@127.0.0.1:5070>;expires=1");
  peer_advance(p, 600);
  bindings_are(p, ALICE, "");
  ck_assert_uint_eq(p->shard.stats.bindings_live, 0);
  ck_assert_uint_eq(cay__registrar_aors(p->ss.reg), 0);
  peer_free(p);
}
END_TEST

/* Item 7: the same Call-ID needs a higher CSeq; another Call-ID (the UA
 * restarted) may change the binding whatever its CSeq. */
START_TEST(register_10_3_refresh_order_and_removal)
{
  peer_t *p = reg_peer(0);
  const char *c = "Contact: <sip:alice@127.0.0.1:5070>;expires=300\r\n";

  ck_assert_int_eq(reg(p, ALICE, "c1", 5, c), 200);
  ck_assert_int_eq(reg(p, ALICE, "c1", 5,
                       "Contact: "
                       "<sip:alice@127.0.0.1:5070>;"
                       "expires=900\r\n"),
                   500);
  ck_assert_uint_eq(p->shard.stats.registers_refused, 1);
  bindings_are(p, ALICE, "<sip:alice@127.0.0.1:5070>;expires=300");
  peer_advance(p, 100000);
  ck_assert_int_eq(reg(p, ALICE, "c1", 6, c), 200);
  bindings_are(p, ALICE, "<sip:alice@127.0.0.1:5070>;expires=300");
  ck_assert_int_eq(reg(p, ALICE, "c2", 1, c), 200);
  /* The contact URI compares by RFC 3261 section 19.1.4: the host's
   * case does not make a second binding. */
  ck_assert_int_eq(
      reg(p, ALICE, "c2", 2,
          "Contact: <sip:alice@LOCALHOST:5070>\r\nExpires: 70\r\n"),
      200);
  ck_assert_int_eq(reg(p, ALICE, "c2", 3,
                       "Contact: <sip:alice@localhost:5070>;expires=0\r\n"),
                   200);
  bindings_are(p, ALICE, "<sip:alice@127.0.0.1:5070>;expires=300");
  ck_assert_int_eq(reg(p, ALICE, "c2", 4,
                       "Contact: <sip:alice@127.0.0.1:5070>\r\n"
                       "Expires: 0\r\n"),
                   200);
  bindings_are(p, ALICE, "");
  ck_assert_uint_eq(p->shard.stats.bindings_live, 0);
  peer_free(p);
}
END_TEST

/* Item 6: "*" with Expires 0 removes every binding, and only that way. */
START_TEST(register_10_3_wildcard)
{
  peer_t *p = reg_peer(0);

  ck_assert_int_eq(reg(p, ALICE, "c1", 1,
                       "Contact: <sip:a@127.0.0.1:1>, <sip:a@127.0.0.1:2>\r\n"),
                   200);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 2);
  ck_assert_int_eq(reg(p, ALICE, "c1", 2, "Contact: *\r\n"), 400);
  ck_assert_int_eq(reg(p, ALICE, "c1", 3, "Contact: *\r\nExpires: 60\r\n"),
                   400);
  ck_assert_int_eq(reg(p, ALICE, "c1", 4,
                       "Contact: *, <sip:a@127.0.0.1:3>\r\nExpires: 0\r\n"),
                   400);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 2);
  /* Older than the bindings it would remove: refused, all kept. */
  ck_assert_int_eq(reg(p, ALICE, "c1", 1, "Contact: *\r\nExpires: 0\r\n"), 500);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 2);
  ck_assert_int_eq(reg(p, ALICE, "c9", 1, "Contact: *\r\nExpires: 0\r\n"), 200);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 0);
  ck_assert_uint_eq(cay__registrar_aors(p->ss.reg), 0);
  peer_free(p);
}
END_TEST

/* Items 7 and 8: an interval under the minimum gets 423 with
 * Min-Expires; one over the maximum is cut; none given is the default. */
START_TEST(register_10_3_expires_limits)
{
  peer_t *p = reg_peer(0);
  char *me;

  ck_assert_int_eq(
      reg(p, ALICE, "c1", 1, "Contact: <sip:a@127.0.0.1:1>;expires=59\r\n"),
      423);
  me = peer_header(p, p->nsent - 1, "Min-Expires");
  ck_assert_str_eq(me, "60");
  free(me);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 0);
  ck_assert_int_eq(
      reg(p, ALICE, "c1", 2, "Contact: <sip:a@127.0.0.1:1>;expires=99999\r\n"),
      200);
  bindings_are(p, ALICE, "<sip:a@127.0.0.1:1>;expires=3600");
  ck_assert_int_eq(reg(p, ALICE, "c1", 3, "Contact: <sip:a@127.0.0.1:1>\r\n"),
                   200);
  bindings_are(p, ALICE, "<sip:a@127.0.0.1:1>;expires=1800");
  /* The Contact's parameter wins over the header (section 10.2.1.1). */
  ck_assert_int_eq(reg(p, ALICE, "c1", 4,
                       "Contact: <sip:a@127.0.0.1:1>;expires=61\r\n"
                       "Expires: 3000\r\n"),
                   200);
  bindings_are(p, ALICE, "<sip:a@127.0.0.1:1>;expires=61");
  peer_free(p);
}
END_TEST

/* A request with one bad Contact binds none of the others; the limits
 * refuse a request as a whole too. */
START_TEST(register_10_3_all_or_nothing_and_limits)
{
  cay_config_t cfg;
  peer_t *p;

  reg_config(&cfg, 0);
  cfg.reg_max_aors = 1;
  p = peer_new(&cfg);
  ck_assert_int_eq(reg(p, ALICE, "c1", 1,
                       "Contact: <sip:a@127.0.0.1:1>, "
                       "<sip:a@127.0.0.1:2>;q=2\r\n"),
                   400);
  ck_assert_int_eq(reg(p, ALICE, "c1", 2,
                       "Contact: <sip:a@127.0.0.1:1>, <mailto:a@b.c>\r\n"),
                   400);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 0);
  ck_assert_int_eq(reg(p, ALICE, "c1", 3,
                       "Contact: <sip:a@127.0.0.1:1>;q=0.5, "
                       "<sip:a@127.0.0.1:2>;q=1\r\n"),
                   200);
  /* max_bindings 3: a fourth and fifth in one request are refused, and
   * a removal in the same request makes room for one. */
  ck_assert_int_eq(reg(p, ALICE, "c1", 4,
                       "Contact: <sip:a@127.0.0.1:3>, <sip:a@127.0.0.1:4>\r\n"),
                   403);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 2);
  ck_assert_int_eq(reg(p, ALICE, "c1", 5,
                       "Contact: <sip:a@127.0.0.1:3>, <sip:a@127.0.0.1:4>, "
                       "<sip:a@127.0.0.1:1>;expires=0\r\n"),
                   200);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 3);
  /* max_aors 1: a second AOR waits (503 with Retry-After). */
  ck_assert_int_eq(reg(p, BOB, "c2", 1, "Contact: <sip:b@127.0.0.1:1>\r\n"),
                   503);
  char *ra = peer_header(p, p->nsent - 1, "Retry-After");
  ck_assert_ptr_nonnull(ra);
  free(ra);
  ck_assert_int_eq(reg(p, ALICE, "c1", 6, "Contact: *\r\nExpires: 0\r\n"), 200);
  ck_assert_int_eq(reg(p, BOB, "c2", 2, "Contact: <sip:b@127.0.0.1:1>\r\n"),
                   200);
  peer_free(p);
}
END_TEST

/* Item 5: the AOR is To's URI without port and parameters, the host in
 * lower case, the user unescaped; the user stays case-sensitive. */
START_TEST(register_10_3_aor_canonical)
{
  peer_t *p = reg_peer(0);
  char aor[CAY__AOR_MAX];
  url_t u;
  char s[] = "sip:%61lice@EXAMPLE.com:5060;transport=udp";

  char sips[] = "sips:alice@Example.COM";

  ck_assert_int_eq(url_d(&u, s), 0);
  ck_assert_int_eq(cay__aor_of(&u, aor), (int)strlen(ALICE));
  ck_assert_str_eq(aor, ALICE);
  /* RFC 5630: the sips: AOR is the sip: one. */
  ck_assert_int_eq(url_d(&u, sips), 0);
  ck_assert_int_eq(cay__aor_of(&u, aor), (int)strlen(ALICE));
  ck_assert_str_eq(aor, ALICE);
  ck_assert_int_eq(reg(p, "sip:%61lice@EXAMPLE.com:5060;transport=udp", "c1", 1,
                       "Contact: <sip:a@127.0.0.1:1>\r\n"),
                   200);
  bindings_are(p, ALICE, "<sip:a@127.0.0.1:1>;expires=1800");
  bindings_are(p, "sip:Alice@example.com", "");
  ck_assert_int_eq(reg(p, "sip:example.com", "c2", 1, ""), 404);
  ck_assert_int_eq(reg(p, "sip:al%00ice@example.com", "c3", 1, ""), 404);
  peer_free(p);
}
END_TEST

/* The first route that takes a REGISTER decides: reject, or register;
 * none: 404. A forward route never takes one. */
START_TEST(register_10_3_routes)
{
  cay_config_t cfg;
  peer_t *p;

  reg_config(&cfg, 0);
  cfg.n_routes = 3;
  cfg.routes[0].action = CAY_ROUTE_FORWARD;
  strcpy(cfg.routes[0].target, "sip:x@127.0.0.1:5090");
  strcpy(cfg.routes[1].ruri_domain, "evil.example");
  cfg.routes[1].action = CAY_ROUTE_REJECT;
  cfg.routes[1].code = 403;
  cfg.routes[2].action = CAY_ROUTE_REGISTER;
  strcpy(cfg.routes[2].ruri_domain, "example.com");
  p = peer_new(&cfg);
  ck_assert_int_eq(reg(p, ALICE, "c1", 1, "Contact: <sip:a@127.0.0.1:1>\r\n"),
                   200);
  ck_assert_int_eq(reg_send(p, "evil.example", ALICE, "c2", 1, ""), 403);
  ck_assert_int_eq(reg_send(p, "other.example", ALICE, "c3", 1, ""), 404);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 1);
  peer_free(p);
}
END_TEST

/* Credentials of @p user / @p password for the 401 Cay sent last, as
 * an Authorization line with CRLF in @p out (Cay's own UAC side makes
 * it, RFC 2617). */
static void
answer_challenge(peer_t *p, const char *user, const char *password, char *out,
                 size_t size)
{
  cay__auth_t *a = cay__auth_new(user, password);
  msg_t *m = peer_msg(p, p->nsent - 1);
  const char *why = NULL;

  ck_assert_int_eq(peer_status(p, p->nsent - 1), 401);
  ck_assert_int_eq(
      cay__auth_challenge(a, 401, sip_object(m), &p->shard.rand, &why), 0);
  snprintf(out, size, "%s", cay__auth_line(a, "REGISTER", "sip:example.com"));
  cay__auth_free(a);
  msg_destroy(m);
}

/* The status line's reason phrase of the last message Cay sent. */
static void
last_phrase_is(peer_t *p, const char *want)
{
  msg_t *m = peer_msg(p, p->nsent - 1);

  ck_assert_str_eq(sip_object(m)->sip_status->st_phrase, want);
  msg_destroy(m);
}

/* One REGISTER refused for alice with a wrong password (challenged
 * first): 403. */
static void
wrong_password(peer_t *p, unsigned *cseq)
{
  char extra[1024], auth[700];
  const char *c = "Contact: <sip:a@127.0.0.1:1>\r\n";

  ck_assert_int_eq(reg(p, ALICE, "c1", (*cseq)++, c), 401);
  answer_challenge(p, "alice", "wrong", auth, sizeof auth);
  snprintf(extra, sizeof extra, "%s%s", c, auth);
  ck_assert_int_eq(reg(p, ALICE, "c1", (*cseq)++, extra), 403);
  last_phrase_is(p, "Forbidden - Wrong Credentials");
}

/* registrar.ban_after_failures 3 in 60 s, for 600 s: the third refusal
 * bans the source's address, whose requests are then refused at once,
 * good credentials too, without a challenge; another address is served;
 * after 600 s the source is challenged again and gets in. */
START_TEST(register_ban_after_failures)
{
  cay_config_t cfg;
  char extra[1024], good[700];
  const char *c = "Contact: <sip:a@127.0.0.1:1>\r\n";
  unsigned cseq = 1;

  reg_config(&cfg, 1);
  cfg.reg_ban_failures = 3;
  cfg.reg_ban_window_s = 60;
  cfg.reg_ban_s = 600;
  peer_t *p = peer_new(&cfg);

  wrong_password(p, &cseq);
  wrong_password(p, &cseq);
  ck_assert_int_eq(reg(p, ALICE, "c1", cseq++, c), 401);
  answer_challenge(p, "alice", "secret", good, sizeof good); /* kept */
  wrong_password(p, &cseq); /* the third: banned */
  ck_assert_uint_eq(p->shard.stats.auth_failures, 3);
  ck_assert_uint_eq(p->shard.stats.auth_banned, 0);

  ck_assert_int_eq(reg(p, ALICE, "c1", cseq++, c), 403);
  last_phrase_is(p, "Forbidden - Too Many Failures");
  snprintf(extra, sizeof extra, "%s%s", c, good);
  p->src.addr = p->addr;
  cay__addr_set_port(&p->src.addr, 5999); /* every port of the address */
  ck_assert_int_eq(reg(p, ALICE, "c1", cseq++, extra), 403);
  last_phrase_is(p, "Forbidden - Too Many Failures");
  ck_assert_uint_eq(p->shard.stats.auth_banned, 2);
  ck_assert_uint_eq(p->shard.stats.auth_challenges, 4); /* none since */
  ck_assert_uint_eq(p->shard.stats.bindings_live, 0);

  ck_assert_int_eq(cay__addr_set(&p->src.addr, "127.0.0.2", 5070), 0);
  ck_assert_int_eq(reg(p, ALICE, "c2", 1, c), 401); /* another address */
  p->src.addr = p->addr;

  peer_advance(p, 600000);
  ck_assert_int_eq(reg(p, ALICE, "c1", cseq++, c), 401);
  answer_challenge(p, "alice", "secret", good, sizeof good);
  snprintf(extra, sizeof extra, "%s%s", c, good);
  ck_assert_int_eq(reg(p, ALICE, "c1", cseq++, extra), 200);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 1);
  ck_assert_uint_eq(p->shard.stats.auth_banned, 2);
  peer_free(p);
}
END_TEST

/* A reload (cay__sessions_reload(), as cay_server_reload() hands it to
 * each shard) takes registrar.ban_after_failures: refusals before it
 * were counted (the table is kept), so the next one bans; a reload to 0
 * lifts every ban at once. */
START_TEST(register_ban_taken_by_reload)
{
  cay_config_t cfg, next;
  cay__routes_t *table;
  const char *c = "Contact: <sip:a@127.0.0.1:1>\r\n";
  char err[256];
  unsigned cseq = 1;

  reg_config(&cfg, 1);
  cfg.reg_ban_failures = 100;
  peer_t *p = peer_new(&cfg);
  wrong_password(p, &cseq);
  wrong_password(p, &cseq);
  ck_assert_uint_eq(p->shard.stats.auth_banned, 0);

  next = cfg;
  next.reg_ban_failures = 3;
  next.reg_ban_s = 30;
  ck_assert_int_eq(cay__routes_new(&next, &table, err, sizeof err), 0);
  cay__sessions_reload(&p->ss, table, &next);
  wrong_password(p, &cseq); /* the third within the window */
  ck_assert_int_eq(reg(p, ALICE, "c1", cseq++, c), 403);
  last_phrase_is(p, "Forbidden - Too Many Failures");
  ck_assert_uint_eq(p->shard.stats.auth_banned, 1);

  next.reg_ban_failures = 0;
  ck_assert_int_eq(cay__routes_new(&next, &table, err, sizeof err), 0);
  cay__sessions_reload(&p->ss, table, &next);
  ck_assert_int_eq(reg(p, ALICE, "c1", cseq++, c), 401);
  ck_assert_uint_eq(p->shard.stats.auth_banned, 1);
  peer_free(p);
}
END_TEST

/* The other shards told of a ban (cay__registrar_set_ban_share()). */
static void
count_share(void *arg, const cay__addr_t *src, uint64_t ban_ms)
{
  (void)src;
  (void)ban_ms;
  ++*(unsigned *)arg;
}

/* registrar.ban_exempt: refusals of an exempt source are answered and
 * counted as failures but never ban it (nor are the other shards told),
 * nor does another shard's ban of its address; a source outside the
 * blocks is banned as before. A reload that drops the exemption lets
 * the ban already in the table hold. */
START_TEST(register_ban_exempt_source)
{
  unsigned shared = 0;
  cay_config_t cfg, next;
  cay__routes_t *table;
  cay__addr_t other;
  const char *c = "Contact: <sip:a@127.0.0.1:1>\r\n";
  char err[256];
  unsigned cseq = 1;

  reg_config(&cfg, 1);
  cfg.reg_ban_failures = 3;
  strcpy(cfg.reg_ban_exempt[0], "192.0.2.0/24");
  strcpy(cfg.reg_ban_exempt[1], "127.0.0.0/30"); /* the peer's 127.0.0.1 */
  cfg.n_reg_ban_exempt = 2;
  peer_t *p = peer_new(&cfg);
  cay__registrar_set_ban_share(p->ss.reg, count_share, &shared);
  for (int i = 0; i < 5; i++)
    wrong_password(p, &cseq);
  ck_assert_uint_eq(p->shard.stats.auth_failures, 5);
  ck_assert_uint_eq(p->shard.stats.auth_banned, 0);
  ck_assert_uint_eq(shared, 0);
  cay__registrar_ban(p->ss.reg, &p->addr, 600000); /* as from a shard */
  ck_assert_int_eq(reg(p, ALICE, "c1", cseq++, c), 401);

  ck_assert_int_eq(cay__addr_set(&other, "127.0.0.4", 5070), 0);
  p->src.addr = other;
  for (int i = 0; i < 3; i++)
    wrong_password(p, &cseq);
  ck_assert_int_eq(reg(p, ALICE, "c1", cseq++, c), 403);
  last_phrase_is(p, "Forbidden - Too Many Failures");
  ck_assert_uint_eq(p->shard.stats.auth_banned, 1);
  ck_assert_uint_eq(shared, 1);

  next = cfg;
  next.n_reg_ban_exempt = 1;
  ck_assert_int_eq(cay__routes_new(&next, &table, err, sizeof err), 0);
  cay__sessions_reload(&p->ss, table, &next);
  p->src.addr = p->addr;
  ck_assert_int_eq(reg(p, ALICE, "c1", cseq++, c), 403);
  last_phrase_is(p, "Forbidden - Too Many Failures");
  ck_assert_uint_eq(p->shard.stats.auth_banned, 2);
  peer_free(p);
}
END_TEST

/* Without registrar.ban_after_failures no number of refusals bans. */
START_TEST(register_no_ban_by_default)
{
  peer_t *p = reg_peer(1);
  unsigned cseq = 1;

  for (int i = 0; i < 20; i++)
    wrong_password(p, &cseq);
  ck_assert_uint_eq(p->shard.stats.auth_failures, 20);
  ck_assert_uint_eq(p->shard.stats.auth_banned, 0);
  peer_free(p);
}
END_TEST

START_TEST(register_22_digest)
{
  peer_t *p = reg_peer(1);
  char extra[1024], auth[700];
  char *wa;
  const char *c = "Contact: <sip:a@127.0.0.1:1>\r\n";

  ck_assert_int_eq(reg(p, ALICE, "c1", 1, c), 401);
  wa = peer_header(p, p->nsent - 1, "WWW-Authenticate");
  ck_assert(strstr(wa, "realm=\"example.com\"") != NULL);
  ck_assert(strstr(wa, "qop=\"auth\"") != NULL);
  ck_assert(strstr(wa, "stale") == NULL);
  free(wa);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 0);
  ck_assert_uint_eq(p->shard.stats.registers_refused, 0);
  /* A wrong password, and bob's right one for alice's AOR: 403. */
  answer_challenge(p, "alice", "wrong", auth, sizeof auth);
  snprintf(extra, sizeof extra, "%s%s", c, auth);
  ck_assert_int_eq(reg(p, ALICE, "c1", 2, extra), 403);
  ck_assert_int_eq(reg(p, ALICE, "c1", 3, c), 401);
  answer_challenge(p, "bob", "hunter2", auth, sizeof auth);
  snprintf(extra, sizeof extra, "%s%s", c, auth);
  ck_assert_int_eq(reg(p, ALICE, "c1", 4, extra), 403);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 0);
  /* The right ones. */
  ck_assert_int_eq(reg(p, ALICE, "c1", 5, c), 401);
  answer_challenge(p, "alice", "secret", auth, sizeof auth);
  snprintf(extra, sizeof extra, "%s%s", c, auth);
  ck_assert_int_eq(reg(p, ALICE, "c1", 6, extra), 200);
  ck_assert_uint_eq(p->shard.stats.bindings_live, 1);
  /* The same nonce later than its 300 s: a new one, stale=true. */
  peer_advance(p, 301000);
  ck_assert_int_eq(reg(p, ALICE, "c1", 7, extra), 401);
  wa = peer_header(p, p->nsent - 1, "WWW-Authenticate");
  ck_assert(strstr(wa, "stale=true") != NULL);
  free(wa);
  /* A nonce Cay did not make: a challenge, not stale. */
  ck_assert_int_eq(
      reg(p, ALICE, "c1", 8,
          "Authorization: Digest username=\"alice\", realm=\"example.com\", "
          "nonce=\"00000000000000010000000000000000\", uri=\"sip:example."
          "com\", response=\"00000000000000000000000000000000\"\r\n"),
      401);
  wa = peer_header(p, p->nsent - 1, "WWW-Authenticate");
  ck_assert(strstr(wa, "stale") == NULL);
  free(wa);
  ck_assert_uint_eq(p->shard.stats.registers_refused, 2);
  /* Five challenges (one stale), two refusals of credentials. */
  ck_assert_uint_eq(p->shard.stats.auth_challenges, 5);
  ck_assert_uint_eq(p->shard.stats.auth_failures, 2);
  peer_free(p);
}
END_TEST

/* A REGISTER's owner shard is its AOR's (To's), whatever its Call-ID
 * or From; AORs spread over the shards. */
START_TEST(register_shard_by_aor)
{
  const char *fmt = "REGISTER sip:example.com SIP/2.0\r\n"
                    "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-%d\r\n"
                    "From: <%s>;tag=1\r\nTo: <%s>\r\nCall-ID: %d\r\n"
                    "CSeq: 1 REGISTER\r\nMax-Forwards: 70\r\n"
                    "Content-Length: 0\r\n\r\n";
  unsigned want = cay__aor_shard(ALICE, strlen(ALICE), 4), seen = 0;
  char m[512], aor[64];

  for (int i = 0; i < 32; i++) {
    int n = snprintf(m, sizeof m, fmt, i, BOB, ALICE, i);
    ck_assert_int_eq(cay__register_shard(m, (size_t)n, 4), (int)want);
    snprintf(aor, sizeof aor, "sip:user%d@example.com", i);
    n = snprintf(m, sizeof m, fmt, i, ALICE, aor, i);
    int s = cay__register_shard(m, (size_t)n, 4);
    ck_assert_int_eq(s, (int)cay__aor_shard(aor, strlen(aor), 4));
    seen |= 1u << s;
  }
  ck_assert_uint_eq(seen, 0xf);
  ck_assert_int_eq(cay__register_shard("OPTIONS sip:x SIP/2.0\r\n\r\n", 25, 4),
                   -1);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("registrar");
  TCase *tc = tcase_create("rfc3261_10_3");

  tcase_add_test(tc, register_10_3_without_register_route_405);
  tcase_add_test(tc, register_10_3_allow_lists_register);
  tcase_add_test(tc, register_10_3_bound_listed_and_expired);
  tcase_add_test(tc, register_10_3_refresh_order_and_removal);
  tcase_add_test(tc, register_10_3_wildcard);
  tcase_add_test(tc, register_10_3_expires_limits);
  tcase_add_test(tc, register_10_3_all_or_nothing_and_limits);
  tcase_add_test(tc, register_10_3_aor_canonical);
  tcase_add_test(tc, register_10_3_routes);
  tcase_add_test(tc, register_22_digest);
  tcase_add_test(tc, register_ban_after_failures);
  tcase_add_test(tc, register_no_ban_by_default);
  tcase_add_test(tc, register_ban_taken_by_reload);
  tcase_add_test(tc, register_ban_exempt_source);
  tcase_add_test(tc, register_shard_by_aor);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
