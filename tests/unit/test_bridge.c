/*
 * The B2BUA bridge on a virtual clock: routes (404, reject, forward, loop
 * 482), relaying (provisional, answer, failure mapping, CANCEL, BYE,
 * delayed offer), ring timeout, codec filtering, and a BYE racing the
 * max-duration timeout in both orders (OpenSIPS issue 3835). What happens
 * once the call is up (re-INVITE, UPDATE, INFO, refreshes):
 * test_bridge_dialog.c. support/bridge_call.h explains the fixture.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "dialog/session_int.h"
#include "support/bridge_call.h"
#include "support/peer.h"
#include "support/run.h"

#define T1 500

START_TEST(bridge_forward_relays_ringing_and_answer)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  /* The B leg: the target from the template, A's offer, one hop less
   * (RFC 3261 section 16.6 item 3), A's From with a new tag. */
  ck_assert_int_eq(
      strncmp(p->sent[inv].data, "INVITE sip:service@127.0.0.1:5070 ", 34), 0);
  peer_header_is(p, (unsigned)inv, "Max-Forwards", "69");
  ck_assert_ptr_nonnull(strstr(p->sent[inv].data, "o=user1 53655765"));
  char *from = peer_header(p, (unsigned)inv, "From");
  ck_assert_ptr_nonnull(strstr(from, "sip:sipp@127.0.0.1:5070"));
  ck_assert_ptr_null(strstr(from, "tag=ft1"));
  free(from);
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  ck_assert_int_eq(peer_count(p, 180, NULL), 1); /* to A */
  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp);
  ck_assert_int_ge(b_msg(p, 0, "ACK"), 0);
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_int_ge(ok, 0);
  /* A's 200 carries B's answer. */
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "o=callee 1 1"));
  peer_to_tag(p, (unsigned)ok, tag, sizeof tag);
  a_request(p, "ACK", "z9hG4bK-a-ack", "1", tag);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  ck_assert_uint_eq(p->ss.bridges, 1);
  /* A hangs up: B gets BYE; both end. */
  a_request(p, "BYE", "z9hG4bK-a-bye", "2", tag);
  int bye = b_msg(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  respond(p, (unsigned)bye, "200", "", NULL);
  call_gone(p);
  peer_free(p);
}
END_TEST

START_TEST(bridge_routes_no_match_404_and_reject)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "nobody", "");
  ck_assert_int_eq(peer_last_status(p), 404);
  peer_clear(p);
  peer_send(p, "invite_to.sip", "user", "busy", "host", "127.0.0.1:5060",
            "branch", "z9hG4bK-b2", "fromtag", "ft2", "callid", "busy-call",
            "codecs", "0", "extra", "", NULL);
  ck_assert_int_eq(peer_last_status(p), 486);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

START_TEST(bridge_9_cancel_from_a_cancels_b)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  a_request(p, "CANCEL", "z9hG4bK-a-inv", "1", "");
  ck_assert_int_eq(peer_count(p, 487, NULL), 1); /* A's INVITE */
  int cancel = b_msg(p, 0, "CANCEL");
  ck_assert_int_ge(cancel, 0);
  respond(p, (unsigned)cancel, "200", "", NULL);
  respond(p, (unsigned)inv, "487", "", NULL);
  call_gone(p);
  peer_free(p);
}
END_TEST

/* RFC 3326: when Cay BYEs B at once after B's 2xx, the BYE says why: A's
 * CANCEL crossed B's 200 (SIP 487), or B's 2xx had no answer to A's offer
 * (RFC 3261 section 13.2.1: SIP 488, and A gets 500). */
START_TEST(bridge_3326_bye_after_b_answered_says_why)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  a_request(p, "CANCEL", "z9hG4bK-a-inv", "1", "");
  respond(p, (unsigned)b_msg(p, 0, "CANCEL"), "200", "", NULL);
  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp); /* crossed */
  int bye = b_msg(p, 0, "BYE");
  ck_assert_int_gt(bye, b_msg(p, 0, "ACK"));
  peer_header_is(p, (unsigned)bye, "Reason",
                 "SIP;cause=487;text=\"the caller left first\"");
  respond(p, (unsigned)bye, "200", "", NULL);
  call_gone(p);
  peer_free(p);

  p = peer_new(&cfg);
  invite_a(p, "service", "");
  inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "200", contact_b, NULL); /* no SDP */
  a_final_is(p, "1 INVITE", 500);
  bye = b_msg(p, 0, "BYE");
  ck_assert_int_ge(bye, 0);
  peer_header_is(p, (unsigned)bye, "Reason",
                 "SIP;cause=488;text=\"no SDP answer in the 2xx\"");
  peer_free(p);
}
END_TEST

START_TEST(bridge_ring_timeout_cancels_b_and_480_to_a)
{
  cay_config_t cfg = bridge_config(-1, 2, NULL);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  peer_advance(p, 1999);
  ck_assert_int_lt(b_msg(p, 0, "CANCEL"), 0);
  peer_advance(p, 1);
  int cancel = b_msg(p, 0, "CANCEL");
  ck_assert_int_ge(cancel, 0);
  /* RFC 3326: the callee learns why (Q.850 19, no answer). */
  peer_header_is(p, (unsigned)cancel, "Reason",
                 "Q.850;cause=19;text=\"no answer\"");
  /* 9.1: one CANCEL (A's end re-entering the bridge sends no second). */
  ck_assert_uint_eq(peer_count(p, 0, "CANCEL"), 1);
  ck_assert_int_eq(peer_count(p, 480, NULL), 1);
  respond(p, (unsigned)inv, "487", "", NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

/* The route's no_response_timeout_ms: B never responds; after 3 s (not
 * timer B's 32 s) A gets 408 and the B leg ends, nothing left. */
START_TEST(bridge_no_response_timeout_408_to_a)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  cfg.routes[0].no_response_timeout_ms = 3000;
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  ck_assert_int_ge(b_msg(p, 0, "INVITE"), 0);
  peer_advance(p, 2999);
  ck_assert_uint_eq(peer_count(p, 408, NULL), 0);
  ck_assert_uint_eq(peer_count(p, 100, NULL), 1); /* A's, after 200 ms */
  peer_advance(p, 1);
  ck_assert_uint_eq(peer_count(p, 408, NULL), 1);
  ck_assert_uint_eq(peer_count(p, 0, "CANCEL"), 0); /* 9.1: no 1xx yet */
  peer_advance(p, 64 * T1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->ep.live_txns, 0);
  peer_free(p);
}
END_TEST

START_TEST(bridge_failures_mapped_486_kept_503_becomes_500)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  respond(p, (unsigned)b_msg(p, 0, "INVITE"), "486", "", NULL);
  ck_assert_int_eq(peer_count(p, 486, NULL), 1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_clear(p);
  peer_send(p, "invite_to.sip", "user", "service", "host", "127.0.0.1:5060",
            "branch", "z9hG4bK-2", "fromtag", "ft2", "callid", "a-leg2",
            "codecs", "0", "extra", "", NULL);
  int inv = -1;
  for (unsigned i = 0; i < p->nsent; i++)
    if (strcmp(peer_method(p, i), "INVITE") == 0)
      inv = (int)i;
  respond(p, (unsigned)inv, "503", "", NULL);
  /* RFC 3261 section 16.7 item 6: B's overload is not passed on. */
  ck_assert_int_eq(peer_count(p, 503, NULL), 0);
  ck_assert_int_eq(peer_count(p, 500, NULL), 1);
  peer_free(p);
}
END_TEST

/* The race of OpenSIPS issue 3835: A's BYE and the max-duration timeout on
 * the same loop. Whichever runs first wins; B gets exactly one BYE. */
START_TEST(bridge_race_bye_first_then_timeout)
{
  cay_config_t cfg = bridge_config(2, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  peer_advance(p, 1900);
  a_request(p, "BYE", "z9hG4bK-a-bye", "2", tag);
  peer_advance(p, 100); /* the timeout would have fired now */
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1); /* to B only */
  respond(p, (unsigned)b_msg(p, 0, "BYE"), "200", "", NULL);
  peer_advance(p, 5000);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  call_gone(p);
  peer_free(p);
}
END_TEST

START_TEST(bridge_race_timeout_first_then_bye)
{
  cay_config_t cfg = bridge_config(2, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  peer_advance(p, 2000);
  /* BYE to both legs. */
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 2);
  int b_bye = b_msg(p, 0, "BYE");
  ck_assert_int_ge(b_bye, 0);
  /* RFC 3326: both legs learn why (Q.850 102, recovery on timer expiry). */
  peer_header_is(p, (unsigned)b_bye, "Reason",
                 "Q.850;cause=102;text=\"max duration\"");
  peer_header_is(p, (unsigned)peer_find_request(p, "BYE", "a-leg"), "Reason",
                 "Q.850;cause=102;text=\"max duration\"");
  /* A's BYE crosses ours: answered 200, nothing more to B. */
  a_request(p, "BYE", "z9hG4bK-a-bye", "2", tag);
  ck_assert_int_eq(peer_last_status(p), 200);
  respond(p, (unsigned)b_bye, "200", "", NULL);
  /* A answers our BYE too (481: its dialog is gone). */
  for (unsigned i = 0; i < p->nsent; i++)
    if (strcmp(peer_method(p, i), "BYE") == 0 && (int)i != b_bye)
      respond(p, i, "481", "", NULL);
  peer_advance(p, 64 * T1);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 2);
  call_gone(p);
  peer_free(p);
}
END_TEST

/* RFC 6076 section 4.2.1: a bridged call's session request delay is
 * counted once, at the first response above 100 A gets (B's 180 after
 * 300 ms, not the 183 or the 200 after it; or a 200 without a
 * provisional); a call that fails first (486) is not counted. */
START_TEST(bridge_6076_session_request_delay)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  cay_stats_t *st = &p->ss.shard->stats;

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  peer_advance(p, 300);
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  peer_advance(p, 200);
  respond(p, (unsigned)inv, "183", contact_b, NULL);
  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp);
  ck_assert_uint_eq(st->srd_count, 1);
  ck_assert_uint_eq(st->srd_ms_sum, 300);
  ck_assert_uint_eq(st->srd_le_250ms, 0);
  ck_assert_uint_eq(st->srd_le_500ms, 1);
  ck_assert_uint_eq(st->srd_le_10s, 1);
  peer_free(p);

  p = peer_new(&cfg);
  st = &p->ss.shard->stats;
  invite_a(p, "service", "");
  peer_advance(p, 40);
  respond(p, (unsigned)b_msg(p, 0, "INVITE"), "200", contact_b,
          peer_callee_sdp);
  ck_assert_uint_eq(st->srd_count, 1);
  ck_assert_uint_eq(st->srd_ms_sum, 40);
  ck_assert_uint_eq(st->srd_le_50ms, 1);
  peer_free(p);

  p = peer_new(&cfg);
  st = &p->ss.shard->stats;
  invite_a(p, "service", "");
  respond(p, (unsigned)b_msg(p, 0, "INVITE"), "486", "", NULL);
  ck_assert_int_eq(peer_last_status(p), 486);
  ck_assert_uint_eq(st->srd_count, 0);
  peer_free(p);
}
END_TEST

START_TEST(bridge_16_3_loop_to_itself_482)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  /* The B leg Cay would send, arriving back at Cay: our Via, and a
   * Request-URI equal to the target. */
  peer_send(
      p, "invite_to.sip", "user", "service", "host", "127.0.0.1:5070", "branch",
      "z9hG4bK-loop\r\nVia: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bKx",
      "fromtag", "ft1", "callid", "loop", "codecs", "0", "extra", "", NULL);
  ck_assert_int_eq(peer_last_status(p), 482);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

START_TEST(bridge_codecs_filtered_in_b_offer)
{
  cay_config_t cfg = bridge_config(-1, 60, "PCMA");
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_ptr_nonnull(
      strstr(p->sent[inv].data, "m=audio 6000 RTP/AVP 8\r\n"));
  ck_assert_ptr_null(strstr(p->sent[inv].data, "PCMU"));
  ck_assert_ptr_nonnull(strstr(p->sent[inv].data, "a=rtpmap:8 PCMA/8000"));
  peer_free(p);
}
END_TEST

/* An offer without audio (video only) has none of the route's codecs:
 * 488, not 500 or 400 (RFC 3264 section 6), and nothing goes to B. */
START_TEST(bridge_codecs_video_only_offer_488)
{
  cay_config_t cfg = bridge_config(-1, 60, "PCMA");
  peer_t *p = peer_new(&cfg);

  peer_send(p, "request_body.sip", "method", "INVITE", "branch",
            "z9hG4bK-a-vid", "fromtag", "ft1", "callid", "a-leg", "cseq", "1",
            "totag", "", "extra", "", "ctype", "application/sdp", "body",
            "v=0\r\no=user1 1 1 IN IP4 127.0.0.1\r\ns=-\r\n"
            "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=video 6000 RTP/AVP 97\r\n"
            "a=rtpmap:97 H264/90000\r\n",
            NULL);
  int rej = peer_find_last(p, 488, NULL);
  ck_assert_int_ge(rej, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[rej].data, "No Common Codec"));
  ck_assert_int_lt(b_msg(p, 0, "INVITE"), 0);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

/* A calls without an offer (RFC 3261 section 13.2.1): Cay's INVITE to B
 * has none either. Returns its index in p->sent. */
static int
invite_a_no_offer(peer_t *p)
{
  peer_send(p, "invite_nosdp.sip", "branch", "z9hG4bK-a-inv", "fromtag", "ft1",
            "callid", "a-leg", NULL);
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  ck_assert_ptr_null(strstr(p->sent[inv].data, "m=audio"));
  return inv;
}

/* A's INVITE without SDP (RFC 3261 section 13.2.1): B's offer in its 2xx
 * is filtered by the route's codecs before it reaches A (RFC 3264 section
 * 5), and A's answer in its ACK goes to B in B's ACK. */
START_TEST(bridge_delayed_offer_codecs_filtered_in_b_2xx_offer)
{
  cay_config_t cfg = bridge_config(-1, 60, "PCMA");
  peer_t *p = peer_new(&cfg);

  int inv = invite_a_no_offer(p);
  respond(p, (unsigned)inv, "200", contact_b, b_offer_pcmu_pcma);
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_int_ge(ok, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "m=audio 7000 RTP/AVP 8\r\n"));
  ck_assert_ptr_nonnull(strstr(p->sent[ok].data, "a=rtpmap:8 PCMA/8000"));
  ck_assert_ptr_null(strstr(p->sent[ok].data, "PCMU"));
  ck_assert_int_lt(b_msg(p, 0, "ACK"), 0); /* B's ACK waits for A's */
  char tag[64];
  peer_to_tag(p, (unsigned)ok, tag, sizeof tag);
  peer_send(p, "ack_answer.sip", "branch", "z9hG4bK-a-ack", "fromtag", "ft1",
            "callid", "a-leg", "totag", tag, NULL);
  int ack = b_msg(p, 0, "ACK");
  ck_assert_int_ge(ack, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[ack].data, "m=audio 6000 RTP/AVP 0"));
  peer_free(p);
}
END_TEST

/* B's 2xx offer has none of the route's codecs: A gets 488, B's 2xx is
 * ACKed without an answer and the call ended with BYE (13.2.2.4). */
START_TEST(bridge_delayed_offer_no_route_codec_488_to_a_bye_to_b)
{
  cay_config_t cfg = bridge_config(-1, 60, "G729");
  peer_t *p = peer_new(&cfg);

  int inv = invite_a_no_offer(p);
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  respond(p, (unsigned)inv, "200", contact_b, b_offer_pcmu_pcma);
  int rej = peer_find_last(p, 488, NULL);
  ck_assert_int_ge(rej, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[rej].data, "No Common Codec"));
  ck_assert_uint_eq(peer_count(p, 488, NULL), 1);
  ck_assert_uint_eq(peer_count(p, 200, NULL), 0); /* A was not answered */
  int ack = b_msg(p, 0, "ACK"), bye = b_msg(p, 0, "BYE");
  ck_assert_int_ge(ack, 0);
  ck_assert_int_gt(bye, ack);
  ck_assert_ptr_null(strstr(p->sent[ack].data, "m=audio"));
  respond(p, (unsigned)bye, "200", "", NULL);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  call_gone(p);
  peer_free(p);
}
END_TEST

/* Delayed offer: B's ACK waits for A's answer, but B hangs up first. Its
 * 2xx is still ACKed (13.2.2.4, with Cay's own answer) before the BYE is
 * answered, and A gets BYE. */
START_TEST(bridge_delayed_offer_b_bye_before_ack_still_acked)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  int inv = invite_a_no_offer(p);
  respond(p, (unsigned)inv, "200", contact_b, b_offer_pcmu_pcma);
  ck_assert_int_lt(b_msg(p, 0, "ACK"), 0); /* waits for A's ACK */
  b_request(p, (unsigned)inv, "BYE", 1);
  int ack = b_msg(p, 0, "ACK"), ok = b_msg(p, 200, NULL);
  ck_assert_int_ge(ack, 0);
  ck_assert_int_gt(ok, ack);
  ck_assert_ptr_nonnull(strstr(p->sent[ack].data, "m=audio")); /* an answer */
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);               /* to A */
  ck_assert_int_lt(b_msg(p, 0, "BYE"), 0);
  peer_free(p);
}
END_TEST

/* A hangs up; B's leg ends with BYE and 200. A 2xx that comes after that
 * still gets its ACK (13.2.2.4): from another fork (To tag b2) also a BYE
 * for the dialog it made; a copy of the 2xx the leg had, only the ACK
 * again (its dialog has ended). */
START_TEST(bridge_13_2_2_4_2xx_after_the_b_leg_ended_acked)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64], got[64];

  bridged_call(p, tag, sizeof tag);
  int inv = b_msg(p, 0, "INVITE");
  a_request(p, "BYE", "z9hG4bK-a-bye", "2", tag);
  respond(p, (unsigned)b_msg(p, 0, "BYE"), "200", "", NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(peer_count(p, 0, "ACK"), 1);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);

  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp); /* a copy */
  ck_assert_uint_eq(peer_count(p, 0, "ACK"), 2);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 1);
  peer_to_tag(p, (unsigned)b_msg(p, 0, "ACK"), got, sizeof got);
  ck_assert_str_eq(got, ";tag=b1");

  respond_as(p, (unsigned)inv, "b2", "200", contact_b,
             peer_callee_sdp); /* a fork */
  int ack = b_msg(p, 0, "ACK"), bye = b_msg(p, 0, "BYE");
  ck_assert_uint_eq(peer_count(p, 0, "ACK"), 3);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 2);
  ck_assert_int_gt(bye, ack);
  peer_to_tag(p, (unsigned)ack, got, sizeof got);
  ck_assert_str_eq(got, ";tag=b2");
  peer_to_tag(p, (unsigned)bye, got, sizeof got);
  ck_assert_str_eq(got, ";tag=b2");
  msg_destroy(peer_msg(p, (unsigned)ack)); /* both parse */
  msg_destroy(peer_msg(p, (unsigned)bye));
  respond(p, (unsigned)bye, "200", "", NULL);
  peer_advance(p, 64 * T1);
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 2);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

/* B's 2xx names a Contact no request can go to (port 0): the dialog keeps
 * the target the INVITE went to (12.1.2), so the ACK and later requests
 * still reach B and parse. */
START_TEST(bridge_b_2xx_unusable_contact_keeps_the_target)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "200", "Contact: <sip:callee@127.0.0.1:0>\r\n",
          peer_callee_sdp);
  int ack = b_msg(p, 0, "ACK");
  ck_assert_int_ge(ack, 0);
  msg_destroy(peer_msg(p, (unsigned)ack)); /* parses */
  ck_assert_int_eq(
      strncmp(p->sent[ack].data, "ACK sip:service@127.0.0.1:5070 SIP/2.0", 38),
      0);
  peer_free(p);
}
END_TEST

/* A's From of a scheme the B leg cannot take over (a urn: here; a
 * malformed one gets 400 before): B's From is the anonymous URI (8.1.1.3),
 * so B gets an INVITE it can parse. */
START_TEST(bridge_b_leg_from_is_anonymous_for_an_unusable_a_from)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  const char invite[]
      = "INVITE sip:service@127.0.0.1:5060 SIP/2.0\r\n"
        "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-a-inv\r\n"
        "Max-Forwards: 70\r\nFrom: <urn:service:sos>;tag=ft1\r\n"
        "To: <sip:service@127.0.0.1:5060>\r\nCall-ID: a-leg\r\n"
        "CSeq: 1 INVITE\r\nContact: <sip:caller@127.0.0.1:5070>\r\n"
        "Content-Length: 0\r\n\r\n";

  peer_send_raw(p, invite, sizeof invite - 1);
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  msg_destroy(peer_msg(p, (unsigned)inv)); /* parses */
  char *from = peer_header(p, (unsigned)inv, "From");
  ck_assert_ptr_nonnull(strstr(from, "<sip:anonymous@anonymous.invalid>;tag="));
  free(from);
  peer_free(p);
}
END_TEST

/* RFC 3261 section 20.10: a target whose user part holds a ';' (allowed
 * there, 19.1.1) goes in B's To in angle brackets; bare, the To header
 * would take ";x=1@..." for its own parameters and not parse (found by
 * test_bridge_random with another seed). */
START_TEST(bridge_b_leg_to_in_angle_brackets)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "serv;x=1", "");
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  ck_assert_int_eq(strncmp(p->sent[inv].data,
                           "INVITE sip:serv;x=1@127.0.0.1:5070 SIP/2.0", 42),
                   0);
  msg_destroy(peer_msg(p, (unsigned)inv)); /* parses */
  char *to = peer_header(p, (unsigned)inv, "To");
  ck_assert_str_eq(to, "<sip:serv;x=1@127.0.0.1:5070>");
  free(to);
  peer_free(p);
}
END_TEST

/* RFC 3261 section 17.2.1: the A leg's 100 Trying waits 200 ms for B, and
 * is not sent when B's 180 came first. */
START_TEST(bridge_17_2_1_trying_after_200ms_unless_b_rings)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  ck_assert_uint_eq(peer_count(p, 100, NULL), 0);
  peer_advance(p, 199);
  ck_assert_uint_eq(peer_count(p, 100, NULL), 0);
  peer_advance(p, 1);
  ck_assert_uint_eq(peer_count(p, 100, NULL), 1);
  peer_free(p);

  p = peer_new(&cfg);
  invite_a(p, "service", "");
  respond(p, (unsigned)b_msg(p, 0, "INVITE"), "180", contact_b, NULL);
  peer_advance(p, 1000);
  ck_assert_uint_eq(peer_count(p, 100, NULL), 0);
  ck_assert_uint_eq(peer_count(p, 180, NULL), 1); /* not repeated */
  peer_free(p);
}
END_TEST

/* DESIGN.md rule 2: the B leg lives on the A leg's shard, so its Call-ID
 * is chosen to hash there (every shard routes by Call-ID). */
START_TEST(bridge_b_leg_call_id_hashes_to_the_a_shard)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);

  p->ss.nshards = 4;
  for (unsigned shard = 0; shard < 4; shard++) {
    char cid[32];
    p->shard.index = shard; /* as if this were shard K of 4 */
    snprintf(cid, sizeof cid, "a-leg-%u", shard);
    peer_clear(p);
    peer_send(p, "invite_to.sip", "user", "service", "host", "127.0.0.1:5060",
              "branch", cid, "fromtag", "ft1", "callid", cid, "codecs", "0",
              "extra", "", NULL);
    int inv = b_msg(p, 0, "INVITE");
    ck_assert_int_ge(inv, 0);
    char *b_cid = peer_header(p, (unsigned)inv, "Call-ID");
    ck_assert_uint_eq(cay__callid_shard(b_cid, strlen(b_cid), 4), shard);
    free(b_cid);
  }
  p->shard.index = 0;
  peer_free(p);
}
END_TEST

/* A forward route with two failover targets (ports 5071, 5072). */
static cay_config_t
failover_config(unsigned no_response_ms)
{
  cay_config_t cfg = bridge_config(-1, 60, NULL);
  cay_route_t *r = &cfg.routes[0];

  snprintf(r->failover[0], sizeof r->failover[0],
           "sip:${ruri_user}@127.0.0.1:5071");
  snprintf(r->failover[1], sizeof r->failover[1],
           "sip:${ruri_user}@127.0.0.1:5072");
  r->n_failover = 2;
  r->no_response_timeout_ms = no_response_ms;
  return cfg;
}

/* The last INVITE Cay sent for a B leg: its index, after checking that
 * it went to @p target (its Request-URI) and, unless @p nth is 0, that
 * it is the @p nth INVITE sent (retransmissions count). */
static int
b_invite_to(peer_t *p, const char *target, unsigned nth)
{
  char line[128];
  int inv = b_msg(p, 0, "INVITE");

  ck_assert_int_ge(inv, 0);
  snprintf(line, sizeof line, "INVITE %s SIP/2.0\r\n", target);
  ck_assert_msg(strncmp(p->sent[inv].data, line, strlen(line)) == 0,
                "not to %s: %.60s", target, p->sent[inv].data);
  if (nth)
    ck_assert_uint_eq(peer_count(p, 0, "INVITE"), nth);
  return inv;
}

/* failover: B's 503 makes Cay call failover[0] (a new B leg, a new
 * Call-ID), A waiting; its 486 is not one to fail over on, so A gets it
 * and failover[1] is never called. */
START_TEST(bridge_failover_on_503_not_on_486)
{
  cay_config_t cfg = failover_config(0);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  int inv = b_invite_to(p, "sip:service@127.0.0.1:5070", 1);
  char *cid1 = peer_header(p, (unsigned)inv, "Call-ID");
  respond(p, (unsigned)inv, "503", "", NULL);
  ck_assert_int_lt(a_response(p, "1 INVITE"), 0); /* A waits */
  inv = b_invite_to(p, "sip:service@127.0.0.1:5071", 2);
  char *cid2 = peer_header(p, (unsigned)inv, "Call-ID");
  ck_assert_str_ne(cid1, cid2);
  ck_assert_ptr_nonnull(strstr(p->sent[inv].data, "m=audio"));
  respond(p, (unsigned)inv, "486", "", NULL);
  a_final_is(p, "1 INVITE", 486);
  ck_assert_uint_eq(peer_count(p, 0, "INVITE"), 2);
  ck_assert_uint_eq(p->ss.shard->stats.calls_out_failed, 2);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  free(cid1);
  free(cid2);
  peer_free(p);
}
END_TEST

/* failover after no response (no_response_timeout_ms, a 408): the first
 * failover target answers, and the call is bridged there; a response of
 * the given-up first target coming late changes nothing for A. */
START_TEST(bridge_failover_on_no_response_then_answered)
{
  cay_config_t cfg = failover_config(1000);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  int first = b_invite_to(p, "sip:service@127.0.0.1:5070", 1);
  char *cid1 = peer_header(p, (unsigned)first, "Call-ID");
  peer_advance(p, 1000);
  int inv = b_invite_to(p, "sip:service@127.0.0.1:5071", 0);
  /* The first target answers after all: ACKed and hung up (RFC 3261
   * section 13.2.2.4), and A still waits for the second. */
  respond(p, (unsigned)first, "200", contact_b, peer_callee_sdp);
  ck_assert_int_ge(peer_find_request(p, "ACK", cid1), 0);
  ck_assert_int_ge(peer_find_request(p, "BYE", cid1), 0);
  ck_assert_int_lt(a_response(p, "1 INVITE"), 0);
  free(cid1);
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  ck_assert_int_ge(peer_find_last(p, 180, NULL), 0);
  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp);
  a_final_is(p, "1 INVITE", 200);
  ck_assert_uint_eq(p->ss.shard->stats.calls_out_answered, 1);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* No failover once A got B's SDP in a reliable provisional (RFC 3262):
 * A's offer is answered, and another callee's answer would not fit it.
 * B's 503 then reaches A (as 500), and no other target is called. */
START_TEST(bridge_no_failover_after_a_reliable_early_answer)
{
  cay_config_t cfg = failover_config(0);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "Require: 100rel\r\n");
  int inv = b_invite_to(p, "sip:service@127.0.0.1:5070", 1);
  respond(p, (unsigned)inv, "183", contact_b, peer_callee_sdp);
  int early = peer_find_last(p, 183, NULL);
  ck_assert_int_ge(early, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[early].data, "\r\nRSeq: "));
  respond(p, (unsigned)inv, "503", "", NULL);
  a_final_is(p, "1 INVITE", 500);
  ck_assert_uint_eq(peer_count(p, 0, "INVITE"), 1);
  peer_free(p);
}
END_TEST

int
main(void)
{
  Suite *s = suite_create("b2bua_bridge");
  TCase *tc = tcase_create("bridge");

  tcase_add_test(tc, bridge_forward_relays_ringing_and_answer);
  tcase_add_test(tc, bridge_routes_no_match_404_and_reject);
  tcase_add_test(tc, bridge_9_cancel_from_a_cancels_b);
  tcase_add_test(tc, bridge_3326_bye_after_b_answered_says_why);
  tcase_add_test(tc, bridge_ring_timeout_cancels_b_and_480_to_a);
  tcase_add_test(tc, bridge_no_response_timeout_408_to_a);
  tcase_add_test(tc, bridge_failures_mapped_486_kept_503_becomes_500);
  tcase_add_test(tc, bridge_race_bye_first_then_timeout);
  tcase_add_test(tc, bridge_race_timeout_first_then_bye);
  tcase_add_test(tc, bridge_16_3_loop_to_itself_482);
  tcase_add_test(tc, bridge_6076_session_request_delay);
  tcase_add_test(tc, bridge_codecs_filtered_in_b_offer);
  tcase_add_test(tc, bridge_codecs_video_only_offer_488);
  tcase_add_test(tc, bridge_delayed_offer_codecs_filtered_in_b_2xx_offer);
  tcase_add_test(tc, bridge_delayed_offer_no_route_codec_488_to_a_bye_to_b);
  tcase_add_test(tc, bridge_delayed_offer_b_bye_before_ack_still_acked);
  tcase_add_test(tc, bridge_b_leg_from_is_anonymous_for_an_unusable_a_from);
  tcase_add_test(tc, bridge_b_leg_to_in_angle_brackets);
  tcase_add_test(tc, bridge_13_2_2_4_2xx_after_the_b_leg_ended_acked);
  tcase_add_test(tc, bridge_b_2xx_unusable_contact_keeps_the_target);
  tcase_add_test(tc, bridge_b_leg_call_id_hashes_to_the_a_shard);
  tcase_add_test(tc, bridge_17_2_1_trying_after_200ms_unless_b_rings);
  tcase_add_test(tc, bridge_failover_on_503_not_on_486);
  tcase_add_test(tc, bridge_failover_on_no_response_then_answered);
  tcase_add_test(tc, bridge_no_failover_after_a_reliable_early_answer);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
