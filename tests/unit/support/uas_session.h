/*
 * Calls to Cay's UAS from the scripted peer (support/peer.h) for the
 * session tests: an INVITE with a chosen offer, any request with a chosen
 * Max-Forwards, a call brought to CONFIRMED.
 */
#ifndef CAY_TEST_UAS_SESSION_H
#define CAY_TEST_UAS_SESSION_H

#include <stddef.h>

#include "support/peer.h"

/** An INVITE for Call-ID @p cid (branch from it, From tag ft1) offering
 * the payload types @p codecs ("0 8 101"). */
void sess_invite(peer_t *p, const char *cid, const char *codecs);
/** Request @p method (CSeq @p cseq, To tag @p totag or "", Max-Forwards
 * @p maxfwd) with the header lines @p extra ("" or lines ending in
 * CRLF). */
void sess_request(peer_t *p, const char *method, const char *cid,
                  const char *branch, const char *cseq, const char *totag,
                  const char *extra, const char *maxfwd);
/** sess_invite() with "0 8 101", answered and ACKed: the To tag
 * (";tag=...") in @p tag (size @p n). */
void sess_confirmed(peer_t *p, const char *cid, char *tag, size_t n);

#endif
