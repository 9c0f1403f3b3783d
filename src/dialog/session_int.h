/* Private to the session layer (session.c, uac.c, request.c). */
#ifndef CAY_DIALOG_SESSION_INT_H
#define CAY_DIALOG_SESSION_INT_H

#include <stddef.h>

#include "dialog/session.h"

struct cay__session {
  cay__hnode_t hnode; /* in ss->dialogs, by Call-ID and both tags */
  cay__defer_t defer;
  cay__sessions_t *ss;
  cay_id_t id;
  cay_id_t invite_txn;
  cay__session_state_t state;
  unsigned ring_waited : 1;
  unsigned answer_waited : 1;
  unsigned offer_in_invite : 1;
  unsigned uac : 1;      /* we sent the INVITE */
  unsigned in_table : 1; /* in ss->dialogs (a UAC once the tag is known) */
  int end_status;        /* the status that ended it, for the callback */
  cay_session_cb cb;     /* the embedder's, or NULL */
  void *cb_arg;
  /* The dialog state of RFC 3261 section 12.1.1, as text in one block
   * (memory per dialog is a goal: sofia-sip headers in an su_home cost
   * about 2 KB, this about 300 bytes). Headers are parsed again only for
   * the rare request Cay sends in the dialog (BYE). */
  char *text;                /* cay__malloc'd block holding the strings */
  const char *call_id;       /* Call-ID */
  const char *local_tag;     /* our To tag */
  const char *remote_tag;    /* their From tag */
  const char *local_party;   /* the INVITE's To with our tag: our From */
  const char *remote_party;  /* the INVITE's From: our To */
  const char *remote_target; /* the INVITE's Contact URI */
  const char *route_set;     /* Record-Route values in order, or NULL */
  uint32_t remote_cseq;
  uint32_t invite_cseq;
  uint32_t local_cseq;
  cay__peer_t peer; /* where the INVITE's responses went (and its
                       connection over TCP) */
  char *sdp;        /* our answer (or offer) until the 200 is out */
  size_t sdp_len;
  char *ok_bytes; /* UAS: the 2xx as sent, for retransmission; UAC: the
                     ACK as sent, again for each 2xx copy (cay__malloc) */
  size_t ok_len;
  unsigned ok_interval;
  cay__timer_t t_step;  /* ring delay, answer delay, then 2xx retransmit */
  cay__timer_t t_guard; /* 64*T1 without ACK; after the ACK, hangup_after */
  cay__timer_t t_max;   /* dialog max duration */
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

void cay__session_notify(cay__session_t *s, int status);
void cay__session_init_timers(cay__session_t *s);
void cay__session_start_max(cay__session_t *s);
msg_t *cay__session_request(cay__session_t *s, sip_method_t method,
                            const char *method_name, uint32_t cseq,
                            const char *branch, cay__peer_t *dst);
uint64_t cay__dialog_hash(const char *call_id, const char *local_tag,
                          const char *remote_tag);
int cay__session_set_text(cay__session_t *s, const char *const v[7]);

/* uac.c */
void cay__uac_response(cay__session_t *s, int status, msg_t *msg);

/* request.c: the TU's on_request. */
void cay__sessions_on_request(void *arg, cay__txn_t *t, msg_t *msg, sip_t *sip);

#endif
