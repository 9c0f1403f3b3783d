/*
 * Cay sessions: INVITE sessions (RFC 3261 sections 12-15) as the library
 * exposes them, both ways: outgoing calls placed by the embedder, incoming
 * calls handed to it (cay_server_on_session()), and changes to a running
 * session (re-INVITE, UPDATE).
 *
 *   outgoing:  CALLING --1xx with tag--> EARLY --2xx (ACK sent)--> CONFIRMED
 *   incoming:  INCOMING --ring/progress--> EARLY --answer--> CONNECTING
 *              CONNECTING --ACK--> CONFIRMED
 *   either:    CONFIRMED --our BYE--> TERMINATING --final/timeout-->
 *              TERMINATED
 *              CONFIRMED --their BYE, session timer expiry--> TERMINATED
 *              CALLING/EARLY/INCOMING --final >= 300, CANCEL, timeout,
 *              reject--> TERMINATED
 *
 * Every callback runs on the shard that owns the session, the one its
 * Call-ID hashes to (DESIGN.md rule 2). Ids (cay_id_t) name a shard: look a
 * session up on that shard's loop only.
 */
#ifndef CAY_SESSION_H
#define CAY_SESSION_H

#include <stddef.h>

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

/** What a session callback reports. */
typedef enum cay_session_event_kind {
  /* The state changed (ev->state); ev->status is the SIP status that
   * caused it (the final response of a failed call, 408 for a timeout,
   * 200 for an answer, the BYE's final response when it ends) or 0. A 2xx
   * carries the answer (or offer) in ev->body. When our INVITE had no
   * offer, the 2xx's body is the peer's offer and the ACK carries the
   * answer (RFC 3261 section 13.2.1): answer it with
   * cay_session_answer_offer() during the callback or, after
   * cay_session_defer_offer(), later (the ACK waits; a hangup meanwhile
   * ACKs with Cay's own answer first); otherwise Cay answers it from its
   * configured codecs when the callback returns. */
  CAY_SESSION_EV_STATE,
  /* A provisional response to our INVITE (ev->status 180, 183, ...),
   * with early SDP in ev->body when it has one. */
  CAY_SESSION_EV_PROVISIONAL,
  /* The peer changes the session: a re-INVITE or UPDATE (ev->method) with
   * an offer in ev->body (or none: a re-INVITE asking for our offer).
   * Answer it with cay_session_answer_offer() during the callback or,
   * after cay_session_defer_offer(), later; otherwise Cay answers it
   * itself when the callback returns (its configured codecs). An UPDATE
   * may come in the early dialog too (ev->state EARLY, RFC 3311 section
   * 5.1), once a reliable provisional answered the INVITE's offer. */
  CAY_SESSION_EV_OFFER,
  /* Our re-INVITE/UPDATE (cay_session_modify()) got its final response:
   * ev->status (2xx: the answer in ev->body; 491 only when the retries
   * of RFC 3261 section 14.1 are used up). After
   * cay_session_modify_without_offer() a 2xx's body is the peer's offer
   * and the ACK carries the answer (RFC 3261 section 14.1, 13.2.1):
   * answer it with cay_session_answer_offer() during the callback or,
   * after cay_session_defer_offer(), later (the ACK waits; a hangup
   * meanwhile ACKs with Cay's own answer first); otherwise Cay answers
   * it from its configured codecs when the callback returns. */
  CAY_SESSION_EV_MODIFIED,
  /* An INFO (RFC 6086) arrived; ev->body/content_type hold its body (none
   * for an empty INFO), ev->request names it. Answer it with
   * cay_session_answer_request() during the callback or, after
   * cay_session_defer_request(), later; otherwise Cay answers it 200 when
   * the callback returns. */
  CAY_SESSION_EV_INFO,
  /* The final response to our INFO, REFER or NOTIFY sent with a request
   * id (cay_session_request()): ev->method and ev->status (408 for no
   * response; after a 401/407 answered with credentials, the response to
   * the request sent again), ev->request the id, ev->headers the
   * response's header lines that the request's sender needs relayed (a
   * REFER's 2xx: its Refer-Sub, RFC 4488 section 4; a 420: its
   * Unsupported, RFC 3261 section 8.2.2.3) or NULL. A 408 or 481 also
   * ends the session with BYE (RFC 3261 section 12.2.1.2), after this
   * event. */
  CAY_SESSION_EV_REQUEST_ANSWERED,
  /* The peer CANCELed its re-INVITE (RFC 3261 section 9.2) while its
   * offer waits for the embedder (cay_session_defer_offer()). Cay answers
   * the re-INVITE 487 when the callback returns (the session stays as it
   * was, 14.2) unless the callback calls cay_session_defer_offer() again:
   * then the embedder's answer still goes (a B2BUA relays the other
   * side's final response: 487 when its CANCEL took effect, 2xx when it
   * crossed the answer). */
  CAY_SESSION_EV_CANCEL,
  /* The ACK of our 2xx to the peer's re-INVITE without an offer: our 2xx
   * carried the offer, and ev->body the peer's answer (none when its ACK
   * had none; RFC 3261 section 14.2, 13.2.1). */
  CAY_SESSION_EV_ANSWER,
  /* A REFER (RFC 3515), NOTIFY (RFC 6665) or MESSAGE (RFC 3428 section
   * 4) arrived in the dialog: ev->method names it, ev->request is its id,
   * ev->headers holds the method's own header lines as received (REFER:
   * Refer-To, Referred-By, Refer-Sub, Target-Dialog, and "Require:
   * norefersub" when it required that, RFC 4488 section 4; NOTIFY: Event,
   * Subscription-State; MESSAGE: none, ""), and ev->body/content_type
   * its body (a REFER's NOTIFY: message/sipfrag; a MESSAGE's text).
   * Answer it with cay_session_answer_request() during the callback or,
   * after cay_session_defer_request(), later (a B2BUA relays it and the
   * other side's answer); otherwise Cay answers it 405 when the callback
   * returns: Cay itself does not transfer calls, take subscriptions or
   * read messages. */
  CAY_SESSION_EV_REQUEST
} cay_session_event_kind_t;

/** One event. Every pointer is Borrowed: valid during the callback only. */
typedef struct cay_session_event {
  cay_session_event_kind_t kind;
  cay_session_state_t state; /* the session's state now */
  int status;                /* see the kinds, or 0 */
  const char *method;        /* the request behind it, or NULL */
  const char *content_type;  /* of body, or NULL */
  const char *body;          /* NULL when none; not NUL-terminated */
  size_t body_len;
  cay_id_t request;    /* EV_INFO, EV_REQUEST, EV_REQUEST_ANSWERED: the
                          request's id, else 0 */
  const char *headers; /* EV_REQUEST, EV_REQUEST_ANSWERED: "Name: value\r\n"
                          lines, or NULL; EV_PROVISIONAL and EV_STATE of a
                          bridged B leg: the response's header fields its
                          route passes (pass_headers), a failure's too;
                          EV_STATE TERMINATED of a bridged leg ended by
                          its peer's BYE or CANCEL: that request's;
                          EV_STATE TERMINATING: the header lines of the
                          BYE Cay sent, the Reason (RFC 3326) when Cay
                          ended the session on its own (Q.850 102 for a
                          timer: no ACK, max duration, session timer); else
                          NULL */
  const char *reason;  /* EV_STATE TERMINATED: the Reason header field
                          value (RFC 3326; RFC 6432 in a response) of the
                          peer's BYE, CANCEL or final failure that ended the
                          session, its Reason values joined by ", " (those
                          that fit in 255 bytes; one too long is left
                          out), e.g.
                          "Q.850;cause=16;text=\"Normal call clearing\"";
                          EV_STATE TERMINATING and TERMINATED after a BYE
                          Cay sent on its own (a timer, the shutdown): that
                          BYE's Reason ("Q.850;cause=102;text=\"max
                          duration\"", "SIP;cause=503;text=\"shutdown\"");
                          else NULL (none given, or not known) */
} cay_session_event_t;

/**
 * Called on the shard owning @p s for every event of the session.
 *
 * @param s    The session. Borrowed: valid during the call only; keep
 *             cay_session_id(s) to find it later.
 * @param ev   The event. Borrowed.
 * @param arg  As given with the callback.
 */
typedef void (*cay_session_cb)(cay_session_t *s, const cay_session_event_t *ev,
                               void *arg);

/** What an incoming INVITE asked for. Every pointer Borrowed (the call). */
typedef struct cay_incoming {
  const char *request_uri; /* "sip:bob@example.com" */
  const char *from;        /* the From header value */
  const char *to;          /* the To header value */
  const char *source;      /* "IP:port" the INVITE came from */
  const char *sdp;         /* the offer, or NULL */
  size_t sdp_len;
} cay_incoming_t;

/**
 * Called on the owning shard for each new incoming INVITE (after the
 * checks of RFC 3261 section 8.2). The session is INCOMING: set its
 * callback with cay_session_set_cb() and ring, progress, answer, reject or
 * redirect it, now or later (by id on the same shard). A CANCEL or a
 * drain may end it first (an EV_STATE TERMINATED reaches its callback).
 */
typedef void (*cay_incoming_cb)(cay_session_t *s, const cay_incoming_t *in,
                                void *arg);

/**
 * Take incoming calls: without this (and without a matching `forward` or
 * `reject` route), Cay answers every call itself per the config's answer:
 * section.
 *
 * @param cb   Called for each new incoming session; NULL restores the
 *             built-in answering. Borrowed.
 * @return 0 or CAY_ESTATE (already started).
 * @thread the thread that created @p srv, before cay_server_start()
 */
int cay_server_on_session(cay_server_t *srv, cay_incoming_cb cb, void *arg);

/**
 * Set (or replace) the session's event callback.
 * @thread owner
 */
void cay_session_set_cb(cay_session_t *s, cay_session_cb cb, void *arg);

/**
 * Send a provisional response (RFC 3261 section 13.3.1.1): 180 Ringing
 * for @p status 180, 183 Session Progress with early media when @p sdp is
 * given (an answer to the INVITE's offer; RFC 3262 makes it reliable when
 * the INVITE requires 100rel: then Cay retransmits it until the PRACK).
 *
 * @param status  101..199.
 * @param sdp     NUL-terminated SDP, or NULL. Borrowed; copied.
 * @return 0, -EINVAL (status), CAY_ESTATE (not INCOMING/EARLY, or a
 *         reliable provisional not yet acknowledged), -ENOMEM.
 * @thread owner
 */
int cay_session_progress(cay_session_t *s, int status, const char *sdp);

/**
 * Answer with 200 (RFC 3261 section 13.3.1.4): the 2xx is retransmitted
 * until the ACK, and the session ends with BYE after 64*T1 without one.
 *
 * @param sdp  The answer to the INVITE's offer (or Cay's offer when the
 *             INVITE had none), NUL-terminated; NULL: Cay builds it from
 *             its configured codecs, or, when a reliable provisional
 *             already answered the offer (RFC 3262), repeats the SDP last
 *             sent in the early dialog, as an UPDATE there may have
 *             changed it (RFC 6337 section 3.1.1). Borrowed; copied.
 * @return 0, CAY_ESTATE (not INCOMING/EARLY), CAY_ENOCODEC or CAY_EPARSE
 *         (sdp NULL and the offer cannot be answered: reject it 488),
 *         -ENOMEM.
 * @thread owner
 */
int cay_session_answer(cay_session_t *s, const char *sdp);

/**
 * Reject (status 300..699; 3xx redirects to @p contact, section 13.3.1.2
 * and 21.3) and end the session: also when cay_session_answer()'s 2xx
 * still waits for a PRACK (RFC 3262 section 3 lets a failure go first).
 *
 * @param reason   Reason phrase, or NULL for the standard one. Borrowed.
 * @param contact  3xx: the new target(s), a Contact header value; else
 *                 NULL. Borrowed.
 * @return 0, -EINVAL (status, or a 3xx without contact), CAY_ESTATE (not
 *         INCOMING/EARLY).
 * @thread owner
 */
int cay_session_reject(cay_session_t *s, int status, const char *reason,
                       const char *contact);

/**
 * Change a confirmed session (RFC 3261 section 14, RFC 3311): send a
 * re-INVITE (or an UPDATE when @p update is set) with @p sdp as the new
 * offer. The final response arrives as CAY_SESSION_EV_MODIFIED. On 491
 * (glare) Cay retries after the section 14.1 delay (2.1-4 s when it owns
 * the Call-ID, 0-2 s otherwise), up to 3 times. An UPDATE may also go in
 * the early dialog (RFC 3311 section 5.1) once the INVITE's offer was
 * answered in a reliable provisional (RFC 3262): ours, once its PRACK
 * came (UAS), or the peer's, PRACKed (UAC).
 *
 * @param sdp  The offer, NUL-terminated, or NULL: Cay's own offer from its
 *             configured codecs. Borrowed; copied.
 * @return 0, CAY_ESTATE (not CONFIRMED nor, for an UPDATE, an early
 *         dialog as above; or an offer of ours or theirs is still
 *         outstanding), -ENOMEM, or the send's error.
 * @thread owner
 */
int cay_session_modify(cay_session_t *s, const char *sdp, int update);

/**
 * Send a re-INVITE without an offer (RFC 3261 section 14.1): the peer's
 * 2xx carries its offer, reported by CAY_SESSION_EV_MODIFIED, and the ACK
 * the answer (what a B2BUA does with the other side's offerless
 * re-INVITE). 491 retries, credentials and cay_session_modify_cancel()
 * as for cay_session_modify().
 * @return 0, CAY_ESTATE (not CONFIRMED, or an offer of ours or theirs is
 *         still outstanding), -ENOMEM, or the send's error.
 * @thread owner
 */
int cay_session_modify_without_offer(cay_session_t *s);

/**
 * Answer the peer's offer reported by CAY_SESSION_EV_OFFER: 2xx with
 * @p sdp (status 200; for a re-INVITE without an offer, @p sdp is our
 * offer and CAY_SESSION_EV_ANSWER later reports the answer), or a
 * rejection (488 for an unacceptable offer, RFC 3261 section 14.2; the
 * session stays as it was). Also answers the offer in the 2xx to our
 * offerless INVITE (CAY_SESSION_EV_STATE, RFC 3261 section 13.2.1) or
 * re-INVITE (CAY_SESSION_EV_MODIFIED): status 200 sends the ACK with
 * @p sdp; a rejection sends the ACK (an INVITE's without an answer, a
 * re-INVITE's with Cay's own) and ends the session with BYE (a 2xx
 * cannot be refused, section 13.2.2.4).
 *
 * @param status  200 or 300..699.
 * @param sdp     The answer for 200, NUL-terminated; NULL: Cay answers
 *                from its configured codecs. Borrowed; copied.
 * @return 0, CAY_ESTATE (no offer pending), -EINVAL, -ENOMEM.
 * @thread owner
 */
int cay_session_answer_offer(cay_session_t *s, int status, const char *sdp);

/**
 * Keep the offer of the current CAY_SESSION_EV_OFFER, or of the 2xx
 * reported by CAY_SESSION_EV_STATE or EV_MODIFIED, open after the
 * callback returns (the
 * embedder answers it later with cay_session_answer_offer(); the peer
 * waits, retransmitting its request or its 2xx). During
 * CAY_SESSION_EV_CANCEL: keep the CANCELed re-INVITE open (no 487 now).
 * @return 0 or CAY_ESTATE (no offer pending).
 * @thread owner, during the EV_OFFER, EV_STATE, EV_MODIFIED or EV_CANCEL
 *         callback
 */
int cay_session_defer_offer(cay_session_t *s);

/**
 * Send an INFO (RFC 6086; e.g. DTMF as "application/dtmf-relay"), a REFER
 * (RFC 3515), a NOTIFY (RFC 6665) or a MESSAGE (RFC 3428 section 4) in a
 * confirmed session, with our Contact for REFER and NOTIFY; an INFO or a
 * MESSAGE also in an early one (RFC 6086 section 4.2.1, RFC 3428 section 4:
 * state CAY_SESSION_EARLY, once a provisional response with a To tag went
 * out or came in). A 408 or 481 to it ends a confirmed session with BYE
 * (RFC 3261 section 12.2.1.2); a session with credentials
 * (cay_invite_opts_t) sends it again after a 401/407 with them (section
 * 22.2).
 *
 * @param method        "INFO", "REFER", "NOTIFY" or "MESSAGE" (case
 *                      matters, RFC 3261 section 7.1). Borrowed.
 * @param headers       NULL, or header lines "Name: value\r\n..." the
 *                      request carries (a REFER's Refer-To, a NOTIFY's
 *                      Event and Subscription-State). Not the headers
 *                      Cay writes itself: Via, From, To, Call-ID, CSeq,
 *                      Max-Forwards, Contact, Route, Content-Type,
 *                      Content-Length. Borrowed; copied.
 * @param content_type  The body's type; NULL only without a body.
 *                      Borrowed; copied.
 * @param body          @p body_len bytes, or NULL. Borrowed; copied.
 * @param request       NULL, or receives the request's id: its final
 *                      response is then reported as
 *                      CAY_SESSION_EV_REQUEST_ANSWERED with this id.
 * @return 0, CAY_ESTATE (not CONFIRMED; for an INFO or MESSAGE, not
 *         CONFIRMED or EARLY with an early dialog), -EINVAL (another
 *         method; a body without a type, or a NULL body of nonzero
 *         length; @p headers not lines of "Name: value\r\n", or naming a
 *         header Cay writes), -ENOMEM, or the send's error.
 * @thread owner
 */
int cay_session_request(cay_session_t *s, const char *method,
                        const char *headers, const char *content_type,
                        const char *body, size_t body_len, cay_id_t *request);

/**
 * Keep the request of the current CAY_SESSION_EV_INFO or EV_REQUEST open
 * after the callback returns: the embedder answers it later with
 * cay_session_answer_request() (a B2BUA, once the other side answered
 * its copy). If the session ends first, Cay answers it 487 (RFC 3261
 * section 15.1.2).
 * @return 0, CAY_ESTATE (not in that callback, or already answered),
 *         -ENOMEM.
 * @thread owner, during the EV_INFO or EV_REQUEST callback
 */
int cay_session_defer_request(cay_session_t *s);

/**
 * Answer the peer's INFO, REFER or NOTIFY @p request (ev->request of
 * CAY_SESSION_EV_INFO or EV_REQUEST): during its callback, or later once
 * deferred (cay_session_defer_request()).
 *
 * @param status  200..699 (RFC 6086 section 4.2.2: 200 when an INFO's
 *                body was taken, 415 for a type not supported; RFC 3515
 *                section 2.4.2: 202 for a REFER accepted, ...).
 * @param reason  Reason phrase, or NULL for the standard one. Borrowed.
 * @param headers NULL, or header lines "Name: value\r\n..." for the
 *                response, under the rules of cay_session_request()'s
 *                (a B2BUA relays the other side's Refer-Sub, RFC 4488
 *                section 4, or Unsupported). Borrowed; copied.
 * @return 0, -EINVAL (status; @p headers not lines of "Name: value\r\n",
 *         or naming a header Cay writes), CAY_ESTATE (no such request
 *         waits for its answer in this session: answered, or ended).
 * @thread owner
 */
int cay_session_answer_request(cay_session_t *s, cay_id_t request, int status,
                               const char *reason, const char *headers);

/**
 * CANCEL our re-INVITE (cay_session_modify() without @p update) that has
 * no final response yet (RFC 3261 section 9.1): before any provisional
 * response the CANCEL waits for one. Its final response is still
 * reported (CAY_SESSION_EV_MODIFIED): 487 when the CANCEL took effect,
 * a 2xx when it crossed the answer (ACKed, and in effect: 14.1). A
 * re-INVITE waiting to go again after 491 (14.1) is not sent again: 487
 * is reported once the loop runs. A 401/407 or 491 to a CANCELed
 * re-INVITE is reported, not answered.
 * @return 0, CAY_ESTATE (no re-INVITE of the embedder's in progress).
 * @thread owner
 */
int cay_session_modify_cancel(cay_session_t *s);

/**
 * Place an outgoing call (RFC 3261 section 13.2): an INVITE to @p uri with
 * @p sdp as the offer, From @p from, on shard 0. The Call-ID is chosen so
 * that it hashes to shard 0 (DESIGN.md rule 2). Retransmission and
 * timeout follow section 17.1.1 (timers A and B); the 2xx is ACKed by the
 * session (section 13.2.2.4).
 *
 * @param srv   A started server. Borrowed.
 * @param uri   Request-URI, "sip:user@HOST[:port][;transport=tcp|udp]".
 *              HOST is an IP literal, or a name located first by RFC 3263
 *              section 4 (SRV, then A/AAAA, the config's dns: section):
 *              the INVITE then goes once the answer is in, to the next
 *              address found when one fails with 503 or 408 (section
 *              4.3), and when no target is found (or none is left) the
 *              session ends with status 503 through @p cb. Borrowed.
 * @param from  From, e.g. "<sip:cay@127.0.0.1>". Borrowed.
 * @param sdp   The offer, or NULL for an INVITE without one. Borrowed;
 *              copied.
 * @param cb    Called with every state change. Borrowed.
 * @param arg   Passed to @p cb.
 * @param id    Receives the session id, or NULL.
 * @return 0, -EINVAL (uri or from does not parse, or uri is longer than
 *         512 bytes; a host name with a
 *         transport parameter other than udp or tcp), CAY_ESTATE (not
 *         started, or closing), -ENOMEM, or the error of the first send.
 * @thread owner (shard 0's loop)
 */
int cay_session_invite(cay_server_t *srv, const char *uri, const char *from,
                       const char *sdp, cay_session_cb cb, void *arg,
                       cay_id_t *id);

/** What cay_session_invite_with() takes beyond cay_session_invite()'s
 * arguments. Zero (memset) is the default of each. */
typedef struct cay_invite_opts {
  const char *uri;  /* as cay_session_invite(). Borrowed. */
  const char *from; /* as cay_session_invite(). Borrowed. */
  const char *sdp;  /* the offer, or NULL. Borrowed; copied. */
  /* ms the INVITE may go without any response (not even 100 Trying)
   * before the target is given up as on timer B (RFC 3261 17.1.1.2):
   * 408, or the next address RFC 3263 found; 0 = timer B only (64*T1),
   * at most 600000. What a route's no_response_timeout_ms does. */
  unsigned no_response_timeout_ms;
  /* Credentials for a 401/407 digest challenge to the INVITE, or later
   * in the call to our re-INVITE, UPDATE, INFO or BYE (RFC 3261 22.2;
   * MD5 or MD5-sess, qop auth or none): the request goes again with them
   * (CSeq + 1, the same offer or body), and the ACK of an INVITE's 2xx
   * carries them too (13.2.2.4). At most three challenges per request.
   * NULL or "" = none (a challenge then ends the call with its status).
   * The username without '"', '\\' or line breaks; each at most 127
   * bytes. Borrowed; copied. */
  const char *auth_username;
  const char *auth_password;
} cay_invite_opts_t;

/**
 * cay_session_invite() with options: the same call, errors and thread,
 * and what @p opts adds (a shorter limit for a silent target, digest
 * credentials).
 *
 * @param opts  The call. Borrowed.
 * @return as cay_session_invite(); -EINVAL also for
 *         no_response_timeout_ms above 600000, a username with '"',
 *         '\\' or a line break, credentials without a password, or a
 *         value longer than 127 bytes.
 * @thread owner (shard 0's loop)
 */
int cay_session_invite_with(cay_server_t *srv, const cay_invite_opts_t *opts,
                            cay_session_cb cb, void *arg, cay_id_t *id);

/**
 * Hang up: CANCEL an outgoing call not yet answered (section 9.1; before
 * any provisional the CANCEL waits for one), BYE an answered one (section
 * 15.1.1), 480 to an incoming one not yet answered. A session already
 * terminating is left alone.
 *
 * @return 0, or CAY_ESTATE (terminated).
 * @thread owner
 */
int cay_session_hangup(cay_session_t *s);

/**
 * Find a session by id (of any shard: the id names it).
 * @return The session (Borrowed, valid until the current callback returns)
 *         or NULL when it is gone.
 * @thread owner (the loop of the shard that cay_session_id() names)
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
