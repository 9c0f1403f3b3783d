/*
 * UPDATE in an early dialog (RFC 3311 section 5.1) at an embedder's UAS,
 * on a virtual clock: once a reliable provisional (RFC 3262) answered the
 * INVITE's offer, the caller's UPDATE is answered before the call is, an
 * UPDATE of ours goes once that provisional is PRACKed, and the 2xx
 * repeats the SDP last sent in the early dialog (RFC 6337 section 3.1.1).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "support/peer.h"
#include "support/run.h"
#include "support/uas_call.h"

/* Our early answer (port 6002, version 1). */
static const char early_sdp[] = "v=0\r\no=cay 77 1 IN IP4 127.0.0.1\r\n"
                                "s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                                "m=audio 6002 RTP/AVP 0\r\n";

/* The caller's new offer (PCMA on port 5012). */
static const char caller_offer[] = "v=0\r\no=sipp 1 2 IN IP4 127.0.0.1\r\n"
                                   "s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                                   "m=audio 5012 RTP/AVP 8\r\n"
                                   "a=rtpmap:8 PCMA/8000\r\n";

/* Our new offer (port 6004, version 2). */
static const char our_offer[] = "v=0\r\no=cay 77 2 IN IP4 127.0.0.1\r\n"
                                "s=-\r\nc=IN IP4 127.0.0.1\r\nt=0 0\r\n"
                                "m=audio 6004 RTP/AVP 0\r\n";

static cay_id_t sid;
static int offers_early; /* EV_OFFERs seen in state EARLY */
static int modified;     /* status of the last EV_MODIFIED */

static void
on_event(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  (void)s;
  (void)arg;
  if (ev->kind == CAY_SESSION_EV_OFFER && ev->state == CAY_SESSION_EARLY)
    offers_early++;
  if (ev->kind == CAY_SESSION_EV_MODIFIED)
    modified = ev->status;
}

static void
on_incoming(cay_session_t *s, const cay_incoming_t *in, void *arg)
{
  (void)in;
  (void)arg;
  sid = cay_session_id(s);
  cay_session_set_cb(s, on_event, NULL);
}

/* A call requiring 100rel; the embedder sends its reliable 183 with
 * early_sdp. Returns the session; its To tag in @p tag. */
static cay__session_t *
early_session(peer_t *p, const char *cid, char *tag, size_t n)
{
  sid = 0;
  offers_early = 0;
  modified = 0;
  p->ss.on_incoming = on_incoming;
  uas_invite(p, cid, "Require: 100rel\r\n");
  cay__session_t *s = cay__session_lookup(&p->ss, sid);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(cay_session_progress(s, 183, early_sdp), 0);
  int early = peer_find_last(p, 183, NULL);
  ck_assert_int_ge(early, 0);
  peer_to_tag(p, (unsigned)early, tag, n);
  char *allow = peer_header(p, (unsigned)early, "Allow");
  ck_assert_ptr_nonnull(allow); /* RFC 3311 section 4 */
  ck_assert_ptr_nonnull(strstr(allow, "UPDATE"));
  free(allow);
  return s;
}

/* The PRACK (CSeq @p cseq) for the session's reliable 183. */
static void
prack(peer_t *p, const char *cid, const char *cseq, const char *tag)
{
  char rack[64];
  int early = peer_find_last(p, 183, NULL);
  char *rs = peer_header(p, (unsigned)early, "RSeq");

  ck_assert_ptr_nonnull(rs);
  snprintf(rack, sizeof rack, "RAck: %s 1 INVITE\r\n", rs);
  free(rs);
  uas_request(p, "PRACK", cid, "z9hG4bK-pr", cseq, tag, rack);
  ck_assert_int_eq(peer_last_status(p), 200);
}

/* The body of sent message @p i. */
static const char *
body(peer_t *p, int i)
{
  ck_assert_int_ge(i, 0);
  const char *b = strstr(p->sent[i].data, "\r\n\r\n");
  ck_assert_ptr_nonnull(b);
  return b + 4;
}

/* The caller's UPDATE in the early dialog gets Cay's answer (the
 * embedder left it to Cay) before the call is answered; the 2xx to the
 * INVITE then repeats that answer, byte for byte. */
START_TEST(early_3311_their_update_answered_2xx_repeats_it)
{
  peer_t *p = peer_new(NULL);
  char tag[64];
  cay__session_t *s = early_session(p, "e1", tag, sizeof tag);

  uas_request_sdp(p, "UPDATE", "e1", "z9hG4bK-up", "3", tag, caller_offer);
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_int_ge(ok, 0);
  peer_header_is(p, (unsigned)ok, "CSeq", "3 UPDATE");
  ck_assert_int_eq(offers_early, 1);
  ck_assert_ptr_nonnull(strstr(body(p, ok), "RTP/AVP 8"));
  char *answer = strdup(body(p, ok));

  prack(p, "e1", "4", tag);
  ck_assert_int_eq(cay_session_answer(s, NULL), 0);
  int final = peer_find_last(p, 200, NULL);
  peer_header_is(p, (unsigned) final, "CSeq", "1 INVITE");
  ck_assert_str_eq(body(p, final), answer);
  free(answer);
  uas_request(p, "ACK", "e1", "z9hG4bK-ack", "1", tag, "");
  ck_assert_int_eq(cay_session_state(s), CAY_SESSION_CONFIRMED);
  peer_free(p);
}
END_TEST

/* Our UPDATE in the early dialog: refused (CAY_ESTATE) until the
 * reliable 183 is PRACKed, and a re-INVITE is never allowed there; then
 * it goes in the early dialog, its 2xx is reported, and the 2xx to the
 * INVITE repeats our offer. */
START_TEST(early_3311_our_update_after_prack_2xx_repeats_it)
{
  peer_t *p = peer_new(NULL);
  char tag[64];
  cay__session_t *s = early_session(p, "e2", tag, sizeof tag);

  ck_assert_int_eq(cay_session_modify(s, our_offer, 1), CAY_ESTATE);
  prack(p, "e2", "2", tag);
  ck_assert_int_eq(cay_session_modify(s, our_offer, 0), CAY_ESTATE);
  ck_assert_int_eq(cay_session_modify(s, our_offer, 1), 0);
  int upd = peer_find_request(p, "UPDATE", "e2");
  ck_assert_int_ge(upd, 0);
  ck_assert_ptr_nonnull(strstr(body(p, upd), "m=audio 6004"));
  ck_assert_ptr_null(strstr(p->sent[upd].data, "Session-Expires"));
  peer_respond_sdp(p, (unsigned)upd, "200", NULL, "", caller_offer);
  ck_assert_int_eq(modified, 200);

  ck_assert_int_eq(cay_session_answer(s, NULL), 0);
  int final = peer_find_last(p, 200, NULL);
  peer_header_is(p, (unsigned) final, "CSeq", "1 INVITE");
  ck_assert_ptr_nonnull(strstr(body(p, final), "o=cay 77 2 "));
  ck_assert_ptr_nonnull(strstr(body(p, final), "m=audio 6004"));
  peer_free(p);
}
END_TEST

/* Before a reliable answer (an unreliable 180: the INVITE did not ask for
 * 100rel) an UPDATE with an offer would cross the open offer/answer: 491
 * (RFC 3311 section 5.2), and the session is as it was. */
START_TEST(early_3311_update_before_reliable_answer_491)
{
  peer_t *p = peer_new(NULL);
  char tag[64];

  sid = 0;
  p->ss.on_incoming = on_incoming;
  uas_invite(p, "e3", "");
  cay__session_t *s = cay__session_lookup(&p->ss, sid);
  ck_assert_ptr_nonnull(s);
  ck_assert_int_eq(cay_session_progress(s, 183, early_sdp), 0);
  peer_to_tag(p, (unsigned)peer_find_last(p, 183, NULL), tag, sizeof tag);
  ck_assert_int_eq(cay_session_modify(s, our_offer, 1), CAY_ESTATE);
  uas_request_sdp(p, "UPDATE", "e3", "z9hG4bK-up", "2", tag, caller_offer);
  ck_assert_int_eq(peer_last_status(p), 491);
  ck_assert_int_eq(cay_session_answer(s, early_sdp), 0);
  int final = peer_find_last(p, 200, NULL);
  ck_assert_str_eq(body(p, final), early_sdp);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("early_update");
  TCase *tc = tcase_create("early_update");

  tcase_add_test(tc, early_3311_their_update_answered_2xx_repeats_it);
  tcase_add_test(tc, early_3311_our_update_after_prack_2xx_repeats_it);
  tcase_add_test(tc, early_3311_update_before_reliable_answer_491);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
