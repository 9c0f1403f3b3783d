/*
 * Answering an incoming INVITE (RFC 3261 section 13.3): provisional
 * responses (reliable ones per RFC 3262), the 2xx and its retransmission,
 * rejection and redirection; by the configured answer: behaviour, or by
 * the embedder through cay/session.h.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "dialog/rel.h"
#include "dialog/session_int.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

/* A 16-digit o= session id, fixed width so that a cached answer can take
 * a new one in place (RFC 4566 section 5.2 only asks for a number), and
 * the same for every SDP of the session (RFC 3264 section 8), so derived
 * from the dialog rather than stored. */
static uint64_t
sdp_session_id(const cay__session_t *s)
{
  return 1000000000000000ull
         + cay__hash_mix(cay__hash(s->call_id, strlen(s->call_id)),
                         cay__hash(s->local_tag, strlen(s->local_tag)))
               % 9000000000000000ull;
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

/* Restamp an SDP the SDP layer built ("o=cay ID 1 ..."): the session's
 * origin (the embedder's own username and id when its SDP went first,
 * else Cay's) with the next version (RFC 3264 section 8: every new SDP of
 * a session keeps o= and counts the version up). */
static int
restamp(cay__session_t *s, char **sdp, size_t *len)
{
  char *o = strstr(*sdp, "o=cay "), *v, *out, head[192];
  size_t hl, rest_off;

  s->sdp_version++;
  if (o == NULL || (v = strchr(o + 6, ' ')) == NULL || strncmp(v, " 1 ", 3))
    return 0;
  if (s->origin)
    hl = (size_t)snprintf(head, sizeof head, "o=%s %u", s->origin,
                          (unsigned)s->sdp_version);
  else
    hl = (size_t)snprintf(head, sizeof head, "%.*s %u", (int)(v - o), o,
                          (unsigned)s->sdp_version);
  if (hl >= sizeof head)
    return CAY_ELIMIT;
  rest_off = (size_t)(v + 2 - *sdp); /* from the space after "1" */
  out = cay__malloc((size_t)(o - *sdp) + hl + (*len - rest_off) + 1);
  if (out == NULL)
    return -ENOMEM;
  memcpy(out, *sdp, (size_t)(o - *sdp));
  memcpy(out + (o - *sdp), head, hl);
  memcpy(out + (o - *sdp) + hl, *sdp + rest_off, *len - rest_off + 1);
  *len = (size_t)(o - *sdp) + hl + (*len - rest_off);
  cay__free(*sdp);
  *sdp = out;
  return 0;
}

void
cay__session_origin(cay__session_t *s, const char *sdp)
{
  /* "o=<username> <sess-id> <sess-version> <nettype> ..." (RFC 4566
   * section 5.2): keep username and id, and the version to count on. */
  const char *o = strstr(sdp, "o=");
  const char *p, *user, *id;
  size_t ulen, idlen;
  unsigned long version;

  if (o == NULL || (o != sdp && o[-1] != '\n'))
    return;
  /* Fields are separated by single spaces (RFC 4566 section 5); a
   * username of 64 or an id of 32 characters and more is not kept. */
  user = o + 2;
  ulen = strcspn(user, " \r\n");
  if (ulen == 0 || ulen > 63 || user[ulen] != ' ')
    return;
  id = user + ulen + 1;
  idlen = strcspn(id, " \r\n");
  if (idlen == 0 || idlen > 31 || id[idlen] != ' ')
    return;
  p = id + idlen + 1;
  if (*p < '0' || *p > '9')
    return;
  version = strtoul(p, NULL, 10);
  cay__free(s->origin);
  s->origin = cay__malloc(ulen + 1 + idlen + 1);
  if (s->origin) {
    memcpy(s->origin, user, ulen + 1 + idlen); /* "<username> <sess-id>" */
    s->origin[ulen + 1 + idlen] = '\0';
  }
  s->sdp_version = (uint32_t)version;
}

int
cay__session_answer_sdp(cay__session_t *s, const char *offer, size_t len,
                        char **out, size_t *out_len)
{
  int err = cay__sdp_answer(offer, len, &s->ss->sdp, sdp_session_id(s), out,
                            out_len);
  if (err == 0 && (err = restamp(s, out, out_len)) != 0) {
    cay__free(*out);
    *out = NULL;
  }
  return err;
}

const char *
cay__session_ack_answer(cay__session_t *s, const char *offer, const char *given,
                        char **own, size_t *len)
{
  *own = NULL;
  *len = 0;
  if (given) {
    cay__session_origin(s, given);
    *len = strlen(given);
    return given;
  }
  if (offer == NULL
      || cay__session_answer_sdp(s, offer, strlen(offer), own, len) != 0) {
    *own = NULL;
    *len = 0;
  }
  return *own;
}

int
cay__session_offer_sdp(cay__session_t *s, char **out, size_t *out_len)
{
  int err = cay__sdp_offer(&s->ss->sdp, sdp_session_id(s), out, out_len);
  if (err == 0 && (err = restamp(s, out, out_len)) != 0) {
    cay__free(*out);
    *out = NULL;
  }
  return err;
}

/* The SDP of our 200: the answer to the INVITE's offer, or our offer when
 * the INVITE had none (RFC 3264 section 5, RFC 3261 section 13.2.1). The
 * last offer and its answer are cached per shard: UAs send the same offer
 * call after call. */
int
cay__session_auto_sdp(cay__session_t *s, const sip_t *sip)
{
  cay__sessions_t *ss = s->ss;
  uint64_t sess_id = sdp_session_id(s);
  const char *offer = NULL;
  size_t offer_len = 0, len = 0;
  char *body = NULL, digits[24];
  int err;

  s->sdp_version = 1;
  if (sip->sip_payload && sip->sip_payload->pl_len > 0) {
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

/* -- responses to the INVITE -------------------------------------------- */

/* RFC 3262 / RFC 3311 section 5.1: the INVITE's offer is answered in a
 * reliable provisional (@p sdp): the early dialog's offer/answer is done,
 * an UPDATE may change it, and the 2xx repeats the SDP last sent in it
 * (RFC 6337 section 3.1.1), kept in s->sdp. Without memory for the copy
 * the 2xx carries a fresh answer, as before. */
static void
keep_early_answer(cay__session_t *s, const char *sdp)
{
  char *copy = cay__strdup(sdp);

  s->early_oa = 1;
  if (copy == NULL)
    return;
  cay__free(s->sdp);
  s->sdp = copy;
  s->sdp_len = strlen(copy);
  cay__session_origin(s, sdp);
}

/* A provisional response (13.3.1.1); reliable (RFC 3262 section 3) when
 * the INVITE requires 100rel: then kept and retransmitted until the
 * PRACK. */
static int
send_provisional(cay__session_t *s, cay__txn_t *t, int status, const char *sdp)
{
  cay__sessions_t *ss = s->ss;
  char lines[320 + CAY__PASS_MAX];
  size_t n;
  int err;

  n = (size_t)snprintf(
      lines, 320, "%s",
      ss->lines_180[s->sips ? CAY__LINES_SIPS : s->peer.proto]);
  if (s->rel == 1) {
    if (s->rseq == 0)
      s->rseq = cay__rel_first_rseq(cay__rand_u64(&ss->shard->rand));
    else
      s->rseq++;
    if (cay__rel_lines(s->rseq, lines + n, 320 - n) < 0)
      return CAY_ELIMIT;
    if (sdp) /* RFC 3311 section 4: an UPDATE may follow; say so */
      snprintf(lines + strlen(lines), 320 - strlen(lines), "Allow: %s\r\n",
               s->bridged ? CAY_ALLOW_BRIDGED : CAY_ALLOW);
  }
  if (s->pass_lines) /* the other leg's, a bridge's pass_headers */
    snprintf(lines + strlen(lines), sizeof lines - strlen(lines), "%s",
             s->pass_lines);
  cay__free(s->ok_bytes);
  s->ok_bytes = NULL;
  err = cay__txn_reply_encoded(
      t, status, s->local_tag, lines, sdp ? "application/sdp" : NULL, sdp,
      sdp ? strlen(sdp) : 0, s->rel == 1 ? &s->ok_bytes : NULL,
      s->rel == 1 ? &s->ok_len : NULL);
  if (err)
    CAY_DEBUG(SHARD_NO(ss), "session %s: %d not sent: %s", s->call_id, status,
              cay_strerror(err));
  s->state = CAY__SESSION_EARLY;
  if (status > 100)
    cay__session_cdr_progress(s);
  if (s->rel == 1 && s->ok_bytes && sdp && s->offer_in_invite)
    keep_early_answer(s, sdp);
  if (s->rel == 1 && s->ok_bytes) {
    s->prack_wait = 1;
    s->ok_interval = ss->cfg.t1_ms;
    cay__session_timer(s, &s->t_step, s->ok_interval);
    cay__session_timer(s, &s->t_guard, 64ull * ss->cfg.t1_ms);
  }
  return 0;
}

static void
send_ok(cay__session_t *s, cay__txn_t *t)
{
  cay__sessions_t *ss = s->ss;
  char lines[400 + CAY__PASS_MAX];
  int err;

  /* RFC 4028 section 9: the negotiated timer goes in the 2xx. */
  snprintf(lines, 400, "%s", cay__session_ok_lines(s));
  cay__session_stimer_lines(s, sip_object(cay__txn_request(t)),
                            lines + strlen(lines), 400 - strlen(lines));
  if (s->pass_lines) { /* the other leg's, a bridge's pass_headers */
    snprintf(lines + strlen(lines), sizeof lines - strlen(lines), "%s",
             s->pass_lines);
    cay__session_set_pass_lines(s, NULL);
  }
  err = cay__txn_reply_encoded(t, 200, s->local_tag, lines, "application/sdp",
                               s->sdp, s->sdp_len, &s->ok_bytes, &s->ok_len);
  if (err == CAY_ESTATE || (err && cay__txn_state(t) != CAY__TXN_ACCEPTED)) {
    /* Nothing went out (it did not fit, no memory): fail the call. */
    CAY_WARN(SHARD_NO(ss), "session %s: 200 not built: %s", s->call_id,
             cay_strerror(err));
    cay__txn_reply(t, 500, "Server Internal Error", s->local_tag);
    s->end_status = 500;
    cay__session_ended_by(s, CAY_CDR_ERROR);
    cay__session_destroy(s);
    return;
  }
  if (err || s->ok_bytes == NULL) {
    /* Sent but not kept, or not sent: the no-ACK timer still ends the
     * session cleanly. */
    CAY_DEBUG(SHARD_NO(ss), "session %s: 200 not sent cleanly: %s", s->call_id,
              cay_strerror(err));
  }
  /* The SDP lives on in ok_bytes until the ACK (a bridged leg keeps it:
   * cay__session_keep_sdp()). */
  if (!s->bridged) {
    cay__free(s->sdp);
    s->sdp = NULL;
  }
  s->state = CAY__SESSION_ANSWERED;
  ss->shard->stats.calls_answered++;
  cay__session_cdr_answered(s);
  /* 13.3.1.4: retransmit the 2xx at T1, doubling to T2, until the ACK;
   * after 64*T1 without it, end the session with BYE. */
  s->ok_interval = ss->cfg.t1_ms;
  cay__session_timer(s, &s->t_step, s->ok_interval);
  cay__session_timer(s, &s->t_guard, 64ull * ss->cfg.t1_ms);
  cay__session_start_max(s);
  cay__session_notify(s, 200);
}

/* Advance INCOMING -> EARLY -> ANSWERED as far as the configured delays
 * allow right now (the built-in answering). */
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
      cay__session_timer(s, &s->t_step, ss->cfg.ring_ms);
      return;
    }
    send_provisional(s, t, 180, NULL);
    if (s->prack_wait)
      return; /* RFC 3262: the 200 follows the PRACK */
  }
  if (s->state == CAY__SESSION_EARLY) {
    if (ss->cfg.answer_after_ms && !s->answer_waited) {
      s->answer_waited = 1;
      cay__session_timer(s, &s->t_step, ss->cfg.answer_after_ms);
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

void
cay__session_step(cay__session_t *s)
{
  cay__sessions_t *ss = s->ss;

  if (s->state == CAY__SESSION_EARLY && s->prack_wait) {
    /* RFC 3262 section 3: the reliable 1xx again, at T1 doubling. */
    if (s->ok_bytes)
      cay__endpoint_send_bytes(ss->ep, &s->peer, s->ok_bytes, s->ok_len, 1);
    s->ok_interval *= 2;
    cay__session_timer(s, &s->t_step, s->ok_interval);
    return;
  }
  if (s->state != CAY__SESSION_ANSWERED) {
    if (!s->manual)
      progress(s);
    return;
  }
  /* 13.3.1.4: 2xx retransmission. */
  if (s->ok_bytes)
    cay__endpoint_send_bytes(ss->ep, &s->peer, s->ok_bytes, s->ok_len, 1);
  s->ok_interval *= 2;
  if (s->ok_interval > ss->cfg.t2_ms)
    s->ok_interval = ss->cfg.t2_ms;
  cay__session_timer(s, &s->t_step, s->ok_interval);
}

void
cay__session_prack_timeout(cay__session_t *s)
{
  cay__txn_t *t = cay__txn_lookup(s->ss->ep, s->invite_txn);

  /* RFC 3262 section 3: no PRACK after 64*T1: reject with a 5xx. */
  CAY_INFO(SHARD_NO(s->ss), "session %s: no PRACK for the reliable 1xx",
           s->call_id);
  if (t)
    cay__txn_reply(t, 504, "Server Time-out - No PRACK", s->local_tag);
  s->end_status = 504;
  cay__session_destroy(s);
}

void
cay__session_prack(cay__session_t *s, cay__txn_t *t, const sip_t *sip)
{
  cay__sessions_t *ss = s->ss;
  cay__txn_t *inv;
  int m = s->prack_wait ? cay__rel_prack_matches(sip, s->rseq, s->invite_cseq)
                        : 0;

  if (m < 0) {
    cay__txn_reply(t, 400, "Bad Request - Bad RAck", NULL);
    return;
  }
  if (m == 0) {
    /* RFC 3262 section 3: a PRACK matching no unacknowledged reliable
     * provisional response. */
    cay__txn_reply(t, 481, NULL, NULL);
    return;
  }
  cay__txn_reply(t, 200, NULL, NULL);
  s->prack_wait = 0;
  cay__shard_timer_stop(ss->shard, &s->t_step);
  cay__shard_timer_stop(ss->shard, &s->t_guard);
  cay__free(s->ok_bytes);
  s->ok_bytes = NULL;
  inv = cay__txn_lookup(ss->ep, s->invite_txn);
  if (inv == NULL)
    return;
  if (!s->manual)
    progress(s);
  else if (s->answer_wanted)
    send_ok(s, inv);
}

/* -- the embedder's answering (include/cay/session.h) --------------------- */

/* The INVITE of @p s still without a final response, or NULL. */
static cay__txn_t *
unanswered_invite(cay_session_t *s)
{
  if (s->uac
      || (s->state != CAY__SESSION_INCOMING && s->state != CAY__SESSION_EARLY))
    return NULL;
  return cay__txn_lookup(s->ss->ep, s->invite_txn);
}

/* unanswered_invite() unless its 2xx is decided already, waiting for a
 * PRACK (answer_wanted). */
static cay__txn_t *
pending_invite(cay_session_t *s)
{
  return s->answer_wanted ? NULL : unanswered_invite(s);
}

int
cay_session_progress(cay_session_t *s, int status, const char *sdp)
{
  cay__txn_t *t = pending_invite(s);

  if (status < 101 || status > 199)
    return -EINVAL;
  if (t == NULL || s->prack_wait)
    return CAY_ESTATE;
  return send_provisional(s, t, status, sdp);
}

int
cay_session_answer(cay_session_t *s, const char *sdp)
{
  cay__txn_t *t = pending_invite(s);
  int err;

  if (t == NULL)
    return CAY_ESTATE;
  if (sdp == NULL && s->early_oa && s->sdp) {
    /* RFC 6337 section 3.1.1: the early dialog's offer/answer stands;
     * the 2xx repeats the SDP last sent in it. */
  } else if (sdp) {
    cay__free(s->sdp);
    s->sdp = cay__strdup(sdp);
    s->sdp_len = s->sdp ? strlen(sdp) : 0;
    if (s->sdp == NULL)
      return -ENOMEM;
    cay__session_origin(s, sdp);
  } else {
    cay__free(s->sdp);
    s->sdp = NULL;
    err = cay__session_auto_sdp(s, sip_object(cay__txn_request(t)));
    if (err)
      return err;
  }
  if (s->prack_wait) {
    /* RFC 3262 section 3: the 2xx waits for the PRACK of the reliable
     * provisional (it may have carried SDP). */
    s->answer_wanted = 1;
    return 0;
  }
  send_ok(s, t);
  return 0;
}

int
cay_session_reject(cay_session_t *s, int status, const char *reason,
                   const char *contact)
{
  char line[600];

  if (status < 300 || status > 699 || (status < 400 && contact == NULL))
    return -EINVAL;
  /* 13.3.1.2 / 21.3: a redirect names the new target(s). */
  if (status < 400)
    snprintf(line, sizeof line, "Contact: %s", contact);
  if (unanswered_invite(s)) /* the embedder's answer ends the call */
    cay__session_ended_by(s, CAY_CDR_CALLEE);
  return cay__session_reject_line(s, status, reason,
                                  status < 400 ? line : NULL);
}

int
cay__session_reject_line(cay__session_t *s, int status, const char *reason,
                         const char *line)
{
  /* RFC 3262 section 3: a failure may go before the PRACKs, even when a
   * 2xx waits for one. */
  cay__txn_t *t = unanswered_invite(s);
  /* The other leg's (a bridge's pass_headers), after ours. */
  const char *const hdrs[] = { line, s->pass_lines, NULL };

  if (t == NULL)
    return CAY_ESTATE;
  if (line != NULL) {
    cay__session_reply(t, status, reason, s->local_tag, hdrs);
  } else if (s->pass_lines) {
    cay__session_reply(t, status, reason, s->local_tag, hdrs + 1);
  } else {
    cay__txn_reply(t, status, reason, s->local_tag);
  }
  s->end_status = status;
  s->ss->shard->stats.calls_rejected++;
  cay__session_destroy(s);
  return 0;
}
