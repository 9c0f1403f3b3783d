/* Private to the transaction layer (txn.c, endpoint.c). */
#ifndef CAY_SIP_TXN_INT_H
#define CAY_SIP_TXN_INT_H

#include "sip/txn.h"

struct cay__txn {
  cay__hnode_t hnode; /* in ep->server_txns or ep->client_txns */
  cay__defer_t defer;
  cay__endpoint_t *ep;
  cay_id_t id;
  cay_id_t tu_id; /* client: the TU object the response goes to */
  unsigned server : 1;
  unsigned invite : 1;
  unsigned pending : 1;       /* no final response yet: counted in txns_live */
  unsigned cancel_wanted : 1; /* INVITE client: CANCEL at first 1xx */
  unsigned cancel_sent : 1;   /* INVITE client: its CANCEL is out */
  unsigned given_up : 1;      /* INVITE client: the TU gave it up for no
                                 response; only a 2xx still goes to it */
  unsigned from_bytes : 1;    /* client: started from bytes, req parsed
                                 from out when needed */
  unsigned moved : 1;    /* INVITE server: went on as an Accepted entry; this
                            struct only waits for its deferred free */
  unsigned view : 1;     /* ep->accepted.view: a stand-in for an entry */
  unsigned for_size : 1; /* client: over TCP instead of UDP for its size
                            (RFC 3261 18.1.1), UDP again if refused */
  cay__txn_state_t state;
  int status;           /* last response sent or received */
  uint16_t source_port; /* server: the request came from peer.addr's IP at
                           this port (peer.addr is where responses go) */
  msg_t *req;           /* server: the request, until the final response */
  char *key;            /* matching key, see make_key() in endpoint.c */
  size_t keylen;
  char *out;          /* last message sent, for retransmission */
  char *cancel_lines; /* INVITE client: header lines its CANCEL carries
                         (cay__txn_cancel_with()), or NULL */
  size_t outlen;
  cay__peer_t peer;       /* responses (server) / requests (client) go here */
  uint64_t first_2xx_tag; /* INVITE client: hash of the To tag of the 2xx
                             that made it Accepted (RFC 6026 7.2) */
  unsigned interval_ms;   /* current retransmit interval (G, E) */
  cay__timer_t t_retx;    /* G or E */
  cay__timer_t t_end;     /* H or F */
  cay__timer_t t_wait;    /* I, J, K or L */
};

/*
 * An INVITE server transaction in the Accepted state (RFC 6026 section
 * 7.1), once its cay__txn is gone. Accepted needs very little: absorb a
 * retransmitted INVITE (the TU retransmits the 2xx itself, RFC 3261
 * section 13.3.1.4), pass a matching ACK to the TU, and end at timer L.
 * Every held call keeps one for 64*T1 after its 2xx, and as a full
 * cay__txn (280 bytes, a separate key, an id slot, a heap timer) it was
 * the largest part of a live dialog's memory. An entry is 24 bytes in one
 * array, plus 4 to 8 bytes of index:
 *
 * - The matching key is kept as its keyed 64-bit hash (SipHash under the
 *   endpoint's random key, cay__accepted_hash()), which is both the index
 *   hash and the entry's identity. Nobody can make two keys collide on
 *   purpose without the key; by chance a new INVITE collides with one of
 *   n entries with probability n / 2^64 (5e-15 for 100,000 entries), and
 *   is then absorbed like a retransmission. A full key would cost 40 to
 *   100 more bytes per call.
 * - Timer L is 64*T1 for every entry, so due times grow with creation
 *   order and entries only ever leave oldest first: they live in a ring
 *   (ep->accepted), and one endpoint timer armed for the oldest replaces
 *   one heap timer per transaction. The ring doubles when full and never
 *   shrinks, like the other tables.
 * - An entry has no id: it is never named across time, only found by its
 *   key. The TU's id stays, for a CANCEL that comes after the 2xx.
 */
struct cay__acc_ent {
  uint64_t hash;   /* cay__accepted_hash() of the matching key */
  cay_id_t tu_id;  /* the TU object (cay__txn_tu) */
  uint32_t due_ms; /* timer L, low 32 bits of the shard clock */
  uint32_t next;   /* index chain: 1 + entry index, 0 = end */
};

/* The entry hash of a server matching key (cay__txn_server_key). */
uint64_t cay__accepted_hash(const cay__endpoint_t *ep, const char *key,
                            size_t keylen);
/* The entry of an Accepted INVITE server transaction with this key, or
 * NULL. Valid until the next entry is added. */
const cay__acc_ent_t *cay__accepted_find(const cay__endpoint_t *ep,
                                         const char *key, size_t keylen);
/* A request matched an entry (RFC 6026 section 7.1): an INVITE is
 * absorbed, an ACK passed to the TU. @p msg stays the caller's. */
void cay__accepted_request(cay__endpoint_t *ep, msg_t *msg, sip_t *sip);
/* Timer L of the oldest entries (ep->accepted.timer). */
void cay__accepted_expire(cay__timer_t *tm);
/* Drop every entry and free the ring (endpoint teardown). */
void cay__accepted_free_all(cay__endpoint_t *ep);
/* After the first 2xx of an INVITE server transaction: keep an entry, let
 * the transaction go (txn_accepted.c). -ENOMEM: @p t stays as it is. */
int cay__txn_move_to_accepted(cay__txn_t *t);
/* Hash of @p sip's To tag (0 without one), kept by an INVITE client
 * transaction for its first 2xx (cay__txn_2xx_is_copy()). */
uint64_t cay__txn_to_tag_hash(const sip_t *sip);
/* The shard's deferred free of a transaction (rule 5). */
void cay__txn_free_deferred(cay__defer_t *d);
/* A cay__txn stand-in for entry @p e, valid until the next call (for
 * cay__txn_find_cancelled()), or NULL without memory. */
cay__txn_t *cay__accepted_view(cay__endpoint_t *ep, const cay__acc_ent_t *e);

/* Matching key of a request for the server table; for ACK and CANCEL
 * lookups, @p method names the INVITE. Returned malloc'd (cay__free). */
char *cay__txn_server_key(const sip_t *sip, const char *method, size_t *keylen);
/* Matching key of a client transaction: branch + CSeq method. */
char *cay__txn_client_key(const char *branch, const char *method,
                          size_t *keylen);
cay__txn_t *cay__txn_find(cay__htab_t *tab, const char *key, size_t keylen,
                          uint64_t hash);

/* Server side of an arriving request (endpoint.c calls these). */
cay__txn_t *cay__txn_server_new(cay__endpoint_t *ep, msg_t *msg, char *key,
                                size_t keylen, uint64_t hash,
                                const cay__peer_t *src);
void cay__txn_server_retransmit(cay__txn_t *t, msg_t *msg, sip_t *sip);
void cay__txn_client_response(cay__txn_t *t, msg_t *msg, sip_t *sip);
void cay__txn_terminate(cay__txn_t *t);
/* Arm @p tm of @p t @p ms from now; ends @p t when no memory for it. */
void cay__txn_start_timer(cay__txn_t *t, cay__timer_t *tm, uint64_t ms);
/* Hand a response (or @p status alone, msg NULL) to @p t's TU. */
void cay__txn_tell_tu(cay__txn_t *t, int status, msg_t *msg);
/* 18.1.1 before the first send of client transaction @p t (peer and bytes
 * set): a request too large for UDP goes over TCP (txn_transport.c). */
void cay__txn_choose_transport(cay__txn_t *t);
/* After the first send failed: @p t back over UDP if it had been moved to
 * TCP for its size. @return 1 if so (send again), else 0. */
int cay__txn_undo_transport(cay__txn_t *t);
/* The final response went out or came in: no longer counted live. */
void cay__txn_settle(cay__txn_t *t);
/* A new transaction of @p ep: an id, its timers, counted live (pending);
 * NULL without memory. */
cay__txn_t *cay__txn_alloc(cay__endpoint_t *ep);
/* Undo cay__txn_alloc() for a transaction that never started (in no
 * table, no timer running): its id, its count in txns_live, its key. */
void cay__txn_unalloc(cay__txn_t *t);
/* Send @p t's bytes (its request, final response or ACK) to its peer;
 * @p retransmit: a retransmission (counted as one). */
int cay__txn_send_out(cay__txn_t *t, int retransmit);

/* @p t's transport does not lose messages: no retransmission timers. */
static inline int
cay__txn_reliable(const cay__txn_t *t)
{
  return cay__proto_reliable(t->peer.proto);
}

#endif
