/*
 * INFO (RFC 6086), both ways. Theirs is reported to the session's owner
 * and answered by it (a B2BUA relays the other side's answer), or 200
 * when it does not (legacy INFO usage: Cay has no Info Package to check
 * it against). Ours is sent in the dialog and kept until its final
 * response: that response is reported when the owner asked for it, a
 * 408 or 481 ends the session (RFC 3261 section 12.2.1.2), and in a
 * session with credentials a 401/407 is answered with the same INFO and
 * the credentials (section 22.2).
 */
#include <errno.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "dialog/auth.h"
#include "dialog/session_int.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

/* The link to the INFO record of transaction @p txn (theirs or ours, as
 * @p theirs says) in s->infos, or to the list's NULL end. */
static struct cay__info **
info_find(cay__session_t *s, cay_id_t txn, int theirs)
{
  struct cay__info **pp = &s->infos;

  while (*pp && ((*pp)->txn != txn || (*pp)->theirs != (unsigned)theirs))
    pp = &(*pp)->next;
  return pp;
}

/* -- theirs --------------------------------------------------------------- */

void
cay__info_received(cay__session_t *s, cay__txn_t *t, sip_t *sip)
{
  cay__sessions_t *ss = s->ss;
  cay_session_event_t ev = { .kind = CAY_SESSION_EV_INFO,
                             .state = s->state,
                             .method = "INFO",
                             .request = cay__txn_id(t) };

  cay__session_event_body(
      &ev, sip, sip->sip_content_type ? sip->sip_content_type->c_type : NULL);
  /* The body lives in the request, which the final response frees: the
   * event first, then the 200 unless the callback answered or deferred
   * it. The session may end in the callback; the transaction is answered
   * either way. */
  ss->info_txn = ev.request;
  ss->info_taken = 0;
  cay__session_event(s, &ev);
  ss->info_txn = 0;
  if (!ss->info_taken)
    cay__txn_reply(t, 200, NULL, NULL);
}

int
cay_session_defer_info(cay_session_t *s)
{
  cay__sessions_t *ss = s->ss;
  struct cay__info *k;

  if (ss->info_txn == 0 || ss->info_taken
      || s->state == CAY__SESSION_TERMINATED)
    return CAY_ESTATE;
  k = cay__calloc(1, sizeof *k);
  if (k == NULL)
    return -ENOMEM;
  k->txn = ss->info_txn;
  k->theirs = 1;
  k->next = s->infos;
  s->infos = k;
  ss->info_taken = 1;
  return 0;
}

int
cay_session_answer_info(cay_session_t *s, cay_id_t request, int status,
                        const char *reason)
{
  cay__sessions_t *ss = s->ss;
  struct cay__info **pp, *k;
  cay__txn_t *t;

  if (status < 200 || status > 699)
    return -EINVAL;
  if (request != 0 && request == ss->info_txn && !ss->info_taken) {
    ss->info_taken = 1; /* in its callback: answered now */
  } else {
    pp = info_find(s, request, 1);
    if ((k = *pp) == NULL)
      return CAY_ESTATE;
    *pp = k->next;
    cay__free(k);
  }
  t = cay__txn_lookup(ss->ep, request);
  if (t == NULL || cay__txn_state(t) >= CAY__TXN_COMPLETED)
    return CAY_ESTATE; /* gone (a transport error ended it) */
  cay__txn_reply(t, status, reason, NULL);
  return 0;
}

void
cay__info_end(cay__session_t *s)
{
  while (s->infos) {
    struct cay__info *k = s->infos;
    s->infos = k->next;
    if (k->theirs) {
      /* 15.1.2: requests pending when the session ends get a final
       * response; 487 is the recommended one. */
      cay__txn_t *t = cay__txn_lookup(s->ss->ep, k->txn);
      if (t && cay__txn_state(t) < CAY__TXN_COMPLETED)
        cay__txn_reply(t, 487, NULL, NULL);
    }
    cay__free(k);
  }
}

void
cay__info_free_all(cay__session_t *s)
{
  while (s->infos) {
    struct cay__info *k = s->infos;
    s->infos = k->next;
    cay__free(k);
  }
}

/* -- ours ------------------------------------------------------------------ */

/* Send INFO (CSeq + 1) with credentials line @p auth (NULL: none); its
 * final response reaches the session (cay__info_response()). */
static int
info_send(cay__session_t *s, struct cay__info *k, const char *auth)
{
  cay__dreq_t r = { .method = sip_method_info, .name = "INFO" };

  r.cseq = ++s->local_cseq;
  if (k->ctype_len) {
    r.ctype = k->data;
    r.body = k->data + k->ctype_len + 1;
    r.body_len = k->body_len;
  }
  r.extra = auth;
  return cay__session_send(s, &r, 1, &k->txn);
}

int
cay__info_send(cay__session_t *s, const char *ctype, const char *body,
               size_t len, cay_id_t *request)
{
  size_t clen = ctype ? strlen(ctype) : 0;
  struct cay__info *k;
  int err;

  k = cay__calloc(1, sizeof *k + clen + 1 + len);
  if (k == NULL)
    return -ENOMEM;
  k->ctype_len = clen;
  k->body_len = len;
  if (clen)
    memcpy(k->data, ctype, clen + 1);
  if (len)
    memcpy(k->data + clen + 1, body, len);
  err = info_send(s, k, NULL);
  if (err) {
    cay__free(k);
    return err;
  }
  if (request)
    *request = k->request = k->txn;
  k->next = s->infos;
  s->infos = k;
  return 0;
}

/* After a 401/407 (@p status, @p sip): kept INFO @p k again, with
 * credentials. @return 1 when it went. */
static int
info_again(cay__session_t *s, struct cay__info *k, int status, const sip_t *sip)
{
  if (!cay__session_challenged(s, status, sip, "INFO"))
    return 0;
  if (info_send(s, k, cay__auth_line(s->auth, "INFO", s->remote_target)) != 0)
    return 0;
  CAY_DEBUG(SHARD_NO(s->ss), "session %s: INFO sent again with credentials",
            s->call_id);
  return 1;
}

int
cay__info_response(cay__session_t *s, cay_id_t txn_id, int status,
                   const sip_t *sip)
{
  struct cay__info **pp = info_find(s, txn_id, 0), *k;
  cay_session_event_t ev = { .kind = CAY_SESSION_EV_INFO_ANSWERED,
                             .status = status,
                             .method = "INFO" };

  if ((k = *pp) == NULL)
    return 0;
  if (status < 200)
    return 1;
  if ((status == 401 || status == 407) && info_again(s, k, status, sip))
    return 1;
  if (s->auth)
    cay__auth_settled(s->auth);
  ev.request = k->request;
  *pp = k->next;
  cay__free(k);
  if (ev.request) {
    ev.state = s->state;
    cay__session_event(s, &ev);
  }
  /* 12.2.1.2: the dialog is gone (481) or the peer is (408). */
  if (status == 408 || status == 481)
    cay__session_bye(s, "INFO got 408/481");
  return 1;
}
