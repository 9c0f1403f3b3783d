/*
 * UDP flows watched for keep-alives (RFC 5626 section 4.4.1,
 * registrar/keepalive.c): a UA that registered an outbound flow over
 * UDP and was told a Flow-Timer keeps its binding while a STUN
 * keep-alive or a REGISTER comes from the flow at least every
 * Flow-Timer + CAY__FLOW_LEEWAY_S; silent for longer, the flow has
 * failed and the binding, which nothing else reaches, goes. Which
 * bindings are watched, that a keep-alive read for another shard's
 * binding is passed on, and the flows_failed counter.
 */
#include <check.h>
#include <stdio.h>
#include <string.h>

#include "core/alloc.h"
#include "registrar/registrar.h"
#include "support/bridge_call.h"
#include "support/peer.h"
#include "support/register.h"
#include "support/run.h"

/* Where the scripted peer sends from (support/peer.h). */
static cay__addr_t ctx_peer_addr;

#define FLOW_TIMER_S 2
/* How long a watched flow may be silent, in ms. */
#define SILENCE_MS (1000 * (FLOW_TIMER_S + CAY__FLOW_LEEWAY_S))

#define OB_CONTACT                                                             \
  "Contact: <sip:ob@192.0.2.1:5060>;reg-id=1;"                                 \
  "+sip.instance=\"<urn:uuid:00000000-0000-1000-8000-000A95A0E128>\"\r\n"
#define OB_REGISTER "Supported: outbound\r\n" OB_CONTACT

static cay_config_t
ka_config(void)
{
  cay_config_t cfg = location_config(0);

  cfg.reg_flow_timer_s = FLOW_TIMER_S;
  return cfg;
}

/* Bindings of @p aor now. */
static unsigned
bound(peer_t *p, const char *aor)
{
  cay__contact_t c[4];

  return cay__registrar_lookup(p->ss.reg, aor, c, 4);
}

/* SERVICE's binding, silent from now on, is still there 1 s before
 * the silence is too long, and gone (counted) when it is. */
static void
gone_after_silence(peer_t *p)
{
  uint64_t failed = p->shard.stats.flows_failed;

  peer_advance(p, SILENCE_MS - 1000);
  ck_assert_uint_eq(bound(p, SERVICE), 1);
  peer_advance(p, 1000);
  ck_assert_uint_eq(bound(p, SERVICE), 0);
  ck_assert_uint_eq(p->shard.stats.flows_failed, failed + 1);
}

/* A silent UDP flow fails once Flow-Timer + leeway has passed since the
 * last thing heard from it: a keep-alive from the flow's address moves
 * that, one from another port does not; the binding goes (reg-id:
 * nothing else reaches it), the other shards are told, and
 * flows_failed counts it. */
START_TEST(keepalive_5626_4_4_1_silent_flow_fails)
{
  cay_config_t cfg = ka_config();
  peer_t *p = peer_new(&cfg);
  cay__addr_t other = p->src.addr;
  reg_told_t t = { 0 };

  cay__registrar_set_share(p->ss.reg, reg_told_record, &t);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1, OB_REGISTER),
                   200);
  ck_assert_uint_eq(t.keepalive_s, FLOW_TIMER_S); /* copies know it */
  peer_advance(p, SILENCE_MS - 1000);
  ck_assert_uint_eq(bound(p, SERVICE), 1);
  cay__addr_set_port(&other, cay__addr_port(&p->src.addr) + 1);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &other, 0), 0);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 0), 1);
  /* Past the first deadline (heard 1 s before it), to the second. */
  gone_after_silence(p);
  ck_assert_uint_eq(cay__registrar_bindings(p->ss.reg), 0);
  ck_assert_uint_eq(p->shard.stats.flows_failed, 1);
  ck_assert_uint_eq(t.removed, 1);
  /* Nothing is left to hear it. */
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 0), 0);
  peer_free(p);
}
END_TEST

/* A UA that keeps its flow alive keeps its binding for as long as it
 * registered it (here 60 s, keep-alives every Flow-Timer), and a
 * REGISTER refreshing it counts as hearing from it. */
START_TEST(keepalive_5626_4_4_1_live_flow_stays)
{
  cay_config_t cfg = ka_config();
  peer_t *p = peer_new(&cfg);

  ck_assert_int_eq(
      reg_send(p, "127.0.0.1", SERVICE, "r1", 1, "Expires: 60\r\n" OB_REGISTER),
      200);
  for (int i = 0; i < 29; i++) {
    peer_advance(p, 1000 * FLOW_TIMER_S);
    ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 0), 1);
  }
  ck_assert_uint_eq(bound(p, SERVICE), 1);
  /* A refresh without keep-alives since. */
  ck_assert_uint_eq(
      reg_send(p, "127.0.0.1", SERVICE, "r1", 2, "Expires: 60\r\n" OB_REGISTER),
      200);
  gone_after_silence(p);
  ck_assert_uint_eq(p->shard.stats.flows_failed, 1);
  peer_free(p);
}
END_TEST

/* Only a UDP flow whose UA was told a Flow-Timer, and that calls take,
 * is watched: not without registrar.flow_timer_s, not without
 * Supported: outbound (no Flow-Timer in the 200), not a NAT binding
 * without reg-id, not with registrar.flows: never, not over TCP (its
 * connection's close says it failed). Each outlives the silence. */
START_TEST(keepalive_unwatched_bindings_stay)
{
  cay_config_t cfg = ka_config();
  peer_t *p;

  cfg.reg_flow_timer_s = 0;
  p = peer_new(&cfg);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1, OB_REGISTER),
                   200);
  peer_advance(p, 2 * SILENCE_MS);
  ck_assert_uint_eq(bound(p, SERVICE), 1);
  peer_free(p);

  cfg = ka_config();
  p = peer_new(&cfg);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1, OB_CONTACT), 200);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", "sip:nat@127.0.0.1", "r2", 1,
                            "Supported: outbound\r\n"
                            "Contact: <sip:nat@10.0.0.7:5060>\r\n"),
                   200);
  p->src.proto = CAY__TCP;
  p->src.conn = 0x4000000000000123ull;
  ck_assert_int_eq(reg_send(p, "127.0.0.1", "sip:tcp@127.0.0.1", "r3", 1,
                            "Supported: outbound\r\n"
                            "Contact: <sip:tcp@192.0.2.1:5060;transport=tcp>;"
                            "reg-id=1;+sip.instance=\"<urn:uuid:1>\"\r\n"),
                   200);
  peer_advance(p, 2 * SILENCE_MS);
  ck_assert_uint_eq(cay__registrar_bindings(p->ss.reg), 3);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 0), 0);
  peer_free(p);

  cfg = ka_config();
  cfg.reg_flows = CAY_REG_FLOWS_NEVER;
  p = peer_new(&cfg);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1, OB_REGISTER),
                   200);
  peer_advance(p, 2 * SILENCE_MS);
  ck_assert_uint_eq(bound(p, SERVICE), 1);
  ck_assert_uint_eq(p->shard.stats.flows_failed, 0);
  peer_free(p);
}
END_TEST

/* What the keep-alive hook was told. */
typedef struct passed {
  unsigned n;
  char aor[CAY__AOR_MAX];
  cay__addr_t src;
} passed_t;

static void
pass_on(void *arg, const char *aor, const cay__addr_t *src)
{
  passed_t *x = arg;

  x->n++;
  snprintf(x->aor, sizeof x->aor, "%s", aor);
  x->src = *src;
}

/* A keep-alive read here for a copy of another shard's watched binding
 * is passed to its owner (the hook, with the AOR), at most once a
 * second (a STUN flood costs the owner one message a second); one
 * relayed from another shard is not passed again, nor one for an
 * unwatched copy or another address. A copy never fails on its own:
 * its owner decides. */
START_TEST(keepalive_copy_passes_to_owner)
{
  cay_config_t cfg = ka_config();
  peer_t *p = peer_new(&cfg);
  cay__peer_t flow = p->src;
  cay__addr_t other = p->src.addr;
  passed_t x = { 0 };
  cay__binding_change_t c = { .aor = "sip:far@b.example",
                              .contact = "sip:far@192.0.2.5",
                              .q = -1,
                              .expires_ms = 600000,
                              .flow = &flow,
                              .flow_only = 1,
                              .keepalive_s = FLOW_TIMER_S };

  cay__registrar_set_keepalive_share(p->ss.reg, pass_on, &x);
  cay__registrar_learn(p->ss.reg, &c);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 0), 0);
  ck_assert_uint_eq(x.n, 1);
  ck_assert_str_eq(x.aor, "sip:far@b.example");
  ck_assert(cay__addr_eq(&x.src, &p->src.addr));
  for (int i = 0; i < 10; i++)
    ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 0), 0);
  ck_assert_uint_eq(x.n, 1);
  peer_advance(p, 999);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 0), 0);
  ck_assert_uint_eq(x.n, 1);
  peer_advance(p, 1);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 0), 0);
  ck_assert_uint_eq(x.n, 2);
  peer_advance(p, 1000);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 1), 0);
  cay__addr_set_port(&other, cay__addr_port(&other) + 1);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &other, 0), 0);
  ck_assert_uint_eq(x.n, 2);
  peer_advance(p, 2 * SILENCE_MS);
  ck_assert_uint_eq(bound(p, "sip:far@b.example"), 1);
  ck_assert_uint_eq(p->shard.stats.flows_failed, 0);

  /* The owner's refresh says it is no longer watched. */
  c.keepalive_s = 0;
  cay__registrar_learn(p->ss.reg, &c);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 0), 0);
  ck_assert_uint_eq(x.n, 2);
  /* Removed: gone from the table too (ASan: no stale node). */
  c.keepalive_s = FLOW_TIMER_S;
  cay__registrar_learn(p->ss.reg, &c);
  c.expires_ms = 0;
  cay__registrar_learn(p->ss.reg, &c);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 0), 0);
  ck_assert_uint_eq(x.n, 2);
  peer_free(p);
}
END_TEST

/* A UA behind a NAT that maps it anew refreshes from another address:
 * the binding is watched at the new one, and a keep-alive from the old
 * one no longer counts. A binding the UA removes (Expires: 0) stops
 * being watched. A closed TCP flow counts in flows_failed too. */
START_TEST(keepalive_flow_moves_with_refresh)
{
  cay_config_t cfg = ka_config();
  peer_t *p = peer_new(&cfg);
  cay__addr_t old = p->src.addr;

  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1, OB_REGISTER),
                   200);
  cay__addr_set_port(&p->src.addr, cay__addr_port(&old) + 7);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 2, OB_REGISTER),
                   200);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &old, 0), 0);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 0), 1);
  ck_assert_int_eq(
      reg_send(p, "127.0.0.1", SERVICE, "r1", 3, "Expires: 0\r\n" OB_REGISTER),
      200);
  ck_assert_uint_eq(cay__registrar_keepalive(p->ss.reg, &p->src.addr, 0), 0);
  peer_advance(p, 2 * SILENCE_MS);
  ck_assert_uint_eq(p->shard.stats.flows_failed, 0);

  p->src.proto = CAY__TCP;
  p->src.conn = 0x4000000000000123ull;
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r2", 1, OB_REGISTER),
                   200);
  ck_assert_uint_eq(cay__registrar_flow_failed(p->ss.reg, p->src.conn), 1);
  ck_assert_uint_eq(p->shard.stats.flows_failed, 1);
  peer_free(p);
}
END_TEST

/* A watched binding written to the store (registrar.store) and bound
 * by a new process is watched there too, with the Flow-Timer its UA was
 * told, as if heard at the restore: kept while keep-alives come, gone
 * once its flow has been silent long enough. */
START_TEST(keepalive_restored_binding_watched)
{
  cay_config_t cfg = ka_config();
  peer_t *p = peer_new(&cfg), *q;
  cay__restore_counts_t n = { 0 };
  uint64_t ttl, wall = 1800000000000ull;
  char *rec, copy[1024];
  size_t len;

  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1, OB_REGISTER),
                   200);
  ck_assert_int_eq(
      cay__registrar_record(p->ss.reg, SERVICE, wall, &rec, &len, &ttl), 0);
  ck_assert_ptr_nonnull(rec);
  ck_assert_uint_lt(len, sizeof copy);
  memcpy(copy, rec, len); /* freed here: the fixtures count allocations */
  copy[len] = '\0';
  cay__free(rec);
  ck_assert_ptr_nonnull(strstr(copy, "\t2\n")); /* its Flow-Timer */
  cfg.reg_flow_timer_s = 0; /* the new process's config does not matter */
  q = peer_new(&cfg);
  ck_assert_int_eq(
      cay__registrar_restore(q->ss.reg, SERVICE, copy, len, wall + 1000, &n),
      0);
  ck_assert_uint_eq(n.restored, 1);
  peer_advance(q, SILENCE_MS - 1000);
  ck_assert_uint_eq(cay__registrar_keepalive(q->ss.reg, &p->src.addr, 0), 1);
  gone_after_silence(q);
  ck_assert_uint_eq(q->shard.stats.flows_failed, 1);
  peer_free(q);
  peer_free(p);
}
END_TEST

/* The worker's udp_failed hook, on one shard. */
static void
end_over_flow(void *arg, const cay__addr_t *flow)
{
  peer_t *p = arg;

  cay__txn_udp_flow_failed(&p->ep, flow);
}

/* A callee on a UDP outbound flow rings, then falls silent (a phone that
 * died): once its flow has failed, the B leg's INVITE transaction ends
 * (instead of ringing until ring_timeout_s, 60 s) and A gets a final
 * response; the binding is gone. The hook is told the flow's address;
 * a transaction to another address is not ended. */
START_TEST(keepalive_silent_flow_ends_ringing_call)
{
  cay_config_t cfg = ka_config();
  peer_t *p = peer_new(&cfg);
  cay__peer_t other = { .proto = CAY__UDP, .flow = 1 };

  cay__registrar_set_udp_flow_failed(p->ss.reg, end_over_flow, p);
  ck_assert_int_eq(reg_send(p, "127.0.0.1", SERVICE, "r1", 1, OB_REGISTER),
                   200);
  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  ck_assert_int_eq(p->sent[inv].proto, CAY__UDP);
  ck_assert_int_eq(p->sent[inv].flow, 1);
  ck_assert(cay__addr_eq(&p->sent[inv].dst, &p->src.addr));
  respond(p, (unsigned)inv, "180", "", NULL);
  ck_assert_int_ge(peer_find_last(p, 180, "INVITE"), 0);

  other.addr = p->src.addr;
  cay__addr_set_port(&other.addr, cay__addr_port(&p->src.addr) + 1);
  cay__txn_udp_flow_failed(&p->ep, &other.addr); /* not its flow */
  peer_advance(p, SILENCE_MS - 1000);
  ck_assert_int_lt(a_response(p, "1 INVITE"), 0);
  peer_advance(p, 1000);
  a_final_is(p, "1 INVITE", 500);
  ck_assert_uint_eq(cay__registrar_bindings(p->ss.reg), 0);
  ck_assert_uint_eq(p->shard.stats.flows_failed, 1);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("keepalive");
  TCase *tc = tcase_create("rfc5626_4_4_1");

  (void)cay__addr_set(&ctx_peer_addr, "127.0.0.1", 5070);

  tcase_add_test(tc, keepalive_5626_4_4_1_silent_flow_fails);
  tcase_add_test(tc, keepalive_5626_4_4_1_live_flow_stays);
  tcase_add_test(tc, keepalive_unwatched_bindings_stay);
  tcase_add_test(tc, keepalive_copy_passes_to_owner);
  tcase_add_test(tc, keepalive_flow_moves_with_refresh);
  tcase_add_test(tc, keepalive_restored_binding_watched);
  tcase_add_test(tc, keepalive_silent_flow_ends_ringing_call);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
