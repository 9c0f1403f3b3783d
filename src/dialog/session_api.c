/*
 * The session layer's small shared pieces: the embedder's callback, the
 * dialog state's text block, and the public accessors of cay/session.h.
 */
#include <errno.h>
#include <string.h>
#include <strings.h>

#include <sofia-sip/bnf.h>

#include "b2bua/route.h"
#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "dialog/session_int.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

void
cay__session_event(cay__session_t *s, const cay_session_event_t *ev)
{
  if (s->cb)
    s->cb(s, ev, s->cb_arg);
}

void
cay__session_event_body(cay_session_event_t *ev, const sip_t *sip,
                        const char *ctype)
{
  if (sip && sip->sip_payload && sip->sip_payload->pl_len) {
    ev->body = sip->sip_payload->pl_data;
    ev->body_len = sip->sip_payload->pl_len;
    ev->content_type = ctype;
  }
}

void
cay__session_notify(cay__session_t *s, int status)
{
  cay__session_notify_with(s, status, NULL);
}

void
cay__session_notify_with(cay__session_t *s, int status, const char *headers)
{
  cay_session_event_t ev = { .kind = CAY_SESSION_EV_STATE,
                             .state = s->state,
                             .status = status,
                             .headers = headers };

  if (s->state == CAY__SESSION_TERMINATING
      || s->state == CAY__SESSION_TERMINATED)
    ev.reason = s->reason;
  cay__session_event(s, &ev);
}

const char *
cay__session_pass_of(cay__session_t *s, msg_t *msg, char *buf, size_t size)
{
  const sip_t *sip;

  if (s->pass_route == NULL || msg == NULL || s->cb == NULL)
    return NULL;
  if (cay__route_pass_lines(s->pass_route, msg, buf, size) != 0) {
    sip = sip_object(msg);
    CAY_INFO(
        SHARD_NO(s->ss),
        "session %s: a header of the %s %d not passed on: it could not "
        "be encoded, or pass_headers came to more than %d bytes",
        s->call_id,
        sip && sip->sip_request ? sip->sip_request->rq_method_name : "response",
        sip && sip->sip_status ? sip->sip_status->st_status : 0, CAY__PASS_MAX);
  }
  return buf[0] ? buf : NULL;
}

int
cay__session_set_text(cay__session_t *s, const char *const v[7])
{
  size_t len = 0, off = 0;
  const char **field[7]
      = { &s->call_id,      &s->local_tag,     &s->remote_tag, &s->local_party,
          &s->remote_party, &s->remote_target, &s->route_set };
  char *text;

  for (int i = 0; i < 7; i++)
    len += v[i] ? strlen(v[i]) + 1 : 0;
  text = cay__malloc(len ? len : 1);
  if (text == NULL)
    return -ENOMEM;
  for (int i = 0; i < 7; i++) {
    if (v[i] == NULL) {
      *field[i] = NULL;
      continue;
    }
    size_t n = strlen(v[i]) + 1;
    memcpy(text + off, v[i], n);
    *field[i] = text + off;
    off += n;
  }
  cay__free(s->text);
  s->text = text;
  return 0;
}

/* -- public accessors (include/cay/session.h) ------------------------------ */

void
cay_session_set_cb(cay_session_t *s, cay_session_cb cb, void *arg)
{
  s->cb = cb;
  s->cb_arg = arg;
}

/* cay_session_request()'s @p headers: lines "Name: value\r\n" (a token,
 * a colon, no CR or LF inside), none naming a header Cay writes. */
int
cay__session_headers_ok(const char *h)
{
  static const char *const ours[] = { "Via",     "v",
                                      "From",    "f",
                                      "To",      "t",
                                      "Call-ID", "i",
                                      "CSeq",    "Max-Forwards",
                                      "Contact", "m",
                                      "Route",   "Content-Type",
                                      "c",       "Content-Length",
                                      "l" };

  while (*h) {
    size_t name = strcspn(h, ": \t\r\n"), line = strcspn(h, "\r\n");
    const char *colon = h + name + strspn(h + name, " \t");

    /* The name is a token (RFC 3261 section 25.1). */
    if (name == 0 || *colon != ':' || colon > h + line
        || (size_t)span_token(h) != name)
      return 0;
    if (strncmp(h + line, "\r\n", 2) != 0)
      return 0;
    for (size_t i = 0; i < sizeof ours / sizeof *ours; i++)
      if (strlen(ours[i]) == name && strncasecmp(h, ours[i], name) == 0)
        return 0;
    h += line + 2;
  }
  return 1;
}

int
cay_session_request(cay_session_t *s, const char *method, const char *headers,
                    const char *content_type, const char *body, size_t body_len,
                    cay_id_t *request)
{
  if (method == NULL || (headers && !cay__session_headers_ok(headers)))
    return -EINVAL;
  if (body_len && (body == NULL || content_type == NULL))
    return -EINVAL;
  /* An INFO goes in an early dialog too (RFC 6086 section 4.2.1), and so
   * does a MESSAGE (RFC 3428 section 4: a request in a dialog, no usage
   * of its own): ours as a UAS once a provisional with our tag is out, or
   * the callee's that a provisional made (12.1.2). Not a REFER or NOTIFY:
   * the subscription they make or serve would outlive an early dialog a
   * failed INVITE ends (13.2.2.3, RFC 5057 section 4). */
  if (s->state != CAY__SESSION_CONFIRMED
      && !(s->state == CAY__SESSION_EARLY
           && (strcmp(method, "INFO") == 0 || strcmp(method, "MESSAGE") == 0)
           && (!s->uac || s->early_dialog)))
    return CAY_ESTATE;
  return cay__info_send(s, method, headers, content_type, body, body_len,
                        request);
}

int
cay_session_hangup(cay_session_t *s)
{
  /* The embedder hung up: the callee of a call answered here, the
   * caller of one it placed. */
  cay__session_ended_by(s, s->uac ? CAY_CDR_CALLER : CAY_CDR_CALLEE);
  return cay__session_hangup(s);
}

cay_session_state_t
cay_session_state(const cay_session_t *s)
{
  return s->state;
}

cay_id_t
cay_session_id(const cay_session_t *s)
{
  return s->id;
}

const char *
cay_session_call_id(const cay_session_t *s)
{
  return s->call_id;
}
