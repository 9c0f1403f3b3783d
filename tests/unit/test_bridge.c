/*
 * The B2BUA bridge on a virtual clock: routes (404, reject, forward, loop
 * 482), relaying (provisional, answer, failure mapping, CANCEL, BYE,
 * re-INVITE, INFO), ring timeout, codec filtering, and a BYE racing the
 * max-duration timeout in both orders (OpenSIPS issue 3835).
 *
 * The fixture's peer plays both sides: A (the caller) sends from
 * 127.0.0.1:5070, and the B leg's target is the same address, so every
 * message Cay sends lands in p->sent; A-leg and B-leg messages are told
 * apart by Call-ID.
 */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "core/alloc.h"
#include "dialog/session_int.h"
#include "support/peer.h"
#include "support/run.h"

#define T1 500

static cay_config_t
config(long max_s, unsigned ring_s, const char *codec)
{
  cay_config_t cfg;
  cay_route_t *r;

  cay_config_init(&cfg);
  r = &cfg.routes[0];
  snprintf(r->ruri_user, sizeof r->ruri_user, "^serv");
  r->action = CAY_ROUTE_FORWARD;
  snprintf(r->target, sizeof r->target, "sip:${ruri_user}@127.0.0.1:5070");
  r->max_duration_s = max_s;
  r->ring_timeout_s = ring_s;
  if (codec) {
    snprintf(r->codecs[0], sizeof r->codecs[0], "%s", codec);
    r->n_codecs = 1;
  }
  r = &cfg.routes[1];
  snprintf(r->ruri_user, sizeof r->ruri_user, "^busy$");
  r->action = CAY_ROUTE_REJECT;
  r->code = 486;
  cfg.n_routes = 2;
  return cfg;
}

static void
invite_a(peer_t *p, const char *user, const char *extra)
{
  char ruri[96];

  snprintf(ruri, sizeof ruri, "%s", user);
  peer_send(p, "invite_to.sip", "user", ruri, "host", "127.0.0.1:5060",
            "branch", "z9hG4bK-a-inv", "fromtag", "ft1", "callid", "a-leg",
            "codecs", "0 8 101", "extra", extra, NULL);
}

/* Index of the last message Cay sent for the B leg (any Call-ID but A's)
 * with @p status / @p method, or -1. */
static int
b_msg(peer_t *p, int status, const char *method)
{
  for (int i = (int)p->nsent - 1; i >= 0; i--) {
    char *cid = peer_header(p, (unsigned)i, "Call-ID");
    int b = strcmp(cid, "a-leg") != 0;
    free(cid);
    if (!b)
      continue;
    if (status ? peer_status(p, (unsigned)i) == status
               : strcmp(peer_method(p, (unsigned)i), method) == 0)
      return i;
  }
  return -1;
}

/* Answer Cay's request @p i (a B-leg request) as the callee whose To tag
 * is @p tag when the request has none. */
static void
respond_as(peer_t *p, unsigned i, const char *tag, const char *status,
           const char *extra, const char *sdp)
{
  char *via = peer_header(p, i, "Via"), *from = peer_header(p, i, "From");
  char *to = peer_header(p, i, "To"), *cid = peer_header(p, i, "Call-ID");
  char *cseq = peer_header(p, i, "CSeq");
  char tob[512];

  if (strstr(to, "tag="))
    snprintf(tob, sizeof tob, "%s", to);
  else
    snprintf(tob, sizeof tob, "%s;tag=%s", to, tag);
  if (sdp)
    peer_send(p, "response_sdp.sip", "status", status, "phrase", "X", "via",
              via, "from", from, "to", tob, "callid", cid, "cseq", cseq,
              "extra", extra, "body", sdp, NULL);
  else
    peer_send(p, "response_extra.sip", "status", status, "phrase", "X", "via",
              via, "from", from, "to", tob, "callid", cid, "cseq", cseq,
              "extra", extra, NULL);
  free(via);
  free(from);
  free(to);
  free(cid);
  free(cseq);
}

/* Answer Cay's request @p i as the callee (To tag b1). */
static void
respond(peer_t *p, unsigned i, const char *status, const char *extra,
        const char *sdp)
{
  respond_as(p, i, "b1", status, extra, sdp);
}

static const char b_offer_pcmu_pcma[] = "v=0\r\n"
                                        "o=callee 1 1 IN IP4 127.0.0.9\r\n"
                                        "s=-\r\n"
                                        "c=IN IP4 127.0.0.9\r\n"
                                        "t=0 0\r\n"
                                        "m=audio 7000 RTP/AVP 0 8\r\n"
                                        "a=rtpmap:0 PCMU/8000\r\n"
                                        "a=rtpmap:8 PCMA/8000\r\n";

static const char contact_b[] = "Contact: <sip:callee@127.0.0.1:5070>\r\n";

/* A calls, B rings and answers, A ACKs: returns A's To tag. */
static void
bridged_call(peer_t *p, char *a_tag, size_t n)
{
  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  respond(p, (unsigned)inv, "200", contact_b, peer_callee_sdp);
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_int_ge(ok, 0);
  peer_to_tag(p, (unsigned)ok, a_tag, n);
  peer_send(p, "request.sip", "method", "ACK", "branch", "z9hG4bK-a-ack",
            "fromtag", "ft1", "callid", "a-leg", "cseq", "1", "totag", a_tag,
            "maxfwd", "70", "extra", "", NULL);
}

static void
a_request(peer_t *p, const char *method, const char *branch, const char *cseq,
          const char *tag)
{
  peer_send(p, "request.sip", "method", method, "branch", branch, "fromtag",
            "ft1", "callid", "a-leg", "cseq", cseq, "totag", tag, "maxfwd",
            "70", "extra", "", NULL);
}

/* A re-INVITE from A in the bridged call (A's To tag @p tag) offering
 * @p sdp. */
static void
reinvite_a(peer_t *p, const char *branch, const char *cseq, const char *tag,
           const char *sdp)
{
  peer_send(p, "request_body.sip", "method", "INVITE", "branch", branch,
            "fromtag", "ft1", "callid", "a-leg", "cseq", cseq, "totag", tag,
            "extra", "", "ctype", "application/sdp", "body", sdp, NULL);
}

/* A request from B in the B leg's dialog (B's tag "b1", as respond()
 * gives it), Cay's INVITE to B being sent message @p inv. */
static void
b_request(peer_t *p, unsigned inv, const char *method, unsigned cseq)
{
  char *from = peer_header(p, inv, "From"), *to = peer_header(p, inv, "To");
  char *cid = peer_header(p, inv, "Call-ID");
  char buf[2048];
  int n = snprintf(buf, sizeof buf,
                   "%s sip:cay@127.0.0.1:5060 SIP/2.0\r\n"
                   "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-b-%u\r\n"
                   "Max-Forwards: 70\r\nFrom: %s;tag=b1\r\nTo: %s\r\n"
                   "Call-ID: %s\r\nCSeq: %u %s\r\nContent-Length: 0\r\n\r\n",
                   method, cseq, to, from, cid, cseq, method);

  peer_send_raw(p, buf, (size_t)n);
  free(from);
  free(to);
  free(cid);
}

/* Index of the last final response Cay sent to A with CSeq @p cseq
 * ("2 INFO"), or -1. */
static int
a_response(peer_t *p, const char *cseq)
{
  for (int i = (int)p->nsent - 1; i >= 0; i--) {
    if (peer_status(p, (unsigned)i) < 200)
      continue;
    char *cid = peer_header(p, (unsigned)i, "Call-ID");
    char *cs = peer_header(p, (unsigned)i, "CSeq");
    int hit = strcmp(cid, "a-leg") == 0 && strcmp(cs, cseq) == 0;
    free(cid);
    free(cs);
    if (hit)
      return i;
  }
  return -1;
}

static void
a_info(peer_t *p, const char *branch, const char *cseq, const char *tag)
{
  peer_send(p, "request_body.sip", "method", "INFO", "branch", branch,
            "fromtag", "ft1", "callid", "a-leg", "cseq", cseq, "totag", tag,
            "extra", "", "ctype", "application/dtmf-relay", "body",
            "Signal=5\r\nDuration=160\r\n", NULL);
}

START_TEST(bridge_forward_relays_ringing_and_answer)
{
  cay_config_t cfg = config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  ck_assert_int_ge(inv, 0);
  /* The B leg: the target from the template, A's offer, one hop less
   * (RFC 3261 section 16.6 item 3), A's From with a new tag. */
  ck_assert_int_eq(
      strncmp(p->sent[inv].data, "INVITE sip:service@127.0.0.1:5070 ", 34), 0);
  char *mf = peer_header(p, (unsigned)inv, "Max-Forwards");
  ck_assert_str_eq(mf, "69");
  free(mf);
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
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->ss.bridges, 0);
  peer_free(p);
}
END_TEST

START_TEST(bridge_routes_no_match_404_and_reject)
{
  cay_config_t cfg = config(-1, 60, NULL);
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
  cay_config_t cfg = config(-1, 60, NULL);
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
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->ss.bridges, 0);
  peer_free(p);
}
END_TEST

START_TEST(bridge_ring_timeout_cancels_b_and_480_to_a)
{
  cay_config_t cfg = config(-1, 2, NULL);
  peer_t *p = peer_new(&cfg);

  invite_a(p, "service", "");
  int inv = b_msg(p, 0, "INVITE");
  respond(p, (unsigned)inv, "180", contact_b, NULL);
  peer_advance(p, 1999);
  ck_assert_int_lt(b_msg(p, 0, "CANCEL"), 0);
  peer_advance(p, 1);
  ck_assert_int_ge(b_msg(p, 0, "CANCEL"), 0);
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
  cay_config_t cfg = config(-1, 60, NULL);
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
  cay_config_t cfg = config(-1, 60, NULL);
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
  cay_config_t cfg = config(2, 60, NULL);
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
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->ss.bridges, 0);
  peer_free(p);
}
END_TEST

START_TEST(bridge_race_timeout_first_then_bye)
{
  cay_config_t cfg = config(2, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  peer_advance(p, 2000);
  /* BYE to both legs. */
  ck_assert_uint_eq(peer_count(p, 0, "BYE"), 2);
  int b_bye = b_msg(p, 0, "BYE");
  ck_assert_int_ge(b_bye, 0);
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
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->ss.bridges, 0);
  peer_free(p);
}
END_TEST

START_TEST(bridge_16_3_loop_to_itself_482)
{
  cay_config_t cfg = config(-1, 60, NULL);
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

START_TEST(bridge_14_reinvite_from_a_relayed_and_answer_back)
{
  cay_config_t cfg = config(-1, 60, NULL);
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
  cay_config_t cfg = config(-1, 60, "PCMA");
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  unsigned acks = peer_count(p, 0, "ACK");
  a_request(p, "INVITE", "z9hG4bK-a-re", "2", tag);
  int re = b_msg(p, 0, "INVITE");
  char *clen = peer_header(p, (unsigned)re, "Content-Length");
  ck_assert_str_eq(clen, "0");
  free(clen);
  respond(p, (unsigned)re, "200", contact_b, b_offer_pcmu_pcma);
  ck_assert_uint_eq(peer_count(p, 0, "ACK"), acks); /* B's waits */
  int ok = a_response(p, "2 INVITE");
  ck_assert_int_ge(ok, 0);
  ck_assert_int_eq(peer_status(p, (unsigned)ok), 200);
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

/* The body of sent message @p i (after the blank line). */
static const char *
body_of(peer_t *p, unsigned i)
{
  const char *b = strstr(p->sent[i].data, "\r\n\r\n");
  ck_assert_ptr_nonnull(b);
  return b + 4;
}

/* RFC 4028 on both legs with Cay as the refresher and UPDATE allowed by
 * neither side: each refresh is a re-INVITE offering again the SDP that
 * leg last got from Cay (A's offer to B, B's answer to A; after A's
 * change, A's new offer), never Cay's own, which would send the media to
 * Cay's address (RFC 3264 section 8: the same SDP, the same version,
 * changes nothing). The other leg hears nothing of it. */
START_TEST(bridge_4028_refresh_repeats_the_leg_s_sdp)
{
  cay_config_t cfg = config(-1, 60, NULL);
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
  cay_config_t cfg = config(-1, 60, NULL);
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
    int r = a_response(p, a_cseq);
    ck_assert_int_ge(r, 0);
    ck_assert_int_eq(peer_status(p, (unsigned)r), atoi(b_says[i]));
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
  cay_config_t cfg = config(-1, 60, NULL);
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
  cay_config_t cfg = config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  int inv = b_msg(p, 0, "INVITE");
  a_info(p, "z9hG4bK-a-in", "2", tag);
  int info = b_msg(p, 0, "INFO");
  ck_assert_int_ge(info, 0);
  char *ct = peer_header(p, (unsigned)info, "Content-Type");
  ck_assert_str_eq(ct, "application/dtmf-relay");
  free(ct);
  ck_assert_ptr_nonnull(strstr(p->sent[info].data, "Signal=5"));
  ck_assert_int_lt(a_response(p, "2 INFO"), 0); /* waits for B */
  respond(p, (unsigned)info, "200", "", NULL);
  int ok = a_response(p, "2 INFO");
  ck_assert_int_ge(ok, 0);
  ck_assert_int_eq(peer_status(p, (unsigned)ok), 200);

  a_info(p, "z9hG4bK-a-in2", "3", tag);
  info = b_msg(p, 0, "INFO");
  respond(p, (unsigned)info, "401",
          "WWW-Authenticate: Digest realm=\"b\", nonce=\"n\"\r\n", NULL);
  ok = a_response(p, "3 INFO");
  ck_assert_int_ge(ok, 0);
  ck_assert_int_eq(peer_status(p, (unsigned)ok), 403);

  b_request(p, (unsigned)inv, "INFO", 2);
  int to_a = peer_find_request(p, "INFO", "a-leg");
  ck_assert_int_ge(to_a, 0);
  char *clen = peer_header(p, (unsigned)to_a, "Content-Length");
  ck_assert_str_eq(clen, "0");
  free(clen);
  ck_assert_int_lt(b_msg(p, 200, NULL), to_a); /* B waits for A */
  respond(p, (unsigned)to_a, "488", "", NULL);
  int b_ok = b_msg(p, 488, NULL);
  ck_assert_int_gt(b_ok, to_a);
  char *cseq = peer_header(p, (unsigned)b_ok, "CSeq");
  ck_assert_str_eq(cseq, "2 INFO");
  free(cseq);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  peer_free(p);
}
END_TEST

/* B hangs up while A's INFO waits for B's answer: A gets BYE, and its
 * INFO 487 (RFC 3261 section 15.1.2); nothing is left behind. */
START_TEST(bridge_6086_info_pending_when_b_hangs_up_487)
{
  cay_config_t cfg = config(-1, 60, NULL);
  peer_t *p = peer_new(&cfg);
  char tag[64];

  bridged_call(p, tag, sizeof tag);
  int inv = b_msg(p, 0, "INVITE");
  a_info(p, "z9hG4bK-a-in", "2", tag);
  ck_assert_int_ge(b_msg(p, 0, "INFO"), 0);
  b_request(p, (unsigned)inv, "BYE", 2);
  int bye = peer_find_request(p, "BYE", "a-leg");
  ck_assert_int_ge(bye, 0);
  int r = a_response(p, "2 INFO");
  ck_assert_int_ge(r, 0);
  ck_assert_int_eq(peer_status(p, (unsigned)r), 487);
  respond(p, (unsigned)bye, "200", "", NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->ss.bridges, 0);
  peer_free(p);
}
END_TEST

START_TEST(bridge_codecs_filtered_in_b_offer)
{
  cay_config_t cfg = config(-1, 60, "PCMA");
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
  cay_config_t cfg = config(-1, 60, "PCMA");
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
  cay_config_t cfg = config(-1, 60, "PCMA");
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
  cay_config_t cfg = config(-1, 60, "G729");
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
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->ss.bridges, 0);
  peer_free(p);
}
END_TEST

/* Delayed offer: B's ACK waits for A's answer, but B hangs up first. Its
 * 2xx is still ACKed (13.2.2.4, with Cay's own answer) before the BYE is
 * answered, and A gets BYE. */
START_TEST(bridge_delayed_offer_b_bye_before_ack_still_acked)
{
  cay_config_t cfg = config(-1, 60, NULL);
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
  cay_config_t cfg = config(-1, 60, NULL);
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
  cay_config_t cfg = config(-1, 60, NULL);
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
  cay_config_t cfg = config(-1, 60, NULL);
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

/* A re-INVITE's offer is filtered like the first one; an offer with none
 * of the route's codecs gets 488 and never reaches B (RFC 3261 14.2). */
START_TEST(bridge_reinvite_offer_filtered_none_left_488)
{
  cay_config_t cfg = config(-1, 60, "PCMA");
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

/* RFC 3261 section 17.2.1: the A leg's 100 Trying waits 200 ms for B, and
 * is not sent when B's 180 came first. */
START_TEST(bridge_17_2_1_trying_after_200ms_unless_b_rings)
{
  cay_config_t cfg = config(-1, 60, NULL);
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
  cay_config_t cfg = config(-1, 60, NULL);
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

int
main(void)
{
  Suite *s = suite_create("b2bua_bridge");
  TCase *tc = tcase_create("bridge");

  tcase_add_test(tc, bridge_forward_relays_ringing_and_answer);
  tcase_add_test(tc, bridge_routes_no_match_404_and_reject);
  tcase_add_test(tc, bridge_9_cancel_from_a_cancels_b);
  tcase_add_test(tc, bridge_ring_timeout_cancels_b_and_480_to_a);
  tcase_add_test(tc, bridge_no_response_timeout_408_to_a);
  tcase_add_test(tc, bridge_failures_mapped_486_kept_503_becomes_500);
  tcase_add_test(tc, bridge_race_bye_first_then_timeout);
  tcase_add_test(tc, bridge_race_timeout_first_then_bye);
  tcase_add_test(tc, bridge_16_3_loop_to_itself_482);
  tcase_add_test(tc, bridge_14_reinvite_from_a_relayed_and_answer_back);
  tcase_add_test(tc, bridge_reinvite_failure_from_b_mapped_for_a);
  tcase_add_test(tc, bridge_9_2_cancel_of_a_reinvite_relayed);
  tcase_add_test(tc, bridge_14_reinvite_without_offer_relayed_both_ways);
  tcase_add_test(tc, bridge_4028_refresh_repeats_the_leg_s_sdp);
  tcase_add_test(tc, bridge_6086_info_relayed_with_its_answer);
  tcase_add_test(tc, bridge_6086_info_pending_when_b_hangs_up_487);
  tcase_add_test(tc, bridge_codecs_filtered_in_b_offer);
  tcase_add_test(tc, bridge_codecs_video_only_offer_488);
  tcase_add_test(tc, bridge_delayed_offer_codecs_filtered_in_b_2xx_offer);
  tcase_add_test(tc, bridge_delayed_offer_no_route_codec_488_to_a_bye_to_b);
  tcase_add_test(tc, bridge_delayed_offer_b_bye_before_ack_still_acked);
  tcase_add_test(tc, bridge_b_leg_from_is_anonymous_for_an_unusable_a_from);
  tcase_add_test(tc, bridge_13_2_2_4_2xx_after_the_b_leg_ended_acked);
  tcase_add_test(tc, bridge_b_2xx_unusable_contact_keeps_the_target);
  tcase_add_test(tc, bridge_reinvite_offer_filtered_none_left_488);
  tcase_add_test(tc, bridge_b_leg_call_id_hashes_to_the_a_shard);
  tcase_add_test(tc, bridge_17_2_1_trying_after_200ms_unless_b_rings);
  suite_add_tcase(s, tc);
  return cay_test_run(s);
}
