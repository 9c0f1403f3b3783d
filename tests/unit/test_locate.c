/*
 * RFC 3263 for an outgoing session's first INVITE (src/dialog/locate.c):
 * a host name in the Request-URI is located by the shard's resolver
 * before the INVITE goes; no target ends the session as a transport
 * failure would (503); a hangup while locating sends nothing. A scripted
 * peer captures what Cay sends; the resolver answers "localhost" from
 * /etc/hosts and asks a closed port on 127.0.0.1 for anything else, so
 * no DNS server is needed. Every wait is bounded.
 */
#include <check.h>

#include "support/run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "dialog/session_int.h"
#include "support/located.h"
#include "support/peer.h"
#include "transport/dns.h"

#define WAIT_MS 5000

static void
on_tick(uv_timer_t *h)
{
  (void)h;
}

/* Whether what run_until() waits for has happened. */
static int
done(peer_t *p, const unsigned *count, unsigned want)
{
  if (count)
    return *count >= want;
  return cay__dns_pending(p->ss.dns) == 0;
}

/* Run @p p's loop until *@p count reaches @p want (or, when @p count is
 * NULL, until the resolver has nothing pending), at most WAIT_MS. A 10 ms
 * tick makes each UV_RUN_ONCE return soon after the answer. */
static void
run_until(peer_t *p, const unsigned *count, unsigned want)
{
  uv_timer_t tick;
  uint64_t end;

  uv_update_time(&p->loop);
  end = uv_now(&p->loop) + WAIT_MS;
  uv_timer_init(&p->loop, &tick);
  uv_timer_start(&tick, on_tick, 10, 10);
  while (uv_now(&p->loop) < end && !done(p, count, want))
    uv_run(&p->loop, UV_RUN_ONCE);
  uv_close((uv_handle_t *)&tick, NULL);
  uv_run(&p->loop, UV_RUN_NOWAIT);
  ck_assert_msg(done(p, count, want), "nothing happened within %d ms", WAIT_MS);
}

START_TEST(locate_3263_invite_goes_to_the_located_hop)
{
  peer_t *p = peer_with_resolver(0);
  record_t r = { 0 };
  cay__session_t *s = NULL;
  msg_t *m;
  char ip[64];

  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@localhost:5099",
                                       "<sip:cay@127.0.0.1>", NULL,
                                       record_event, &r, &s),
                   0);
  ck_assert_ptr_nonnull(s);
  ck_assert_uint_eq(p->nsent, 0); /* nothing before the answer */
  ck_assert_uint_eq(cay__dns_pending(p->ss.dns), 1);
  run_until(p, &p->nsent, 1);
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(cay__addr_ip(&p->sent[0].dst, ip, sizeof ip), 0);
  ck_assert_str_eq(ip, "127.0.0.1");
  ck_assert_uint_eq(cay__addr_port(&p->sent[0].dst), 5099);
  ck_assert_int_eq(p->sent[0].proto, CAY__UDP);
  m = peer_msg(p, 0);
  /* 8.1.1.1: the Request-URI keeps the name. */
  ck_assert_str_eq(sip_object(m)->sip_request->rq_url->url_host, "localhost");
  ck_assert_str_eq(sip_object(m)->sip_via->v_protocol, "SIP/2.0/UDP");
  msg_destroy(m);
  ck_assert_uint_eq(p->shard.stats.calls_out, 1);
  peer_without_resolver(p);
}
END_TEST

/* RFC 3263 section 4: maddr, when present, is where the request goes:
 * an IP literal needs no DNS, a name is the one looked up. */
START_TEST(locate_3263_maddr_is_the_next_hop)
{
  peer_t *p = peer_with_resolver(0);
  record_t r = { 0 };
  cay__session_t *s = NULL;
  char ip[64];

  ck_assert_int_eq(
      cay__session_invite(&p->ss, "sip:svc@gw.invalid:5098;maddr=127.0.0.1",
                          "<sip:cay@127.0.0.1>", NULL, record_event, &r, &s),
      0);
  ck_assert_uint_eq(p->nsent, 1); /* at once: nothing to look up */
  ck_assert_uint_eq(cay__dns_pending(p->ss.dns), 0);
  ck_assert_uint_eq(cay__addr_port(&p->sent[0].dst), 5098);
  ck_assert_int_eq(
      cay__session_invite(&p->ss, "sip:svc@127.0.0.2:5099;maddr=localhost",
                          "<sip:cay@127.0.0.1>", NULL, record_event, &r, &s),
      0);
  ck_assert_uint_eq(p->nsent, 1);
  run_until(p, &p->nsent, 2);
  ck_assert_int_eq(cay__addr_ip(&p->sent[1].dst, ip, sizeof ip), 0);
  ck_assert_str_eq(ip, "127.0.0.1"); /* localhost, not the host 127.0.0.2 */
  ck_assert_uint_eq(cay__addr_port(&p->sent[1].dst), 5099);
  peer_without_resolver(p);
}
END_TEST

START_TEST(locate_3263_transport_parameter_is_kept)
{
  peer_t *p = peer_with_resolver(0);
  record_t r = { 0 };
  cay__session_t *s = NULL;

  ck_assert_int_eq(
      cay__session_invite(&p->ss, "sip:svc@localhost:5099;transport=tcp",
                          "<sip:cay@127.0.0.1>", NULL, record_event, &r, &s),
      0);
  run_until(p, &p->nsent, 1);
  ck_assert_int_eq(p->sent[0].proto, CAY__TCP);
  ck_assert_uint_eq(cay__addr_port(&p->sent[0].dst), 5099);
  /* A transport Cay does not send over is refused at once. */
  ck_assert_int_eq(
      cay__session_invite(&p->ss, "sip:svc@localhost:5099;transport=sctp",
                          "<sip:cay@127.0.0.1>", NULL, record_event, &r, &s),
      -EINVAL);
  peer_without_resolver(p);
}
END_TEST

START_TEST(locate_3263_no_target_ends_the_session_with_503)
{
  peer_t *p = peer_with_resolver(0);
  record_t r = { 0 };
  cay__session_t *s = NULL;

  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@nowhere.invalid",
                                       "<sip:cay@127.0.0.1>", NULL,
                                       record_event, &r, &s),
                   0);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  run_until(p, NULL, 0);
  uv_run(&p->loop, UV_RUN_NOWAIT);
  peer_advance(p, 1); /* deferred frees */
  ck_assert_uint_eq(p->nsent, 0);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_int_ge(r.n, 1);
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_TERMINATED);
  ck_assert_int_eq(r.statuses[r.n - 1], 503);
  ck_assert_uint_eq(p->shard.stats.calls_out_failed, 1);
  peer_without_resolver(p);
}
END_TEST

START_TEST(locate_3263_hangup_while_locating_sends_nothing)
{
  peer_t *p = peer_with_resolver(0);
  record_t r = { 0 };
  cay__session_t *s = NULL;

  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@localhost:5099",
                                       "<sip:cay@127.0.0.1>", NULL,
                                       record_event, &r, &s),
                   0);
  /* 9.1: no INVITE has gone, so there is nothing to CANCEL: it ends. */
  ck_assert_int_eq(cay__session_hangup(s), 0);
  ck_assert_int_ge(r.n, 1);
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_TERMINATED);
  ck_assert_int_eq(r.statuses[r.n - 1], 487);
  /* The answer still comes, and finds no session. */
  run_until(p, NULL, 0);
  peer_advance(p, 1);
  ck_assert_uint_eq(p->nsent, 0);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_without_resolver(p);
}
END_TEST

/* RFC 3263 section 4.3: a 503 from the first target, then no answer at
 * all (timer B: 408) from the second: each time a new INVITE (the next
 * CSeq, another branch) to the next target; the third answers, and the
 * dialog's requests go there. */
START_TEST(locate_3263_4_3_next_target_after_503_and_timeout)
{
  peer_t *p = peer_with_resolver(0);
  record_t r = { 0 };
  cay__session_t *s = NULL;
  char *b1, *b2;

  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@gw.invalid",
                                       "<sip:cay@127.0.0.1>", NULL,
                                       record_event, &r, &s),
                   0);
  located(s, 3, 1);
  expect_sent(p, 0, "INVITE", 5071, CAY__UDP, 1);
  peer_respond(p, 0, "503", "x1", NULL);
  /* 17.1.1.3: the 503 is ACKed to where the INVITE went; then the next. */
  expect_sent(p, 1, "ACK", 5071, CAY__UDP, 1);
  expect_sent(p, 2, "INVITE", 5072, CAY__TCP, 2);
  b1 = peer_header(p, 0, "Via");
  b2 = peer_header(p, 2, "Via");
  ck_assert_str_ne(strstr(b1, "branch="), strstr(b2, "branch="));
  free(b1);
  free(b2);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  peer_advance(p, 64 * 500); /* timer B of the TCP INVITE */
  expect_sent(p, 3, "INVITE", 5073, CAY__UDP, 3);
  peer_respond(p, 3, "200", "x3", "Contact: <sip:svc@127.0.0.1:5073>\r\n");
  expect_sent(p, 4, "ACK", 5073, CAY__UDP, 3);
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_CONFIRMED);
  ck_assert_ptr_null(s->targets);
  ck_assert_int_eq(cay__session_hangup(s), 0);
  expect_sent(p, 5, "BYE", 5073, CAY__UDP, 4);
  peer_respond(p, 5, "200", NULL, NULL);
  peer_advance(p, 1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->shard.stats.calls_out_failed, 0);
  peer_without_resolver(p);
}
END_TEST

/* What the session tells the resolver (section 4.3): the first target
 * answers 503 with Retry-After (RFC 3261 section 21.5.4), the second
 * (TCP) not at all (timer B), the third with 200: the first two are
 * remembered as failed, the third not. Then a target remembered before
 * answers 503 without Retry-After: an answer, so it is forgotten. */
START_TEST(locate_3263_4_3_targets_that_failed_are_reported)
{
  peer_t *p = peer_with_resolver(60);
  record_t r = { 0 };
  cay__session_t *s = NULL;
  cay__addr_t first;

  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@gw.invalid",
                                       "<sip:cay@127.0.0.1>", NULL,
                                       record_event, &r, &s),
                   0);
  located(s, 3, 1);
  peer_respond(p, 0, "503", "x1", "Retry-After: 30\r\n");
  expect_sent(p, 2, "INVITE", 5072, CAY__TCP, 2);
  peer_advance(p, 64 * 500); /* timer B of the TCP INVITE */
  expect_sent(p, 3, "INVITE", 5073, CAY__UDP, 3);
  peer_respond(p, 3, "200", "x3", "Contact: <sip:svc@127.0.0.1:5073>\r\n");
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_CONFIRMED);
  ck_assert_int_eq(was_failed(p, 5071), 1);
  ck_assert_int_eq(was_failed(p, 5072), 1);
  ck_assert_int_eq(was_failed(p, 5073), 0);
  ck_assert_int_eq(cay__session_hangup(s), 0);
  peer_respond(p, p->nsent - 1, "200", NULL, NULL);
  peer_advance(p, 1);

  peer_clear(p);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(cay__addr_set(&first, "127.0.0.1", 5071), 0);
  ck_assert_int_eq(cay__dns_target_failed(p->ss.dns, &first, 0), 1);
  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@gw.invalid",
                                       "<sip:cay@127.0.0.1>", NULL,
                                       record_event, &r, &s),
                   0);
  located(s, 1, 1);
  peer_respond(p, 0, "503", "x1", NULL);
  peer_advance(p, 1);
  ck_assert_int_eq(r.statuses[r.n - 1], 503);
  ck_assert_int_eq(was_failed(p, 5071), 0);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_without_resolver(p);
}
END_TEST

/* A hangup before any answer: when the INVITE then fails, no other target
 * is tried (9.1: the caller gave up), and the last target's failure ends
 * the call when there is none left. */
START_TEST(locate_3263_4_3_no_next_target_after_hangup_or_the_last)
{
  peer_t *p = peer_with_resolver(0);
  record_t r = { 0 };
  cay__session_t *s = NULL;

  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@gw.invalid",
                                       "<sip:cay@127.0.0.1>", NULL,
                                       record_event, &r, &s),
                   0);
  located(s, 2, 1);
  expect_sent(p, 0, "INVITE", 5071, CAY__UDP, 1);
  ck_assert_int_eq(cay__session_hangup(s), 0); /* CANCEL waits for a 1xx */
  peer_respond(p, 0, "503", "x1", NULL);
  peer_advance(p, 1);
  for (unsigned i = 1; i < p->nsent; i++) {
    msg_t *m = peer_msg(p, i);
    ck_assert_str_ne(sip_object(m)->sip_request->rq_method_name, "INVITE");
    msg_destroy(m);
  }
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_int_eq(r.statuses[r.n - 1], 503);

  /* Two targets, both 503: the call fails with the second's. */
  peer_clear(p);
  memset(&r, 0, sizeof r);
  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@gw.invalid",
                                       "<sip:cay@127.0.0.1>", NULL,
                                       record_event, &r, &s),
                   0);
  located(s, 2, 1);
  peer_respond(p, 0, "503", "x1", NULL);
  expect_sent(p, 2, "INVITE", 5072, CAY__TCP, 2);
  peer_respond(p, 2, "503", "x2", NULL);
  peer_advance(p, 1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_int_eq(r.statuses[r.n - 1], 503);
  ck_assert_uint_eq(p->shard.stats.calls_out_failed, 2);
  peer_without_resolver(p);
}
END_TEST

START_TEST(locate_3263_without_resolver_a_name_is_refused)
{
  peer_t *p = peer_new(NULL);
  cay__session_t *s = NULL;

  ck_assert_ptr_null(p->ss.dns);
  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@localhost:5099",
                                       "<sip:cay@127.0.0.1>", NULL, NULL, NULL,
                                       &s),
                   -EINVAL);
  ck_assert_uint_eq(p->nsent, 0);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("locate");
  TCase *tc = tcase_create("locate");

  tcase_set_timeout(tc, 30);
  tcase_add_test(tc, locate_3263_invite_goes_to_the_located_hop);
  tcase_add_test(tc, locate_3263_maddr_is_the_next_hop);
  tcase_add_test(tc, locate_3263_transport_parameter_is_kept);
  tcase_add_test(tc, locate_3263_no_target_ends_the_session_with_503);
  tcase_add_test(tc, locate_3263_hangup_while_locating_sends_nothing);
  tcase_add_test(tc, locate_3263_4_3_next_target_after_503_and_timeout);
  tcase_add_test(tc, locate_3263_4_3_no_next_target_after_hangup_or_the_last);
  tcase_add_test(tc, locate_3263_4_3_targets_that_failed_are_reported);
  tcase_add_test(tc, locate_3263_without_resolver_a_name_is_refused);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
