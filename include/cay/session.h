/*
 * Cay sessions: INVITE sessions (RFC 3261 sections 12-15) as the library
 * exposes them. This first part covers outgoing calls placed by the
 * embedder and hanging up; answering stays with the server's configured
 * behaviour (see cay_config_t's answer options).
 *
 *   outgoing:  CALLING --1xx--> EARLY --2xx (ACK sent)--> CONFIRMED
 *   incoming:  INCOMING --180--> EARLY --200--> CONNECTING --ACK--> CONFIRMED
 *   either:    CONFIRMED --BYE--> TERMINATING --final or timeout--> TERMINATED
 *              CALLING/EARLY --final >= 300, CANCEL, timeout--> TERMINATED
 */
#ifndef CAY_SESSION_H
#define CAY_SESSION_H

#include "server.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct cay__session cay_session_t;

typedef enum cay_session_state {
  CAY_SESSION_CALLING,     /* our INVITE is out, nothing back yet */
  CAY_SESSION_INCOMING,    /* an INVITE came, nothing sent yet */
  CAY_SESSION_EARLY,       /* a provisional response with a tag */
  CAY_SESSION_CONNECTING,  /* 2xx sent, ACK not yet received */
  CAY_SESSION_CONFIRMED,   /* 2xx and ACK done: the call is up */
  CAY_SESSION_TERMINATING, /* our BYE is out */
  CAY_SESSION_TERMINATED
} cay_session_state_t;

/**
 * Called on the shard owning @p s for every state change and for every
 * provisional response (state EARLY, @p status 180, 183, ...).
 *
 * @param s       The session. Borrowed: valid during the call only; keep
 *                cay_session_id(s) to find it later.
 * @param status  The SIP status that caused the change (the final response
 *                of a failed call, 408 for a timeout, 200 for an answer,
 *                the BYE's final response when it ends), or 0.
 * @param arg     As given to cay_session_invite().
 */
typedef void (*cay_session_cb)(cay_session_t *s, cay_session_state_t state,
                               int status, void *arg);

/**
 * Place an outgoing call (RFC 3261 section 13.2): an INVITE to @p uri with
 * @p sdp as the offer, From @p from, on shard 0. The Call-ID is chosen so
 * that it hashes to shard 0 (DESIGN.md rule 2). Retransmission and
 * timeout follow section 17.1.1 (timers A and B); the 2xx is ACKed by the
 * session (section 13.2.2.4).
 *
 * @param srv   A started server. Borrowed.
 * @param uri   Request-URI, "sip:user@IP[:port][;transport=tcp]" (Cay does
 *              no DNS yet: the host must be an IP literal). Borrowed.
 * @param from  From, e.g. "<sip:cay@127.0.0.1>". Borrowed.
 * @param sdp   The offer, or NULL for an INVITE without one. Borrowed;
 *              copied.
 * @param cb    Called with every state change. Borrowed.
 * @param arg   Passed to @p cb.
 * @param id    Receives the session id, or NULL.
 * @return 0, -EINVAL (uri or from does not parse, or the host is not an IP
 *         literal), CAY_ESTATE (not started, or closing), -ENOMEM, or the
 *         error of the first send.
 * @thread owner (shard 0's loop)
 */
int cay_session_invite(cay_server_t *srv, const char *uri, const char *from,
                       const char *sdp, cay_session_cb cb, void *arg,
                       cay_id_t *id);

/**
 * Hang up: CANCEL an outgoing call not yet answered (section 9.1; before
 * any provisional the CANCEL waits for one), BYE an answered one (section
 * 15.1.1). A session already terminating is left alone.
 *
 * @return 0, or CAY_ESTATE (an incoming session not yet answered, or
 *         terminated).
 * @thread owner
 */
int cay_session_hangup(cay_session_t *s);

/**
 * Find a session of shard 0 by id.
 * @return The session (Borrowed, valid until the current callback returns)
 *         or NULL when it is gone.
 * @thread owner (shard 0's loop)
 */
cay_session_t *cay_session_lookup(cay_server_t *srv, cay_id_t id);

/** The session's state. @thread owner */
cay_session_state_t cay_session_state(const cay_session_t *s);

/** The session's id (0 never). @thread owner */
cay_id_t cay_session_id(const cay_session_t *s);

/** The session's Call-ID. Borrowed, valid with the session. @thread owner */
const char *cay_session_call_id(const cay_session_t *s);

#ifdef __cplusplus
}
#endif
#endif
