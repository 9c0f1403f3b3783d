/*
 * The UAS core (RFC 3261 section 8.2): what happens to a new request
 * before or instead of a session: method and extension checks, OPTIONS,
 * CANCEL, in-dialog requests.
 */
#include "dialog/session_int.h"

#include <stdio.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "b2bua/bridge.h"
#include "b2bua/pager.h"
#include "b2bua/route.h"
#include "registrar/registrar.h"

#define SHARD_NO(ss) ((int)(ss)->shard->index)

static void
reply_with(cay__txn_t *t, int status, const char *phrase, const char *tag,
           const char *const *headers)
{
  cay__session_reply(t, status, phrase, tag, headers);
}

/* The Allow line of an answer in a dialog (a bridged leg's lists what
 * the bridge relays too) or, @p s NULL, outside one: REGISTER too when a
 * route takes it (section 10.3), MESSAGE when a forward route may relay
 * it (RFC 3428). */
static const char *
allow_line(const cay__sessions_t *ss, const cay__session_t *s)
{
  int reg = cay__routes_have(ss->routes, CAY_ROUTE_REGISTER);
  int fwd = cay__routes_have(ss->routes, CAY_ROUTE_FORWARD);

  if (s)
    return s->bridged ? "Allow: " CAY_ALLOW_BRIDGED : "Allow: " CAY_ALLOW;
  if (reg && fwd)
    return "Allow: " CAY_ALLOW ", MESSAGE, REGISTER";
  if (fwd)
    return "Allow: " CAY_ALLOW ", MESSAGE";
  return reg ? "Allow: " CAY_ALLOW ", REGISTER" : "Allow: " CAY_ALLOW;
}

/* 11.2: 200 with what Cay accepts and supports; @p allow from
 * allow_line(). */
static void
reply_options(cay__txn_t *t, const char *tag, const char *allow)
{
  const char *const hdrs[]
      = { allow, "Accept: " CAY_ACCEPT, "Supported: " CAY_SUPPORTED, NULL };

  reply_with(t, 200, NULL, tag, hdrs);
}

void
cay__reply_405(cay__txn_t *t)
{
  /* 8.2.1: 405 lists the methods Cay does allow. */
  static const char *const hdrs[] = { "Allow: " CAY_ALLOW, NULL };
  reply_with(t, 405, NULL, NULL, hdrs);
}

/* Option tags Cay implements in request @p sip: 100rel (RFC 3262), timer
 * (RFC 4028), replaces (RFC 3891 section 6.2); in a REFER in a dialog,
 * norefersub (RFC 4488 section 4), which is the REFER-Recipient's: the
 * bridge requires it of the other side, whose 420 it relays, and a
 * dialog without a bridge answers REFER 405 anyway. */
static int
is_supported(const char *tag, const sip_t *sip)
{
  return strcasecmp(tag, "100rel") == 0 || strcasecmp(tag, "timer") == 0
         || strcasecmp(tag, "replaces") == 0
         || (strcasecmp(tag, "norefersub") == 0
             && sip->sip_request->rq_method == sip_method_refer
             && sip->sip_to->a_tag);
}

/* 8.2.2.3: any option in Require that Cay does not support gets 420 with
 * an Unsupported header naming them. */
static int
check_require(cay__txn_t *t, const sip_t *sip)
{
  char line[512];
  size_t off;
  int n = 0;
  const char *const hdrs[] = { line, NULL };

  if (sip->sip_require == NULL || sip->sip_require->k_items == NULL)
    return 0;
  off = (size_t)snprintf(line, sizeof line, "Unsupported: ");
  for (msg_param_t const *p = sip->sip_require->k_items; *p; p++) {
    if (is_supported(*p, sip))
      continue;
    off += (size_t)snprintf(line + off,
                            off < sizeof line ? sizeof line - off : 0, "%s%s",
                            n++ ? ", " : "", *p);
  }
  if (n == 0)
    return 0;
  if (off >= sizeof line)
    snprintf(line, sizeof line, "Unsupported: %s",
             sip->sip_require->k_items[0]);
  reply_with(t, 420, NULL, NULL, hdrs);
  return 1;
}

/* 8.2.3: a body Cay cannot handle gets 415 with Accept. Multipart bodies
 * are refused here, never handed to a multipart parser. */
static int
check_content(cay__txn_t *t, const sip_t *sip)
{
  static const char *const hdrs[] = { "Accept: " CAY_ACCEPT, NULL };
  const sip_content_type_t *ct = sip->sip_content_type;

  if (sip->sip_payload == NULL || sip->sip_payload->pl_len == 0)
    return 0;
  if (ct && ct->c_type && strcasecmp(ct->c_type, "application/sdp") == 0
      && (sip->sip_content_encoding == NULL
          || sip->sip_content_encoding->k_items == NULL
          || sip->sip_content_encoding->k_items[0] == NULL))
    return 0;
  reply_with(t, 415, NULL, NULL, hdrs);
  return 1;
}

static void
handle_cancel(cay__sessions_t *ss, cay__txn_t *t, sip_t *sip)
{
  cay__txn_t *inv = cay__txn_find_cancelled(ss->ep, sip);
  cay__session_t *s;

  if (inv == NULL) {
    /* 9.2: no transaction to cancel. */
    cay__txn_reply(t, 481, NULL, NULL);
    return;
  }
  s = cay__session_lookup(ss, cay__txn_tu(inv));
  /* 9.2: the CANCEL is answered 200 (with the tag of our responses to the
   * INVITE), then the INVITE 487 if it had no final response yet. The
   * 200 lets the CANCEL go; the session may pass on some of it. */
  msg_t *cancel = msg_ref_create(cay__txn_request(t));
  cay__txn_reply(t, 200, NULL, s ? s->local_tag : NULL);
  if (s)
    cay__session_cancel(s, inv, cancel);
  msg_destroy(cancel);
}

static void
handle_in_dialog(cay__sessions_t *ss, cay__txn_t *t, sip_t *sip)
{
  sip_method_t m = sip->sip_request->rq_method;
  cay__session_t *s = cay__session_find(ss, sip);
  uint32_t cseq = sip->sip_cseq->cs_seq;

  if (s == NULL) {
    /* 12.2.2: a request for a dialog Cay does not have. */
    cay__txn_reply(t, 481, NULL, NULL);
    return;
  }
  if (cseq < s->remote_cseq) {
    /* 12.2.2: lower CSeq than the remote sequence number gets 500. */
    cay__txn_reply(t, 500, "Server Internal Error - CSeq Out of Order", NULL);
    return;
  }
  s->remote_cseq = cseq;
  switch (m) {
  case sip_method_bye:
    cay__session_remote_bye(s, t);
    break;
  case sip_method_options:
    reply_options(t, NULL, allow_line(ss, s));
    break;
  case sip_method_invite: /* 14.2 */
  case sip_method_update: /* RFC 3311 */
    cay__mod_request(s, t, sip);
    break;
  case sip_method_info:    /* RFC 6086 */
  case sip_method_refer:   /* RFC 3515 */
  case sip_method_notify:  /* RFC 6665 */
  case sip_method_message: /* RFC 3428 section 4 */
    cay__info_received(s, t, sip);
    break;
  case sip_method_prack: /* RFC 3262 section 3 */
    cay__session_prack(s, t, sip);
    break;
  default:
    cay__reply_405(t);
    break;
  }
}

/* Give a new incoming session to the embedder (cay_server_on_session). */
static void
hand_over(cay__sessions_t *ss, cay__session_t *s, cay__txn_t *t,
          const sip_t *sip)
{
  char ruri[512], from[512], to[512], source[64];
  cay_incoming_t in = { ruri, from, to, source, NULL, 0 };
  cay__addr_t src;

  if (url_e(ruri, sizeof ruri, sip->sip_request->rq_url) <= 0)
    ruri[0] = '\0';
  ruri[sizeof ruri - 1] = '\0';
  if (msg_header_field_e(from, sizeof from, (const msg_header_t *)sip->sip_from,
                         0)
      <= 0)
    from[0] = '\0';
  if (msg_header_field_e(to, sizeof to, (const msg_header_t *)sip->sip_to, 0)
      <= 0)
    to[0] = '\0';
  from[sizeof from - 1] = to[sizeof to - 1] = '\0';
  cay__txn_source(t, &src);
  cay__addr_format(&src, source, sizeof source);
  if (sip->sip_payload && sip->sip_payload->pl_len) {
    in.sdp = sip->sip_payload->pl_data;
    in.sdp_len = sip->sip_payload->pl_len;
  }
  /* The embedder answers now or later (the transaction has sent 100
   * Trying); it may also end the session right here. */
  ss->on_incoming(s, &in, ss->incoming_arg);
}

/* The routes refused request @p sip (transaction @p t): its final
 * response, counted in *@p rejected; an INVITE's record first (the
 * reply may free the request). */
static void
route_refused(cay__sessions_t *ss, cay__txn_t *t, const sip_t *sip, int status,
              const char *phrase, uint64_t *rejected)
{
  (*rejected)++;
  if (sip->sip_request->rq_method == sip_method_invite)
    cay__bridge_rejected(ss, t, sip, status);
  cay__txn_reply(t, status, phrase, NULL);
}

/* The `routes:` decision for an initial INVITE or a MESSAGE (first match
 * wins): 404 without a match, the route's rejection, or 482 for a forward
 * that loops (route_refused()).
 * @return 1 when the INVITE was answered here, else 0 with *route set
 * (NULL: no routes configured, answer as usual) and, for a forward,
 * @p target expanded. */
static int
pick_route(cay__sessions_t *ss, cay__txn_t *t, const sip_t *sip,
           const cay_route_t **route, char *target, size_t len,
           uint64_t *rejected)
{
  cay__addr_t src;
  cay__route_req_t req;
  const cay_route_t *r;

  cay__txn_source(t, &src);
  cay__route_req_of(&req, sip, &src);
  *route = NULL;
  if (ss->routes == NULL || cay__routes_count(ss->routes) == 0)
    return 0;
  r = cay__routes_match(ss->routes, &req);
  if (r == NULL) {
    route_refused(ss, t, sip, 404, "Not Found - No Route", rejected);
    return 1;
  }
  if (r->action == CAY_ROUTE_REJECT) {
    route_refused(ss, t, sip, (int)r->code, r->reason[0] ? r->reason : NULL,
                  rejected);
    return 1;
  }
  /* RFC 3261 section 22.3: the caller proves it is the From's user. */
  if (r->authenticate
      && cay__digest_check(ss->reg, &ss->cfg, t, sip,
                           sip->sip_from->a_url->url_user, 1))
    return 1;
  if (r->action == CAY_ROUTE_FORWARD && r->location) {
    /* The bridge looks the callee up (its contacts are its targets). */
    snprintf(target, len, "the contacts of the Request-URI's AOR");
  } else if (r->action == CAY_ROUTE_FORWARD) {
    if (cay__route_target(r, &req, target, len) < 0) {
      route_refused(ss, t, sip, 500, "Server Internal Error - Target Too Long",
                    rejected);
      return 1;
    }
    if (cay__bridge_is_loop(ss, sip, target)) {
      /* RFC 3261 section 16.3 item 4: the request came back to us. */
      route_refused(ss, t, sip, 482, NULL, rejected);
      return 1;
    }
  }
  *route = r;
  return 0;
}

/* An answer route with `codecs:`: answer the offer with only those codecs
 * (built-in answering otherwise). */
static int
answer_filtered(cay__session_t *s, const sip_t *sip, const cay_route_t *r)
{
  const char *names[CAY_ROUTE_MAX_CODECS];
  char *offer = NULL;
  size_t len;
  int err;

  s->manual = 0;
  if (sip->sip_payload == NULL || sip->sip_payload->pl_len == 0)
    return cay__session_auto_sdp(s, sip);
  for (unsigned i = 0; i < r->n_codecs; i++)
    names[i] = r->codecs[i];
  err = cay__sdp_filter(sip->sip_payload->pl_data, sip->sip_payload->pl_len,
                        names, r->n_codecs, &offer, &len);
  if (err == 0)
    err = cay__session_answer_sdp(s, offer, len, &s->sdp, &s->sdp_len);
  cay__free(offer);
  return err;
}

/* A new request (an INVITE, a MESSAGE) that comes while the shard
 * drains or is overloaded gets 503. @return 1 when it was answered so. */
static int
busy_refused(cay__sessions_t *ss, cay__txn_t *t)
{
  static const char *const retry[] = { "Retry-After: 5", NULL };
  static const char *const retry_soon[] = { "Retry-After: 1", NULL };

  if (ss->draining) {
    reply_with(t, 503, "Service Unavailable - Shutting Down", NULL, retry);
    return 1;
  }
  if (!ss->shard->backlogged)
    return 0;
  /* DESIGN.md section 7: read from a UDP receive queue over
   * limits.udp_overload_percent or a TCP connection over
   * limits.tcp_overload_kib. A transaction of its own absorbs the copies
   * of this request still queued behind it, which would otherwise start
   * the call after its caller took the 503. The Retry-After is short:
   * the queue drains in milliseconds, and a longer one turns a burst into
   * seconds of refused calls at every upstream that honours it (RFC 3261
   * section 21.5.4). */
  ss->shard->stats.overload_rejected++;
  reply_with(t, 503, "Service Unavailable - Overloaded", NULL, retry_soon);
  return 1;
}

/* A new INVITE that is refused before any route is picked: draining or
 * overloaded (503), merged (482), without a usable Contact or with a body
 * Cay does not take (400, 415). @return 1 when it was answered so. */
static int
invite_refused(cay__sessions_t *ss, cay__txn_t *t, sip_t *sip)
{
  if (busy_refused(ss, t)) {
    /* answered */
  } else if (cay__session_merged(ss, sip)) {
    /* 8.2.2.2: the same INVITE again by another path (its Call-ID, From
     * tag and CSeq, another branch): one call, not two. */
    cay__txn_reply(t, 482, "Loop Detected - Merged Request", NULL);
  } else if (!cay__contact_usable(sip->sip_contact)) {
    /* 8.1.1.8: an INVITE must name its Contact, a SIP URI Cay can send
     * the dialog's requests to (12.1.1). */
    cay__txn_reply(t, 400,
                   sip->sip_contact ? "Bad Request - Bad Contact"
                                    : "Bad Request - Missing Contact",
                   NULL);
  } else if (!check_content(t, sip)) {
    return 0;
  }
  ss->shard->stats.calls_rejected++;
  return 1;
}

/* The session for a new INVITE could not be made (@p err): say why. */
static void
reply_not_created(cay__sessions_t *ss, cay__txn_t *t, int err)
{
  ss->shard->stats.calls_rejected++;
  if (err == CAY_ENOCODEC)
    cay__txn_reply(t, 488, "Not Acceptable Here - No Common Codec", NULL);
  else if (err == CAY_EPARSE)
    cay__txn_reply(t, 400, "Bad Request - Malformed SDP", NULL);
  else
    cay__txn_reply(t, 500, "Server Internal Error - Out of Memory", NULL);
}

/* RFC 4028 section 9: the session timer the caller of new session @p s
 * asks for; one shorter than our Min-SE gets 422 and @p s is destroyed.
 * @return 1 when so. */
static int
stimer_refused(cay__sessions_t *ss, cay__txn_t *t, const sip_t *sip,
               cay__session_t *s)
{
  char lines[64];
  const char *const hdrs[] = { lines, NULL };

  if (cay__stimer_on_request(ss->cfg.min_se_s, sip, &s->st, lines, sizeof lines)
      != 422)
    return 0;
  cay__bridge_rejected(ss, t, sip, 422); /* its record first */
  reply_with(t, 422, NULL, NULL, hdrs);
  ss->shard->stats.calls_rejected++;
  s->end_status = 422;
  cay__session_destroy(s);
  return 1;
}

/* The status and phrase for a Replaces header naming @p old (NULL: no
 * such dialog) that cannot be taken (RFC 3891 section 3), or 0. Only a
 * confirmed dialog is replaced: an early one gets 481 whichever side
 * began it (Cay does not pick up calls). */
static int
replaces_refused(const sip_replaces_t *rp, const cay__session_t *old,
                 const char **phrase)
{
  if (old == NULL || old->state == CAY__SESSION_CALLING
      || old->state == CAY__SESSION_INCOMING || old->state == CAY__SESSION_EARLY
      || old->state == CAY__SESSION_ANSWERED) {
    *phrase = "Call/Transaction Does Not Exist - Replaces Names No Dialog";
    return 481;
  }
  if (old->state != CAY__SESSION_CONFIRMED) {
    *phrase = "Decline - Replaced Dialog Has Ended";
    return 603;
  }
  if (rp->rp_early_only) {
    *phrase = "Busy Here - Replaced Dialog Is Confirmed";
    return 486;
  }
  return 0;
}

/* RFC 3891 section 3: a new INVITE whose Replaces names a dialog (its
 * to-tag is our local tag, its from-tag the remote one). A leg of a
 * bridged call is replaced by the new session (cay__bridge_replace());
 * the routes are not consulted, the call has its route. Knowing the
 * dialog's Call-ID and both tags is the caller's authority (section 6). */
static void
handle_replaces(cay__sessions_t *ss, cay__txn_t *t, sip_t *sip)
{
  const sip_replaces_t *rp = sip->sip_replaces;
  cay__session_t *old, *s;
  const char *phrase = NULL;
  int status, err;

  old = cay__session_find_dialog(ss, rp->rp_call_id,
                                 rp->rp_to_tag ? rp->rp_to_tag : "",
                                 rp->rp_from_tag ? rp->rp_from_tag : "");
  if ((status = replaces_refused(rp, old, &phrase)) != 0) {
    CAY_INFO(SHARD_NO(ss), "session %s: Replaces %s: %d",
             sip->sip_call_id->i_id, rp->rp_call_id, status);
    ss->shard->stats.calls_rejected++;
    cay__txn_reply(t, status, phrase, NULL);
    return;
  }
  if ((err = cay__session_create(ss, t, sip, 1, &s)) != 0) {
    reply_not_created(ss, t, err);
    return;
  }
  if (stimer_refused(ss, t, sip, s))
    return;
  if ((err = cay__bridge_replace(ss, s, old, sip)) == 0)
    return;
  CAY_INFO(SHARD_NO(ss), "session %s: does not replace %s: %s", s->call_id,
           old->call_id, cay_strerror(err));
  if (err == CAY_ENOTFOUND)
    cay_session_reject(s, 403, "Forbidden - Dialog Not Replaceable", NULL);
  else if (err == CAY_ESTATE)
    cay_session_reject(s, 491, NULL, NULL);
  else if (err == CAY_ENOCODEC)
    cay_session_reject(s, 488, "Not Acceptable Here - No Common Codec", NULL);
  else
    cay_session_reject(s, 500, NULL, NULL);
}

/* A MESSAGE outside a dialog (RFC 3428): relayed by the forward route
 * that takes it (b2bua/pager.h); no route, a reject route, a loop as for
 * an INVITE (pick_route()); an answer route, or no routes at all, 405:
 * Cay's own UAS has no use for it; the copy of one relayed, 482
 * (cay__pager_merged()). */
static void
handle_message(cay__sessions_t *ss, cay__txn_t *t, sip_t *sip)
{
  const cay_route_t *route = NULL;
  char target[CAY_CONFIG_TEXT_LEN + 64];
  uint64_t refused = 0;

  ss->shard->stats.messages_in++;
  if (busy_refused(ss, t))
    return;
  if (cay__pager_merged(ss, sip)) {
    /* RFC 3261 section 8.2.2.2: a MESSAGE being relayed (or answered,
     * its transaction Completed) come again by another path: its
     * Call-ID, From tag and CSeq, another branch. One message, not two;
     * counted as received (messages_in), as the other refusals are. */
    CAY_INFO(SHARD_NO(ss), "message %s: merged request (CSeq %u): 482",
             sip->sip_call_id->i_id, (unsigned)sip->sip_cseq->cs_seq);
    cay__txn_reply(t, 482, "Loop Detected - Merged Request", NULL);
    return;
  }
  if (pick_route(ss, t, sip, &route, target, sizeof target, &refused))
    return;
  if (route == NULL || route->action != CAY_ROUTE_FORWARD) {
    const char *const hdrs[] = { allow_line(ss, NULL), NULL };
    reply_with(t, 405, NULL, NULL, hdrs);
    return;
  }
  cay__pager_start(ss, t, route, target);
}

static void
handle_invite(cay__sessions_t *ss, cay__txn_t *t, sip_t *sip)
{
  const cay_route_t *route = NULL;
  cay__session_t *s;
  char target[CAY_CONFIG_TEXT_LEN + 64];
  int err, forward, filter;

  ss->shard->stats.calls_in++;
  if (invite_refused(ss, t, sip))
    return;
  if (sip->sip_replaces) {
    handle_replaces(ss, t, sip);
    return;
  }
  if (pick_route(ss, t, sip, &route, target, sizeof target,
                 &ss->shard->stats.calls_rejected))
    return;
  forward = route && route->action == CAY_ROUTE_FORWARD;
  filter = route && route->action == CAY_ROUTE_ANSWER && route->n_codecs;
  err = cay__session_create(ss, t, sip,
                            forward || filter || ss->on_incoming != NULL, &s);
  if (err == 0 && route && route->max_duration_s >= 0)
    s->max_s = (uint32_t)route->max_duration_s;
  if (err == 0 && filter && (err = answer_filtered(s, sip, route)) != 0)
    cay__session_destroy(s);
  if (err) {
    reply_not_created(ss, t, err);
    return;
  }
  if (stimer_refused(ss, t, sip, s))
    return;
  CAY_DEBUG(SHARD_NO(ss), "session %s: INVITE", s->call_id);
  if (!forward) /* answered here, by Cay or the embedder: its record */
    cay__session_cdr_begin(s, t, sip);
  if (forward) {
    err = cay__bridge_start(ss, s, sip, route, target);
    if (err) {
      int status = err == CAY_ENOTFOUND || err == -EPERM ? 480
                   : err == CAY_ENOCODEC                 ? 488
                                                         : 500;
      cay__bridge_refused(ss, s, sip, status); /* its record, if any */
      CAY_INFO(SHARD_NO(ss), "session %s: not forwarded to %s: %s", s->call_id,
               target,
               err == CAY_ENOTFOUND ? "not registered"
               : err == -EPERM
                   ? "a sips: Request-URI, and no binding is reached over TLS"
                   : cay_strerror(err));
      if (err == CAY_ENOTFOUND) /* RFC 3261 section 21.4.18 */
        cay_session_reject(s, 480, "Temporarily Unavailable - Not Registered",
                           NULL);
      else if (err == -EPERM) /* RFC 5630 sections 5.1.1 and 5.3 */
        cay__session_reject_line(s, 480, NULL, ss->sips_not_allowed);
      else
        cay_session_reject(s, status,
                           err == CAY_ENOCODEC ? "Not Acceptable Here - "
                                                 "No Common Codec"
                                               : NULL,
                           NULL);
    }
  } else if (ss->on_incoming && !filter) {
    hand_over(ss, s, t, sip);
  } else {
    cay__session_start(s);
  }
}

/* REGISTER @p t for the registrar; the MESSAGEs kept for its AOR go to
 * the contacts it bound (b2bua/pager.h). */
static void
registered(cay__sessions_t *ss, cay__txn_t *t, const sip_t *sip)
{
  char aor[CAY__AOR_MAX];
  /* Read before: the registrar's answer may end @p t and @p sip. */
  int kept = ss->pager_store && sip->sip_to
             && cay__aor_of(sip->sip_to->a_url, aor) >= 0;

  cay__registrar_on_register(ss->reg, &ss->cfg, t, sip);
  if (kept)
    cay__pager_store_registered(ss, aor);
}

/* A REGISTER (RFC 3261 section 10.3) goes to the registrar when a route
 * with action register takes it; without such a route Cay is no
 * registrar (405), and one that no route takes gets 404 (item 1: not a
 * domain Cay registers). */
static void
handle_register(cay__sessions_t *ss, cay__txn_t *t, const sip_t *sip)
{
  cay__addr_t src;
  cay__route_req_t req;
  const cay_route_t *r;

  if (!cay__routes_have(ss->routes, CAY_ROUTE_REGISTER)) {
    cay__reply_405(t);
    return;
  }
  if (check_require(t, sip))
    return;
  cay__txn_source(t, &src);
  cay__route_req_of(&req, sip, &src);
  r = cay__routes_match(ss->routes, &req);
  if (r == NULL)
    cay__txn_reply(t, 404, "Not Found - No Route", NULL);
  else if (r->action == CAY_ROUTE_REJECT)
    cay__txn_reply(t, (int)r->code, r->reason[0] ? r->reason : NULL, NULL);
  else
    registered(ss, t, sip);
}

void
cay__sessions_on_request(void *arg, cay__txn_t *t, msg_t *msg, sip_t *sip)
{
  cay__sessions_t *ss = arg;
  sip_method_t m = sip->sip_request->rq_method;

  (void)msg;
  if (m == sip_method_cancel) {
    handle_cancel(ss, t, sip);
    return;
  }
  if (m == sip_method_register) {
    handle_register(ss, t, sip);
    return;
  }
  /* 8.2.1: methods Cay does not implement get 405 with Allow. A REFER or
   * NOTIFY in a dialog goes to the session's owner (a B2BUA relays it);
   * outside one Cay has no use for it. A MESSAGE goes to the session's
   * owner too, or outside a dialog to a forward route (RFC 3428). */
  if (m != sip_method_invite && m != sip_method_bye && m != sip_method_options
      && m != sip_method_update && m != sip_method_prack && m != sip_method_info
      && m != sip_method_message
      && ((m != sip_method_refer && m != sip_method_notify)
          || !sip->sip_to->a_tag)) {
    const char *const hdrs[]
        = { sip->sip_to->a_tag ? "Allow: " CAY_ALLOW : allow_line(ss, NULL),
            NULL };
    reply_with(t, 405, NULL, NULL, hdrs);
    return;
  }
  if (check_require(t, sip))
    return;
  /* RFC 3261 section 16.3 item 3 and 8.2: no hops left. OPTIONS may be
   * answered by the element itself (section 11). */
  if (sip->sip_max_forwards && sip->sip_max_forwards->mf_count == 0
      && m != sip_method_options) {
    cay__txn_reply(t, 483, NULL, NULL);
    return;
  }
  if (sip->sip_to->a_tag) {
    handle_in_dialog(ss, t, sip);
    return;
  }
  switch (m) {
  case sip_method_invite:
    handle_invite(ss, t, sip);
    break;
  case sip_method_options:
    reply_options(t, NULL, allow_line(ss, NULL));
    break;
  case sip_method_message:
    handle_message(ss, t, sip);
    break;
  default: /* BYE without a To tag: no dialog (15.1.2). */
    cay__txn_reply(t, 481, NULL, NULL);
    break;
  }
}
