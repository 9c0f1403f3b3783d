/*
 * Private to the bridge (bridge.c: the call and its offer/answer relay;
 * bridge_place.c: where the B leg goes, failover included;
 * bridge_request.c: INFO, REFER, NOTIFY and MESSAGE relayed;
 * bridge_replace.c: a new leg taking an old one's place, RFC 3891;
 * bridge_cdr.c: the call's detail record; and pager.c: a MESSAGE
 * outside a dialog, which shares the targets). Everything here runs on
 * the owner shard's loop.
 */
#ifndef CAY_B2BUA_BRIDGE_INT_H
#define CAY_B2BUA_BRIDGE_INT_H

#include "b2bua/bridge.h"
#include "b2bua/cdr.h"
#include "b2bua/route.h"
#include "dialog/session_int.h"
#include "registrar/registrar.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

/* An INFO, REFER or NOTIFY relayed: the copy we sent (its request id, on
 * leg to) and the request it answers (its request id, on the other). */
typedef struct info_relay {
  struct info_relay *next;
  cay_id_t copy, orig;
  cay_id_t to;
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

/* Where a forwarded request (a B leg's INVITE, a relayed MESSAGE) goes
 * next: for a location route the contacts the callee registered, in
 * turn, then the route's failover targets (bridge_place.c). */
typedef struct cay__targets {
  struct cay__contact *contacts; /* cay__malloc, or NULL */
  unsigned n_contacts, next_contact;
  unsigned next_target; /* the route's failover target to try next */
} cay__targets_t;

/* One target cay__targets_next() gave. */
typedef struct cay__target {
  char uri[CAY_CONFIG_TEXT_LEN + CAY__CONTACT_MAX];
  char label[32];          /* "contact 2", "failover[0]", for the log */
  const cay__peer_t *flow; /* the contact's registered flow, or NULL */
  const char *path;        /* its Path (a Route value), or NULL */
  const char *why;         /* not to be tried, and why; NULL: try it */
} cay__target_t;

/* "display" <uri> of @p sip's From, without its tag, into @p buf: the
 * From of what Cay sends on for it (a B leg's INVITE, a relayed MESSAGE;
 * the UAC adds a tag, RFC 3261 section 8.1.1.3). A URI that is not sip,
 * sips or tel, or that would end the name-addr early, becomes the
 * anonymous URI of 8.1.1.3. */
void cay__bridge_from(const sip_t *sip, char *buf, size_t len);

/* The contacts of @p sip's Request-URI AOR into @p tg (none when it is
 * not registered); for a sips: Request-URI only those reached over TLS
 * (RFC 5630 section 5.3). @return 0, -EPERM (a sips: Request-URI, and
 * every binding is reached without TLS), -ENOMEM. */
int cay__targets_look_up(cay__targets_t *tg, cay__sessions_t *ss,
                         const sip_t *sip);
/* The next target of @p tg into @p out: 1, or 0 when none is left. One
 * that is too long or would loop has out->why set; the caller logs it and
 * asks for the next. Borrowed pointers in @p out live as long as @p tg. */
int cay__targets_next(cay__targets_t *tg, const cay__sessions_t *ss,
                      const cay_route_t *route, const cay__route_req_t *req,
                      const sip_t *sip, cay__target_t *out);
/* Free the contacts (the struct is the caller's). */
void cay__targets_free(cay__targets_t *tg);

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
  /* A got a reliable provisional with B's SDP (RFC 3262): its offer is
   * answered, and another callee (failover) would not fit that answer. */
  unsigned early_answered : 1;
  /* B's SDP in its reliable provisional, which answered A's offer (RFC
   * 3262): A's 2xx carries it when B's 2xx has none and A's own early
   * dialog kept none (cay__session_t.early_oa); or NULL (cay__malloc). */
  char *b_early_sdp;
  cay__targets_t targets; /* B's next target after a failure */
  unsigned depth;         /* callbacks of this bridge on the stack */
  info_relay_t *infos;    /* requests relayed, awaiting the copy's answer */
  refer_map_t *refers;    /* REFERs relayed, newest first */
  /* RFC 3891: a new incoming leg (joining) that replaces leg replaced
   * once the other leg has answered the offer carried to it. */
  cay_id_t joining, replaced;
  cay_id_t join_ack;        /* the joined leg whose ACK holds the answer the
                               other leg's 2xx offer waits for */
  char *join_restore;       /* the other leg's SDP before the join, offered to
                               it again if the joining leg ends first */
  cay__cdr_t *cdr;          /* the call's record, or NULL (no ss->cdr_sink) */
  uint64_t start_ms;        /* A's INVITE taken (shard clock) */
  unsigned srd_counted : 1; /* its session request delay counted
                               (RFC 6076) */
} bridge_t;

static inline cay__session_t *
bridge_leg(bridge_t *br, cay_id_t id)
{
  return id ? cay__session_lookup(br->ss, id) : NULL;
}

/* The two legs' session callbacks (bridge.c). */
void cay__bridge_on_a(cay_session_t *s, const cay_session_event_t *ev,
                      void *arg);
void cay__bridge_on_b(cay_session_t *s, const cay_session_event_t *ev,
                      void *arg);
/* Free @p br once both legs have ended and no callback of it is on the
 * stack. */
void cay__bridge_maybe_free(bridge_t *br);
/* A NUL-terminated copy of @p len bytes of an offer with only the route's
 * codecs (*out NULL for none): 0, CAY_ENOCODEC or -ENOMEM. */
int cay__bridge_offer_copy(const cay_route_t *route, const char *body,
                           size_t len, char **out);
/* The status (and phrase, or NULL) the other side gets for a failure
 * @p status of a leg's INVITE, and of a request in the dialog. */
int cay__bridge_map_failure(int status, const char **phrase);
int cay__bridge_map_in_dialog(int status);

/* bridge_place.c: place the first B leg of @p br for A (@p a, whose
 * INVITE is @p msg / @p sip) to @p target, or for a location route to
 * the first registered contact that can be called, else the failover
 * targets: 0, CAY_ENOTFOUND (a location route: not registered, no
 * failover), or the placing's error (CAY_ENOCODEC, -ENOMEM, ...). B
 * failed with @p status before an answer: 1 when a new B leg is on its
 * way (a status to try another for, A still waits, A's offer not
 * answered reliably yet), else 0. */
int cay__bridge_place_first(bridge_t *br, cay__session_t *a, msg_t *msg,
                            const sip_t *sip, const char *target);
int cay__bridge_failover(bridge_t *br, int status);

/* bridge_request.c: an INFO, REFER or NOTIFY of @p from to leg @p to_id,
 * the other side's answer to a copy back to leg @p from_id, and the
 * bridge's lists freed. */
void cay__bridge_relay_request(bridge_t *br, cay__session_t *from,
                               cay_id_t to_id, const cay_session_event_t *ev);
void cay__bridge_relay_request_answer(bridge_t *br, cay_id_t from_id,
                                      const cay_session_event_t *ev);
void cay__bridge_requests_free(bridge_t *br);
/* Leg @p gone ended while copies sent to it wait for their answers (B
 * failed and another callee is called): the requests they relay, of
 * leg @p from_id, get 500 now (RFC 5057: the transaction failed, not the
 * dialog). */
void cay__bridge_requests_leg_gone(bridge_t *br, cay_id_t gone,
                                   cay_id_t from_id);

/* bridge_replace.c: the other leg (@p other) answered (@p ev) the offer
 * carried for the joining leg br->joining, which then takes the replaced
 * leg's place or is refused; the call ended while a leg was joining (it
 * gets 480). Each returns with the bridge consistent. */
void cay__bridge_join_answered(bridge_t *br, cay__session_t *other,
                               const cay_session_event_t *ev);
void cay__bridge_join_call_ended(bridge_t *br);

#endif
