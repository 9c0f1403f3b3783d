/*
 * A new leg takes an old one's place in a bridged call (RFC 3891): an
 * INVITE whose Replaces names a confirmed leg of a bridge. This is how an
 * attended transfer ends through a B2BUA: the transferee's INVITE names
 * the transferor's leg of the consultation call, and the transferee takes
 * that leg's place, talking to the transfer target.
 *
 *   new INVITE (Replaces: old leg) --> re-INVITE of the other leg with
 *                                      the new leg's offer (or without
 *                                      one, when the INVITE had none)
 *   other leg 2xx --> 200 to the new leg (its answer, or its offer, whose
 *                     answer in the new leg's ACK goes on in the other
 *                     leg's ACK); BYE to the old leg; the new leg is the
 *                     old one's side of the bridge from now
 *   other leg >= 300 --> the new leg refused (mapped as for a first
 *                        INVITE); the old leg stays
 *   the new leg ends first (CANCEL) --> a 2xx that comes later is undone:
 *                        the other leg is offered its old SDP again
 *   the call ends meanwhile --> the new leg gets 480
 */
#include <errno.h>
#include <string.h>

#include "b2bua/bridge_int.h"
#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"

static cay_id_t
other_of(const bridge_t *br, cay_id_t id)
{
  return id == br->a ? br->b : br->a;
}

/* The joining leg's own callback until it takes the old leg's place: it
 * ended first (CANCEL, or its transaction failed). */
static void
on_join(cay_session_t *s, const cay_session_event_t *ev, void *arg)
{
  bridge_t *br = arg;

  if (ev->kind != CAY_SESSION_EV_STATE
      || (ev->state != CAY_SESSION_TERMINATING
          && ev->state != CAY_SESSION_TERMINATED)
      || br->joining != s->id)
    return;
  /* The other leg's answer is still to come (br->joining stays): a 2xx
   * is undone then (cay__bridge_join_answered()). */
  CAY_INFO(SHARD_NO(br->ss), "bridge: %s ended before it replaced a leg",
           s->call_id);
  cay_session_set_cb(s, NULL, NULL);
}

int
cay__bridge_replace(cay__sessions_t *ss, cay__session_t *s, cay__session_t *old,
                    const sip_t *sip)
{
  bridge_t *br;
  cay__session_t *other;
  char *offer = NULL;
  int err;

  if (old->cb != cay__bridge_on_a && old->cb != cay__bridge_on_b)
    return CAY_ENOTFOUND;
  br = old->cb_arg;
  other = bridge_leg(br, other_of(br, old->id));
  if (!br->answered || br->joining || other == NULL
      || old->state != CAY__SESSION_CONFIRMED
      || other->state != CAY__SESSION_CONFIRMED)
    return CAY_ESTATE;
  /* What the other leg has now (NUL-terminated; a UAC leg's sdp_len is
   * not kept), before the offer changes it. */
  cay__free(br->join_restore);
  br->join_restore = other->sdp ? cay__strdup(other->sdp) : NULL;
  if (sip->sip_payload && sip->sip_payload->pl_len) {
    err = cay__bridge_offer_copy(br->route, sip->sip_payload->pl_data,
                                 sip->sip_payload->pl_len, &offer);
    if (err == 0)
      err = cay_session_modify(other, offer, 0);
    cay__free(offer);
  } else {
    err = cay_session_modify_without_offer(other);
  }
  if (err) {
    cay__free(br->join_restore);
    br->join_restore = NULL;
    return err;
  }
  br->joining = s->id;
  br->replaced = old->id;
  s->bridged = 1;
  cay_session_set_cb(s, on_join, br);
  CAY_INFO(SHARD_NO(ss), "bridge: %s replaces %s (RFC 3891): offer to %s",
           s->call_id, old->call_id, other->call_id);
  return 0;
}

/* The joining leg ended, or was refused, after the other leg answered
 * the offer carried for it: that 2xx is undone by offering the other leg
 * its SDP of before (RFC 3261 section 14), whose answer goes nowhere. A
 * 2xx that was itself an offer (a join without one) needs no undo: its ACK
 * carries Cay's own answer, which keeps the media of before
 * (modify_out.c). */
static void
restore(bridge_t *br, cay__session_t *other, const cay_session_event_t *ev)
{
  if (ev->status < 200 || ev->status >= 300 || br->join_restore == NULL
      || (other->mod && other->mod->out_ack_pending))
    return;
  if (cay_session_modify(other, br->join_restore, 0) != 0)
    CAY_WARN(SHARD_NO(br->ss),
             "bridge: %s: took the offer of a leg that did not join, and "
             "could not be offered its old SDP again",
             other->call_id);
}

/* The joining leg @p s is answered with the other leg's 2xx (@p ev) and
 * takes the old leg's place, which gets BYE (RFC 3891 section 3).
 * @return 0, or the status @p s is refused with. */
static int
take_place(bridge_t *br, cay__session_t *s, cay__session_t *other,
           const cay_session_event_t *ev)
{
  cay__session_t *old = bridge_leg(br, br->replaced);
  int offer = other->mod && other->mod->out_ack_pending;
  char *sdp = NULL;
  int err;

  if (offer)
    err = cay__bridge_offer_copy(br->route, ev->body, ev->body_len, &sdp);
  else
    err = (sdp = cay__strndup(ev->body, ev->body_len)) ? 0 : -ENOMEM;
  if (err == 0)
    err = cay_session_answer(s, sdp);
  cay__free(sdp);
  if (err)
    return err == CAY_ENOCODEC ? 488 : 500;
  if (offer) {
    cay_session_defer_offer(other); /* its ACK waits for s's (acked()) */
    br->join_ack = s->id;
  }
  if (br->replaced == br->a)
    br->a = s->id;
  else
    br->b = s->id;
  cay_session_set_cb(s, br->a == s->id ? cay__bridge_on_a : cay__bridge_on_b,
                     br);
  s->pass_route = br->route->n_pass_headers ? br->route : NULL;
  CAY_INFO(SHARD_NO(br->ss), "bridge: %s took the place of %s: BYE to it",
           s->call_id, old ? old->call_id : "?");
  if (old) {
    cay_session_set_cb(old, NULL, NULL);
    cay__session_hangup(old);
  }
  return 0;
}

void
cay__bridge_join_answered(bridge_t *br, cay__session_t *other,
                          const cay_session_event_t *ev)
{
  cay__session_t *s = bridge_leg(br, br->joining);
  const char *phrase = NULL;
  int status;

  br->joining = 0;
  if (s == NULL || s->state == CAY__SESSION_TERMINATING
      || s->state == CAY__SESSION_TERMINATED) {
    restore(br, other, ev);
    cay__free(br->join_restore);
    br->join_restore = NULL;
    return;
  }
  if (ev->status >= 200 && ev->status < 300 && ev->body && ev->body_len)
    status = take_place(br, s, other, ev);
  else if (ev->status >= 300)
    status = cay__bridge_map_failure(ev->status, &phrase);
  else
    status = 488; /* 13.2.1: a 2xx to an offer holds the answer */
  if (status) {
    CAY_INFO(SHARD_NO(br->ss), "bridge: %s not joined: %d from %s", s->call_id,
             ev->status, other->call_id);
    restore(br, other, ev);
    cay_session_set_cb(s, NULL, NULL);
    cay_session_reject(s, status, phrase, NULL);
  }
  cay__free(br->join_restore);
  br->join_restore = NULL;
}

void
cay__bridge_join_call_ended(bridge_t *br)
{
  cay__session_t *s = bridge_leg(br, br->joining);

  br->joining = 0;
  if (s == NULL)
    return;
  cay_session_set_cb(s, NULL, NULL);
  cay_session_reject(s, 480, "Temporarily Unavailable - Call Ended", NULL);
}
