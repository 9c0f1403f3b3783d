/*
 * The SIP endpoint of a shard and its transactions (RFC 3261 section 17,
 * with the Accepted state of RFC 6026).
 *
 * The endpoint takes raw datagrams (cay__endpoint_recv), parses and
 * validates them, matches them to transactions (section 17.1.3, 17.2.3 with
 * the RFC 2543 fallback) and hands new requests to its transaction user
 * (TU: the session layer) through callbacks. Everything runs on the owner
 * shard; the TU refers to transactions by id across time.
 *
 * INVITE server transaction (RFC 3261 figure 7, RFC 6026 figure 5):
 *
 *                       INVITE / pass to TU (100 if the TU is slow)
 *   +-----------+ 1xx from TU: send
 *   | Proceeding|<-- INVITE: resend last provisional
 *   +-----------+
 *     |  2xx from TU: send          300-699 from TU: send
 *     v                               v
 *   +---------+  2xx from TU:    +-----------+ G: resend; H: timeout
 *   | Accepted|  send (13.3.1.4) | Completed |<- INVITE: resend final
 *   +---------+  INVITE: absorb  +-----------+
 *     | L (64*T1)                     | ACK
 *     |                               v
 *     |                          +-----------+
 *     |                          | Confirmed | I (T4): -> Terminated
 *     v                          +-----------+
 *   Terminated (freed)
 *
 * Accepted keeps almost nothing: after the first 2xx the transaction goes
 * on as a compact record without an id (txn_int.h), which absorbs the
 * INVITE, hands a matching ACK to the TU and ends at timer L. The TU's
 * pointer stays valid, in state Accepted, until the end of the event;
 * its id no longer resolves.
 *
 * Non-INVITE server transaction (figure 8): Trying -> Proceeding (1xx) ->
 * Completed (final; resend it on request retransmission; J = 64*T1) ->
 * Terminated.
 *
 * INVITE client transaction (figure 5, RFC 6026 figure 4): Calling (A:
 * resend at T1, doubling; B = 64*T1: timeout) -> Proceeding (1xx to TU)
 * -> Accepted (2xx, every copy to the TU, which ACKs; M = 64*T1) or
 * Completed (300-699: ACK sent, resent for each copy; D = 32 s on UDP).
 *
 * Non-INVITE client transaction (figure 6), for the BYEs Cay sends:
 * Trying (E: resend at T1, doubling to T2; F = 64*T1: timeout) ->
 * Proceeding (1xx; E at T2) -> Completed (final to TU; K = T4) ->
 * Terminated.
 */
#ifndef CAY_SIP_TXN_H
#define CAY_SIP_TXN_H

#include <stdint.h>

#include "core/hash.h"
#include "shard/shard.h"
#include "sip/msg.h"
#include "transport/addr.h"

typedef struct cay__endpoint cay__endpoint_t;
typedef struct cay__txn cay__txn_t;
typedef struct cay__acc_ent cay__acc_ent_t;

typedef enum cay__txn_state {
  CAY__TXN_CALLING,    /* INVITE client: sent, nothing back yet */
  CAY__TXN_TRYING,     /* non-INVITE: request received / sent */
  CAY__TXN_PROCEEDING, /* a provisional response went out / came in */
  CAY__TXN_ACCEPTED,   /* INVITE server: 2xx sent (RFC 6026) */
  CAY__TXN_COMPLETED,  /* final response sent / received */
  CAY__TXN_CONFIRMED,  /* INVITE server: ACK for a non-2xx received */
  CAY__TXN_TERMINATED
} cay__txn_state_t;

/** Sends one datagram. Returns 0 or a negative error. */
typedef int (*cay__send_fn)(void *arg, const cay__peer_t *dst, const char *data,
                            size_t len);

/** Callbacks of the transaction user (the session layer). */
typedef struct cay__tu {
  /**
   * A new request created server transaction @p t (never ACK). The TU must
   * answer it, now or later, with cay__txn_respond(); @p msg is owned by
   * the transaction and valid while @p t lives.
   */
  void (*on_request)(void *arg, cay__txn_t *t, msg_t *msg, sip_t *sip);
  /**
   * An ACK that matched no INVITE server transaction: the ACK for a 2xx
   * (RFC 3261 section 17.2.3, 13.3.1.4) or a stray one. @p msg is borrowed
   * for the call.
   */
  void (*on_ack)(void *arg, msg_t *msg, sip_t *sip);
  /**
   * The final response to client transaction @p t, or its timeout
   * (@p status 408, @p msg NULL) or transport error (503, NULL). For an
   * INVITE also every provisional response and every copy of a 2xx
   * (RFC 6026: the TU ACKs each). @p tu_id is the id given to
   * cay__txn_request_send(); 0 means nobody is told. @p txn_id names the
   * client transaction (the TU may have several requests out).
   */
  void (*on_response)(void *arg, cay_id_t tu_id, cay_id_t txn_id, int status,
                      msg_t *msg);
  void *arg;
} cay__tu_t;

/**
 * Message hooks (the supplement layer plugs in here, DESIGN.md section 4).
 * Every field may be NULL.
 */
typedef struct cay__hooks {
  /* A new request, before the TU: 0, or a final status to answer with. */
  int (*in_request)(const void *arg, msg_t *msg, sip_t *sip);
  /* A response passed on to the TU. */
  void (*in_response)(const void *arg, msg_t *msg, sip_t *sip);
  /* A message Cay built, before it is serialized (once per message). */
  void (*out_message)(const void *arg, msg_t *msg, sip_t *sip);
  /* True when some hook wants to see responses to @p method (then the
   * allocation-free encoder is not used for them). */
  int (*wants_out_response)(const void *arg, const char *method);
  const void *arg;
} cay__hooks_t;

struct cay__endpoint {
  cay__shard_t *shard;
  cay__tu_t tu;
  cay__hooks_t hooks;
  cay__send_fn send;
  void *send_arg;
  unsigned t1_ms, t2_ms, t4_ms;
  unsigned max_txns; /* transactions without a final response; above it
                        new requests get a stateless 503 */
  cay__htab_t server_txns;
  cay__htab_t client_txns;
  /* INVITE server transactions in Accepted (RFC 6026), as compact records
   * (txn_int.h), oldest first for timer L. */
  struct {
    cay__acc_ent_t *ents; /* ring, oldest at head */
    uint32_t *buckets;    /* cap chains of 1 + entry index, 0 = end */
    uint32_t cap;         /* 0 or a power of two */
    uint32_t head, count;
    cay__timer_t timer;              /* timer L of the oldest entry */
    cay__txn_t *view;                /* see cay__txn_find_cancelled() */
    uint8_t key[CAY__HASH_KEYBYTES]; /* of cay__accepted_hash() */
  } accepted;
  unsigned live_txns;     /* transactions and Accepted records */
  char sent_by[64];       /* host:port for Via and Contact of what Cay sends */
  char sent_by_tls[64];   /* the same over TLS (its own port); "" = the
                             server has no TLS listen address */
  char sent_by_ws[64];    /* the same over WebSocket (RFC 7118); "" = no
                             ws listen address */
  char sent_by_wss[64];   /* the same over secure WebSocket; "" = none
                             (cay__endpoint_sent_by() picks one) */
  size_t udp_max_request; /* RFC 3261 18.1.1: a larger request that would
                             go over UDP goes over TCP; 0 = never (also
                             when the shard has no TCP listener) */
  /* Targets that refused such a TCP connection lately: large requests to
   * them go straight over UDP until until_ms (shard clock). */
  struct cay__tcp_refused {
    cay__addr_t addr;
    uint64_t until_ms;
    int said; /* its INFO line is out for this period */
  } tcp_refused[8];
  int draining;        /* new INVITE -> 503 */
  char scratch[65536]; /* encoding buffer of cay__txn_reply_encoded() */
};

/** The sent-by of @p ep's listen address of transport @p proto (UDP and
 * TCP share one; CAY__TLS, CAY__WS, CAY__WSS their own): "" when the
 * server has none. @thread owner */
static inline const char *
cay__endpoint_sent_by(const cay__endpoint_t *ep, int proto)
{
  return proto == CAY__TLS   ? ep->sent_by_tls
         : proto == CAY__WS  ? ep->sent_by_ws
         : proto == CAY__WSS ? ep->sent_by_wss
                             : ep->sent_by;
}

/**
 * Initialise an endpoint on @p shard.
 * @param send      Transport send function (the UDP socket, or a test's
 *                  capture). @p send_arg is passed to it. Borrowed.
 * @param sent_by   "host:port" Cay puts in Via/Contact. Borrowed; copied.
 * @return 0 or -ENOMEM.
 * @thread owner
 */
int cay__endpoint_init(cay__endpoint_t *ep, cay__shard_t *shard,
                       const cay__tu_t *tu, cay__send_fn send, void *send_arg,
                       const char *sent_by);

/** Terminate every transaction at once and free the tables. */
void cay__endpoint_fini(cay__endpoint_t *ep);

/**
 * Handle one datagram from @p src (RFC 3261 section 18.2.1 / 18.1.2):
 * parse, validate (a bad request that can be answered gets a stateless 400
 * with a reason phrase; anything else bad is dropped), fix the Via, match,
 * dispatch. Counts everything in the shard's stats.
 * @thread owner
 */
void cay__endpoint_recv(cay__endpoint_t *ep, const char *data, size_t len,
                        const cay__peer_t *src);

/**
 * Send a response statelessly (no transaction) to where the request's Via
 * says (section 18.2.2). Takes @p resp (Moved).
 * @return 0 or a negative error.
 */
int cay__endpoint_respond_stateless(cay__endpoint_t *ep, msg_t *req,
                                    const cay__peer_t *src, msg_t *resp);

/**
 * Answer request @p req from @p src statelessly with 503 Service
 * Unavailable, Retry-After: 5 and a To tag (RFC 3261 sections 21.5.4,
 * 20.33): Cay has no room for it now (DESIGN.md section 7). The caller
 * checked that @p req is an answerable request other than ACK. @p req is
 * borrowed; nothing is sent when memory runs out.
 * @return 0 or a negative error (-ENOMEM, the send's error).
 * @thread owner of @p ep
 */
int cay__endpoint_respond_busy(cay__endpoint_t *ep, msg_t *req,
                               const cay__peer_t *src);

/* -- server transactions ------------------------------------------------ */

/**
 * Send @p resp on server transaction @p t and move its state machine.
 * Takes @p resp (Moved, also on error). 2xx on an INVITE transaction moves
 * it to Accepted; the TU retransmits the 2xx itself with
 * cay__endpoint_send_bytes() (section 13.3.1.4).
 *
 * @return 0, CAY_ESTATE (a final response was already sent, except a 2xx
 *         retransmission in Accepted), or a send/serialize error.
 */
int cay__txn_respond(cay__txn_t *t, msg_t *resp);

/**
 * Same as cay__txn_respond(), and hands back a copy of the bytes sent
 * (for the TU's own 2xx retransmissions, section 13.3.1.4).
 * @param copy     Receives the bytes. Returned: caller frees, cay__free().
 * @param copylen  Receives their length.
 */
int cay__txn_respond_copy(cay__txn_t *t, msg_t *resp, char **copy,
                          size_t *copylen);

/**
 * Encode a response straight from the request with
 * cay__msg_response_encode() (no msg_t, no allocation) and send it like
 * cay__txn_respond_copy(). For responses no outgoing hook needs to see.
 *
 * @param to_tag  Tag for the To, or NULL for a fresh one when the request
 *                has none (100 never gets one). Borrowed.
 * @param extra   Header lines each ending in CRLF, or NULL. Borrowed.
 * @param ctype   Content-Type of @p body, or NULL for no body. Borrowed.
 * @param copy    NULL, or receives a copy of the response as sent (a 2xx
 *                to an INVITE, as in cay__txn_respond_copy(), or a
 *                reliable provisional the TU retransmits); cay__free().
 * @return 0, CAY_ESTATE, -ENOSPC (larger than 64 KiB), -EINVAL, -ENOMEM or
 *         a send error.
 */
int cay__txn_reply_encoded(cay__txn_t *t, int status, const char *to_tag,
                           const char *extra, const char *ctype,
                           const char *body, size_t body_len, char **copy,
                           size_t *copylen);

/**
 * Like cay__txn_request_send() for a request already encoded
 * (cay__msg_request_encode()): no msg_t, no outgoing hooks (the caller
 * checked that none is registered).
 *
 * @param data         The request. Borrowed; copied.
 * @param branch       Its top Via branch. Borrowed.
 * @param method_name  Its method ("BYE", "INVITE"); not ACK. An INVITE's
 *                     msg_t is parsed back from the bytes only when a
 *                     CANCEL or the ACK of a failure needs it.
 * @return 0, -EINVAL, -ENOMEM, or the send's error (the transaction then
 *         ended, 17.1.4).
 * @thread owner
 */
int cay__txn_request_send_bytes(cay__endpoint_t *ep, const char *data,
                                size_t len, const char *branch,
                                const char *method_name, const cay__peer_t *dst,
                                cay_id_t tu_id, cay_id_t *txn_id);

/**
 * 17.2.1: an INVITE server transaction whose TU will likely answer within
 * 200 ms (a B2BUA waiting for the B leg's first response) sends its 100
 * Trying only if nothing was sent by then, instead of at once.
 * @thread owner
 */
void cay__txn_trying_later(cay__txn_t *t);

/**
 * A transport error for @p peer (a TCP connection Cay opened to it
 * failed): every client transaction still waiting for a final response
 * from that address over that transport ends now, and its TU sees 503
 * (RFC 3261 section 17.1.4, 8.1.3.1); one that went over TCP only for its
 * size goes over UDP instead (18.1.1), as do large requests to that
 * address for the next 60 s (logged once per address and period).
 * @thread owner
 */
void cay__txn_transport_error(cay__endpoint_t *ep, const cay__peer_t *peer);

/**
 * The flow over TCP connection @p conn failed: it closed (RFC 5626
 * section 7). Every client transaction sent over that flow (its peer's
 * cay__peer_t.flow set: a UA behind a NAT, which no new connection
 * reaches) and still waiting for a final response ends now, and its TU
 * sees 503 (RFC 3261 section 8.1.3.1), instead of waiting for Timer B or
 * for ever once a provisional came. Transactions over other connections
 * wait: their peer may answer on a new one (section 18.2.2).
 * @param conn  The connection's id, of any shard.
 * @thread owner
 */
void cay__txn_flow_failed(cay__endpoint_t *ep, cay_id_t conn);

/**
 * The UDP flow from @p addr failed: its UA sent no keep-alive for too
 * long (RFC 5626 section 4.4.1, cay__registrar_keepalive()). Every
 * client transaction sent over that flow (cay__peer_t.flow set, over
 * UDP, to @p addr) and still waiting for a final response ends now, and
 * its TU sees 503, as for a closed connection (cay__txn_flow_failed()).
 * Transactions to that address that are not over a flow wait.
 * @param addr  Borrowed for the call.
 * @thread owner
 */
void cay__txn_udp_flow_failed(cay__endpoint_t *ep, const cay__addr_t *addr);

/** Build and send a response with no body (helper over cay__txn_respond).
 * @p to_tag may be NULL. */
int cay__txn_reply(cay__txn_t *t, int status, const char *phrase,
                   const char *to_tag);

/** The request of server transaction @p t (owned by @p t). */
msg_t *cay__txn_request(const cay__txn_t *t);
cay__txn_state_t cay__txn_state(const cay__txn_t *t);
cay_id_t cay__txn_id(const cay__txn_t *t);
/** Last status sent (server) or received (client), 0 if none. */
int cay__txn_status(const cay__txn_t *t);
/** Where responses of @p t go (from the request's Via and, over a
 * stream, its connection), or where a client's request goes. */
const cay__peer_t *cay__txn_peer(const cay__txn_t *t);
/** Server: the address the request came from, which differs from where
 * responses go by its port (a Via without rport, a stream whose sent-by
 * port is its listening port). Client: where the request goes. Owner
 * shard's thread. */
void cay__txn_source(const cay__txn_t *t, cay__addr_t *src);
/** cay__txn_source() with the transport, as logs and records name it:
 * "udp:192.0.2.1:5060", "tls:[2001:db8::1]:5061", in @p buf (@p len
 * bytes; 64 hold any). @return 0 or -ENOSPC. Owner shard's thread. */
int cay__txn_source_name(const cay__txn_t *t, char *buf, size_t len);
/** 1 when 2xx @p sip of INVITE client transaction @p t has the To tag of
 * the first 2xx it got, and is not that first 2xx itself (a copy, RFC
 * 3261 section 13.2.2.4); 0 for the first 2xx (while the TU sees it),
 * another fork's, or any other transaction. Shard thread. */
int cay__txn_2xx_is_copy(const cay__txn_t *t, const sip_t *sip);
/** 1 when @p t is a client transaction of request method @p method
 * ("BYE"), else 0. Shard thread. */
int cay__txn_client_is(const cay__txn_t *t, const char *method);
/** The TU object a server transaction belongs to (set by the TU). */
void cay__txn_set_tu(cay__txn_t *t, cay_id_t tu_id);
cay_id_t cay__txn_tu(const cay__txn_t *t);
/**
 * Resolve an id to a live transaction of this endpoint's shard, or NULL.
 * An INVITE server transaction that has sent a 2xx (Accepted) no longer
 * resolves (unless there was no memory for its record): it waits for
 * timer L as a record without an id. The TU retransmits its 2xx with
 * cay__endpoint_send_bytes() anyway.
 */
cay__txn_t *cay__txn_lookup(cay__endpoint_t *ep, cay_id_t id);

/**
 * The INVITE server transaction a CANCEL is for (RFC 3261 section 9.2: same
 * branch and sent-by, or the RFC 2543 fallback), or NULL. For an INVITE
 * already answered with a 2xx (Accepted), a stand-in valid until the next
 * call: state Accepted, cay__txn_tu() of the INVITE, no id, no request,
 * and every response on it fails with CAY_ESTATE.
 */
cay__txn_t *cay__txn_find_cancelled(cay__endpoint_t *ep, sip_t *cancel);

/* -- client transactions ------------------------------------------------ */

/**
 * Send @p req (Moved) as a new non-INVITE client transaction to @p dst.
 * The request must carry a Via with a fresh branch. The final response (or
 * 408 on timeout F) is reported to the TU's on_response with @p tu_id.
 * An INVITE becomes an INVITE client transaction (timers A, B, D, M).
 * @p txn_id, when not NULL, receives the transaction's id.
 * @return 0, or -ENOMEM / a send or serialize error (nothing is reported
 *         to the TU then).
 */
int cay__txn_request_send(cay__endpoint_t *ep, msg_t *req,
                          const cay__peer_t *dst, cay_id_t tu_id,
                          cay_id_t *txn_id);

/**
 * Cancel INVITE client transaction @p t (RFC 3261 section 9.1): a CANCEL
 * with the INVITE's Request-URI, top Via, Route, From, To, Call-ID and
 * CSeq number goes out as its own transaction. Before any provisional
 * response it waits for one (9.1: it MUST NOT be sent earlier); after a
 * final response it is not sent at all. Calling it again does nothing:
 * one CANCEL per INVITE, which retransmits by itself.
 * @return 0, CAY_ESTATE (not an INVITE client transaction), -ENOMEM.
 */
int cay__txn_cancel(cay__txn_t *t);

/**
 * cay__txn_cancel() whose CANCEL also carries header lines @p lines
 * ("Name: value\r\n"..., copied; NULL: none), such as the Reason (RFC
 * 3326) of the CANCEL that a bridge relays. Lines that do not parse are
 * left out (and logged), not the CANCEL. Ignored when a CANCEL is
 * already out or waiting. Errors as cay__txn_cancel().
 * @thread owner
 */
int cay__txn_cancel_with(cay__txn_t *t, const char *lines);

/**
 * Give up INVITE client transaction @p t, which has had no response at all
 * (state Calling), before timer B would: for a TU with a shorter limit
 * than 64*T1 for a silent target (a route's no_response_timeout_ms). The
 * INVITE is no longer retransmitted (timer A stops); the transaction
 * stays until timer B to absorb what comes late: a provisional response
 * gets the CANCEL (RFC 3261 section 9.1), a failure its ACK (17.1.1.3),
 * and only a 2xx still reaches the TU (it must ACK and BYE that dialog,
 * 13.2.2.4); timer B itself is not reported. The TU acts on the timeout
 * itself (as on a 408); the transaction no longer counts in txns_live.
 * @return 0, or CAY_ESTATE (not an INVITE client transaction, or it has
 *         had a response).
 * @thread owner shard
 */
int cay__txn_give_up(cay__txn_t *t);

/**
 * Count a response of @p status that went out for the first time (not a
 * retransmission) in the shard's responses_1xx..responses_6xx; other
 * statuses are not counted.
 * @thread owner
 */
void cay__endpoint_count_response(cay__endpoint_t *ep, int status);

/** Send raw bytes (a 2xx retransmission) and count them. */
int cay__endpoint_send_bytes(cay__endpoint_t *ep, const cay__peer_t *dst,
                             const char *data, size_t len, int retransmit);

/**
 * Send a request that is no transaction (the ACK for a 2xx, RFC 3261
 * section 13.2.2.4) by section 18.1.1: when @p dst is UDP and @p len is
 * over the endpoint's udp_max_request, over TCP to the same address,
 * unless that address took no TCP connection in the last minute (see
 * cay__txn_transport_error()) or TCP cannot be sent at all; else over UDP.
 * @p data (@p len bytes, caller's, kept) gets its top Via's transport set
 * to the one taken, so call it again for every copy with the same bytes.
 * Over a stream @p dst is used as it is.
 *
 * @return 0 or the send error (cay__endpoint_send_bytes()).
 * @thread owner
 */
int cay__endpoint_send_sized(cay__endpoint_t *ep, const cay__peer_t *dst,
                             char *data, size_t len, int retransmit);

/**
 * Before the outgoing hooks run on request @p req for @p dst: section
 * 18.1.1's choice made on the request as built, so that the hooks see the
 * Via it goes with (supp.h). When @p dst is UDP and @p req serializes to
 * more than the endpoint's udp_max_request (and the address has not
 * refused TCP lately), its top Via's transport becomes TCP. The send
 * (cay__txn_request_send(), cay__endpoint_send_sized()) settles it on the
 * size after the hooks, back to UDP if they made the request small.
 *
 * @return 1 when the Via was set to TCP, else 0 (nothing changed).
 * @thread owner
 */
int cay__endpoint_via_for_size(cay__endpoint_t *ep, msg_t *req,
                               const cay__peer_t *dst);

/**
 * RFC 3261 section 8.2.6.2: a response other than 100 to a request whose
 * To has no tag gets a tag in its To. Adds a fresh random one to @p resp
 * when it has none. @return 0 or -ENOMEM.
 */
int cay__endpoint_tag_response(cay__endpoint_t *ep, msg_t *resp);

/** Run the outgoing hooks on @p msg (a message Cay built, before it is
 * serialized). */
void cay__endpoint_out(cay__endpoint_t *ep, msg_t *msg);

/** Make a fresh branch "z9hG4bK" + random token into @p buf (>= 24 B). */
void cay__endpoint_branch(cay__endpoint_t *ep, char *buf, size_t len);

#endif
