#include "support/uas_call.h"

#include <check.h>
#include <stdio.h>

#include "dialog/session_int.h"

void
uas_invite(peer_t *p, const char *cid, const char *extra)
{
  char branch[64];

  snprintf(branch, sizeof branch, "z9hG4bK-inv-%s", cid);
  peer_send(p, "invite.sip", "branch", branch, "fromtag", "ft1", "callid", cid,
            "codecs", "0 8 101", "extra", extra, NULL);
}

void
uas_request(peer_t *p, const char *method, const char *cid, const char *branch,
            const char *cseq, const char *totag, const char *extra)
{
  peer_send(p, "request.sip", "method", method, "branch", branch, "fromtag",
            "ft1", "callid", cid, "cseq", cseq, "totag", totag, "maxfwd", "70",
            "extra", extra, NULL);
}

void
uas_request_body(peer_t *p, const char *method, const char *cid,
                 const char *branch, const char *cseq, const char *totag,
                 const char *ctype, const char *body)
{
  peer_send(p, "request_body.sip", "method", method, "branch", branch,
            "fromtag", "ft1", "callid", cid, "cseq", cseq, "totag", totag,
            "extra", "", "ctype", ctype, "body", body, NULL);
}

void
uas_request_sdp(peer_t *p, const char *method, const char *cid,
                const char *branch, const char *cseq, const char *totag,
                const char *body)
{
  uas_request_body(p, method, cid, branch, cseq, totag, "application/sdp",
                   body);
}

void
uas_confirmed(peer_t *p, const char *cid, const char *extra, char *tag,
              size_t n)
{
  uas_invite(p, cid, extra);
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_int_ge(ok, 0);
  peer_to_tag(p, (unsigned)ok, tag, n);
  uas_request(p, "ACK", cid, "z9hG4bK-ack", "1", tag, "");
  ck_assert_int_eq(cay__session_state(cay__sessions_any(&p->ss)),
                   CAY__SESSION_CONFIRMED);
}

cay__session_t *
uas_watched(peer_t *p, const char *cid, cay_session_cb cb, void *arg, char *tag,
            size_t n)
{
  uas_confirmed(p, cid, "", tag, n);
  cay__session_t *s = cay__sessions_any(&p->ss);
  cay_session_set_cb(s, cb, arg);
  peer_clear(p);
  return s;
}
