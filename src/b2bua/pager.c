/*
 * MESSAGE relay outside a dialog (pager.h; RFC 3428). One relay per
 * sender's MESSAGE: it sends Cay's own MESSAGE to a target, waits for
 * its final response, and either answers the sender or tries the next
 * target. The sender's request is read from its server transaction at
 * each target (body, From, Max-Forwards, pass_headers). A target whose
 * host is a name is tried at each address DNS found, in turn, as an
 * INVITE is (RFC 3263 section 4.3, the walk of dialog/locate.c).
 */
#include "b2bua/pager.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "b2bua/bridge_int.h"
#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "dialog/auth.h"
#include "sip/msg.h"
#include "transport/dns.h"

typedef struct cay__pager {
  struct cay__pager *next, **pprev; /* in ss->pagers */
  cay__sessions_t *ss;
  cay_id_t id;              /* kind CAY__ID_PAGER: the TU of `out` */
  cay_id_t in;              /* the sender's MESSAGE (server transaction) */
  cay_id_t out;             /* ours to the current target, or 0 */
  cay__routes_t *routes;    /* held: route lives in it */
  const cay_route_t *route; /* the forward route that took it */
  cay__targets_t targets;   /* a location route's contacts, failover */
  cay__auth_t *auth;        /* the route's credentials, or NULL */
  cay__timer_t t_wait;      /* route.no_response_timeout_ms */
  const cay__peer_t *flow;  /* the contact's registered flow (in
                               targets), or NULL */
  unsigned locating : 1;    /* DNS is looking the target's host up */
  unsigned located : 1;     /* dst is an address DNS found */
  /* The addresses DNS found for the target after dst, to try in turn
   * (RFC 3263 section 4.3), or NULL (cay__malloc); n_hops are left. */
  cay__dns_target_t *hops;
  unsigned n_hops;
  /* The sender's MESSAGE for merge detection (pager_merge.c), or NULL. */
  struct cay__merge_rec *merge;
  /* A stored MESSAGE being delivered (pager_store.c): its request
   * (owned; `in` is 0: no sender waits), its box, when it came. */
  msg_t *stored;
  struct cay__store_box *box;
  char date[32];
  unsigned storing : 1; /* the AOR's shard is storing it (202 or 480) */
  uint32_t cseq;
  cay__peer_t dst;
  char target[CAY_CONFIG_TEXT_LEN + CAY__CONTACT_MAX];
  char path[CAY__PATH_MAX]; /* the target's Route (a Path), or "" */
  char call_id[96];
  char from[560]; /* the sender's From, our tag */
} pager_t;

static int try_next(pager_t *p, int status);
static void stored_answer(pager_t *p, int err);

static pager_t *
pager_of(cay__sessions_t *ss, cay_id_t id)
{
  return cay__idtab_get_kind(&ss->shard->ids, id, CAY__ID_PAGER);
}

/* The sender's MESSAGE, or NULL when its transaction is gone. */
static msg_t *
request_of(const pager_t *p)
{
  cay__txn_t *t = p->in ? cay__txn_lookup(p->ss->ep, p->in) : NULL;

  if (p->stored)
    return p->stored;
  return t ? cay__txn_request(t) : NULL;
}

static void
pager_free(pager_t *p)
{
  cay__sessions_t *ss = p->ss;

  cay__shard_timer_stop(p->ss->shard, &p->t_wait);
  if (p->pprev) {
    *p->pprev = p->next;
    if (p->next)
      p->next->pprev = p->pprev;
  }
  if (p->id)
    cay__idtab_remove(&p->ss->shard->ids, p->id);
  cay__pager_merge_done(ss, p->merge);
  cay__free(p->hops);
  cay__targets_free(&p->targets);
  cay__auth_free(p->auth);
  cay__routes_free(p->routes);
  if (p->stored)
    msg_destroy(p->stored);
  cay__free(p);
  cay__sessions_maybe_idle(ss); /* a drain waits for the relays too */
}

/* Answer the sender with @p status (@p phrase, NULL: the standard one;
 * @p lines: header lines, or NULL) and end the relay; a stored
 * MESSAGE's store learns the status instead. */
static void
finish(pager_t *p, int status, const char *phrase, const char *lines)
{
  cay__sessions_t *ss = p->ss;
  cay__txn_t *t = p->in ? cay__txn_lookup(ss->ep, p->in) : NULL;
  const char *const hdrs[] = { lines, NULL };
  struct cay__store_box *box = p->box;

  if (t)
    cay__session_reply(t, status, phrase, NULL, lines && *lines ? hdrs : NULL);
  pager_free(p);
  if (box) /* after: its next MESSAGE may go at once */
    cay__pager_store_done(ss, box, status);
}

/* Where the next hop of the current target (its Path's first URI, else
 * the target) is when it needs no DNS: an IP literal, with the URI's
 * transport (cay__url_proto()). @return 0, 1 (a host name: ask DNS
 * with *@p q), -EINVAL. */
static int
destination(pager_t *p, cay__dns_query_t *q, char *maddr, size_t len)
{
  char hop[CAY__PATH_MAX];
  url_t url;
  int err;

  if (cay__next_hop(p->path[0] ? p->path : NULL, p->target, hop, sizeof hop)
          != 0
      || url_d(&url, hop) < 0)
    return -EINVAL;
  if ((err = cay__uac_query(&url, q, maddr, len)) != 0)
    return err;
  (void)cay__url_dest(&url, &p->dst.addr);
  p->dst.proto = cay__url_proto(&url);
  p->dst.conn = 0;
  p->dst.flow = 0;
  return 0;
}

/* Our MESSAGE to the current target as bytes into the endpoint's
 * scratch: the sender's body and Content-Type, its From (our tag), the
 * target as Request-URI and To, one hop less (RFC 3261 section 16.6
 * item 3, as for a B leg), the header fields the route passes, and the
 * credentials of a challenge answered. @return the length, or < 0. */
static long
encode(pager_t *p, const sip_t *sip, msg_t *msg, const char *branch)
{
  cay__endpoint_t *ep = p->ss->ep;
  char to[CAY__CONTACT_MAX + CAY_CONFIG_TEXT_LEN + 3], ctype[256];
  char extra[CAY__PASS_MAX + 1024];
  const char *auth
      = p->auth ? cay__auth_line(p->auth, "MESSAGE", p->target) : "";
  size_t n;
  cay__req_text_t r
      = { .method_name = "MESSAGE",
          .ruri = p->target,
          .branch = branch,
          .route = p->path[0] ? p->path : NULL,
          .max_forwards
          = sip->sip_max_forwards ? sip->sip_max_forwards->mf_count : 71,
          .from = p->from,
          .to = to,
          .call_id = p->call_id,
          .cseq = p->cseq,
          .proto = p->dst.proto };

  snprintf(to, sizeof to, "<%s>", p->target);
  if (cay__route_pass_lines(p->route, msg, extra, CAY__PASS_MAX) != 0)
    CAY_INFO(SHARD_NO(p->ss),
             "message %s: a header not passed: it could not be encoded, or "
             "pass_headers came to more than %d bytes",
             sip->sip_call_id->i_id, CAY__PASS_MAX);
  n = strlen(extra);
  if (n + strlen(auth) >= sizeof extra)
    return -ENOSPC;
  memcpy(extra + n, auth, strlen(auth) + 1);
  n += strlen(auth);
  /* A stored MESSAGE says when it came (RFC 3261 section 20.17). */
  if (p->stored
      && snprintf(extra + n, sizeof extra - n, "Date: %s\r\n", p->date)
             >= (int)(sizeof extra - n))
    return -ENOSPC;
  r.extra = extra[0] ? extra : NULL;
  if (sip->sip_payload && sip->sip_payload->pl_len) {
    if ((r.ctype = cay__msg_content_type(sip, ctype, sizeof ctype)) == NULL)
      return -EINVAL;
    r.body = sip->sip_payload->pl_data;
    r.body_len = sip->sip_payload->pl_len;
  }
  r.sent_by = cay__endpoint_sent_by(ep, p->dst.proto);
  if (r.sent_by[0] == '\0')
    r.sent_by = ep->sent_by;
  return cay__msg_request_encode(&r, ep->scratch, sizeof ep->scratch);
}

/* Send our MESSAGE to p->dst as a new non-INVITE client transaction
 * (RFC 3261 section 17.1.2) whose responses come to this relay. */
static int
send_now(pager_t *p)
{
  cay__endpoint_t *ep = p->ss->ep;
  msg_t *msg = request_of(p), *req = NULL;
  char branch[32];
  long n;

  if (msg == NULL)
    return CAY_ESTATE;
  cay__endpoint_branch(ep, branch, sizeof branch);
  n = encode(p, sip_object(msg), msg, branch);
  if (n < 0)
    return (int)n;
  if (p->route->no_response_timeout_ms)
    (void)cay__shard_timer_start(p->ss->shard, &p->t_wait,
                                 p->route->no_response_timeout_ms);
  if (ep->hooks.out_message == NULL)
    return cay__txn_request_send_bytes(ep, ep->scratch, (size_t)n, branch,
                                       "MESSAGE", &p->dst, p->id, &p->out);
  /* An outgoing hook sees it (DESIGN.md section 4): as a msg_t. */
  if (cay__msg_parse(ep->scratch, (size_t)n, &req) != 0) {
    if (req)
      msg_destroy(req);
    return -ENOMEM;
  }
  return cay__txn_request_send(ep, req, &p->dst, p->id, &p->out);
}

/* Who our MESSAGE is, for the log lines of locate.c. */
static cay__locate_who_t
who_of(const pager_t *p)
{
  cay__locate_who_t w = { p->ss, "message", p->call_id, "MESSAGE", p->target };
  return w;
}

/* Send our MESSAGE to @p t, an address DNS found for the current
 * target. @return 0 or send_now()'s error (logged). */
static int
send_hop(pager_t *p, const cay__dns_target_t *t)
{
  char where[64] = "";
  int err;

  p->dst.addr = t->addr;
  p->dst.proto = t->proto;
  p->dst.conn = 0;
  p->dst.flow = 0;
  p->located = 1;
  (void)cay__addr_format(&t->addr, where, sizeof where);
  CAY_DEBUG(SHARD_NO(p->ss), "message %s: %s located at %s over %s", p->call_id,
            p->target, where, cay__proto_name(t->proto));
  if ((err = send_now(p)) != 0)
    CAY_INFO(SHARD_NO(p->ss), "message %s: MESSAGE to %s (%s) not sent: %s",
             p->call_id, p->target, where, cay_strerror(err));
  return err;
}

/* RFC 3263 section 4.3: our MESSAGE to an address DNS found failed with
 * @p status (a transport error or a 503, or no response: 408 of timer F
 * or of no_response_timeout_ms): the next address of the same target
 * gets a new one (a new transaction, CSeq one more: RFC 3261 section
 * 8.1.1.5). @return 1 when one went, 0 when no address is left. */
static int
next_hop(pager_t *p, int status)
{
  cay__locate_who_t w = who_of(p);
  cay__dns_target_t t;

  while (cay__locate_next(&w, status, p->hops, &p->n_hops, &t)) {
    p->out = 0;
    p->cseq++;
    if (send_hop(p, &t) == 0)
      return 1;
    status = 503; /* RFC 3261 section 8.1.3.1: a transport failure */
  }
  return 0;
}

void
cay__pager_located(pager_t *p, const cay__dns_target_t *t, size_t n)
{
  if (!p->locating || n == 0)
    return;
  p->locating = 0;
  p->n_hops = cay__locate_keep(t, n, &p->hops);
  if (send_hop(p, &t[0]) == 0 || next_hop(p, 503))
    return;
  (void)try_next(p, 503); /* as a transport failure (RFC 3263 4.3) */
}

static void
on_located(void *arg, uint64_t id, int err, const cay__dns_target_t *t,
           size_t n)
{
  pager_t *p = pager_of(arg, id);

  if (p == NULL || !p->locating)
    return;
  if (err == 0 && n > 0) {
    cay__pager_located(p, t, n);
    return;
  }
  p->locating = 0;
  CAY_INFO(SHARD_NO(p->ss), "message %s: %s not reached: %s", p->call_id,
           p->target, err ? cay_strerror(err) : "DNS found no target");
  (void)try_next(p, 503); /* as a transport failure (RFC 3263 4.3) */
}

/* Send to the current target (p->target, p->path, p->flow): now, or
 * once DNS has found its host. @return 0 or an error (nothing sent). */
static int
send_to(pager_t *p)
{
  cay__dns_query_t q;
  char maddr[256];
  int err;

  p->out = 0;
  p->cseq++; /* a new request to each target (RFC 3261 section 8.1.1.5) */
  cay__free(p->hops); /* the last target's addresses */
  p->hops = NULL;
  p->n_hops = 0;
  p->located = 0;
  if (p->flow) {
    p->dst = *p->flow;
    return send_now(p);
  }
  if ((err = destination(p, &q, maddr, sizeof maddr)) < 0)
    return err;
  if (err == 0)
    return send_now(p);
  if (p->ss->dns == NULL)
    return -EINVAL; /* a host name and no resolver */
  if ((err = cay__dns_locate(p->ss->dns, &q, on_located, p->ss, p->id)) != 0)
    return err;
  p->locating = 1;
  return 0;
}

/* The next target after one that failed with @p status (0: the first),
 * as cay__targets_next() gives them; for a forward route without
 * location the first is the route's own target. When none is left the
 * sender gets @p status mapped, and the relay ends. @return 1 when a
 * MESSAGE is on its way. */
static int
try_next(pager_t *p, int status)
{
  msg_t *msg = request_of(p);
  const sip_t *sip = msg ? sip_object(msg) : NULL;
  cay__target_t tg;
  cay__route_req_t req;
  const char *phrase = NULL;

  cay__shard_timer_stop(p->ss->shard, &p->t_wait);
  if (sip == NULL) {
    pager_free(p);
    return 0;
  }
  cay__route_req_of(&req, sip, NULL); /* for the failover templates */
  while (cay__targets_next(&p->targets, p->ss, p->route, &req, sip, &tg)) {
    const char *why = tg.why;
    int err;

    snprintf(p->target, sizeof p->target, "%s", tg.uri);
    snprintf(p->path, sizeof p->path, "%s", tg.path ? tg.path : "");
    p->flow = tg.flow;
    if (why == NULL && (err = send_to(p)) != 0)
      why = cay_strerror(err);
    if (why == NULL) {
      if (status)
        CAY_INFO(SHARD_NO(p->ss), "message %s: failed with %d: trying %s, %s",
                 p->call_id, status, tg.label, tg.uri);
      return 1;
    }
    CAY_INFO(SHARD_NO(p->ss), "message %s: %s (%s) not tried: %s", p->call_id,
             tg.label, tg.uri, why);
  }
  status = cay__bridge_map_failure(status, &phrase);
  CAY_INFO(SHARD_NO(p->ss), "message %s (%s): not delivered, %d",
           sip->sip_call_id->i_id, p->call_id, status);
  finish(p, status, phrase, NULL);
  return 0;
}

static void
on_wait(cay__timer_t *tm)
{
  pager_t *p = tm->data;
  cay__txn_t *t = cay__txn_lookup(p->ss->ep, p->out);

  if (p->storing) { /* the AOR's shard's answer was lost */
    stored_answer(p, -ETIMEDOUT);
    return;
  }
  /* A provisional response (a non-INVITE transaction keeps it to itself,
   * RFC 3261 section 17.1.2.2) says the target is there: timer F alone
   * decides from now on. */
  if (t && cay__txn_state(t) == CAY__TXN_PROCEEDING)
    return;
  CAY_INFO(SHARD_NO(p->ss),
           "message %s: %s sent no response in no_response_timeout_ms",
           p->call_id, p->target);
  p->out = 0; /* a late answer is not the sender's any more */
  if (p->located) {
    cay__locate_who_t w = who_of(p);
    cay__locate_heard(&w, &p->dst.addr, 408, NULL);
  }
  if (!next_hop(p, 408))
    (void)try_next(p, 408);
}

int
cay__pager_response(cay__sessions_t *ss, cay_id_t tu_id, cay_id_t txn_id,
                    int status, msg_t *msg)
{
  pager_t *p = pager_of(ss, tu_id);
  const sip_t *sip = msg ? sip_object(msg) : NULL;
  char lines[CAY__PASS_MAX];
  const char *why = NULL, *phrase = NULL;

  if (p == NULL)
    return 0;
  if (txn_id != p->out)
    return 1; /* a target given up already */
  p->out = 0;
  if (p->located) {
    cay__locate_who_t w = who_of(p);
    cay__locate_heard(&w, &p->dst.addr, status, sip);
  }
  if ((status == 401 || status == 407) && sip && p->auth
      && cay__auth_challenge(p->auth, status, sip, &ss->shard->rand, &why)
             == 0) {
    /* RFC 3261 section 22.2: the same target at the same address again,
     * CSeq one more. */
    p->cseq++;
    if (send_now(p) == 0)
      return 1;
  } else if (why) {
    CAY_INFO(SHARD_NO(ss), "message %s: %s challenged: %s", p->call_id,
             p->target, why);
  }
  if (status < 300) {
    if (p->box == NULL) /* a stored one counts as delivered */
      ss->shard->stats.messages_relayed++;
    if (cay__route_pass_lines(p->route, msg, lines, sizeof lines) != 0)
      lines[0] = '\0';
    CAY_DEBUG(SHARD_NO(ss), "message %s: %s answered %d", p->call_id, p->target,
              status);
    finish(p, status,
           sip && sip->sip_status ? sip->sip_status->st_phrase : NULL, lines);
    return 1;
  }
  /* RFC 3263 section 4.3: a transport error, a 503 or no response at
   * all (timer F) is that address's; the next one DNS found is tried. */
  if ((status == 503 || (status == 408 && sip == NULL)) && next_hop(p, status))
    return 1;
  if (status == 408 || status == 480 || status >= 500) {
    (void)try_next(p, status);
    return 1;
  }
  status = cay__bridge_map_failure(status, &phrase);
  if (phrase == NULL && sip && sip->sip_status)
    phrase = sip->sip_status->st_phrase;
  CAY_INFO(SHARD_NO(ss), "message %s: %s refused it: %d", p->call_id, p->target,
           status);
  finish(p, status, phrase, NULL);
  return 1;
}

/* The relay of MESSAGE @p sip, the request of @p t (NULL: a stored one),
 * by @p route, registered and listed. */
static pager_t *
pager_new(cay__sessions_t *ss, cay__txn_t *t, const cay_route_t *route,
          const sip_t *sip)
{
  pager_t *p = cay__calloc(1, sizeof *p);
  char tag[16], from[512];

  if (p == NULL)
    return NULL;
  p->ss = ss;
  p->in = t ? cay__txn_id(t) : 0;
  p->route = route;
  p->routes = cay__routes_hold(ss->routes);
  cay__timer_init(&p->t_wait, on_wait, p);
  cay__uac_call_id(ss, p->call_id, sizeof p->call_id);
  cay__rand_token(&ss->shard->rand, tag, 10);
  cay__bridge_from(sip, from, sizeof from);
  snprintf(p->from, sizeof p->from, "%s;tag=%s", from, tag); /* 8.1.1.3 */
  if ((route->auth_username[0]
       && (p->auth = cay__auth_new(route->auth_username, route->auth_password))
              == NULL)
      || cay__idtab_add_kind(&ss->shard->ids, p, CAY__ID_PAGER, &p->id) != 0) {
    pager_free(p);
    return NULL;
  }
  p->next = ss->pagers;
  if (p->next)
    p->next->pprev = &p->next;
  p->pprev = &ss->pagers;
  ss->pagers = p;
  /* RFC 3261 section 8.2.2.2: a copy of it by another path is merged
   * (without memory for the record, it would be relayed again). */
  if (t)
    p->merge = cay__pager_merge_add(ss, sip, p->in);
  return p;
}

/* The sender of relay @p p, whose AOR has no contact, learns what the
 * store did: 0 kept (202, RFC 3428 section 7), else 480. */
static void
stored_answer(pager_t *p, int err)
{
  if (err == 0)
    finish(p, 202, "Accepted - Stored", NULL);
  else if (err == -ENOSPC)
    finish(p, 480, "Temporarily Unavailable - Message Store Full", NULL);
  else
    finish(p, 480, "Temporarily Unavailable - Not Registered", NULL);
}

void
cay__pager_store_answer(cay__sessions_t *ss, cay_id_t pager, int err)
{
  pager_t *p = pager_of(ss, pager);

  if (p && p->storing)
    stored_answer(p, err);
}

void
cay__pager_deliver(cay__sessions_t *ss, const cay_route_t *route, msg_t *msg,
                   const char *date, struct cay__store_box *box)
{
  const sip_t *sip = sip_object(msg);
  pager_t *p = pager_new(ss, NULL, route, sip);

  if (p == NULL) {
    msg_destroy(msg);
    cay__pager_store_done(ss, box, 500);
    return;
  }
  p->stored = msg;
  p->box = box;
  snprintf(p->date, sizeof p->date, "%s", date);
  CAY_DEBUG(SHARD_NO(ss), "message %s: stored, sent as %s",
            sip->sip_call_id->i_id, p->call_id);
  if (cay__targets_look_up(&p->targets, ss, sip) != 0)
    finish(p, 480, NULL, NULL); /* no contact it may go to (RFC 5630) */
  else
    (void)try_next(p, 0); /* none to try: 500, kept */
}

void
cay__pager_start(cay__sessions_t *ss, cay__txn_t *t, const cay_route_t *route,
                 const char *target)
{
  const sip_t *sip = sip_object(cay__txn_request(t));
  pager_t *p = pager_new(ss, t, route, sip);
  int err;

  if (p == NULL) {
    cay__txn_reply(t, 500, "Server Internal Error - Out of Memory", NULL);
    return;
  }
  CAY_DEBUG(SHARD_NO(ss), "message %s: relayed as %s", sip->sip_call_id->i_id,
            p->call_id);
  if (!route->location) {
    /* The route's own target first, then its failover targets. */
    snprintf(p->target, sizeof p->target, "%s", target);
    if ((err = send_to(p)) != 0) {
      CAY_INFO(SHARD_NO(ss), "message %s: %s not tried: %s", p->call_id,
               p->target, cay_strerror(err));
      (void)try_next(p, 503);
    }
    return;
  }
  err = cay__targets_look_up(&p->targets, ss, sip);
  if (err == -EPERM) /* RFC 5630 sections 5.1.1 and 5.3 */
    finish(p, 480, NULL, ss->sips_not_allowed);
  else if (err)
    finish(p, 500, NULL, NULL);
  else if (p->targets.n_contacts == 0 && route->n_failover == 0) {
    /* Kept for the AOR's next REGISTER, when storing is on. */
    err = cay__pager_store_offer(ss, t, p->id);
    if (err == 1) { /* the AOR's shard answers, within timer F's time */
      p->storing = 1;
      (void)cay__shard_timer_start(ss->shard, &p->t_wait,
                                   64 * (uint64_t)ss->cfg.t1_ms);
    } else
      stored_answer(p, err);
  } else
    (void)try_next(p, 0); /* none to try: 500 */
}

void
cay__pager_fini(cay__sessions_t *ss)
{
  while (ss->pagers)
    finish(ss->pagers, 503, "Service Unavailable - Shutting Down", NULL);
  cay__pager_merge_fini(ss);
}
