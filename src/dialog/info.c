/*
 * INFO (RFC 6086), both ways: theirs is reported to the session's owner
 * and answered 200 (legacy INFO usage: Cay has no Info Package to check it
 * against); ours is sent in the dialog, and in a session with credentials
 * kept until its final response, so that a 401/407 is answered with the
 * same INFO and credentials (RFC 3261 section 22.2).
 */
#include <errno.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "dialog/auth.h"
#include "dialog/session_int.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

/* -- theirs --------------------------------------------------------------- */

void
cay__info_received(cay__session_t *s, cay__txn_t *t, sip_t *sip)
{
  cay_session_event_t ev
      = { .kind = CAY_SESSION_EV_INFO, .state = s->state, .method = "INFO" };

  cay__session_event_body(
      &ev, sip, sip->sip_content_type ? sip->sip_content_type->c_type : NULL);
  /* The body lives in the request, which the final response frees: the
   * event first, then the 200. The session may end in the callback; the
   * transaction is answered either way. */
  cay__session_event(s, &ev);
  cay__txn_reply(t, 200, NULL, NULL);
}

/* -- ours ------------------------------------------------------------------ */

/* Send INFO (CSeq + 1) with credentials line @p auth (NULL: none); with
 * @p txn, its final response is reported (the session has credentials). */
static int
info_send(cay__session_t *s, const char *ctype, const char *body, size_t len,
          const char *auth, cay_id_t *txn)
{
  cay__dreq_t r = { .method = sip_method_info, .name = "INFO" };

  r.cseq = ++s->local_cseq;
  r.ctype = ctype;
  r.body = body;
  r.body_len = len;
  r.extra = auth;
  return cay__session_send(s, &r, txn != NULL, txn);
}

int
cay__info_send(cay__session_t *s, const char *ctype, const char *body,
               size_t len)
{
  size_t clen = strlen(ctype);
  struct cay__info_out *k;
  int err;

  if (s->auth == NULL)
    return info_send(s, ctype, body, len, NULL, NULL);
  /* Kept, so a challenge can be answered with the same INFO. */
  k = cay__malloc(sizeof *k + clen + 1 + len);
  if (k == NULL)
    return -ENOMEM;
  k->ctype_len = clen;
  k->body_len = len;
  memcpy(k->data, ctype, clen + 1);
  if (len)
    memcpy(k->data + clen + 1, body, len);
  err = info_send(s, k->data, k->data + clen + 1, len, NULL, &k->txn);
  if (err) {
    cay__free(k);
    return err;
  }
  k->next = s->infos;
  s->infos = k;
  return 0;
}

void
cay__info_free_all(cay__session_t *s)
{
  while (s->infos) {
    struct cay__info_out *k = s->infos;
    s->infos = k->next;
    cay__free(k);
  }
}

/* After a 401/407 (@p status, @p sip): kept INFO @p k again, with
 * credentials. @return 1 when it went. */
static int
info_again(cay__session_t *s, struct cay__info_out *k, int status,
           const sip_t *sip)
{
  if (!cay__session_challenged(s, status, sip, "INFO"))
    return 0;
  if (info_send(s, k->data, k->data + k->ctype_len + 1, k->body_len,
                cay__auth_line(s->auth, "INFO", s->remote_target), &k->txn)
      != 0)
    return 0;
  CAY_DEBUG(SHARD_NO(s->ss), "session %s: INFO sent again with credentials",
            s->call_id);
  return 1;
}

int
cay__info_response(cay__session_t *s, cay_id_t txn_id, int status,
                   const sip_t *sip)
{
  struct cay__info_out **pp = &s->infos, *k;

  while (*pp && (*pp)->txn != txn_id)
    pp = &(*pp)->next;
  if ((k = *pp) == NULL)
    return 0;
  if (status < 200)
    return 1;
  if (status == 401 || status == 407) {
    if (info_again(s, k, status, sip))
      return 1;
  } else if (s->auth) {
    cay__auth_settled(s->auth);
  }
  *pp = k->next;
  cay__free(k);
  return 1;
}
