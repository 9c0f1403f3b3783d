/*
 * Changing a running UAS session and the UAS extensions, on a virtual
 * clock: re-INVITE and UPDATE offers (RFC 3261 section 14, RFC 3311),
 * glare (14.1, 14.2), INFO (RFC 6086), reliable provisionals (RFC 3262),
 * session timers (RFC 4028), and the embedder's answering API
 * (cay_server_on_session, cay_session_progress/answer/reject).
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include <errno.h>

#include "cay/errno.h"
#include "dialog/session_int.h"
#include "support/peer.h"
#include "support/run.h"
#include "support/uas_call.h"

#define T1 500

static const char offer2[] = "v=0\r\n"
                             "o=user1 53655765 2353687638 IN IP4 127.0.0.1\r\n"
                             "s=-\r\n"
                             "c=IN IP4 127.0.0.1\r\n"
                             "t=0 0\r\n"
                             "m=audio 6002 RTP/AVP 8\r\n"
                             "a=rtpmap:8 PCMA/8000\r\n";

typedef struct events {
  int n;
  cay_session_event_kind_t kind[16];
  int status[16];
  cay_session_state_t state[16];
  int defer_offer;  /* EV_OFFER: defer it */
  int defer_cancel; /* EV_CANCEL: keep the re-INVITE open */
  int defer_2xx;    /* EV_MODIFIED: keep the 2xx's offer open */
  char body[16][200];
} events_t;

static void
record(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  events_t *e = arg;

  if (e->n < 16) {
    e->kind[e->n] = ev->kind;
    e->status[e->n] = ev->status;
    e->state[e->n] = ev->state;
    e->n++;
  }
  if (ev->kind == CAY_SESSION_EV_OFFER && e->defer_offer)
    ck_assert_int_eq(cay_session_defer_offer(s), 0);
  if (ev->kind == CAY_SESSION_EV_CANCEL && e->defer_cancel)
    ck_assert_int_eq(cay_session_defer_offer(s), 0);
  if (ev->kind == CAY_SESSION_EV_MODIFIED && e->defer_2xx)
    ck_assert_int_eq(cay_session_defer_offer(s), 0);
  if (e->n <= 16 && ev->body && ev->body_len < sizeof e->body[0])
    memcpy(e->body[e->n - 1], ev->body, ev->body_len);
}

/* The o= version of sent message @p i. */
static long
o_version(peer_t *p, unsigned i)
{
  const char *o = strstr(p->sent[i].data, "o=cay ");
  ck_assert_ptr_nonnull(o);
  return strtol(strchr(o + 6, ' ') + 1, NULL, 10);
}

START_TEST(modify_14_2_reinvite_offer_answered_2xx_until_ack)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  uas_confirmed(p, "m1", "", tag, sizeof tag);
  peer_clear(p);
  uas_request_sdp(p, "INVITE", "m1", "z9hG4bK-re1", "2", tag, offer2);
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_int_ge(ok, 0);
  /* RFC 3264 section 6 and 8: an answer with PCMA (the only codec now
   * offered), the same o= id and version + 1. */
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "RTP/AVP 8"));
  ck_assert_int_eq(o_version(p, (unsigned)ok), 2);
  char *contact = peer_header(p, (unsigned)ok, "Contact");
  ck_assert_ptr_nonnull(contact);
  free(contact);
  /* 13.3.1.4: retransmitted until the ACK. */
  unsigned before = p->nsent;
  peer_advance(p, T1);
  ck_assert_uint_eq(p->nsent, before + 1);
  ck_assert_str_eq(p->sent[before].data, p->sent[ok].data);
  uas_request(p, "ACK", "m1", "z9hG4bK-ack2", "2", tag, "");
  peer_advance(p, 40 * T1);
  ck_assert_uint_eq(p->nsent, before + 1);
  ck_assert_ptr_null(cay__sessions_any(&p->ss)->mod);
  peer_free(p);
}
END_TEST

START_TEST(modify_14_2_reinvite_without_ack_ends_with_bye)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  uas_confirmed(p, "m2", "", tag, sizeof tag);
  uas_request_sdp(p, "INVITE", "m2", "z9hG4bK-re1", "2", tag, offer2);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 0);
  peer_advance(p, 64 * T1);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  /* RFC 3326: why Cay hung up (Q.850 102, recovery on timer expiry). */
  peer_header_is(p, (unsigned)peer_find_last(p, 0, "BYE"), "Reason",
                 "Q.850;cause=102;text=\"no ACK for the re-INVITE's 2xx\"");
  peer_free(p);
}
END_TEST

START_TEST(modify_3311_update_with_and_without_offer)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  uas_confirmed(p, "m3", "", tag, sizeof tag);
  peer_clear(p);
  uas_request_sdp(p, "UPDATE", "m3", "z9hG4bK-up1", "2", tag, offer2);
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(peer_status(p, 0), 200);
  ck_assert_ptr_nonnull(strstr(p->sent[0].data, "RTP/AVP 8"));
  /* No ACK for UPDATE: nothing is retransmitted. */
  peer_advance(p, 10 * T1);
  ck_assert_uint_eq(p->nsent, 1);
  /* An UPDATE without a body: 200 without one (RFC 3311 section 5.2). */
  uas_request(p, "UPDATE", "m3", "z9hG4bK-up2", "3", tag, "");
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_int_eq(peer_status(p, 1), 200);
  char *cl = peer_header(p, 1, "Content-Length");
  ck_assert_str_eq(cl, "0");
  free(cl);
  peer_free(p);
}
END_TEST

START_TEST(modify_14_2_second_reinvite_before_ack_gets_500_retry_after)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  uas_confirmed(p, "m4", "", tag, sizeof tag);
  uas_request_sdp(p, "INVITE", "m4", "z9hG4bK-re1", "2", tag, offer2);
  peer_clear(p);
  uas_request_sdp(p, "INVITE", "m4", "z9hG4bK-re2", "3", tag, offer2);
  ck_assert_int_eq(peer_find_last(p, 500, NULL), 0);
  char *ra = peer_header(p, 0, "Retry-After");
  ck_assert_ptr_nonnull(ra);
  free(ra);
  peer_free(p);
}
END_TEST

START_TEST(modify_14_1_glare_491_both_ways_then_retry)
{
  peer_t *p = peer_new(NULL);
  events_t e = { 0 };
  char tag[64];

  cay__session_t *s = uas_watched(p, "m5", record, &e, tag, sizeof tag);
  ck_assert_int_eq(cay_session_modify(s, NULL, 0), 0);
  ck_assert_str_eq(peer_method(p, 0), "INVITE");
  /* A second change while ours is out is refused locally. */
  ck_assert_int_eq(cay_session_modify(s, NULL, 0), CAY_ESTATE);
  /* 14.2: their re-INVITE crosses ours: 491. */
  uas_request_sdp(p, "INVITE", "m5", "z9hG4bK-re1", "2", tag, offer2);
  ck_assert_int_eq(peer_status(p, 1), 491);
  /* Ours gets 491 too: the transaction ACKs it, and 14.1 has Cay (not
   * the Call-ID's owner here) try again within 0 to 2 s. */
  char *via = peer_header(p, 0, "Via"), *from = peer_header(p, 0, "From");
  char *to = peer_header(p, 0, "To"), *cid = peer_header(p, 0, "Call-ID");
  char *cseq = peer_header(p, 0, "CSeq");
  peer_send(p, "response.sip", "status", "491", "phrase", "Request Pending",
            "via", via, "from", from, "to", to, "callid", cid, "cseq", cseq,
            NULL);
  ck_assert_uint_eq(peer_count(p, 0, "ACK"), 1);
  ck_assert_uint_eq(peer_count(p, 0, "INVITE"), 1);
  peer_advance(p, 2001);
  /* The retry (and its Timer A retransmissions). */
  ck_assert_uint_ge(peer_count(p, 0, "INVITE"), 2);
  int again = peer_find_last(p, 0, "INVITE");
  char *cseq2 = peer_header(p, (unsigned)again, "CSeq");
  ck_assert_str_ne(cseq2, cseq); /* a new request, a new CSeq */
  ck_assert_int_eq(e.n, 0);      /* nothing reported yet */
  free(via);
  free(from);
  free(to);
  free(cid);
  free(cseq);
  free(cseq2);
  peer_free(p);
}
END_TEST

START_TEST(modify_14_1_own_reinvite_2xx_acked_and_reported)
{
  peer_t *p = peer_new(NULL);
  events_t e = { 0 };
  char tag[64];

  cay__session_t *s = uas_watched(p, "m6", record, &e, tag, sizeof tag);
  ck_assert_int_eq(cay_session_modify(s, NULL, 0), 0);
  /* 12.2.1.1: From is our side, To theirs; a Contact (target refresh). */
  char *to = peer_header(p, 0, "To");
  ck_assert_ptr_nonnull(strstr(to, "tag=ft1"));
  char *contact = peer_header(p, 0, "Contact");
  ck_assert_ptr_nonnull(contact);
  char *via = peer_header(p, 0, "Via"), *from = peer_header(p, 0, "From");
  char *cid = peer_header(p, 0, "Call-ID"), *cseq = peer_header(p, 0, "CSeq");
  peer_send(p, "response_sdp.sip", "status", "200", "phrase", "OK", "via", via,
            "from", from, "to", to, "callid", cid, "cseq", cseq, "extra",
            "Contact: <sip:sipp@127.0.0.1:5070>\r\n", "body", offer2, NULL);
  /* 13.2.2.4: the ACK with the re-INVITE's CSeq number. */
  int ack = peer_find_last(p, 0, "ACK");
  ck_assert_int_ge(ack, 0);
  char *acseq = peer_header(p, (unsigned)ack, "CSeq");
  ck_assert_int_eq(atoi(acseq), atoi(cseq));
  ck_assert_int_eq(e.n, 1);
  ck_assert_int_eq(e.kind[0], CAY_SESSION_EV_MODIFIED);
  ck_assert_int_eq(e.status[0], 200);
  ck_assert_ptr_null(s->mod);
  /* Our ACK was lost and the 200 comes again: each 2xx gets its ACK
   * (13.2.2.4), or the peer would end the call after 64*T1 (14.2); the
   * copy is no second answer. */
  peer_send(p, "response_sdp.sip", "status", "200", "phrase", "OK", "via", via,
            "from", from, "to", to, "callid", cid, "cseq", cseq, "extra",
            "Contact: <sip:sipp@127.0.0.1:5070>\r\n", "body", offer2, NULL);
  int ack2 = peer_find_last(p, 0, "ACK");
  ck_assert_int_gt(ack2, ack);
  char *acseq2 = peer_header(p, (unsigned)ack2, "CSeq");
  ck_assert_str_eq(acseq2, acseq);
  ck_assert_str_eq(p->sent[ack2].data, p->sent[ack].data); /* as sent */
  ck_assert_int_eq(e.n, 1);
  free(acseq2);
  free(to);
  free(contact);
  free(via);
  free(from);
  free(cid);
  free(cseq);
  free(acseq);
  peer_free(p);
}
END_TEST

/* Our re-INVITE is out when we hang up: its 200, arriving after our BYE,
 * is no answer to the BYE (the session waits for that) and still gets its
 * ACK (13.2.2.4); the BYE's own 200 ends the session (15.1.1). */
START_TEST(modify_reinvite_2xx_after_our_bye_acked)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  uas_confirmed(p, "m7", "", tag, sizeof tag);
  cay__session_t *s = cay__sessions_any(&p->ss);
  peer_clear(p);
  ck_assert_int_eq(cay_session_modify(s, NULL, 0), 0);
  ck_assert_int_eq(cay_session_hangup(s), 0);
  int bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  char *via = peer_header(p, 0, "Via"), *from = peer_header(p, 0, "From");
  char *to = peer_header(p, 0, "To"), *cid = peer_header(p, 0, "Call-ID");
  char *cseq = peer_header(p, 0, "CSeq");
  peer_send(p, "response_sdp.sip", "status", "200", "phrase", "OK", "via", via,
            "from", from, "to", to, "callid", cid, "cseq", cseq, "extra",
            "Contact: <sip:sipp@127.0.0.1:5070>\r\n", "body", offer2, NULL);
  int ack = peer_find_last(p, 0, "ACK");
  ck_assert_int_gt(ack, bye);
  char *acseq = peer_header(p, (unsigned)ack, "CSeq");
  ck_assert_int_eq(atoi(acseq), atoi(cseq));
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1); /* the BYE waits */
  peer_respond(p, (unsigned)bye, "200", NULL, NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  free(via);
  free(from);
  free(to);
  free(cid);
  free(cseq);
  free(acseq);
  peer_free(p);
}
END_TEST

START_TEST(modify_deferred_offer_answered_later_or_488)
{
  peer_t *p = peer_new(NULL);
  events_t e = { .defer_offer = 1 };
  char tag[64];

  cay__session_t *s = uas_watched(p, "m7", record, &e, tag, sizeof tag);
  uas_request_sdp(p, "UPDATE", "m7", "z9hG4bK-up1", "2", tag, offer2);
  ck_assert_int_eq(e.kind[0], CAY_SESSION_EV_OFFER);
  ck_assert_int_eq(peer_count(p, 200, NULL), 0); /* waiting for us */
  /* 14.2: an unacceptable offer gets 488 and the session stays. */
  ck_assert_int_eq(cay_session_answer_offer(s, 488, NULL), 0);
  ck_assert_int_eq(peer_last_status(p), 488);
  ck_assert_int_eq(cay_session_answer_offer(s, 200, NULL), CAY_ESTATE);
  ck_assert_int_eq(cay__session_state(s), CAY__SESSION_CONFIRMED);
  peer_free(p);
}
END_TEST

/* 9.2: their CANCEL of a re-INVITE whose offer waits for the embedder:
 * 200 to the CANCEL, EV_CANCEL, then 487 (the session stays as it was,
 * 14.2); or, when the embedder keeps it open, its own answer later. */
START_TEST(modify_9_2_cancel_of_a_deferred_reinvite)
{
  peer_t *p = peer_new(NULL);
  events_t e = { .defer_offer = 1 };
  char tag[64];

  cay__session_t *s = uas_watched(p, "c1", record, &e, tag, sizeof tag);
  uas_request_sdp(p, "INVITE", "c1", "z9hG4bK-re1", "2", tag, offer2);
  ck_assert_int_lt(peer_find_last(p, 200, NULL), 0); /* waiting for us */
  peer_clear(p);                                     /* its 100 Trying */
  uas_request(p, "CANCEL", "c1", "z9hG4bK-re1", "2", tag, "");
  ck_assert_int_eq(e.n, 2);
  ck_assert_int_eq(e.kind[1], CAY_SESSION_EV_CANCEL);
  ck_assert_uint_eq(p->nsent, 2);
  char *cseq0 = peer_header(p, 0, "CSeq"), *cseq1 = peer_header(p, 1, "CSeq");
  ck_assert_int_eq(peer_status(p, 0), 200);
  ck_assert_str_eq(cseq0, "2 CANCEL");
  ck_assert_int_eq(peer_status(p, 1), 487);
  ck_assert_str_eq(cseq1, "2 INVITE");
  free(cseq0);
  free(cseq1);
  ck_assert_int_eq(cay_session_answer_offer(s, 200, NULL), CAY_ESTATE);
  uas_request(p, "ACK", "c1", "z9hG4bK-re1", "2", tag, "");
  ck_assert_ptr_null(s->mod);
  ck_assert_int_eq(cay__session_state(s), CAY__SESSION_CONFIRMED);

  /* Kept open in the EV_CANCEL callback: the embedder's 200 still goes. */
  e.defer_cancel = 1;
  peer_clear(p);
  uas_request_sdp(p, "INVITE", "c1", "z9hG4bK-re2", "3", tag, offer2);
  peer_clear(p);
  uas_request(p, "CANCEL", "c1", "z9hG4bK-re2", "3", tag, "");
  ck_assert_uint_eq(p->nsent, 1); /* the CANCEL's 200 only */
  ck_assert_int_eq(cay_session_answer_offer(s, 200, NULL), 0);
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_uint_eq(peer_count(p, 487, NULL), 0);
  peer_free(p);
}
END_TEST

/* 9.1: cay_session_modify_cancel() on our re-INVITE: the CANCEL waits for
 * a provisional, its 487 is reported; one waiting for its 491 retry
 * (14.1) is not sent again and 487 is reported. */
START_TEST(modify_9_1_our_reinvite_cancelled)
{
  peer_t *p = peer_new(NULL);
  events_t e = { 0 };
  char tag[64];

  cay__session_t *s = uas_watched(p, "c2", record, &e, tag, sizeof tag);
  ck_assert_int_eq(cay_session_modify_cancel(s), CAY_ESTATE);
  ck_assert_int_eq(cay_session_modify(s, NULL, 0), 0);
  ck_assert_int_eq(cay_session_modify_cancel(s), 0);
  ck_assert_int_eq(cay_session_modify_cancel(s), CAY_ESTATE); /* once */
  ck_assert_uint_eq(peer_count(p, 0, "CANCEL"), 0);
  peer_respond(p, 0, "100", NULL, NULL);
  int cancel = peer_find_last(p, 0, "CANCEL");
  ck_assert_int_ge(cancel, 0);
  char *cseq = peer_header(p, (unsigned)cancel, "CSeq");
  char *inv_cseq = peer_header(p, 0, "CSeq");
  ck_assert_int_eq(atoi(cseq), atoi(inv_cseq));
  free(cseq);
  free(inv_cseq);
  peer_respond(p, 0, "487", NULL, NULL);
  ck_assert_int_eq(e.n, 1);
  ck_assert_int_eq(e.kind[0], CAY_SESSION_EV_MODIFIED);
  ck_assert_int_eq(e.status[0], 487);
  ck_assert_ptr_null(s->mod);

  peer_clear(p);
  ck_assert_int_eq(cay_session_modify(s, NULL, 0), 0);
  peer_respond(p, 0, "491", NULL, NULL);
  ck_assert_int_eq(cay_session_modify_cancel(s), 0);
  peer_advance(p, 5000);
  ck_assert_uint_eq(peer_count(p, 0, "INVITE"), 1);
  ck_assert_int_eq(e.n, 2);
  ck_assert_int_eq(e.status[1], 487);
  ck_assert_ptr_null(s->mod);
  peer_free(p);
}
END_TEST

static const char answer2[] = "v=0\r\n"
                              "o=user1 53655765 3 IN IP4 127.0.0.1\r\n"
                              "s=-\r\n"
                              "c=IN IP4 127.0.0.1\r\n"
                              "t=0 0\r\n"
                              "m=audio 6020 RTP/AVP 8\r\n";

/* 14.2 / 13.2.1: their re-INVITE without an offer gets ours in the 2xx
 * (Cay's, or the embedder's given later), and the answer in their ACK is
 * reported (EV_ANSWER). */
START_TEST(modify_14_2_reinvite_without_offer_answer_in_the_ack)
{
  peer_t *p = peer_new(NULL);
  events_t e = { 0 };
  char tag[64];

  cay__session_t *s = uas_watched(p, "n1", record, &e, tag, sizeof tag);
  uas_request(p, "INVITE", "n1", "z9hG4bK-re1", "2", tag, "");
  ck_assert_int_eq(e.kind[0], CAY_SESSION_EV_OFFER);
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_int_ge(ok, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "m=audio")); /* Cay's */
  uas_request_body(p, "ACK", "n1", "z9hG4bK-ack2", "2", tag, "application/sdp",
                   answer2);
  ck_assert_int_eq(e.n, 2);
  ck_assert_int_eq(e.kind[1], CAY_SESSION_EV_ANSWER);
  ck_assert_str_eq(e.body[1], answer2);
  ck_assert_ptr_null(s->mod);

  /* The embedder's offer, given later; an ACK with an offer of ours in
   * the 2xx to a re-INVITE with one is no EV_ANSWER. */
  e.defer_offer = 1;
  peer_clear(p);
  uas_request(p, "INVITE", "n1", "z9hG4bK-re2", "3", tag, "");
  ck_assert_int_lt(peer_find_last(p, 200, NULL), 0);
  ck_assert_int_eq(cay_session_answer_offer(s, 200, offer2), 0);
  ok = peer_find_last(p, 200, NULL);
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "m=audio 6002 RTP/AVP 8"));
  uas_request_body(p, "ACK", "n1", "z9hG4bK-ack3", "3", tag, "application/sdp",
                   answer2);
  ck_assert_int_eq(e.kind[3], CAY_SESSION_EV_ANSWER);
  uas_request_sdp(p, "INVITE", "n1", "z9hG4bK-re4", "4", tag, offer2);
  ck_assert_int_eq(cay_session_answer_offer(s, 200, NULL), 0);
  uas_request(p, "ACK", "n1", "z9hG4bK-ack4", "4", tag, "");
  ck_assert_int_eq(e.n, 5);
  peer_free(p);
}
END_TEST

/* 14.1: our re-INVITE without an offer; the 2xx's offer is reported and
 * the ACK carries the answer: the embedder's, given later (the ACK
 * waits), or Cay's own when the embedder gives none, or before a BYE. */
START_TEST(modify_14_1_our_reinvite_without_offer_ack_waits_for_the_answer)
{
  peer_t *p = peer_new(NULL);
  events_t e = { .defer_2xx = 1 };
  char tag[64];

  uas_confirmed(p, "n2", "", tag, sizeof tag);
  cay__session_t *s = cay__sessions_any(&p->ss);
  cay_session_set_cb(s, record, &e);
  for (int round = 0; round < 3; round++) {
    peer_clear(p);
    e.defer_2xx = round != 1;
    ck_assert_int_eq(cay_session_modify_without_offer(s), 0);
    ck_assert_int_eq(cay_session_modify(s, NULL, 0), CAY_ESTATE);
    char *clen = peer_header(p, 0, "Content-Length");
    ck_assert_str_eq(clen, "0");
    free(clen);
    peer_respond_sdp(p, 0, "200", NULL,
                     "Contact: <sip:sipp@127.0.0.1:5070>\r\n", offer2);
    ck_assert_int_eq(e.kind[e.n - 1], CAY_SESSION_EV_MODIFIED);
    ck_assert_str_eq(e.body[e.n - 1], offer2);
    int ack = peer_find_last(p, 0, "ACK");
    if (round == 0) {
      ck_assert_int_lt(ack, 0); /* waits for the answer */
      ck_assert_int_eq(cay_session_modify(s, NULL, 0), CAY_ESTATE);
      ck_assert_int_eq(cay_session_answer_offer(s, 200, answer2), 0);
      ack = peer_find_last(p, 0, "ACK");
      ck_assert_int_ge(ack, 0);
      ck_assert_ptr_nonnull(strstr(p->sent[ack].data, "m=audio 6020"));
    } else if (round == 1) {
      ck_assert_int_ge(ack, 0); /* Cay's own answer */
      ck_assert_ptr_nonnull(strstr(p->sent[ack].data, "s=cay\r\n"));
    } else {
      ck_assert_int_lt(ack, 0);
      ck_assert_int_eq(cay_session_hangup(s), 0);
      ack = peer_find_last(p, 0, "ACK");
      ck_assert_int_ge(ack, 0);
      ck_assert_int_gt(peer_find_last(p, 0, "BYE"), ack);
      break;
    }
    char *acseq = peer_header(p, (unsigned)ack, "CSeq");
    char *icseq = peer_header(p, 0, "CSeq");
    ck_assert_int_eq(atoi(acseq), atoi(icseq));
    free(acseq);
    free(icseq);
    ck_assert_ptr_null(s->mod);
  }
  peer_free(p);
}
END_TEST

/* -- RFC 3262 -------------------------------------------------------------- */

START_TEST(prack_3262_reliable_180_until_prack_then_200)
{
  peer_t *p = peer_new(NULL);
  char tag[64], rack[64];

  uas_invite(p, "r1", "Require: 100rel\r\n");
  ck_assert_uint_eq(p->nsent, 1); /* the 200 waits for the PRACK */
  ck_assert_int_eq(peer_status(p, 0), 180);
  char *rseq = peer_header(p, 0, "RSeq");
  char *req = peer_header(p, 0, "Require");
  ck_assert_ptr_nonnull(rseq);
  ck_assert_str_eq(req, "100rel");
  /* Section 3: retransmitted at T1, then 2*T1. */
  peer_advance(p, T1);
  ck_assert_uint_eq(p->nsent, 2);
  ck_assert_str_eq(p->sent[1].data, p->sent[0].data);
  peer_advance(p, 2 * T1);
  ck_assert_uint_eq(p->nsent, 3);
  peer_to_tag(p, 0, tag, sizeof tag);
  /* A PRACK for another RSeq: 481. */
  snprintf(rack, sizeof rack, "RAck: %lu 1 INVITE\r\n",
           strtoul(rseq, NULL, 10) + 1);
  uas_request(p, "PRACK", "r1", "z9hG4bK-pr0", "2", tag, rack);
  ck_assert_int_eq(peer_last_status(p), 481);
  snprintf(rack, sizeof rack, "RAck: %s 1 INVITE\r\n", rseq);
  uas_request(p, "PRACK", "r1", "z9hG4bK-pr1", "3", tag, rack);
  ck_assert_int_eq(peer_count(p, 200, NULL), 2); /* PRACK's, INVITE's */
  unsigned n = p->nsent;
  peer_advance(p, 8 * T1); /* no more 180s (the 200 repeats until ACK) */
  ck_assert_uint_eq(peer_count(p, 180, NULL), 3);
  ck_assert_uint_ge(p->nsent, n);
  free(rseq);
  free(req);
  peer_free(p);
}
END_TEST

START_TEST(prack_3262_no_prack_after_64_t1_rejected_5xx)
{
  peer_t *p = peer_new(NULL);

  uas_invite(p, "r2", "Require: 100rel\r\n");
  peer_advance(p, 64 * T1);
  ck_assert_int_eq(peer_last_status(p), 504);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

START_TEST(prack_3262_supported_only_stays_unreliable)
{
  peer_t *p = peer_new(NULL);

  uas_invite(p, "r3", "Supported: 100rel\r\n");
  ck_assert_uint_eq(p->nsent, 2);
  char *rseq = peer_header(p, 0, "RSeq");
  ck_assert_ptr_null(rseq);
  ck_assert_int_eq(peer_status(p, 1), 200);
  peer_free(p);
}
END_TEST

/* -- RFC 4028 -------------------------------------------------------------- */

START_TEST(stimer_4028_9_uas_refresher_refreshes_at_half)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  uas_confirmed(p, "t1",
                "Supported: timer\r\nSession-Expires: 90;refresher=uas\r\n"
                "Allow: INVITE, ACK, BYE, UPDATE\r\n",
                tag, sizeof tag);
  int ok = peer_find_last(p, 200, NULL);
  char *se = peer_header(p, (unsigned)ok, "Session-Expires");
  char *req = peer_header(p, (unsigned)ok, "Require");
  ck_assert_str_eq(se, "90;refresher=uas");
  ck_assert_str_eq(req, "timer");
  peer_clear(p);
  peer_advance(p, 44999);
  ck_assert_uint_eq(peer_count(p, 0, "UPDATE"), 0);
  peer_advance(p, 1);
  /* Section 10: at half the interval, an UPDATE without a body (the peer
   * allows UPDATE), carrying the timer. */
  ck_assert_uint_eq(peer_count(p, 0, "UPDATE"), 1);
  char *se2 = peer_header(p, 0, "Session-Expires");
  ck_assert_str_eq(se2, "90;refresher=uac");
  free(se);
  free(req);
  free(se2);
  peer_free(p);
}
END_TEST

START_TEST(stimer_4028_10_no_refresh_bye_before_expiry)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  uas_confirmed(p, "t2",
                "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n",
                tag, sizeof tag);
  peer_clear(p);
  /* A refresh at 40 s restarts the clock (section 10). */
  peer_advance(p, 40000);
  uas_request(p, "UPDATE", "t2", "z9hG4bK-up1", "2", tag,
              "Supported: timer\r\nSession-Expires: 90;refresher=uac\r\n");
  ck_assert_int_eq(peer_last_status(p), 200);
  peer_advance(p, 59999);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 0);
  /* 90 - min(32, 90/3) = 60 s after the refresh: BYE. */
  peer_advance(p, 1);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  peer_free(p);
}
END_TEST

START_TEST(stimer_4028_9_below_min_se_gets_422)
{
  peer_t *p = peer_new(NULL);

  uas_invite(p, "t3", "Supported: timer\r\nSession-Expires: 60\r\n");
  ck_assert_int_eq(peer_last_status(p), 422);
  char *min = peer_header(p, (unsigned)peer_find_last(p, 422, NULL), "Min-SE");
  ck_assert_int_ge(atoi(min), 90);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  free(min);
  peer_free(p);
}
END_TEST

/* -- the embedder answers ---------------------------------------------------
 */

static events_t api_events;
static int api_mode; /* 0: nothing now, 1: reject 486, 2: redirect 302 */
static cay_id_t api_id;

static void
on_incoming(cay_session_t *s, const cay_incoming_t *in, void *arg)
{
  (void)arg;
  ck_assert_str_eq(in->request_uri, "sip:service@127.0.0.1:5060");
  ck_assert_ptr_nonnull(in->sdp);
  ck_assert_str_eq(in->source, "127.0.0.1:5070");
  api_id = cay_session_id(s);
  cay_session_set_cb(s, record, &api_events);
  if (api_mode == 1)
    ck_assert_int_eq(cay_session_reject(s, 486, NULL, NULL), 0);
  else if (api_mode == 2)
    ck_assert_int_eq(
        cay_session_reject(s, 302, NULL, "<sip:other@127.0.0.1:5090>"), 0);
}

static peer_t *
api_peer(int mode)
{
  peer_t *p = peer_new(NULL);

  memset(&api_events, 0, sizeof api_events);
  api_mode = mode;
  p->ss.on_incoming = on_incoming;
  return p;
}

START_TEST(api_13_3_1_embedder_rings_with_early_media_then_answers)
{
  peer_t *p = api_peer(0);
  char tag[64];

  uas_invite(p, "a1", "");
  /* The embedder has not answered yet: the transaction's 100 only (17.2.1). */
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(peer_status(p, 0), 100);
  cay__session_t *s = cay__session_lookup(&p->ss, api_id);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(cay_session_progress(s, 183, offer2), 0);
  ck_assert_int_eq(peer_status(p, 1), 183);
  ck_assert_ptr_nonnull(strstr(p->sent[1].data, "m=audio 6002"));
  ck_assert_int_eq(cay_session_progress(s, 99, NULL), -EINVAL);
  ck_assert_int_eq(cay_session_answer(s, NULL), 0);
  ck_assert_int_eq(peer_status(p, 2), 200);
  ck_assert_int_eq(cay_session_answer(s, NULL), CAY_ESTATE);
  peer_to_tag(p, 2, tag, sizeof tag);
  uas_request(p, "ACK", "a1", "z9hG4bK-ack", "1", tag, "");
  ck_assert_int_eq(api_events.kind[api_events.n - 1], CAY_SESSION_EV_STATE);
  ck_assert_int_eq(api_events.state[api_events.n - 1], CAY_SESSION_CONFIRMED);
  peer_free(p);
}
END_TEST

START_TEST(api_13_3_1_embedder_rejects_486)
{
  peer_t *p = api_peer(1);

  uas_invite(p, "a2", "");
  ck_assert_int_eq(peer_last_status(p), 486);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_int_eq(api_events.state[api_events.n - 1], CAY_SESSION_TERMINATED);
  ck_assert_int_eq(api_events.status[api_events.n - 1], 486);
  peer_free(p);
}
END_TEST

START_TEST(api_13_3_1_2_embedder_redirects_302_with_contact)
{
  peer_t *p = api_peer(2);

  uas_invite(p, "a3", "");
  ck_assert_int_eq(peer_last_status(p), 302);
  char *c = peer_header(p, (unsigned)peer_find_last(p, 302, NULL), "Contact");
  ck_assert_str_eq(c, "<sip:other@127.0.0.1:5090>");
  free(c);
  peer_free(p);
}
END_TEST

START_TEST(api_9_2_cancel_before_the_embedder_answers)
{
  peer_t *p = api_peer(0);

  uas_invite(p, "a4", "");
  uas_request(p, "CANCEL", "a4", "z9hG4bK-inv-a4", "1", "", "");
  ck_assert_int_eq(peer_count(p, 487, NULL), 1);
  ck_assert_int_eq(api_events.state[api_events.n - 1], CAY_SESSION_TERMINATED);
  ck_assert_int_eq(api_events.status[api_events.n - 1], 487);
  ck_assert_ptr_null(cay__session_lookup(&p->ss, api_id));
  peer_free(p);
}
END_TEST

static Suite *
modify_suite(void)
{
  Suite *s = suite_create("modify");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, modify_14_2_reinvite_offer_answered_2xx_until_ack);
  tcase_add_test(tc, modify_14_2_reinvite_without_ack_ends_with_bye);
  tcase_add_test(tc, modify_3311_update_with_and_without_offer);
  tcase_add_test(tc,
                 modify_14_2_second_reinvite_before_ack_gets_500_retry_after);
  tcase_add_test(tc, modify_14_1_glare_491_both_ways_then_retry);
  tcase_add_test(tc, modify_14_1_own_reinvite_2xx_acked_and_reported);
  tcase_add_test(tc, modify_reinvite_2xx_after_our_bye_acked);
  tcase_add_test(tc, modify_deferred_offer_answered_later_or_488);
  tcase_add_test(tc, modify_9_2_cancel_of_a_deferred_reinvite);
  tcase_add_test(tc, modify_9_1_our_reinvite_cancelled);
  tcase_add_test(tc, modify_14_2_reinvite_without_offer_answer_in_the_ack);
  tcase_add_test(
      tc, modify_14_1_our_reinvite_without_offer_ack_waits_for_the_answer);
  tcase_add_test(tc, prack_3262_reliable_180_until_prack_then_200);
  tcase_add_test(tc, prack_3262_no_prack_after_64_t1_rejected_5xx);
  tcase_add_test(tc, prack_3262_supported_only_stays_unreliable);
  tcase_add_test(tc, stimer_4028_9_uas_refresher_refreshes_at_half);
  tcase_add_test(tc, stimer_4028_10_no_refresh_bye_before_expiry);
  tcase_add_test(tc, stimer_4028_9_below_min_se_gets_422);
  tcase_add_test(tc, api_13_3_1_embedder_rings_with_early_media_then_answers);
  tcase_add_test(tc, api_13_3_1_embedder_rejects_486);
  tcase_add_test(tc, api_13_3_1_2_embedder_redirects_302_with_contact);
  tcase_add_test(tc, api_9_2_cancel_before_the_embedder_answers);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return cay_test_run(modify_suite());
}
