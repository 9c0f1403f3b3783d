/*
 * REGISTERs from the scripted peer (support/peer.h) for the registrar's
 * tests (test_registrar.c, test_location.c).
 */
#ifndef CAY_TEST_REGISTER_H
#define CAY_TEST_REGISTER_H

#include "cay/config.h"
#include "registrar/registrar.h"
#include "support/peer.h"

/* The AOR of A's INVITE (invite_a(): sip:service@127.0.0.1:5060). */
#define SERVICE "sip:service@127.0.0.1"

/* Send REGISTER sip:@p domain for @p aor with Call-ID @p cid, CSeq
 * @p cseq and the header lines @p extra ("" or lines ending in CRLF), a
 * new branch each time; return the status of Cay's answer. */
int reg_send(peer_t *p, const char *domain, const char *aor, const char *cid,
             unsigned cseq, const char *extra);

/* A register route for REGISTERs, and "^serv" forwarded to the
 * registered contacts of the Request-URI (bridge_config()'s route with
 * location), then to voicemail on port 5072 when @p voicemail. */
cay_config_t location_config(int voicemail);

/* Assert that the request line of sent message @p i starts with
 * "INVITE @p uri ". */
void invite_to(peer_t *p, int i, const char *uri);

/* What the registrar's share hook was told (reg_told_record(), set with
 * cay__registrar_set_share()): changes, removals, bindings moved off
 * their flow, and the last change's keepalive_s. */
typedef struct reg_told {
  unsigned n, removed, moved;
  unsigned keepalive_s;
} reg_told_t;

/* A cay__registrar_share_fn counting into @p arg (a reg_told_t). */
void reg_told_record(void *arg, const cay__binding_change_t *c);

#endif
