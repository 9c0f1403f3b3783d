/*
 * RFC 3891 in the B2BUA bridge, on a virtual clock: an INVITE whose
 * Replaces names a leg of a bridged call takes that leg's place (the end
 * of an attended transfer through Cay), or is refused as section 3 says.
 * support/bridge_call.h explains the fixture: A ("a-leg", From tag ft1)
 * calls through Cay to B (To tag b1); the new caller C uses Call-ID
 * "c-leg" and From tag ct1.
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/session_int.h"
#include "support/bridge_call.h"
#include "support/peer.h"
#include "support/run.h"

#define T1 500 /* ms, RFC 3261 section 17.1.1.1 */

static const char c_offer[] = "v=0\r\n"
                              "o=carol 7 7 IN IP4 127.0.0.3\r\n"
                              "s=-\r\n"
                              "c=IN IP4 127.0.0.3\r\n"
                              "t=0 0\r\n"
                              "m=audio 6100 RTP/AVP 0\r\n";

static const char b_answer2[] = "v=0\r\n"
                                "o=callee 1 2 IN IP4 127.0.0.9\r\n"
                                "s=-\r\n"
                                "c=IN IP4 127.0.0.9\r\n"
                                "t=0 0\r\n"
                                "m=audio 7010 RTP/AVP 0\r\n";

static const char b_offer_pcma[] = "v=0\r\n"
                                   "o=callee 1 2 IN IP4 127.0.0.9\r\n"
                                   "s=-\r\n"
                                   "c=IN IP4 127.0.0.9\r\n"
                                   "t=0 0\r\n"
                                   "m=audio 7010 RTP/AVP 8\r\n";

static const char cancel_c[]
    = "CANCEL sip:nobody@127.0.0.1:5060 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-c-inv;rport\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:carol@127.0.0.1:5070>;tag=ct1\r\n"
      "To: <sip:nobody@127.0.0.1:5060>\r\nCall-ID: c-leg\r\n"
      "CSeq: 1 CANCEL\r\nContent-Length: 0\r\n\r\n";

/* Index of the last message Cay sent with Call-ID @p cid and status
 * @p status (a request @p method when 0), or -1. */
static int
last_for(peer_t *p, const char *cid, int status, const char *method)
{
  for (int i = (int)p->nsent - 1; i >= 0; i--) {
    char *c = peer_header(p, (unsigned)i, "Call-ID");
    int hit = strcmp(c, cid) == 0
              && (status ? peer_status(p, (unsigned)i) == status
                         : strcmp(peer_method(p, (unsigned)i), method) == 0);
    free(c);
    if (hit)
      return i;
  }
  return -1;
}

/* Cay's last BYE with Call-ID @p cid, answered 200. */
static void
answer_bye(peer_t *p, const char *cid)
{
  int bye = last_for(p, cid, 0, "BYE");

  ck_assert_int_ge(bye, 0);
  respond(p, (unsigned)bye, "200", "", NULL);
}

/* C's INVITE (to a user no route matches, top Via branch @p branch)
 * with Replaces @p replaces, the header lines @p extra and, when
 * @p offer, c_offer. invite_c(): branch z9hG4bK-c-inv. */
static void
invite_c_on(peer_t *p, const char *branch, const char *replaces,
            const char *extra, int offer)
{
  char buf[2048];
  int n = snprintf(
      buf, sizeof buf,
      "INVITE sip:nobody@127.0.0.1:5060 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=%s;rport\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:carol@127.0.0.1:5070>;tag=ct1\r\n"
      "To: <sip:nobody@127.0.0.1:5060>\r\nCall-ID: c-leg\r\n"
      "CSeq: 1 INVITE\r\nContact: <sip:carol@127.0.0.1:5070>\r\n"
      "Replaces: %s\r\n%s%sContent-Length: %zu\r\n\r\n%s",
      branch, replaces, extra, offer ? "Content-Type: application/sdp\r\n" : "",
      offer ? strlen(c_offer) : 0, offer ? c_offer : "");
  ck_assert_int_lt(n, (int)sizeof buf);
  peer_send_raw(p, buf, (size_t)n);
}

static void
invite_c(peer_t *p, const char *replaces, const char *extra, int offer)
{
  invite_c_on(p, "z9hG4bK-c-inv", replaces, extra, offer);
}

/* C's ACK for Cay's 200 (message @p ok), with @p sdp when set. */
static void
ack_c(peer_t *p, unsigned ok, const char *sdp)
{
  char tag[64], buf[2048];
  int n;

  peer_to_tag(p, ok, tag, sizeof tag);
  n = snprintf(
      buf, sizeof buf,
      "ACK sip:cay@127.0.0.1:5060 SIP/2.0\r\n"
      "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-c-ack\r\n"
      "Max-Forwards: 70\r\nFrom: <sip:carol@127.0.0.1:5070>;tag=ct1\r\n"
      "To: <sip:nobody@127.0.0.1:5060>%s\r\nCall-ID: c-leg\r\n"
      "CSeq: 1 ACK\r\n%sContent-Length: %zu\r\n\r\n%s",
      tag, sdp ? "Content-Type: application/sdp\r\n" : "",
      sdp ? strlen(sdp) : 0, sdp ? sdp : "");
  ck_assert_int_lt(n, (int)sizeof buf);
  peer_send_raw(p, buf, (size_t)n);
}

/* The bridged call of every test: A's To tag in @p a_tag (";tag=..."), the
 * index of Cay's INVITE to B returned and B's Call-ID in @p b_cid. */
static unsigned
call_up(peer_t *p, char *a_tag, size_t n, char *b_cid, size_t m)
{
  bridged_call(p, a_tag, n);
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  char *cid = peer_header(p, (unsigned)inv, "Call-ID");
  snprintf(b_cid, m, "%s", cid);
  free(cid);
  return (unsigned)inv;
}

/* The Replaces header value naming A's leg, whose To tag is @p a_tag
 * (";tag=..."): to-tag Cay's, from-tag A's (RFC 3891 section 6.1). */
static void
names_a_leg(char *rp, size_t n, const char *a_tag)
{
  int len = snprintf(rp, n, "a-leg;to-tag=%s;from-tag=ft1", a_tag + 5);
  ck_assert_int_lt(len, (int)n);
}

/* The bridged call, then C's INVITE (with c_offer when @p offer) naming
 * A's leg: A's To tag in @p a_tag, B's Call-ID in @p b_cid; returns the
 * index of Cay's re-INVITE to B it caused. */
static int
join_a_leg(peer_t *p, char *a_tag, size_t n, char *b_cid, size_t m, int offer)
{
  char rp[256];
  int re;

  call_up(p, a_tag, n, b_cid, m);
  names_a_leg(rp, sizeof rp, a_tag);
  invite_c(p, rp, "", offer);
  re = last_for(p, b_cid, 0, "INVITE");
  ck_assert_int_ge(re, 0);
  return re;
}

/* Section 3: C's INVITE names A's leg (to-tag: Cay's tag, from-tag: A's).
 * B is offered C's media in a re-INVITE; its answer is C's 200, A gets
 * BYE, and the call is C's with B from then: B's BYE reaches C. The
 * routes are not asked (no route matches C's Request-URI), and Require:
 * replaces is no 420 (section 6.2). */
START_TEST(bridge_3891_replaces_a_leg)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], bcid[128], rp[256];
  unsigned inv = call_up(p, tag, sizeof tag, bcid, sizeof bcid);
  int re, ok;

  names_a_leg(rp, sizeof rp, tag);
  invite_c(p, rp, "Require: replaces\r\n", 1);
  re = last_for(p, bcid, 0, "INVITE");
  ck_assert_int_gt(re, (int)inv);
  ck_assert_ptr_nonnull(strstr(p->sent[re].data, "m=audio 6100"));
  ck_assert_int_eq(last_for(p, "c-leg", 200, NULL), -1);
  ck_assert_int_eq(last_for(p, "a-leg", 0, "BYE"), -1);
  respond(p, (unsigned)re, "200", contact_b, b_answer2);
  ok = last_for(p, "c-leg", 200, NULL);
  ck_assert_int_ge(ok, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "m=audio 7010"));
  answer_bye(p, "a-leg");
  ack_c(p, (unsigned)ok, NULL);
  peer_advance(p, 64 * T1); /* C's ACK took: no BYE for a missing one */
  ck_assert_int_eq(last_for(p, "c-leg", 0, "BYE"), -1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  ck_assert_uint_eq(p->ss.bridges, 1);
  b_request(p, inv, "BYE", 9);
  answer_bye(p, "c-leg");
  call_gone(p);
  peer_free(p);
}
END_TEST

/* The Replaces names B's leg (Cay's From tag to B, B's tag b1): A is
 * offered C's media, C gets A's answer, B gets BYE; A's BYE then reaches
 * C. */
START_TEST(bridge_3891_replaces_b_leg)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], bcid[128], rp[384], btag[64];
  unsigned inv = call_up(p, tag, sizeof tag, bcid, sizeof bcid);
  char *from = peer_header(p, inv, "From");
  int re, ok;

  ck_assert_ptr_nonnull(strstr(from, "tag="));
  snprintf(btag, sizeof btag, "%s", strstr(from, "tag=") + 4);
  free(from);
  snprintf(rp, sizeof rp, "%s;from-tag=b1;to-tag=%s", bcid, btag);
  invite_c(p, rp, "", 1);
  re = last_for(p, "a-leg", 0, "INVITE");
  ck_assert_int_ge(re, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[re].data, "m=audio 6100"));
  respond(p, (unsigned)re, "200", "", b_answer2);
  ok = last_for(p, "c-leg", 200, NULL);
  ck_assert_int_ge(ok, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "m=audio 7010"));
  answer_bye(p, bcid);
  ack_c(p, (unsigned)ok, NULL);
  a_request(p, "BYE", "z9hG4bK-a-bye", "2", tag);
  answer_bye(p, "c-leg");
  call_gone(p);
  peer_free(p);
}
END_TEST

/* C's INVITE has no offer (RFC 3261 section 13.2.1): B's re-INVITE has
 * none either, B's offer (its 2xx) goes to C in C's 200, and C's answer
 * (its ACK) to B in B's ACK, which waits for it. */
START_TEST(bridge_3891_join_without_offer)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], bcid[128];
  int re, ok, ack;

  re = join_a_leg(p, tag, sizeof tag, bcid, sizeof bcid, 0);
  peer_header_is(p, (unsigned)re, "Content-Length", "0");
  ack = last_for(p, bcid, 0, "ACK");
  respond(p, (unsigned)re, "200", contact_b, b_offer_pcmu_pcma);
  ck_assert_int_eq(last_for(p, bcid, 0, "ACK"), ack); /* B's waits */
  ok = last_for(p, "c-leg", 200, NULL);
  ck_assert_int_ge(ok, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "m=audio 7000"));
  ack_c(p, (unsigned)ok, c_offer);
  ack = last_for(p, bcid, 0, "ACK");
  ck_assert_ptr_nonnull(strstr(p->sent[ack].data, "m=audio 6100"));
  peer_free(p);
}
END_TEST

/* C's INVITE has no offer and B's offer (its 2xx) has none of the route's
 * codecs (PCMU only): C gets 488, and B's ACK carries Cay's own answer
 * with nothing offered after it, so B keeps A's media (RFC 3261 section
 * 13.2.1: the 2xx's offer is answered in the ACK); A keeps its call. */
START_TEST(bridge_3891_join_without_offer_no_codec_488)
{
  cay_config_t cfg = bridge_config(-1, 60, "PCMU");
  peer_t *p = peer_new(&cfg);
  char tag[64], bcid[128];
  int re, ack;

  re = join_a_leg(p, tag, sizeof tag, bcid, sizeof bcid, 0);
  respond(p, (unsigned)re, "200", contact_b, b_offer_pcma);
  ck_assert_int_ge(last_for(p, "c-leg", 488, NULL), 0);
  ack = last_for(p, bcid, 0, "ACK");
  ck_assert_int_gt(ack, re);
  ck_assert_ptr_nonnull(strstr(p->sent[ack].data, "m=audio"));
  ck_assert_int_eq(last_for(p, bcid, 0, "INVITE"), re);
  ck_assert_int_eq(last_for(p, "a-leg", 0, "BYE"), -1);
  ck_assert_uint_eq(p->ss.bridges, 1);
  peer_free(p);
}
END_TEST

/* B refuses the re-INVITE: C gets the failure (as for a first INVITE),
 * A keeps its call; nothing is left once A hangs up. */
START_TEST(bridge_3891_refused_by_the_other_leg_old_leg_stays)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], bcid[128];
  int re;

  re = join_a_leg(p, tag, sizeof tag, bcid, sizeof bcid, 1);
  respond(p, (unsigned)re, "488", "", NULL);
  ck_assert_int_ge(last_for(p, "c-leg", 488, NULL), 0);
  ck_assert_int_eq(last_for(p, "a-leg", 0, "BYE"), -1);
  a_request(p, "BYE", "z9hG4bK-a-bye", "2", tag);
  answer_bye(p, bcid);
  peer_advance(p, 64 * T1);
  call_gone(p);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  peer_free(p);
}
END_TEST

/* C CANCELs before B answers: C gets 487; B's 2xx, which came too late,
 * is undone by offering B A's media again; A keeps its call. */
START_TEST(bridge_3891_cancel_before_the_answer_restores_the_other_leg)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], bcid[128];
  int re, again;

  re = join_a_leg(p, tag, sizeof tag, bcid, sizeof bcid, 1);
  peer_send_raw(p, cancel_c, strlen(cancel_c));
  ck_assert_int_ge(last_for(p, "c-leg", 487, NULL), 0);
  respond(p, (unsigned)re, "200", contact_b, b_answer2);
  again = last_for(p, bcid, 0, "INVITE");
  ck_assert_int_gt(again, re);
  ck_assert_ptr_nonnull(strstr(p->sent[again].data, "m=audio 6000"));
  ck_assert_int_eq(last_for(p, "a-leg", 0, "BYE"), -1);
  respond(p, (unsigned)again, "200", contact_b, peer_callee_sdp);
  ck_assert_uint_eq(p->ss.bridges, 1);
  peer_free(p);
}
END_TEST

/* A hangs up while C is joining: B gets BYE, C gets 480. */
START_TEST(bridge_3891_call_ends_while_joining_480)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], bcid[128], rp[256];

  call_up(p, tag, sizeof tag, bcid, sizeof bcid);
  names_a_leg(rp, sizeof rp, tag);
  invite_c(p, rp, "", 1);
  a_request(p, "BYE", "z9hG4bK-a-bye", "2", tag);
  ck_assert_int_ge(last_for(p, "c-leg", 480, NULL), 0);
  ck_assert_int_ge(last_for(p, bcid, 0, "BYE"), 0);
  peer_free(p);
}
END_TEST

/* Section 3's refusals: no such dialog 481; early-only naming a confirmed
 * dialog 486; a dialog that has ended 603. None touches the call. */
START_TEST(bridge_3891_refusals)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], bcid[128], rp[256];
  unsigned inv = call_up(p, tag, sizeof tag, bcid, sizeof bcid);

  invite_c(p, "a-leg;to-tag=nosuch;from-tag=ft1", "", 1);
  ck_assert_int_ge(last_for(p, "c-leg", 481, NULL), 0);
  snprintf(rp, sizeof rp, "a-leg;to-tag=%s;from-tag=ft1;early-only", tag + 5);
  invite_c_on(p, "z9hG4bK-c-inv2", rp, "", 1);
  ck_assert_int_ge(last_for(p, "c-leg", 486, NULL), 0);
  ck_assert_int_eq(last_for(p, bcid, 0, "INVITE"), (int)inv);
  peer_advance(p, 64 * T1); /* the refused INVITEs' transactions end */
  /* B hangs up; Cay's BYE to A is not answered yet: A's leg is ending. */
  b_request(p, inv, "BYE", 9);
  ck_assert_int_ge(last_for(p, "a-leg", 0, "BYE"), 0);
  names_a_leg(rp, sizeof rp, tag);
  invite_c_on(p, "z9hG4bK-c-inv3", rp, "", 1);
  ck_assert_int_ge(last_for(p, "c-leg", 603, NULL), 0);
  peer_free(p);
}
END_TEST

/* Only a leg of a bridge is replaced: Cay's own answering session (no
 * routes) is not, 403. */
START_TEST(bridge_3891_own_uas_session_not_replaced_403)
{
  cay_config_t cfg;
  peer_t *p;
  char tag[64], rp[256];
  int ok;

  cay_config_init(&cfg);
  p = peer_new(&cfg);
  invite_a(p, "service", "");
  peer_advance(p, 2000);
  ok = last_for(p, "a-leg", 200, NULL);
  ck_assert_int_ge(ok, 0);
  peer_to_tag(p, (unsigned)ok, tag, sizeof tag);
  a_request(p, "ACK", "z9hG4bK-a-ack", "1", tag);
  names_a_leg(rp, sizeof rp, tag);
  invite_c(p, rp, "", 1);
  ck_assert_int_ge(last_for(p, "c-leg", 403, NULL), 0);
  ck_assert_int_eq(last_for(p, "a-leg", 0, "BYE"), -1);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("b2bua_bridge_replace");
  TCase *tc = tcase_create("bridge_replace");

  tcase_add_test(tc, bridge_3891_replaces_a_leg);
  tcase_add_test(tc, bridge_3891_replaces_b_leg);
  tcase_add_test(tc, bridge_3891_join_without_offer);
  tcase_add_test(tc, bridge_3891_join_without_offer_no_codec_488);
  tcase_add_test(tc, bridge_3891_refused_by_the_other_leg_old_leg_stays);
  tcase_add_test(tc,
                 bridge_3891_cancel_before_the_answer_restores_the_other_leg);
  tcase_add_test(tc, bridge_3891_call_ends_while_joining_480);
  tcase_add_test(tc, bridge_3891_refusals);
  tcase_add_test(tc, bridge_3891_own_uas_session_not_replaced_403);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
