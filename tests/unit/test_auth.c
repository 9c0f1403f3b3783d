/*
 * Client digest authentication (dialog/auth.h; RFC 3261 section 22.2,
 * RFC 2617): which challenges are answered, the credentials line, and
 * when Cay gives up. The expected digests were computed apart from
 * sofia-sip (Python's hashlib over RFC 2617 section 3.2.2's formulas), on
 * the values of RFC 2617 section 3.5's example.
 */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>
#include <sofia-sip/sip_protos.h>

#include "cay/cay.h"
#include "dialog/auth.h"
#include "support/peer.h"
#include "support/run.h"

#define NONCE  "dcd98b7102dd2f0e8b11d0f600bfb0c093"
#define OPAQUE "5ccc069c403ebaf9f0171e9517f40e41"
#define URI    "sip:bob@127.0.0.1:5070"

static msg_t *msg;
static cay__rand_t rnd;

/* A 401 (or 407) to an INVITE with the challenge header line(s) @p ch. */
static const sip_t *
challenge(int status, const char *ch)
{
  char text[1024];
  int n = snprintf(text, sizeof text,
                   "SIP/2.0 %d X\r\n"
                   "Via: SIP/2.0/UDP 127.0.0.1:5060;branch=z9hG4bK-1\r\n"
                   "From: <sip:cay@127.0.0.1>;tag=a\r\n"
                   "To: <" URI ">;tag=b\r\n"
                   "Call-ID: c1\r\n"
                   "CSeq: 1 INVITE\r\n"
                   "%s"
                   "Content-Length: 0\r\n\r\n",
                   status, ch);

  if (msg)
    msg_destroy(msg);
  msg = msg_make(sip_default_mclass(), 0, text, (isize_t)n);
  ck_assert_ptr_nonnull(msg);
  return sip_object(msg);
}

static void
setup(void)
{
  static const uint8_t seed[32] = { 7 };

  cay__rand_seed(&rnd, seed);
  msg = NULL;
}

static void
teardown(void)
{
  if (msg)
    msg_destroy(msg);
}

/* RFC 2617 section 3.2.2.1 without qop: response = MD5(HA1:nonce:HA2). */
START_TEST(auth_22_2_401_md5_without_qop_known_answer)
{
  cay__auth_t *a = cay__auth_new("Mufasa", "Circle Of Life");
  const char *why = "unset";

  ck_assert_ptr_nonnull(a);
  ck_assert_str_eq(cay__auth_line(a, "INVITE", URI), "");
  ck_assert_int_eq(
      cay__auth_challenge(a, 401,
                          challenge(401, "WWW-Authenticate: Digest "
                                         "realm=\"testrealm@host.com\", "
                                         "nonce=\"" NONCE "\", "
                                         "opaque=\"" OPAQUE "\"\r\n"),
                          &rnd, &why),
      0);
  ck_assert_ptr_null(why);
  ck_assert_str_eq(cay__auth_line(a, "INVITE", URI),
                   "Authorization: Digest username=\"Mufasa\", "
                   "realm=\"testrealm@host.com\", nonce=\"" NONCE "\", "
                   "uri=\"" URI "\", "
                   "response=\"9f34e0b6e2262021aa4ce47f01171da0\", "
                   "algorithm=MD5, opaque=\"" OPAQUE "\"\r\n");
  /* 13.2.2.4: the ACK's line is the INVITE's. */
  ck_assert_str_eq(cay__auth_last(a), cay__auth_line(a, "INVITE", URI));
  cay__auth_free(a);
}
END_TEST

/* A 407 is answered with Proxy-Authorization; with qop auth each line
 * counts (nc) and carries the client nonce the digest used. */
START_TEST(auth_22_3_407_proxy_authorization_qop_auth_counts)
{
  cay__auth_t *a = cay__auth_new("Mufasa", "Circle Of Life");
  char cnonce[64], want[512];
  const char *line, *c;

  ck_assert_int_eq(
      cay__auth_challenge(a, 407,
                          challenge(407, "Proxy-Authenticate: Digest "
                                         "realm=\"testrealm@host.com\", "
                                         "qop=\"auth,auth-int\", "
                                         "nonce=\"" NONCE "\"\r\n"),
                          &rnd, NULL),
      0);
  line = cay__auth_line(a, "INVITE", URI);
  ck_assert_ptr_nonnull(strstr(line, "Proxy-Authorization: Digest "));
  ck_assert_ptr_nonnull(strstr(line, ", qop=auth, nc=00000001, cnonce=\""));
  c = strstr(line, "cnonce=\"") + 8;
  snprintf(cnonce, sizeof cnonce, "%.*s", (int)strcspn(c, "\""), c);
  ck_assert_uint_eq(strlen(cnonce), 16);
  /* hashlib: MD5(HA1:nonce:00000001:cnonce:auth:HA2) for this seed's
   * client nonce. */
  snprintf(want, sizeof want, "cnonce=\"%s\"", cnonce);
  ck_assert_str_eq(cnonce, "peb5tu8wc6vceynd");
  ck_assert_ptr_nonnull(
      strstr(line, "response=\"3cba6fd31a717b31d3c94fd55c2adf04\""));
  line = cay__auth_line(a, "INVITE", URI);
  ck_assert_ptr_nonnull(strstr(line, ", nc=00000002, "));
  ck_assert_ptr_nonnull(strstr(line, want)); /* same nonce, same cnonce */
  cay__auth_free(a);
}
END_TEST

/* Only Digest with MD5 (or MD5-sess with qop auth) and qop auth (or
 * none) can be answered. */
START_TEST(auth_challenges_cay_cannot_answer)
{
  static const char *const no[] = {
    "WWW-Authenticate: Basic realm=\"r\"\r\n",
    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", "
    "algorithm=SHA-256\r\n",
    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", qop=\"auth-int\"\r\n",
    "WWW-Authenticate: Digest realm=\"r\", nonce=\"n\", "
    "algorithm=MD5-sess\r\n",
    "WWW-Authenticate: Digest realm=\"r\"\r\n",
    "",
  };

  for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
    cay__auth_t *a = cay__auth_new("u", "p");
    const char *why = NULL;
    ck_assert_int_eq(
        cay__auth_challenge(a, 401, challenge(401, no[i]), &rnd, &why),
        -EINVAL);
    ck_assert_ptr_nonnull(why);
    ck_assert_str_eq(cay__auth_line(a, "INVITE", URI), "");
    cay__auth_free(a);
  }
  /* A usable one after an unusable one in the same response is taken. */
  cay__auth_t *a = cay__auth_new("u", "p");
  ck_assert_int_eq(cay__auth_challenge(
                       a, 401,
                       challenge(401, "WWW-Authenticate: Basic realm=\"r\"\r\n"
                                      "WWW-Authenticate: Digest realm=\"r\", "
                                      "nonce=\"n\"\r\n"),
                       &rnd, NULL),
                   0);
  cay__auth_free(a);
}
END_TEST

/* RFC 2617 section 3.2.1: the same nonce again after our credentials
 * means they were refused; stale=true only that the nonce aged. */
START_TEST(auth_refused_credentials_and_stale_nonce)
{
  cay__auth_t *a = cay__auth_new("u", "wrong");
  const char *why = NULL;
  const char *first = "WWW-Authenticate: Digest realm=\"r\", nonce=\"n1\"\r\n";

  ck_assert_int_eq(
      cay__auth_challenge(a, 401, challenge(401, first), &rnd, NULL), 0);
  (void)cay__auth_line(a, "INVITE", URI);
  ck_assert_int_eq(
      cay__auth_challenge(a, 401,
                          challenge(401, "WWW-Authenticate: Digest "
                                         "realm=\"r\", nonce=\"n2\", "
                                         "stale=true\r\n"),
                          &rnd, NULL),
      0);
  ck_assert_ptr_nonnull(
      strstr(cay__auth_line(a, "INVITE", URI), "nonce=\"n2\""));
  ck_assert_int_eq(
      cay__auth_challenge(a, 401,
                          challenge(401, "WWW-Authenticate: Digest "
                                         "realm=\"r\", "
                                         "nonce=\"n2\"\r\n"),
                          &rnd, &why),
      -EACCES);
  ck_assert_str_eq(why, "the credentials were refused");
  cay__auth_free(a);

  /* However the server words it, a fourth challenge is one too many. */
  a = cay__auth_new("u", "p");
  for (int i = 0; i < 4; i++) {
    char ch[128];
    snprintf(ch, sizeof ch,
             "WWW-Authenticate: Digest realm=\"r\", nonce=\"n%d\"\r\n", i);
    ck_assert_int_eq(
        cay__auth_challenge(a, 401, challenge(401, ch), &rnd, &why),
        i < 3 ? 0 : -EACCES);
    (void)cay__auth_line(a, "INVITE", URI);
  }
  cay__auth_free(a);
}
END_TEST

START_TEST(auth_values_too_long_refused)
{
  char big[300];

  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  ck_assert_ptr_null(cay__auth_new(big, "p"));
  ck_assert_ptr_null(cay__auth_new("u", big));
}
END_TEST

/* ------------------------------------------------------------------ */
/* Through the B2BUA: a forward route with auth:.                       */
/* ------------------------------------------------------------------ */

static peer_t *
bridge_with_auth(void)
{
  cay_config_t cfg;
  cay_route_t *r = &cfg.routes[0];

  cay_config_init(&cfg);
  r->action = CAY_ROUTE_FORWARD;
  snprintf(r->target, sizeof r->target, "sip:${ruri_user}@127.0.0.1:5070");
  snprintf(r->auth_username, sizeof r->auth_username, "cay");
  snprintf(r->auth_password, sizeof r->auth_password, "s3cret");
  cfg.n_routes = 1;
  return peer_new(&cfg);
}

#define PROXY_CHALLENGE                                                        \
  "Proxy-Authenticate: Digest realm=\"trunk\", nonce=\"n1\"\r\n"

/* RFC 3261 section 22.2/22.3: B's 407 is answered by the INVITE again,
 * CSeq 2 in the same call, with Proxy-Authorization; the same challenge
 * again means the credentials are wrong: A gets 403, B nothing more. */
START_TEST(auth_bridge_407_retried_once_then_403_to_a)
{
  peer_t *p = bridge_with_auth();

  peer_send(p, "invite_to.sip", "user", "service", "host", "127.0.0.1:5060",
            "branch", "z9hG4bK-a-inv", "fromtag", "ft1", "callid", "a-leg",
            "codecs", "0 8", "extra", "", NULL);
  int inv = peer_find_request(p, "INVITE", NULL);
  ck_assert_int_ge(inv, 0);
  ck_assert_ptr_null(peer_header(p, (unsigned)inv, "Proxy-Authorization"));
  char *call = peer_header(p, (unsigned)inv, "Call-ID");
  char *from = peer_header(p, (unsigned)inv, "From");
  peer_respond(p, (unsigned)inv, "407", "b1", PROXY_CHALLENGE);
  ck_assert_int_ge(peer_find_request(p, "ACK", call), 0); /* 17.1.1.3 */
  int again = peer_find_request(p, "INVITE", call);
  ck_assert_int_gt(again, inv);
  char *cseq = peer_header(p, (unsigned)again, "CSeq");
  char *from2 = peer_header(p, (unsigned)again, "From");
  char *cred = peer_header(p, (unsigned)again, "Proxy-Authorization");
  ck_assert_str_eq(cseq, "2 INVITE");
  ck_assert_str_eq(from2, from);
  ck_assert_ptr_nonnull(cred);
  ck_assert_ptr_nonnull(strstr(cred, "Digest username=\"cay\", "
                                     "realm=\"trunk\", nonce=\"n1\", "
                                     "uri=\"sip:service@127.0.0.1:5070\""));
  free(cseq);
  free(from2);
  free(cred);
  peer_respond(p, (unsigned)again, "407", "b1", PROXY_CHALLENGE);
  ck_assert_int_eq(peer_find_request(p, "INVITE", call), again);
  int refused = peer_find_last(p, 403, NULL);
  ck_assert_int_ge(refused, 0);
  ck_assert_ptr_nonnull(strstr(p->sent[refused].data,
                               "403 Forbidden - Callee Requires "
                               "Authentication"));
  ck_assert_uint_eq(p->ss.shard->stats.calls_out_failed, 1);
  free(call);
  free(from);
  peer_send(p, "request.sip", "method", "ACK", "branch", "z9hG4bK-a-inv",
            "fromtag", "ft1", "callid", "a-leg", "cseq", "1", "totag", "",
            "maxfwd", "70", "extra", "", NULL);
  peer_advance(p, 64 * 500);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  peer_free(p);
}
END_TEST

/* A request in the bridged call from A (To tag @p tag), with an SDP
 * offer on port @p port when @p port is set. */
static void
a_request(peer_t *p, const char *method, const char *branch, const char *cseq,
          const char *tag, int port)
{
  char sdp[256];

  if (port == 0) {
    peer_send(p, "request.sip", "method", method, "branch", branch, "fromtag",
              "ft1", "callid", "a-leg", "cseq", cseq, "totag", tag, "maxfwd",
              "70", "extra", "", NULL);
    return;
  }
  snprintf(sdp, sizeof sdp,
           "v=0\r\no=user1 53655765 %s IN IP4 127.0.0.1\r\ns=-\r\n"
           "c=IN IP4 127.0.0.1\r\nt=0 0\r\nm=audio %d RTP/AVP 0\r\n",
           cseq, port);
  peer_send(p, "request_body.sip", "method", method, "branch", branch,
            "fromtag", "ft1", "callid", "a-leg", "cseq", cseq, "totag", tag,
            "extra", "", "ctype", "application/sdp", "body", sdp, NULL);
}

/* Cay's request @p method to B after B challenged request @p before with
 * @p hdr (e.g. "Proxy-Authorization"): its index; asserts it is newer,
 * has the next CSeq, and carries credentials for @p nonce over @p method
 * and the remote target (RFC 3261 section 22.2, RFC 2617 3.2.2). */
static int
sent_again(peer_t *p, const char *call, const char *method, int before,
           const char *hdr, const char *nonce)
{
  char want[128];
  int again = peer_find_request(p, method, call);

  ck_assert_int_gt(again, before);
  char *cseq = peer_header(p, (unsigned)before, "CSeq");
  char *cseq2 = peer_header(p, (unsigned)again, "CSeq");
  char *cred = peer_header(p, (unsigned)again, hdr);
  ck_assert_int_eq(atoi(cseq2), atoi(cseq) + 1);
  ck_assert_ptr_nonnull(strstr(cseq2, method));
  ck_assert_ptr_nonnull(cred);
  snprintf(want, sizeof want, "nonce=\"%s\", uri=\"sip:callee@127.0.0.1:5070\"",
           nonce);
  ck_assert_ptr_nonnull(strstr(cred, want));
  free(cseq);
  free(cseq2);
  free(cred);
  return again;
}

/* A calls, B answers 200 (with @p b_extra header lines), A ACKs: A's To
 * tag in @p tag; returns the B leg's Call-ID (free it) and, in @p inv, the
 * index of B's INVITE. */
static char *
answered(peer_t *p, const char *b_extra, char *tag, size_t n, int *inv)
{
  char extra[512];

  peer_send(p, "invite_to.sip", "user", "service", "host", "127.0.0.1:5060",
            "branch", "z9hG4bK-a-inv", "fromtag", "ft1", "callid", "a-leg",
            "codecs", "0 8", "extra", "", NULL);
  *inv = peer_find_request(p, "INVITE", NULL);
  ck_assert_int_ge(*inv, 0);
  snprintf(extra, sizeof extra, "Contact: <sip:callee@127.0.0.1:5070>\r\n%s",
           b_extra);
  peer_respond_sdp(p, (unsigned)*inv, "200", "b1", extra, peer_callee_sdp);
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_int_ge(ok, 0);
  peer_to_tag(p, (unsigned)ok, tag, n);
  a_request(p, "ACK", "z9hG4bK-a-ack", "1", tag, 0);
  return peer_header(p, (unsigned)*inv, "Call-ID");
}

/* RFC 3261 section 22.2 for a BYE: B challenges the BYE Cay relays; the
 * BYE goes again with credentials for that challenge (CSeq + 1, digest
 * over BYE and the remote target), and its 200 ends the call. */
START_TEST(auth_bridge_bye_challenged_sent_again)
{
  peer_t *p = bridge_with_auth();
  char tag[64];
  int inv;
  char *call = answered(p, "", tag, sizeof tag, &inv);

  a_request(p, "BYE", "z9hG4bK-a-bye", "2", tag, 0);
  int bye = peer_find_request(p, "BYE", call);
  ck_assert_int_ge(bye, 0);
  ck_assert_ptr_null(peer_header(p, (unsigned)bye, "Authorization"));
  peer_respond(p, (unsigned)bye, "401", NULL,
               "WWW-Authenticate: Digest realm=\"trunk\", nonce=\"b7\"\r\n");
  int again = sent_again(p, call, "BYE", bye, "Authorization", "b7");
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 1); /* B waits */
  peer_respond(p, (unsigned)again, "200", NULL, NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->ss.shard->stats.byes_sent, 1);
  free(call);
  peer_advance(p, 64 * 500);
  peer_free(p);
}
END_TEST

/* RFC 3261 section 22.2 in a confirmed call: B challenges the re-INVITE
 * Cay relays (407, then a stale nonce once more), the UPDATE (401) and
 * the BYE (401). Each goes again with credentials and the same offer; the
 * ACK of the re-INVITE's 200 carries the re-INVITE's credentials
 * (13.2.2.4); the answers reach A. Four challenges in one call: the limit
 * of three is per request, not per session. */
START_TEST(auth_bridge_reinvite_update_bye_challenged)
{
  peer_t *p = bridge_with_auth();
  char tag[64];
  int inv;
  char *call = answered(p, "", tag, sizeof tag, &inv);

  /* The re-INVITE: 407, then 407 with stale=true, then 200. */
  a_request(p, "INVITE", "z9hG4bK-a-re", "2", tag, 6010);
  int re = peer_find_request(p, "INVITE", call);
  ck_assert_int_gt(re, inv);
  ck_assert_ptr_null(peer_header(p, (unsigned)re, "Proxy-Authorization"));
  peer_respond(p, (unsigned)re, "407", NULL,
               "Proxy-Authenticate: Digest realm=\"trunk\", nonce=\"r1\"\r\n");
  int re2 = sent_again(p, call, "INVITE", re, "Proxy-Authorization", "r1");
  ck_assert_ptr_nonnull(strstr(p->sent[re2].data, "m=audio 6010 RTP/AVP 0"));
  peer_respond(p, (unsigned)re2, "407", NULL,
               "Proxy-Authenticate: Digest realm=\"trunk\", nonce=\"r2\", "
               "stale=true\r\n");
  int re3 = sent_again(p, call, "INVITE", re2, "Proxy-Authorization", "r2");
  unsigned oks = peer_count(p, 200, NULL);
  peer_respond_sdp(p, (unsigned)re3, "200", NULL,
                   "Contact: <sip:callee@127.0.0.1:5070>\r\n", peer_callee_sdp);
  int ack = peer_find_request(p, "ACK", call);
  ck_assert_int_gt(ack, re3);
  char *ack_cred = peer_header(p, (unsigned)ack, "Proxy-Authorization");
  ck_assert_ptr_nonnull(ack_cred);
  ck_assert_ptr_nonnull(strstr(ack_cred, "nonce=\"r2\""));
  free(ack_cred);
  ck_assert_uint_eq(peer_count(p, 200, NULL), oks + 1); /* A's answer */
  a_request(p, "ACK", "z9hG4bK-a-ack2", "2", tag, 0);

  /* The UPDATE: 401, then 200. */
  a_request(p, "UPDATE", "z9hG4bK-a-up", "3", tag, 6020);
  int up = peer_find_request(p, "UPDATE", call);
  ck_assert_int_ge(up, 0);
  peer_respond(p, (unsigned)up, "401", NULL,
               "WWW-Authenticate: Digest realm=\"trunk\", nonce=\"u1\"\r\n");
  int up2 = sent_again(p, call, "UPDATE", up, "Authorization", "u1");
  ck_assert_ptr_nonnull(strstr(p->sent[up2].data, "m=audio 6020 RTP/AVP 0"));
  oks = peer_count(p, 200, NULL);
  peer_respond_sdp(p, (unsigned)up2, "200", NULL, NULL, peer_callee_sdp);
  ck_assert_uint_eq(peer_count(p, 200, NULL), oks + 1);

  /* The BYE: the fourth challenge of the call is answered too. */
  a_request(p, "BYE", "z9hG4bK-a-bye", "4", tag, 0);
  int bye = peer_find_request(p, "BYE", call);
  peer_respond(p, (unsigned)bye, "401", NULL,
               "WWW-Authenticate: Digest realm=\"trunk\", nonce=\"b1\"\r\n");
  int bye2 = sent_again(p, call, "BYE", bye, "Authorization", "b1");
  peer_respond(p, (unsigned)bye2, "200", NULL, NULL);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  free(call);
  peer_advance(p, 64 * 500);
  peer_free(p);
}
END_TEST

/* RFC 3261 section 22.2 for an INFO (RFC 6086): B challenges the DTMF
 * INFO Cay relays from A; it goes again with credentials and the same
 * body, and its 200 is the end of it. An INFO B takes at once needs
 * nothing more (ASan: nothing kept is left behind). */
START_TEST(auth_bridge_info_challenged_sent_again)
{
  peer_t *p = bridge_with_auth();
  char tag[64];
  int inv;
  char *call = answered(p, "", tag, sizeof tag, &inv);

  peer_send(p, "request_body.sip", "method", "INFO", "branch", "z9hG4bK-a-in",
            "fromtag", "ft1", "callid", "a-leg", "cseq", "2", "totag", tag,
            "extra", "", "ctype", "application/dtmf-relay", "body",
            "Signal=5\r\nDuration=160\r\n", NULL);
  int info = peer_find_request(p, "INFO", call);
  ck_assert_int_gt(info, inv);
  peer_respond(p, (unsigned)info, "401", NULL,
               "WWW-Authenticate: Digest realm=\"trunk\", nonce=\"f1\"\r\n");
  int info2 = sent_again(p, call, "INFO", info, "Authorization", "f1");
  char *ct = peer_header(p, (unsigned)info2, "Content-Type");
  ck_assert_str_eq(ct, "application/dtmf-relay");
  free(ct);
  ck_assert_ptr_nonnull(
      strstr(p->sent[info2].data, "Signal=5\r\nDuration=160"));
  peer_respond(p, (unsigned)info2, "200", NULL, NULL);
  ck_assert_int_eq(peer_find_request(p, "INFO", call), info2);
  peer_send(p, "request_body.sip", "method", "INFO", "branch", "z9hG4bK-a-in2",
            "fromtag", "ft1", "callid", "a-leg", "cseq", "3", "totag", tag,
            "extra", "", "ctype", "application/dtmf-relay", "body",
            "Signal=6\r\nDuration=160\r\n", NULL);
  int info3 = peer_find_request(p, "INFO", call);
  ck_assert_int_gt(info3, info2);
  peer_respond(p, (unsigned)info3, "200", NULL, NULL);
  ck_assert_int_eq(peer_find_request(p, "INFO", call), info3);
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  free(call);
  peer_free(p);
}
END_TEST

/* RFC 4028 section 10 with RFC 3261 section 22.2: B makes Cay the
 * refresher; the refresh (an UPDATE: B allows it) is challenged and goes
 * again with credentials, its 200 keeps the call, and the next refresh
 * comes half an interval later. A hears nothing of it. */
START_TEST(auth_bridge_session_refresh_challenged)
{
  peer_t *p = bridge_with_auth();
  char tag[64];
  int inv;
  char *call = answered(p,
                        "Allow: INVITE, ACK, BYE, UPDATE\r\n"
                        "Require: timer\r\n"
                        "Session-Expires: 90;refresher=uac\r\n",
                        tag, sizeof tag, &inv);
  unsigned to_a = p->nsent;
  peer_advance(p, 45000);
  int up = peer_find_request(p, "UPDATE", call);
  ck_assert_int_ge(up, 0);
  peer_respond(p, (unsigned)up, "407", NULL,
               "Proxy-Authenticate: Digest realm=\"trunk\", nonce=\"s1\"\r\n");
  int up2 = sent_again(p, call, "UPDATE", up, "Proxy-Authorization", "s1");
  peer_respond(p, (unsigned)up2, "200", NULL,
               "Require: timer\r\nSession-Expires: 90;refresher=uac\r\n");
  peer_advance(p, 44000);
  ck_assert_int_eq(peer_find_request(p, "UPDATE", call), up2);
  ck_assert_int_lt(peer_find_request(p, "BYE", call), 0);
  peer_advance(p, 1000);
  ck_assert_int_gt(peer_find_request(p, "UPDATE", call), up2);
  /* Nothing went to A: every message since its ACK is B's. */
  for (unsigned i = to_a; i < p->nsent; i++)
    ck_assert_ptr_nonnull(strstr(p->sent[i].data, call));
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 2);
  free(call);
  peer_free(p);
}
END_TEST

/* The limit of three challenges counts from the last request that got
 * through (cay__auth_settled()). */
START_TEST(auth_limit_is_per_request)
{
  cay__auth_t *a = cay__auth_new("u", "p");
  const char *why = NULL;

  for (int i = 0; i < 7; i++) {
    char ch[128];
    snprintf(ch, sizeof ch,
             "WWW-Authenticate: Digest realm=\"r\", nonce=\"n%d\"\r\n", i);
    if (i == 3)
      cay__auth_settled(a);
    ck_assert_int_eq(
        cay__auth_challenge(a, 401, challenge(401, ch), &rnd, &why),
        i < 6 ? 0 : -EACCES);
    (void)cay__auth_line(a, "UPDATE", URI);
  }
  ck_assert_str_eq(why, "challenged again and again");
  cay__auth_free(a);
}
END_TEST

/* ------------------------------------------------------------------ */
/* The embedder's cay_session_invite_with().                           */
/* ------------------------------------------------------------------ */

static void
on_call(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  (void)s;
  (void)ev;
  (void)arg;
}

static void
on_closed(cay_server_t *srv, void *arg)
{
  (void)srv;
  *(int *)arg = 1;
}

START_TEST(auth_invite_with_refuses_bad_options)
{
  static const char user_bad[] = "a\"b";
  uv_loop_t loop;
  cay_server_t *srv;
  cay_config_t cfg;
  cay_invite_opts_t o
      = { .uri = "sip:bob@127.0.0.1:9", .from = "<sip:me@127.0.0.1>" };
  char big[200];
  int closed = 0;

  memset(big, 'x', sizeof big - 1);
  big[sizeof big - 1] = '\0';
  ck_assert_int_eq(uv_loop_init(&loop), 0);
  cay_config_init(&cfg);
  cfg.listen[0].port = 0; /* any free port */
  cfg.n_listen = 1;
  cfg.log_level = CAY_LOG_ERROR;
  ck_assert_int_eq(cay_server_create(&srv, &loop, &cfg), 0);
  ck_assert_int_eq(cay_session_invite_with(srv, &o, on_call, NULL, NULL),
                   CAY_ESTATE);
  ck_assert_int_eq(cay_server_start(srv), 0);
  o.no_response_timeout_ms = 600001;
  ck_assert_int_eq(cay_session_invite_with(srv, &o, on_call, NULL, NULL),
                   -EINVAL);
  o.no_response_timeout_ms = 0;
  o.auth_username = user_bad;
  o.auth_password = "p";
  ck_assert_int_eq(cay_session_invite_with(srv, &o, on_call, NULL, NULL),
                   -EINVAL);
  o.auth_username = "u";
  o.auth_password = "";
  ck_assert_int_eq(cay_session_invite_with(srv, &o, on_call, NULL, NULL),
                   -EINVAL);
  o.auth_password = big;
  ck_assert_int_eq(cay_session_invite_with(srv, &o, on_call, NULL, NULL),
                   -EINVAL);
  o.auth_password = "p";
  o.from = NULL;
  ck_assert_int_eq(cay_session_invite_with(srv, &o, on_call, NULL, NULL),
                   -EINVAL);
  /* And a good one goes (to a port where nobody answers). */
  o.from = "<sip:me@127.0.0.1>";
  cay_id_t id = CAY_ID_NONE;
  ck_assert_int_eq(cay_session_invite_with(srv, &o, on_call, NULL, &id), 0);
  ck_assert(id != CAY_ID_NONE);
  cay_server_close(srv, 0, on_closed, &closed);
  uv_run(&loop, UV_RUN_DEFAULT);
  ck_assert_int_eq(closed, 1);
  ck_assert_int_eq(uv_loop_close(&loop), 0);
}
END_TEST

static Suite *
auth_suite(void)
{
  Suite *s = suite_create("auth");
  TCase *tc = tcase_create("core");

  tcase_add_checked_fixture(tc, setup, teardown);
  tcase_add_test(tc, auth_22_2_401_md5_without_qop_known_answer);
  tcase_add_test(tc, auth_22_3_407_proxy_authorization_qop_auth_counts);
  tcase_add_test(tc, auth_challenges_cay_cannot_answer);
  tcase_add_test(tc, auth_refused_credentials_and_stale_nonce);
  tcase_add_test(tc, auth_values_too_long_refused);
  tcase_add_test(tc, auth_limit_is_per_request);
  suite_add_tcase(s, tc);
  tc = tcase_create("bridge");
  tcase_add_test(tc, auth_bridge_407_retried_once_then_403_to_a);
  tcase_add_test(tc, auth_bridge_bye_challenged_sent_again);
  tcase_add_test(tc, auth_bridge_reinvite_update_bye_challenged);
  tcase_add_test(tc, auth_bridge_session_refresh_challenged);
  tcase_add_test(tc, auth_bridge_info_challenged_sent_again);
  tcase_add_test(tc, auth_invite_with_refuses_bad_options);
  suite_add_tcase(s, tc);
  return s;
}

int
main(void)
{
  return cay_test_run(auth_suite());
}
