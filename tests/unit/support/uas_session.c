/*
 * Calls to Cay's UAS from the scripted peer, as the session tests
 * (test_session.c, test_session_limits.c) make them (uas_session.h).
 */
#include <check.h>
#include <stdio.h>

#include "support/uas_session.h"

void
sess_invite(peer_t *p, const char *cid, const char *codecs)
{
  char branch[64];

  /* One branch per call: a second INVITE with the same branch would be a
   * retransmission (17.2.3). */
  snprintf(branch, sizeof branch, "z9hG4bK-inv-%s", cid);
  peer_send(p, "invite.sip", "branch", branch, "fromtag", "ft1", "callid", cid,
            "codecs", codecs, "extra", "", NULL);
}

void
sess_request(peer_t *p, const char *method, const char *cid, const char *branch,
             const char *cseq, const char *totag, const char *extra,
             const char *maxfwd)
{
  peer_send(p, "request.sip", "method", method, "branch", branch, "fromtag",
            "ft1", "callid", cid, "cseq", cseq, "totag", totag, "maxfwd",
            maxfwd, "extra", extra, NULL);
}

/* INVITE answered and ACKed; returns the To tag (";tag=...") in @p tag. */
void
sess_confirmed(peer_t *p, const char *cid, char *tag, size_t n)
{
  sess_invite(p, cid, "0 8 101");
  int ok = peer_find_last(p, 200, NULL);
  ck_assert_int_ge(ok, 0);
  peer_to_tag(p, (unsigned)ok, tag, n);
  sess_request(p, "ACK", cid, "z9hG4bK-ack", "1", tag, "", "70");
}
