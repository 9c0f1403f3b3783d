/*
 * Outgoing INVITE sessions (RFC 3261 sections 12.1.2, 13.2, 15): the
 * INVITE, the dialog made by the 2xx, the ACK for it, hanging up.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "dialog/session_int.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

/* A Call-ID that hashes to this shard (DESIGN.md rule 2): random tokens
 * until one does; with N shards that takes N tries on average. */
static void
make_call_id(cay__sessions_t *ss, char *buf, size_t len)
{
  const char *host = ss->ep->sent_by;
  char token[24];
  size_t n;

  do {
    cay__rand_token(&ss->shard->rand, token, 20);
    n = (size_t)snprintf(buf, len, "%s@%s", token, host);
  } while (cay__callid_shard(buf, n < len ? n : len - 1,
                             ss->nshards ? ss->nshards : 1)
           != ss->shard->index);
}

/* Encode a header value into @p buf (for the dialog's text block). */
static const char *
value_of(const msg_header_t *h, char *buf, size_t len)
{
  issize_t n = msg_header_field_e(buf, len, h, 0);
  return n > 0 && (size_t)n < len ? buf : NULL;
}

static msg_t *
build_invite(cay__session_t *s, su_home_t *home, const char *branch,
             const char *sdp, cay__peer_t *dst)
{
  cay__endpoint_t *ep = s->ss->ep;
  const char *colon = strrchr(ep->sent_by, ':');
  cay__req_spec_t spec;
  char host[64];
  msg_t *msg;

  snprintf(host, sizeof host, "%.*s", (int)(colon - ep->sent_by), ep->sent_by);
  memset(&spec, 0, sizeof spec);
  spec.method = sip_method_invite;
  spec.method_name = "INVITE";
  spec.ruri = url_make(home, s->remote_target);
  spec.via_host = host;
  spec.via_port = (unsigned)atoi(colon + 1);
  spec.branch = branch;
  spec.from = sip_from_make(home, s->local_party);
  spec.to = sip_to_make(home, s->remote_party);
  spec.call_id = s->call_id;
  spec.cseq = s->local_cseq;
  spec.contact = sip_contact_make(home, s->ss->contact);
  if (sdp) {
    spec.content_type = "application/sdp";
    spec.body = sdp;
    spec.body_len = strlen(sdp);
  }
  if (!spec.ruri || !spec.from || !spec.to || !spec.contact)
    return NULL;
  /* 8.1.2 without DNS: the Request-URI's host must be an IP literal. */
  memset(dst, 0, sizeof *dst);
  if (cay__url_dest(spec.ruri, &dst->addr) != 0)
    return NULL;
  dst->proto
      = spec.ruri->url_params && url_has_param(spec.ruri, "transport=tcp")
            ? CAY__TCP
            : CAY__UDP;
  spec.proto = dst->proto;
  msg = cay__msg_request(&spec);
  return msg;
}

int
cay__session_invite(cay__sessions_t *ss, const char *uri, const char *from,
                    const char *sdp, cay_session_cb cb, void *arg,
                    cay__session_t **out)
{
  su_home_t home[1] = { SU_HOME_INIT(home) };
  char call_id[96], tag[16], branch[32], local[512];
  const char *v[7];
  cay__session_t *s;
  cay__peer_t dst;
  msg_t *invite;
  int err;

  if (ss->draining)
    return CAY_ESTATE;
  s = cay__calloc(1, sizeof *s);
  if (s == NULL)
    return -ENOMEM;
  s->ss = ss;
  s->uac = 1;
  s->state = CAY__SESSION_CALLING;
  s->cb = cb;
  s->cb_arg = arg;
  s->local_cseq = 1;
  s->invite_cseq = 1;
  cay__session_init_timers(s);
  make_call_id(ss, call_id, sizeof call_id);
  cay__rand_token(&ss->shard->rand, tag, 10);
  /* 8.1.1.3: our From with a fresh tag; 8.1.1.2: To is the target. */
  snprintf(local, sizeof local, "%s;tag=%s", from, tag);
  v[0] = call_id;
  v[1] = tag;
  v[2] = "";
  v[3] = local;
  v[4] = uri;
  v[5] = uri;
  v[6] = NULL;
  err = cay__session_set_text(s, v);
  if (err == 0)
    err = cay__idtab_add(&ss->shard->ids, s, &s->id);
  if (err) {
    cay__free(s->text);
    cay__free(s);
    return err;
  }
  ss->live++;
  ss->shard->stats.dialogs_live++;
  /* In the table from the start (remote tag still empty), so that a drain
   * or a shutdown finds calls that are still ringing; rehashed once the
   * 2xx names the remote tag. */
  cay__htab_insert(&ss->dialogs, &s->hnode,
                   cay__dialog_hash(s->call_id, s->local_tag, ""));
  s->in_table = 1;
  cay__endpoint_branch(ss->ep, branch, sizeof branch);
  invite = build_invite(s, home, branch, sdp, &dst);
  su_home_deinit(home);
  err = invite ? 0 : -EINVAL;
  if (err == 0) {
    s->peer = dst;
    err = cay__txn_request_send(ss->ep, invite, &dst, s->id, &s->invite_txn);
  }
  if (err) {
    s->cb = NULL; /* the caller learns it from the return value */
    cay__session_destroy(s);
    return err;
  }
  CAY_DEBUG(SHARD_NO(ss), "session %s: INVITE sent to %s", s->call_id, uri);
  *out = s;
  return 0;
}

/* 12.1.2: the dialog the 2xx makes: the remote tag (To), the remote
 * target (Contact), the route set (Record-Route in reverse order). */
static int
confirm_dialog(cay__session_t *s, msg_t *msg)
{
  sip_t *sip = sip_object(msg);
  const sip_record_route_t *rr[64];
  char to[1024], target[512], routes[4096], one[1024];
  const char *v[7];
  size_t nrr = 0, off = 0;

  if (!sip || !sip->sip_to || !sip->sip_to->a_tag
      || !value_of((const msg_header_t *)sip->sip_to, to, sizeof to))
    return CAY_EPARSE;
  if (sip->sip_contact
      && url_e(target, sizeof target, sip->sip_contact->m_url) > 0)
    ; /* the remote target */
  else
    snprintf(target, sizeof target, "%s", s->remote_target);
  for (const sip_record_route_t *r = sip->sip_record_route; r && nrr < 64;
       r = r->r_next)
    rr[nrr++] = r;
  routes[0] = '\0';
  while (nrr > 0) {
    const char *val
        = value_of((const msg_header_t *)rr[--nrr], one, sizeof one);
    int n;
    if (val == NULL)
      return CAY_EPARSE;
    n = snprintf(routes + off, sizeof routes - off, "%s%s", off ? ", " : "",
                 val);
    if (n < 0 || (size_t)n >= sizeof routes - off)
      return CAY_ELIMIT;
    off += (size_t)n;
  }
  v[0] = s->call_id;
  v[1] = s->local_tag;
  v[2] = sip->sip_to->a_tag;
  v[3] = s->local_party;
  v[4] = to;
  v[5] = target;
  v[6] = off ? routes : NULL;
  return cay__session_set_text(s, v);
}

/* 13.2.2.4: the ACK for the 2xx, built once and kept for every copy of
 * the 2xx (the ACK then goes again). */
static int
send_ack(cay__session_t *s)
{
  cay__sessions_t *ss = s->ss;
  char branch[32];
  const char *data;
  size_t len;
  msg_t *ack;
  int err;

  cay__endpoint_branch(ss->ep, branch, sizeof branch);
  ack = cay__session_request(s, sip_method_ack, "ACK", s->invite_cseq, branch,
                             &s->peer);
  if (ack == NULL)
    return -ENOMEM;
  err = cay__msg_serialize(ack, &data, &len);
  if (err == 0 && (s->ok_bytes = cay__malloc(len)) == NULL)
    err = -ENOMEM;
  if (err == 0) {
    memcpy(s->ok_bytes, data, len);
    s->ok_len = len;
    err = cay__endpoint_send_bytes(ss->ep, &s->peer, data, len, 0);
  }
  msg_destroy(ack);
  return err;
}

void
cay__uac_response(cay__session_t *s, int status, msg_t *msg)
{
  cay__sessions_t *ss = s->ss;
  sip_t *sip = msg ? sip_object(msg) : NULL;

  if (status < 200) {
    /* 12.1.2: a provisional with a To tag makes an early dialog. */
    if (s->state == CAY__SESSION_CALLING && sip && sip->sip_to
        && sip->sip_to->a_tag)
      s->state = CAY__SESSION_EARLY;
    cay__session_notify(s, status);
    return;
  }
  if (status < 300 && s->state == CAY__SESSION_CONFIRMED) {
    /* 13.2.2.4: a copy of the 2xx gets the same ACK again. A 2xx of
     * another fork (another To tag) is not handled yet: logged. */
    if (sip && sip->sip_to && sip->sip_to->a_tag
        && strcmp(sip->sip_to->a_tag, s->remote_tag) == 0 && s->ok_bytes)
      cay__endpoint_send_bytes(ss->ep, &s->peer, s->ok_bytes, s->ok_len, 1);
    else
      CAY_WARN(SHARD_NO(ss), "session %s: 2xx from another fork ignored",
               s->call_id);
    return;
  }
  if (status < 300) {
    cay__htab_remove(&ss->dialogs, &s->hnode);
    s->in_table = 0;
    if (msg == NULL || confirm_dialog(s, msg) != 0) {
      CAY_WARN(SHARD_NO(ss), "session %s: unusable 2xx", s->call_id);
      s->end_status = 500;
      cay__session_destroy(s);
      return;
    }
    cay__htab_insert(&ss->dialogs, &s->hnode,
                     cay__dialog_hash(s->call_id, s->local_tag, s->remote_tag));
    s->in_table = 1;
    s->state = CAY__SESSION_CONFIRMED;
    ss->shard->stats.calls_answered++;
    if (send_ack(s) != 0)
      CAY_WARN(SHARD_NO(ss), "session %s: ACK not sent", s->call_id);
    cay__session_start_max(s);
    cay__session_notify(s, status);
    return;
  }
  /* 300-699, 408 (timer B) or a transport error: the call failed; the
   * transaction has ACKed a final response itself (17.1.1.3). */
  s->end_status = status;
  ss->shard->stats.calls_rejected++;
  cay__session_destroy(s);
}

int
cay__session_hangup(cay__session_t *s)
{
  switch (s->state) {
  case CAY__SESSION_CALLING:
  case CAY__SESSION_EARLY:
    if (s->uac) {
      /* 9.1: CANCEL; the INVITE's 487 ends the session. */
      cay__txn_t *t = cay__txn_lookup(s->ss->ep, s->invite_txn);
      return t ? cay__txn_cancel(t) : 0;
    }
    return CAY_ESTATE;
  case CAY__SESSION_ANSWERED:
  case CAY__SESSION_CONFIRMED:
    cay__session_bye(s, "hangup");
    return 0;
  case CAY__SESSION_TERMINATING:
    return 0;
  default:
    return CAY_ESTATE;
  }
}
