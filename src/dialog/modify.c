/*
 * Changing a running session (RFC 3261 section 14, RFC 3311 UPDATE, RFC
 * 3264 offer/answer with the rules of RFC 6337), both ways (ours, the
 * re-INVITE/UPDATE we send: modify_out.c); session timers (RFC 4028)
 * refresh and expiry on top. INFO: info.c.
 *
 *   theirs: re-INVITE/UPDATE --EV_OFFER--> answer (now, deferred, or Cay's
 *           own) --2xx--> [re-INVITE: retransmit until the ACK]
 *   ours:   cay_session_modify() --request--> final --EV_MODIFIED-->
 *           [re-INVITE 2xx: ACK]; 491: retry after the 14.1 delay;
 *           401/407 and the session has credentials: again with them
 *
 * At most one offer is outstanding in each direction: a request with an
 * offer while ours is out gets 491 (glare, 14.2); a second re-INVITE while
 * theirs is unanswered gets 500 with Retry-After (14.2).
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "dialog/session_int.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

static void on_in_retransmit(cay__timer_t *tm);
static void on_in_timeout(cay__timer_t *tm);

cay__mod_t *
cay__mod_get(cay__session_t *s)
{
  cay__mod_t *m = s->mod;

  if (m)
    return m;
  m = cay__calloc(1, sizeof *m);
  if (m == NULL)
    return NULL;
  m->s = s;
  cay__timer_init(&m->t_in, on_in_retransmit, m);
  cay__timer_init(&m->t_in_end, on_in_timeout, m);
  cay__timer_init(&m->t_out, cay__mod_out_retry, m);
  s->mod = m;
  return m;
}

/* Free the modification record once neither direction is busy. */
void
cay__mod_put(cay__session_t *s)
{
  cay__mod_t *m = s->mod;

  if (m == NULL || cay__mod_busy(s))
    return;
  cay__mod_free(s);
}

void
cay__mod_free(cay__session_t *s)
{
  cay__mod_t *m = s->mod;
  cay__shard_t *shard = s->ss->shard;

  if (m == NULL)
    return;
  cay__mod_send_held_ack(s, NULL); /* 13.2.2.4: every 2xx gets its ACK */
  if (m->in_txn && !m->in_answered) {
    /* 15.1.2 / 14.2: the session ends under a pending re-INVITE or
     * UPDATE: it gets its final response now. */
    cay__txn_t *t = cay__txn_lookup(s->ss->ep, m->in_txn);
    if (t && cay__txn_state(t) < CAY__TXN_COMPLETED)
      cay__txn_reply(t, 487, NULL, NULL);
  }
  cay__shard_timer_stop(shard, &m->t_in);
  cay__shard_timer_stop(shard, &m->t_in_end);
  cay__shard_timer_stop(shard, &m->t_out);
  cay__free(m->in_ok);
  cay__free(m->out_sdp);
  cay__free(m->out_peer_offer);
  cay__free(m->out_lines);
  cay__free(m);
  s->mod = NULL;
}

int
cay__mod_busy(const cay__session_t *s)
{
  const cay__mod_t *m = s->mod;
  return m
         && (m->in_txn || m->in_answered || m->out_txn || m->out_sdp
             || m->out_no_offer || m->out_ack_pending);
}

/* -- session timers (RFC 4028) ------------------------------------------ */

void
cay__session_stimer_start(cay__session_t *s)
{
  uint64_t due = cay__stimer_due_ms(&s->st);

  cay__shard_timer_stop(s->ss->shard, &s->t_step);
  if (due && s->state == CAY__SESSION_CONFIRMED)
    cay__session_timer(s, &s->t_step, due);
}

/* Lines of a 2xx to a request that negotiated @p st (section 9). */
void
cay__session_stimer_lines(const cay__session_t *s, const sip_t *req, char *buf,
                          size_t len)
{
  buf[0] = '\0';
  if (s->st.interval_s == 0 || req->sip_session_expires == NULL)
    return;
  /* We are the UAS of this transaction: "uas" when we refresh. */
  snprintf(buf, len, "Session-Expires: %u;refresher=%s\r\n%s",
           (unsigned)s->st.interval_s, s->st.we_refresh ? "uas" : "uac",
           sip_has_feature(req->sip_supported, "timer") ? "Require: timer\r\n"
                                                        : "");
}

/* The timer ran out: refresh (we are the refresher) or end the session
 * (section 10: no refresh came in time). */
void
cay__session_stimer_fire(cay__session_t *s)
{
  int err;

  if (s->state != CAY__SESSION_CONFIRMED || s->st.interval_s == 0)
    return;
  if (!s->st.we_refresh) {
    CAY_INFO(SHARD_NO(s->ss), "session %s: no refresh within %u s (RFC 4028)",
             s->call_id, (unsigned)s->st.interval_s);
    cay__session_bye(s, CAY__Q850_TIMER, "session timer expired");
    return;
  }
  /* Section 7.4 / 9: refresh by UPDATE without a body when the peer
   * allows it (no offer/answer), else by a re-INVITE: a bridged leg's
   * offers its SDP again (cay__session_keep_sdp()), Cay's own has none
   * and answers the offer in the 2xx. */
  err = cay__mod_busy(s)
            ? CAY_ESTATE
            : cay__mod_send(s, s->peer_update || !s->bridged ? NULL : s->sdp,
                            s->peer_update, 1);
  if (err == CAY_ESTATE) {
    /* An offer is in progress: its 2xx refreshes the timer too (section
     * 10); look again in a while. */
    cay__session_timer(s, &s->t_step, 1000);
  } else if (err) {
    CAY_WARN(SHARD_NO(s->ss), "session %s: refresh not sent: %s", s->call_id,
             cay_strerror(err));
    cay__session_bye(s, 500, "session refresh not sent");
  }
}

/* -- theirs: re-INVITE / UPDATE ------------------------------------------ */

/* Their offer reported, with the header fields of request @p msg the
 * session's route passes (a bridged leg's pass_headers). */
static void
notify_offer(cay__session_t *s, msg_t *msg, const sip_t *sip)
{
  cay_session_event_t ev = { .kind = CAY_SESSION_EV_OFFER,
                             .state = s->state,
                             .method = sip->sip_request->rq_method_name };
  char lines[CAY__PASS_MAX];

  ev.headers = cay__session_pass_of(s, msg, lines, sizeof lines);
  cay__session_event_body(&ev, sip, "application/sdp");
  cay__session_event(s, &ev);
}

void
cay__mod_request(cay__session_t *s, cay__txn_t *t, sip_t *sip)
{
  static const char *const retry[] = { "Retry-After: 3", NULL };
  cay__sessions_t *ss = s->ss;
  int invite = sip->sip_request->rq_method == sip_method_invite;
  int has_offer = sip->sip_payload && sip->sip_payload->pl_len > 0;
  char lines[96];
  cay__mod_t *m;
  int st;

  if (s->state != CAY__SESSION_CONFIRMED
      && !(s->state == CAY__SESSION_ANSWERED && !invite && !has_offer)
      && !(cay__session_early_update(s, 0) && !invite)) {
    /* Before the ACK the initial offer/answer may still be open (the
     * offer in our 2xx): another offer now would cross it (RFC 6337
     * section 3.1); so it is in an early dialog until a reliable
     * provisional answered the INVITE's offer (RFC 3311 section 5.2). */
    cay__txn_reply(t, 491, NULL, NULL);
    return;
  }
  if (s->mod && (s->mod->in_txn || s->mod->in_answered)) {
    /* 14.2: their previous re-INVITE is not finished. */
    cay__session_reply(t, 500, "Server Internal Error - Request Pending", NULL,
                       retry);
    return;
  }
  if (s->mod
      && (s->mod->out_txn || s->mod->out_sdp || s->mod->out_no_offer
          || s->mod->out_ack_pending)
      && (invite || has_offer)) {
    /* 14.2 and RFC 3311 section 5.2: glare with our own offer. */
    cay__txn_reply(t, 491, NULL, NULL);
    return;
  }
  /* RFC 4028 section 9: a refresh (or a first request for a timer);
   * the timer of an early dialog is the INVITE's to negotiate. */
  st = s->state == CAY__SESSION_EARLY
           ? 200
           : cay__stimer_on_request(ss->cfg.min_se_s, sip, &s->st, lines,
                                    sizeof lines);
  if (st == 422) {
    const char *const hdrs[] = { lines, NULL };
    cay__session_reply(t, 422, NULL, NULL, hdrs);
    return;
  }
  m = cay__mod_get(s);
  if (m == NULL) {
    cay__txn_reply(t, 500, "Server Internal Error - Out of Memory", NULL);
    return;
  }
  m->in_txn = cay__txn_id(t);
  if (invite)
    cay__txn_set_tu(t, s->id); /* a CANCEL finds the session (9.2) */
  m->in_invite = (unsigned)invite;
  m->in_no_offer = (unsigned)(invite && !has_offer);
  m->in_deferred = 0;
  m->in_cseq = sip->sip_cseq->cs_seq;
  if (cay__contact_usable(sip->sip_contact))
    cay__session_set_target(s, sip->sip_contact->m_url); /* 12.2.2 */
  if (!invite && !has_offer) {
    /* An UPDATE without an offer: a refresh only. */
    cay_session_answer_offer(s, 200, NULL);
    return;
  }
  notify_offer(s, cay__txn_request(t), sip);
  /* Not answered in the callback and not deferred: Cay answers. */
  if (s->mod && s->mod->in_txn && !s->mod->in_deferred && !s->mod->in_answered)
    cay_session_answer_offer(s, 200, NULL);
}

/* Our answer (or offer, for a re-INVITE without one) for their request. */
static int
make_local_sdp(cay__session_t *s, const cay__txn_t *t, const char *given,
               char **out, size_t *len)
{
  const sip_t *sip = sip_object(cay__txn_request(t));

  if (given) {
    cay__session_origin(s, given);
    *out = cay__strdup(given);
    *len = *out ? strlen(*out) : 0;
    return *out ? 0 : -ENOMEM;
  }
  if (sip && sip->sip_payload && sip->sip_payload->pl_len)
    return cay__session_answer_sdp(s, sip->sip_payload->pl_data,
                                   sip->sip_payload->pl_len, out, len);
  return cay__session_offer_sdp(s, out, len);
}

int
cay_session_answer_offer(cay_session_t *s, int status, const char *sdp)
{
  return cay__session_answer_offer_with(s, status, sdp, NULL);
}

int
cay__session_answer_offer_with(cay__session_t *s, int status, const char *sdp,
                               const char *pass)
{
  const char *const hdrs[] = { pass, NULL };
  cay__sessions_t *ss = s->ss;
  cay__mod_t *m = s->mod;
  cay__txn_t *t;
  const sip_t *req;
  char lines[160], *body = NULL;
  size_t len = 0;
  int err;

  if (status != 200 && (status < 300 || status > 699))
    return -EINVAL;
  /* The offer in the 2xx to our INVITE or re-INVITE without one (13.2.1,
   * 14.1): the ACK carries the answer. */
  if (s->ack_pending)
    return cay__uac_ack_answer(s, status, sdp);
  if (m && m->out_ack_pending)
    return cay__mod_ack_answer(s, status, sdp);
  if (m == NULL || m->in_txn == 0 || m->in_answered)
    return CAY_ESTATE;
  t = cay__txn_lookup(ss->ep, m->in_txn);
  if (t == NULL) {
    m->in_txn = 0;
    cay__mod_put(s);
    return CAY_ESTATE;
  }
  req = sip_object(cay__txn_request(t));
  if (status >= 300) {
    /* 14.2: the session stays as it was. */
    cay__session_reply(t, status, NULL, NULL, hdrs);
    m->in_txn = 0;
    cay__mod_put(s);
    return 0;
  }
  if (req->sip_payload && req->sip_payload->pl_len > 0 ? 1 : m->in_invite) {
    err = make_local_sdp(s, t, sdp, &body, &len);
    if (err) {
      /* 488 for an offer we cannot answer (14.2, RFC 3264 section 6). */
      cay__txn_reply(t, err == -ENOMEM ? 500 : 488,
                     err == -ENOMEM ? NULL : "Not Acceptable Here", NULL);
      m->in_txn = 0;
      cay__mod_put(s);
      return 0;
    }
  }
  cay__session_stimer_lines(s, req, lines, sizeof lines);
  {
    char all[400 + CAY__PASS_MAX];
    snprintf(all, sizeof all, "%s%s%s", cay__session_ok_lines(s), lines,
             pass ? pass : "");
    err = cay__txn_reply_encoded(
        t, 200, NULL, all, body ? "application/sdp" : NULL, body, len,
        m->in_invite ? &m->in_ok : NULL, m->in_invite ? &m->in_ok_len : NULL);
  }
  if (err == 0)
    cay__session_keep_sdp(s, body, len);
  cay__free(body);
  if (err && cay__txn_state(t) != CAY__TXN_ACCEPTED
      && cay__txn_state(t) != CAY__TXN_TERMINATED) {
    cay__txn_reply(t, 500, NULL, NULL);
    m->in_txn = 0;
    cay__mod_put(s);
    return err;
  }
  m->in_txn = 0;
  if (m->in_invite) {
    /* 13.3.1.4 for a re-INVITE too: the 2xx until the ACK. */
    m->in_answered = 1;
    m->in_interval = ss->cfg.t1_ms;
    cay__session_timer(s, &m->t_in, m->in_interval);
    cay__session_timer(s, &m->t_in_end, 64ull * ss->cfg.t1_ms);
  }
  /* RFC 4028 section 10: a 2xx to a refresh restarts the timer. */
  cay__session_stimer_start(s);
  cay__mod_put(s);
  return 0;
}

void
cay__mod_cancelled(cay__session_t *s, const cay__txn_t *invite)
{
  cay_session_event_t ev = { .kind = CAY_SESSION_EV_CANCEL,
                             .state = s->state,
                             .method = "INVITE" };
  cay_id_t id = cay__txn_id(invite);
  cay__mod_t *m = s->mod;

  if (m == NULL || id == 0 || m->in_txn != id || m->in_answered)
    return;
  /* 9.2: unanswered, it gets 487 (the session stays as it was, 14.2),
   * unless the embedder still waits for an answer it asked for. */
  m->in_deferred = 0;
  cay__session_event(s, &ev);
  m = s->mod;
  if (m && m->in_txn == id && !m->in_deferred && !m->in_answered)
    cay_session_answer_offer(s, 487, NULL);
}

int
cay_session_defer_offer(cay_session_t *s)
{
  if (s->ack_pending) {
    s->ack_deferred = 1;
    return 0;
  }
  if (s->mod && s->mod->out_ack_pending) {
    s->mod->out_ack_deferred = 1;
    return 0;
  }
  if (s->mod == NULL || s->mod->in_txn == 0 || s->mod->in_answered)
    return CAY_ESTATE;
  s->mod->in_deferred = 1;
  return 0;
}

static void
on_in_retransmit(cay__timer_t *tm)
{
  cay__mod_t *m = tm->data;
  cay__session_t *s = m->s;
  cay__sessions_t *ss = s->ss;

  if (m->in_ok)
    cay__endpoint_send_bytes(ss->ep, &s->peer, m->in_ok, m->in_ok_len, 1);
  m->in_interval
      = m->in_interval * 2 > ss->cfg.t2_ms ? ss->cfg.t2_ms : m->in_interval * 2;
  cay__session_timer(s, &m->t_in, m->in_interval);
}

static void
on_in_timeout(cay__timer_t *tm)
{
  cay__mod_t *m = tm->data;

  /* 14.2 / 13.3.1.4: no ACK for the re-INVITE's 2xx: end the session. */
  cay__session_bye(m->s, CAY__Q850_TIMER, "no ACK for the re-INVITE's 2xx");
}

int
cay__mod_ack(cay__session_t *s, const sip_t *sip)
{
  cay__mod_t *m = s->mod;

  if (m == NULL || !m->in_answered || sip->sip_cseq->cs_seq != m->in_cseq)
    return 0;
  cay__shard_timer_stop(s->ss->shard, &m->t_in);
  cay__shard_timer_stop(s->ss->shard, &m->t_in_end);
  cay__free(m->in_ok);
  m->in_ok = NULL;
  m->in_answered = 0;
  if (m->in_no_offer) {
    /* 14.2 / 13.2.1: the answer to the offer in our 2xx. */
    cay_session_event_t ev
        = { .kind = CAY_SESSION_EV_ANSWER, .state = s->state, .method = "ACK" };
    m->in_no_offer = 0;
    cay__session_event_body(&ev, sip, "application/sdp");
    cay__session_event(s, &ev);
  }
  cay__mod_put(s);
  return 1;
}
