/*
 * REGISTERs from the scripted peer (support/peer.h) for the registrar's
 * tests (test_registrar.c, test_location.c).
 */
#ifndef CAY_TEST_REGISTER_H
#define CAY_TEST_REGISTER_H

#include "support/peer.h"

/* Send REGISTER sip:@p domain for @p aor with Call-ID @p cid, CSeq
 * @p cseq and the header lines @p extra ("" or lines ending in CRLF), a
 * new branch each time; return the status of Cay's answer. */
int reg_send(peer_t *p, const char *domain, const char *aor, const char *cid,
             unsigned cseq, const char *extra);

#endif
