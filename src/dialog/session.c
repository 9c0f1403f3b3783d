/*
 * UAS INVITE sessions: from the initial INVITE to the end of the dialog
 * (RFC 3261 sections 12.1.1, 12.2.2, 13.3, 15; RFC 3264 for the SDP).
 * Requests outside a session (OPTIONS, unknown methods, CANCEL) are
 * answered in request.c.
 */
#include "dialog/auth.h"
#include "dialog/session_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "dialog/rel.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

static void on_guard(cay__timer_t *tm);
static void on_max(cay__timer_t *tm);

uint64_t
cay__dialog_hash(const char *call_id, const char *local_tag,
                 const char *remote_tag)
{
  uint64_t h = cay__hash(call_id, strlen(call_id));
  h = cay__hash_mix(h, cay__hash(local_tag, strlen(local_tag)));
  return cay__hash_mix(h, cay__hash(remote_tag, strlen(remote_tag)));
}

cay__session_t *
cay__session_find_dialog(cay__sessions_t *ss, const char *cid, const char *ltag,
                         const char *rtag)
{
  uint64_t h = cay__dialog_hash(cid, ltag, rtag);

  for (cay__hnode_t *n = cay__htab_first(&ss->dialogs, h); n;
       n = cay__htab_next(n)) {
    cay__session_t *s = SESSION_OF(n);
    if (strcmp(s->call_id, cid) == 0 && strcmp(s->local_tag, ltag) == 0
        && strcmp(s->remote_tag, rtag) == 0)
      return s;
  }
  return NULL;
}

cay__session_t *
cay__session_find(cay__sessions_t *ss, const sip_t *sip)
{
  /* 12.2.2: Call-ID, local tag (To, for requests to the UAS) and remote
   * tag (From). */
  return cay__session_find_dialog(
      ss, sip->sip_call_id->i_id, sip->sip_to->a_tag ? sip->sip_to->a_tag : "",
      sip->sip_from->a_tag ? sip->sip_from->a_tag : "");
}

static uint64_t
merge_hash(const char *call_id, const char *remote_tag)
{
  return cay__hash_mix(cay__hash(call_id, strlen(call_id)),
                       cay__hash(remote_tag, strlen(remote_tag)));
}

#define SESSION_OF_MNODE(n)                                                    \
  ((cay__session_t *)((char *)(n)-offsetof(cay__session_t, mnode)))

void
cay__session_keep_sdp(cay__session_t *s, const char *sdp, size_t len)
{
  char *copy;

  if (!(s->bridged
        || (s->early_oa && !s->uac && s->state == CAY__SESSION_EARLY))
      || sdp == NULL || sdp == s->sdp)
    return;
  if ((copy = cay__strndup(sdp, len)) == NULL)
    return;
  cay__free(s->sdp);
  s->sdp = copy;
  s->sdp_len = len;
}

cay__session_t *
cay__session_merged(cay__sessions_t *ss, const sip_t *sip)
{
  const char *cid = sip->sip_call_id->i_id;
  const char *rtag = sip->sip_from->a_tag ? sip->sip_from->a_tag : "";

  for (cay__hnode_t *n = cay__htab_first(&ss->merge, merge_hash(cid, rtag)); n;
       n = cay__htab_next(n)) {
    cay__session_t *s = SESSION_OF_MNODE(n);
    if (s->invite_cseq == sip->sip_cseq->cs_seq && strcmp(s->call_id, cid) == 0
        && strcmp(s->remote_tag, rtag) == 0)
      return s;
  }
  return NULL;
}

static void
free_session(cay__defer_t *d)
{
  cay__session_t *s
      = (cay__session_t *)((char *)d - offsetof(cay__session_t, defer));

  cay__free(s->ok_bytes);
  cay__free(s->reack);
  cay__info_free_all(s);
  cay__free(s->targets);
  cay__free(s->sdp);
  cay__free(s->pass_lines);
  cay__free(s->reason);
  cay__free(s->origin);
  cay__auth_free(s->auth);
  cay__free(s->text);
  cay__free(s);
}

void
cay__session_destroy(cay__session_t *s)
{
  cay__session_end(s, NULL);
}

void
cay__session_end(cay__session_t *s, const char *headers)
{
  cay__sessions_t *ss = s->ss;

  if (s->state == CAY__SESSION_TERMINATED)
    return;
  s->state = CAY__SESSION_TERMINATED;
  cay__shard_timer_stop(ss->shard, &s->t_step);
  cay__shard_timer_stop(ss->shard, &s->t_guard);
  cay__shard_timer_stop(ss->shard, &s->t_max);
  cay__mod_free(s);
  cay__info_end(s);
  if (s->in_table)
    cay__htab_remove(&ss->dialogs, &s->hnode);
  s->in_table = 0;
  if (s->in_merge)
    cay__htab_remove(&ss->merge, &s->mnode);
  s->in_merge = 0;
  cay__idtab_remove(&ss->shard->ids, s->id);
  if (s->foreign && ss->on_foreign)
    ss->on_foreign(ss->foreign_arg, s->call_id, 0);
  ss->live--;
  ss->shard->stats.dialogs_live--;
  CAY_DEBUG(SHARD_NO(ss), "session %s ended", s->call_id);
  cay__session_cdr_write(s);
  cay__shard_defer(ss->shard, &s->defer, free_session);
  /* The memory stays until the event is over: the callback may look. */
  cay__session_notify_with(s, s->end_status, headers);
  cay__sessions_maybe_idle(ss);
}

int
cay__session_timer(cay__session_t *s, cay__timer_t *t, uint64_t ms)
{
  int err = cay__shard_timer_start(s->ss->shard, t, ms);
  if (err)
    CAY_WARN(SHARD_NO(s->ss), "session %s: no memory for a timer", s->call_id);
  return err;
}

/* -- creating a session from the initial INVITE ------------------------- */

/* Append the encoding of one header's value (or a URL) to the text block
 * being built; returns its offset, or -1 when it does not fit. */
static long
put_value(char *buf, size_t size, size_t *off, const msg_header_t *h,
          const url_t *url, const char *suffix)
{
  long start = (long)*off;
  issize_t n;

  n = h ? msg_header_field_e(buf + *off, size - *off, h, 0)
        : url_e(buf + *off, (isize_t)(size - *off), url);
  if (n < 0 || (size_t)n >= size - *off)
    return -1;
  *off += (size_t)n;
  if (suffix) {
    size_t sl = strlen(suffix);
    if (sl >= size - *off)
      return -1;
    memcpy(buf + *off, suffix, sl);
    *off += sl;
  }
  buf[(*off)++] = '\0';
  return start;
}

static long
put_str(char *buf, size_t size, size_t *off, const char *str)
{
  long start = (long)*off;
  size_t n = strlen(str);

  if (n + 1 > size - *off)
    return -1;
  memcpy(buf + *off, str, n + 1);
  *off += n + 1;
  return start;
}

/* 12.1.1: the dialog state from the INVITE: Call-ID, the remote party
 * (From) and tag, the local party (To plus our tag), the remote target
 * (Contact URI) and the route set (Record-Route, in order). */
static int
copy_dialog_state(cay__session_t *s, const sip_t *sip, const cay__txn_t *t)
{
  char buf[8192], tag[24], tagparam[32];
  long o[7] = { 0 };
  size_t off = 0;

  cay__rand_token(&s->ss->shard->rand, tag, 10);
  snprintf(tagparam, sizeof tagparam, ";tag=%s", tag);
  o[0] = put_str(buf, sizeof buf, &off, sip->sip_call_id->i_id);
  o[1] = put_str(buf, sizeof buf, &off, tag);
  o[2] = put_str(buf, sizeof buf, &off,
                 sip->sip_from->a_tag ? sip->sip_from->a_tag : "");
  o[3] = put_value(buf, sizeof buf, &off, (const msg_header_t *)sip->sip_to,
                   NULL, tagparam);
  o[4] = put_value(buf, sizeof buf, &off, (const msg_header_t *)sip->sip_from,
                   NULL, NULL);
  o[5] = put_value(buf, sizeof buf, &off, NULL, sip->sip_contact->m_url, NULL);
  o[6] = -2; /* no route set */
  for (const sip_record_route_t *r = sip->sip_record_route; r && o[6] != -1;
       r = r->r_next) {
    /* "v1, v2, ...": one Route header value list, parsed back in order. */
    if (o[6] == -2)
      o[6] = (long)off;
    else
      buf[off - 1] = ','; /* replace the NUL of the previous value */
    if (put_value(buf, sizeof buf, &off, (const msg_header_t *)r, NULL, NULL)
        < 0)
      o[6] = -1;
  }
  for (int i = 0; i < 7; i++)
    if (o[i] == -1)
      return CAY_ELIMIT; /* the dialog state is over 8 KiB */
  s->text = cay__malloc(off);
  if (s->text == NULL)
    return -ENOMEM;
  memcpy(s->text, buf, off);
  s->call_id = s->text + o[0];
  s->local_tag = s->text + o[1];
  s->remote_tag = s->text + o[2];
  s->local_party = s->text + o[3];
  s->remote_party = s->text + o[4];
  s->remote_target = s->text + o[5];
  s->route_set = o[6] >= 0 ? s->text + o[6] : NULL;
  s->remote_cseq = sip->sip_cseq->cs_seq;
  s->invite_cseq = sip->sip_cseq->cs_seq;
  s->peer = *cay__txn_peer(t);
  return 0;
}

int
cay__session_create(cay__sessions_t *ss, cay__txn_t *t, const sip_t *sip,
                    int manual, cay__session_t **out)
{
  cay__session_t *s;
  int err;

  s = cay__calloc(1, sizeof *s);
  if (s == NULL)
    return -ENOMEM;
  s->ss = ss;
  s->state = CAY__SESSION_INCOMING;
  s->manual = (unsigned)manual;
  s->max_s = ss->cfg.dialog_max_duration_s;
  s->offer_in_invite = sip->sip_payload && sip->sip_payload->pl_len > 0;
  s->sips = t && cay__txn_peer(t)->proto == CAY__TLS && sip->sip_request
            && sip->sip_request->rq_url->url_type == url_sips;
  /* RFC 3262 section 3: reliable provisionals when the UAC asks. */
  s->rel = (unsigned)cay__rel_wanted(sip);
  s->peer_update = sip_is_allowed(sip->sip_allow, sip_method_update, NULL);
  cay__session_init_timers(s);
  err = copy_dialog_state(s, sip, t);
  /* RFC 7118 section 5: a WebSocket client is reached on its own
   * connection only; its Contact names a host under .invalid. */
  if (err == 0 && cay__proto_ws(s->peer.proto))
    s->by_flow = 1;
  if (err == 0 && !manual)
    err = cay__session_auto_sdp(s, sip);
  if (err == 0)
    err = cay__idtab_add_kind(&ss->shard->ids, s, CAY__ID_SESSION, &s->id);
  if (err) {
    cay__free(s->sdp);
    cay__free(s->text);
    cay__free(s);
    return err;
  }
  s->invite_txn = cay__txn_id(t);
  cay__txn_set_tu(t, s->id);
  cay__htab_insert(&ss->dialogs, &s->hnode,
                   cay__dialog_hash(s->call_id, s->local_tag, s->remote_tag));
  s->in_table = 1;
  cay__htab_insert(&ss->merge, &s->mnode,
                   merge_hash(s->call_id, s->remote_tag));
  s->in_merge = 1;
  ss->live++;
  ss->shard->stats.dialogs_live++;
  if (ss->on_foreign
      && cay__callid_shard(s->call_id, strlen(s->call_id), ss->nshards)
             != ss->shard->index) {
    s->foreign = 1;
    ss->on_foreign(ss->foreign_arg, s->call_id, 1);
  }
  *out = s;
  return 0;
}

/* -- ending a session ----------------------------------------------------- */

/* Request @p r of the dialog as bytes: written straight from the dialog's
 * text. When a supplement wants to see (and maybe change) the requests
 * Cay sends (DESIGN.md section 4), the bytes are parsed into *@p msg for
 * it; otherwise *@p msg is NULL and *@p data is the endpoint's scratch. */
static int
dialog_request(cay__session_t *s, const cay__dreq_t *r, const char *branch,
               cay__peer_t *dst, msg_t **msg, const char **data, size_t *len)
{
  cay__endpoint_t *ep = s->ss->ep;
  long n
      = cay__session_encode(s, r, branch, ep->scratch, sizeof ep->scratch, dst);

  *msg = NULL;
  if (n < 0)
    return (int)n;
  *data = ep->scratch;
  *len = (size_t)n;
  if (ep->hooks.out_message == NULL)
    return 0;
  if (cay__msg_parse(ep->scratch, (size_t)n, msg) != 0) {
    if (*msg)
      msg_destroy(*msg);
    *msg = NULL;
    return -ENOMEM; /* Cay's own bytes always parse: out of memory */
  }
  return 0;
}

int
cay__session_send_ack(cay__session_t *s, const cay__dreq_t *r, cay__peer_t *dst,
                      char **keep, size_t *keep_len)
{
  cay__endpoint_t *ep = s->ss->ep;
  const char *data = NULL;
  char branch[32], *copy = NULL;
  size_t len = 0;
  msg_t *ack;
  int err;

  /* 17.1.1.3 / 13.2.2.4: an ACK for a 2xx is no transaction; it is sent
   * as it is, a new branch each, over TCP when too large for UDP
   * (18.1.1, cay__endpoint_send_sized() changes its Via). */
  cay__endpoint_branch(ep, branch, sizeof branch);
  err = dialog_request(s, r, branch, dst, &ack, &data, &len);
  if (err == 0 && ack) {
    /* The hooks see the Via it goes with (18.1.1, supp.h). */
    if (ep->hooks.out_message)
      (void)cay__endpoint_via_for_size(ep, ack, dst);
    cay__endpoint_out(ep, ack);
    err = cay__msg_serialize(ack, &data, &len);
  }
  /* Writable bytes: the send may change the Via (an ACK per call, and the
   * first one is kept anyway). */
  if (err == 0 && (copy = cay__malloc(len)) == NULL)
    err = -ENOMEM;
  if (err == 0) {
    memcpy(copy, data, len);
    err = cay__endpoint_send_sized(ep, dst, copy, len, 0);
  }
  if (copy && keep) {
    *keep = copy; /* as sent: a copy of the 2xx gets it again */
    *keep_len = len;
    copy = NULL;
  }
  cay__free(copy);
  if (ack)
    msg_destroy(ack);
  return err;
}

int
cay__session_send(cay__session_t *s, const cay__dreq_t *r, int report,
                  cay_id_t *txn_id)
{
  cay__endpoint_t *ep = s->ss->ep;
  /* Responses come back to the session only when the caller waits for
   * them: PRACK and INFO answers are not reported. */
  cay_id_t tu = report ? s->id : 0;
  const char *data = NULL;
  char branch[32];
  cay__peer_t dst;
  size_t len = 0;
  msg_t *req;
  int err;

  cay__endpoint_branch(ep, branch, sizeof branch);
  err = dialog_request(s, r, branch, &dst, &req, &data, &len);
  if (err)
    return err;
  if (s->state == CAY__SESSION_CALLING)
    s->peer = dst; /* the initial INVITE: its responses' peer */
  if (req)
    return cay__txn_request_send(ep, req, &dst, tu, txn_id);
  return cay__txn_request_send_bytes(ep, data, len, branch, r->name, &dst, tu,
                                     txn_id);
}

int
cay__session_set_target(cay__session_t *s, const url_t *url)
{
  char target[512];
  const char *v[7]
      = { s->call_id,      s->local_tag, s->remote_tag, s->local_party,
          s->remote_party, target,       s->route_set };

  if (url_e(target, sizeof target, url) <= 0)
    return CAY_EPARSE;
  target[sizeof target - 1] = '\0';
  if (strcmp(target, s->remote_target) == 0)
    return 0;
  return cay__session_set_text(s, v);
}

int
cay__session_set_pass_lines(cay__session_t *s, const char *lines)
{
  cay__free(s->pass_lines);
  s->pass_lines = NULL;
  if (lines && *lines && (s->pass_lines = cay__strdup(lines)) == NULL)
    return -ENOMEM;
  return 0;
}

void
cay__session_reply(cay__txn_t *t, int status, const char *phrase,
                   const char *tag, const char *const *headers)
{
  msg_t *resp = cay__msg_response(cay__txn_request(t), status, phrase, tag);

  if (resp == NULL)
    return;
  for (; headers && *headers; headers++) {
    if (cay__msg_add_lines(resp, *headers) != 0) {
      msg_destroy(resp);
      return;
    }
  }
  cay__txn_respond(t, resp);
}

const char *
cay__reason_value(char *buf, size_t size, int cause, const char *why)
{
  int n = 0;

  if (cause > 0)
    n = snprintf(buf, size, "%s;cause=%d;text=\"%s\"",
                 cause >= 300 ? "SIP" : "Q.850", cause, why);
  if (cause <= 0 || n < 0 || (size_t)n >= size || strpbrk(why, "\"\\\r\n"))
    buf[0] = '\0';
  return buf;
}

const char *
cay__reason_line(char *buf, size_t size, const char *value)
{
  int n = -1;

  if (value[0])
    n = snprintf(buf, size, "Reason: %s\r\n", value);
  if (n < 0 || (size_t)n >= size)
    buf[0] = '\0';
  return buf;
}

void
cay__session_note_reason(cay__session_t *s, msg_t *msg)
{
  const sip_t *sip = msg ? sip_object(msg) : NULL;
  char buf[CAY__REASON_MAX];
  size_t n = 0;

  if (s->reason || sip == NULL || sip->sip_reason == NULL)
    return;
  for (const sip_reason_t *re = sip->sip_reason; re; re = re->re_next) {
    size_t room = sizeof buf - n - (n ? 2 : 0);
    issize_t len = msg_header_field_e(buf + n + (n ? 2 : 0), (isize_t)room,
                                      (const msg_header_t *)re, 0);

    if (len <= 0 || (size_t)len >= room)
      continue; /* too long: the next may fit */
    if (n)
      memcpy(buf + n, ", ", 2);
    n += (n ? 2 : 0) + (size_t)len;
  }
  buf[n] = '\0';
  if (n)
    s->reason = cay__strdup(buf);
}

/* A BYE with header lines @p lines; the session ends for @p reason, a
 * Reason value its ending events carry (ev->reason), or NULL: none (a
 * hang-up, or the other leg's end relayed in @p lines). */
static void
bye_send(cay__session_t *s, const char *why, const char *lines,
         const char *reason)
{
  cay__sessions_t *ss = s->ss;
  cay__dreq_t r = { .method = sip_method_bye, .name = "BYE" };
  int err;

  if (s->state != CAY__SESSION_ANSWERED && s->state != CAY__SESSION_CONFIRMED)
    return;
  if (reason && reason[0] && s->reason == NULL)
    s->reason = cay__strdup(reason); /* none on -ENOMEM */
  /* Kept for the BYE sent again with credentials (no memory: without). */
  (void)cay__session_set_pass_lines(s, lines);
  r.extra = s->pass_lines;
  /* 13.2.2.4: the 2xx is ACKed before the BYE, with Cay's own answer when
   * the embedder's never came. */
  if (s->ack_pending)
    cay__uac_ack_answer(s, 200, NULL);
  cay__shard_timer_stop(ss->shard, &s->t_step);
  cay__shard_timer_stop(ss->shard, &s->t_guard);
  cay__shard_timer_stop(ss->shard, &s->t_max);
  cay__mod_free(s);
  cay__info_end(s); /* their pending INFOs: 487 now, as a re-INVITE's */
  r.cseq = ++s->local_cseq;
  s->state = CAY__SESSION_TERMINATING;
  cay__session_cdr_ended(s); /* the call ends now, not at the 200 */
  err = cay__session_send(s, &r, 1, NULL);
  if (err) {
    CAY_WARN(SHARD_NO(ss), "session %s: BYE (%s) not sent: %s", s->call_id, why,
             cay_strerror(err));
    cay__session_destroy(s);
    return;
  }
  ss->shard->stats.byes_sent++;
  CAY_DEBUG(SHARD_NO(ss), "session %s: BYE sent (%s)", s->call_id, why);
  /* TERMINATING: a bridge ends the other leg, with the same lines. */
  cay__session_notify_with(s, 0, s->pass_lines);
}

void
cay__session_bye(cay__session_t *s, int cause, const char *why)
{
  char value[CAY__REASON_MAX], line[CAY__REASON_MAX + 16];

  cay__reason_value(value, sizeof value, cause, why);
  cay__reason_line(line, sizeof line, value);
  bye_send(s, why, line[0] ? line : NULL, value);
}

void
cay__session_bye_with(cay__session_t *s, const char *why, const char *lines)
{
  bye_send(s, why, lines, NULL);
}

int
cay__session_challenged(cay__session_t *s, int status, const sip_t *sip,
                        const char *method)
{
  const char *why = NULL;

  if (s->auth == NULL || sip == NULL)
    return 0;
  if (cay__auth_challenge(s->auth, status, sip, &s->ss->shard->rand, &why) == 0)
    return 1;
  CAY_INFO(SHARD_NO(s->ss), "session %s: %d from %s to our %s not answered: %s",
           s->call_id, status, s->remote_target, method, why);
  return 0;
}

int
cay__session_bye_challenged(cay__session_t *s, int status, const sip_t *sip)
{
  cay__dreq_t r = { .method = sip_method_bye, .name = "BYE" };

  if (!cay__session_challenged(s, status, sip, "BYE"))
    return 0;
  /* 22.2: the same request again, CSeq + 1, with the credentials; their
   * digest-uri is its Request-URI, the remote target. */
  char *lines = NULL;
  const char *auth = cay__auth_line(s->auth, "BYE", s->remote_target);

  r.cseq = ++s->local_cseq;
  r.extra = auth;
  if (s->pass_lines && auth
      && (lines = cay__malloc(strlen(auth) + strlen(s->pass_lines) + 1))) {
    strcpy(stpcpy(lines, auth), s->pass_lines);
    r.extra = lines;
  }
  int err = cay__session_send(s, &r, 1, NULL);
  cay__free(lines);
  if (err != 0)
    return 0; /* byes_sent counts the first only: it is one hang-up */
  CAY_DEBUG(SHARD_NO(s->ss), "session %s: BYE sent again with credentials",
            s->call_id);
  return 1;
}

static void
on_guard(cay__timer_t *tm)
{
  cay__session_t *s = tm->data;

  if (s->state == CAY__SESSION_EARLY && s->prack_wait) {
    cay__session_prack_timeout(s);
    return;
  }
  /* Before the ACK, 13.3.1.4: no ACK after 64*T1, so the dialog is
   * confirmed but the session is ended with BYE. After it, the
   * configured hangup_after_ms ran out. */
  if (s->state == CAY__SESSION_ANSWERED) {
    cay__session_bye(s, CAY__Q850_TIMER, "no ACK");
  } else {
    cay__session_ended_by(s, CAY_CDR_CALLEE); /* Cay's answering's */
    cay__session_bye(s, CAY__Q850_NORMAL, "hangup_after_ms");
  }
}

static void
on_max(cay__timer_t *tm)
{
  cay__session_ended_by(tm->data, CAY_CDR_MAX_DURATION);
  cay__session_bye(tm->data, CAY__Q850_TIMER, "max duration");
}

void
cay__session_ack(cay__session_t *s, const sip_t *sip)
{
  cay__sessions_t *ss = s->ss;

  if (cay__mod_ack(s, sip))
    return; /* the ACK of a re-INVITE's 2xx */
  /* 13.3.1.4 / 17.1.1.3: the ACK for our 2xx carries the INVITE's CSeq
   * number; anything else is stray. */
  if (s->state != CAY__SESSION_ANSWERED
      || sip->sip_cseq->cs_seq != s->invite_cseq)
    return;
  cay__shard_timer_stop(ss->shard, &s->t_step);
  cay__shard_timer_stop(ss->shard, &s->t_guard);
  cay__free(s->ok_bytes);
  s->ok_bytes = NULL;
  s->state = CAY__SESSION_CONFIRMED;
  if (!s->offer_in_invite
      && (sip->sip_payload == NULL
          || cay__sdp_check(sip->sip_payload->pl_data,
                            sip->sip_payload->pl_len))) {
    /* RFC 3261 section 13.2.1 / RFC 3264: our offer went in the 200, so
     * the ACK must answer it; without a usable answer, end the call. */
    cay__session_bye(s, 488, "ACK without a valid SDP answer");
    return;
  }
  if (ss->cfg.hangup_after_ms)
    cay__session_timer(s, &s->t_guard, ss->cfg.hangup_after_ms);
  cay__session_stimer_start(s); /* RFC 4028 section 10 */
  if (s->cb) {
    cay_session_event_t ev = { .kind = CAY_SESSION_EV_STATE,
                               .state = s->state,
                               .status = 200,
                               .method = "ACK" };
    cay__session_event_body(&ev, sip, "application/sdp");
    cay__session_event(s, &ev);
  }
}

void
cay__session_cancel(cay__session_t *s, cay__txn_t *invite, msg_t *cancel)
{
  char lines[CAY__PASS_MAX];

  /* 9.2: CANCEL before the final response: 487 to the INVITE. */
  if (s->state == CAY__SESSION_CONFIRMED) {
    cay__mod_cancelled(s, invite); /* a re-INVITE's */
    return;
  }
  if (s->state != CAY__SESSION_INCOMING && s->state != CAY__SESSION_EARLY)
    return;
  cay__txn_reply(invite, 487, NULL, s->local_tag);
  s->end_status = 487;
  s->ss->shard->stats.calls_rejected++;
  cay__session_note_reason(s, cancel); /* RFC 3326: why A gave up */
  cay__session_end(s, cay__session_pass_of(s, cancel, lines, sizeof lines));
}

void
cay__session_remote_bye(cay__session_t *s, cay__txn_t *t)
{
  /* 15.1.2: a BYE ends the session; any INVITE still pending gets 487. */
  if (!s->uac
      && (s->state == CAY__SESSION_INCOMING
          || s->state == CAY__SESSION_EARLY)) {
    cay__txn_t *inv = cay__txn_lookup(s->ss->ep, s->invite_txn);
    if (inv)
      cay__txn_reply(inv, 487, NULL, s->local_tag);
  }
  /* 13.2.2.4: every 2xx is ACKed, also one whose offer still waits for
   * the embedder's answer (a B leg's, until A's ACK) when the callee
   * hangs up first. */
  if (s->ack_pending)
    cay__uac_ack_answer(s, 200, NULL);
  char lines[CAY__PASS_MAX];
  /* Before the 200, which lets the request go. */
  const char *passed
      = cay__session_pass_of(s, cay__txn_request(t), lines, sizeof lines);

  cay__session_note_reason(s, cay__txn_request(t));

  cay__txn_reply_encoded(t, 200, NULL, NULL, NULL, NULL, 0, NULL, NULL);
  s->end_status = 200;
  cay__session_end(s, passed);
}

static void
on_step(cay__timer_t *tm)
{
  cay__session_t *s = tm->data;

  /* Once confirmed the step timer is the session timer (RFC 4028); a
   * UAC's while calling, its no_response_ms. */
  if (s->uac && s->state == CAY__SESSION_CALLING)
    cay__uac_no_response(s);
  else if (s->state == CAY__SESSION_CONFIRMED)
    cay__session_stimer_fire(s);
  else
    cay__session_step(s);
}

void
cay__session_init_timers(cay__session_t *s)
{
  cay__timer_init(&s->t_step, on_step, s);
  cay__timer_init(&s->t_guard, on_guard, s);
  cay__timer_init(&s->t_max, on_max, s);
}

void
cay__session_start_max(cay__session_t *s)
{
  if (s->max_s && !s->bridged)
    cay__session_timer(s, &s->t_max, 1000ull * s->max_s);
}
