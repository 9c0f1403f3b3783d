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
  cay__txn_state_t state;
  int status; /* last response sent or received */
  msg_t *req; /* server: the request, until the final response */
  char *key;  /* matching key, see make_key() in endpoint.c */
  size_t keylen;
  char *out; /* last message sent, for retransmission */
  size_t outlen;
  cay__peer_t peer;     /* responses (server) / requests (client) go here */
  unsigned interval_ms; /* current retransmit interval (G, E) */
  cay__timer_t t_retx;  /* G or E */
  cay__timer_t t_end;   /* H or F */
  cay__timer_t t_wait;  /* I, J, K or L */
};

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
/* The final response went out or came in: no longer counted live. */
void cay__txn_settle(cay__txn_t *t);

#endif
