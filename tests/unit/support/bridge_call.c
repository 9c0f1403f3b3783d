/* The bridged call of the B2BUA unit tests: support/bridge_call.h. */
#include "support/bridge_call.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dialog/session_int.h"

cay_config_t
bridge_config(long max_s, unsigned ring_s, const char *codec)
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

void
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
int
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
void
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
void
respond(peer_t *p, unsigned i, const char *status, const char *extra,
        const char *sdp)
{
  respond_as(p, i, "b1", status, extra, sdp);
}

const char b_offer_pcmu_pcma[] = "v=0\r\n"
                                 "o=callee 1 1 IN IP4 127.0.0.9\r\n"
                                 "s=-\r\n"
                                 "c=IN IP4 127.0.0.9\r\n"
                                 "t=0 0\r\n"
                                 "m=audio 7000 RTP/AVP 0 8\r\n"
                                 "a=rtpmap:0 PCMU/8000\r\n"
                                 "a=rtpmap:8 PCMA/8000\r\n";

const char contact_b[] = "Contact: <sip:callee@127.0.0.1:5070>\r\n";

/* A calls, B rings and answers, A ACKs: returns A's To tag. */
void
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

void
a_request(peer_t *p, const char *method, const char *branch, const char *cseq,
          const char *tag)
{
  a_request_with(p, method, branch, cseq, tag, "");
}

void
a_request_with(peer_t *p, const char *method, const char *branch,
               const char *cseq, const char *tag, const char *extra)
{
  peer_send(p, "request.sip", "method", method, "branch", branch, "fromtag",
            "ft1", "callid", "a-leg", "cseq", cseq, "totag", tag, "maxfwd",
            "70", "extra", extra, NULL);
}

/* A re-INVITE from A in the bridged call (A's To tag @p tag) offering
 * @p sdp. */
void
reinvite_a(peer_t *p, const char *branch, const char *cseq, const char *tag,
           const char *sdp)
{
  peer_send(p, "request_body.sip", "method", "INVITE", "branch", branch,
            "fromtag", "ft1", "callid", "a-leg", "cseq", cseq, "totag", tag,
            "extra", "", "ctype", "application/sdp", "body", sdp, NULL);
}

/* A request from B in the B leg's dialog (B's tag "b1", as respond()
 * gives it), Cay's INVITE to B being sent message @p inv. */
void
b_request(peer_t *p, unsigned inv, const char *method, unsigned cseq)
{
  b_request_with(p, inv, method, cseq, "", NULL, NULL);
}

/* b_request() with header lines @p extra and, when @p ctype is set, body
 * @p body. */
void
b_request_with(peer_t *p, unsigned inv, const char *method, unsigned cseq,
               const char *extra, const char *ctype, const char *body)
{
  char *from = peer_header(p, inv, "From"), *to = peer_header(p, inv, "To");
  char *cid = peer_header(p, inv, "Call-ID");
  char buf[4096], type[128] = "";
  size_t blen = ctype ? strlen(body) : 0;
  int n;

  if (ctype)
    snprintf(type, sizeof type, "Content-Type: %s\r\n", ctype);
  n = snprintf(buf, sizeof buf,
               "%s sip:cay@127.0.0.1:5060 SIP/2.0\r\n"
               "Via: SIP/2.0/UDP 127.0.0.1:5070;branch=z9hG4bK-b-%u\r\n"
               "Max-Forwards: 70\r\nFrom: %s;tag=b1\r\nTo: %s\r\n"
               "Call-ID: %s\r\nCSeq: %u %s\r\n%s%sContent-Length: %zu\r\n"
               "\r\n%s",
               method, cseq, to, from, cid, cseq, method, extra, type, blen,
               ctype ? body : "");
  ck_assert_int_lt(n, (int)sizeof buf);
  peer_send_raw(p, buf, (size_t)n);
  free(from);
  free(to);
  free(cid);
}

/* Index of the last final response Cay sent to A with CSeq @p cseq
 * ("2 INFO"), or -1. */
int
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

unsigned
a_final_is(peer_t *p, const char *cseq, int status)
{
  int i = a_response(p, cseq);

  ck_assert_msg(i >= 0, "A got no final response to %s", cseq);
  ck_assert_int_eq(peer_status(p, (unsigned)i), status);
  return (unsigned)i;
}

void
a_info(peer_t *p, const char *branch, const char *cseq, const char *tag)
{
  peer_send(p, "request_body.sip", "method", "INFO", "branch", branch,
            "fromtag", "ft1", "callid", "a-leg", "cseq", cseq, "totag", tag,
            "extra", "", "ctype", "application/dtmf-relay", "body",
            "Signal=5\r\nDuration=160\r\n", NULL);
}

/* The body of sent message @p i (after the blank line). */
const char *
body_of(peer_t *p, unsigned i)
{
  const char *b = strstr(p->sent[i].data, "\r\n\r\n");
  ck_assert_ptr_nonnull(b);
  return b + 4;
}

void
call_gone(peer_t *p)
{
  ck_assert_uint_eq(cay__sessions_live(&p->ss), 0);
  ck_assert_uint_eq(p->ss.bridges, 0);
}
