/*
 * Call detail records of calls the embedder placed (cay_session_invite():
 * cay__session_invite_opts() with .record; dialog/session_cdr.c), on a
 * virtual clock against the scripted callee: answered and hung up by
 * the embedder, refused, cancelled, hung up by the callee, unanswered
 * (timer B); and none for a call placed without .record (a bridge's B
 * leg, whose call has its own record).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/session_int.h"
#include "support/cdr_sink.h"
#include "support/peer.h"
#include "support/run.h"
#include "support/uac_call.h"

#define T1 500

/* The embedder's call to the peer (sip:svc@127.0.0.1:5070), with a
 * record when @p record. */
static cay__session_t *
place(peer_t *p, uac_record_t *r, int record)
{
  cay__invite_opts_t o = { .uri = "sip:svc@127.0.0.1:5070",
                           .from = "\"Cay\" <sip:cay@127.0.0.1>",
                           .sdp = "v=0\r\no=- 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                                  "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                                  "m=audio 4000 RTP/AVP 0\r\n",
                           .cb = uac_on_state,
                           .arg = r,
                           .record = record };
  cay__session_t *s = NULL;

  ck_assert_int_eq(cay__session_invite_opts(&p->ss, &o, &s), 0);
  return s;
}

static peer_t *
sink_peer(void)
{
  cay_config_t cfg;

  cay_config_init(&cfg);
  return peer_with_sink(&cfg);
}

/* Record @p r is of the call placed by place(), without a B leg: its
 * Call-ID (the INVITE's, sent message 0), parties, no source. */
static void
placed_call_is(peer_t *p, const char *r)
{
  char *cid = peer_header(p, 0, "Call-ID"), want[128];

  snprintf(want, sizeof want, "\"%s\"", cid);
  free(cid);
  field_is(r, "call_id", want);
  field_is(r, "from", "\"sip:cay@127.0.0.1\"");
  field_is(r, "to", "\"sip:svc@127.0.0.1:5070\"");
  field_is(r, "ruri", "\"sip:svc@127.0.0.1:5070\"");
  field_is(r, "source", "null");
  field_is(r, "target", "null");
  field_is(r, "b_call_id", "null");
  field_is(r, "attempts", "0");
  field_is(r, "b_status", "0");
}

/* Rings after 100 ms, answered 400 ms later, 3 s of talk, the embedder
 * hangs up: the caller ended it. */
START_TEST(cdr_placed_answered_and_hung_up_by_the_embedder)
{
  peer_t *p = sink_peer();
  uac_record_t r = { 0 };
  cay__session_t *s = place(p, &r, 1);

  peer_advance(p, 100);
  peer_respond(p, 0, "180", "uas1", "Contact: <sip:uas@127.0.0.1:5070>\r\n");
  peer_advance(p, 400);
  peer_respond(p, 0, "200", "uas1", "Contact: <sip:uas@127.0.0.1:5070>\r\n");
  peer_advance(p, 3000);
  ck_assert_uint_eq(cdr_recs.n, 0); /* not before the call is over */
  ck_assert_int_eq(cay_session_hangup(s), 0);
  peer_advance(p, 20);
  int bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  peer_respond(p, (unsigned)bye, "200", NULL, NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);

  const char *rec = the_record(p);
  placed_call_is(p, rec);
  ck_assert_int_eq(time_ms(rec, "progress") - time_ms(rec, "start"), 100);
  ck_assert_int_eq(time_ms(rec, "answer") - time_ms(rec, "start"), 500);
  /* The end is when the BYE went, not when its 200 came. */
  ck_assert_int_eq(time_ms(rec, "end") - time_ms(rec, "answer"), 3000);
  field_is(rec, "status", "200");
  field_is(rec, "ended_by", "\"caller\"");
  field_is(rec, "q850", "16");
  peer_free(p);
}
END_TEST

/* The callee refuses with 486 and a Q.850 cause: it ended the call. */
START_TEST(cdr_placed_refused_by_the_callee)
{
  peer_t *p = sink_peer();
  uac_record_t r = { 0 };

  place(p, &r, 1);
  peer_advance(p, 250);
  peer_respond(p, 0, "486", "busy1", "Reason: Q.850;cause=17\r\n");
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);

  const char *rec = the_record(p);
  placed_call_is(p, rec);
  field_is(rec, "status", "486");
  field_is(rec, "ended_by", "\"callee\"");
  field_is(rec, "reason", "\"Q.850;cause=17\"");
  field_is(rec, "q850", "17");
  field_is(rec, "answer", "null");
  field_is(rec, "progress", "null");
  ck_assert_int_eq(time_ms(rec, "end") - time_ms(rec, "start"), 250);
  peer_free(p);
}
END_TEST

/* The embedder gives up while it rings: CANCEL, 487; the caller ended
 * it. */
START_TEST(cdr_placed_cancelled_by_the_embedder)
{
  peer_t *p = sink_peer();
  uac_record_t r = { 0 };
  cay__session_t *s = place(p, &r, 1);

  peer_respond(p, 0, "180", "uas1", NULL);
  peer_advance(p, 2000);
  ck_assert_int_eq(cay_session_hangup(s), 0);
  int cancel = peer_find_last(p, 0, "CANCEL");
  ck_assert_int_ge(cancel, 0);
  peer_respond(p, (unsigned)cancel, "200", "uas1", NULL);
  peer_respond(p, 0, "487", "uas1", NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);

  const char *rec = the_record(p);
  placed_call_is(p, rec);
  field_is(rec, "status", "487");
  field_is(rec, "ended_by", "\"caller\"");
  field_is(rec, "q850", "null"); /* RFC 3398 maps no cause to 487 */
  ck_assert_int_eq(time_ms(rec, "end") - time_ms(rec, "start"), 2000);
  peer_free(p);
}
END_TEST

/* The callee hangs up with a Reason: it ended the call. */
START_TEST(cdr_placed_hung_up_by_the_callee)
{
  peer_t *p = sink_peer();
  uac_record_t r = { 0 };

  place(p, &r, 1);
  peer_respond(p, 0, "200", "uas2", "Contact: <sip:uas@127.0.0.1:5070>\r\n");
  peer_advance(p, 1500);
  uac_their_bye(p, 0, ";tag=uas2", "Reason: Q.850;cause=16\r\n");
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);

  const char *rec = the_record(p);
  placed_call_is(p, rec);
  field_is(rec, "status", "200");
  field_is(rec, "ended_by", "\"callee\"");
  field_is(rec, "reason", "\"Q.850;cause=16\"");
  field_is(rec, "duration_ms", "1500");
  peer_free(p);
}
END_TEST

/* No response at all: timer B (64*T1) fails the INVITE with 408. */
START_TEST(cdr_placed_unanswered_timer_b)
{
  peer_t *p = sink_peer();
  uac_record_t r = { 0 };

  place(p, &r, 1);
  peer_advance(p, 64 * T1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);

  const char *rec = the_record(p);
  placed_call_is(p, rec);
  field_is(rec, "status", "408");
  field_is(rec, "ended_by", "\"callee\"");
  field_is(rec, "q850", "102"); /* recovery on timer expiry */
  ck_assert_int_eq(time_ms(rec, "end") - time_ms(rec, "start"), 64 * T1);
  peer_free(p);
}
END_TEST

/* Without .record (a bridge's B leg, or Cay's own calls) nothing is
 * written, answered or not. */
START_TEST(cdr_placed_without_record_writes_none)
{
  peer_t *p = sink_peer();
  uac_record_t r = { 0 }, r2 = { 0 };
  cay__session_t *s = place(p, &r, 0);

  peer_respond(p, 0, "200", "uas1", "Contact: <sip:uas@127.0.0.1:5070>\r\n");
  ck_assert_int_eq(cay_session_hangup(s), 0);
  int bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  peer_respond(p, (unsigned)bye, "200", NULL, NULL);
  place(p, &r2, 0);
  peer_respond(p, (unsigned)p->nsent - 1, "404", "nf", NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(cdr_recs.n, 0);
  ck_assert_uint_eq(p->shard.stats.cdrs, 0);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("cdr_placed");
  TCase *tc = tcase_create("cdr_placed");

  tcase_add_test(tc, cdr_placed_answered_and_hung_up_by_the_embedder);
  tcase_add_test(tc, cdr_placed_refused_by_the_callee);
  tcase_add_test(tc, cdr_placed_cancelled_by_the_embedder);
  tcase_add_test(tc, cdr_placed_hung_up_by_the_callee);
  tcase_add_test(tc, cdr_placed_unanswered_timer_b);
  tcase_add_test(tc, cdr_placed_without_record_writes_none);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
