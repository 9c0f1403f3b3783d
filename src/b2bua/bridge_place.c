/*
 * Where the bridge's B leg goes (bridge.c runs the call): the route's
 * target, or for a location route the contacts the callee registered
 * (each over its REGISTER's flow where the binding says so, RFC 5626),
 * then the route's failover targets when B fails before an answer; never
 * back to where the INVITE came from through this Cay (a loop).
 */
#include "b2bua/bridge_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "registrar/registrar.h"

/* "display" <uri> of A's From, without its tag: the B leg's From (a new
 * tag is added by the UAC, 8.1.1.3). A URI that is not sip, sips or tel,
 * or that printed holds a character that would end the name-addr early,
 * becomes the anonymous URI of RFC 3261 section 8.1.1.3: B must get a
 * From it can parse whatever A sent. */
void
cay__bridge_from(const sip_t *sip, char *buf, size_t len)
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

/* Place the B leg of @p br to @p target for A (@p a, whose INVITE is
 * @p msg / @p sip): A's offer with the route's codecs only, A's From, the
 * header fields the route passes, one hop less; over @p flow when a
 * registered contact is reached by its REGISTER's flow (else NULL).
 * @return 0 (br->b set), CAY_ENOCODEC, -ENOMEM, or
 * cay__session_invite_opts()'s error. */
static int
place_b(bridge_t *br, cay__session_t *a, msg_t *msg, const sip_t *sip,
        const char *target, const cay__peer_t *flow, const char *path)
{
  const cay_route_t *route = br->route;
  cay__invite_opts_t o;
  cay__session_t *b;
  char from[512], *offer = NULL, passed[CAY__PASS_MAX];
  int err = 0;

  if (!br->delayed_offer)
    err = cay__bridge_offer_copy(route, sip->sip_payload->pl_data,
                                 sip->sip_payload->pl_len, &offer);
  if (err)
    return err;
  cay__bridge_from(sip, from, sizeof from);
  if (cay__route_pass_lines(route, msg, passed, sizeof passed) != 0)
    CAY_INFO(SHARD_NO(br->ss),
             "bridge: %s: a header not passed to the callee: it could not be "
             "encoded, or pass_headers came to more than %d bytes",
             a->call_id, CAY__PASS_MAX);
  memset(&o, 0, sizeof o);
  o.headers = passed;
  o.pass = route->n_pass_headers ? route : NULL;
  o.uri = target;
  o.flow = flow;
  o.route = path;
  o.from = from;
  o.sdp = offer;
  o.cb = cay__bridge_on_b;
  o.arg = br;
  o.bridged = 1;
  o.no_response_ms = route->no_response_timeout_ms;
  o.auth_username = route->auth_username; /* "" = none */
  o.auth_password = route->auth_password;
  /* RFC 3261 section 16.6 item 3, as a proxy would: one hop less. */
  o.max_forwards
      = sip->sip_max_forwards ? (unsigned)sip->sip_max_forwards->mf_count : 71;
  err = cay__session_invite_opts(br->ss, &o, &b);
  cay__free(offer);
  if (err == 0) {
    char via[72] = "";
    br->b = b->id;
    if (br->cdr)
      cay__cdr_placed(br->cdr, target, b->call_id);
    if (flow && !flow->flow) /* RFC 5923 section 1 */
      strcpy(via, " on the connection it registered over");
    else if (flow) {
      strcpy(via, " over ");
      (void)cay__addr_format_proto(flow->proto, &flow->addr, via + 6,
                                   sizeof via - 6);
    }
    CAY_DEBUG(SHARD_NO(br->ss), "bridge: %s -> %s%s (%s)", a->call_id, target,
              via, b->call_id);
  }
  return err;
}

int
cay__targets_next(cay__targets_t *tg, const cay__sessions_t *ss,
                  const cay_route_t *route, const cay__route_req_t *req,
                  const sip_t *sip, cay__target_t *out)
{
  out->flow = NULL;
  out->path = NULL;
  out->why = NULL;
  if (tg->next_contact < tg->n_contacts) {
    const cay__contact_t *c = &tg->contacts[tg->next_contact++];
    snprintf(out->label, sizeof out->label, "contact %u", tg->next_contact);
    snprintf(out->uri, sizeof out->uri, "%s", c->uri);
    if (c->by_flow)
      out->flow = &c->flow;
    if (c->path[0]) /* RFC 3327 section 5.3 */
      out->path = c->path;
  } else if (tg->next_target < route->n_failover) {
    unsigned i = tg->next_target++;
    snprintf(out->label, sizeof out->label, "failover[%u]", i);
    if (cay__route_failover_target(route, i, req, out->uri, sizeof out->uri)
        < 0)
      out->why = "the target is too long";
  } else {
    return 0;
  }
  if (out->why == NULL && cay__bridge_is_loop(ss, sip, out->uri))
    out->why = "it would loop (RFC 3261 section 16.3 item 4)";
  return 1;
}

void
cay__targets_free(cay__targets_t *tg)
{
  cay__free(tg->contacts);
  memset(tg, 0, sizeof *tg);
}

/* The next target of @p br after the one that failed (cay__targets_next()):
 * a target that cannot be called is passed over. @return 1 when a new B
 * leg is on its way, 0 when none is left. */
static int
place_next(bridge_t *br, cay__session_t *a, msg_t *msg, const sip_t *sip,
           const cay__route_req_t *req, int status)
{
  cay__target_t tg;

  while (cay__targets_next(&br->targets, br->ss, br->route, req, sip, &tg)) {
    const char *why = tg.why;
    int err;

    if (why == NULL
        && (err = place_b(br, a, msg, sip, tg.uri, tg.flow, tg.path)) != 0)
      why = cay_strerror(err);
    if (why == NULL) {
      if (status)
        CAY_INFO(SHARD_NO(br->ss),
                 "bridge: %s: the callee failed with %d: trying %s, %s",
                 a->call_id, status, tg.label, tg.uri);
      return 1;
    }
    CAY_INFO(SHARD_NO(br->ss), "bridge: %s: %s (%s) not tried: %s", a->call_id,
             tg.label, tg.uri, why);
  }
  return 0;
}

/* B failed with @p status before an answer: place the call to the next
 * target (place_next()), when the status is one to try another for
 * (408: no response; 480; a 5xx, a transport failure's 503 too), A still
 * waits, and A had no reliable provisional with B's SDP (its offer is
 * answered: another callee's answer would not fit). @return 1 when a new
 * B leg is on its way. */
int
cay__bridge_failover(bridge_t *br, int status)
{
  cay__session_t *a = bridge_leg(br, br->a);
  cay__txn_t *t;
  msg_t *msg;
  cay__addr_t src;
  cay__route_req_t req;

  if (br->answered || br->no_codec || br->early_answered || a == NULL
      || (a->state != CAY__SESSION_INCOMING && a->state != CAY__SESSION_EARLY)
      || !(status == 408 || status == 480 || (status >= 500 && status < 600))
      || (t = cay__txn_lookup(br->ss->ep, a->invite_txn)) == NULL
      || (msg = cay__txn_request(t)) == NULL)
    return 0;
  /* A's INFOs in the old B leg's early dialog are answered now: the next
   * callee never saw them (RFC 6086 section 4.2.1). */
  cay__bridge_requests_leg_gone(br, br->b, br->a);
  cay__txn_source(t, &src);
  cay__route_req_of(&req, sip_object(msg), &src);
  if (!place_next(br, a, msg, sip_object(msg), &req, status))
    return 0;
  br->b_done = 0;
  cay__free(br->b_early_sdp); /* the old B leg's */
  br->b_early_sdp = NULL;
  return 1;
}

/* 1 when a call to contact @p c goes over TLS on every hop Cay controls
 * (RFC 3261 section 26.2.2): a sips: contact, one with transport=tls, or
 * one reached on its TLS or WSS flow. */
static int
contact_secure(const cay__contact_t *c)
{
  char buf[CAY__CONTACT_MAX];
  size_t n = strnlen(c->uri, sizeof c->uri);
  url_t url;

  if (c->by_flow)
    return cay__proto_secure(c->flow.proto);
  if (n >= sizeof buf)
    return 0;
  memcpy(buf, c->uri, n + 1); /* url_d() writes into it */
  return url_d(&url, buf) >= 0
         && (url.url_type == url_sips || url_has_param(&url, "transport=tls"));
}

int
cay__targets_look_up(cay__targets_t *tg, cay__sessions_t *ss, const sip_t *sip)
{
  char aor[CAY__AOR_MAX];
  cay__contact_t found[CAY__LOOKUP_MAX];
  unsigned n;

  tg->n_contacts = 0;
  if (cay__aor_of(sip->sip_request->rq_url, aor) < 0)
    return 0; /* no user: nobody registers there */
  n = cay__registrar_lookup(ss->reg, aor, found, CAY__LOOKUP_MAX);
  for (unsigned i = 0; i < n; i++)
    if (sip->sip_request->rq_url->url_type != url_sips
        || contact_secure(&found[i]))
      found[tg->n_contacts++] = found[i];
  if (n > 0 && tg->n_contacts == 0)
    return -EPERM;
  if (tg->n_contacts == 0)
    return 0;
  tg->contacts = cay__malloc(tg->n_contacts * sizeof found[0]);
  if (tg->contacts == NULL) {
    tg->n_contacts = 0;
    return -ENOMEM;
  }
  memcpy(tg->contacts, found, tg->n_contacts * sizeof found[0]);
  return 0;
}

/* The first B leg of @p br: to @p target, or for a location route to
 * the first contact that can be called, else the failover targets.
 * @return 0, CAY_ENOTFOUND (a location route: not registered, no
 * failover), -EPERM (see look_up()), or place_b()'s error. */
int
cay__bridge_place_first(bridge_t *br, cay__session_t *a, msg_t *msg,
                        const sip_t *sip, const char *target)
{
  cay__txn_t *t = cay__txn_lookup(br->ss->ep, a->invite_txn);
  cay__addr_t src;
  cay__route_req_t req;
  int err;

  if (!br->route->location)
    return place_b(br, a, msg, sip, target, NULL, NULL);
  if ((err = cay__targets_look_up(&br->targets, br->ss, sip)) != 0)
    return err;
  if (t)
    cay__txn_source(t, &src);
  cay__route_req_of(&req, sip, t ? &src : NULL);
  return place_next(br, a, msg, sip, &req, 0) ? 0 : CAY_ENOTFOUND;
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
