/*
 * The B2BUA bridge: an incoming call (A leg) forwarded as an outgoing call
 * (B leg) that Cay places, both sessions of the same shard (the B leg's
 * Call-ID hashes to it, DESIGN.md rule 2), kept in step until either ends.
 *
 *   A INVITE --route forward--> B INVITE (A's offer, codecs filtered,
 *                               Max-Forwards - 1)
 *   (no offer in A's INVITE: B's 2xx offer, codecs filtered --> A 200,
 *    A's answer in its ACK --> B's ACK; none of the codecs --> 488 A)
 *   B 18x --> A 18x (early SDP)        B 2xx --> A 200 (B's answer)
 *   B >= 300 --> A mapped failure      ring timeout --> CANCEL B, 480 A
 *   A CANCEL --> CANCEL B              BYE either side --> BYE the other
 *   re-INVITE/UPDATE either side --> the other side, answer relayed back
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
 *
 * Both legs and the bridge live on one loop: every event of one leg runs to
 * its end before any event of the other, so a BYE racing the max-duration
 * timeout has one winner and the other side gets exactly one BYE (the
 * second hangup of a leg already terminating does nothing). The bridge is
 * freed once both legs have ended, never inside a nested callback.
 */
#include "b2bua/bridge.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "b2bua/route.h"
#include "dialog/session_int.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

/* An INFO, REFER or NOTIFY relayed: the copy we sent (its request id, on
 * one leg) and the request it answers (its request id, on the other). */
typedef struct info_relay {
  struct info_relay *next;
  cay_id_t copy, orig;
} info_relay_t;

/* A REFER relayed (RFC 3515): its CSeq on the side that sent it and its
 * copy's on leg @p to. The NOTIFYs of the copy's implicit subscription
 * name it by the copy's CSeq (Event: refer;id=, section 2.4.6); relayed,
 * they must name the sender's REFER. */
typedef struct refer_map {
  struct refer_map *next;
  cay_id_t to;
  uint32_t orig_cseq, copy_cseq;
} refer_map_t;

/* REFERs remembered per call: a transfer takes one, a retried one two;
 * past this the oldest is forgotten (its NOTIFYs go with their id). */
#define MAX_REFERS 4

typedef struct bridge {
  cay__sessions_t *ss;
  cay_id_t a, b;
  const cay_route_t *route; /* in routes */
  cay__routes_t *routes;    /* held: a reload may replace ss->routes */
  cay__timer_t t_ring;      /* no answer from B in time */
  cay__timer_t t_max;       /* the route's max duration */
  unsigned answered : 1;
  unsigned a_done : 1, b_done : 1;
  unsigned no_codec : 1; /* B's 2xx offer had none of the route's codecs */
  /* A's INVITE had no SDP (RFC 3261 section 13.2.1): B's 2xx holds the
   * offer, which goes to A in its 200, and A's ACK the answer, which goes
   * to B in B's ACK. */
  unsigned delayed_offer : 1;
  unsigned depth;      /* callbacks of this bridge on the stack */
  info_relay_t *infos; /* requests relayed, awaiting the copy's answer */
  refer_map_t *refers; /* REFERs relayed, newest first */
} bridge_t;

static void on_a(cay_session_t *s, const cay_session_event_t *ev, void *arg);
static void on_b(cay_session_t *s, const cay_session_event_t *ev, void *arg);

static cay__session_t *
leg(bridge_t *br, cay_id_t id)
{
  return id ? cay__session_lookup(br->ss, id) : NULL;
}

static void
maybe_free(bridge_t *br)
{
  if (br->depth > 0 || !br->a_done || !br->b_done)
    return;
  cay__shard_timer_stop(br->ss->shard, &br->t_ring);
  cay__shard_timer_stop(br->ss->shard, &br->t_max);
  br->ss->bridges--;
  while (br->infos) {
    info_relay_t *r = br->infos;
    br->infos = r->next;
    cay__free(r);
  }
  while (br->refers) {
    refer_map_t *m = br->refers;
    br->refers = m->next;
    cay__free(m);
  }
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
static int
offer_copy(const cay_route_t *route, const char *body, size_t len, char **out)
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
static int
map_failure(int status, const char **phrase)
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
static int
map_in_dialog(int status)
{
  const char *phrase;

  return status == 487 ? 487 : map_failure(status, &phrase);
}

/* End leg @p id as its state requires (CANCEL, BYE, or a final response
 * to an unanswered A); a leg already ending is left alone. */
static void
end_leg(bridge_t *br, cay_id_t id, int status, const char *phrase)
{
  cay__session_t *s = leg(br, id);

  if (s == NULL)
    return;
  if (id == br->a
      && (s->state == CAY__SESSION_INCOMING
          || s->state == CAY__SESSION_EARLY)) {
    cay_session_reject(s, status, phrase, NULL);
    return;
  }
  cay__session_hangup(s);
}

static void
on_ring_timeout(cay__timer_t *tm)
{
  bridge_t *br = tm->data;

  CAY_INFO(SHARD_NO(br->ss), "bridge: no answer in %u s: CANCEL",
           br->route->ring_timeout_s);
  br->depth++;
  end_leg(br, br->b, 0, NULL);
  end_leg(br, br->a, 480, "Temporarily Unavailable - No Answer");
  br->depth--;
  maybe_free(br);
}

static void
on_max_duration(cay__timer_t *tm)
{
  bridge_t *br = tm->data;

  CAY_DEBUG(SHARD_NO(br->ss), "bridge: max duration: BYE both legs");
  br->depth++;
  end_leg(br, br->a, 0, NULL);
  end_leg(br, br->b, 0, NULL);
  br->depth--;
  maybe_free(br);
}

/* One side changed the session: carry the offer to the other side and the
 * answer back (RFC 3261 section 14, RFC 3311). An offer the other side
 * cannot take now (its own change in progress) gets 491 (14.2). */
static void
relay_offer(bridge_t *br, cay__session_t *from, cay_id_t to_id,
            const cay_session_event_t *ev)
{
  cay__session_t *to = leg(br, to_id);
  char *sdp;
  int err;

  if (to == NULL || to->state != CAY__SESSION_CONFIRMED) {
    cay_session_answer_offer(from, 491, NULL);
    return;
  }
  if (ev->body == NULL || ev->body_len == 0) {
    /* A re-INVITE asking for an offer: the other side's, from its 2xx
     * (relay_answer), and the answer in the ACK back (relay_ack_answer). */
    err = cay_session_modify_without_offer(to);
  } else {
    err = offer_copy(br->route, ev->body, ev->body_len, &sdp);
    if (err == 0)
      err = cay_session_modify(to, sdp,
                               ev->method && strcmp(ev->method, "UPDATE") == 0);
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
  cay__session_t *to = leg(br, to_id);
  int offer = from->mod && from->mod->out_ack_pending;
  char *sdp = NULL;
  int err = 0, status;

  /* Where @p from's held ACK is not taken care of below, Cay sends it
   * with its own answer when this callback returns. */
  if (to == NULL || to->mod == NULL || to->mod->in_txn == 0)
    return;
  if (ev->status >= 200 && ev->status < 300 && ev->body) {
    if (offer)
      err = offer_copy(br->route, ev->body, ev->body_len, &sdp);
    else if ((sdp = body_copy(ev)) == NULL)
      err = -ENOMEM;
    status = err == 0 ? 200 : err == CAY_ENOCODEC ? 488 : 500;
    if (cay_session_answer_offer(to, status, sdp) == 0 && status == 200
        && offer)
      cay_session_defer_offer(from); /* its ACK waits for the answer */
    else if (offer && status == 488)
      /* None of the route's codecs (RFC 3264 section 6): the 2xx cannot
       * be refused, so its ACK and then a BYE (13.2.2.4). */
      cay_session_answer_offer(from, 488, NULL);
    cay__free(sdp);
  } else {
    /* As for the first INVITE: a challenge or a 503 of the other side is
     * not the sender's to answer (491 and 488 pass unchanged). */
    cay_session_answer_offer(
        to, ev->status >= 300 ? map_in_dialog(ev->status) : 488, NULL);
  }
}

/* The side that sent a re-INVITE CANCELed it (RFC 3261 section 9.2): its
 * copy is CANCELed too, and the sender waits for the copy's final
 * response (relay_answer): 487, or a 2xx that crossed the CANCEL, which
 * both sides then take. Without a copy in progress it gets 487 now. */
static void
relay_cancel(bridge_t *br, cay__session_t *from, cay_id_t to_id)
{
  cay__session_t *to = leg(br, to_id);

  if (to && cay_session_modify_cancel(to) == 0)
    cay_session_defer_offer(from);
}

/* REFER number @p orig_cseq of one side went to leg @p to as number
 * @p copy_cseq: remembered for the NOTIFYs that leg sends about it. */
static void
note_refer(bridge_t *br, cay_id_t to, uint32_t orig_cseq, uint32_t copy_cseq)
{
  refer_map_t *m = cay__calloc(1, sizeof *m), **pp = &br->refers;
  unsigned n = 0;

  if (m == NULL)
    return; /* its NOTIFYs go with the copy's id */
  m->to = to;
  m->orig_cseq = orig_cseq;
  m->copy_cseq = copy_cseq;
  m->next = br->refers;
  br->refers = m;
  while (*pp && n++ < MAX_REFERS) /* past the newest MAX_REFERS */
    pp = &(*pp)->next;
  if (*pp) {
    cay__free(*pp); /* the oldest: at most one past the limit */
    *pp = NULL;
  }
}

/* A NOTIFY's header lines @p h from leg @p from, with "Event: refer;id=N"
 * naming the REFER the other side sent when N is the CSeq of its copy to
 * @p from (RFC 3515 section 2.4.6), written to @p buf; @p h itself when
 * there is nothing to change or no room. */
static const char *
notify_headers(bridge_t *br, cay_id_t from, const char *h, char *buf,
               size_t size)
{
  const char *ev = strncmp(h, "Event:", 6) == 0 ? h : strstr(h, "\nEvent:");
  const char *id, *end;
  char *after;
  unsigned long n;

  if (ev == NULL)
    return h;
  ev += *ev == '\n' ? 7 : 6;
  ev += strspn(ev, " \t");
  end = ev + strcspn(ev, "\r");
  if (strncasecmp(ev, "refer", 5) != 0 || strchr(";\r \t", ev[5]) == NULL)
    return h;
  for (id = ev; (id = strchr(id, ';')) != NULL && id < end; id++)
    if (strncasecmp(id + 1 + strspn(id + 1, " \t"), "id=", 3) == 0)
      break;
  if (id == NULL || id >= end)
    return h;
  id = strchr(id, '=') + 1;
  n = strtoul(id, &after, 10);
  for (const refer_map_t *m = br->refers; m; m = m->next)
    if (m->to == from && m->copy_cseq == n) {
      int len = snprintf(buf, size, "%.*s%u%s", (int)(id - h), h,
                         (unsigned)m->orig_cseq, after);
      return len > 0 && (size_t)len < size ? buf : h;
    }
  return h;
}

/* An INFO (RFC 6086), REFER (RFC 3515) or NOTIFY (RFC 6665) from one
 * side: a copy to the other side, whose final response answers it
 * (relay_request_answer). One that cannot go (the other side is not
 * confirmed) gets 500, a failure of the transaction only (RFC 5057); an
 * empty INFO gets 200 (legacy keep-alive: our dialog with the sender is
 * there). */
static void
relay_request(bridge_t *br, cay__session_t *from, cay_id_t to_id,
              const cay_session_event_t *ev)
{
  cay__session_t *to = leg(br, to_id);
  info_relay_t *r = cay__calloc(1, sizeof *r);
  const char *hdrs = ev->headers;
  int refer = strcmp(ev->method, "REFER") == 0;
  char buf[4200];

  if (r == NULL) {
    cay_session_answer_request(from, ev->request, 500, NULL);
    return;
  }
  if (strcmp(ev->method, "NOTIFY") == 0)
    hdrs = notify_headers(br, from->id, hdrs, buf, sizeof buf);
  if (to
      && cay_session_request(to, ev->method, hdrs, ev->content_type, ev->body,
                             ev->body_len, &r->copy)
             == 0) {
    if (refer)
      note_refer(br, to_id, from->remote_cseq, to->local_cseq);
    if (cay_session_defer_request(from) == 0) {
      r->orig = ev->request;
      r->next = br->infos;
      br->infos = r;
      return;
    }
    /* No memory to wait: the sender gets Cay's own answer. */
  } else if (ev->body_len || ev->kind == CAY_SESSION_EV_REQUEST) {
    cay_session_answer_request(from, ev->request, 500,
                               "Server Internal Error - Not Relayed");
  }
  cay__free(r);
}

/* The other side answered our copy (@p ev->request) of a request of
 * @p from_id's side: that request gets the answer (a REFER's 202 stays
 * 202), a failure mapped as for a re-INVITE. */
static void
relay_request_answer(bridge_t *br, cay_id_t from_id,
                     const cay_session_event_t *ev)
{
  info_relay_t **pp = &br->infos, *r;
  cay__session_t *from;

  while (*pp && (*pp)->copy != ev->request)
    pp = &(*pp)->next;
  if ((r = *pp) == NULL)
    return;
  *pp = r->next;
  if ((from = leg(br, from_id)) != NULL)
    cay_session_answer_request(
        from, r->orig,
        ev->status < 300 ? ev->status : map_in_dialog(ev->status), NULL);
  cay__free(r);
}

/* An ACK answers the offer the other side made in its 2xx (B's to A's
 * first INVITE without one, either side's to a re-INVITE without one):
 * the other side's ACK carries it, or Cay's own answer when this ACK had
 * none. */
static void
relay_ack_answer(bridge_t *br, cay_id_t to_id, const cay_session_event_t *ev)
{
  cay__session_t *to = leg(br, to_id);
  char *sdp = body_copy(ev);

  if (to && (sdp || ev->kind == CAY_SESSION_EV_ANSWER))
    cay_session_answer_offer(to, 200, sdp);
  cay__free(sdp);
}

static void
on_a(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  bridge_t *br = arg;

  (void)s;
  br->depth++;
  switch (ev->kind) {
  case CAY_SESSION_EV_STATE:
    if (ev->state == CAY_SESSION_TERMINATING
        || ev->state == CAY_SESSION_TERMINATED) {
      if (ev->state == CAY_SESSION_TERMINATED)
        br->a_done = 1;
      cay__shard_timer_stop(br->ss->shard, &br->t_ring);
      cay__shard_timer_stop(br->ss->shard, &br->t_max);
      end_leg(br, br->b, 0, NULL); /* CANCEL or BYE (15.1, 9.1) */
    } else if (ev->state == CAY_SESSION_CONFIRMED && br->delayed_offer
               && ev->method && strcmp(ev->method, "ACK") == 0) {
      relay_ack_answer(br, br->b, ev);
    }
    break;
  case CAY_SESSION_EV_OFFER:
    relay_offer(br, s, br->b, ev);
    break;
  case CAY_SESSION_EV_MODIFIED:
    relay_answer(br, s, br->b, ev);
    break;
  case CAY_SESSION_EV_ANSWER:
    relay_ack_answer(br, br->b, ev);
    break;
  case CAY_SESSION_EV_CANCEL:
    relay_cancel(br, s, br->b);
    break;
  case CAY_SESSION_EV_INFO:
  case CAY_SESSION_EV_REQUEST:
    relay_request(br, s, br->b, ev);
    break;
  case CAY_SESSION_EV_REQUEST_ANSWERED:
    relay_request_answer(br, br->b, ev);
    break;
  default:
    break;
  }
  br->depth--;
  maybe_free(br);
}

static void
b_answered(bridge_t *br, const cay_session_event_t *ev)
{
  cay__session_t *a = leg(br, br->a), *b = leg(br, br->b);
  char *sdp = NULL;
  int err;

  cay__shard_timer_stop(br->ss->shard, &br->t_ring);
  if (br->delayed_offer) {
    /* B's 2xx holds the offer (13.2.1): the route's codecs apply to it as
     * to A's. None of them: B's offer is refused (ACK, then BYE,
     * 13.2.2.4) and A gets 488 (RFC 3264 section 6). */
    err = offer_copy(br->route, ev->body, ev->body_len, &sdp);
    if (err == CAY_ENOCODEC && b != NULL) {
      CAY_INFO(SHARD_NO(br->ss), "bridge: %s: no route codec in B's offer",
               b->call_id);
      br->no_codec = 1;
      cay_session_answer_offer(b, 488, NULL);
      end_leg(br, br->a, 488, "Not Acceptable Here - No Common Codec");
      return;
    }
  } else {
    sdp = body_copy(ev);
  }
  br->answered = 1;
  if (a == NULL)
    err = CAY_ESTATE;
  else if (sdp == NULL)
    err = CAY_EPARSE; /* 13.2.1: B's 2xx must hold the answer (or offer) */
  else
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
    end_leg(br, br->b, 0, NULL);
    end_leg(br, br->a, 500, NULL);
    return;
  }
  /* The route's limit, or the dialog default (-1); 0 is none. */
  long max = br->route->max_duration_s < 0
                 ? (long)br->ss->cfg.dialog_max_duration_s
                 : br->route->max_duration_s;
  if (max > 0)
    cay__shard_timer_start(br->ss->shard, &br->t_max, 1000ull * (uint64_t)max);
  /* B's ACK waits for A's answer (in A's ACK, on_a). */
  if (br->delayed_offer && b != NULL)
    cay_session_defer_offer(b);
}

static void
on_b(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  bridge_t *br = arg;
  cay__session_t *a;
  const char *phrase;
  int status;

  br->depth++;
  switch (ev->kind) {
  case CAY_SESSION_EV_PROVISIONAL:
    a = leg(br, br->a);
    if (a && ev->status > 100) {
      char *sdp = body_copy(ev);
      cay_session_progress(a, ev->status, sdp); /* early media too */
      cay__free(sdp);
    }
    break;
  case CAY_SESSION_EV_STATE:
    if (ev->state == CAY_SESSION_CONFIRMED && !br->answered) {
      b_answered(br, ev);
    } else if (ev->state == CAY_SESSION_TERMINATING
               || ev->state == CAY_SESSION_TERMINATED) {
      if (ev->state == CAY_SESSION_TERMINATED)
        br->b_done = 1;
      cay__shard_timer_stop(br->ss->shard, &br->t_ring);
      cay__shard_timer_stop(br->ss->shard, &br->t_max);
      if (br->no_codec) {
        status = 488;
        phrase = "Not Acceptable Here - No Common Codec";
      } else {
        status = br->answered ? 0 : map_failure(ev->status, &phrase);
      }
      end_leg(br, br->a, status, br->answered ? NULL : phrase);
    }
    break;
  case CAY_SESSION_EV_OFFER:
    relay_offer(br, s, br->a, ev);
    break;
  case CAY_SESSION_EV_MODIFIED:
    relay_answer(br, s, br->a, ev);
    break;
  case CAY_SESSION_EV_ANSWER:
    relay_ack_answer(br, br->a, ev);
    break;
  case CAY_SESSION_EV_CANCEL:
    relay_cancel(br, s, br->a);
    break;
  case CAY_SESSION_EV_INFO:
  case CAY_SESSION_EV_REQUEST:
    relay_request(br, s, br->a, ev);
    break;
  case CAY_SESSION_EV_REQUEST_ANSWERED:
    relay_request_answer(br, br->a, ev);
    break;
  }
  br->depth--;
  maybe_free(br);
}

/* "display" <uri> of A's From, without its tag: the B leg's From (a new
 * tag is added by the UAC, 8.1.1.3). A URI that is not sip, sips or tel,
 * or that printed holds a character that would end the name-addr early,
 * becomes the anonymous URI of RFC 3261 section 8.1.1.3: B must get a
 * From it can parse whatever A sent. */
static void
from_of(const sip_t *sip, char *buf, size_t len)
{
  const url_t *u = sip->sip_from->a_url;
  char uri[400];
  isize_t n = url_e(uri, sizeof uri, u);

  if ((u->url_type != url_sip && u->url_type != url_sips
       && u->url_type != url_tel)
      || n <= 0 || n >= (isize_t)sizeof uri || strpbrk(uri, "<>\" \t\r\n"))
    snprintf(uri, sizeof uri, "sip:anonymous@anonymous.invalid");
  if (sip->sip_from->a_display && *sip->sip_from->a_display)
    snprintf(buf, len, "%s <%s>", sip->sip_from->a_display, uri);
  else
    snprintf(buf, len, "<%s>", uri);
}

int
cay__bridge_start(cay__sessions_t *ss, cay__session_t *a, const sip_t *sip,
                  const cay_route_t *route, const char *target)
{
  cay__invite_opts_t o;
  cay__session_t *b;
  bridge_t *br;
  char from[512], *offer = NULL;
  int err = 0;

  br = cay__calloc(1, sizeof *br);
  if (br == NULL)
    return -ENOMEM;
  br->ss = ss;
  br->route = route;
  br->a = a->id;
  br->delayed_offer = !(sip->sip_payload && sip->sip_payload->pl_len);
  cay__timer_init(&br->t_ring, on_ring_timeout, br);
  cay__timer_init(&br->t_max, on_max_duration, br);
  if (!br->delayed_offer)
    err = offer_copy(route, sip->sip_payload->pl_data, sip->sip_payload->pl_len,
                     &offer);
  if (err) {
    cay__free(br);
    return err;
  }
  from_of(sip, from, sizeof from);
  memset(&o, 0, sizeof o);
  o.uri = target;
  o.from = from;
  o.sdp = offer;
  o.cb = on_b;
  o.arg = br;
  o.bridged = 1;
  o.no_response_ms = route->no_response_timeout_ms;
  o.auth_username = route->auth_username; /* "" = none */
  o.auth_password = route->auth_password;
  /* RFC 3261 section 16.6 item 3, as a proxy would: one hop less. */
  o.max_forwards
      = sip->sip_max_forwards ? (unsigned)sip->sip_max_forwards->mf_count : 71;
  err = cay__session_invite_opts(ss, &o, &b);
  cay__free(offer);
  if (err) {
    cay__free(br);
    return err;
  }
  br->b = b->id;
  a->bridged = 1;
  {
    /* 17.2.1: B usually rings within 200 ms; A's 100 Trying waits that
     * long (one message less per call when it does). */
    cay__txn_t *t = cay__txn_lookup(ss->ep, a->invite_txn);
    if (t)
      cay__txn_trying_later(t);
  }
  cay_session_set_cb(a, on_a, br);
  br->routes = cay__routes_hold(ss->routes);
  ss->bridges++;
  if (route->ring_timeout_s)
    cay__shard_timer_start(ss->shard, &br->t_ring,
                           1000ull * route->ring_timeout_s);
  CAY_DEBUG(SHARD_NO(ss), "bridge: %s -> %s (%s)", a->call_id, target,
            b->call_id);
  return 0;
}

int
cay__bridge_is_loop(const cay__sessions_t *ss, const sip_t *sip,
                    const char *target)
{
  char ruri[512];

  /* A request that already went through this Cay (our sent-by in a Via)
   * and would be forwarded to where it was sent before is a loop (RFC
   * 3261 section 16.3 item 4's idea for a B2BUA): a spiral with another
   * target is not. */
  if (url_e(ruri, sizeof ruri, sip->sip_request->rq_url) <= 0)
    return 0;
  ruri[sizeof ruri - 1] = '\0';
  for (const sip_via_t *v = sip->sip_via; v; v = v->v_next) {
    char sent_by[96];
    if (v->v_port)
      snprintf(sent_by, sizeof sent_by, "%s:%s", v->v_host, v->v_port);
    else
      snprintf(sent_by, sizeof sent_by, "%s", v->v_host);
    if (strcmp(sent_by, ss->ep->sent_by) == 0 && strcmp(ruri, target) == 0)
      return 1;
  }
  return 0;
}
