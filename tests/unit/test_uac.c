/*
 * Outgoing INVITE sessions: RFC 3261 sections 9.1, 12.1.2, 13.2, 17.1.1
 * (with RFC 6026), driven by a scripted peer on a virtual clock.
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
#include "support/uac_call.h"

#define T1 500

START_TEST(uac_13_2_invite_answered_then_ack_to_contact)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };

  uac_call(p, &r);
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_str_eq(peer_method(p, 0), "INVITE");
  peer_respond(p, 0, "180", "uas1", "Contact: <sip:uas@127.0.0.1:5070>\r\n");
  peer_respond(
      p, 0, "200", "uas1",
      "Contact: <sip:uas@127.0.0.1:5072>\r\n"
      "Record-Route: <sip:127.0.0.1:5080;lr>, <sip:127.0.0.1:5090;lr>\r\n");
  ck_assert_int_eq(r.n, 2);
  ck_assert_int_eq(r.states[0], CAY_SESSION_EARLY);
  ck_assert_int_eq(r.statuses[0], 180);
  ck_assert_int_eq(r.states[1], CAY_SESSION_CONFIRMED);
  /* 13.2.2.4: ACK to the remote target, CSeq of the INVITE, new branch;
   * 12.1.2: the route set is the Record-Route reversed. */
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_str_eq(peer_method(p, 1), "ACK");
  const char *ack = p->sent[1].data;
  ck_assert_int_eq(strncmp(ack, "ACK sip:uas@127.0.0.1:5072 SIP/2.0\r\n", 36),
                   0);
  char *cseq = peer_header(p, 1, "CSeq");
  ck_assert_str_eq(cseq, "1 ACK");
  free(cseq);
  const char *r1 = strstr(ack, "sip:127.0.0.1:5090;lr");
  const char *r2 = strstr(ack, "sip:127.0.0.1:5080;lr");
  ck_assert(r1 && r2 && r1 < r2);
  ck_assert_uint_eq(cay__addr_port(&p->sent[1].dst), 5090);
  char *b1 = peer_header(p, 0, "Via"), *b2 = peer_header(p, 1, "Via");
  ck_assert_str_ne(b1, b2);
  free(b1);
  free(b2);
  /* 13.2.2.4: a copy of the 2xx gets the same ACK again. */
  peer_respond(p, 0, "200", "uas1", "Contact: <sip:uas@127.0.0.1:5072>\r\n");
  ck_assert_uint_eq(p->nsent, 3);
  ck_assert_str_eq(p->sent[2].data, p->sent[1].data);
  peer_free(p);
}
END_TEST

START_TEST(uac_17_1_1_2_timer_a_doubles_and_timer_b_gives_408)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };

  uac_call(p, &r);
  peer_advance(p, T1);
  ck_assert_uint_eq(p->nsent, 2);
  peer_advance(p, 2 * T1);
  ck_assert_uint_eq(p->nsent, 3);
  peer_advance(p, 4 * T1);
  ck_assert_uint_eq(p->nsent, 4);
  ck_assert_str_eq(p->sent[3].data, p->sent[0].data);
  peer_advance(p, 64 * T1);
  ck_assert_int_eq(r.n, 1);
  ck_assert_int_eq(r.states[0], CAY_SESSION_TERMINATED);
  ck_assert_int_eq(r.statuses[0], 408);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

START_TEST(uac_17_1_1_3_failure_is_acked_by_the_transaction)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };

  uac_call(p, &r);
  peer_respond(p, 0, "486", "busy1", "Reason: Q.850;cause=17\r\n");
  ck_assert_int_eq(r.n, 1);
  ck_assert_int_eq(r.states[0], CAY_SESSION_TERMINATED);
  ck_assert_int_eq(r.statuses[0], 486);
  ck_assert_str_eq(r.reason, "Q.850;cause=17"); /* RFC 6432 */
  /* The ACK: same branch as the INVITE, the response's To tag. */
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_str_eq(peer_method(p, 1), "ACK");
  char *v0 = peer_header(p, 0, "Via"), *v1 = peer_header(p, 1, "Via");
  ck_assert_str_eq(v0, v1);
  free(v0);
  free(v1);
  char *to = peer_header(p, 1, "To");
  ck_assert_ptr_nonnull(strstr(to, "tag=busy1"));
  free(to);
  /* A retransmitted 486 gets the ACK again; after D nothing is left. */
  peer_respond(p, 0, "486", "busy1", NULL);
  ck_assert_uint_eq(p->nsent, 3);
  peer_advance(p, 32000);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  peer_free(p);
}
END_TEST

/* The Reasons of a failure are kept as far as they fit in 255 bytes: a
 * value that does not is left out, whole, wherever it stands. */
START_TEST(uac_3326_reasons_kept_within_their_room)
{
  char extra[512], text[301];
  uac_record_t r = { 0 };
  peer_t *p = peer_new(NULL);

  memset(text, 'x', sizeof text - 1);
  text[sizeof text - 1] = '\0';
  snprintf(extra, sizeof extra,
           "Reason: Q.850;cause=17\r\nReason: SIP;cause=486;text=\"%s\"\r\n",
           text);
  uac_call(p, &r);
  peer_respond(p, 0, "486", "busy1", extra);
  ck_assert_str_eq(r.reason, "Q.850;cause=17");
  peer_free(p);

  p = peer_new(NULL);
  memset(&r, 0, sizeof r);
  snprintf(extra, sizeof extra,
           "Reason: SIP;cause=486;text=\"%s\"\r\nReason: Q.850;cause=17\r\n",
           text);
  uac_call(p, &r);
  peer_respond(p, 0, "486", "busy2", extra);
  ck_assert_int_eq(r.statuses[0], 486);
  ck_assert_str_eq(r.reason, "Q.850;cause=17");
  peer_free(p);
}
END_TEST

START_TEST(uac_9_1_cancel_waits_for_a_provisional)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };
  cay__session_t *s = uac_call(p, &r);

  ck_assert_int_eq(cay_session_hangup(s), 0);
  ck_assert_uint_eq(p->nsent, 1); /* 9.1: no CANCEL before a provisional */
  peer_respond(p, 0, "100", NULL, NULL);
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_str_eq(peer_method(p, 1), "CANCEL");
  char *v0 = peer_header(p, 0, "Via"), *v1 = peer_header(p, 1, "Via");
  ck_assert_str_eq(v0, v1);
  free(v0);
  free(v1);
  char *cseq = peer_header(p, 1, "CSeq");
  ck_assert_str_eq(cseq, "1 CANCEL");
  free(cseq);
  peer_respond(p, 0, "487", "t487", NULL);
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_TERMINATED);
  ck_assert_int_eq(r.statuses[r.n - 1], 487);
  peer_advance(p, 64 * T1);
  peer_free(p);
}
END_TEST

START_TEST(uac_15_1_1_hangup_sends_bye_and_200_ends_it)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };
  cay__session_t *s = uac_call(p, &r);

  peer_respond(p, 0, "200", "uas2", "Contact: <sip:uas@127.0.0.1:5070>\r\n");
  ck_assert_int_eq(cay_session_hangup(s), 0);
  int bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  char *to = peer_header(p, (unsigned)bye, "To");
  ck_assert_ptr_nonnull(strstr(to, "tag=uas2"));
  free(to);
  peer_respond(p, (unsigned)bye, "200", NULL, NULL);
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_TERMINATED);
  ck_assert_int_eq(r.statuses[r.n - 1], 200);
  ck_assert_str_eq(r.reason, ""); /* the program's hang-up: none told */
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

/* One call from INVITE to the 200 of our BYE. */
static void
call_and_hang_up(peer_t *p, uac_record_t *r)
{
  cay__session_t *s = uac_call(p, r);
  unsigned first = p->nsent - 1;

  peer_respond(p, first, "200", "uas3",
               "Contact: <sip:uas@127.0.0.1:5070>\r\n");
  ck_assert_int_eq(cay_session_hangup(s), 0);
  int bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  peer_respond(p, (unsigned)bye, "200", NULL, NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
}

START_TEST(uac_6026_7_2_accepted_keeps_only_transaction_and_key)
{
  /* RFC 6026 section 7.2: the INVITE client transaction stays Accepted
   * for timer M = 64*T1 after its 2xx, to pass copies to the TU, but it
   * sends nothing more: it keeps the transaction and its matching key,
   * not the INVITE (about 700 bytes per bridged call for 32 s). */
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 }, r2 = { 0 };

  call_and_hang_up(p, &r); /* warms the tables that never shrink */
  peer_advance(p, 64 * T1);
  long live = cay__alloc_live();

  call_and_hang_up(p, &r2);
  peer_advance(p, 5000); /* timer K of the BYE (T4) */
  ck_assert_int_eq(cay__alloc_live() - live, 2);
  /* A copy of the 2xx still gets its ACK, built by the TU. */
  unsigned n = p->nsent;
  peer_respond(p, n - 3, "200", "uas3",
               "Contact: <sip:uas@127.0.0.1:5070>\r\n");
  ck_assert_uint_eq(p->nsent, n + 1);
  ck_assert_str_eq(peer_method(p, n), "ACK");
  peer_advance(p, 64 * T1);
  ck_assert_int_eq(cay__alloc_live(), live);
  peer_free(p);
}
END_TEST

START_TEST(uac_15_1_2_their_bye_ends_our_call)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };

  uac_call(p, &r);
  peer_respond(p, 0, "200", "uas3", "Contact: <sip:uas@127.0.0.1:5070>\r\n");
  uac_their_bye(p, 0, ";tag=uas3",
                "Reason: Q.850;cause=16;text=\"Normal call clearing\"\r\n");
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_TERMINATED);
  /* RFC 3326: why they hung up, for the embedder. */
  ck_assert_str_eq(r.reason, "Q.850;cause=16;text=\"Normal call clearing\"");
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

/* 12.1.2: a 2xx without a To tag (an RFC 2543 peer) makes a dialog
 * whose remote tag is null: it is ACKed (and a copy of it again), our
 * BYE's To has no tag, and their BYE, whose From has none either, is in
 * the dialog. */
START_TEST(uac_12_1_2_2xx_without_to_tag_has_a_null_remote_tag)
{
  static const char contact[] = "Contact: <sip:uas@127.0.0.1:5070>\r\n";
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 }, r2 = { 0 };
  cay__session_t *s = uac_call(p, &r);
  char *to;
  unsigned n;
  int bye;

  peer_respond(p, 0, "200", NULL, contact);
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_CONFIRMED);
  ck_assert_int_eq(peer_find_last(p, 0, "ACK"), 1);
  n = p->nsent;
  peer_respond(p, 0, "200", NULL, contact); /* a copy: the same ACK */
  ck_assert_uint_eq(p->nsent, n + 1);
  ck_assert_str_eq(peer_method(p, n), "ACK");
  ck_assert_int_eq(cay_session_hangup(s), 0);
  bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  to = peer_header(p, (unsigned)bye, "To");
  ck_assert_ptr_null(strstr(to, "tag="));
  free(to);
  peer_respond(p, (unsigned)bye, "200", NULL, NULL);
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_TERMINATED);
  ck_assert_int_eq(r.statuses[r.n - 1], 200);

  /* Their BYE: From without a tag. */
  uac_call(p, &r2);
  n = p->nsent - 1;
  peer_respond(p, n, "200", NULL, contact);
  uac_their_bye(p, n, "", "");
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_int_eq(r2.states[r2.n - 1], CAY_SESSION_TERMINATED);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

static int idle_calls;

static void
on_idle(void *arg)
{
  (void)arg;
  idle_calls++;
}

START_TEST(uac_drain_cancels_a_ringing_call)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };

  uac_call(p, &r);
  peer_respond(p, 0, "180", "ring1", NULL);
  idle_calls = 0;
  cay__sessions_drain(&p->ss, on_idle, NULL);
  ck_assert_str_eq(peer_method(p, p->nsent - 1), "CANCEL");
  ck_assert_int_eq(idle_calls, 0); /* waits for the INVITE to end */
  peer_respond(p, 0, "487", "ring1", NULL);
  ck_assert_int_eq(idle_calls, 1);
  ck_assert_int_eq(r.statuses[r.n - 1], 487);
  peer_free(p);
}
END_TEST

START_TEST(uac_13_2_2_4_second_fork_2xx_gets_ack_then_bye)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };

  uac_call(p, &r);
  peer_respond(p, 0, "200", "fork1", "Contact: <sip:uas1@127.0.0.1:5070>\r\n");
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_CONFIRMED);
  unsigned n = p->nsent;
  peer_respond(p, 0, "200", "fork2", "Contact: <sip:uas2@127.0.0.1:5070>\r\n");
  /* The second dialog is ACKed (its 2xx would repeat otherwise), then
   * ended at once; the first one stays. */
  ck_assert_uint_eq(p->nsent, n + 2);
  ck_assert_str_eq(peer_method(p, n), "ACK");
  ck_assert_str_eq(peer_method(p, n + 1), "BYE");
  ck_assert_int_eq(
      strncmp(p->sent[n + 1].data, "BYE sip:uas2@127.0.0.1:5070 ", 28), 0);
  char *to = peer_header(p, n + 1, "To");
  ck_assert_ptr_nonnull(strstr(to, "tag=fork2"));
  free(to);
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_CONFIRMED);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  peer_free(p);
}
END_TEST

START_TEST(uac_3262_4_reliable_provisional_gets_one_prack)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };

  uac_call(p, &r);
  char *sup = peer_header(p, 0, "Supported");
  ck_assert_ptr_nonnull(strstr(sup, "100rel"));
  free(sup);
  peer_respond(p, 0, "180", "uas1",
               "Contact: <sip:uas@127.0.0.1:5072>\r\nRequire: 100rel\r\n"
               "RSeq: 7\r\n");
  int pr = peer_find_last(p, 0, "PRACK");
  ck_assert_int_ge(pr, 0);
  char *rack = peer_header(p, (unsigned)pr, "RAck");
  ck_assert_str_eq(rack, "7 1 INVITE");
  free(rack);
  /* To the early dialog's remote target, with its tag. */
  ck_assert_int_eq(
      strncmp(p->sent[pr].data, "PRACK sip:uas@127.0.0.1:5072 ", 29), 0);
  /* A retransmission of the same provisional: no second PRACK. */
  peer_respond(p, 0, "180", "uas1",
               "Contact: <sip:uas@127.0.0.1:5072>\r\nRequire: 100rel\r\n"
               "RSeq: 7\r\n");
  ck_assert_uint_eq(peer_count(p, 0, "PRACK"), 1);
  peer_free(p);
}
END_TEST

START_TEST(uac_4028_7_1_invite_asks_timer_and_retries_after_422)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };

  uac_call(p, &r);
  char *se = peer_header(p, 0, "Session-Expires");
  ck_assert_str_eq(se, "1800");
  free(se);
  peer_respond(p, 0, "422", "uas1", "Min-SE: 3600\r\n");
  /* The 422 is ACKed by the transaction, and a new INVITE (same Call-ID,
   * From tag; CSeq + 1) asks for at least the Min-SE. */
  ck_assert_uint_eq(peer_count(p, 0, "INVITE"), 2);
  int again = peer_find_last(p, 0, "INVITE");
  char *se2 = peer_header(p, (unsigned)again, "Session-Expires");
  char *min = peer_header(p, (unsigned)again, "Min-SE");
  char *cseq = peer_header(p, (unsigned)again, "CSeq");
  ck_assert_str_eq(se2, "3600");
  ck_assert_str_eq(min, "3600");
  ck_assert_str_eq(cseq, "2 INVITE");
  free(se2);
  free(min);
  free(cseq);
  ck_assert_int_eq(r.n, 0); /* still calling */
  peer_respond(p, (unsigned)again, "200", "uas1",
               "Contact: <sip:uas@127.0.0.1:5072>\r\n"
               "Session-Expires: 3600;refresher=uac\r\nRequire: timer\r\n");
  ck_assert_int_eq(r.states[r.n - 1], CAY_SESSION_CONFIRMED);
  cay__session_t *s = cay__sessions_any(&p->ss);
  ck_assert_uint_eq(s->st.interval_s, 3600);
  ck_assert_uint_eq(s->st.we_refresh, 1);
  /* We refresh at half the interval: a re-INVITE (the 2xx did not list
   * UPDATE in an Allow). */
  peer_clear(p);
  peer_advance(p, 1800 * 1000);
  ck_assert_uint_eq(peer_count(p, 0, "INVITE"), 1);
  peer_free(p);
}
END_TEST

/* RFC 3261 section 13.2.1: an INVITE without an offer; the 2xx holds the
 * offer (port 7010) and the ACK the answer. */
static const char b_offer[] = "v=0\r\no=b 7010 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                              "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                              "m=audio 7010 RTP/AVP 0\r\n";
static const char a_answer[] = "v=0\r\no=a 6010 1 IN IP4 127.0.0.1\r\ns=-\r\n"
                               "c=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                               "m=audio 6010 RTP/AVP 0\r\n";

typedef struct offer_ctl {
  int defer;  /* defer the answer in the callback */
  int offers; /* 2xx offers seen */
} offer_ctl_t;

static void
on_2xx_offer(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  offer_ctl_t *c = arg;

  if (ev->kind != CAY_SESSION_EV_STATE || ev->state != CAY_SESSION_CONFIRMED)
    return;
  c->offers++;
  ck_assert_ptr_nonnull(ev->body);
  ck_assert_ptr_nonnull(strstr(ev->body, "m=audio 7010"));
  if (c->defer)
    ck_assert_int_eq(cay_session_defer_offer(s), 0);
}

static cay__session_t *
call_without_offer(peer_t *p, offer_ctl_t *c)
{
  cay__session_t *s = NULL;

  ck_assert_int_eq(cay__session_invite(&p->ss, "sip:svc@127.0.0.1:5070",
                                       "<sip:cay@127.0.0.1>", NULL,
                                       on_2xx_offer, c, &s),
                   0);
  ck_assert_ptr_nonnull(strstr(p->sent[0].data, "Content-Length: 0\r\n"));
  ck_assert_ptr_null(strstr(p->sent[0].data, "application/sdp"));
  return s;
}

static void
respond_offer(peer_t *p, const char *totag)
{
  char *via = peer_header(p, 0, "Via"), *from = peer_header(p, 0, "From");
  char *to = peer_header(p, 0, "To"), *cid = peer_header(p, 0, "Call-ID");
  char *cseq = peer_header(p, 0, "CSeq");
  char tob[512];

  snprintf(tob, sizeof tob, "%s;tag=%s", to, totag);
  peer_send(p, "response_sdp.sip", "status", "200", "phrase", "OK", "via", via,
            "from", from, "to", tob, "callid", cid, "cseq", cseq, "extra",
            "Contact: <sip:uas@127.0.0.1:5070>\r\n", "body", b_offer, NULL);
  free(via);
  free(from);
  free(to);
  free(cid);
  free(cseq);
}

START_TEST(uac_13_2_1_offer_in_2xx_answered_later_in_the_ack)
{
  peer_t *p = peer_new(NULL);
  offer_ctl_t c = { .defer = 1 };
  cay__session_t *s = call_without_offer(p, &c);

  respond_offer(p, "dly1");
  ck_assert_int_eq(c.offers, 1);
  /* Deferred: no ACK yet, not even for a copy of the 2xx. */
  ck_assert_int_lt(peer_find_last(p, 0, "ACK"), 0);
  respond_offer(p, "dly1");
  ck_assert_int_lt(peer_find_last(p, 0, "ACK"), 0);
  ck_assert_int_eq(cay_session_answer_offer(s, 200, a_answer), 0);
  int ack = peer_find_last(p, 0, "ACK");
  ck_assert_int_ge(ack, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[ack].data, "m=audio 6010"));
  ck_assert_ptr_nonnull(strstr(p->sent[ack].data, "application/sdp"));
  /* Answered once; a copy of the 2xx now gets the same ACK again. */
  ck_assert_int_eq(cay_session_answer_offer(s, 200, a_answer), CAY_ESTATE);
  unsigned n = p->nsent;
  respond_offer(p, "dly1");
  ck_assert_uint_eq(p->nsent, n + 1);
  ck_assert_str_eq(p->sent[n].data, p->sent[ack].data);
  peer_free(p);
}
END_TEST

START_TEST(uac_13_2_1_offer_in_2xx_answered_by_cay_unless_deferred)
{
  peer_t *p = peer_new(NULL);
  offer_ctl_t c = { .defer = 0 };

  call_without_offer(p, &c);
  respond_offer(p, "dly2");
  int ack = peer_find_last(p, 0, "ACK");
  ck_assert_int_ge(ack, 0);
  /* Cay's own answer: its codecs, the offer's port not echoed. */
  ck_assert_ptr_nonnull(strstr(p->sent[ack].data, "application/sdp"));
  ck_assert_ptr_nonnull(strstr(p->sent[ack].data, "m=audio "));
  ck_assert_ptr_null(strstr(p->sent[ack].data, "m=audio 7010"));
  peer_free(p);
}
END_TEST

START_TEST(uac_13_2_2_4_hangup_before_the_answer_acks_then_byes)
{
  peer_t *p = peer_new(NULL);
  offer_ctl_t c = { .defer = 1 };
  cay__session_t *s = call_without_offer(p, &c);

  respond_offer(p, "dly3");
  ck_assert_int_eq(cay_session_hangup(s), 0);
  int ack = peer_find_last(p, 0, "ACK"), bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(ack, 0);
  ck_assert_int_gt(bye, ack);
  ck_assert_ptr_nonnull(strstr(p->sent[ack].data, "application/sdp"));
  peer_free(p);
}
END_TEST

START_TEST(uac_13_2_2_4_refused_offer_in_2xx_is_acked_then_ended)
{
  peer_t *p = peer_new(NULL);
  offer_ctl_t c = { .defer = 1 };
  cay__session_t *s = call_without_offer(p, &c);

  respond_offer(p, "dly4");
  ck_assert_int_eq(cay_session_answer_offer(s, 99, NULL), -EINVAL);
  ck_assert_int_eq(cay_session_answer_offer(s, 488, NULL), 0);
  int ack = peer_find_last(p, 0, "ACK"), bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(ack, 0);
  ck_assert_int_gt(bye, ack);
  ck_assert_ptr_null(strstr(p->sent[ack].data, "application/sdp"));
  peer_free(p);
}
END_TEST

START_TEST(uac_17_1_4_tcp_connect_failure_ends_the_call_503)
{
  peer_t *p = peer_new(NULL);
  uac_record_t r = { 0 };
  cay__session_t *s = NULL;
  cay__peer_t to = { .proto = CAY__TCP };

  ck_assert_int_eq(
      cay__session_invite(&p->ss, "sip:svc@127.0.0.1:5070;transport=tcp",
                          "<sip:cay@127.0.0.1>", NULL, uac_on_state, &r, &s),
      0);
  ck_assert_int_eq(p->sent[0].proto, CAY__TCP);
  /* The transport reports that the connection to the callee failed: the
   * INVITE ends now with 503, not at Timer B. */
  cay__addr_set(&to.addr, "127.0.0.1", 5070);
  cay__txn_transport_error(&p->ep, &to);
  ck_assert_int_eq(r.n, 1);
  ck_assert_int_eq(r.states[0], CAY_SESSION_TERMINATED);
  ck_assert_int_eq(r.statuses[0], 503);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

START_TEST(uac_18_1_1_large_ack_for_2xx_goes_over_tcp_then_udp_if_refused)
{
  peer_t *p = peer_new(NULL);
  offer_ctl_t c = { .defer = 1 };
  cay__peer_t to = { .proto = CAY__TCP };
  char answer[1500], t[4];

  /* 13.2.1: the INVITE (small, over UDP) had no offer; the embedder's
   * answer in the ACK makes it about 1,700 bytes. */
  peer_padded_sdp(answer, sizeof answer, a_answer);
  p->ep.udp_max_request = 1300;
  cay__session_t *s = call_without_offer(p, &c);
  ck_assert_int_eq(p->sent[0].proto, CAY__UDP);
  respond_offer(p, "big1");
  ck_assert_int_eq(cay_session_answer_offer(s, 200, answer), 0);
  /* The ACK is no transaction, but 18.1.1 holds for it too: over TCP
   * with a TCP Via. */
  int ack = peer_find_last(p, 0, "ACK");
  ck_assert_int_ge(ack, 0);
  ck_assert_uint_gt(p->sent[ack].len, 1300);
  ck_assert_int_eq(p->sent[ack].proto, CAY__TCP);
  ck_assert_str_eq(uac_via_transport(p, (unsigned)ack, t), "TCP");
  /* The callee refused the connection; its copy of the 2xx gets the ACK
   * again, over UDP now, with a UDP Via and otherwise the same bytes. */
  cay__addr_set(&to.addr, "127.0.0.1", 5070);
  cay__txn_transport_error(&p->ep, &to);
  respond_offer(p, "big1");
  int again = peer_find_last(p, 0, "ACK");
  ck_assert_int_gt(again, ack);
  ck_assert_int_eq(p->sent[again].proto, CAY__UDP);
  ck_assert_str_eq(uac_via_transport(p, (unsigned)again, t), "UDP");
  ck_assert_uint_eq(p->sent[again].len, p->sent[ack].len);
  const char *v = strstr(p->sent[ack].data, "Via: SIP/2.0/");
  ck_assert_ptr_nonnull(v);
  size_t at = (size_t)(v - p->sent[ack].data) + 13; /* the 3 bytes */
  ck_assert_int_eq(memcmp(p->sent[again].data, p->sent[ack].data, at), 0);
  ck_assert_str_eq(p->sent[again].data + at + 3, p->sent[ack].data + at + 3);
  /* The BYE, small, stays on the dialog's UDP. */
  ck_assert_int_eq(cay__session_hangup(s), 0);
  int bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  ck_assert_int_eq(p->sent[bye].proto, CAY__UDP);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("rfc3261_uac_sessions");
  TCase *tc = tcase_create("uac");

  tcase_add_test(tc, uac_13_2_invite_answered_then_ack_to_contact);
  tcase_add_test(tc, uac_17_1_1_2_timer_a_doubles_and_timer_b_gives_408);
  tcase_add_test(tc, uac_17_1_1_3_failure_is_acked_by_the_transaction);
  tcase_add_test(tc, uac_9_1_cancel_waits_for_a_provisional);
  tcase_add_test(tc, uac_3326_reasons_kept_within_their_room);
  tcase_add_test(tc, uac_15_1_1_hangup_sends_bye_and_200_ends_it);
  tcase_add_test(tc, uac_6026_7_2_accepted_keeps_only_transaction_and_key);
  tcase_add_test(tc, uac_15_1_2_their_bye_ends_our_call);
  tcase_add_test(tc, uac_12_1_2_2xx_without_to_tag_has_a_null_remote_tag);
  tcase_add_test(tc, uac_drain_cancels_a_ringing_call);
  tcase_add_test(tc, uac_13_2_2_4_second_fork_2xx_gets_ack_then_bye);
  tcase_add_test(tc, uac_3262_4_reliable_provisional_gets_one_prack);
  tcase_add_test(tc, uac_4028_7_1_invite_asks_timer_and_retries_after_422);
  tcase_add_test(tc, uac_17_1_4_tcp_connect_failure_ends_the_call_503);
  tcase_add_test(tc, uac_13_2_1_offer_in_2xx_answered_later_in_the_ack);
  tcase_add_test(tc, uac_13_2_1_offer_in_2xx_answered_by_cay_unless_deferred);
  tcase_add_test(tc, uac_13_2_2_4_hangup_before_the_answer_acks_then_byes);
  tcase_add_test(tc, uac_13_2_2_4_refused_offer_in_2xx_is_acked_then_ended);
  tcase_add_test(
      tc, uac_18_1_1_large_ack_for_2xx_goes_over_tcp_then_udp_if_refused);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
