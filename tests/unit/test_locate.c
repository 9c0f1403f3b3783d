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
#include "support/peer.h"
#include "transport/dns.h"

#define WAIT_MS 5000

typedef struct record {
  int n;
  cay_session_state_t states[8];
  int statuses[8];
} record_t;

static void
on_state(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  record_t *r = arg;

  (void)s;
  if (r->n < 8) {
    r->states[r->n] = ev->state;
    r->statuses[r->n] = ev->status;
    r->n++;
  }
}

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

static peer_t *
peer_with_resolver(void)
{
  peer_t *p = peer_new(NULL);
  /* Port 9 (discard) on loopback is closed: a query gets ICMP port
   * unreachable, so a name not in /etc/hosts fails at once. */
  cay__dns_opts_t o = {
    .servers = "127.0.0.1:9", .timeout_ms = 300, .tries = 1, .family = AF_INET
  };
  char err[128];

  ck_assert_int_eq(cay__dns_create(&p->ss.dns, &p->loop, &o, err, sizeof err),
                   0);
  return p;
}

static int dns_closed;

static void
on_dns_closed(void *arg)
{
  (void)arg;
  dns_closed++;
}

static void
peer_without_resolver(peer_t *p)
{
  cay__sessions_fini(&p->ss); /* the sessions first, as the worker does */
  dns_closed = 0;
  cay__dns_close(p->ss.dns, on_dns_closed, NULL);
  p->ss.dns = NULL;
  for (int i = 0; i < 8 && !dns_closed; i++)
    uv_run(&p->loop, UV_RUN_NOWAIT);
  ck_assert_int_eq(dns_closed, 1);
  /* peer_free() ends the session layer again: it is empty. */
  ck_assert_int_eq(cay__sessions_init(&p->ss, &p->ep, &p->cfg), 0);
  peer_free(p);
}

START_TEST(locate_3263_invite_goes_to_the_located_hop)
{
  peer_t *p = peer_with_resolver();
  record_t r = { 0 };
  cay__session_t *s = NULL;
  msg_t *m;
  char ip[64];

  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@localhost:5099",
                                       "<sip:cay@127.0.0.1>", NULL, on_state,
                                       &r, &s),
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

START_TEST(locate_3263_transport_parameter_is_kept)
{
  peer_t *p = peer_with_resolver();
  record_t r = { 0 };
  cay__session_t *s = NULL;

  ck_assert_int_eq(
      cay__session_invite(&p->ss, "sip:svc@localhost:5099;transport=tcp",
                          "<sip:cay@127.0.0.1>", NULL, on_state, &r, &s),
      0);
  run_until(p, &p->nsent, 1);
  ck_assert_int_eq(p->sent[0].proto, CAY__TCP);
  ck_assert_uint_eq(cay__addr_port(&p->sent[0].dst), 5099);
  /* A transport Cay does not send over is refused at once. */
  ck_assert_int_eq(
      cay__session_invite(&p->ss, "sip:svc@localhost:5099;transport=sctp",
                          "<sip:cay@127.0.0.1>", NULL, on_state, &r, &s),
      -EINVAL);
  peer_without_resolver(p);
}
END_TEST

START_TEST(locate_3263_no_target_ends_the_session_with_503)
{
  peer_t *p = peer_with_resolver();
  record_t r = { 0 };
  cay__session_t *s = NULL;

  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@nowhere.invalid",
                                       "<sip:cay@127.0.0.1>", NULL, on_state,
                                       &r, &s),
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
  peer_t *p = peer_with_resolver();
  record_t r = { 0 };
  cay__session_t *s = NULL;

  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@localhost:5099",
                                       "<sip:cay@127.0.0.1>", NULL, on_state,
                                       &r, &s),
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
  tcase_add_test(tc, locate_3263_transport_parameter_is_kept);
  tcase_add_test(tc, locate_3263_no_target_ends_the_session_with_503);
  tcase_add_test(tc, locate_3263_hangup_while_locating_sends_nothing);
  tcase_add_test(tc, locate_3263_without_resolver_a_name_is_refused);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
