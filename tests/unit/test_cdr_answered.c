/*
 * Call detail records of calls answered here (dialog/session_cdr.c): by
 * Cay's own answering (no routes, an answer route) or by the embedder
 * (cay_server_on_session()), on a virtual clock: the caller's BYE and
 * CANCEL, Cay's hangup_after_ms, max duration, no ACK, a drain, the
 * embedder's answer, rejection and hang-up; and the 422 of a session
 * timer below Min-SE (RFC 4028 section 9), a refused INVITE's record.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/session_int.h"
#include "support/cdr_sink.h"
#include "support/peer.h"
#include "support/run.h"
#include "support/uas_call.h"

#define T1 500

static cay_config_t
config(unsigned ring_ms, unsigned answer_after_ms, unsigned hangup_after_ms)
{
  cay_config_t cfg;

  cay_config_init(&cfg);
  cfg.ring_ms = ring_ms;
  cfg.answer_after_ms = answer_after_ms;
  cfg.hangup_after_ms = hangup_after_ms;
  return cfg;
}

/* Record @p r names no B leg: Cay (or the embedder) was the callee. */
static void
no_b_leg(const char *r)
{
  field_is(r, "target", "null");
  field_is(r, "b_call_id", "null");
  field_is(r, "attempts", "0");
  field_is(r, "b_status", "0");
}

/* Cay's BYE of call @p cid answered 200: the session is gone. */
static void
bye_answered(peer_t *p, const char *cid)
{
  int bye = peer_find_request(p, "BYE", cid);

  ck_assert_int_ge(bye, 0);
  peer_respond(p, (unsigned)bye, "200", NULL, NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
}

/* The caller's INVITE rings for 200 ms, is answered 300 ms later, talks
 * 4 s and hangs up with a Reason: one record, with Cay as the callee. */
START_TEST(cdr_answered_here_ended_by_the_caller)
{
  cay_config_t cfg = config(200, 300, 0);
  peer_t *p = peer_with_sink(&cfg);
  char tag[64];

  uas_invite(p, "c1", "");
  peer_advance(p, 500);
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_int_ge(ok, 0);
  peer_to_tag(p, (unsigned)ok, tag, sizeof tag);
  uas_request(p, "ACK", "c1", "z9hG4bK-ack", "1", tag, "");
  peer_advance(p, 4000);
  ck_assert_uint_eq(cdr_recs.n, 0); /* not before the call is over */
  uas_request(p, "BYE", "c1", "z9hG4bK-bye", "2", tag,
              "Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n");
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);

  const char *r = the_record(p);
  ck_assert_int_eq(time_ms(r, "progress") - time_ms(r, "start"), 200);
  ck_assert_int_eq(time_ms(r, "answer") - time_ms(r, "start"), 500);
  ck_assert_int_eq(time_ms(r, "end") - time_ms(r, "answer"), 4000);
  field_is(r, "setup_ms", "500");
  field_is(r, "duration_ms", "4000");
  field_is(r, "call_id", "\"c1\"");
  field_is(r, "source", "\"udp:127.0.0.1:5070\"");
  no_b_leg(r);
  field_is(r, "status", "200");
  field_is(r, "ended_by", "\"caller\"");
  field_is(r, "q850", "16");
  ck_assert_str_eq(cdr_recs.reason, "Q.850;cause=16;text=\"Normal call "
                                    "clearing\"");
  ck_assert_int_eq(cdr_recs.last.ended_by, CAY_CDR_CALLER);
  ck_assert_int_eq(cdr_recs.last.duration_ms, 4000);
  peer_free(p);
}
END_TEST

/* RFC 3261 section 9.2: the caller gives up while it rings; the 487 is
 * the call's status, the CANCEL's Reason its cause. */
START_TEST(cdr_answered_here_9_cancel)
{
  cay_config_t cfg = config(0, 10000, 0);
  peer_t *p = peer_with_sink(&cfg);

  uas_invite(p, "c1", "");
  ck_assert_int_eq(peer_last_status(p), 180);
  peer_advance(p, 1500);
  uas_request(p, "CANCEL", "c1", "z9hG4bK-inv-c1", "1", "",
              "Reason: Q.850;cause=31\r\n");
  ck_assert_int_eq(peer_last_status(p), 487);

  const char *r = the_record(p);
  no_b_leg(r);
  field_is(r, "status", "487");
  field_is(r, "answer", "null");
  field_is(r, "duration_ms", "0");
  field_is(r, "ended_by", "\"caller\"");
  field_is(r, "q850", "31");
  ck_assert_int_eq(time_ms(r, "progress"), time_ms(r, "start"));
  ck_assert_int_eq(time_ms(r, "end") - time_ms(r, "start"), 1500);
  peer_free(p);
}
END_TEST

/* Cay's own answering hangs up after hangup_after_ms: the callee ended
 * it, when its BYE went (not when the BYE's 200 came), with the BYE's
 * Reason. */
START_TEST(cdr_answered_here_hangup_after_ms)
{
  cay_config_t cfg = config(0, 0, 3000);
  peer_t *p = peer_with_sink(&cfg);
  char tag[64];

  uas_confirmed(p, "c1", "", tag, sizeof tag);
  peer_advance(p, 3000);
  ck_assert_int_ge(peer_find_request(p, "BYE", "c1"), 0);
  ck_assert_uint_eq(cdr_recs.n, 0); /* the BYE is not answered yet */
  peer_advance(p, 400);
  bye_answered(p, "c1");

  const char *r = the_record(p);
  no_b_leg(r);
  field_is(r, "status", "200");
  field_is(r, "ended_by", "\"callee\"");
  field_is(r, "duration_ms", "3000");
  field_is(r, "q850", "16");
  ck_assert_str_eq(cdr_recs.reason, "Q.850;cause=16;text=\"hangup_after_ms\"");
  peer_free(p);
}
END_TEST

/* The dialog's max duration ends the call: max_duration, Q.850 102. */
START_TEST(cdr_answered_here_max_duration)
{
  cay_config_t cfg = config(0, 0, 0);
  cfg.dialog_max_duration_s = 5;
  peer_t *p = peer_with_sink(&cfg);
  char tag[64];

  uas_confirmed(p, "c1", "", tag, sizeof tag);
  peer_advance(p, 5000);
  bye_answered(p, "c1");

  const char *r = the_record(p);
  field_is(r, "ended_by", "\"max_duration\"");
  field_is(r, "duration_ms", "5000");
  field_is(r, "q850", "102");
  ck_assert_int_eq(cdr_recs.last.ended_by, CAY_CDR_MAX_DURATION);
  peer_free(p);
}
END_TEST

/* RFC 3261 section 13.3.1.4: the caller never ACKs the 2xx; Cay ends the
 * session with BYE after 64*T1. The caller's transaction failed. */
START_TEST(cdr_answered_here_no_ack)
{
  cay_config_t cfg = config(0, 0, 0);
  peer_t *p = peer_with_sink(&cfg);

  uas_invite(p, "c1", "");
  peer_advance(p, 64 * T1);
  bye_answered(p, "c1");

  const char *r = the_record(p);
  field_is(r, "status", "200");
  field_is(r, "ended_by", "\"caller\"");
  field_is(r, "q850", "102");
  ck_assert_str_eq(cdr_recs.reason, "Q.850;cause=102;text=\"no ACK\"");
  peer_free(p);
}
END_TEST

/* A drain ends an answered call and a ringing one: shutdown, both. */
START_TEST(cdr_answered_here_shutdown)
{
  cay_config_t cfg = config(0, 0, 0);
  peer_t *p = peer_with_sink(&cfg);
  char tag[64];

  uas_confirmed(p, "c1", "", tag, sizeof tag);
  cay__sessions_drain(&p->ss, NULL, NULL);
  bye_answered(p, "c1");
  const char *r = the_record(p);
  field_is(r, "status", "200");
  field_is(r, "ended_by", "\"shutdown\"");
  ck_assert_str_eq(cdr_recs.reason, "SIP;cause=503;text=\"shutdown\"");
  peer_free(p);

  cfg.answer_after_ms = 10000;
  p = peer_with_sink(&cfg);
  uas_invite(p, "c2", "");
  cay__sessions_drain(&p->ss, NULL, NULL);
  ck_assert_int_eq(peer_last_status(p), 480);
  r = the_record(p);
  field_is(r, "status", "480");
  field_is(r, "answer", "null");
  field_is(r, "ended_by", "\"shutdown\"");
  field_is(r, "q850", "18"); /* RFC 3398: 480, no user responding */
  peer_free(p);
}
END_TEST

/* The embedder's calls (cay_server_on_session()). */
static cay_id_t taken;

static void
on_incoming(cay_session_t *s, const cay_incoming_t *in, void *arg)
{
  (void)in;
  (void)arg;
  taken = cay_session_id(s);
}

static cay__session_t *
embedders_call(peer_t *p, const char *cid)
{
  taken = 0;
  p->ss.on_incoming = on_incoming;
  uas_invite(p, cid, "");
  cay__session_t *s = cay__session_lookup(&p->ss, taken);
  ck_assert_ptr_nonnull(s);
  return s;
}

/* The embedder rings, then rejects: the callee ended it, with its
 * status; a second call it answers and hangs up 2 s later. */
START_TEST(cdr_answered_by_the_embedder)
{
  peer_t *p = peer_with_sink(NULL);
  char tag[64];

  cay__session_t *s = embedders_call(p, "c1");
  peer_advance(p, 100);
  ck_assert_int_eq(cay_session_progress(s, 180, NULL), 0);
  peer_advance(p, 900);
  ck_assert_int_eq(cay_session_reject(s, 486, NULL, NULL), 0);
  const char *r = the_record(p);
  no_b_leg(r);
  field_is(r, "status", "486");
  field_is(r, "ended_by", "\"callee\"");
  field_is(r, "reason", "null");
  field_is(r, "q850", "17"); /* RFC 3398: 486, user busy */
  ck_assert_int_eq(time_ms(r, "progress") - time_ms(r, "start"), 100);
  ck_assert_int_eq(time_ms(r, "end") - time_ms(r, "start"), 1000);
  peer_free(p);

  p = peer_with_sink(NULL);
  s = embedders_call(p, "c2");
  ck_assert_int_eq(cay_session_answer(s, NULL), 0);
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_int_ge(ok, 0);
  peer_to_tag(p, (unsigned)ok, tag, sizeof tag);
  uas_request(p, "ACK", "c2", "z9hG4bK-ack", "1", tag, "");
  peer_advance(p, 2000);
  ck_assert_int_eq(cay_session_hangup(s), 0);
  bye_answered(p, "c2");
  r = the_record(p);
  field_is(r, "status", "200");
  field_is(r, "progress", "null"); /* it answered at once */
  field_is(r, "duration_ms", "2000");
  field_is(r, "ended_by", "\"callee\"");
  field_is(r, "reason", "null");
  field_is(r, "q850", "16");
  peer_free(p);
}
END_TEST

/* The caller cancels before the embedder answers: the caller ended
 * it, although the embedder took the call. */
START_TEST(cdr_answered_by_the_embedder_cancelled)
{
  peer_t *p = peer_with_sink(NULL);

  cay__session_t *s = embedders_call(p, "c1");
  cay_id_t id = cay_session_id(s);
  uas_request(p, "CANCEL", "c1", "z9hG4bK-inv-c1", "1", "", "");
  ck_assert_ptr_null(cay__session_lookup(&p->ss, id));
  const char *r = the_record(p);
  field_is(r, "status", "487");
  field_is(r, "ended_by", "\"caller\"");
  peer_free(p);
}
END_TEST

/* RFC 4028 section 9: a session timer below our Min-SE gets 422; the
 * refused INVITE leaves a record, as the routes' refusals do. */
START_TEST(cdr_4028_422_is_rejected)
{
  peer_t *p = peer_with_sink(NULL);

  uas_invite(p, "c1", "Supported: timer\r\nSession-Expires: 30\r\n");
  ck_assert_int_eq(peer_last_status(p), 422);
  no_b_leg_is(the_record(p), "422", "\"rejected\"");
  peer_free(p);
}
END_TEST

/* Without a sink no record is begun: nothing counted, nothing left. */
START_TEST(cdr_answered_here_none_without_a_sink)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  uas_confirmed(p, "c1", "", tag, sizeof tag);
  ck_assert_ptr_null(cay__sessions_any(&p->ss)->cdr);
  uas_request(p, "BYE", "c1", "z9hG4bK-bye", "2", tag, "");
  ck_assert_uint_eq(p->ss.shard->stats.cdrs, 0);
  ck_assert_uint_eq(p->ss.shard->stats.cdrs_lost, 0);
  peer_free(p); /* proves no record leaked */
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("cdr_answered");
  TCase *tc = tcase_create("answered_here");

  tcase_add_test(tc, cdr_answered_here_ended_by_the_caller);
  tcase_add_test(tc, cdr_answered_here_9_cancel);
  tcase_add_test(tc, cdr_answered_here_hangup_after_ms);
  tcase_add_test(tc, cdr_answered_here_max_duration);
  tcase_add_test(tc, cdr_answered_here_no_ack);
  tcase_add_test(tc, cdr_answered_here_shutdown);
  tcase_add_test(tc, cdr_answered_by_the_embedder);
  tcase_add_test(tc, cdr_answered_by_the_embedder_cancelled);
  tcase_add_test(tc, cdr_4028_422_is_rejected);
  tcase_add_test(tc, cdr_answered_here_none_without_a_sink);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
