/*
 * An outgoing call from Cay's UAC to the scripted peer (support/peer.h),
 * for the UAC unit tests (test_uac.c, test_uac_large.c): the session's
 * state events recorded, and the call placed.
 */
#ifndef CAY_TEST_UAC_CALL_H
#define CAY_TEST_UAC_CALL_H

#include "dialog/session_int.h"
#include "support/peer.h"

/** The first 16 EV_STATE events of a session: state and status; and
 * the last TERMINATING or TERMINATED event's ev->reason ("" for NULL). */
typedef struct uac_record {
  int n;
  cay_session_state_t states[16];
  int statuses[16];
  char reason[256];
} uac_record_t;

/** A session callback recording into the uac_record_t @p arg. */
void uac_on_state(cay_session_t *s, const cay_session_event_t *ev, void *arg);
/** Cay's INVITE to sip:svc@127.0.0.1:5070 (the peer) with a small offer,
 * events recorded in @p r: the session. */
cay__session_t *uac_call(peer_t *p, uac_record_t *r);
/** uac_call() with an INVITE of about 1,500 bytes (an SDP with many a=
 * lines: RFC 3261 section 18.1.1 sends it over TCP). */
cay__session_t *uac_large_call(peer_t *p, uac_record_t *r);
/** Send the callee's BYE in the dialog of our INVITE (sent message
 * @p inv): To is us (our From tag), From is the callee with @p from_tag
 * (";tag=X", or "" for an RFC 2543 peer that gave none), then the
 * header lines @p extra ("" or lines ending in CRLF). */
void uac_their_bye(peer_t *p, unsigned inv, const char *from_tag,
                   const char *extra);
/** The transport of sent message @p i's top Via ("UDP", "TCP"), in
 * @p buf (4 bytes at least). */
const char *uac_via_transport(peer_t *p, unsigned i, char *buf);

#endif
