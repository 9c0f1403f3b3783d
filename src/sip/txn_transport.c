/*
 * The transaction layer and its transport (RFC 3261 section 18): which
 * transport a client transaction's request takes (18.1.1: over TCP when it
 * is too large for UDP, back over UDP when TCP is refused), the same for
 * the one request sent outside a transaction (the ACK for a 2xx), and what
 * a transport error does to the transactions waiting on it (17.1.4).
 */
#include "sip/txn_int.h"

#include <errno.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"

#define SHARD(t) ((t)->ep->shard)

/* Send client transaction @p t's request over @p proto (CAY__UDP or
 * CAY__TCP) from now on, its top Via changed to match (18.1.1). An INVITE
 * parsed earlier is parsed again from the changed bytes when a CANCEL or
 * an ACK needs it. @return 0, or -EINVAL (no Via to change). */
static int
switch_transport(cay__txn_t *t, int proto)
{
  if (cay__msg_set_via_transport(t->out, t->outlen, proto) != 0)
    return -EINVAL;
  t->peer.proto = proto;
  t->peer.conn = 0;
  if (t->req) {
    msg_destroy(t->req);
    t->req = NULL;
  }
  t->from_bytes = 1;
  return 0;
}

/* How long a target that refused TCP gets large requests over UDP. */
#define TCP_REFUSED_MS 60000

/* The entry of @p to when it refused a TCP connection less than
 * TCP_REFUSED_MS ago, else NULL. */
static struct cay__tcp_refused *
refused_entry(cay__endpoint_t *ep, const cay__addr_t *to)
{
  uint64_t now = cay__shard_now(ep->shard);

  for (size_t i = 0; i < sizeof ep->tcp_refused / sizeof ep->tcp_refused[0];
       i++)
    if (ep->tcp_refused[i].until_ms > now
        && cay__addr_eq(&ep->tcp_refused[i].addr, to))
      return &ep->tcp_refused[i];
  return NULL;
}

/* Remember that @p to refused TCP, in place of the entry that expires
 * first. */
static void
remember_tcp_refused(cay__endpoint_t *ep, const cay__addr_t *to)
{
  size_t n = sizeof ep->tcp_refused / sizeof ep->tcp_refused[0], pick = 0;

  if (refused_entry(ep, to) != NULL)
    return;
  for (size_t i = 1; i < n; i++)
    if (ep->tcp_refused[i].until_ms < ep->tcp_refused[pick].until_ms)
      pick = i;
  ep->tcp_refused[pick].addr = *to;
  ep->tcp_refused[pick].until_ms = cay__shard_now(ep->shard) + TCP_REFUSED_MS;
  ep->tcp_refused[pick].said = 0;
}

/* A request of @p len bytes to @p to goes over UDP because @p to took no
 * TCP connection: said once per target and period, not once per call. */
static void
say_sent_over_udp(cay__endpoint_t *ep, const cay__addr_t *to, size_t len)
{
  struct cay__tcp_refused *e = refused_entry(ep, to);
  char name[64];

  if (e == NULL || e->said)
    return;
  e->said = 1;
  if (cay__addr_format(to, name, sizeof name) != 0)
    strcpy(name, "?");
  CAY_INFO((int)ep->shard->index,
           "tcp: %s took no connection for a request of %zu bytes (refused "
           "or timed out): sent over UDP instead, and so are large requests "
           "to it for the next %d s (RFC 3261 18.1.1)",
           name, len, TCP_REFUSED_MS / 1000);
}

/* 18.1.1: back over UDP, as the request would have gone but for its size,
 * after the TCP connection to the target was refused. */
static int
fall_back_to_udp(cay__txn_t *t)
{
  int err = switch_transport(t, CAY__UDP);

  t->for_size = 0;
  say_sent_over_udp(t->ep, &t->peer.addr, t->outlen);
  err = err ? err
            : cay__endpoint_send_bytes(t->ep, &t->peer, t->out, t->outlen, 0);
  if (err)
    return err;
  t->interval_ms = t->ep->t1_ms; /* timer A or E, as over UDP from the
                                    start; B or F keep running */
  cay__txn_start_timer(t, &t->t_retx, t->interval_ms);
  return 0;
}

/* 18.1.1: a request over 1300 bytes (the path MTU is unknown) goes over a
 * congestion-controlled transport, TCP. 1 when a request of @p len bytes
 * for @p dst should go over TCP instead of UDP; 0 when not (its transport
 * is not UDP, it is small, the limit is off, or @p dst is a flow through
 * a NAT, which takes no connection: RFC 5626 section 5.3 sends over the
 * flow), and when @p dst took no TCP connection lately, which is said
 * once per period. */
static int
tcp_for_size(cay__endpoint_t *ep, const cay__peer_t *dst, size_t len)
{
  if (dst->proto != CAY__UDP || dst->flow || !ep->udp_max_request
      || len <= ep->udp_max_request)
    return 0;
  if (refused_entry(ep, &dst->addr) != NULL) {
    say_sent_over_udp(ep, &dst->addr, len);
    return 0;
  }
  return 1;
}

int
cay__endpoint_send_sized(cay__endpoint_t *ep, const cay__peer_t *dst,
                         char *data, size_t len, int retransmit)
{
  cay__peer_t tcp = *dst;
  int err;

  if (dst->proto != CAY__UDP)
    return cay__endpoint_send_bytes(ep, dst, data, len, retransmit);
  /* As for a transaction's request, decided again for every copy: a
   * target that refused TCP since the last one gets this one over UDP. */
  if (tcp_for_size(ep, dst, len)
      && cay__msg_set_via_transport(data, len, CAY__TCP) == 0) {
    tcp.proto = CAY__TCP;
    tcp.conn = 0;
    err = cay__endpoint_send_bytes(ep, &tcp, data, len, retransmit);
    if (err == 0)
      return 0;
  }
  (void)cay__msg_set_via_transport(data, len, CAY__UDP);
  return cay__endpoint_send_bytes(ep, dst, data, len, retransmit);
}

int
cay__endpoint_via_for_size(cay__endpoint_t *ep, msg_t *req,
                           const cay__peer_t *dst)
{
  sip_via_t *via = sip_object(req)->sip_via;
  const char *data;
  size_t len;

  /* The cheap tests first: serializing is what costs. */
  if (dst->proto != CAY__UDP || !ep->udp_max_request || via == NULL
      || cay__msg_serialize(req, &data, &len) != 0
      || !tcp_for_size(ep, dst, len))
    return 0;
  via->v_protocol = sip_transport_tcp;
  msg_fragment_clear(via->v_common); /* encoded again */
  return 1;
}

void
cay__txn_choose_transport(cay__txn_t *t)
{
  cay__endpoint_t *ep = t->ep;
  int preset = t->for_size;

  t->for_size = tcp_for_size(ep, &t->peer, t->outlen)
                && switch_transport(t, CAY__TCP) == 0;
  /* TCP set before the hooks, which made the request small again. */
  if (preset && !t->for_size)
    (void)switch_transport(t, CAY__UDP);
}

int
cay__txn_undo_transport(cay__txn_t *t)
{
  /* No TCP to the target at all (no listener of its family, the
   * connection limit): over UDP, as it would have gone. */
  if (!t->for_size)
    return 0;
  t->for_size = 0;
  return switch_transport(t, CAY__UDP) == 0;
}

/* A client transaction still waiting for its final response. */
static int
waiting(const cay__txn_t *t)
{
  return !t->server
         && (t->state == CAY__TXN_CALLING || t->state == CAY__TXN_TRYING
             || t->state == CAY__TXN_PROCEEDING);
}

/* What a transport failure ends: the transactions to an address over a
 * transport (@c peer), or those over one flow (@c flow_conn, a TCP
 * connection, or @c udp_flow, a UDP flow's address). */
typedef struct failed {
  const cay__peer_t *peer;
  cay_id_t flow_conn;
  const cay__addr_t *udp_flow;
} failed_t;

static int
hit(const cay__txn_t *t, const failed_t *f)
{
  if (!waiting(t))
    return 0;
  if (f->udp_flow)
    return t->peer.flow && t->peer.proto == CAY__UDP
           && cay__addr_eq(&t->peer.addr, f->udp_flow);
  if (f->peer == NULL)
    return t->peer.flow && cay__proto_stream(t->peer.proto)
           && t->peer.conn == f->flow_conn;
  return t->peer.proto == f->peer->proto
         && cay__addr_eq(&t->peer.addr, &f->peer->addr);
}

static cay__txn_t *
txn_of(cay__hnode_t *h)
{
  return (cay__txn_t *)((char *)h - offsetof(cay__txn_t, hnode));
}

/* End every client transaction @p f names: its TU sees 503. */
static void
end_failed(cay__endpoint_t *ep, const failed_t *f)
{
  cay__htab_t *tab = &ep->client_txns;
  cay_id_t few[64], *ids = few;
  size_t n = 0, max = 0;

  /* Collect the ids first, in one pass: the TU may send new requests
   * when told, and those are not part of this failure. */
  for (size_t i = 0; i < tab->nbuckets; i++)
    for (cay__hnode_t *h = tab->buckets[i]; h; h = h->next)
      max += hit(txn_of(h), f);
  if (max > 64 && (ids = cay__malloc(max * sizeof *ids)) == NULL) {
    ids = few;
    max = 64; /* the rest end at their own timeout */
  }
  for (size_t i = 0; i < tab->nbuckets; i++)
    for (cay__hnode_t *h = tab->buckets[i]; h && n < max; h = h->next)
      if (hit(txn_of(h), f))
        ids[n++] = txn_of(h)->id;
  for (size_t i = 0; i < n; i++) {
    cay__txn_t *t = cay__idtab_get(&ep->shard->ids, ids[i]);
    if (t == NULL)
      continue;
    /* 18.1.1: a request moved to TCP for its size, whose connection was
     * refused, is retried over UDP (before any response came back). */
    if (t->for_size
        && (t->state == CAY__TXN_CALLING || t->state == CAY__TXN_TRYING)
        && fall_back_to_udp(t) == 0)
      continue;
    CAY_DEBUG((int)ep->shard->index, "transport error: transaction ends");
    cay__txn_terminate(t); /* freed after this event: t stays readable */
    cay__txn_tell_tu(t, 503, NULL);
  }
  if (ids != few)
    cay__free(ids);
}

void
cay__txn_transport_error(cay__endpoint_t *ep, const cay__peer_t *peer)
{
  failed_t f = { .peer = peer };

  /* 18.1.1: large requests to a target that took no TCP connection go
   * over UDP for a while, whichever request found out (an ACK too). */
  if (peer->proto == CAY__TCP && ep->udp_max_request)
    remember_tcp_refused(ep, &peer->addr);
  end_failed(ep, &f);
}

void
cay__txn_flow_failed(cay__endpoint_t *ep, cay_id_t conn)
{
  failed_t f = { .flow_conn = conn };

  end_failed(ep, &f);
}

void
cay__txn_udp_flow_failed(cay__endpoint_t *ep, const cay__addr_t *addr)
{
  failed_t f = { .udp_flow = addr };

  end_failed(ep, &f);
}
