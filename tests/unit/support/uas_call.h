/*
 * A call to Cay's UAS from the scripted peer (support/peer.h), for unit
 * tests of what happens in a dialog: the INVITE, requests in the dialog,
 * and a call brought to CONFIRMED.
 */
#ifndef CAY_TEST_UAS_CALL_H
#define CAY_TEST_UAS_CALL_H

#include <stddef.h>

#include "dialog/session_int.h"
#include "support/peer.h"

/** An INVITE for Call-ID @p cid (From tag ft1, offer PCMU/PCMA/101) with
 * the header lines @p extra (may be ""). */
void uas_invite(peer_t *p, const char *cid, const char *extra);
/** A request @p method in the dialog (To tag @p totag, ";tag=X", or ""
 * outside it), without a body. */
void uas_request(peer_t *p, const char *method, const char *cid,
                 const char *branch, const char *cseq, const char *totag,
                 const char *extra);
/** A request @p method in the dialog with body @p body of type
 * @p ctype. */
void uas_request_body(peer_t *p, const char *method, const char *cid,
                      const char *branch, const char *cseq, const char *totag,
                      const char *ctype, const char *body);
/** uas_request_body() with an application/sdp body. */
void uas_request_sdp(peer_t *p, const char *method, const char *cid,
                     const char *branch, const char *cseq, const char *totag,
                     const char *body);
/** INVITE (with @p extra headers) answered and ACKed: the session is
 * CONFIRMED, its To tag (";tag=X") in @p tag (size @p n). */
void uas_confirmed(peer_t *p, const char *cid, const char *extra, char *tag,
                   size_t n);

/** uas_confirmed() (no extra headers), then the session's events go to
 * @p cb with @p arg and what Cay sent so far is forgotten (peer_clear()).
 * @return the session. */
cay__session_t *uas_watched(peer_t *p, const char *cid, cay_session_cb cb,
                            void *arg, char *tag, size_t n);

#endif
