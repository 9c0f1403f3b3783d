/*
 * Outgoing INVITE sessions with requests too large for UDP (RFC 3261
 * section 18.1.1): the INVITE and the dialog's later requests go over
 * TCP, and over UDP when TCP is refused or off (the ACK of a 2xx:
 * test_uac.c). A scripted peer on a virtual clock (support/uac_call.h).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "dialog/session_int.h"
#include "support/peer.h"
#include "support/run.h"
#include "support/uac_call.h"

#define T1 500

START_TEST(uac_18_1_1_large_request_goes_over_tcp_and_the_dialog_follows)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };
  char t[4];

  p->ep.udp_max_request = 1300;
  cay__session_t *s = uac_large_call(p, &r);
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_uint_gt(p->sent[0].len, 1300);
  ck_assert_int_eq(p->sent[0].proto, CAY__TCP);
  ck_assert_str_eq(uac_via_transport(p, 0, t), "TCP");
  /* Over TCP nothing is retransmitted (17.1.1.2: no timer A). */
  peer_advance(p, 4 * T1);
  ck_assert_uint_eq(p->nsent, 1);
  /* The answer came back over TCP: the ACK and the BYE, small as they
   * are, go over TCP too, to the dialog's peer. */
  peer_respond(p, 0, "200", "uas1", "Contact: <sip:uas@127.0.0.1:5070>\r\n");
  int ack = peer_find_last(p, 0, "ACK");
  ck_assert_int_ge(ack, 0);
  ck_assert_int_eq(p->sent[ack].proto, CAY__TCP);
  ck_assert_str_eq(uac_via_transport(p, (unsigned)ack, t), "TCP");
  ck_assert_int_eq(cay__session_hangup(s), 0);
  int bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  ck_assert_uint_lt(p->sent[bye].len, 1300);
  ck_assert_int_eq(p->sent[bye].proto, CAY__TCP);
  peer_free(p);
}
END_TEST

START_TEST(uac_18_1_1_refused_tcp_retries_over_udp)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };
  cay__peer_t to = { .proto = CAY__TCP };
  char t[4];

  p->ep.udp_max_request = 1300;
  uac_large_call(p, &r);
  ck_assert_int_eq(p->sent[0].proto, CAY__TCP);
  /* The callee does not listen on TCP: the connection is refused, and the
   * INVITE goes again over UDP with a UDP Via and the same branch, not
   * ending the call with 503. */
  cay__addr_set(&to.addr, "127.0.0.1", 5070);
  cay__txn_transport_error(&p->ep, &to);
  ck_assert_int_eq(r.n, 0);
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_int_eq(p->sent[1].proto, CAY__UDP);
  ck_assert_str_eq(uac_via_transport(p, 1, t), "UDP");
  char *via0 = peer_header(p, 0, "Via"), *via1 = peer_header(p, 1, "Via");
  ck_assert_str_eq(via0 + 11, via1 + 11); /* past SIP/2.0/UDP: same */
  ck_assert_uint_eq(p->sent[0].len, p->sent[1].len);
  free(via0);
  free(via1);
  /* Now over UDP: timer A retransmits at T1. */
  peer_advance(p, T1);
  ck_assert_uint_eq(p->nsent, 3);
  ck_assert_int_eq(p->sent[2].proto, CAY__UDP);
  /* A second failure of TCP is not this call's any more. */
  cay__txn_transport_error(&p->ep, &to);
  ck_assert_int_eq(r.n, 0);
  peer_respond(p, 1, "200", "uas1", "Contact: <sip:uas@127.0.0.1:5070>\r\n");
  int ack = peer_find_last(p, 0, "ACK");
  ck_assert_int_ge(ack, 0);
  ck_assert_int_eq(p->sent[ack].proto, CAY__UDP);
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_CONFIRMED);
  /* The next large INVITE to that target goes over UDP at once, without a
   * connection attempt per call; a minute later TCP is tried again. */
  uac_record_t r2 = { 0 }, r3 = { 0 };
  unsigned n = p->nsent;
  uac_large_call(p, &r2);
  ck_assert_int_eq(p->sent[n].proto, CAY__UDP);
  ck_assert_str_eq(uac_via_transport(p, n, t), "UDP");
  peer_advance(p, 60000);
  n = p->nsent;
  uac_large_call(p, &r3);
  ck_assert_int_eq(p->sent[n].proto, CAY__TCP);
  peer_free(p);
}
END_TEST

START_TEST(uac_18_1_1_small_or_unlimited_stays_udp)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };
  char t[4];

  p->ep.udp_max_request = 1300;
  uac_call(p, &r); /* a 600-byte INVITE */
  ck_assert_int_eq(p->sent[0].proto, CAY__UDP);
  ck_assert_str_eq(uac_via_transport(p, 0, t), "UDP");
  p->ep.udp_max_request = 0; /* no TCP listener, or the limit is off */
  uac_large_call(p, &r);
  ck_assert_uint_gt(p->sent[1].len, 1300);
  ck_assert_int_eq(p->sent[1].proto, CAY__UDP);
  ck_assert_str_eq(uac_via_transport(p, 1, t), "UDP");
  peer_free(p);
}
END_TEST

START_TEST(uac_18_1_1_no_tcp_send_at_all_sends_over_udp_at_once)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };
  char t[4];

  p->ep.udp_max_request = 1300;
  p->fail_tcp = 1; /* e.g. no TCP listener of the target's family */
  uac_large_call(p, &r);
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(p->sent[0].proto, CAY__UDP);
  ck_assert_str_eq(uac_via_transport(p, 0, t), "UDP");
  ck_assert_int_eq(r.n, 0);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("uac_large");
  TCase *tc = tcase_create("uac_large");

  tcase_add_test(tc,
                 uac_18_1_1_large_request_goes_over_tcp_and_the_dialog_follows);
  tcase_add_test(tc, uac_18_1_1_refused_tcp_retries_over_udp);
  tcase_add_test(tc, uac_18_1_1_small_or_unlimited_stays_udp);
  tcase_add_test(tc, uac_18_1_1_no_tcp_send_at_all_sends_over_udp_at_once);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
