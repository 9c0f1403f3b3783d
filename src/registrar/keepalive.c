/*
 * UDP flows watched for keep-alives (RFC 5626 section 4.4.1).
 *
 * A UA that registers an outbound flow over UDP (reg-id, +sip.instance)
 * is told a Flow-Timer (registrar.flow_timer_s) and sends a STUN Binding
 * request over the flow at least that often. A UDP flow has no
 * connection whose close says that it failed: silence does. The owner
 * of the binding's AOR keeps, per watched binding, when it last heard
 * from the UA (a keep-alive, or a REGISTER refreshing the binding) and a
 * timer that fires when the binding would have been silent for its
 * Flow-Timer plus CAY__FLOW_LEEWAY_S; the binding then loses its flow
 * (cay__loc_flow_lost(): removed, since nothing else reaches it).
 *
 * A keep-alive is answered by whichever shard's socket read it (the
 * kernel steers a datagram without Call-ID by its addresses), which
 * with N shards is another than the AOR's owner N-1 times in N. Every shard
 * therefore indexes its own watched bindings and its copies of the others' by
 * the flow's address: a keep-alive for a copy is passed to the owner by the
 * keep-alive callback (the worker posts it there), for an own binding it counts
 * at once.
 *
 *   STUN from addr -> cay__registrar_keepalive(reg, addr, 0)
 *     own binding over addr  -> heard_ms = now
 *     copy over addr         -> ka_share(aor, addr) -> owner's shard
 *                               -> cay__registrar_keepalive(.., 1)
 *   t_flow due, heard_ms + timeout passed -> cay__loc_flow_lost(), and
 *                               the udp_failed hook: requests waiting on
 *                               that flow end, on every shard
 *   t_flow due, heard since                -> armed again for the rest
 */
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include "core/log.h"
#include "registrar/registrar_int.h"

#define SHARD_NO(reg) ((int)(reg)->shard->index)

/* A keep-alive for a copy is passed to its owner at most once in this
 * long, in ms: one held back delays the owner's news by less than that,
 * well inside CAY__FLOW_LEEWAY_S, while a flood of STUN from (or
 * spoofing) a registered address costs the owner's mailbox one message
 * a second. */
#define RELAY_GAP_MS 1000

/* The keyed hash of an address's IP and port: a source cannot pick
 * addresses that collide in the table. */
static uint64_t
addr_hash(const cay__registrar_t *reg, const cay__addr_t *a)
{
  unsigned char bytes[18];
  size_t n;

  if (cay__addr_family(a) == AF_INET6) {
    memcpy(bytes, &a->u.sin6.sin6_addr, 16);
    memcpy(bytes + 16, &a->u.sin6.sin6_port, 2);
    n = 18;
  } else {
    memcpy(bytes, &a->u.sin.sin_addr, 4);
    memcpy(bytes + 4, &a->u.sin.sin_port, 2);
    n = 6;
  }
  return cay__hash_keyed(reg->key, bytes, n);
}

/* How long @p b may be silent, in ms. */
static uint64_t
timeout_ms(const reg_binding_t *b)
{
  return 1000ull * ((uint64_t)b->keepalive_s + CAY__FLOW_LEEWAY_S);
}

static void
arm(reg_binding_t *b, uint64_t delay_ms)
{
  cay__registrar_t *reg = b->aor->reg;

  cay__shard_timer_stop(reg->shard, &b->t_flow);
  /* No memory for the heap to grow: the binding is not watched until
   * its next refresh, and lives until it expires. */
  if (cay__shard_timer_start(reg->shard, &b->t_flow, delay_ms) != 0)
    CAY_WARN(SHARD_NO(reg), "AOR %s: no memory to watch the flow of %s",
             b->aor->name, b->contact);
}

void
cay__ka_watch(reg_binding_t *b)
{
  cay__registrar_t *reg = b->aor->reg;
  int want = b->by_flow && b->keepalive_s && b->flow.proto == CAY__UDP;

  if (b->in_udp)
    cay__htab_remove(&reg->udp_flows, &b->unode);
  b->in_udp = want;
  if (want)
    cay__htab_insert(&reg->udp_flows, &b->unode, addr_hash(reg, &b->flow.addr));
  if (b->aor->copy)
    return; /* its owner watches it */
  cay__shard_timer_stop(reg->shard, &b->t_flow);
  if (want) {
    b->heard_ms = cay__shard_now(reg->shard);
    arm(b, timeout_ms(b));
  }
}

void
cay__ka_unwatch(reg_binding_t *b)
{
  cay__registrar_t *reg = b->aor->reg;

  if (b->in_udp)
    cay__htab_remove(&reg->udp_flows, &b->unode);
  b->in_udp = 0;
  cay__shard_timer_stop(reg->shard, &b->t_flow);
}

void
cay__ka_on_silent(cay__timer_t *t)
{
  reg_binding_t *b = t->data;
  cay__registrar_t *reg = b->aor->reg;
  uint64_t now = cay__shard_now(reg->shard);
  uint64_t due = b->heard_ms + timeout_ms(b);
  cay__addr_t flow = b->flow.addr;
  char what[96];

  if (now < due) {
    arm(b, due - now); /* heard from since it was armed */
    return;
  }
  snprintf(what, sizeof what,
           "sent no keep-alive for %llu s (Flow-Timer %u s, RFC 5626 "
           "section 4.4.1)",
           (unsigned long long)((now - b->heard_ms) / 1000), b->keepalive_s);
  cay__loc_flow_lost(b, what); /* b may be gone */
  if (reg->udp_failed)
    reg->udp_failed(reg->udp_failed_arg, &flow);
}

unsigned
cay__registrar_keepalive(cay__registrar_t *reg, const cay__addr_t *src,
                         int relayed)
{
  uint64_t now = cay__shard_now(reg->shard);
  unsigned heard = 0;

  if (reg->udp_flows.count == 0)
    return 0;
  for (cay__hnode_t *n = cay__htab_first(&reg->udp_flows, addr_hash(reg, src));
       n; n = cay__htab_next(n)) {
    reg_binding_t *b
        = (reg_binding_t *)((char *)n - offsetof(reg_binding_t, unode));

    if (!cay__addr_eq(&b->flow.addr, src))
      continue;
    if (!b->aor->copy) {
      b->heard_ms = now;
      heard++;
    } else if (!relayed && reg->ka_share
               && (b->heard_ms == 0 || now - b->heard_ms >= RELAY_GAP_MS)) {
      b->heard_ms = now; /* a copy's: when it was last passed on */
      reg->ka_share(reg->ka_share_arg, b->aor->name, src);
    }
  }
  return heard;
}

void
cay__registrar_set_keepalive_share(cay__registrar_t *reg,
                                   cay__registrar_keepalive_fn fn, void *arg)
{
  reg->ka_share = fn;
  reg->ka_share_arg = arg;
}

void
cay__registrar_set_udp_flow_failed(cay__registrar_t *reg,
                                   cay__registrar_flow_fn fn, void *arg)
{
  reg->udp_failed = fn;
  reg->udp_failed_arg = arg;
}
