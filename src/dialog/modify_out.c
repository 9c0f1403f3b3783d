/*
 * Our changes to a running session (RFC 3261 section 14, RFC 3311): the
 * re-INVITE or UPDATE we send (cay_session_modify(), session refreshes),
 * its final response, the ACK of a re-INVITE's 2xx (13.2.2.4, again for
 * each copy), the retries after 491 (14.1) and after a 401/407 (22.2),
 * and its CANCEL (9.1). Theirs, and what both share: modify.c.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "dialog/auth.h"
#include "dialog/session_int.h"

#define SHARD_NO(ss)      ((int)(ss)->shard->index)
#define MAX_GLARE_RETRIES 3

/* The header lines our next re-INVITE or UPDATE carries, and its
 * retries (491, credentials) too: a copy of @p lines, or none. */
static int
set_out_lines(cay__mod_t *m, const char *lines)
{
  cay__free(m->out_lines);
  m->out_lines = lines && *lines ? cay__strdup(lines) : NULL;
  return lines && *lines && m->out_lines == NULL ? -ENOMEM : 0;
}

/* -- ours: re-INVITE / UPDATE -------------------------------------------- */

int
cay__mod_send(cay__session_t *s, const char *sdp, int update, int refresh)
{
  cay__sessions_t *ss = s->ss;
  /* Session-timer lines, credentials (auth.h), the other leg's. */
  char lines[1280 + CAY__PASS_MAX];
  cay__dreq_t r;
  cay__mod_t *m;
  long n;
  int err;

  if (s->state != CAY__SESSION_CONFIRMED
      && !(update && cay__session_early_update(s, 1)))
    return CAY_ESTATE;
  if (s->mod && (s->mod->out_txn || s->mod->in_txn || s->mod->in_answered))
    return CAY_ESTATE;
  m = cay__mod_get(s);
  if (m == NULL)
    return -ENOMEM;
  if (sdp && m->out_sdp != sdp && !refresh)
    cay__session_origin(s, sdp); /* the embedder's own, or Cay's */
  if (sdp && m->out_sdp != sdp) {
    cay__free(m->out_sdp);
    m->out_sdp = cay__strdup(sdp);
    if (m->out_sdp == NULL) {
      cay__mod_put(s);
      return -ENOMEM;
    }
  }
  /* Section 7.4 of RFC 4028: a refresh keeps the negotiated interval and
   * roles; other requests also carry it, or the peer would see the
   * timer dropped. */
  n = s->state != CAY__SESSION_CONFIRMED
          ? 0 /* an early dialog's: the INVITE negotiates the timer */
          : cay__stimer_request_lines(
              s->st.interval_s ? 0 : ss->cfg.session_expires_s,
              ss->cfg.min_se_s, s->st.interval_s ? &s->st : NULL, lines,
              sizeof lines);
  memset(&r, 0, sizeof r);
  r.method = update ? sip_method_update : sip_method_invite;
  r.name = update ? "UPDATE" : "INVITE";
  r.cseq = ++s->local_cseq;
  r.contact = 1; /* 12.2.1.1 / RFC 3311: target refresh requests */
  if (n < 0)
    n = 0;
  if (m->out_auth && s->auth)
    /* 22.2: its digest-uri is the Request-URI, the remote target. */
    n += snprintf(lines + n, sizeof lines - (size_t)n, "%s",
                  cay__auth_line(s->auth, r.name, s->remote_target));
  if (m->out_lines && (size_t)n < sizeof lines)
    n += snprintf(lines + n, sizeof lines - (size_t)n, "%s", m->out_lines);
  r.extra = n > 0 && (size_t)n < sizeof lines ? lines : NULL;
  if (m->out_sdp) {
    r.ctype = "application/sdp";
    r.body = m->out_sdp;
    r.body_len = strlen(m->out_sdp);
  }
  err = cay__session_send(s, &r, 1, &m->out_txn);
  if (err) {
    m->out_txn = 0;
    cay__free(m->out_sdp);
    m->out_sdp = NULL;
    cay__mod_put(s);
    return err;
  }
  m->out_invite = (unsigned)!update;
  m->out_refresh = (unsigned)refresh;
  CAY_DEBUG(SHARD_NO(ss), "session %s: %s sent%s", s->call_id, r.name,
            refresh ? " (session refresh)" : "");
  return 0;
}

int
cay_session_modify(cay_session_t *s, const char *sdp, int update)
{
  return cay__session_modify_with(s, sdp, update, NULL);
}

int
cay__session_modify_with(cay__session_t *s, const char *sdp, int update,
                         const char *lines)
{
  char *own = NULL;
  size_t len;
  int err;

  if ((s->state != CAY__SESSION_CONFIRMED
       && !(update && cay__session_early_update(s, 1)))
      || cay__mod_busy(s))
    return CAY_ESTATE;
  if (sdp == NULL) {
    err = cay__session_offer_sdp(s, &own, &len);
    if (err)
      return err;
    sdp = own;
  }
  if (s->mod == NULL && cay__mod_get(s) == NULL) {
    cay__free(own);
    return -ENOMEM;
  }
  s->mod->out_tries = 0;
  s->mod->out_cancelled = 0;
  err = set_out_lines(s->mod, lines);
  if (err == 0)
    err = cay__mod_send(s, sdp, update, 0);
  if (err && s->mod)
    set_out_lines(s->mod, NULL);
  cay__free(own);
  return err;
}

int
cay_session_modify_without_offer(cay_session_t *s)
{
  return cay__session_modify_without_offer_with(s, NULL);
}

int
cay__session_modify_without_offer_with(cay__session_t *s, const char *lines)
{
  int err;

  if (s->state != CAY__SESSION_CONFIRMED || cay__mod_busy(s))
    return CAY_ESTATE;
  if (cay__mod_get(s) == NULL)
    return -ENOMEM;
  s->mod->out_tries = 0;
  s->mod->out_cancelled = 0;
  s->mod->out_no_offer = 1;
  err = set_out_lines(s->mod, lines);
  if (err == 0)
    err = cay__mod_send(s, NULL, 0, 0);
  if (err && s->mod) {
    set_out_lines(s->mod, NULL);
    s->mod->out_no_offer = 0;
    cay__mod_put(s);
  }
  return err;
}

/* Our change got final response @p msg (NULL: none came, @p status
 * says why): reported, with the header fields the session's route passes
 * (a bridged leg's pass_headers). */
static void
notify_modified(cay__session_t *s, int status, msg_t *msg, const char *method)
{
  cay_session_event_t ev = { .kind = CAY_SESSION_EV_MODIFIED,
                             .state = s->state,
                             .status = status,
                             .method = method };
  char lines[CAY__PASS_MAX];

  ev.headers = cay__session_pass_of(s, msg, lines, sizeof lines);
  cay__session_event_body(&ev, msg ? sip_object(msg) : NULL, "application/sdp");
  cay__session_event(s, &ev);
}

/* 14.1: after a 491, try again after a random delay: 2.1 to 4 s in 10 ms
 * steps when we chose the Call-ID (we sent the initial INVITE), 0 to 2 s
 * otherwise. */
static uint64_t
glare_delay_ms(cay__session_t *s)
{
  uint32_t r = cay__rand_u32(&s->ss->shard->rand);
  return s->uac ? 2100 + (r % 191) * 10 : (r % 201) * 10;
}

/* Our re-INVITE or UPDATE could not go again: its offer is dropped, and
 * the record with it once nothing else needs it. A failed send may have
 * let the record go already. */
static void
drop_offer(cay__session_t *s)
{
  if (s->mod) {
    cay__free(s->mod->out_sdp);
    s->mod->out_sdp = NULL;
    set_out_lines(s->mod, NULL);
    s->mod->out_no_offer = 0;
    cay__mod_put(s);
  }
}

void
cay__mod_out_retry(cay__timer_t *tm)
{
  cay__mod_t *m = tm->data;
  cay__session_t *s = m->s;
  int err;

  if (m->out_cancelled) {
    /* cay_session_modify_cancel() while waiting for this retry (14.1). */
    m->out_cancelled = 0;
    drop_offer(s);
    notify_modified(s, 487, NULL, "INVITE");
    return;
  }
  err = cay__mod_send(s, m->out_sdp, !m->out_invite, m->out_refresh);
  if (err) {
    drop_offer(s);
    notify_modified(s, 491, NULL, NULL);
  }
}

int
cay_session_modify_cancel(cay_session_t *s)
{
  cay__mod_t *m = s->mod;
  cay__txn_t *t;

  if (m == NULL || !m->out_invite || m->out_refresh || m->out_cancelled
      || (m->out_txn == 0 && m->out_sdp == NULL && !m->out_no_offer))
    return CAY_ESTATE;
  m->out_cancelled = 1;
  if (m->out_txn == 0) {
    cay__session_timer(s, &m->t_out, 0); /* reported from the loop */
    return 0;
  }
  t = cay__txn_lookup(s->ss->ep, m->out_txn);
  return t ? cay__txn_cancel(t) : CAY_ESTATE;
}

/* RFC 3261 section 22.2: our re-INVITE or UPDATE got 401/407 (@p status,
 * @p msg) and the session has credentials: the same request again (CSeq
 * + 1, the same offer) with them. @return 1 when the response is dealt
 * with here: the request went again, or it could not and the change
 * failed; 0 when the challenge is not answered. */
static int
mod_challenged(cay__session_t *s, int status, msg_t *msg, const char *method)
{
  cay__mod_t *m = s->mod;
  int refresh = m->out_refresh;

  if (!cay__session_challenged(s, status, sip_object(msg), method))
    return 0;
  m->out_txn = 0;
  m->out_auth = 1;
  if (cay__mod_send(s, m->out_sdp, !m->out_invite, refresh) == 0) {
    CAY_DEBUG(SHARD_NO(s->ss), "session %s: %s sent again with credentials",
              s->call_id, method);
    return 1;
  }
  drop_offer(s);
  if (!refresh)
    notify_modified(s, status, msg, method);
  return 1;
}

/* The ACK for the 2xx of our re-INVITE with CSeq @p cseq (13.2.2.4), with
 * @p answer (@p len bytes) when the 2xx carried an offer, else NULL; kept
 * as sent for copies of that 2xx. */
static void
send_reack(cay__session_t *s, uint32_t cseq, const char *answer, size_t len)
{
  struct cay__reack *keep;
  char *sent = NULL;
  size_t sent_len = 0;
  cay__peer_t dst;
  cay__dreq_t r;

  memset(&r, 0, sizeof r);
  r.method = sip_method_ack;
  r.name = "ACK";
  r.cseq = cseq;
  /* 13.2.2.4: the ACK carries the re-INVITE's credentials. */
  if (s->mod && s->mod->out_auth && s->auth)
    r.extra = cay__auth_last(s->auth);
  if (answer) {
    r.ctype = "application/sdp";
    r.body = answer;
    r.body_len = len;
  }
  cay__session_send_ack(s, &r, &dst, &sent, &sent_len);
  /* Without memory, copies of the 2xx go unanswered, as after a lost
   * ACK. */
  if (sent && (keep = cay__malloc(sizeof *keep + sent_len)) != NULL) {
    keep->cseq = cseq;
    keep->dst = dst;
    keep->len = sent_len;
    memcpy(keep->data, sent, sent_len);
    cay__free(s->reack);
    s->reack = keep;
  }
  cay__free(sent);
}

/* send_reack() with the answer to @p offer (NULL: the 2xx had none):
 * @p given, else Cay's own (cay__session_ack_answer()); the answer is
 * what a bridged leg offers in its refreshes from now. */
static void
send_answered_reack(cay__session_t *s, uint32_t cseq, const char *offer,
                    const char *given)
{
  char *own;
  size_t len;
  const char *answer = cay__session_ack_answer(s, offer, given, &own, &len);

  send_reack(s, cseq, answer, len);
  cay__session_keep_sdp(s, answer, len);
  cay__free(own);
}

/* The 2xx @p sip (CSeq @p cseq) of our re-INVITE: ACKed now, with Cay's
 * own answer when it carried an offer (a refresh had none); after
 * cay_session_modify_without_offer() the ACK waits for the embedder's
 * answer (EV_MODIFIED, cay_session_answer_offer()). */
static void
ack_reinvite(cay__session_t *s, uint32_t cseq, const sip_t *sip)
{
  cay__mod_t *m = s->mod;
  int offer = sip->sip_payload && sip->sip_payload->pl_len
              && (m == NULL || m->out_sdp == NULL);
  char *copy = offer ? cay__strndup(sip->sip_payload->pl_data,
                                    sip->sip_payload->pl_len)
                     : NULL;

  if (copy && m && m->out_no_offer) {
    m->out_peer_offer = copy;
    m->out_ack_pending = 1;
    m->out_ack_deferred = 0;
    m->out_ack_cseq = cseq;
    return;
  }
  send_answered_reack(s, cseq, copy, NULL);
  cay__free(copy);
}

void
cay__mod_send_held_ack(cay__session_t *s, const char *sdp)
{
  cay__mod_t *m = s->mod;

  if (m == NULL || !m->out_ack_pending)
    return;
  m->out_ack_pending = 0;
  m->out_ack_deferred = 0;
  send_answered_reack(s, m->out_ack_cseq, m->out_peer_offer, sdp);
  cay__free(m->out_peer_offer);
  m->out_peer_offer = NULL;
}

int
cay__mod_ack_answer(cay__session_t *s, int status, const char *sdp)
{
  cay__mod_send_held_ack(s, status == 200 ? sdp : NULL);
  cay__mod_put(s);
  if (status != 200)
    cay__session_bye(s, 488, "the offer in the re-INVITE's 2xx was refused");
  return 0;
}

/* 13.2.2.4: a copy of the 2xx to our last re-INVITE (our ACK was lost, so
 * the peer sends it again): the same ACK again. @return 1 when it was. */
static int
reack_copy(cay__session_t *s, int status, const sip_t *sip)
{
  struct cay__reack *k = s->reack;

  if (k == NULL || status / 100 != 2 || sip == NULL || sip->sip_cseq == NULL
      || sip->sip_cseq->cs_method != sip_method_invite
      || sip->sip_cseq->cs_seq != k->cseq)
    return 0;
  (void)cay__endpoint_send_sized(s->ss->ep, &k->dst, k->data, k->len, 1);
  CAY_DEBUG(SHARD_NO(s->ss), "session %s: 2xx copy to our re-INVITE: ACKed",
            s->call_id);
  return 1;
}

int
cay__mod_response(cay__session_t *s, cay_id_t txn_id, int status, msg_t *msg)
{
  cay__mod_t *m = s->mod;
  sip_t *sip = msg ? sip_object(msg) : NULL;
  const char *method;
  int cancelled;

  if (m == NULL || m->out_txn != txn_id)
    return reack_copy(s, status, sip)
           || cay__info_response(s, txn_id, status, sip);
  method = m->out_invite ? "INVITE" : "UPDATE";
  if (status < 200)
    return 1;
  cancelled = m->out_cancelled;
  if ((status == 401 || status == 407) && sip && !cancelled
      && mod_challenged(s, status, msg, method))
    return 1;
  if (m->out_invite && status < 300 && sip)
    ack_reinvite(s, sip->sip_cseq->cs_seq, sip);
  if (s->auth)
    cay__auth_settled(s->auth); /* it got through, or failed otherwise */
  m->out_auth = 0;
  m->out_cancelled = 0;
  m->out_txn = 0;
  if (status == 491 && m->out_tries < MAX_GLARE_RETRIES && !cancelled) {
    m->out_tries++;
    cay__session_timer(s, &m->t_out, glare_delay_ms(s));
    return 1;
  }
  if (status == 422 && sip && m->out_refresh) {
    /* RFC 4028 section 7.4 / 6: the peer wants a longer interval. */
    unsigned min = cay__stimer_min_se_of_422(sip);
    if (min > s->st.interval_s && m->out_tries < MAX_GLARE_RETRIES) {
      s->st.interval_s = min;
      m->out_tries++;
      cay__session_timer(s, &m->t_out, 0);
      return 1;
    }
  }
  if (status < 300) {
    if (!m->out_refresh && m->out_sdp) /* our offer: in effect now */
      cay__session_keep_sdp(s, m->out_sdp, strlen(m->out_sdp));
    if (sip)
      cay__stimer_on_response(sip, &s->st);
    if (sip && cay__contact_usable(sip->sip_contact))
      cay__session_set_target(s, sip->sip_contact->m_url); /* 12.2.1.2 */
    cay__session_stimer_start(s);
  }
  cay__free(m->out_sdp);
  m->out_sdp = NULL;
  set_out_lines(m, NULL);
  m->out_no_offer = 0; /* done: a held ACK keeps the record (busy) */
  if (m->out_refresh) {
    cay__mod_put(s);
    /* RFC 4028 section 10 / RFC 5057: a refresh that gets 408 or 481 (the
     * dialog is gone) ends the session. */
    if (status == 408 || status == 481)
      cay__session_bye(s, status, "session refresh failed");
    return 1;
  }
  cay__mod_put(s);
  notify_modified(s, status, msg, method);
  /* Not answered in the callback and not deferred: Cay answers. */
  if (s->mod && s->mod->out_ack_pending && !s->mod->out_ack_deferred)
    cay__mod_ack_answer(s, 200, NULL);
  if (status == 408 || status == 481)
    cay__session_bye(s, status, "re-INVITE/UPDATE failed");
  return 1;
}
