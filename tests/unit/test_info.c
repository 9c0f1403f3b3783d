/*
 * INFO (RFC 6086), REFER (RFC 3515) and NOTIFY (RFC 6665) in a confirmed
 * UAS session, both ways, on a virtual clock: theirs reported and
 * answered (INFO 200 by Cay, REFER and NOTIFY 405, or the embedder's
 * answer, now or deferred; 487 when the session ends first, RFC 3261
 * section 15.1.2); ours kept until its final response, which is reported
 * with the id the embedder was given, and a 408 or 481 that ends the
 * session (section 12.2.1.2).
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

static const char dtmf[] = "Signal=5\r\nDuration=160\r\n";

typedef struct events {
  int n;
  cay_session_event_kind_t kind[8];
  int status[8];
  cay_id_t request[8];
  char body[8][64];
  char method[8][16];
  char headers[8][256];
  /* EV_INFO, EV_REQUEST: 1 defer it, 2 answer it 415 (an INFO) or 202 (a
   * REFER or NOTIFY) in the callback */
  int on_info;
  int defer_rc;
} events_t;

static void
record(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  events_t *e = arg;

  if (e->n < 8) {
    e->kind[e->n] = ev->kind;
    e->status[e->n] = ev->status;
    e->request[e->n] = ev->request;
    if (ev->body && ev->body_len < sizeof e->body[0])
      memcpy(e->body[e->n], ev->body, ev->body_len);
    if (ev->method && strlen(ev->method) < sizeof e->method[0])
      strcpy(e->method[e->n], ev->method);
    if (ev->headers && strlen(ev->headers) < sizeof e->headers[0])
      strcpy(e->headers[e->n], ev->headers);
    e->n++;
  }
  if (ev->kind != CAY_SESSION_EV_INFO && ev->kind != CAY_SESSION_EV_REQUEST)
    return;
  if (e->on_info == 1)
    e->defer_rc = cay_session_defer_request(s);
  else if (e->on_info == 2 && ev->kind == CAY_SESSION_EV_INFO)
    ck_assert_int_eq(cay_session_answer_request(s, ev->request, 415,
                                                "Unsupported Media Type", NULL),
                     0);
  else if (e->on_info == 2)
    ck_assert_int_eq(
        cay_session_answer_request(s, ev->request, 202, NULL, NULL), 0);
}

static void
their_info(peer_t *p, const char *cid, const char *branch, const char *cseq,
           const char *tag)
{
  uas_request_body(p, "INFO", cid, branch, cseq, tag, "application/dtmf-relay",
                   dtmf);
}

/* Our DTMF INFO in session @p s; its id in @p id (NULL: not asked). */
static void
our_info(cay__session_t *s, cay_id_t *id)
{
  ck_assert_int_eq(cay_session_request(s, "INFO", NULL,
                                       "application/dtmf-relay", dtmf,
                                       strlen(dtmf), id),
                   0);
}

START_TEST(info_6086_answered_200_and_reported)
{
  peer_t *p = peer_new(NULL);
  events_t e = { 0 };
  char tag[64];

  uas_watched(p, "i1", record, &e, tag, sizeof tag);
  their_info(p, "i1", "z9hG4bK-inf", "2", tag);
  ck_assert_int_eq(peer_last_status(p), 200);
  ck_assert_int_eq(e.n, 1);
  ck_assert_int_eq(e.kind[0], CAY_SESSION_EV_INFO);
  ck_assert_str_eq(e.body[0], dtmf);
  ck_assert(e.request[0] != 0);
  /* Outside its callback it is answered already. */
  ck_assert_int_eq(cay_session_answer_request(cay__sessions_any(&p->ss),
                                              e.request[0], 200, NULL, NULL),
                   CAY_ESTATE);
  peer_free(p);
}
END_TEST

START_TEST(info_6086_answered_by_the_embedder_in_its_callback)
{
  peer_t *p = peer_new(NULL);
  events_t e = { .on_info = 2 };
  char tag[64];

  uas_watched(p, "i2", record, &e, tag, sizeof tag);
  their_info(p, "i2", "z9hG4bK-inf", "2", tag);
  /* Its 415, and no 200 after it. */
  ck_assert_uint_eq(p->nsent, 1);
  ck_assert_int_eq(peer_status(p, 0), 415);
  peer_free(p);
}
END_TEST

/* Deferred, the INFO waits (its retransmission gets nothing) until the
 * embedder answers; one still deferred when the peer hangs up gets 487
 * (15.1.2), and the session ends without a leak (peer_free). */
START_TEST(info_6086_deferred_answered_later_487_at_the_end)
{
  peer_t *p = peer_new(NULL);
  events_t e = { .on_info = 1 };
  char tag[64];

  cay__session_t *s = uas_watched(p, "i3", record, &e, tag, sizeof tag);
  their_info(p, "i3", "z9hG4bK-inf1", "2", tag);
  ck_assert_int_eq(e.defer_rc, 0);
  ck_assert_uint_eq(p->nsent, 0);
  their_info(p, "i3", "z9hG4bK-inf1", "2", tag); /* retransmitted */
  ck_assert_uint_eq(p->nsent, 0);
  ck_assert_int_eq(e.n, 1); /* not reported twice */
  ck_assert_int_eq(cay_session_answer_request(s, e.request[0], 100, NULL, NULL),
                   -EINVAL);
  ck_assert_int_eq(
      cay_session_answer_request(s, e.request[0] + 99, 200, NULL, NULL),
      CAY_ESTATE);
  ck_assert_int_eq(cay_session_answer_request(s, e.request[0], 486, NULL, NULL),
                   0);
  ck_assert_int_eq(peer_last_status(p), 486);
  ck_assert_int_eq(cay_session_answer_request(s, e.request[0], 200, NULL, NULL),
                   CAY_ESTATE);
  /* Outside an EV_INFO callback there is nothing to defer. */
  ck_assert_int_eq(cay_session_defer_request(s), CAY_ESTATE);

  their_info(p, "i3", "z9hG4bK-inf2", "3", tag);
  ck_assert_int_eq(e.n, 2);
  peer_clear(p);
  uas_request(p, "BYE", "i3", "z9hG4bK-bye", "4", tag, "");
  ck_assert_uint_eq(peer_count(p, 487, NULL), 1);
  char *cseq = peer_header(p, (unsigned)peer_find_last(p, 487, NULL), "CSeq");
  ck_assert_str_eq(cseq, "3 INFO");
  free(cseq);
  ck_assert_uint_eq(peer_count(p, 200, NULL), 1); /* the BYE's */
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

/* Ours: sent in the dialog with its body; its final response reported
 * with the id we were given (an INFO sent without one is not reported);
 * an empty INFO needs no type, a body does. */
START_TEST(info_6086_ours_final_response_reported_by_id)
{
  peer_t *p = peer_new(NULL);
  events_t e = { 0 };
  char tag[64];
  cay_id_t id = 0;

  cay__session_t *s = uas_watched(p, "i4", record, &e, tag, sizeof tag);
  ck_assert_int_eq(cay_session_request(s, "INFO", NULL, NULL, "x", 1, NULL),
                   -EINVAL);
  our_info(s, &id);
  ck_assert(id != 0);
  ck_assert_str_eq(peer_method(p, 0), "INFO");
  ck_assert_ptr_nonnull(strstr(p->sent[0].data, "Signal=5"));
  peer_respond(p, 0, "100", NULL, NULL);
  ck_assert_int_eq(e.n, 0); /* a provisional is not the answer */
  peer_respond(p, 0, "415", NULL, NULL);
  ck_assert_int_eq(e.n, 1);
  ck_assert_int_eq(e.kind[0], CAY_SESSION_EV_REQUEST_ANSWERED);
  ck_assert_int_eq(e.status[0], 415);
  ck_assert(e.request[0] == id);
  ck_assert_ptr_null(s->infos);

  ck_assert_int_eq(cay_session_request(s, "INFO", NULL, NULL, NULL, 0, NULL),
                   0);
  ck_assert_int_eq(peer_find_last(p, 0, "INFO"), 1);
  peer_header_is(p, 1, "Content-Length", "0");
  peer_respond(p, 1, "200", NULL, NULL);
  ck_assert_int_eq(e.n, 1);
  ck_assert_ptr_null(s->infos);
  ck_assert_int_eq(cay__session_state(s), CAY__SESSION_CONFIRMED);
  peer_free(p);
}
END_TEST

/* 12.2.1.2: a 481 to our INFO (the peer lost the dialog) or no answer at
 * all (408) ends the session with BYE, after the report. */
START_TEST(info_12_2_1_2_ours_481_or_408_ends_with_bye)
{
  for (int timeout = 0; timeout < 2; timeout++) {
    peer_t *p = peer_new(NULL);
    events_t e = { 0 };
    char tag[64];
    cay_id_t id = 0;

    cay__session_t *s
        = uas_watched(p, timeout ? "i6" : "i5", record, &e, tag, sizeof tag);
    our_info(s, &id);
    ck_assert_uint_eq(peer_count(p, 0, "BYE"), 0);
    if (timeout)
      peer_advance(p, 64 * T1 + 1);
    else
      peer_respond(p, 0, "481", NULL, NULL);
    ck_assert_int_eq(e.kind[0], CAY_SESSION_EV_REQUEST_ANSWERED);
    ck_assert_int_eq(e.status[0], timeout ? 408 : 481);
    ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
    ck_assert_int_eq(cay__session_state(s), CAY__SESSION_TERMINATING);
    peer_free(p);
  }
}
END_TEST

/* After our BYE only the BYE's own outcome ends the session (15.1.1): the
 * timeout of an INFO sent before it does not, the BYE's 200 does. */
START_TEST(info_timeout_after_our_bye_is_not_the_bye_s)
{
  peer_t *p = peer_new(NULL);
  events_t e = { 0 };
  char tag[64];

  cay__session_t *s = uas_watched(p, "i7", record, &e, tag, sizeof tag);
  our_info(s, NULL);
  peer_advance(p, 1000);
  ck_assert_int_eq(cay_session_hangup(s), 0);
  int bye = peer_find_last(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  peer_advance(p, 64 * T1 - 500); /* the INFO's timer F, not the BYE's */
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1);
  peer_respond(p, (unsigned)bye, "200", NULL, NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

static const char refer_hdrs[] = "Refer-To: <sip:carol@example.com>\r\n"
                                 "Referred-By: <sip:alice@example.com>\r\n"
                                 "Refer-Sub: false\r\n"
                                 "Supported: norefersub\r\n";

/* RFC 3515 / 6665: their REFER and NOTIFY are reported with their own
 * headers (Refer-To, Referred-By, Refer-Sub; Event, Subscription-State;
 * not the others); not taken, each gets 405 with Allow (Cay does not
 * transfer by itself). Outside a dialog they get 405 unreported. */
START_TEST(refer_3515_notify_6665_reported_then_405)
{
  peer_t *p = peer_new(NULL);
  events_t e = { 0 };
  char tag[64], *allow;

  /* Cay's UAS allows neither: its 200's Allow (and below, its 405's and
   * its OPTIONS answer's). */
  peer_t *p0 = peer_new(NULL);
  uas_confirmed(p0, "r0", "", tag, sizeof tag);
  allow = peer_header(p0, (unsigned)peer_find_last(p0, 200, NULL), "Allow");
  ck_assert_ptr_null(strstr(allow, "REFER"));
  ck_assert_ptr_nonnull(strstr(allow, "INFO"));
  free(allow);
  peer_free(p0);
  uas_watched(p, "r1", record, &e, tag, sizeof tag);
  uas_request(p, "REFER", "r1", "z9hG4bK-ref", "2", tag, refer_hdrs);
  ck_assert_int_eq(peer_last_status(p), 405);
  allow = peer_header(p, 0, "Allow");
  ck_assert_ptr_nonnull(allow);
  free(allow);
  ck_assert_int_eq(e.n, 1);
  ck_assert_int_eq(e.kind[0], CAY_SESSION_EV_REQUEST);
  ck_assert_str_eq(e.method[0], "REFER");
  ck_assert(e.request[0] != 0);
  ck_assert_str_eq(e.headers[0], "Refer-To: <sip:carol@example.com>\r\n"
                                 "Referred-By: <sip:alice@example.com>\r\n"
                                 "Refer-Sub: false\r\n");

  uas_request_body(p, "NOTIFY", "r1", "z9hG4bK-not", "3", tag,
                   "message/sipfrag", "SIP/2.0 200 OK\r\n");
  ck_assert_int_eq(peer_last_status(p), 405);
  ck_assert_int_eq(e.n, 2);
  ck_assert_str_eq(e.method[1], "NOTIFY");
  ck_assert_str_eq(e.body[1], "SIP/2.0 200 OK\r\n");

  peer_clear(p);
  uas_request(p, "NOTIFY", "r1", "z9hG4bK-not2", "4", tag,
              "Event: refer;id=2\r\n"
              "Subscription-State: terminated;reason=noresource\r\n");
  ck_assert_int_eq(e.n, 3);
  ck_assert_str_eq(e.headers[2],
                   "Event: refer;id=2\r\n"
                   "Subscription-State: terminated;reason=noresource\r\n");

  peer_clear(p);
  uas_request(p, "REFER", "r1-other", "z9hG4bK-ref2", "1", "", refer_hdrs);
  ck_assert_int_eq(peer_last_status(p), 405);
  ck_assert_int_eq(e.n, 3);
  allow = peer_header(p, 0, "Allow");
  ck_assert_ptr_null(strstr(allow, "REFER"));
  free(allow);
  uas_request(p, "OPTIONS", "r1", "z9hG4bK-opt", "5", tag, "");
  allow = peer_header(p, 1, "Allow");
  ck_assert_ptr_null(strstr(allow, "REFER"));
  ck_assert_ptr_nonnull(strstr(allow, "INFO"));
  free(allow);
  peer_free(p);
}
END_TEST

/* RFC 4488 section 4: norefersub is the REFER-Recipient's option tag. A
 * REFER in a dialog that requires it is not refused 420 (a bridge relays
 * the Require to the other side): the event carries it, and Cay's own
 * UAS answers 405 as to any REFER. Another request requiring it gets
 * 420 naming it (RFC 3261 section 8.2.2.3). */
START_TEST(refer_4488_norefersub_required_in_a_refer_only)
{
  peer_t *p = peer_new(NULL);
  events_t e = { 0 };
  char tag[64], *v;

  uas_watched(p, "r4", record, &e, tag, sizeof tag);
  uas_request(p, "REFER", "r4", "z9hG4bK-ref", "2", tag,
              "Refer-To: <sip:carol@example.com>\r\n"
              "Refer-Sub: false\r\n"
              "Require: norefersub\r\n");
  ck_assert_int_eq(peer_last_status(p), 405);
  ck_assert_int_eq(e.n, 1);
  ck_assert_str_eq(e.headers[0], "Require: norefersub\r\n"
                                 "Refer-To: <sip:carol@example.com>\r\n"
                                 "Refer-Sub: false\r\n");
  peer_clear(p);
  uas_request(p, "INFO", "r4", "z9hG4bK-inf", "3", tag,
              "Require: norefersub\r\n");
  ck_assert_int_eq(peer_last_status(p), 420);
  v = peer_header(p, 0, "Unsupported");
  ck_assert_str_eq(v, "norefersub");
  free(v);
  ck_assert_int_eq(e.n, 1); /* not reported */
  peer_free(p);
}
END_TEST

/* The embedder accepts their REFER (202, RFC 3515 section 2.4.2) in its
 * callback, or defers it and answers later. */
START_TEST(refer_3515_answered_202_by_the_embedder)
{
  for (int defer = 0; defer < 2; defer++) {
    peer_t *p = peer_new(NULL);
    events_t e = { .on_info = defer ? 1 : 2 };
    char tag[64];

    cay__session_t *s
        = uas_watched(p, defer ? "r3" : "r2", record, &e, tag, sizeof tag);
    uas_request(p, "REFER", defer ? "r3" : "r2", "z9hG4bK-ref", "2", tag,
                refer_hdrs);
    if (defer) {
      ck_assert_int_eq(e.defer_rc, 0);
      ck_assert_uint_eq(p->nsent, 0);
      ck_assert_int_eq(
          cay_session_answer_request(s, e.request[0], 202, NULL, NULL), 0);
    }
    ck_assert_uint_eq(p->nsent, 1);
    ck_assert_int_eq(peer_status(p, 0), 202);
    peer_free(p);
  }
}
END_TEST

/* Ours: REFER and NOTIFY go with the embedder's header lines and our
 * Contact (both are target refresh requests), each CSeq one more; the
 * REFER's 202 is reported by id with its method. Header lines that are
 * not "Name: value\r\n", or that name a header Cay writes, and other
 * methods are refused. */
START_TEST(refer_3515_ours_sent_with_headers_and_contact)
{
  peer_t *p = peer_new(NULL);
  events_t e = { 0 };
  char tag[64], *v;
  cay_id_t id = 0;

  cay__session_t *s = uas_watched(p, "r4", record, &e, tag, sizeof tag);
  static const char *const bad[] = { "Refer-To: <sip:c@x>",
                                     "Via: SIP/2.0/UDP x\r\n",
                                     "contact: <sip:c@x>\r\n",
                                     "Bad Name: x\r\n",
                                     "NoColon\r\n",
                                     "X: a\nY: b\r\n",
                                     "X: a\r\n b\r\n" };
  for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
    ck_assert_int_eq(
        cay_session_request(s, "REFER", bad[i], NULL, NULL, 0, NULL), -EINVAL);
  ck_assert_int_eq(cay_session_request(s, "refer", NULL, NULL, NULL, 0, NULL),
                   -EINVAL);
  ck_assert_int_eq(cay_session_request(s, "BYE", NULL, NULL, NULL, 0, NULL),
                   -EINVAL);
  ck_assert_uint_eq(p->nsent, 0);

  ck_assert_int_eq(cay_session_request(s, "REFER",
                                       "Refer-To: <sip:carol@example.com>\r\n",
                                       NULL, NULL, 0, &id),
                   0);
  ck_assert_str_eq(peer_method(p, 0), "REFER");
  peer_header_is(p, 0, "Refer-To", "<sip:carol@example.com>");
  v = peer_header(p, 0, "Contact");
  ck_assert_ptr_nonnull(v);
  free(v);
  peer_respond(p, 0, "202", NULL, NULL);
  ck_assert_int_eq(e.n, 1);
  ck_assert_int_eq(e.kind[0], CAY_SESSION_EV_REQUEST_ANSWERED);
  ck_assert_int_eq(e.status[0], 202);
  ck_assert_str_eq(e.method[0], "REFER");
  ck_assert(e.request[0] == id);

  ck_assert_int_eq(cay_session_request(
                       s, "NOTIFY",
                       "Event: refer\r\nSubscription-State: active\r\n",
                       "message/sipfrag", "SIP/2.0 100 Trying\r\n", 20, NULL),
                   0);
  ck_assert_str_eq(peer_method(p, 1), "NOTIFY");
  peer_header_is(p, 1, "Event", "refer");
  v = peer_header(p, 1, "CSeq");
  char *first = peer_header(p, 0, "CSeq");
  ck_assert_int_eq(atoi(v), atoi(first) + 1);
  free(v);
  free(first);
  ck_assert_ptr_nonnull(strstr(p->sent[1].data, "\r\n\r\nSIP/2.0 100 Trying"));
  peer_respond(p, 1, "200", NULL, NULL);
  ck_assert_int_eq(e.n, 1); /* sent without an id: not reported */
  ck_assert_ptr_null(s->infos);
  peer_free(p);
}
END_TEST

/* A NOTIFY is a target refresh request (RFC 6665): after one with a new
 * Contact, our next request in the dialog goes there, also when the
 * NOTIFY was refused (405). */
START_TEST(notify_6665_refreshes_the_remote_target)
{
  peer_t *p = peer_new(NULL);
  events_t e = { 0 };
  char tag[64], buf[1024];

  cay__session_t *s = uas_watched(p, "r5", record, &e, tag, sizeof tag);
  int n = snprintf(buf, sizeof buf,
                   "NOTIFY sip:service@127.0.0.1:5060 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-n5\r\n"
                   "Max-Forwards: 70\r\n"
                   "From: sipp <sip:sipp@127.0.0.1:5070>;tag=ft1\r\n"
                   "To: <sip:service@127.0.0.1:5060>%s\r\n"
                   "Call-ID: r5\r\nCSeq: 2 NOTIFY\r\n"
                   "Contact: <sip:moved@127.0.0.1:5070>\r\n"
                   "Event: refer\r\nSubscription-State: active\r\n"
                   "Content-Length: 0\r\n\r\n",
                   tag);
  peer_send_raw(p, buf, (size_t)n);
  ck_assert_int_eq(peer_last_status(p), 405);
  ck_assert_int_eq(cay_session_request(s, "INFO", NULL, NULL, NULL, 0, NULL),
                   0);
  int info = peer_find_last(p, 0, "INFO");
  ck_assert_int_ge(info, 0);
  ck_assert_int_eq(
      strncmp(p->sent[info].data, "INFO sip:moved@127.0.0.1:5070 SIP/2.0", 37),
      0);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("info");
  TCase *tc = tcase_create("core");

  tcase_add_test(tc, info_6086_answered_200_and_reported);
  tcase_add_test(tc, info_6086_answered_by_the_embedder_in_its_callback);
  tcase_add_test(tc, info_6086_deferred_answered_later_487_at_the_end);
  tcase_add_test(tc, info_6086_ours_final_response_reported_by_id);
  tcase_add_test(tc, info_12_2_1_2_ours_481_or_408_ends_with_bye);
  tcase_add_test(tc, info_timeout_after_our_bye_is_not_the_bye_s);
  tcase_add_test(tc, refer_3515_notify_6665_reported_then_405);
  tcase_add_test(tc, refer_4488_norefersub_required_in_a_refer_only);
  tcase_add_test(tc, refer_3515_answered_202_by_the_embedder);
  tcase_add_test(tc, refer_3515_ours_sent_with_headers_and_contact);
  tcase_add_test(tc, notify_6665_refreshes_the_remote_target);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
