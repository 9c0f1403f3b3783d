/*
 * UAS INVITE sessions: from the initial INVITE to the end of the dialog
 * (RFC 3261 sections 12.1.1, 12.2.2, 13.3, 15; RFC 3264 for the SDP).
 * Requests outside a session (OPTIONS, unknown methods, CANCEL) are
 * answered in request.c.
 */
#include "dialog/session_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

static void on_step(cay__timer_t *tm);
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
cay__session_find(cay__sessions_t *ss, const sip_t *sip)
{
  /* 12.2.2: Call-ID, local tag (To, for requests to the UAS) and remote
   * tag (From). */
  const char *cid = sip->sip_call_id->i_id;
  const char *ltag = sip->sip_to->a_tag ? sip->sip_to->a_tag : "";
  const char *rtag = sip->sip_from->a_tag ? sip->sip_from->a_tag : "";
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

static void
free_session(cay__defer_t *d)
{
  cay__session_t *s
      = (cay__session_t *)((char *)d - offsetof(cay__session_t, defer));

  cay__free(s->ok_bytes);
  cay__free(s->sdp);
  cay__free(s->text);
  cay__free(s);
}

void
cay__session_destroy(cay__session_t *s)
{
  cay__sessions_t *ss = s->ss;

  if (s->state == CAY__SESSION_TERMINATED)
    return;
  s->state = CAY__SESSION_TERMINATED;
  cay__shard_timer_stop(ss->shard, &s->t_step);
  cay__shard_timer_stop(ss->shard, &s->t_guard);
  cay__shard_timer_stop(ss->shard, &s->t_max);
  if (s->in_table)
    cay__htab_remove(&ss->dialogs, &s->hnode);
  s->in_table = 0;
  cay__idtab_remove(&ss->shard->ids, s->id);
  ss->live--;
  ss->shard->stats.dialogs_live--;
  CAY_DEBUG(SHARD_NO(ss), "session %s ended", s->call_id);
  cay__shard_defer(ss->shard, &s->defer, free_session);
  /* The memory stays until the event is over: the callback may look. */
  cay__session_notify(s, s->end_status);
  if (ss->draining && ss->live == 0 && ss->on_idle)
    ss->on_idle(ss->idle_arg);
}

static int
start_timer(cay__session_t *s, cay__timer_t *t, uint64_t ms)
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

/* A 16-digit o= session id: fixed width, so that a cached answer can take
 * a new one in place (RFC 4566 section 5.2 only asks for a number). */
static uint64_t
sdp_session_id(cay__sessions_t *ss)
{
  return 1000000000000000ull
         + cay__rand_u64(&ss->shard->rand) % 9000000000000000ull;
}

static void
cache_answer(cay__sessions_t *ss, const char *offer, size_t offer_len,
             const char *answer, size_t len)
{
  const char *o = strstr(answer, "o=cay ");
  char *oc, *ac;

  if (o == NULL)
    return;
  oc = cay__malloc(offer_len);
  ac = cay__malloc(len + 1);
  if (oc == NULL || ac == NULL) {
    cay__free(oc);
    cay__free(ac);
    return;
  }
  cay__free(ss->offer_cache);
  cay__free(ss->answer_cache);
  memcpy(oc, offer, offer_len);
  memcpy(ac, answer, len + 1);
  ss->offer_cache = oc;
  ss->offer_cache_len = offer_len;
  ss->answer_cache = ac;
  ss->answer_cache_len = len;
  ss->answer_id_off = (size_t)(o - answer) + 6;
}

/* The SDP of our 200: the answer to the INVITE's offer, or our offer when
 * the INVITE had none (RFC 3264 section 5, RFC 3261 section 13.2.1). */
static int
make_sdp(cay__session_t *s, const sip_t *sip)
{
  cay__sessions_t *ss = s->ss;
  uint64_t sess_id = sdp_session_id(ss);
  const char *offer = NULL;
  size_t offer_len = 0, len = 0;
  char *body = NULL, digits[24];
  int err;

  if (sip->sip_payload && sip->sip_payload->pl_len > 0) {
    s->offer_in_invite = 1;
    offer = sip->sip_payload->pl_data;
    offer_len = sip->sip_payload->pl_len;
  }
  if (offer && offer_len == ss->offer_cache_len && ss->answer_cache
      && memcmp(offer, ss->offer_cache, offer_len) == 0) {
    s->sdp = cay__strndup(ss->answer_cache, ss->answer_cache_len);
    if (s->sdp == NULL)
      return -ENOMEM;
    /* sess_id has exactly 16 digits (sdp_session_id()). */
    cay__fmt_u64(digits, sess_id);
    memcpy(s->sdp + ss->answer_id_off, digits, 16);
    s->sdp_len = ss->answer_cache_len;
    return 0;
  }
  if (offer)
    err = cay__sdp_answer(offer, offer_len, &ss->sdp, sess_id, &body, &len);
  else
    err = cay__sdp_offer(&ss->sdp, sess_id, &body, &len);
  if (err)
    return err;
  if (offer)
    cache_answer(ss, offer, offer_len, body, len);
  s->sdp = body; /* cay__malloc'd by the SDP layer */
  s->sdp_len = len;
  return 0;
}

int
cay__session_create(cay__sessions_t *ss, cay__txn_t *t, const sip_t *sip,
                    cay__session_t **out)
{
  cay__session_t *s;
  int err;

  s = cay__calloc(1, sizeof *s);
  if (s == NULL)
    return -ENOMEM;
  s->ss = ss;
  s->state = CAY__SESSION_INCOMING;
  cay__session_init_timers(s);
  err = copy_dialog_state(s, sip, t);
  if (err == 0)
    err = make_sdp(s, sip);
  if (err == 0)
    err = cay__idtab_add(&ss->shard->ids, s, &s->id);
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
  ss->live++;
  ss->shard->stats.dialogs_live++;
  *out = s;
  return 0;
}

/* -- responses to the INVITE -------------------------------------------- */

static void
send_ringing(cay__session_t *s, cay__txn_t *t)
{
  /* 12.1.1: the 180 creates the early dialog, so it carries our Contact
   * and the To tag of the dialog. */
  int err = cay__txn_reply_encoded(t, 180, s->local_tag,
                                   s->ss->lines_180[s->peer.proto], NULL, NULL,
                                   0, NULL, NULL);
  if (err)
    CAY_DEBUG(SHARD_NO(s->ss), "session %s: 180 not sent: %s", s->call_id,
              cay_strerror(err));
  s->state = CAY__SESSION_EARLY;
}

static void
send_ok(cay__session_t *s, cay__txn_t *t)
{
  cay__sessions_t *ss = s->ss;
  int err;

  err = cay__txn_reply_encoded(t, 200, s->local_tag,
                               ss->lines_200[s->peer.proto], "application/sdp",
                               s->sdp, s->sdp_len, &s->ok_bytes, &s->ok_len);
  if (err == CAY_ESTATE || (err && cay__txn_state(t) != CAY__TXN_ACCEPTED)) {
    /* Nothing went out (it did not fit, no memory): fail the call. */
    CAY_WARN(SHARD_NO(ss), "session %s: 200 not built: %s", s->call_id,
             cay_strerror(err));
    cay__txn_reply(t, 500, "Server Internal Error", s->local_tag);
    cay__session_destroy(s);
    return;
  }
  if (err || s->ok_bytes == NULL) {
    /* Sent but not kept, or not sent: the no-ACK timer still ends the
     * session cleanly. */
    CAY_DEBUG(SHARD_NO(ss), "session %s: 200 not sent cleanly: %s", s->call_id,
              cay_strerror(err));
  }
  /* The SDP lives on in ok_bytes until the ACK; nothing else needs it
   * (re-INVITE is not handled yet). */
  cay__free(s->sdp);
  s->sdp = NULL;
  s->state = CAY__SESSION_ANSWERED;
  ss->shard->stats.calls_answered++;
  /* 13.3.1.4: retransmit the 2xx at T1, doubling to T2, until the ACK;
   * after 64*T1 without it, end the session with BYE. */
  s->ok_interval = ss->cfg.t1_ms;
  start_timer(s, &s->t_step, s->ok_interval);
  start_timer(s, &s->t_guard, 64ull * ss->cfg.t1_ms);
  if (ss->cfg.dialog_max_duration_s)
    start_timer(s, &s->t_max, 1000ull * ss->cfg.dialog_max_duration_s);
}

/* Advance INCOMING -> EARLY -> ANSWERED as far as the configured delays
 * allow right now. */
static void
progress(cay__session_t *s)
{
  cay__sessions_t *ss = s->ss;
  cay__txn_t *t = cay__txn_lookup(ss->ep, s->invite_txn);

  if (t == NULL) {
    cay__session_destroy(s);
    return;
  }
  if (s->state == CAY__SESSION_INCOMING) {
    if (ss->cfg.ring_ms && !s->ring_waited) {
      s->ring_waited = 1;
      start_timer(s, &s->t_step, ss->cfg.ring_ms);
      return;
    }
    send_ringing(s, t);
  }
  if (s->state == CAY__SESSION_EARLY) {
    if (ss->cfg.answer_after_ms && !s->answer_waited) {
      s->answer_waited = 1;
      start_timer(s, &s->t_step, ss->cfg.answer_after_ms);
      return;
    }
    send_ok(s, t);
  }
}

void
cay__session_start(cay__session_t *s)
{
  progress(s);
}

static void
on_step(cay__timer_t *tm)
{
  cay__session_t *s = tm->data;
  cay__sessions_t *ss = s->ss;

  if (s->state != CAY__SESSION_ANSWERED) {
    progress(s);
    return;
  }
  /* 13.3.1.4: 2xx retransmission. */
  if (s->ok_bytes)
    cay__endpoint_send_bytes(ss->ep, &s->peer, s->ok_bytes, s->ok_len, 1);
  s->ok_interval *= 2;
  if (s->ok_interval > ss->cfg.t2_ms)
    s->ok_interval = ss->cfg.t2_ms;
  start_timer(s, &s->t_step, s->ok_interval);
}

/* -- ending a session ----------------------------------------------------- */

static void
bye_dest(cay__session_t *s, const sip_route_t *route, const url_t *target,
         cay__peer_t *dst)
{
  /* 12.2.1.1 with loose routing: the first Route, else the remote target.
   * Cay does no DNS yet: a host name falls back to where the INVITE came
   * from (right for the usual peer behind its own address). Over TCP the
   * INVITE's connection is reused while it lives (RFC 3261 section
   * 18.1.1 allows any connection to the target). */
  const url_t *url = route ? route->r_url : target;

  *dst = s->peer;
  if (url == NULL || cay__url_dest(url, &dst->addr) != 0)
    dst->addr = s->peer.addr;
}

/* Build a request in the dialog (12.2.1.1): BYE, or the ACK for a 2xx
 * (13.2.2.4). The headers kept as text are parsed into a scratch home that
 * lives only for this call. */
msg_t *
cay__session_request(cay__session_t *s, sip_method_t method,
                     const char *method_name, uint32_t cseq, const char *branch,
                     cay__peer_t *dst)
{
  cay__endpoint_t *ep = s->ss->ep;
  su_home_t home[1] = { SU_HOME_INIT(home) };
  const char *colon = strrchr(ep->sent_by, ':');
  cay__req_spec_t spec;
  char host[64];
  msg_t *req = NULL;

  /* sent_by is "host:port" or "[v6]:port". */
  snprintf(host, sizeof host, "%.*s", (int)(colon - ep->sent_by), ep->sent_by);
  memset(&spec, 0, sizeof spec);
  spec.method = method;
  spec.method_name = method_name;
  spec.ruri = url_make(home, s->remote_target);
  spec.via_host = host;
  spec.via_port = (unsigned)atoi(colon + 1);
  spec.proto = s->peer.proto;
  spec.branch = branch;
  /* 12.2.1.1: From is the local party, To the remote party. */
  spec.from = sip_from_make(home, s->local_party);
  spec.to = sip_to_make(home, s->remote_party);
  spec.call_id = s->call_id;
  spec.cseq = cseq;
  spec.route = s->route_set ? sip_route_make(home, s->route_set) : NULL;
  if (spec.ruri && spec.from && spec.to && (spec.route || !s->route_set)) {
    req = cay__msg_request(&spec);
    bye_dest(s, spec.route, spec.ruri, dst);
  }
  su_home_deinit(home);
  return req;
}

void
cay__session_bye(cay__session_t *s, const char *why)
{
  cay__sessions_t *ss = s->ss;
  cay__endpoint_t *ep = ss->ep;
  char branch[32];
  cay__peer_t dst;
  msg_t *bye;
  int err;

  if (s->state != CAY__SESSION_ANSWERED && s->state != CAY__SESSION_CONFIRMED)
    return;
  cay__shard_timer_stop(ss->shard, &s->t_step);
  cay__shard_timer_stop(ss->shard, &s->t_guard);
  cay__shard_timer_stop(ss->shard, &s->t_max);
  cay__endpoint_branch(ep, branch, sizeof branch);
  bye = cay__session_request(s, sip_method_bye, "BYE", ++s->local_cseq, branch,
                             &dst);
  s->state = CAY__SESSION_TERMINATING;
  err = bye ? cay__txn_request_send(ep, bye, &dst, s->id, NULL) : -ENOMEM;
  if (err) {
    CAY_WARN(SHARD_NO(ss), "session %s: BYE (%s) not sent: %s", s->call_id, why,
             cay_strerror(err));
    cay__session_destroy(s);
    return;
  }
  ss->shard->stats.byes_sent++;
  CAY_DEBUG(SHARD_NO(ss), "session %s: BYE sent (%s)", s->call_id, why);
}

static void
on_guard(cay__timer_t *tm)
{
  cay__session_t *s = tm->data;

  /* Before the ACK, 13.3.1.4: no ACK after 64*T1, so the dialog is
   * confirmed but the session is ended with BYE. After it, the
   * configured hangup_after_ms ran out. */
  cay__session_bye(s, s->state == CAY__SESSION_ANSWERED ? "no ACK"
                                                        : "hangup_after_ms");
}

static void
on_max(cay__timer_t *tm)
{
  cay__session_bye(tm->data, "max duration");
}

void
cay__session_ack(cay__session_t *s, const sip_t *sip)
{
  cay__sessions_t *ss = s->ss;

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
    cay__session_bye(s, "ACK without a valid SDP answer");
    return;
  }
  if (ss->cfg.hangup_after_ms)
    start_timer(s, &s->t_guard, ss->cfg.hangup_after_ms);
}

void
cay__session_cancel(cay__session_t *s, cay__txn_t *invite)
{
  /* 9.2: CANCEL before the final response: 487 to the INVITE. */
  if (s->state != CAY__SESSION_INCOMING && s->state != CAY__SESSION_EARLY)
    return;
  cay__txn_reply(invite, 487, NULL, s->local_tag);
  s->ss->shard->stats.calls_rejected++;
  cay__session_destroy(s);
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
  cay__txn_reply_encoded(t, 200, NULL, NULL, NULL, NULL, 0, NULL, NULL);
  s->end_status = 200;
  cay__session_destroy(s);
}

/* -- layer ---------------------------------------------------------------- */

static void
on_response(void *arg, cay_id_t tu_id, int status, msg_t *msg)
{
  cay__sessions_t *ss = arg;
  cay__session_t *s = cay__session_lookup(ss, tu_id);

  (void)msg;
  if (s && s->uac && s->state != CAY__SESSION_TERMINATING) {
    cay__uac_response(s, status, msg);
    return;
  }
  /* The final response to our BYE, or its timeout: either way the
   * session is over (15.1.1). A session that already ended (their BYE
   * crossed ours) is gone from the id table, and nothing happens. */
  if (s && s->state == CAY__SESSION_TERMINATING) {
    s->end_status = status;
    CAY_DEBUG(SHARD_NO(ss), "session %s: BYE got %d", s->call_id, status);
    cay__session_destroy(s);
  }
}

static void
on_ack(void *arg, msg_t *msg, sip_t *sip)
{
  cay__sessions_t *ss = arg;
  cay__session_t *s;

  (void)msg;
  if (sip->sip_to->a_tag == NULL)
    return;
  s = cay__session_find(ss, sip);
  if (s)
    cay__session_ack(s, sip);
}

int
cay__sessions_init(cay__sessions_t *ss, cay__endpoint_t *ep,
                   const cay_config_t *cfg)
{
  cay__tu_t tu = {
    .on_request = cay__sessions_on_request,
    .on_ack = on_ack,
    .on_response = on_response,
    .arg = ss,
  };

  memset(ss, 0, sizeof *ss);
  ss->ep = ep;
  ss->shard = ep->shard;
  ss->cfg = *cfg;
  for (unsigned i = 0; i < cfg->n_codecs; i++)
    ss->codec_names[i] = ss->cfg.codecs[i];
  ss->sdp.codecs = ss->codec_names;
  ss->sdp.n_codecs = cfg->n_codecs;
  ss->sdp.media_ip = ss->cfg.media_ip;
  ss->sdp.port_base = 40000;
  snprintf(ss->contact, sizeof ss->contact, "<sip:cay@%s>", ep->sent_by);
  for (int tcp = 0; tcp < 2; tcp++) {
    const char *tp = tcp ? ";transport=tcp" : "";
    snprintf(ss->lines_180[tcp], sizeof ss->lines_180[0],
             "Contact: <sip:cay@%s%s>\r\n", ep->sent_by, tp);
    snprintf(ss->lines_200[tcp], sizeof ss->lines_200[0],
             "Contact: <sip:cay@%s%s>\r\nAllow: " CAY_ALLOW "\r\n", ep->sent_by,
             tp);
  }
  ep->tu = tu;
  ep->t1_ms = cfg->t1_ms;
  ep->t2_ms = cfg->t2_ms;
  ep->t4_ms = cfg->t4_ms;
  ep->max_txns = cfg->max_transactions;
  return cay__htab_init(&ss->dialogs, 1024);
}

static void
destroy_all(cay__sessions_t *ss, int signal)
{
  cay__htab_t *tab = &ss->dialogs;

  for (size_t i = 0; i < tab->nbuckets; i++) {
    cay__hnode_t *n = tab->buckets[i];
    while (n) {
      cay__session_t *s = SESSION_OF(n);
      n = n->next;
      if (!signal) {
        cay__session_destroy(s);
      } else if (s->uac
                 && (s->state == CAY__SESSION_CALLING
                     || s->state == CAY__SESSION_EARLY)) {
        /* Our own call, not answered: CANCEL (9.1); its 487 ends it. */
        cay__session_hangup(s);
      } else if (s->state == CAY__SESSION_INCOMING
                 || s->state == CAY__SESSION_EARLY) {
        cay__txn_t *t = cay__txn_lookup(ss->ep, s->invite_txn);
        if (t)
          cay__txn_reply(t, 480, "Temporarily Unavailable - Shutting Down",
                         s->local_tag);
        cay__session_destroy(s);
      } else if (s->state == CAY__SESSION_ANSWERED
                 || s->state == CAY__SESSION_CONFIRMED) {
        cay__session_bye(s, "shutdown");
      }
    }
  }
}

void
cay__sessions_fini(cay__sessions_t *ss)
{
  ss->on_idle = NULL;
  destroy_all(ss, 0);
  cay__shard_flush(ss->shard);
  cay__htab_fini(&ss->dialogs);
  cay__free(ss->offer_cache);
  cay__free(ss->answer_cache);
}

void
cay__sessions_drain(cay__sessions_t *ss, void (*on_idle)(void *arg), void *arg)
{
  ss->draining = 1;
  ss->ep->draining = 1;
  ss->on_idle = on_idle;
  ss->idle_arg = arg;
  destroy_all(ss, 1);
  if (ss->live == 0 && on_idle)
    on_idle(arg);
}

unsigned
cay__sessions_live(const cay__sessions_t *ss)
{
  return ss->live;
}

cay__session_t *
cay__session_lookup(cay__sessions_t *ss, cay_id_t id)
{
  cay__session_t *s = cay__idtab_get(&ss->shard->ids, id);

  /* The id table holds transactions too: a session is recognised by its
   * back pointer. */
  if (s == NULL || s->ss != ss || s->state == CAY__SESSION_TERMINATED)
    return NULL;
  return s;
}

cay__session_state_t
cay__session_state(const cay__session_t *s)
{
  return s->state;
}

cay_id_t
cay__session_id(const cay__session_t *s)
{
  return s->id;
}

cay__session_t *
cay__sessions_any(cay__sessions_t *ss)
{
  for (size_t i = 0; i < ss->dialogs.nbuckets; i++)
    if (ss->dialogs.buckets[i])
      return SESSION_OF(ss->dialogs.buckets[i]);
  return NULL;
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
  if (s->ss->cfg.dialog_max_duration_s)
    start_timer(s, &s->t_max, 1000ull * s->ss->cfg.dialog_max_duration_s);
}
