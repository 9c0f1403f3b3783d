/*
 * INFO (RFC 6086), REFER (RFC 3515), NOTIFY (RFC 6665) and MESSAGE (RFC
 * 3428 section 4) in a session, both ways. Theirs is reported to the session's
 * owner and answered by it (a B2BUA relays the other side's answer), or when it
 * does not: an INFO 200 (legacy INFO usage: Cay has no Info Package to check it
 * against), a REFER, NOTIFY or MESSAGE 405 (Cay itself neither
 * transfers calls nor subscribes nor reads messages). Ours is sent in the
 * dialog and kept until its final response: that response is reported when the
 * owner asked for it, a 408 or 481 ends the session (RFC 3261
 * section 12.2.1.2), and in a session with credentials a 401/407 is answered
 * with the same request and the credentials (section 22.2).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/sip_extra.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "dialog/auth.h"
#include "dialog/session_int.h"
#include "sip/msg.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

/* The methods of this file; struct cay__info's method indexes it. REFER
 * and NOTIFY carry our Contact (RFC 3515 section 2.4.1's table, RFC 6665
 * section 8.3.1: both are target refresh requests); INFO and MESSAGE do
 * not (RFC 3428 section 4: a MESSAGE is no target refresh). */
static const struct {
  sip_method_t method;
  const char *name;
  int contact;
} methods[] = {
  { sip_method_info, "INFO", 0 },
  { sip_method_refer, "REFER", 1 },
  { sip_method_notify, "NOTIFY", 1 },
  { sip_method_message, "MESSAGE", 0 },
};

/* Carried by name when the parser did not know them: RFC 4488 section 4
 * (sofia-sip's sip_extra.h has a class for it), RFC 4538 section 7. */
static const char *const refer_extra[] = { "Refer-Sub", "Target-Dialog" };

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

/* Append header @p h, when there is one (cay__msg_header_append()). */
static int
put_header(char *buf, size_t size, size_t *off, const msg_header_t *h)
{
  return h ? cay__msg_header_append(buf, size, off, h) : 0;
}

/* Append @p line to @p buf as put_header() does. @return 0, -ENOSPC. */
static int
put_line(char *buf, size_t size, size_t *off, const char *line)
{
  size_t n = strlen(line);

  if (*off + n >= size)
    return -ENOSPC;
  memcpy(buf + *off, line, n + 1);
  *off += n;
  return 0;
}

/* The header lines of REFER, NOTIFY or MESSAGE @p sip that belong to its method
 * (the event's ev->headers), into @p buf. @return 0, or -ENOSPC. */
static int
method_headers(const sip_t *sip, char *buf, size_t size)
{
  size_t off = 0;
  int err = 0;

  buf[0] = '\0';
  if (sip->sip_request->rq_method == sip_method_message)
    return 0; /* its body and Content-Type are all it carries */
  if (sip->sip_request->rq_method == sip_method_notify) {
    err = put_header(buf, size, &off, (const msg_header_t *)sip->sip_event);
    if (err == 0)
      err = put_header(buf, size, &off,
                       (const msg_header_t *)sip->sip_subscription_state);
    return err;
  }
  /* RFC 4488 section 4: norefersub is the REFER-Recipient's to support
   * (check_require() let it through for a REFER): required of the other
   * side too. */
  if (sip_has_feature(sip->sip_require, "norefersub"))
    err = put_line(buf, size, &off, "Require: norefersub\r\n");
  if (err == 0)
    err = put_header(buf, size, &off, (const msg_header_t *)sip->sip_refer_to);
  if (err == 0)
    err = put_header(buf, size, &off,
                     (const msg_header_t *)sip->sip_referred_by);
  if (err == 0)
    err = put_header(buf, size, &off, (const msg_header_t *)sip_refer_sub(sip));
  for (const sip_unknown_t *u = sip->sip_unknown; u && !err; u = u->un_next)
    for (size_t i = 0; i < sizeof refer_extra / sizeof *refer_extra; i++)
      if (strcasecmp(u->un_name, refer_extra[i]) == 0)
        err = put_header(buf, size, &off, (const msg_header_t *)u);
  return err;
}

void
cay__info_received(cay__session_t *s, cay__txn_t *t, sip_t *sip)
{
  cay__sessions_t *ss = s->ss;
  sip_method_t m = sip->sip_request->rq_method;
  cay_session_event_t ev = { .kind = CAY_SESSION_EV_INFO,
                             .state = s->state,
                             .method = "INFO",
                             .request = cay__txn_id(t) };
  char hdrs[4096], ctype[256];

  if (m != sip_method_info) {
    if (method_headers(sip, hdrs, sizeof hdrs) != 0) {
      cay__txn_reply(t, 500, "Server Internal Error - Headers Too Long", NULL);
      return;
    }
    ev.kind = CAY_SESSION_EV_REQUEST;
    ev.method = m == sip_method_refer    ? "REFER"
                : m == sip_method_notify ? "NOTIFY"
                                         : "MESSAGE";
    ev.headers = hdrs;
    /* A NOTIFY is a target refresh request (RFC 6665), and the remote
     * target is the dialog's, whatever the usage (RFC 5057): our next
     * request goes to its Contact (RFC 3261 section 12.2.2). */
    if (m == sip_method_notify && cay__contact_usable(sip->sip_contact))
      cay__session_set_target(s, sip->sip_contact->m_url);
  }
  /* The type with its parameters (a charset, a sipfrag's version): the
   * other side of a bridge gets it as it came. */
  cay__session_event_body(&ev, sip,
                          cay__msg_content_type(sip, ctype, sizeof ctype));
  /* The body lives in the request, which the final response frees: the
   * event first, then the default answer unless the callback answered or
   * deferred it. The session may end in the callback; the transaction is
   * answered either way. */
  ss->info_txn = ev.request;
  ss->info_taken = 0;
  cay__session_event(s, &ev);
  ss->info_txn = 0;
  if (ss->info_taken)
    return;
  if (m == sip_method_info)
    cay__txn_reply(t, 200, NULL, NULL);
  else
    cay__reply_405(t); /* Cay itself neither transfers nor subscribes,
                          nor reads messages */
}

int
cay_session_defer_request(cay_session_t *s)
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
cay_session_answer_request(cay_session_t *s, cay_id_t request, int status,
                           const char *reason, const char *headers)
{
  cay__sessions_t *ss = s->ss;
  const char *const lines[] = { headers, NULL };
  struct cay__info **pp, *k;
  cay__txn_t *t;

  if (status < 200 || status > 699
      || (headers && !cay__session_headers_ok(headers)))
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
  if (headers)
    cay__session_reply(t, status, reason, NULL, lines);
  else
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

/* Send kept request @p k (CSeq + 1) with credentials line @p auth (NULL:
 * none) after its own header lines; its final response reaches the
 * session (cay__info_response()). */
static int
info_send(cay__session_t *s, struct cay__info *k, const char *auth)
{
  cay__dreq_t r = { .method = methods[k->method].method,
                    .name = methods[k->method].name,
                    .contact = methods[k->method].contact };
  const char *hdrs = k->data + k->ctype_len + 1 + k->body_len;
  char *both = NULL;
  int err;

  r.cseq = ++s->local_cseq;
  if (k->ctype_len) {
    r.ctype = k->data;
    r.body = k->data + k->ctype_len + 1;
    r.body_len = k->body_len;
  }
  r.extra = k->hdrs_len ? hdrs : auth;
  if (k->hdrs_len && auth) {
    size_t alen = strlen(auth);
    if ((both = cay__malloc(k->hdrs_len + alen + 1)) == NULL)
      return -ENOMEM;
    memcpy(both, hdrs, k->hdrs_len);
    memcpy(both + k->hdrs_len, auth, alen + 1);
    r.extra = both;
  }
  err = cay__session_send(s, &r, 1, &k->txn);
  cay__free(both);
  return err;
}

int
cay__info_send(cay__session_t *s, const char *method, const char *hdrs,
               const char *ctype, const char *body, size_t len,
               cay_id_t *request)
{
  size_t clen = ctype ? strlen(ctype) : 0, hlen = hdrs ? strlen(hdrs) : 0;
  unsigned i = 0;
  struct cay__info *k;
  int err;

  while (i < sizeof methods / sizeof *methods
         && strcmp(method, methods[i].name) != 0)
    i++;
  if (i == sizeof methods / sizeof *methods)
    return -EINVAL;
  k = cay__calloc(1, sizeof *k + clen + 1 + len + hlen + 1);
  if (k == NULL)
    return -ENOMEM;
  k->method = i;
  k->ctype_len = clen;
  k->body_len = len;
  k->hdrs_len = hlen;
  if (clen)
    memcpy(k->data, ctype, clen + 1);
  if (len)
    memcpy(k->data + clen + 1, body, len);
  if (hlen)
    memcpy(k->data + clen + 1 + len, hdrs, hlen + 1);
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

/* After a 401/407 (@p status, @p sip): kept request @p k again, with
 * credentials. @return 1 when it went. */
static int
info_again(cay__session_t *s, struct cay__info *k, int status, const sip_t *sip)
{
  const char *name = methods[k->method].name;

  if (!cay__session_challenged(s, status, sip, name))
    return 0;
  if (info_send(s, k, cay__auth_line(s->auth, name, s->remote_target)) != 0)
    return 0;
  CAY_DEBUG(SHARD_NO(s->ss), "session %s: %s sent again with credentials",
            s->call_id, name);
  return 1;
}

/* The header lines of response @p sip (@p status) to our request @p k
 * that its sender needs relayed (ev->headers), into @p buf: a REFER's
 * 2xx says with Refer-Sub: false that no subscription was made (RFC 4488
 * section 4), a 420 names what is unsupported (RFC 3261 section
 * 8.2.2.3). @return 0, or -ENOSPC (none then). */
static int
answer_headers(const struct cay__info *k, int status, const sip_t *sip,
               char *buf, size_t size)
{
  size_t off = 0;
  int err = 0;

  buf[0] = '\0';
  if (status < 300 && methods[k->method].method == sip_method_refer)
    err = put_header(buf, size, &off, (const msg_header_t *)sip_refer_sub(sip));
  else if (status == 420)
    err = put_header(buf, size, &off,
                     (const msg_header_t *)sip->sip_unsupported);
  if (err)
    buf[0] = '\0';
  return err;
}

int
cay__info_response(cay__session_t *s, cay_id_t txn_id, int status,
                   const sip_t *sip)
{
  struct cay__info **pp = info_find(s, txn_id, 0), *k;
  cay_session_event_t ev
      = { .kind = CAY_SESSION_EV_REQUEST_ANSWERED, .status = status };
  char hdrs[1024];

  if ((k = *pp) == NULL)
    return 0;
  ev.method = methods[k->method].name;
  if (status < 200)
    return 1;
  if ((status == 401 || status == 407) && info_again(s, k, status, sip))
    return 1;
  if (s->auth)
    cay__auth_settled(s->auth);
  if (sip && answer_headers(k, status, sip, hdrs, sizeof hdrs) == 0 && hdrs[0])
    ev.headers = hdrs;
  ev.request = k->request;
  *pp = k->next;
  cay__free(k);
  if (ev.request) {
    ev.state = s->state;
    cay__session_event(s, &ev);
  }
  /* 12.2.1.2: the dialog is gone (481) or the peer is (408). */
  if (status == 408 || status == 481) {
    char why[32];
    snprintf(why, sizeof why, "%s got %d", ev.method, status);
    cay__session_bye(s, status, why);
  }
  return 1;
}
