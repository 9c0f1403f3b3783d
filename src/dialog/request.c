/*
 * The UAS core (RFC 3261 section 8.2): what happens to a new request
 * before or instead of a session: method and extension checks, OPTIONS,
 * CANCEL, in-dialog requests.
 */
#include "dialog/session_int.h"

#include <stdio.h>
#include <string.h>

#include "cay/errno.h"
#include "core/log.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

/* Reply with extra header lines (each "Name: value"), no body. */
static void
reply_with(cay__txn_t *t, int status, const char *phrase, const char *tag,
           const char *const *headers)
{
  msg_t *resp = cay__msg_response(cay__txn_request(t), status, phrase, tag);

  if (resp == NULL)
    return;
  for (; headers && *headers; headers++) {
    if (cay__msg_add_header(resp, *headers) != 0) {
      msg_destroy(resp);
      return;
    }
  }
  cay__txn_respond(t, resp);
}

static void
reply_options(cay__txn_t *t, const char *tag)
{
  /* 11.2: 200 with what Cay accepts and supports. */
  static const char *const hdrs[]
      = { "Allow: " CAY_ALLOW, "Accept: " CAY_ACCEPT,
          "Supported: " CAY_SUPPORTED, NULL };
  reply_with(t, 200, NULL, tag, hdrs);
}

static void
reply_405(cay__txn_t *t)
{
  /* 8.2.1: 405 lists the methods Cay does allow. */
  static const char *const hdrs[] = { "Allow: " CAY_ALLOW, NULL };
  reply_with(t, 405, NULL, NULL, hdrs);
}

/* 8.2.2.3: any option in Require that Cay does not support gets 420 with
 * an Unsupported header naming them. Cay supports no extensions yet. */
static int
check_require(cay__txn_t *t, const sip_t *sip)
{
  char line[512];
  size_t off;
  const char *const hdrs[] = { line, NULL };

  if (sip->sip_require == NULL || sip->sip_require->k_items == NULL
      || sip->sip_require->k_items[0] == NULL)
    return 0;
  off = (size_t)snprintf(line, sizeof line, "Unsupported: ");
  for (msg_param_t const *p = sip->sip_require->k_items; *p; p++)
    off += (size_t)snprintf(line + off,
                            off < sizeof line ? sizeof line - off : 0, "%s%s",
                            p == sip->sip_require->k_items ? "" : ", ", *p);
  if (off >= sizeof line)
    snprintf(line, sizeof line, "Unsupported: %s",
             sip->sip_require->k_items[0]);
  reply_with(t, 420, NULL, NULL, hdrs);
  return 1;
}

/* 8.2.3: a body Cay cannot handle gets 415 with Accept. Multipart bodies
 * are refused here, never handed to a multipart parser. */
static int
check_content(cay__txn_t *t, const sip_t *sip)
{
  static const char *const hdrs[] = { "Accept: " CAY_ACCEPT, NULL };
  const sip_content_type_t *ct = sip->sip_content_type;

  if (sip->sip_payload == NULL || sip->sip_payload->pl_len == 0)
    return 0;
  if (ct && ct->c_type && strcasecmp(ct->c_type, "application/sdp") == 0
      && (sip->sip_content_encoding == NULL
          || sip->sip_content_encoding->k_items == NULL
          || sip->sip_content_encoding->k_items[0] == NULL))
    return 0;
  reply_with(t, 415, NULL, NULL, hdrs);
  return 1;
}

static void
handle_cancel(cay__sessions_t *ss, cay__txn_t *t, sip_t *sip)
{
  cay__txn_t *inv = cay__txn_find_cancelled(ss->ep, sip);
  cay__session_t *s;

  if (inv == NULL) {
    /* 9.2: no transaction to cancel. */
    cay__txn_reply(t, 481, NULL, NULL);
    return;
  }
  s = cay__session_lookup(ss, cay__txn_tu(inv));
  /* 9.2: the CANCEL is answered 200 (with the tag of our responses to the
   * INVITE), then the INVITE 487 if it had no final response yet. */
  cay__txn_reply(t, 200, NULL, s ? s->local_tag : NULL);
  if (s)
    cay__session_cancel(s, inv);
}

static void
handle_in_dialog(cay__sessions_t *ss, cay__txn_t *t, sip_t *sip)
{
  sip_method_t m = sip->sip_request->rq_method;
  cay__session_t *s = cay__session_find(ss, sip);
  uint32_t cseq = sip->sip_cseq->cs_seq;

  if (s == NULL) {
    /* 12.2.2: a request for a dialog Cay does not have. */
    cay__txn_reply(t, 481, NULL, NULL);
    return;
  }
  if (cseq < s->remote_cseq) {
    /* 12.2.2: lower CSeq than the remote sequence number gets 500. */
    cay__txn_reply(t, 500, "Server Internal Error - CSeq Out of Order", NULL);
    return;
  }
  s->remote_cseq = cseq;
  switch (m) {
  case sip_method_bye:
    cay__session_remote_bye(s, t);
    break;
  case sip_method_options:
    reply_options(t, NULL);
    break;
  case sip_method_invite:
    /* Session modification arrives with the sessions work (re-INVITE per
     * RFC 3261 section 14.2); until then the offer is refused and the
     * session stays as it was. */
    cay__txn_reply(t, 488, "Not Acceptable Here - Re-INVITE Not Supported",
                   NULL);
    break;
  default:
    reply_405(t);
    break;
  }
}

static void
handle_invite(cay__sessions_t *ss, cay__txn_t *t, sip_t *sip)
{
  static const char *const retry[] = { "Retry-After: 5", NULL };
  cay__session_t *s;
  int err;

  ss->shard->stats.calls_in++;
  if (ss->draining) {
    ss->shard->stats.calls_rejected++;
    reply_with(t, 503, "Service Unavailable - Shutting Down", NULL, retry);
    return;
  }
  if (sip->sip_contact == NULL
      || sip->sip_contact->m_url->url_type == url_any) {
    /* 8.1.1.8: an INVITE must name its Contact (a dialog needs it). */
    ss->shard->stats.calls_rejected++;
    cay__txn_reply(t, 400, "Bad Request - Missing Contact", NULL);
    return;
  }
  if (check_content(t, sip)) {
    ss->shard->stats.calls_rejected++;
    return;
  }
  err = cay__session_create(ss, t, sip, &s);
  if (err) {
    ss->shard->stats.calls_rejected++;
    if (err == CAY_ENOCODEC)
      cay__txn_reply(t, 488, "Not Acceptable Here - No Common Codec", NULL);
    else if (err == CAY_EPARSE)
      cay__txn_reply(t, 400, "Bad Request - Malformed SDP", NULL);
    else
      cay__txn_reply(t, 500, "Server Internal Error - Out of Memory", NULL);
    return;
  }
  CAY_DEBUG(SHARD_NO(ss), "session %s: INVITE", s->call_id);
  cay__session_start(s);
}

void
cay__sessions_on_request(void *arg, cay__txn_t *t, msg_t *msg, sip_t *sip)
{
  cay__sessions_t *ss = arg;
  sip_method_t m = sip->sip_request->rq_method;

  (void)msg;
  if (m == sip_method_cancel) {
    handle_cancel(ss, t, sip);
    return;
  }
  /* 8.2.1: methods Cay does not implement get 405 with Allow. */
  if (m != sip_method_invite && m != sip_method_bye
      && m != sip_method_options) {
    reply_405(t);
    return;
  }
  if (check_require(t, sip))
    return;
  /* RFC 3261 section 16.3 item 3 and 8.2: no hops left. OPTIONS may be
   * answered by the element itself (section 11). */
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0
      && m != sip_method_options) {
    cay__txn_reply(t, 483, NULL, NULL);
    return;
  }
  if (sip->sip_to->a_tag) {
    handle_in_dialog(ss, t, sip);
    return;
  }
  switch (m) {
  case sip_method_invite:
    handle_invite(ss, t, sip);
    break;
  case sip_method_options:
    reply_options(t, NULL);
    break;
  default: /* BYE without a To tag: no dialog (15.1.2). */
    cay__txn_reply(t, 481, NULL, NULL);
    break;
  }
}
