/*
 * Supplements (DESIGN.md section 4): hooks that see, and may change, every
 * SIP message, ordered by priority.
 *
 * The contract:
 * - register before cay_server_start(); the registry is then frozen and
 *   every shard reads it without locks;
 * - order: lower priority first, ties in registration order, the same
 *   order for incoming and outgoing messages;
 * - every hook runs on the shard that owns the message's call;
 * - an outgoing hook runs exactly once per message, after Cay has built it
 *   and before the transport sees a byte of it; the message is the hook's
 *   to change. Retransmissions resend the bytes already sent and do not
 *   run hooks again. A request's top Via already names the transport it
 *   goes with, TCP for a request too large for UDP (RFC 3261 18.1.1); if
 *   the hook makes it small again it goes over UDP, its Via changed back;
 * - an incoming-request hook may stop a request by returning a final
 *   status (300..699): Cay then answers the request with it (so a stopped
 *   request is always answered) and nothing after that hook sees it.
 */
#ifndef CAY_SUPP_H
#define CAY_SUPP_H

#include <sofia-sip/msg.h>
#include <sofia-sip/sip.h>

#include "server.h"

#ifdef __cplusplus
extern "C" {
#endif

#define CAY_SUPP_PRIO_FIRST 0
#define CAY_SUPP_PRIO_APP   100
#define CAY_SUPP_PRIO_LAST  1000

/**
 * Incoming request hook.
 * @return 0 to let the request go on, or a status 300..699 to stop it
 *         (Cay answers with that status). Anything else counts as 500.
 */
typedef int (*cay_supp_request_fn)(msg_t *msg, sip_t *sip, void *arg);

/** Incoming response, outgoing request and outgoing response hooks. */
typedef void (*cay_supp_msg_fn)(msg_t *msg, sip_t *sip, void *arg);

/** A supplement: a caller-filled descriptor. */
typedef struct cay_supp {
  const char *name;    /* for logs */
  const char *methods; /* NULL: every method; or "INVITE,UPDATE" (the
                          request's method, the CSeq method for responses) */
  int priority;        /* lower runs first */
  cay_supp_request_fn incoming_request; /* any of the four may be NULL */
  cay_supp_msg_fn incoming_response;
  cay_supp_msg_fn outgoing_request;
  cay_supp_msg_fn outgoing_response;
  void *arg; /* passed to every hook */
} cay_supp_t;

/**
 * Register a supplement.
 *
 * @param supp  Copied; its strings and @p arg must outlive the server.
 *              Borrowed.
 * @return 0, CAY_ESTATE (the server has started), -EINVAL (no name, or a
 *         method list that does not parse), CAY_ELIMIT (64 supplements),
 *         -ENOMEM.
 * @thread setup
 */
int cay_supp_register(cay_server_t *srv, const cay_supp_t *supp);

/**
 * The caller-ID supplement: adds "P-Asserted-Identity: @p identity" (RFC
 * 3325) to every INVITE Cay sends without one, and logs at debug the
 * P-Asserted-Identity of every INVITE received.
 *
 * @param identity  e.g. "\"Cay\" <sip:cay@example.com>". Borrowed; must
 *                  outlive the server.
 * @thread any
 */
cay_supp_t cay_supp_caller_id(const char *identity);

/**
 * The message logger: one compact line per message of every session at
 * debug level, in both directions ("<- INVITE sip:... cseq=1 INVITE
 * call-id=...", "-> 200 cseq=1 INVITE call-id=...").
 * @thread any
 */
cay_supp_t cay_supp_logger(void);

#ifdef __cplusplus
}
#endif
#endif
