/* Private to the session layer (session.c, request.c). */
#ifndef CAY_DIALOG_SESSION_INT_H
#define CAY_DIALOG_SESSION_INT_H

#include <stddef.h>

#include <sofia-sip/su_alloc.h>

#include "dialog/session.h"

struct cay__session {
  su_home_t home[1];  /* first member: headers and strings live here */
  cay__hnode_t hnode; /* in ss->dialogs, by Call-ID and both tags */
  cay__defer_t defer;
  cay__sessions_t *ss;
  cay_id_t id;
  cay_id_t invite_txn;
  cay__session_state_t state;
  unsigned ring_waited : 1;
  unsigned answer_waited : 1;
  unsigned offer_in_invite : 1;
  unsigned remote_cseq_seen : 1;
  char *call_id;
  char const *local_tag; /* in local_party */
  char *remote_tag;
  sip_to_t *local_party; /* To of the INVITE plus our tag */
  sip_from_t *remote_party;
  url_t *remote_target;   /* Contact of the INVITE */
  sip_route_t *route_set; /* Record-Route of the INVITE, in order */
  uint32_t remote_cseq;
  uint32_t invite_cseq;
  uint32_t local_cseq;
  cay__peer_t peer; /* where the INVITE's responses went (and its
                       connection over TCP) */
  char *sdp;        /* our answer (or offer), in home */
  size_t sdp_len;
  char *ok_bytes; /* the 2xx as sent, for retransmission (cay__malloc) */
  size_t ok_len;
  unsigned ok_interval;
  cay__timer_t t_step;   /* ring delay, answer delay, then 2xx retransmit */
  cay__timer_t t_noack;  /* 64*T1 without ACK */
  cay__timer_t t_max;    /* dialog max duration */
  cay__timer_t t_hangup; /* answer.hangup_after_ms */
};

/* The session that owns hash node @p n (hnode is not the first member:
 * the su_home is). */
#define SESSION_OF(n)                                                          \
  ((cay__session_t *)((char *)(n)-offsetof(cay__session_t, hnode)))

/* session.c */
cay__session_t *cay__session_find(cay__sessions_t *ss, const sip_t *sip);
int cay__session_create(cay__sessions_t *ss, cay__txn_t *t, const sip_t *sip,
                        cay__session_t **out);
void cay__session_start(cay__session_t *s);
void cay__session_destroy(cay__session_t *s);
void cay__session_bye(cay__session_t *s, const char *why);
void cay__session_ack(cay__session_t *s, const sip_t *sip);
void cay__session_cancel(cay__session_t *s, cay__txn_t *invite);
void cay__session_remote_bye(cay__session_t *s, cay__txn_t *t);

/* request.c: the TU's on_request. */
void cay__sessions_on_request(void *arg, cay__txn_t *t, msg_t *msg, sip_t *sip);

#endif
