/*
 * Calls to registered users: a forward route with `location` sends the
 * B leg to the contacts the Request-URI's AOR is registered at (RFC 3261
 * section 10; in the order of section 16.6), and the other shards' copies
 * of the bindings (cay__registrar_learn()) that let any shard route such
 * a call.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/auth.h"
#include "registrar/registrar.h"
#include "support/bridge_call.h"
#include "support/peer.h"
#include "support/register.h"
#include "support/run.h"

/* Two contacts, q 0.5 and 0.9: the 0.9 one is called first; its 480
 * makes Cay call the other, whose 503 makes it call voicemail, which
 * answers, while A waits. */
START_TEST(location_16_6_contacts_by_q_then_failover)
{
  cay_config_t cfg = location_config(1);
  peer_t *p = peer_new(&cfg);

  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1,
                            "Contact: <sip:phone@127.0.0.1:5071>;q=0.5, "
                            "<sip:desk@127.0.0.1:5070>;q=0.9\r\n"),
                   200);
  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  invite_to(p, inv, "sip:desk@127.0.0.1:5070");
  respond(p, (unsigned)inv, "480", "", NULL);
  ck_assert_int_lt(a_response(p, "1 INVITE"), 0);
  inv = b_msg(p, 0, "INVITE");
  invite_to(p, inv, "sip:phone@127.0.0.1:5071");
  respond(p, (unsigned)inv, "503", "", NULL);
  ck_assert_int_lt(a_response(p, "1 INVITE"), 0);
  inv = b_msg(p, 0, "INVITE");
  invite_to(p, inv, "sip:voicemail@127.0.0.1:5072");
  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp);
  a_final_is(p, "1 INVITE", 200);
  ck_assert_uint_eq(peer_count(p, 0, "INVITE"), 3);
  peer_free(p);
}
END_TEST

/* Not registered: 480 (RFC 3261 section 21.4.18), no B leg; with a
 * failover target, that target instead. */
START_TEST(location_not_registered_480_or_failover)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  a_final_is(p, "1 INVITE", 480);
  ck_assert_uint_eq(peer_count(p, 0, "INVITE"), 0);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);

  cfg = location_config(1);
  p = peer_new(&cfg);
  invite_a(p, "service", "");
  invite_to(p, b_msg(p, 0, "INVITE"), "sip:voicemail@127.0.0.1:5072");
  peer_free(p);
}
END_TEST

/* A binding that expires is no target any more. */
START_TEST(location_expired_binding_not_called)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);

  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1,
                            "Contact: <sip:desk@127.0.0.1:5070>\r\n"
                            "Expires: 60\r\n"),
                   200);
  peer_advance(p, 60000);
  invite_a(p, "service", "");
  a_final_is(p, "1 INVITE", 480);
  peer_free(p);
}
END_TEST

/* What the share hook was told last, and how often. */
typedef struct told {
  unsigned n;
  char aor[CAY__AOR_MAX], contact[CAY__CONTACT_MAX];
  int q;
  uint64_t expires_ms;
  int by_flow;
  cay__peer_t flow;
} told_t;

static void
record(void *arg, const cay__binding_change_t *c)
{
  told_t *t = arg;

  t->n++;
  snprintf(t->aor, sizeof t->aor, "%s", c->aor);
  snprintf(t->contact, sizeof t->contact, "%s", c->contact);
  t->q = c->q;
  t->expires_ms = c->expires_ms;
  t->by_flow = c->flow != NULL;
  if (c->flow)
    t->flow = *c->flow;
}

/* A copy of @p aor's binding @p contact as another shard tells it. */
static void
learn(cay__registrar_t *reg, const char *aor, const char *contact, int q,
      uint64_t expires_ms, const cay__peer_t *flow)
{
  cay__binding_change_t c = { .aor = aor,
                              .contact = contact,
                              .q = q,
                              .expires_ms = expires_ms,
                              .flow = flow };

  cay__registrar_learn(reg, &c);
}

/* The owner tells of every change (set, refresh, removal, expiry); a
 * copy told so is found by a lookup, in q order, and goes when told or
 * when its own time is up; the copies are no bindings of this shard. */
START_TEST(location_copies_shared_and_learnt)
{
  cay_config_t cfg = location_config(0);
  peer_t *p = peer_new(&cfg);
  cay__registrar_t *reg = p->ss.reg;
  cay__contact_t c[4];
  told_t t = { 0 };

  cay__registrar_set_share(reg, record, &t);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1,
                            "Contact: <sip:desk@127.0.0.1:5070>;q=0.2\r\n"
                            "Expires: 100\r\n"),
                   200);
  ck_assert_uint_eq(t.n, 1);
  ck_assert_str_eq(t.aor, SERVICE);
  ck_assert_str_eq(t.contact, "sip:desk@127.0.0.1:5070");
  ck_assert_int_eq(t.q, 200);
  ck_assert_uint_eq(t.expires_ms, 100000);
  peer_advance(p, 100000);
  ck_assert_uint_eq(t.n, 2);
  ck_assert_uint_eq(t.expires_ms, 0);

  learn(reg, "sip:bob@b.example", "sip:bob@10.0.0.1", 500, 30000, NULL);
  learn(reg, "sip:bob@b.example", "sip:bob@10.0.0.2", -1, 30000, NULL);
  learn(reg, "sip:bob@b.example", "sip:bob@10.0.0.3", 500, 30000, NULL);
  ck_assert_uint_eq(cay__registrar_bindings(reg), 0);
  ck_assert_uint_eq(cay__registrar_lookup(reg, "sip:bob@b.example", c, 4), 3);
  ck_assert_str_eq(c[0].uri, "sip:bob@10.0.0.2"); /* no q: 1.0 */
  ck_assert_str_eq(c[1].uri, "sip:bob@10.0.0.3"); /* the newer of two */
  ck_assert_str_eq(c[2].uri, "sip:bob@10.0.0.1");
  ck_assert_uint_eq(cay__registrar_lookup(reg, "sip:bob@b.example", c, 1), 1);
  learn(reg, "sip:bob@b.example", "sip:bob@10.0.0.2", -1, 0, NULL);
  ck_assert_uint_eq(cay__registrar_lookup(reg, "sip:bob@b.example", c, 4), 2);
  peer_advance(p, 30000);
  ck_assert_uint_eq(cay__registrar_lookup(reg, "sip:bob@b.example", c, 4), 0);
  ck_assert_uint_eq(t.n, 2); /* copies are not told on */
  peer_free(p);
}
END_TEST

/* INVITE from @p from (CSeq @p cseq, a new branch each time) to the
 * answer route, with the header lines @p extra: its status. */
static int
invite_as(peer_t *p, const char *from, const char *cseq, const char *extra)
{
  static unsigned n;
  char branch[32];

  snprintf(branch, sizeof branch, "z9hG4bK-auth%u", ++n);
  peer_send(p, "invite_auth.sip", "user", "callee", "host", "127.0.0.1:5060",
            "branch", branch, "fromtag", "ft9", "callid", "auth-call", "codecs",
            "0 8", "from", from, "cseq", cseq, "extra", extra, NULL);
  return peer_last_status(p);
}

/* Credentials of @p user / @p password for the 407 Cay sent as message
 * @p i, as a Proxy-Authorization line (Cay's UAC side makes it). */
static void
proxy_credentials(peer_t *p, unsigned i, const char *user, const char *password,
                  char *out, size_t size)
{
  cay__auth_t *a = cay__auth_new(user, password);
  msg_t *m = peer_msg(p, i);
  const char *why = NULL;

  ck_assert_int_eq(
      cay__auth_challenge(a, 407, sip_object(m), &p->shard.rand, &why), 0);
  snprintf(out, size, "%s",
           cay__auth_line(a, "INVITE", "sip:callee@127.0.0.1:5060"));
  ck_assert_ptr_nonnull(strstr(out, "Proxy-Authorization: Digest"));
  cay__auth_free(a);
  msg_destroy(m);
}

/* authenticate: true (RFC 3261 section 22.3): an INVITE without
 * credentials gets 407 with Proxy-Authenticate; with alice's, as alice,
 * it is answered; with alice's as bob (From), or a wrong password, 403. */
/* One route that answers a call from its From's user only (authenticate:
 * true), and that user, alice (password secret). */
static void
authenticate_config(cay_config_t *cfg)
{
  cay_config_init(cfg);
  cfg->n_routes = 1;
  cfg->routes[0].action = CAY_ROUTE_ANSWER;
  cfg->routes[0].authenticate = 1;
  strcpy(cfg->reg_users[0].username, "alice");
  strcpy(cfg->reg_users[0].password, "secret");
  cfg->n_reg_users = 1;
}

START_TEST(authenticate_22_3_invite_challenged)
{
  cay_config_t cfg;
  peer_t *p;
  char auth[700];
  char *pa;
  unsigned challenge;

  authenticate_config(&cfg);
  p = peer_new(&cfg);
  ck_assert_int_eq(invite_as(p, "alice", "1", ""), 407);
  challenge = p->nsent - 1;
  pa = peer_header(p, challenge, "Proxy-Authenticate");
  ck_assert_ptr_nonnull(pa);
  ck_assert(strstr(pa, "realm=\"127.0.0.1\"") != NULL);
  free(pa);
  proxy_credentials(p, challenge, "alice", "secret", auth, sizeof auth);
  ck_assert_int_eq(invite_as(p, "bob", "2", auth), 403);
  proxy_credentials(p, challenge, "alice", "wrong", auth, sizeof auth);
  ck_assert_int_eq(invite_as(p, "alice", "3", auth), 403);
  ck_assert_uint_eq(p->shard.stats.calls_rejected, 2);
  ck_assert_uint_eq(p->shard.stats.auth_challenges, 1);
  ck_assert_uint_eq(p->shard.stats.auth_failures, 2);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  proxy_credentials(p, challenge, "alice", "secret", auth, sizeof auth);
  ck_assert_int_eq(invite_as(p, "alice", "4", auth), 200);
  ck_assert_uint_eq(p->shard.stats.calls_answered, 1);
  ck_assert_uint_eq(p->shard.stats.auth_failures, 2); /* good ones: none */
  peer_free(p);
}
END_TEST

/* registrar.ban_after_failures bans a caller too: after 2 refused
 * credentials, its INVITE gets 403 at once, its good credentials too
 * (RFC 3261 section 22.3: no challenge), until the ban is over. */
START_TEST(authenticate_banned_caller)
{
  cay_config_t cfg;
  peer_t *p;
  char good[700], bad[700];
  unsigned challenge;

  authenticate_config(&cfg);
  cfg.reg_ban_failures = 2;
  cfg.reg_ban_s = 30;
  p = peer_new(&cfg);
  ck_assert_int_eq(invite_as(p, "alice", "1", ""), 407);
  challenge = p->nsent - 1;
  proxy_credentials(p, challenge, "alice", "secret", good, sizeof good);
  proxy_credentials(p, challenge, "alice", "wrong", bad, sizeof bad);
  ck_assert_int_eq(invite_as(p, "alice", "2", bad), 403);
  ck_assert_int_eq(invite_as(p, "alice", "3", bad), 403); /* banned */
  ck_assert_int_eq(invite_as(p, "alice", "4", good), 403);
  ck_assert_int_eq(invite_as(p, "alice", "5", ""), 403);
  ck_assert_uint_eq(p->shard.stats.auth_failures, 2);
  ck_assert_uint_eq(p->shard.stats.auth_banned, 2);
  ck_assert_uint_eq(p->shard.stats.auth_challenges, 1);
  ck_assert_uint_eq(p->shard.stats.calls_answered, 0);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_advance(p, 30000);
  ck_assert_int_eq(invite_as(p, "alice", "6", good), 200);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("location");
  TCase *tc = tcase_create("rfc3261_10");

  tcase_add_test(tc, location_16_6_contacts_by_q_then_failover);
  tcase_add_test(tc, location_not_registered_480_or_failover);
  tcase_add_test(tc, location_expired_binding_not_called);
  tcase_add_test(tc, location_copies_shared_and_learnt);
  tcase_add_test(tc, authenticate_22_3_invite_challenged);
  tcase_add_test(tc, authenticate_banned_caller);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
