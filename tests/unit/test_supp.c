/*
 * Supplements (DESIGN.md section 4): each promise of the contract, on a
 * scripted peer and a virtual clock.
 */
#include <check.h>

#include "support/run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "supp/supp.h"
#include "support/peer.h"

#define T1 500

typedef struct trace {
  char seen[64][32]; /* "name:dir:method-or-status" */
  int n;
} trace_t;

static trace_t tr;
static cay__supps_t supps;

static void
note(const char *name, const char *dir, const sip_t *sip)
{
  if (tr.n == 64)
    return;
  if (sip->sip_request)
    snprintf(tr.seen[tr.n++], 32, "%s:%s:%s", name, dir,
             sip->sip_request->rq_method_name);
  else
    snprintf(tr.seen[tr.n++], 32, "%s:%s:%d", name, dir,
             sip->sip_status->st_status);
}

static int
in_req(msg_t *msg, sip_t *sip, void *arg)
{
  (void)msg;
  note(arg, "in", sip);
  return 0;
}

static void
out_msg(msg_t *msg, sip_t *sip, void *arg)
{
  (void)msg;
  note(arg, "out", sip);
}

static cay_supp_t
traced(const char *name, int prio, const char *methods)
{
  cay_supp_t s = { .name = name,
                   .methods = methods,
                   .priority = prio,
                   .incoming_request = in_req,
                   .outgoing_request = out_msg,
                   .outgoing_response = out_msg,
                   .arg = (void *)name };
  return s;
}

static peer_t *
peer_with(const cay_supp_t *list, int n)
{
  peer_t *p = peer_new(NULL);

  memset(&tr, 0, sizeof tr);
  memset(&supps, 0, sizeof supps);
  for (int i = 0; i < n; i++)
    ck_assert_int_eq(cay__supps_add(&supps, &list[i]), 0);
  cay__supps_freeze(&supps);
  cay__supps_attach(&supps, &p->ep);
  return p;
}

static void
invite(peer_t *p, const char *cid)
{
  char branch[64];

  snprintf(branch, sizeof branch, "z9hG4bK-s-%s", cid);
  peer_send(p, "invite.sip", "branch", branch, "fromtag", "ft1", "callid", cid,
            "codecs", "0", "extra", "", NULL);
}

START_TEST(supp_order_priority_then_registration_both_ways)
{
  cay_supp_t list[]
      = { traced("a", 10, NULL), traced("b", 5, NULL), traced("c", 10, NULL) };
  peer_t *p = peer_with(list, 3);

  invite(p, "o1");
  /* Incoming INVITE: b (5), then a and c (10, registration order); then
   * the 180 and the 200 out, in the same order. */
  static const char *const want[] = {
    "b:in:INVITE", "a:in:INVITE", "c:in:INVITE", "b:out:180", "a:out:180",
    "c:out:180",   "b:out:200",   "a:out:200",   "c:out:200",
  };
  ck_assert_int_eq(tr.n, 9);
  for (int i = 0; i < 9; i++)
    ck_assert_str_eq(tr.seen[i], want[i]);
  peer_free(p);
}
END_TEST

static void
add_header(msg_t *msg, sip_t *sip, void *arg)
{
  (void)sip;
  (void)arg;
  ck_assert_int_eq(cay__msg_add_header(msg, "X-Cay-Supp: changed"), 0);
}

START_TEST(supp_outgoing_change_reaches_the_wire_once)
{
  cay_supp_t s
      = { .name = "x", .priority = 1, .outgoing_response = add_header };
  peer_t *p = peer_with(&s, 1);

  invite(p, "w1");
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_ptr_nonnull(strstr(p->sent[0].data, "\r\nX-Cay-Supp: changed"));
  ck_assert_ptr_nonnull(strstr(p->sent[1].data, "\r\nX-Cay-Supp: changed"));
  /* The SDP answer survived the msg_t path. */
  ck_assert_ptr_nonnull(strstr(p->sent[1].data, "m=audio"));
  /* 2xx retransmission: the same bytes, no hook run again (the header
   * would appear twice if it had). */
  peer_advance(p, T1);
  ck_assert_uint_eq(p->nsent, 3);
  ck_assert_str_eq(p->sent[2].data, p->sent[1].data);
  peer_free(p);
}
END_TEST

static int
refuse(msg_t *msg, sip_t *sip, void *arg)
{
  (void)msg;
  (void)sip;
  (void)arg;
  return 403;
}

START_TEST(supp_incoming_stop_is_answered_and_goes_no_further)
{
  cay_supp_t list[] = {
    { .name = "stop", .priority = 1, .incoming_request = refuse },
    traced("later", 2, NULL),
  };
  peer_t *p = peer_with(list, 2);

  invite(p, "s1");
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(peer_status(p, 0), 403);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  /* The later supplement never saw the INVITE, only the 403 going out. */
  ck_assert_int_eq(tr.n, 1);
  ck_assert_str_eq(tr.seen[0], "later:out:403");
  peer_free(p);
}
END_TEST

START_TEST(supp_method_filter)
{
  cay_supp_t s = traced("opt", 1, "OPTIONS");
  peer_t *p = peer_with(&s, 1);

  invite(p, "m1");
  ck_assert_int_eq(tr.n, 0);
  peer_send(p, "request.sip", "method", "OPTIONS", "branch", "z9hG4bK-mo",
            "fromtag", "f", "callid", "m2", "cseq", "1", "totag", "", "maxfwd",
            "70", "extra", "", NULL);
  ck_assert_int_eq(tr.n, 2);
  ck_assert_str_eq(tr.seen[0], "opt:in:OPTIONS");
  ck_assert_str_eq(tr.seen[1], "opt:out:200");
  peer_free(p);
}
END_TEST

START_TEST(supp_registry_frozen_and_checked)
{
  cay__supps_t s;
  cay_supp_t ok = traced("ok", 1, "INVITE, UPDATE");
  cay_supp_t bad = traced("bad", 1, " , ");
  cay_supp_t noname = traced(NULL, 1, NULL);

  memset(&s, 0, sizeof s);
  ck_assert_int_eq(cay__supps_add(&s, &ok), 0);
  ck_assert_uint_eq(s.list[0].n_methods, 2);
  ck_assert_str_eq(s.list[0].methods[1], "UPDATE");
  ck_assert_int_eq(cay__supps_add(&s, &bad), -EINVAL);
  ck_assert_int_eq(cay__supps_add(&s, &noname), -EINVAL);
  cay__supps_freeze(&s);
  ck_assert_int_eq(cay__supps_add(&s, &ok), CAY_ESTATE);
}
END_TEST

START_TEST(supp_caller_id_adds_p_asserted_identity_to_invite)
{
  cay_supp_t s = cay_supp_caller_id("\"Cay\" <sip:cay@example.com>");
  peer_t *p = peer_with(&s, 1);
  cay__session_t *sess = NULL;

  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@127.0.0.1:5070",
                                       "<sip:cay@127.0.0.1>", NULL, NULL, NULL,
                                       &sess),
                   0);
  ck_assert_str_eq(peer_method(p, 0), "INVITE");
  char *pai = peer_header(p, 0, "P-Asserted-Identity");
  ck_assert_ptr_nonnull(pai);
  ck_assert_str_eq(pai, "\"Cay\" <sip:cay@example.com>");
  free(pai);
  /* A retransmission is the same bytes: one PAI, added once. */
  peer_advance(p, T1);
  ck_assert_str_eq(p->sent[1].data, p->sent[0].data);
  peer_free(p);
}
END_TEST

/* What an outgoing-request hook saw of the top Via, and what it does. */
static char via_seen[8][8];
static int nvia, shrink;

static void
see_via(msg_t *msg, sip_t *sip, void *arg)
{
  (void)arg;
  if (nvia < 8)
    snprintf(via_seen[nvia++], sizeof via_seen[0], "%s",
             sip->sip_via->v_protocol + 8);
  /* Shrinking the request under the limit: the body goes. */
  if (shrink && sip->sip_payload)
    ck_assert_int_eq(msg_header_remove(msg, (msg_pub_t *)sip,
                                       (msg_header_t *)sip->sip_payload),
                     0);
}

START_TEST(supp_outgoing_hook_sees_the_transport_of_18_1_1)
{
  cay_supp_t s = { .name = "v", .priority = 1, .outgoing_request = see_via };
  peer_t *p = peer_with(&s, 1);
  char sdp[1400];
  cay__session_t *sess = NULL;

  peer_padded_sdp(sdp, sizeof sdp,
                  "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                  "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 4000 RTP/AVP 0\r\n");
  p->ep.udp_max_request = 1300;
  nvia = shrink = 0;
  /* Too large for UDP: the hook sees the TCP Via the INVITE goes with. */
  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@127.0.0.1:5070",
                                       "<sip:cay@127.0.0.1>", sdp, NULL, NULL,
                                       &sess),
                   0);
  ck_assert_int_eq(nvia, 1);
  ck_assert_str_eq(via_seen[0], "TCP");
  ck_assert_int_eq(p->sent[0].proto, CAY__TCP);
  ck_assert_ptr_nonnull(strstr(p->sent[0].data, "Via: SIP/2.0/TCP "));
  /* A hook that makes it small again: UDP on the wire, and in the Via. */
  shrink = 1;
  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@127.0.0.1:5070",
                                       "<sip:cay@127.0.0.1>", sdp, NULL, NULL,
                                       &sess),
                   0);
  ck_assert_int_eq(nvia, 2);
  ck_assert_uint_lt(p->sent[1].len, 1300);
  ck_assert_int_eq(p->sent[1].proto, CAY__UDP);
  ck_assert_ptr_nonnull(strstr(p->sent[1].data, "Via: SIP/2.0/UDP "));
  /* Small from the start: UDP for the hook too. */
  shrink = 0;
  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@127.0.0.1:5070",
                                       "<sip:cay@127.0.0.1>", NULL, NULL, NULL,
                                       &sess),
                   0);
  ck_assert_str_eq(via_seen[2], "UDP");
  ck_assert_int_eq(p->sent[2].proto, CAY__UDP);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("supplements");
  TCase *tc = tcase_create("supp");

  tcase_add_test(tc, supp_order_priority_then_registration_both_ways);
  tcase_add_test(tc, supp_outgoing_change_reaches_the_wire_once);
  tcase_add_test(tc, supp_incoming_stop_is_answered_and_goes_no_further);
  tcase_add_test(tc, supp_method_filter);
  tcase_add_test(tc, supp_registry_frozen_and_checked);
  tcase_add_test(tc, supp_caller_id_adds_p_asserted_identity_to_invite);
  tcase_add_test(tc, supp_outgoing_hook_sees_the_transport_of_18_1_1);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
