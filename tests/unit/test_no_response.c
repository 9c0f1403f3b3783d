/*
 * A route's no_response_timeout_ms (cay__invite_opts_t.no_response_ms):
 * an outgoing INVITE that has no response at all in that time is given up
 * as if timer B had fired (RFC 3261 section 17.1.1.2): the call fails with
 * 408, or the next target DNS found is tried (RFC 3263 section 4.3). What
 * the given-up transaction still gets is handled as RFC 3261 asks: a
 * provisional response its CANCEL (9.1), a failure its ACK (17.1.1.3), a
 * 2xx its ACK and a BYE (13.2.2.4). A scripted peer on a virtual clock.
 */
#include <check.h>

#include "support/run.h"
#include <stdlib.h>
#include <string.h>

#include "dialog/session_int.h"
#include "support/located.h"
#include "support/peer.h"

#define T1 500

/* An outgoing call to @p uri that gives a silent target up after
 * @p no_response_ms. */
static cay__session_t *
call(peer_t *p, const char *uri, unsigned no_response_ms, record_t *r)
{
  cay__invite_opts_t o = { .uri = uri,
                           .from = "<sip:cay@127.0.0.1>",
                           .cb = record_event,
                           .arg = r,
                           .no_response_ms = no_response_ms };
  cay__session_t *s = NULL;

  ck_assert_int_eq(cay__session_invite_opts(&p->ss, &o, &s), 0);
  ck_assert_ptr_nonnull(s);
  return s;
}

START_TEST(no_response_17_1_1_2_silent_target_ends_the_call_with_408)
{
  peer_t *p = peer_new(NULL);
  record_t r = { 0 };
  char *cseq;

  call(p, "sip:svc@127.0.0.1:5070", 2000, &r);
  ck_assert_uint_eq(p->nsent, 1);
  peer_advance(p, T1); /* timer A as usual until then */
  peer_advance(p, 2 * T1);
  ck_assert_uint_eq(p->nsent, 3);
  peer_advance(p, 499);
  ck_assert_int_eq(r.n, 0);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  peer_advance(p, 1); /* 2000 ms: long before timer B (32 s) */
  ck_assert_int_eq(r.n, 1);
  ck_assert_int_eq(r.states[0], CAY_SESSION_TERMINATED);
  ck_assert_int_eq(r.statuses[0], 408);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->shard.stats.calls_out_failed, 1);
  ck_assert_uint_eq(p->shard.stats.txns_live, 0); /* its outcome is known */
  ck_assert_uint_eq(p->ep.live_txns, 1);          /* until timer B */
  /* Given up: the INVITE is not sent again. */
  peer_advance(p, 8 * T1);
  ck_assert_uint_eq(p->nsent, 3);
  /* 9.1: a provisional that comes late gets the CANCEL; its 487 the ACK
   * (17.1.1.3); the ended session hears of neither. */
  peer_respond(p, 0, "180", "late1", NULL);
  ck_assert_uint_eq(p->nsent, 4);
  ck_assert_str_eq(peer_method(p, 3), "CANCEL");
  cseq = peer_header(p, 3, "CSeq");
  ck_assert_str_eq(cseq, "1 CANCEL");
  free(cseq);
  peer_respond(p, 0, "487", "late1", NULL);
  ck_assert_uint_eq(p->nsent, 5);
  ck_assert_str_eq(peer_method(p, 4), "ACK");
  ck_assert_int_eq(r.n, 1);
  /* Timer B is not reported either; then nothing is left. */
  peer_advance(p, 64 * T1);
  ck_assert_int_eq(r.n, 1);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  peer_free(p);
}
END_TEST

START_TEST(no_response_any_response_keeps_the_invite_going)
{
  peer_t *p = peer_new(NULL);
  record_t r = { 0 };
  cay__session_t *s = call(p, "sip:svc@127.0.0.1:5070", 1000, &r);

  peer_advance(p, 200);
  peer_respond(p, 0, "100", NULL, NULL); /* 100 Trying is a response */
  peer_advance(p, 10 * 1000);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  ck_assert_int_eq(s->state, CAY__SESSION_CALLING);
  ck_assert_uint_eq(p->nsent, 1); /* 17.1.1.2: no timer A after a 1xx */
  peer_respond(p, 0, "200", "uas1", "Contact: <sip:svc@127.0.0.1:5070>\r\n");
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_CONFIRMED);
  ck_assert_str_eq(peer_method(p, 1), "ACK");
  peer_advance(p, 5 * 1000);
  ck_assert_int_eq(s->state, CAY__SESSION_CONFIRMED);
  ck_assert_int_eq(cay__session_hangup(s), 0);
  ck_assert_str_eq(peer_method(p, 2), "BYE");
  peer_respond(p, 2, "200", NULL, NULL);
  peer_advance(p, 1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->shard.stats.calls_out_failed, 0);
  peer_free(p);
}
END_TEST

/* RFC 3263 section 4.3: the first target is silent: after 1 s the second
 * gets a new INVITE (the next CSeq), and the first is remembered as
 * failed. The first then answers 200 late: that dialog is ACKed and
 * ended with BYE (13.2.2.4; a copy of its 200 gets the ACK only, also
 * while the call ends), and the call goes on with the second target. */
START_TEST(no_response_3263_4_3_next_target_and_the_late_2xx)
{
  peer_t *p = peer_with_resolver(60);
  record_t r = { 0 };
  cay__session_t *s = call(p, "sip:svc@gw.invalid", 1000, &r);
  const char *contact1 = "Contact: <sip:svc@127.0.0.1:5071>\r\n";

  located(s, 2, 0);
  expect_sent(p, 0, "INVITE", 5071, CAY__UDP, 1);
  peer_advance(p, 999);
  ck_assert_uint_eq(p->nsent, 2); /* one retransmission (timer A) */
  peer_advance(p, 1);
  expect_sent(p, 2, "INVITE", 5072, CAY__UDP, 2);
  ck_assert_int_eq(was_failed(p, 5071), 1);
  ck_assert_int_eq(s->state, CAY__SESSION_CALLING);

  peer_respond(p, 0, "200", "old1", contact1);
  expect_sent(p, 3, "ACK", 5071, CAY__UDP, 1);
  expect_sent(p, 4, "BYE", 5071, CAY__UDP, 2);
  ck_assert_int_eq(s->state, CAY__SESSION_CALLING);
  peer_respond(p, 0, "200", "old1", contact1); /* a copy */
  ck_assert_uint_eq(p->nsent, 6);
  expect_sent(p, 5, "ACK", 5071, CAY__UDP, 1);
  ck_assert_int_eq(r.n, 0);

  peer_respond(p, 2, "200", "new2", "Contact: <sip:svc@127.0.0.1:5072>\r\n");
  expect_sent(p, 6, "ACK", 5072, CAY__UDP, 2);
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_CONFIRMED);
  ck_assert_int_eq(cay__session_hangup(s), 0);
  expect_sent(p, 7, "BYE", 5072, CAY__UDP, 3);
  /* Another copy while our BYE is out: ACKed, and not taken for the
   * BYE's answer. */
  peer_respond(p, 0, "200", "old1", contact1);
  expect_sent(p, 8, "ACK", 5071, CAY__UDP, 1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  peer_respond(p, 7, "200", NULL, NULL);
  peer_advance(p, 64 * T1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->shard.stats.calls_out_failed, 0);
  peer_without_resolver(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("no_response");
  TCase *tc = tcase_create("no_response");

  tcase_add_test(tc, no_response_17_1_1_2_silent_target_ends_the_call_with_408);
  tcase_add_test(tc, no_response_any_response_keeps_the_invite_going);
  tcase_add_test(tc, no_response_3263_4_3_next_target_and_the_late_2xx);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
