/*
 * The B2BUA bridge once the call is up, on a virtual clock: re-INVITE and
 * UPDATE relayed both ways (with and without an offer, refused, CANCELed:
 * RFC 3261 sections 14 and 9), INFO, REFER and NOTIFY relayed with their
 * answers (RFC 6086, 3515, 6665), and session refreshes that keep each leg's
 * media (RFC 4028). support/bridge_call.h explains the fixture.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "dialog/session_int.h"
#include "support/bridge_call.h"
#include "support/peer.h"
#include "support/run.h"

START_TEST(bridge_14_reinvite_from_a_relayed_and_answer_back)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  reinvite_a(p, "z9hG4bK-a-re", "2", tag,
             "v=0\r\no=user1 53655765 2 IN IP4 127.0.0.1\r\ns=-\r\n"
             "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6010 RTP/AVP 8\r\n");
  int re = b_msg(p, 0, "INVITE");
  ck_assert_ptr_nonnull(strstr(p->sent[re].data, "m=audio 6010 RTP/AVP 8"));
  unsigned before = peer_count(p, 200, NULL);
  respond(p, (unsigned)re, "200", contact_b,
          "v=0\r\no=callee 1 2 IN IP4 127.0.0.9\r\ns=-\r\n"
          "c=IN IP4 127.0.0.9\r\nt=0 0\r\nm=audio 7010 RTP/AVP 8\r\n");
  ck_assert_uint_eq(peer_count(p, 200, NULL), before + 1);
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "m=audio 7010"));
  peer_free(p);
}
END_TEST

/* A re-INVITE without an offer from A (RFC 3261 section 14.1): B gets
 * one without an offer too; B's offer (from its 2xx, the route's codecs
 * only) reaches A in A's 200, and A's answer (in its ACK) reaches B in
 * B's ACK, which waits for it. Neither side gets an SDP Cay made up. */
START_TEST(bridge_14_reinvite_without_offer_relayed_both_ways)
{
  cay_config_t cfg = bridge_config(-1, 60, "PCMA");
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  unsigned acks = peer_count(p, 0, "ACK");
  a_request(p, "INVITE", "z9hG4bK-a-re", "2", tag);
  int re = b_msg(p, 0, "INVITE");
  peer_header_is(p, (unsigned)re, "Content-Length", "0");
  respond(p, (unsigned)re, "200", contact_b, b_offer_pcmu_pcma);
  ck_assert_uint_eq(peer_count(p, 0, "ACK"), acks); /* B's waits */
  unsigned ok = a_final_is(p, "2 INVITE", 200);
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "o=callee 1 1"));
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "m=audio 7000 RTP/AVP 8"));
  peer_send(p, "request_body.sip", "method", "ACK", "branch", "z9hG4bK-a-ack2",
            "fromtag", "ft1", "callid", "a-leg", "cseq", "2", "totag", tag,
            "extra", "", "ctype", "application/sdp", "body",
            "v=0\r\no=user1 53655765 3 IN IP4 127.0.0.1\r\ns=-\r\n"
            "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6020 RTP/AVP 8\r\n",
            NULL);
  int ack = b_msg(p, 0, "ACK");
  ck_assert_uint_eq(peer_count(p, 0, "ACK"), acks + 1);
  ck_assert_ptr_nonnull(strstr(p->sent[ack].data, "m=audio 6020 RTP/AVP 8"));
  char *cseq = peer_header(p, (unsigned)ack, "CSeq"),
       *icseq = peer_header(p, (unsigned)re, "CSeq");
  ck_assert_int_eq(atoi(cseq), atoi(icseq));
  free(cseq);
  free(icseq);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* RFC 4028 on both legs with Cay as the refresher and UPDATE allowed by
 * neither side: each refresh is a re-INVITE offering again the SDP that
 * leg last got from Cay (A's offer to B, B's answer to A; after A's
 * change, A's new offer), never Cay's own, which would send the media to
 * Cay's address (RFC 3264 section 8: the same SDP, the same version,
 * changes nothing). The other leg hears nothing of it. */
START_TEST(bridge_4028_refresh_repeats_the_leg_s_sdp)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  invite_a(p, "service",
           "Supported: timer\r\nSession-Expires: 90;refresher=uas\r\n");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "200",
          "Contact: <sip:callee@127.0.0.1:5070>\r\nRequire: timer\r\n"
          "Session-Expires: 90;refresher=uac\r\n",
          peer_callee_sdp);
  int ok = peer_find_last(p, 200, NULL);
  peer_to_tag(p, (unsigned)ok, tag, sizeof tag);
  a_request(p, "ACK", "z9hG4bK-a-ack", "1", tag);
  char *b_sdp = cay__strdup(body_of(p, (unsigned)inv));
  ck_assert_ptr_nonnull(strstr(body_of(p, (unsigned)ok), "o=callee 1 1"));
  char *a_sdp = cay__strdup(body_of(p, (unsigned)ok));

  peer_clear(p);
  peer_advance(p, 45000);
  int to_b = b_msg(p, 0, "INVITE");
  int to_a = peer_find_request(p, "INVITE", "a-leg");
  ck_assert_int_ge(to_b, 0);
  ck_assert_int_ge(to_a, 0);
  ck_assert_str_eq(body_of(p, (unsigned)to_b), b_sdp);
  ck_assert_str_eq(body_of(p, (unsigned)to_a), a_sdp);
  respond(p, (unsigned)to_b, "200",
          "Require: timer\r\nSession-Expires: 90;refresher=uac\r\n",
          peer_callee_sdp);
  int ack = b_msg(p, 0, "ACK");
  ck_assert_int_ge(ack, 0);
  char *clen = peer_header(p, (unsigned)ack, "Content-Length");
  ck_assert_str_eq(clen, "0"); /* the 2xx held an answer */
  free(clen);
  ck_assert_int_eq(peer_find_request(p, "INVITE", "a-leg"), to_a);
  respond(p, (unsigned)to_a, "200",
          "Require: timer\r\nSession-Expires: 90;refresher=uas\r\n",
          "v=0\r\no=user1 53655765 2353687637 IN IP4 127.0.0.1\r\ns=-\r\n"
          "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6000 RTP/AVP 0\r\n");

  /* A changes the session; B's next refresh offers A's new SDP. */
  reinvite_a(p, "z9hG4bK-a-re", "2", tag,
             "v=0\r\no=user1 53655765 2353687638 IN IP4 127.0.0.1\r\ns=-\r\n"
             "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6010 RTP/AVP 0\r\n");
  int re = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)re, "200",
          "Require: timer\r\nSession-Expires: 90;refresher=uac\r\n",
          peer_callee_sdp);
  a_request(p, "ACK", "z9hG4bK-a-reack", "2", tag);
  peer_clear(p);
  peer_advance(p, 45000);
  to_b = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(to_b, 0);
  ck_assert_ptr_nonnull(strstr(body_of(p, (unsigned)to_b), "m=audio 6010"));
  cay__free(b_sdp);
  cay__free(a_sdp);
  peer_free(p);
}
END_TEST

/* A CANCELs its re-INVITE (RFC 3261 section 9.2) while B's copy rings:
 * B's copy is CANCELed too and A gets B's final response: 487 when the
 * CANCEL took effect, B's 200 (with its answer, which both sides then
 * have) when it crossed the CANCEL. */
START_TEST(bridge_9_2_cancel_of_a_reinvite_relayed)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];
  static const char *const b_says[] = { "487", "200" };

  bridged_call(p, tag, sizeof tag);
  for (int i = 0; i < 2; i++) {
    char branch[32], cseq[8], a_cseq[16];
    snprintf(branch, sizeof branch, "z9hG4bK-a-re%d", i);
    snprintf(cseq, sizeof cseq, "%d", i + 2);
    snprintf(a_cseq, sizeof a_cseq, "%d INVITE", i + 2);
    reinvite_a(p, branch, cseq, tag,
               "v=0\r\no=user1 53655765 2 IN IP4 127.0.0.1\r\ns=-\r\n"
               "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6010 RTP/AVP 8\r\n");
    int re = b_msg(p, 0, "INVITE");
    respond(p, (unsigned)re, "100", "", NULL);
    unsigned cancels = peer_count(p, 0, "CANCEL");
    a_request(p, "CANCEL", branch, cseq, tag);
    ck_assert_uint_eq(peer_count(p, 0, "CANCEL"), cancels + 1); /* to B */
    ck_assert_int_gt(b_msg(p, 0, "CANCEL"), re);
    ck_assert_int_lt(a_response(p, a_cseq), 0); /* A waits for B */
    respond(p, (unsigned)re, b_says[i], contact_b,
            i ? "v=0\r\no=callee 1 2 IN IP4 127.0.0.9\r\ns=-\r\n"
                "c=IN IP4 127.0.0.9\r\nt=0 0\r\nm=audio 7010 RTP/AVP 8\r\n"
              : NULL);
    unsigned r = a_final_is(p, a_cseq, atoi(b_says[i]));
    if (i)
      ck_assert_ptr_nonnull(strstr(p->sent[r].data, "m=audio 7010"));
    a_request(p, "ACK", i ? "z9hG4bK-a-reack" : branch, cseq, tag);
  }
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* B refuses A's re-INVITE with a challenge the route has no credentials
 * for, then with 503: A cannot answer B's challenge (a 401 to A would
 * also lack the WWW-Authenticate that section 20.44 requires) and B's
 * overload is not Cay's, so A gets 403 and 500 as for the first INVITE
 * (map_failure); the call stays up (RFC 5057: both are failures of the
 * transaction only). */
START_TEST(bridge_reinvite_failure_from_b_mapped_for_a)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];
  static const char *const b_says[] = { "401", "503" };
  static const int a_gets[] = { 403, 500 };

  bridged_call(p, tag, sizeof tag);
  for (int i = 0; i < 2; i++) {
    char branch[32], cseq[8];
    snprintf(branch, sizeof branch, "z9hG4bK-a-re%d", i);
    snprintf(cseq, sizeof cseq, "%d", i + 2);
    reinvite_a(p, branch, cseq, tag,
               "v=0\r\no=user1 53655765 2 IN IP4 127.0.0.1\r\ns=-\r\n"
               "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6010 RTP/AVP 8\r\n");
    int re = b_msg(p, 0, "INVITE");
    respond(p, (unsigned)re, b_says[i],
            "WWW-Authenticate: Digest realm=\"b\", nonce=\"n\"\r\n", NULL);
    ck_assert_int_eq(peer_last_status(p), a_gets[i]);
    ck_assert_int_lt(peer_find_last(p, atoi(b_says[i]), NULL), 0);
    peer_send(p, "request.sip", "method", "ACK", "branch", branch, "fromtag",
              "ft1", "callid", "a-leg", "cseq", cseq, "totag", tag, "maxfwd",
              "70", "extra", "", NULL);
  }
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* RFC 6086 through the bridge: A's INFO goes to B with its body, and A
 * gets B's final response (a challenge the route cannot answer mapped to
 * 403, as for the first INVITE); B's empty INFO goes to A, and B gets
 * A's answer. */
START_TEST(bridge_6086_info_relayed_with_its_answer)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  int inv = b_msg(p, 0, "INVITE");
  a_info(p, "z9hG4bK-a-in", "2", tag);
  int info = b_msg(p, 0, "INFO");
  ck_assert_int_ge(info, 0);
  peer_header_is(p, (unsigned)info, "Content-Type", "application/dtmf-relay");
  ck_assert_ptr_nonnull(strstr(p->sent[info].data, "Signal=5"));
  ck_assert_int_lt(a_response(p, "2 INFO"), 0); /* waits for B */
  respond(p, (unsigned)info, "200", "", NULL);
  a_final_is(p, "2 INFO", 200);

  a_info(p, "z9hG4bK-a-in2", "3", tag);
  info = b_msg(p, 0, "INFO");
  respond(p, (unsigned)info, "401",
          "WWW-Authenticate: Digest realm=\"b\", nonce=\"n\"\r\n", NULL);
  a_final_is(p, "3 INFO", 403);

  b_request(p, (unsigned)inv, "INFO", 2);
  int to_a = peer_find_request(p, "INFO", "a-leg");
  ck_assert_int_ge(to_a, 0);
  peer_header_is(p, (unsigned)to_a, "Content-Length", "0");
  ck_assert_int_lt(b_msg(p, 200, NULL), to_a); /* B waits for A */
  respond(p, (unsigned)to_a, "488", "", NULL);
  int b_ok = b_msg(p, 488, NULL);
  ck_assert_int_gt(b_ok, to_a);
  peer_header_is(p, (unsigned)b_ok, "CSeq", "2 INFO");
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* RFC 6086 section 4.2.1 in early dialogs: B rings (180 with its tag and
 * a Contact of its own), A's INFO goes to B in the B leg's early dialog
 * (B's tag, to B's Contact) and A gets B's answer; B's INFO goes to A in
 * A's early dialog, and B gets A's answer. Then B answers as usual. A
 * REFER is not relayed before the answer (500, RFC 5057;
 * test_bridge_early.c has more). */
START_TEST(bridge_6086_info_relayed_in_early_dialogs)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  respond(p, (unsigned)inv, "180", "Contact: <sip:callee@127.0.0.9:5070>\r\n",
          NULL);
  int ringing = peer_find_last(p, 180, NULL);
  ck_assert_int_ge(ringing, 0);
  peer_to_tag(p, (unsigned)ringing, tag, sizeof tag);

  a_info(p, "z9hG4bK-a-ein", "2", tag);
  int info = b_msg(p, 0, "INFO");
  ck_assert_int_ge(info, 0);
  ck_assert_int_eq(
      strncmp(p->sent[info].data, "INFO sip:callee@127.0.0.9:5070 ", 31), 0);
  char *to = peer_header(p, (unsigned)info, "To");
  ck_assert_ptr_nonnull(strstr(to, ";tag=b1")); /* B's early dialog */
  free(to);
  ck_assert_ptr_nonnull(strstr(p->sent[info].data, "Signal=5"));
  ck_assert_int_lt(a_response(p, "2 INFO"), 0); /* waits for B */
  respond(p, (unsigned)info, "200", "", NULL);
  a_final_is(p, "2 INFO", 200);

  b_request(p, (unsigned)inv, "INFO", 2);
  int to_a = peer_find_request(p, "INFO", "a-leg");
  ck_assert_int_ge(to_a, 0);
  char *from = peer_header(p, (unsigned)to_a, "From");
  ck_assert_ptr_nonnull(strstr(from, tag)); /* A's early dialog */
  free(from);
  respond(p, (unsigned)to_a, "200", "", NULL);
  int b_ok = b_msg(p, 200, NULL);
  ck_assert_int_gt(b_ok, to_a);
  peer_header_is(p, (unsigned)b_ok, "CSeq", "2 INFO");

  a_request(p, "REFER", "z9hG4bK-a-eref", "3", tag);
  a_final_is(p, "3 REFER", 500);
  ck_assert_int_lt(b_msg(p, 0, "REFER"), 0);

  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp);
  a_final_is(p, "1 INVITE", 200);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* B hangs up while A's INFO waits for B's answer: A gets BYE, and its
 * INFO 487 (RFC 3261 section 15.1.2); nothing is left behind. */
START_TEST(bridge_6086_info_pending_when_b_hangs_up_487)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  int inv = b_msg(p, 0, "INVITE");
  a_info(p, "z9hG4bK-a-in", "2", tag);
  ck_assert_int_ge(b_msg(p, 0, "INFO"), 0);
  b_request(p, (unsigned)inv, "BYE", 2);
  int bye = peer_find_request(p, "BYE", "a-leg");
  ck_assert_int_ge(bye, 0);
  a_final_is(p, "2 INFO", 487);
  respond(p, (unsigned)bye, "200", "", NULL);
  call_gone(p);
  peer_free(p);
}
END_TEST

/* A re-INVITE's offer is filtered like the first one; an offer with none
 * of the route's codecs gets 488 and never reaches B (RFC 3261 14.2). */
START_TEST(bridge_reinvite_offer_filtered_none_left_488)
{
  cay_config_t cfg = bridge_config(-1, 60, "PCMA");
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  reinvite_a(p, "z9hG4bK-a-re", "2", tag,
             "v=0\r\no=user1 53655765 2 IN IP4 127.0.0.1\r\ns=-\r\n"
             "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6010 RTP/AVP 0 8\r\n"
             "a=rtpmap:0 PCMU/8000\r\na=rtpmap:8 PCMA/8000\r\n");
  int re = b_msg(p, 0, "INVITE");
  ck_assert_ptr_nonnull(strstr(p->sent[re].data, "m=audio 6010 RTP/AVP 8\r\n"));
  ck_assert_ptr_null(strstr(p->sent[re].data, "PCMU"));
  respond(p, (unsigned)re, "200", contact_b,
          "v=0\r\no=callee 1 2 IN IP4 127.0.0.9\r\ns=-\r\n"
          "c=IN IP4 127.0.0.9\r\nt=0 0\r\nm=audio 7010 RTP/AVP 8\r\n");
  a_request(p, "ACK", "z9hG4bK-a-reack", "2", tag);
  unsigned invites = peer_count(p, 0, "INVITE");
  reinvite_a(p, "z9hG4bK-a-re2", "3", tag,
             "v=0\r\no=user1 53655765 3 IN IP4 127.0.0.1\r\ns=-\r\n"
             "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio 6020 RTP/AVP 0\r\n");
  ck_assert_int_eq(peer_last_status(p), 488);
  ck_assert_uint_eq(peer_count(p, 0, "INVITE"), invites);
  peer_free(p);
}
END_TEST

/* A's REFER @p cseq in its dialog (A's To tag @p tag) with the header
 * lines @p extra (its Refer-To, ...): the index of Cay's copy to B. */
static int
a_refer(peer_t *p, const char *tag, unsigned cseq, const char *extra)
{
  char cs[16], branch[32];

  snprintf(cs, sizeof cs, "%u", cseq);
  snprintf(branch, sizeof branch, "z9hG4bK-a-ref%u", cseq);
  peer_send(p, "request.sip", "method", "REFER", "branch", branch, "fromtag",
            "ft1", "callid", "a-leg", "cseq", cs, "totag", tag, "maxfwd", "70",
            "extra", extra, NULL);
  int refer = b_msg(p, 0, "REFER");
  ck_assert_int_ge(refer, 0);
  return refer;
}

/* RFC 3515 through the bridge (a blind transfer): A's REFER goes to B
 * with its Refer-To and Referred-By, and A gets B's 202; B's NOTIFYs
 * about it go to A with their sipfrag and Event id naming A's REFER
 * (section 2.4.6: A's CSeq 7, not the copy's), and B gets A's answer. A
 * NOTIFY naming no REFER Cay relayed keeps its id; a refused REFER gets
 * B's refusal. */
START_TEST(bridge_3515_refer_and_its_notifys_relayed)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], *v;

  bridged_call(p, tag, sizeof tag);
  int inv = b_msg(p, 0, "INVITE");
  int refer = a_refer(p, tag, 7,
                      "Refer-To: <sip:carol@example.com>\r\n"
                      "Referred-By: <sip:alice@example.com>\r\n");
  peer_header_is(p, (unsigned)refer, "Refer-To", "<sip:carol@example.com>");
  peer_header_is(p, (unsigned)refer, "Referred-By", "<sip:alice@example.com>");
  char *cseq = peer_header(p, (unsigned)refer, "CSeq");
  unsigned copy = (unsigned)atoi(cseq);
  free(cseq);
  ck_assert_uint_ne(copy, 7);
  ck_assert_int_lt(a_response(p, "7 REFER"), 0); /* waits for B */
  respond(p, (unsigned)refer, "202", "", NULL);
  a_final_is(p, "7 REFER", 202);

  char ev[128];
  snprintf(ev, sizeof ev,
           "Event: refer;id=%u\r\nSubscription-State: active;expires=60\r\n",
           copy);
  b_request_with(p, (unsigned)inv, "NOTIFY", 2, ev, "message/sipfrag",
                 "SIP/2.0 100 Trying\r\n");
  int to_a = peer_find_request(p, "NOTIFY", "a-leg");
  ck_assert_int_ge(to_a, 0);
  v = peer_header(p, (unsigned)to_a, "Event");
  ck_assert_str_eq(v, "refer;id=7");
  free(v);
  v = peer_header(p, (unsigned)to_a, "Subscription-State");
  ck_assert_str_eq(v, "active;expires=60");
  free(v);
  peer_header_is(p, (unsigned)to_a, "Content-Type", "message/sipfrag");
  ck_assert_str_eq(body_of(p, (unsigned)to_a), "SIP/2.0 100 Trying\r\n");
  respond(p, (unsigned)to_a, "200", "", NULL);
  int b_ok = b_msg(p, 200, NULL);
  peer_header_is(p, (unsigned)b_ok, "CSeq", "2 NOTIFY");

  b_request_with(p, (unsigned)inv, "NOTIFY", 3,
                 "Event: refer;id=99\r\n"
                 "Subscription-State: terminated;reason=noresource\r\n",
                 "message/sipfrag", "SIP/2.0 200 OK\r\n");
  to_a = peer_find_request(p, "NOTIFY", "a-leg");
  v = peer_header(p, (unsigned)to_a, "Event");
  ck_assert_str_eq(v, "refer;id=99");
  free(v);
  respond(p, (unsigned)to_a, "200", "", NULL);

  refer = a_refer(p, tag, 8, "Refer-To: <sip:dave@example.com>\r\n");
  respond(p, (unsigned)refer, "603", "", NULL);
  a_final_is(p, "8 REFER", 603);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* RFC 4488 section 4 through the bridge: A's REFER with Refer-Sub: false
 * reaches B with it, and B's 202 with Refer-Sub: false (no subscription,
 * so no NOTIFY will come) reaches A with it; a 202 without it reaches A
 * without it. A REFER requiring norefersub reaches B with that Require,
 * and B's 420 reaches A as 420 with B's Unsupported. */
START_TEST(bridge_4488_refer_sub_and_norefersub_relayed)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], *v;

  bridged_call(p, tag, sizeof tag);
  int refer = a_refer(p, tag, 7,
                      "Refer-To: <sip:carol@example.com>\r\n"
                      "Refer-Sub: false\r\n");
  peer_header_is(p, (unsigned)refer, "Refer-Sub", "false");
  ck_assert_ptr_null(peer_header(p, (unsigned)refer, "Require"));
  respond(p, (unsigned)refer, "202", "Refer-Sub: false\r\n", NULL);
  a_final_is(p, "7 REFER", 202);
  peer_header_is(p, (unsigned)a_response(p, "7 REFER"), "Refer-Sub", "false");

  refer = a_refer(p, tag, 8,
                  "Refer-To: <sip:carol@example.com>\r\n"
                  "Refer-Sub: false\r\n");
  respond(p, (unsigned)refer, "202", "", NULL);
  a_final_is(p, "8 REFER", 202);
  ck_assert_ptr_null(
      peer_header(p, (unsigned)a_response(p, "8 REFER"), "Refer-Sub"));

  refer = a_refer(p, tag, 9,
                  "Refer-To: <sip:carol@example.com>\r\n"
                  "Refer-Sub: false\r\n"
                  "Require: norefersub\r\n");
  peer_header_is(p, (unsigned)refer, "Require", "norefersub");
  respond(p, (unsigned)refer, "420", "Unsupported: norefersub\r\n", NULL);
  a_final_is(p, "9 REFER", 420);
  v = peer_header(p, (unsigned)a_response(p, "9 REFER"), "Unsupported");
  ck_assert_str_eq(v, "norefersub");
  free(v);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* A's REFER @p cseq (Refer-To carol) relayed to B and accepted with 202:
 * the CSeq of Cay's copy. */
static unsigned
refer_accepted(peer_t *p, const char *tag, unsigned cseq)
{
  int refer = a_refer(p, tag, cseq, "Refer-To: <sip:carol@example.com>\r\n");
  char *v;
  unsigned copy;

  v = peer_header(p, (unsigned)refer, "CSeq");
  copy = (unsigned)atoi(v);
  free(v);
  respond(p, (unsigned)refer, "202", "", NULL);
  return copy;
}

/* B's NOTIFY (CSeq @p cseq) about REFER copy @p copy: the Event header A
 * gets (to be freed). */
static char *
notify_event_at_a(peer_t *p, unsigned inv, unsigned cseq, unsigned copy)
{
  char ev[96];

  snprintf(ev, sizeof ev,
           "Event: refer;id=%u\r\nSubscription-State: active\r\n", copy);
  b_request_with(p, inv, "NOTIFY", cseq, ev, "message/sipfrag",
                 "SIP/2.0 100 Trying\r\n");
  int to_a = peer_find_request(p, "NOTIFY", "a-leg");
  ck_assert_int_ge(to_a, 0);
  char *v = peer_header(p, (unsigned)to_a, "Event");
  respond(p, (unsigned)to_a, "200", "", NULL);
  return v;
}

/* The bridge remembers the newest 4 REFERs of a call: a NOTIFY about an
 * older one keeps its id (bounded memory whatever a peer sends). */
START_TEST(bridge_3515_newest_4_refers_remembered)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], want[32], *v;
  unsigned copy[5];

  bridged_call(p, tag, sizeof tag);
  int inv = b_msg(p, 0, "INVITE");
  for (unsigned i = 0; i < 5; i++)
    copy[i] = refer_accepted(p, tag, 10 + i);
  v = notify_event_at_a(p, (unsigned)inv, 2, copy[0]);
  snprintf(want, sizeof want, "refer;id=%u", copy[0]);
  ck_assert_str_eq(v, want);
  free(v);
  v = notify_event_at_a(p, (unsigned)inv, 3, copy[1]);
  ck_assert_str_eq(v, "refer;id=11");
  free(v);
  v = notify_event_at_a(p, (unsigned)inv, 4, copy[4]);
  ck_assert_str_eq(v, "refer;id=14");
  free(v);
  peer_free(p);
}
END_TEST

/* A bridged leg allows REFER and NOTIFY, which the bridge relays: the
 * Allow of A's 200, of B's INVITE and of the answer to an OPTIONS in
 * either dialog says so (RFC 3261 section 20.5), so that a UA that
 * offers transfers only to peers allowing REFER offers them. */
START_TEST(bridge_allow_lists_refer_and_notify)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], *v;

  bridged_call(p, tag, sizeof tag);
  int inv = b_msg(p, 0, "INVITE");
  int ok = a_response(p, "1 INVITE");
  ck_assert_int_ge(ok, 0);
  const int at[] = { inv, ok };
  for (unsigned i = 0; i < 2; i++) {
    v = peer_header(p, (unsigned)at[i], "Allow");
    ck_assert_ptr_nonnull(strstr(v, "REFER, NOTIFY"));
    ck_assert_ptr_nonnull(strstr(v, "INFO"));
    free(v);
  }
  a_request(p, "OPTIONS", "z9hG4bK-a-opt", "2", tag);
  ok = a_response(p, "2 OPTIONS");
  ck_assert_int_ge(ok, 0);
  v = peer_header(p, (unsigned)ok, "Allow");
  ck_assert_ptr_nonnull(strstr(v, "REFER, NOTIFY"));
  free(v);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("b2bua_bridge_dialog");
  TCase *tc = tcase_create("bridge_dialog");

  tcase_add_test(tc, bridge_14_reinvite_from_a_relayed_and_answer_back);
  tcase_add_test(tc, bridge_14_reinvite_without_offer_relayed_both_ways);
  tcase_add_test(tc, bridge_4028_refresh_repeats_the_leg_s_sdp);
  tcase_add_test(tc, bridge_9_2_cancel_of_a_reinvite_relayed);
  tcase_add_test(tc, bridge_reinvite_failure_from_b_mapped_for_a);
  tcase_add_test(tc, bridge_6086_info_relayed_with_its_answer);
  tcase_add_test(tc, bridge_6086_info_relayed_in_early_dialogs);
  tcase_add_test(tc, bridge_6086_info_pending_when_b_hangs_up_487);
  tcase_add_test(tc, bridge_3515_refer_and_its_notifys_relayed);
  tcase_add_test(tc, bridge_3515_newest_4_refers_remembered);
  tcase_add_test(tc, bridge_4488_refer_sub_and_norefersub_relayed);
  tcase_add_test(tc, bridge_allow_lists_refer_and_notify);
  tcase_add_test(tc, bridge_reinvite_offer_filtered_none_left_488);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
