/*
 * The B2BUA bridge: an incoming call (A leg) forwarded as an outgoing call
 * (B leg) that Cay places, both sessions of the same shard (the B leg's
 * Call-ID hashes to it, DESIGN.md rule 2), kept in step until either ends.
 *
 *   A INVITE --route forward--> B INVITE (A's offer, codecs filtered,
 *                               Max-Forwards - 1)
 *   (no offer in A's INVITE: B's 2xx offer, codecs filtered --> A 200,
 *    A's answer in its ACK --> B's ACK; none of the codecs --> 488 A)
 *   B 18x --> A 18x (early SDP)        B 2xx --> A 200 (B's answer; or,
 *                                      after B's reliable 18x answered,
 *                                      the early dialog's last SDP)
 *   B >= 300 --> A mapped failure      ring timeout --> CANCEL B, 480 A
 *   A CANCEL --> CANCEL B              BYE either side --> BYE the other
 *   re-INVITE/UPDATE either side --> the other side, answer relayed back
 *                                    (UPDATE in early dialogs too, RFC
 *                                    3311 section 5.1)
 *                                    (a failure mapped as above); one
 *                                    without an offer gets the other
 *                                    side's, and its ACK's answer goes
 *                                    on in the other side's ACK
 *   CANCEL of a re-INVITE --> CANCEL of its copy, whose answer (487, or
 *                             a 2xx that crossed it) is relayed back
 *   INFO, REFER, NOTIFY either side --> the other side, its final response
 *                             relayed back (a NOTIFY of a relayed REFER
 *                             names the sender's REFER: Event id=)
 *   max duration --> BYE both
 *   a new INVITE whose Replaces names a leg --> that leg's place taken
 *                             (RFC 3891; bridge_replace.c)
 *
 * Both legs and the bridge live on one loop: every event of one leg runs to
 * its end before any event of the other, so a BYE racing the max-duration
 * timeout has one winner and the other side gets exactly one BYE (the
 * second hangup of a leg already terminating does nothing). The bridge is
 * freed once both legs have ended, never inside a nested callback; the
 * call's detail record (b2bua/cdr.h), filled on the way, goes to the
 * shard's sink then.
 */
#include "b2bua/bridge_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"

/* The call's record, if it keeps one: once, when the bridge is freed. */
static void
cdr_emit(bridge_t *br)
{
  if (br->cdr == NULL)
    return;
  cay__bridge_cdr_write(br->ss, br->cdr);
  br->cdr = NULL;
}

/* A's first response above 100 goes now (a provisional, or the 2xx):
 * the call's session request delay (RFC 6076 section 4.2.1), once. */
static void
srd_count(bridge_t *br)
{
  if (br->srd_counted)
    return;
  br->srd_counted = 1;
  cay__stats_srd(&br->ss->shard->stats,
                 cay__shard_now(br->ss->shard) - br->start_ms);
}

/* The call ended now by @p who (the first to end it counts), or by the
 * shutdown when Cay is ending every session, for @p reason (a Reason
 * header field value, RFC 3326, or NULL). */
static void
cdr_ended(bridge_t *br, cay__cdr_end_t who, const char *reason)
{
  if (br->cdr)
    cay__cdr_ended(br->cdr, br->ss->ending_all ? CAY_CDR_SHUTDOWN : who,
                   cay__shard_now(br->ss->shard), reason);
}

/* Cay ends the call for Q.850 cause (or SIP status) @p cause, @p why:
 * the record's end, by @p who, and the Reason line (RFC 3326) the legs
 * get, in @p line (@p size bytes). @return line. */
static const char *
cdr_ended_by_cay(bridge_t *br, cay__cdr_end_t who, int cause, const char *why,
                 char *line, size_t size)
{
  char value[CAY__REASON_MAX];

  cdr_ended(br, who, cay__reason_value(value, sizeof value, cause, why));
  return cay__reason_line(line, size, value);
}

void
cay__bridge_maybe_free(bridge_t *br)
{
  if (br->depth > 0 || !br->a_done || !br->b_done)
    return;
  cdr_emit(br);
  cay__shard_timer_stop(br->ss->shard, &br->t_ring);
  cay__shard_timer_stop(br->ss->shard, &br->t_max);
  br->ss->bridges--;
  cay__bridge_requests_free(br);
  cay__targets_free(&br->targets);
  cay__free(br->join_restore);
  cay__free(br->b_early_sdp);
  cay__routes_free(br->routes);
  cay__free(br);
}

/* A NUL-terminated copy of an event body (the API takes C strings). */
static char *
body_copy(const cay_session_event_t *ev)
{
  return ev->body ? cay__strndup(ev->body, ev->body_len) : NULL;
}

/* A NUL-terminated copy of an offer going through the bridge (A's INVITE,
 * B's 2xx in a delayed-offer call, a re-INVITE or UPDATE either way), with
 * only the route's codecs when it lists some: neither side is offered a
 * codec the route keeps out (RFC 3264 section 5). *out is NULL for an
 * empty body. Returns 0, CAY_ENOCODEC (none of the route's codecs is
 * offered, or no audio stream) or -ENOMEM. */
int
cay__bridge_offer_copy(const cay_route_t *route, const char *body, size_t len,
                       char **out)
{
  const char *names[CAY_ROUTE_MAX_CODECS];
  size_t out_len;

  *out = NULL;
  if (body == NULL || len == 0)
    return 0;
  if (route->n_codecs == 0) {
    *out = cay__strndup(body, len);
    return *out ? 0 : -ENOMEM;
  }
  for (unsigned i = 0; i < route->n_codecs; i++)
    names[i] = route->codecs[i];
  return cay__sdp_filter(body, len, names, route->n_codecs, out, &out_len);
}

/* The status A gets for B's failure: a 503 from B means B is overloaded,
 * not Cay (RFC 3261 section 16.7 item 6: 500); a redirect or a challenge
 * is not followed by the bridge, and a 481/487 A did not cause means B
 * lost the call. */
int
cay__bridge_map_failure(int status, const char **phrase)
{
  *phrase = NULL;
  switch (status) {
  case 503:
    *phrase = "Server Internal Error - Callee Unavailable";
    return 500;
  case 401:
  case 407:
    *phrase = "Forbidden - Callee Requires Authentication";
    return 403;
  case 481:
  case 487:
    *phrase = "Temporarily Unavailable";
    return 480;
  default:
    if (status >= 300 && status < 400) {
      *phrase = "Temporarily Unavailable - Redirected";
      return 480;
    }
    return status >= 400 && status <= 699 ? status : 500;
  }
}

/* The status the sender of a re-INVITE, UPDATE or INFO gets for the
 * other side's failure of its copy: as for the first INVITE, but a 487
 * (the sender CANCELed its re-INVITE) stays 487. */
int
cay__bridge_map_in_dialog(int status)
{
  const char *phrase;

  return status == 487 ? 487 : cay__bridge_map_failure(status, &phrase);
}

/* End leg @p id as its state requires (CANCEL, BYE, or a final response
 * to an unanswered A) with the header lines @p lines the route passes of
 * what ended the other leg (NULL: none); a leg already ending is left
 * alone. */
static void
end_leg_with(bridge_t *br, cay_id_t id, int status, const char *phrase,
             const char *lines)
{
  cay__session_t *s = bridge_leg(br, id);

  if (s == NULL)
    return;
  if (id == br->a
      && (s->state == CAY__SESSION_INCOMING
          || s->state == CAY__SESSION_EARLY)) {
    if (status == 0) {
      /* B answered, and ended before A's 2xx could go (it waits for A's
       * PRACK, RFC 3262 section 3): A never had the call. */
      status = 480;
      phrase = "Temporarily Unavailable - Callee Hung Up";
    }
    (void)cay__session_set_pass_lines(s, lines); /* not a 1xx's any more */
    cay_session_reject(s, status, phrase, NULL);
    return;
  }
  cay__session_hangup_with(s, lines);
}

static void
end_leg(bridge_t *br, cay_id_t id, int status, const char *phrase)
{
  end_leg_with(br, id, status, phrase, NULL);
}

static void
on_ring_timeout(cay__timer_t *tm)
{
  bridge_t *br = tm->data;
  char line[CAY__REASON_MAX + 16];

  CAY_INFO(SHARD_NO(br->ss), "bridge: no answer in %u s: CANCEL",
           br->route->ring_timeout_s);
  br->depth++;
  /* RFC 3326: the callee learns why (Q.850 19, no answer, user alerted). */
  end_leg_with(br, br->b, 0, NULL,
               cdr_ended_by_cay(br, CAY_CDR_RING_TIMEOUT, CAY__Q850_NO_ANSWER,
                                "no answer", line, sizeof line));
  end_leg(br, br->a, 480, "Temporarily Unavailable - No Answer");
  br->depth--;
  cay__bridge_maybe_free(br);
}

static void
on_max_duration(cay__timer_t *tm)
{
  bridge_t *br = tm->data;
  char line[CAY__REASON_MAX + 16];

  CAY_DEBUG(SHARD_NO(br->ss), "bridge: max duration: BYE both legs");
  br->depth++;
  /* RFC 3326: both sides learn why (Q.850 102, recovery on timer
   * expiry). */
  cdr_ended_by_cay(br, CAY_CDR_MAX_DURATION, CAY__Q850_TIMER, "max duration",
                   line, sizeof line);
  end_leg_with(br, br->a, 0, NULL, line);
  end_leg_with(br, br->b, 0, NULL, line);
  br->depth--;
  cay__bridge_maybe_free(br);
}

/* One side changed the session: carry the offer to the other side and the
 * answer back (RFC 3261 section 14, RFC 3311), each with the header
 * fields the route passes (pass_headers). An offer the other side cannot
 * take now (its own change in progress) gets 491 (14.2). */
static void
relay_offer(bridge_t *br, cay__session_t *from, cay_id_t to_id,
            const cay_session_event_t *ev)
{
  cay__session_t *to = bridge_leg(br, to_id);
  int update = ev->method && strcmp(ev->method, "UPDATE") == 0;
  char *sdp;
  int err;

  /* An UPDATE may change an early dialog too (RFC 3311 section 5.1):
   * cay_session_modify() tells whether the other side's can take one. */
  if (to == NULL
      || (to->state != CAY__SESSION_CONFIRMED
          && !(update && to->state == CAY__SESSION_EARLY))) {
    cay_session_answer_offer(from, 491, NULL);
    return;
  }
  if (ev->body == NULL || ev->body_len == 0) {
    /* A re-INVITE asking for an offer: the other side's, from its 2xx
     * (relay_answer), and the answer in the ACK back (relay_ack_answer). */
    err = cay__session_modify_without_offer_with(to, ev->headers);
  } else {
    err = cay__bridge_offer_copy(br->route, ev->body, ev->body_len, &sdp);
    if (err == 0)
      err = cay__session_modify_with(to, sdp, update, ev->headers);
    cay__free(sdp);
  }
  if (err) {
    /* 14.2: the session stays as it was; 488 for an offer without any of
     * the route's codecs (RFC 3264 section 6). */
    cay_session_answer_offer(from,
                             err == CAY_ESTATE     ? 491
                             : err == CAY_ENOCODEC ? 488
                                                   : 500,
                             NULL);
    return;
  }
  cay_session_defer_offer(from);
}

/* Side @p from answered the request we carried for @p to_id's side:
 * answer that request. When ours asked for an offer, @p from's 2xx holds
 * one: it goes to the other side in its 2xx (the route's codecs only),
 * and @p from's ACK waits for the answer (relay_ack_answer). */
static void
relay_answer(bridge_t *br, cay__session_t *from, cay_id_t to_id,
             const cay_session_event_t *ev)
{
  cay__session_t *to = bridge_leg(br, to_id);
  int offer = from->mod && from->mod->out_ack_pending;
  char *sdp = NULL;
  int err = 0, status;

  /* Where @p from's held ACK is not taken care of below, Cay sends it
   * with its own answer when this callback returns. */
  if (to == NULL || to->mod == NULL || to->mod->in_txn == 0)
    return;
  if (ev->status >= 200 && ev->status < 300 && ev->body) {
    if (offer)
      err = cay__bridge_offer_copy(br->route, ev->body, ev->body_len, &sdp);
    else if ((sdp = body_copy(ev)) == NULL)
      err = -ENOMEM;
    status = err == 0 ? 200 : err == CAY_ENOCODEC ? 488 : 500;
    if (cay__session_answer_offer_with(to, status, sdp, ev->headers) == 0
        && status == 200 && offer)
      cay_session_defer_offer(from); /* its ACK waits for the answer */
    else if (offer && status == 488)
      /* None of the route's codecs (RFC 3264 section 6): the 2xx cannot
       * be refused, so its ACK and then a BYE (13.2.2.4). */
      cay_session_answer_offer(from, 488, NULL);
    cay__free(sdp);
  } else {
    /* As for the first INVITE: a challenge or a 503 of the other side is
     * not the sender's to answer (491 and 488 pass unchanged). */
    cay__session_answer_offer_with(
        to, ev->status >= 300 ? cay__bridge_map_in_dialog(ev->status) : 488,
        NULL, ev->headers);
  }
}

/* The side that sent a re-INVITE CANCELed it (RFC 3261 section 9.2): its
 * copy is CANCELed too, and the sender waits for the copy's final
 * response (relay_answer): 487, or a 2xx that crossed the CANCEL, which
 * both sides then take. Without a copy in progress it gets 487 now. */
static void
relay_cancel(bridge_t *br, cay__session_t *from, cay_id_t to_id)
{
  cay__session_t *to = bridge_leg(br, to_id);

  if (to && cay_session_modify_cancel(to) == 0)
    cay_session_defer_offer(from);
}

/* An ACK answers the offer the other side made in its 2xx (B's to A's
 * first INVITE without one, either side's to a re-INVITE without one):
 * the other side's ACK carries it, or Cay's own answer when this ACK had
 * none. */
static void
relay_ack_answer(bridge_t *br, cay_id_t to_id, const cay_session_event_t *ev)
{
  cay__session_t *to = bridge_leg(br, to_id);
  char *sdp = body_copy(ev);

  if (to && (sdp || ev->kind == CAY_SESSION_EV_ANSWER))
    cay_session_answer_offer(to, 200, sdp);
  cay__free(sdp);
}

/* An event of leg @p s that both legs relay alike to the other leg,
 * @p other_id. The answer to the offer carried for a leg that is
 * joining the call (RFC 3891) is the joining leg's. */
static void
relay_event(bridge_t *br, cay__session_t *s, cay_id_t other_id,
            const cay_session_event_t *ev)
{
  switch (ev->kind) {
  case CAY_SESSION_EV_OFFER:
    relay_offer(br, s, other_id, ev);
    break;
  case CAY_SESSION_EV_MODIFIED:
    if (br->joining && s->id != br->replaced)
      cay__bridge_join_answered(br, s, ev);
    else
      relay_answer(br, s, other_id, ev);
    break;
  case CAY_SESSION_EV_ANSWER:
    relay_ack_answer(br, other_id, ev);
    break;
  case CAY_SESSION_EV_CANCEL:
    relay_cancel(br, s, other_id);
    break;
  case CAY_SESSION_EV_INFO:
  case CAY_SESSION_EV_REQUEST:
    cay__bridge_relay_request(br, s, other_id, ev);
    break;
  case CAY_SESSION_EV_REQUEST_ANSWERED:
    cay__bridge_relay_request_answer(br, other_id, ev);
    break;
  default:
    break;
  }
}

/* The ACK that confirmed leg @p s: the answer it holds goes to the other
 * leg's ACK when that leg's 2xx held the offer (A's INVITE without one;
 * a leg that joined without one, RFC 3891). */
static void
acked(bridge_t *br, cay__session_t *s, cay_id_t other_id,
      const cay_session_event_t *ev)
{
  if (ev->method == NULL || strcmp(ev->method, "ACK") != 0)
    return;
  if (s->id == br->join_ack) {
    br->join_ack = 0;
    relay_ack_answer(br, other_id, ev);
  } else if (s->id == br->a && br->delayed_offer) {
    relay_ack_answer(br, other_id, ev);
  }
}

/* Leg @p s is ending (its TERMINATING or TERMINATED event @p ev): so is
 * the call (its timers stop, the other leg gets CANCEL or BYE, 15.1 and
 * 9.1, with the route's pass_headers of what ended @p s, ev->headers),
 * and a leg joining it is refused. The record says the caller ended it
 * when the other leg is B, else the callee (unless a timer or Cay ended
 * it first), for the Reason ev->reason. */
static void
leg_ending(bridge_t *br, cay_id_t other_id, int status, const char *phrase,
           const cay_session_event_t *ev)
{
  cdr_ended(br, other_id == br->a ? CAY_CDR_CALLEE : CAY_CDR_CALLER,
            ev->reason);
  cay__shard_timer_stop(br->ss->shard, &br->t_ring);
  cay__shard_timer_stop(br->ss->shard, &br->t_max);
  if (br->joining)
    cay__bridge_join_call_ended(br);
  end_leg_with(br, other_id, status, phrase, ev->headers);
}

/* The final status A's INVITE got, A ending unanswered with @p ended:
 * its server transaction's last (a BYE before the answer ends A with its
 * own 200, and the INVITE with 487, RFC 3261 section 15.1.2), else
 * @p ended. */
static int
a_final_status(bridge_t *br, const cay__session_t *a, int ended)
{
  cay__txn_t *t = cay__txn_lookup(br->ss->ep, a->invite_txn);
  int status = t ? cay__txn_status(t) : 0;

  return status >= 200 ? status : ended;
}

void
cay__bridge_on_a(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  bridge_t *br = arg;

  br->depth++;
  if (ev->kind == CAY_SESSION_EV_STATE) {
    if (ev->state == CAY_SESSION_TERMINATING
        || ev->state == CAY_SESSION_TERMINATED) {
      if (ev->state == CAY_SESSION_TERMINATED) {
        br->a_done = 1;
        if (br->cdr && br->cdr->answer_ms == 0)
          br->cdr->status = a_final_status(br, s, ev->status);
      }
      leg_ending(br, br->b, 0, NULL, ev);
    } else if (ev->state == CAY_SESSION_CONFIRMED) {
      acked(br, s, br->b, ev);
    } else if (ev->state == CAY_SESSION_CONNECTING) {
      /* A's 2xx went (after B's, or once A PRACKed, RFC 3262 section
       * 3): the call is answered. */
      srd_count(br);
      if (br->cdr && br->cdr->answer_ms == 0) {
        br->cdr->answer_ms = cay__shard_now(br->ss->shard);
        br->cdr->status = 200;
      }
    }
  } else {
    relay_event(br, s, br->b, ev);
  }
  br->depth--;
  cay__bridge_maybe_free(br);
}

static void
b_answered(bridge_t *br, const cay_session_event_t *ev)
{
  cay__session_t *a = bridge_leg(br, br->a), *b = bridge_leg(br, br->b);
  char *sdp = NULL, line[CAY__REASON_MAX + 16];
  int err;
  /* A got the answer reliably: its session repeats the SDP it last got
   * (cay_session_answer() with NULL). */
  int a_repeats = a && a->early_oa && a->sdp;

  cay__shard_timer_stop(br->ss->shard, &br->t_ring);
  if (br->cdr)
    br->cdr->b_status = ev->status >= 200 ? ev->status : 200;
  if (br->delayed_offer) {
    /* B's 2xx holds the offer (13.2.1): the route's codecs apply to it as
     * to A's. None of them: B's offer is refused (ACK, then BYE,
     * 13.2.2.4) and A gets 488 (RFC 3264 section 6). */
    err = cay__bridge_offer_copy(br->route, ev->body, ev->body_len, &sdp);
    if (err == CAY_ENOCODEC && b != NULL) {
      CAY_INFO(SHARD_NO(br->ss), "bridge: %s: no route codec in B's offer",
               b->call_id);
      br->no_codec = 1;
      cdr_ended(br, CAY_CDR_ERROR, NULL);
      cay_session_answer_offer(b, 488, NULL);
      end_leg(br, br->a, 488, "Not Acceptable Here - No Common Codec");
      return;
    }
  } else if ((sdp = body_copy(ev)) == NULL && b && b->early_oa && !a_repeats) {
    /* RFC 3262: B answered in a reliable provisional, and its 2xx need
     * not repeat that answer; A's 2xx does unless A got it reliably too
     * (then A's session repeats the SDP A last got). */
    sdp = br->b_early_sdp;
    br->b_early_sdp = NULL;
  }
  cay__free(br->b_early_sdp); /* not needed once B answered */
  br->b_early_sdp = NULL;
  br->answered = 1;
  if (a == NULL)
    err = CAY_ESTATE;
  else if (sdp == NULL && !a_repeats)
    err = CAY_EPARSE; /* 13.2.1: B's 2xx must hold the answer (or offer) */
  else if ((err = cay__session_set_pass_lines(a, ev->headers)) == 0)
    err = cay_session_answer(a, sdp);
  cay__free(sdp);
  if (err) {
    /* CAY_ESTATE: a CANCEL, the ring timeout or A's end crossed B's 2xx;
     * B's call is ACKed and ended (15, 9.1), an everyday race, not a
     * fault. */
    if (err == CAY_ESTATE)
      CAY_INFO(SHARD_NO(br->ss),
               "bridge: %s: B answered after A's INVITE ended: BYE to B",
               b ? b->call_id : "?");
    else
      CAY_WARN(SHARD_NO(br->ss), "bridge: %s: A not answered (%s): BYE to B",
               b ? b->call_id : "?",
               err == CAY_EPARSE ? "no SDP in B's 2xx" : cay_strerror(err));
    /* A was not answered: B's end, which comes first, gives A the
     * failure (cay__bridge_map_failure(): 500), not a hang-up (480).
     * RFC 3326: B learns why its answered call ends at once. */
    br->answered = 0;
    /* Ended by an error (A's end came first for CAY_ESTATE), and B
     * learns which. */
    end_leg_with(br, br->b, 0, NULL,
                 cdr_ended_by_cay(br, CAY_CDR_ERROR,
                                  err == CAY_ESTATE   ? 487
                                  : err == CAY_EPARSE ? 488
                                                      : 500,
                                  err == CAY_ESTATE ? "the caller left first"
                                  : err == CAY_EPARSE
                                      ? "no SDP answer in the 2xx"
                                      : "the answer could not be relayed",
                                  line, sizeof line));
    end_leg(br, br->a, 500, NULL);
    return;
  }
  /* The route's limit, or the dialog default (-1); 0 is none. */
  long max = br->route->max_duration_s < 0
                 ? (long)br->ss->cfg.dialog_max_duration_s
                 : br->route->max_duration_s;
  if (max > 0)
    cay__shard_timer_start(br->ss->shard, &br->t_max, 1000ull * (uint64_t)max);
  /* B's ACK waits for A's answer (in A's ACK, cay__bridge_on_a). */
  if (br->delayed_offer && b != NULL)
    cay_session_defer_offer(b);
}

void
cay__bridge_on_b(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  bridge_t *br = arg;
  cay__session_t *a;
  const char *phrase = NULL;
  int status = 0;

  br->depth++;
  if (ev->kind == CAY_SESSION_EV_PROVISIONAL) {
    a = bridge_leg(br, br->a);
    if (a && ev->status > 100) {
      char *sdp = body_copy(ev);
      srd_count(br);
      if (br->cdr && br->cdr->progress_ms == 0)
        br->cdr->progress_ms = cay__shard_now(br->ss->shard);
      (void)cay__session_set_pass_lines(a, ev->headers);
      cay_session_progress(a, ev->status, sdp); /* early media too */
      if (sdp && a->rel == 1)
        br->early_answered = 1; /* no failover: A's offer is answered */
      if (sdp && s->early_oa) {
        cay__free(br->b_early_sdp); /* B answered A's offer reliably */
        br->b_early_sdp = sdp;
        sdp = NULL;
      }
      cay__free(sdp);
    }
  } else if (ev->kind != CAY_SESSION_EV_STATE) {
    relay_event(br, s, br->a, ev);
  } else if (ev->state == CAY_SESSION_CONFIRMED && !br->answered) {
    b_answered(br, ev);
  } else if (ev->state == CAY_SESSION_CONFIRMED) {
    acked(br, s, br->a, ev);
  } else if (ev->state == CAY_SESSION_TERMINATING
             || ev->state == CAY_SESSION_TERMINATED) {
    if (ev->state == CAY_SESSION_TERMINATED)
      br->b_done = 1;
    if (ev->state == CAY_SESSION_TERMINATED && br->cdr && !br->answered
        && s->id == br->b)
      br->cdr->b_status = ev->status; /* its INVITE's failure */
    if (ev->state == CAY_SESSION_TERMINATED && s->id == br->b
        && cay__bridge_failover(br, ev->status)) {
      br->depth--;
      return;
    }
    if (br->no_codec) {
      status = 488;
      phrase = "Not Acceptable Here - No Common Codec";
    } else if (!br->answered) {
      status = cay__bridge_map_failure(ev->status, &phrase);
    }
    leg_ending(br, br->a, status, phrase, ev);
  }
  br->depth--;
  cay__bridge_maybe_free(br);
}

int
cay__bridge_start(cay__sessions_t *ss, cay__session_t *a, const sip_t *sip,
                  const cay_route_t *route, const char *target)
{
  cay__txn_t *t = cay__txn_lookup(ss->ep, a->invite_txn);
  bridge_t *br;
  int err;

  br = cay__calloc(1, sizeof *br);
  if (br == NULL)
    return -ENOMEM;
  br->ss = ss;
  br->route = route;
  br->a = a->id;
  br->delayed_offer = !(sip->sip_payload && sip->sip_payload->pl_len);
  br->start_ms = cay__shard_now(ss->shard);
  cay__timer_init(&br->t_ring, on_ring_timeout, br);
  cay__timer_init(&br->t_max, on_max_duration, br);
  if (ss->cdr_sink)
    br->cdr = cay__bridge_cdr_begin(ss, t, sip);
  err = cay__bridge_place_first(br, a, t ? cay__txn_request(t) : NULL, sip,
                                target);
  if (err) {
    cay__cdr_free(br->cdr);
    cay__targets_free(&br->targets);
    cay__free(br);
    return err;
  }
  a->bridged = 1;
  a->pass_route = route->n_pass_headers ? route : NULL; /* BYE, CANCEL */
  /* 17.2.1: B usually rings within 200 ms; A's 100 Trying waits that
   * long (one message less per call when it does). */
  if (t)
    cay__txn_trying_later(t);
  cay_session_set_cb(a, cay__bridge_on_a, br);
  br->routes = cay__routes_hold(ss->routes);
  ss->bridges++;
  if (route->ring_timeout_s)
    cay__shard_timer_start(ss->shard, &br->t_ring,
                           1000ull * route->ring_timeout_s);
  return 0;
}
