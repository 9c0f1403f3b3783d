/*
 * MESSAGE outside a dialog (RFC 3428, src/b2bua/pager.c) on a virtual
 * clock: relayed by a forward route with the sender's body, Content-Type
 * and From (a tag of Cay's), the target's answer back to the sender, a
 * failure mapped as for an INVITE, the next target after a timeout or a
 * 5xx, the route's credentials after a challenge, and what a MESSAGE
 * gets without a forward route (404, the route's rejection, 405); the
 * same MESSAGE by a second path merged (482, RFC 3261 section 8.2.2.2);
 * the addresses DNS found for a target's host tried in turn (RFC 3263
 * section 4.3). The fixture is support/bridge_call.h's: the target is
 * the peer's own address, so Cay's MESSAGE lands in p->sent next to its
 * answers to A.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "dialog/session_int.h"
#include "b2bua/pager.h"
#include "support/bridge_call.h"
#include "support/located.h"
#include "support/peer.h"
#include "support/run.h"
#include "transport/dns.h"

#define T1 500

static const char text[] = "Hello, Bob! \xc3\xa9t\xc3\xa9";

/* A's MESSAGE to @p user (Call-ID "a-leg", From tag fa1, CSeq @p cseq,
 * branch from @p id), with the header lines @p extra. */
static void
message_cseq(peer_t *p, const char *user, const char *id, unsigned cseq,
             const char *extra)
{
  char buf[2048];
  int n = snprintf(buf, sizeof buf,
                   "MESSAGE sip:%s@127.0.0.1:5060 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-%s\r\n"
                   "From: \"Alice A\" <sip:alice@127.0.0.1:5070>;tag=fa1\r\n"
                   "To: <sip:%s@127.0.0.1:5060>\r\n"
                   "Call-ID: a-leg\r\n"
                   "CSeq: %u MESSAGE\r\n"
                   "Max-Forwards: 70\r\n"
                   "%s"
                   "Content-Type: text/plain;charset=UTF-8\r\n"
                   "Content-Length: %zu\r\n\r\n%s",
                   user, id, user, cseq, extra, strlen(text), text);
  ck_assert_int_lt(n, (int)sizeof buf);
  peer_send_raw(p, buf, (size_t)n);
}

/* A's MESSAGE with CSeq 7. */
static void
message_a(peer_t *p, const char *user, const char *id, const char *extra)
{
  message_cseq(p, user, id, 7, extra);
}

/* Index of the last final response Cay sent to A's MESSAGE with branch
 * z9hG4bK-@p id (its server transaction), or -1. */
static int
answer_on(peer_t *p, const char *id)
{
  char branch[64];

  snprintf(branch, sizeof branch, "branch=z9hG4bK-%s", id);
  for (int i = (int)p->nsent - 1; i >= 0; i--) {
    char *via = peer_status(p, (unsigned)i) >= 200
                    ? peer_header(p, (unsigned)i, "Via")
                    : NULL;
    int hit = via && strstr(via, branch) != NULL;
    free(via);
    if (hit)
      return i;
  }
  return -1;
}

/* Index of the last MESSAGE Cay sent (its own, not A's Call-ID), or -1. */
static int
out_msg(peer_t *p)
{
  return b_msg(p, 0, "MESSAGE");
}

/* How many MESSAGEs Cay sent to Request-URI @p ruri (retransmissions
 * included). */
static unsigned
sent_to(peer_t *p, const char *ruri)
{
  char line[128];
  unsigned n = 0;

  snprintf(line, sizeof line, "MESSAGE %s SIP/2.0\r\n", ruri);
  for (unsigned i = 0; i < p->nsent; i++)
    n += strncmp(p->sent[i].data, line, strlen(line)) == 0;
  return n;
}

/* Index of Cay's final answer to A's MESSAGE (CSeq 7), or -1. */
static int
answer_to_a(peer_t *p)
{
  return a_response(p, "7 MESSAGE");
}

static cay_config_t
message_config(void)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  snprintf(cfg.routes[0].method, sizeof cfg.routes[0].method, "MESSAGE");
  return cfg;
}

/* message_config() with failover target sip:${ruri_user}-2@... and a
 * no_response_timeout_ms of 2 s. */
static cay_config_t
failover_config(void)
{
  cay_config_t cfg = message_config();
  cay_route_t *r = &cfg.routes[0];

  snprintf(r->failover[0], sizeof r->failover[0],
           "sip:${ruri_user}-2@127.0.0.1:5070");
  r->n_failover = 1;
  r->no_response_timeout_ms = 2000;
  return cfg;
}

START_TEST(pager_relays_body_from_and_the_answer)
{
  cay_config_t cfg = message_config();
  peer_t *p = peer_new(&cfg);

  message_a(p, "service", "msg-1", "");
  int m = out_msg(p);
  ck_assert_int_ge(m, 0);
  ck_assert_int_eq(
      strncmp(p->sent[m].data, "MESSAGE sip:service@127.0.0.1:5070 ", 35), 0);
  /* Section 7: body and Content-Type as they came, parameters too. */
  ck_assert_str_eq(body_of(p, (unsigned)m), text);
  peer_header_is(p, (unsigned)m, "Content-Type", "text/plain;charset=UTF-8");
  /* A new request of Cay's: its Call-ID and From tag, A's From URI and
   * display name, one hop less, no Contact (no dialog, section 4). */
  char *cid = peer_header(p, (unsigned)m, "Call-ID");
  char *from = peer_header(p, (unsigned)m, "From");
  ck_assert_str_ne(cid, "msg-1");
  ck_assert_ptr_nonnull(strstr(from, "\"Alice A\" <sip:alice@127.0.0.1:5070>"));
  ck_assert_ptr_nonnull(strstr(from, ";tag="));
  ck_assert_ptr_null(strstr(from, "fa1"));
  free(cid);
  free(from);
  peer_header_is(p, (unsigned)m, "Max-Forwards", "69");
  ck_assert_ptr_null(peer_header(p, (unsigned)m, "Contact"));
  ck_assert_int_eq(answer_to_a(p), -1); /* A waits for the target */
  respond(p, (unsigned)m, "202", "", NULL);
  int a = answer_to_a(p);
  ck_assert_int_eq(peer_status(p, (unsigned)a), 202);
  ck_assert_uint_eq(p->shard.stats.messages_in, 1);
  ck_assert_uint_eq(p->shard.stats.messages_relayed, 1);
  ck_assert_ptr_null(p->ss.pagers);
  peer_advance(p, 64 * T1);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  peer_free(p);
}
END_TEST

/* A failure of the target reaches A as for an INVITE (bridge.c): 486 as
 * it is, 401 as 403 (A could not answer B's challenge), a 404 too. */
START_TEST(pager_failures_mapped)
{
  static const struct {
    const char *status;
    int want;
  } cases[] = { { "486", 486 }, { "401", 403 }, { "404", 404 } };

  for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
    cay_config_t cfg = message_config();
    peer_t *p = peer_new(&cfg);

    message_a(p, "service", "msg-f", "");
    respond(p, (unsigned)out_msg(p), cases[i].status,
            "WWW-Authenticate: Digest realm=\"b\", nonce=\"n1\"\r\n", NULL);
    int a = answer_to_a(p);
    ck_assert_int_ge(a, 0);
    ck_assert_int_eq(peer_status(p, (unsigned)a), cases[i].want);
    ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 1); /* no other try */
    ck_assert_uint_eq(p->shard.stats.messages_relayed, 0);
    ck_assert_ptr_null(p->ss.pagers);
    peer_free(p);
  }
}
END_TEST

/* A 503 from the target, or no response within no_response_timeout_ms,
 * sends the MESSAGE to the next failover target (same Call-ID, CSeq one
 * more); when none is left A gets the last failure mapped (503: 500). */
START_TEST(pager_failover_then_last_failure)
{
  cay_config_t cfg = failover_config();
  peer_t *p = peer_new(&cfg);

  message_a(p, "service", "msg-2", "");
  int m1 = out_msg(p);
  peer_advance(p, 1999);
  ck_assert_uint_eq(sent_to(p, "sip:service-2@127.0.0.1:5070"), 0);
  peer_advance(p, 1);
  ck_assert_uint_eq(sent_to(p, "sip:service-2@127.0.0.1:5070"), 1);
  int m2 = out_msg(p);
  peer_header_is(p, (unsigned)m2, "CSeq", "2 MESSAGE");
  ck_assert_int_eq(answer_to_a(p), -1);
  /* The first target's late 200 is not A's any more. */
  respond(p, (unsigned)m1, "200", "", NULL);
  ck_assert_int_eq(answer_to_a(p), -1);
  respond(p, (unsigned)m2, "503", "", NULL);
  int a = answer_to_a(p);
  ck_assert_int_eq(peer_status(p, (unsigned)a), 500);
  ck_assert_ptr_null(p->ss.pagers);
  peer_advance(p, 64 * T1);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  peer_free(p);
}
END_TEST

/* A target that sent 100 Trying answers: no_response_timeout_ms no
 * longer gives it up, and its later 200 is A's. */
START_TEST(pager_provisional_keeps_the_target)
{
  cay_config_t cfg = failover_config();
  peer_t *p = peer_new(&cfg);

  message_a(p, "service", "msg-9", "");
  int m = out_msg(p);
  respond(p, (unsigned)m, "100", "", NULL);
  peer_advance(p, 5000);
  ck_assert_uint_eq(sent_to(p, "sip:service-2@127.0.0.1:5070"), 0);
  respond(p, (unsigned)m, "200", "", NULL);
  ck_assert_int_eq(peer_status(p, (unsigned)answer_to_a(p)), 200);
  peer_free(p);
}
END_TEST

/* Timer F (64*T1) of Cay's MESSAGE without failover: A gets 408. */
START_TEST(pager_timeout_408)
{
  cay_config_t cfg = message_config();
  peer_t *p = peer_new(&cfg);

  message_a(p, "service", "msg-3", "");
  ck_assert_int_ge(out_msg(p), 0);
  peer_advance(p, 64 * T1);
  int a = answer_to_a(p);
  ck_assert_int_ge(a, 0);
  ck_assert_int_eq(peer_status(p, (unsigned)a), 408);
  ck_assert_ptr_null(p->ss.pagers);
  peer_free(p);
}
END_TEST

/* The route's credentials answer the target's challenge (RFC 3261
 * section 22.2): the same MESSAGE again, CSeq one more, with
 * Proxy-Authorization; the second challenge of that nonce is refused. */
START_TEST(pager_22_2_route_credentials)
{
  cay_config_t cfg = message_config();
  snprintf(cfg.routes[0].auth_username, sizeof cfg.routes[0].auth_username,
           "cay");
  snprintf(cfg.routes[0].auth_password, sizeof cfg.routes[0].auth_password,
           "secret");
  peer_t *p = peer_new(&cfg);
  const char *chal
      = "Proxy-Authenticate: Digest realm=\"b.example\", nonce=\"n1\"\r\n";

  message_a(p, "service", "msg-4", "");
  int m1 = out_msg(p);
  respond(p, (unsigned)m1, "407", chal, NULL);
  int m2 = out_msg(p);
  ck_assert_int_gt(m2, m1);
  peer_header_is(p, (unsigned)m2, "CSeq", "2 MESSAGE");
  char *auth = peer_header(p, (unsigned)m2, "Proxy-Authorization");
  ck_assert_ptr_nonnull(auth);
  ck_assert_ptr_nonnull(strstr(auth, "username=\"cay\""));
  ck_assert_ptr_nonnull(strstr(auth, "uri=\"sip:service@127.0.0.1:5070\""));
  free(auth);
  ck_assert_str_eq(body_of(p, (unsigned)m2), text);
  respond(p, (unsigned)m2, "407", chal, NULL);
  ck_assert_int_eq(out_msg(p), m2); /* refused again: not sent a third time */
  ck_assert_int_eq(peer_status(p, (unsigned)answer_to_a(p)), 403);
  peer_free(p);
}
END_TEST

/* No forward route takes it: no match 404, a reject route its code, an
 * answer route (or no routes) 405 with an Allow without MESSAGE; with a
 * forward route, OPTIONS lists MESSAGE in Allow. */
START_TEST(pager_not_forwarded_answers)
{
  cay_config_t cfg = message_config();
  peer_t *p = peer_new(&cfg);

  message_a(p, "nobody", "msg-5", "");
  ck_assert_int_eq(peer_status(p, (unsigned)answer_to_a(p)), 404);
  message_a(p, "busy", "msg-6", "");
  ck_assert_int_eq(peer_status(p, (unsigned)answer_to_a(p)), 486);
  static const char options[]
      = "OPTIONS sip:127.0.0.1:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-o1\r\n"
        "From: <sip:alice@127.0.0.1:5070>;tag=fo1\r\n"
        "To: <sip:127.0.0.1:5060>\r\nCall-ID: opt-1\r\nCSeq: 1 OPTIONS\r\n"
        "Max-Forwards: 70\r\nContent-Length: 0\r\n\r\n";
  peer_send_raw(p, options, sizeof options - 1);
  int o = peer_find_last(p, 200, NULL);
  char *allow = peer_header(p, (unsigned)o, "Allow");
  ck_assert_ptr_nonnull(strstr(allow, "MESSAGE"));
  free(allow);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 0);
  ck_assert_uint_eq(p->shard.stats.messages_in, 2);
  peer_free(p);

  p = peer_new(NULL); /* no routes: Cay's own UAS */
  message_a(p, "service", "msg-7", "");
  int a = answer_to_a(p);
  ck_assert_int_eq(peer_status(p, (unsigned)a), 405);
  allow = peer_header(p, (unsigned)a, "Allow");
  ck_assert_ptr_null(strstr(allow, "MESSAGE"));
  free(allow);
  peer_free(p);
}
END_TEST

static unsigned idle_calls;

static void
on_idle(void *arg)
{
  (void)arg;
  idle_calls++;
}

/* A drain waits for a MESSAGE still out: a new one gets 503, and the
 * drain is over when the target's answer reached the sender. Shutting
 * down with one still out (the drain's grace over) answers its sender
 * 503 and frees the relay (peer_free() checks that nothing is left
 * allocated). */
START_TEST(pager_drain_waits_shutdown_answers)
{
  cay_config_t cfg = message_config();
  peer_t *p = peer_new(&cfg);
  int m, a;

  message_a(p, "service", "msg-8", "");
  m = out_msg(p);
  ck_assert_int_ge(m, 0);
  idle_calls = 0;
  cay__sessions_drain(&p->ss, on_idle, NULL);
  ck_assert_uint_eq(idle_calls, 0);
  message_a(p, "service", "msg-9", "");
  ck_assert_int_eq(peer_status(p, p->nsent - 1), 503);
  ck_assert_uint_eq(idle_calls, 0);
  respond(p, (unsigned)m, "200", "", NULL);
  ck_assert_int_eq(peer_status(p, (unsigned)answer_to_a(p)), 200);
  ck_assert_uint_eq(idle_calls, 1);
  peer_free(p);

  p = peer_new(&cfg);
  message_a(p, "service", "msg-10", "");
  ck_assert_int_ge(out_msg(p), 0);
  ck_assert_ptr_nonnull(p->ss.pagers);
  cay__pager_fini(&p->ss);
  ck_assert_ptr_null(p->ss.pagers);
  a = answer_to_a(p);
  ck_assert_int_eq(peer_status(p, (unsigned)a), 503);
  ck_assert_int_eq(strncmp(p->sent[a].data,
                           "SIP/2.0 503 Service Unavailable - Shutting "
                           "Down\r\n",
                           49),
                   0);
  peer_free(p);
}
END_TEST

/* In a bridged call a MESSAGE from A goes to B in B's dialog, and B's
 * answer to A (RFC 3428 section 4: within a dialog too). */
START_TEST(pager_in_dialog_relayed_by_the_bridge)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], buf[1024];

  bridged_call(p, tag, sizeof tag);
  int n = snprintf(buf, sizeof buf,
                   "MESSAGE sip:cay@127.0.0.1:5060 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-a-m\r\n"
                   "From: <sip:sipp@127.0.0.1:5070>;tag=ft1\r\n"
                   "To: <sip:service@127.0.0.1:5060>%s\r\n"
                   "Call-ID: a-leg\r\nCSeq: 2 MESSAGE\r\nMax-Forwards: 70\r\n"
                   "Content-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s",
                   tag, strlen(text), text);
  peer_send_raw(p, buf, (size_t)n);
  int m = b_msg(p, 0, "MESSAGE");
  ck_assert_int_ge(m, 0);
  ck_assert_str_eq(body_of(p, (unsigned)m), text);
  char *to = peer_header(p, (unsigned)m, "To");
  ck_assert_ptr_nonnull(strstr(to, "tag=b1")); /* B's dialog */
  free(to);
  ck_assert_int_eq(a_response(p, "2 MESSAGE"), -1);
  respond(p, (unsigned)m, "200", "", NULL);
  a_final_is(p, "2 MESSAGE", 200);
  ck_assert_uint_eq(p->shard.stats.messages_in, 0); /* in a dialog */
  a_request(p, "BYE", "z9hG4bK-a-bye", "3", tag);
  respond(p, (unsigned)b_msg(p, 0, "BYE"), "200", "", NULL);
  call_gone(p);
  peer_free(p);
}
END_TEST

/* RFC 3261 section 8.2.2.2: the same MESSAGE by a second path (its
 * Call-ID, From tag and CSeq, another branch: another server
 * transaction) while the first is being relayed gets 482, and the
 * target gets it once; the first one's answer still reaches A. */
START_TEST(pager_8_2_2_2_copy_in_flight_gets_482)
{
  cay_config_t cfg = message_config();
  peer_t *p = peer_new(&cfg);

  message_a(p, "service", "msg-m1", "");
  int m = out_msg(p);
  ck_assert_int_ge(m, 0);
  message_a(p, "service", "msg-m2", "");
  int merged = answer_on(p, "msg-m2");
  ck_assert_int_ge(merged, 0);
  ck_assert_int_eq(peer_status(p, (unsigned)merged), 482);
  ck_assert_int_eq(strncmp(p->sent[merged].data,
                           "SIP/2.0 482 Loop Detected - Merged Request\r\n",
                           44),
                   0);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 1); /* relayed once */
  ck_assert_int_eq(answer_on(p, "msg-m1"), -1);      /* still waiting */
  respond(p, (unsigned)m, "200", "", NULL);
  ck_assert_int_eq(peer_status(p, (unsigned)answer_on(p, "msg-m1")), 200);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 1);
  ck_assert_uint_eq(p->shard.stats.messages_in, 2);
  ck_assert_uint_eq(p->shard.stats.messages_relayed, 1);
  peer_advance(p, 64 * T1);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  peer_free(p);
}
END_TEST

/* The first MESSAGE was answered, and its server transaction is still
 * there (Completed until timer J, 64*T1 over UDP, RFC 3261 section
 * 17.2.2): an ongoing transaction, so the copy by another path gets 482.
 * Once timer J has ended there is none: the same request again is a new
 * one, and is relayed. */
START_TEST(pager_8_2_2_2_copy_after_answer_gets_482_until_timer_j)
{
  cay_config_t cfg = message_config();
  peer_t *p = peer_new(&cfg);

  message_a(p, "service", "msg-m1", "");
  respond(p, (unsigned)out_msg(p), "200", "", NULL);
  ck_assert_int_eq(peer_status(p, (unsigned)answer_on(p, "msg-m1")), 200);
  peer_advance(p, 64 * T1 - 1);
  message_a(p, "service", "msg-m2", "");
  ck_assert_int_eq(peer_status(p, (unsigned)answer_on(p, "msg-m2")), 482);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 1);
  peer_advance(p, 1); /* timer J of the first */
  message_a(p, "service", "msg-m3", "");
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 2);
  respond(p, (unsigned)out_msg(p), "200", "", NULL);
  ck_assert_int_eq(peer_status(p, (unsigned)answer_on(p, "msg-m3")), 200);
  ck_assert_uint_eq(p->shard.stats.messages_relayed, 2);
  peer_free(p);
}
END_TEST

/* The same Call-ID and From tag with another CSeq is a new MESSAGE
 * (RFC 3428 section 7: a sender numbers each message anew), not a copy:
 * both are relayed, each gets its own answer. */
START_TEST(pager_8_2_2_2_new_cseq_is_not_merged)
{
  cay_config_t cfg = message_config();
  peer_t *p = peer_new(&cfg);

  message_cseq(p, "service", "msg-c7", 7, "");
  int m7 = out_msg(p);
  message_cseq(p, "service", "msg-c8", 8, "");
  int m8 = out_msg(p);
  ck_assert_int_gt(m8, m7);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 2);
  ck_assert_int_eq(answer_on(p, "msg-c8"), -1);
  respond(p, (unsigned)m8, "200", "", NULL);
  respond(p, (unsigned)m7, "202", "", NULL);
  ck_assert_int_eq(peer_status(p, (unsigned)answer_on(p, "msg-c7")), 202);
  ck_assert_int_eq(peer_status(p, (unsigned)answer_on(p, "msg-c8")), 200);
  ck_assert_uint_eq(p->shard.stats.messages_relayed, 2);
  peer_free(p);
}
END_TEST

/* message_config() whose target's host is a name (no-response limit
 * @p no_response_ms, 0: none), on a peer with a resolver that remembers
 * failed targets for 60 s; A's MESSAGE waits for DNS, which answers
 * 127.0.0.1:5071 (over @p proto0) and 127.0.0.1:5072 (UDP) in that
 * order. With @p fail_tcp the transport refuses to send over TCP. */
static peer_t *
located_message(int proto0, unsigned no_response_ms, int fail_tcp)
{
  cay_config_t cfg = message_config();
  cay__dns_opts_t o = { .servers = "127.0.0.1:9", /* never asked */
                        .timeout_ms = 300,
                        .tries = 1,
                        .family = AF_INET,
                        .failed_target_s = 60 };
  cay__dns_target_t t[2];
  char err[128];
  peer_t *p;

  snprintf(cfg.routes[0].target, sizeof cfg.routes[0].target,
           "sip:${ruri_user}@pager.cay.test");
  cfg.routes[0].no_response_timeout_ms = no_response_ms;
  p = peer_new(&cfg);
  ck_assert_int_eq(cay__dns_create(&p->ss.dns, &p->loop, &o, err, sizeof err),
                   0);
  message_a(p, "service", "msg-d", "");
  ck_assert_uint_eq(p->nsent, 0); /* DNS first */
  ck_assert_ptr_nonnull(p->ss.pagers);
  memset(t, 0, sizeof t);
  ck_assert_int_eq(cay__addr_set(&t[0].addr, "127.0.0.1", 5071), 0);
  ck_assert_int_eq(cay__addr_set(&t[1].addr, "127.0.0.1", 5072), 0);
  t[0].proto = proto0;
  t[1].proto = CAY__UDP;
  p->fail_tcp = fail_tcp;
  cay__pager_located(p->ss.pagers, t, 2);
  if (!fail_tcp)
    expect_sent(p, 0, "MESSAGE", 5071, proto0, 1);
  return p;
}

/* How many MESSAGEs Cay sent to 127.0.0.1:@p port (retransmissions
 * included). */
static unsigned
sent_to_port(peer_t *p, unsigned port)
{
  unsigned n = 0;

  for (unsigned i = 0; i < p->nsent; i++)
    n += strcmp(peer_method(p, i), "MESSAGE") == 0
         && cay__addr_port(&p->sent[i].dst) == port;
  return n;
}

/* The MESSAGE, then its 200 to A, came from the second address, by a
 * new request (CSeq 2: RFC 3261 section 8.1.1.5) to the same target. */
static void
second_address_answers(peer_t *p)
{
  int m = out_msg(p);

  expect_sent(p, (unsigned)m, "MESSAGE", 5072, CAY__UDP, 2);
  ck_assert_int_eq(
      strncmp(p->sent[m].data, "MESSAGE sip:service@pager.cay.test ", 35), 0);
  ck_assert_int_eq(answer_to_a(p), -1);
  respond(p, (unsigned)m, "200", "", NULL);
  ck_assert_int_eq(peer_status(p, (unsigned)answer_to_a(p)), 200);
  ck_assert_uint_eq(sent_to_port(p, 5072), 1);
  ck_assert_uint_eq(p->shard.stats.messages_relayed, 1);
  ck_assert_ptr_null(p->ss.pagers);
}

/* RFC 3263 section 4.3: the first address DNS found answers 503; the
 * MESSAGE goes to the second, whose 200 is A's. */
START_TEST(pager_3263_4_3_next_address_after_503)
{
  peer_t *p = located_message(CAY__UDP, 0, 0);

  respond(p, 0, "503", "", NULL);
  second_address_answers(p);
  peer_without_resolver(p);
}
END_TEST

/* The same when the first address never answers (timer F, 64*T1: 408
 * inside Cay); the resolver then gives it last to later lookups. */
START_TEST(pager_3263_4_3_next_address_after_timer_f)
{
  peer_t *p = located_message(CAY__UDP, 0, 0);

  peer_advance(p, 64 * T1 - 1);
  ck_assert_uint_gt(sent_to_port(p, 5071), 1); /* timer E's */
  ck_assert_uint_eq(sent_to_port(p, 5072), 0);
  peer_advance(p, 1);
  second_address_answers(p);
  ck_assert_int_eq(was_failed(p, 5071), 1);
  ck_assert_int_eq(was_failed(p, 5072), 0);
  peer_without_resolver(p);
}
END_TEST

/* The same sooner with the route's no_response_timeout_ms. */
START_TEST(pager_3263_4_3_next_address_after_no_response)
{
  peer_t *p = located_message(CAY__UDP, 2000, 0);

  peer_advance(p, 1999);
  ck_assert_uint_eq(sent_to_port(p, 5072), 0);
  peer_advance(p, 1);
  second_address_answers(p);
  ck_assert_int_eq(was_failed(p, 5071), 1);
  peer_without_resolver(p);
}
END_TEST

/* The same when the first address's TCP connection fails (a transport
 * error: 503 inside Cay, RFC 3261 section 8.1.3.1), and when sending to
 * it fails at once. */
START_TEST(pager_3263_4_3_next_address_after_transport_error)
{
  peer_t *p = located_message(CAY__TCP, 0, 0);
  cay__peer_t first = { .proto = CAY__TCP };

  ck_assert_int_eq(cay__addr_set(&first.addr, "127.0.0.1", 5071), 0);
  cay__txn_transport_error(&p->ep, &first);
  second_address_answers(p);
  ck_assert_int_eq(was_failed(p, 5071), 1);
  peer_without_resolver(p);

  p = located_message(CAY__TCP, 0, 1);
  ck_assert_uint_eq(sent_to_port(p, 5071), 0); /* refused at once */
  second_address_answers(p);
  peer_without_resolver(p);
}
END_TEST

/* Any other failure of the first address is the target's answer, as for
 * an IP address: 486 reaches A, and the second address gets nothing. */
START_TEST(pager_3263_4_3_other_failure_ends_the_target)
{
  peer_t *p = located_message(CAY__UDP, 0, 0);

  respond(p, 0, "486", "", NULL);
  ck_assert_int_eq(peer_status(p, (unsigned)answer_to_a(p)), 486);
  ck_assert_uint_eq(peer_count(p, 0, "MESSAGE"), 1);
  ck_assert_ptr_null(p->ss.pagers);
  peer_without_resolver(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("b2bua_pager");
  TCase *tc = tcase_create("pager");

  tcase_add_test(tc, pager_relays_body_from_and_the_answer);
  tcase_add_test(tc, pager_failures_mapped);
  tcase_add_test(tc, pager_failover_then_last_failure);
  tcase_add_test(tc, pager_provisional_keeps_the_target);
  tcase_add_test(tc, pager_timeout_408);
  tcase_add_test(tc, pager_22_2_route_credentials);
  tcase_add_test(tc, pager_not_forwarded_answers);
  tcase_add_test(tc, pager_drain_waits_shutdown_answers);
  tcase_add_test(tc, pager_in_dialog_relayed_by_the_bridge);
  tcase_add_test(tc, pager_8_2_2_2_copy_in_flight_gets_482);
  tcase_add_test(tc, pager_8_2_2_2_copy_after_answer_gets_482_until_timer_j);
  tcase_add_test(tc, pager_8_2_2_2_new_cseq_is_not_merged);
  tcase_add_test(tc, pager_3263_4_3_next_address_after_503);
  tcase_add_test(tc, pager_3263_4_3_next_address_after_timer_f);
  tcase_add_test(tc, pager_3263_4_3_next_address_after_no_response);
  tcase_add_test(tc, pager_3263_4_3_next_address_after_transport_error);
  tcase_add_test(tc, pager_3263_4_3_other_failure_ends_the_target);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
