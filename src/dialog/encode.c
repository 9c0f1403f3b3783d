/*
 * Where a request of a dialog goes and its bytes (RFC 3261 sections
 * 12.2.1.1 and 8.1.1, 18.1.1 and 26.2 for its transport; RFC 5626 for a
 * peer behind a NAT): the destination from the route set or the remote
 * target, the Via's transport and sent-by, the Contact for that transport.
 */
#include <stdio.h>
#include <string.h>

#include "dialog/session_int.h"

/* dialog.flows (cay_reg_flows_t) for a dialog without a route set whose
 * remote target is @p target and whose peer is at @p peer: 1 when its
 * requests go to the peer's address instead. */
static int
past_nat(const cay__session_t *s, const cay__addr_t *target,
         const cay__addr_t *peer)
{
  switch (s->ss->cfg.dialog_flows) {
  case CAY_REG_FLOWS_ALWAYS:
    return 1;
  case CAY_REG_FLOWS_NEVER:
    return 0;
  default:
    /* Over TCP the peer's port is its connection's, never its listening
     * one: the same IP means no NAT between (RFC 5923 section 1). */
    return cay__addr_private(target)
           && !(cay__proto_stream(s->peer.proto)
                    ? cay__addr_same_ip(target, peer)
                    : cay__addr_eq(target, peer));
  }
}

int
cay__session_next_hop(const cay__session_t *s, char *buf, size_t size)
{
  return cay__next_hop(s->route_set, s->remote_target, buf, size);
}

int
cay__next_hop(const char *route, const char *target, char *buf, size_t size)
{
  const char *from = route ? route : target;
  const char *lt = route ? strchr(from, '<') : NULL;
  size_t n;

  if (lt) {
    const char *gt = strchr(lt, '>');
    from = lt + 1;
    n = gt ? (size_t)(gt - from) : strlen(from);
  } else {
    n = strcspn(from, ", ");
  }
  if (n >= size)
    return -1;
  memcpy(buf, from, n);
  buf[n] = '\0';
  return 0;
}

/* Where a request in the dialog goes (12.2.1.1 with loose routing): the
 * first Route's URI, else the remote target. The initial INVITE goes where
 * RFC 3263 located a host name (locate.c), or to the IP literal with the
 * URI's transport parameter. Later in the dialog a host name falls back to
 * where the INVITE went (right for the usual peer behind its own
 * address); over TCP the dialog's connection is reused while it lives
 * (18.1.1 allows any connection to the target). A call to a registered
 * contact's flow (by_flow) sends everything there; a peer whose target
 * is behind a NAT (past_nat()) is sent to at its own address.
 * @return 0, or -1 when the fallback was used. */
static int
text_dest(cay__session_t *s, cay__peer_t *dst)
{
  char buf[512];
  cay__addr_t peer = s->peer.addr; /* @p dst may be &s->peer (an ACK) */
  url_t url;

  *dst = s->peer;
  if (s->by_flow)
    return 0; /* the callee's registered flow, all dialog long */
  if (s->located && s->state == CAY__SESSION_CALLING)
    return 0; /* the hop DNS found; a 422 retry goes there again */
  if (cay__session_next_hop(s, buf, sizeof buf) != 0)
    return -1;
  if (url_d(&url, buf) < 0 || cay__url_dest(&url, &dst->addr) != 0) {
    dst->addr = peer;
    return -1;
  }
  /* dialog.flows: a peer behind a NAT is reached where its messages
   * come from, not at the private address its Contact names. */
  if (s->route_set == NULL && s->state != CAY__SESSION_CALLING
      && past_nat(s, &dst->addr, &peer)) {
    dst->addr = peer;
    dst->flow = 1;
  }
  if (s->state == CAY__SESSION_CALLING) {
    /* The initial INVITE: no connection yet, the URI's transport
     * parameter (18.1.1, 19.1.1) chooses. */
    dst->proto = cay__url_proto(&url);
    dst->conn = 0;
  }
  return 0;
}

long
cay__session_encode(cay__session_t *s, const cay__dreq_t *r, const char *branch,
                    char *buf, size_t size, cay__peer_t *dst)
{
  cay__req_text_t t
      = { .method_name = r->name,
          .ruri = s->remote_target,
          .sent_by = NULL, /* by the transport, below */
          .branch = branch,
          .route = s->route_set,
          .max_forwards = r->method == sip_method_invite ? s->max_forwards : 0,
          .from = s->local_party,
          .to = s->remote_party,
          .call_id = s->call_id,
          .cseq = r->cseq,
          .contact = r->contact ? s->ss->contact : NULL,
          .extra = r->extra,
          .ctype = r->ctype,
          .body = r->body,
          .body_len = r->body_len };

  /* 8.1.2: a first request names an IP literal or a host name located
   * before (locate.c); in a dialog a host name falls back to where the
   * INVITE went (text_dest()). */
  if (text_dest(s, dst) != 0 && s->state == CAY__SESSION_CALLING)
    return -EINVAL;
  t.proto = dst->proto; /* the Via's transport */
  /* Without a listen address of that transport the send fails (no
   * transport); the Via then names the UDP one. */
  t.sent_by = cay__endpoint_sent_by(s->ss->ep, dst->proto);
  if (t.sent_by[0] == '\0')
    t.sent_by = s->ss->ep->sent_by;
  if (r->contact && cay__proto_ws(dst->proto)) {
    /* Only over the client's own connection (RFC 7118 section 5). */
    t.contact = dst->proto == CAY__WSS ? s->ss->contact_wss : s->ss->contact_ws;
  } else if (dst->proto == CAY__TLS) {
    /* RFC 3261 section 8.1.1.8: a sips Request-URI, a sips Contact. */
    if (r->contact)
      t.contact = strncasecmp(s->remote_target, "sips:", 5) == 0
                      ? s->ss->contact_sips
                      : s->ss->contact_tls;
  }
  return cay__msg_request_encode(&t, buf, size);
}
