/*
 * The registrar across shards (src/registrar/registrar.h): the shard
 * that owns an AOR tells every other shard of each change to its
 * bindings, and each keeps a copy, so that a call to the AOR finds its
 * contacts on the call's own shard.
 *
 *   REGISTER -> AOR's shard: binding set/removed/expired
 *            -> MAIL_BINDING to every other shard -> copy set/removed
 *   a TCP connection closes -> MAIL_FLOW_CLOSED to every other shard
 *            -> the AOR's shard: bindings over it removed or moved to
 *               their contacts (RFC 5626 section 7) -> MAIL_BINDING
 *            -> every shard: its transactions over that flow end (503)
 *   a source banned for refused credentials (registrar.ban_after_failures)
 *            -> MAIL_BAN to every other shard -> banned there too
 *   a STUN keep-alive on a UDP flow some binding takes (RFC 5626 4.4.1)
 *            -> this shard's bindings over it heard it; for a copy,
 *               MAIL_KEEPALIVE to the AOR's shard -> its binding heard it
 *   a UDP flow silent for too long -> the AOR's shard: its binding goes
 *            -> MAIL_FLOW_CLOSED (a UDP peer) to every other shard
 *            -> every shard: its transactions over that flow end (503)
 *
 * Every function runs on the worker's own thread.
 */
#include <errno.h>
#include <string.h>

#include "core/alloc.h"
#include "core/log.h"
#include "registrar/registrar.h"
#include "server/server_int.h"

#define SHARD_NO(w) ((int)(w)->index)

void
cay__worker_share_binding(void *arg, const cay__binding_change_t *c)
{
  cay__worker_t *w = arg;
  size_t alen = strlen(c->aor), clen = strlen(c->contact);
  size_t plen = c->path ? strlen(c->path) : 0;

  /* Once this shard exits, shard 0 may free the others after our FINAL. */
  if (w->exiting)
    return;
  for (unsigned i = 0; i < w->srv->nshards; i++) {
    cay__worker_t *to = w->srv->workers[i];
    mail_binding_t *m;

    if (i == w->index || to == NULL)
      continue;
    m = cay__malloc(sizeof *m + alen + clen + plen + 3);
    if (m == NULL) {
      /* That shard's copy lags until the next change or its expiry. */
      CAY_WARN(SHARD_NO(w), "no memory to tell shard %u of AOR %s", i, c->aor);
      return;
    }
    m->m.kind = MAIL_BINDING;
    m->q = c->q;
    m->expires_ms = c->expires_ms;
    /* The flow is plain data: a TCP connection is named by its id,
     * which says its shard (a call from here posts its bytes there). */
    m->by_flow = c->flow != NULL;
    if (c->flow)
      m->flow = *c->flow;
    m->keepalive_s = c->keepalive_s;
    m->aor_len = alen;
    memcpy(m->text, c->aor, alen + 1);
    memcpy(m->text + alen + 1, c->contact, clen + 1);
    /* Then the Path values (RFC 3327), "" for none. */
    memcpy(m->text + alen + clen + 2, c->path ? c->path : "", plen + 1);
    if (cay__mailbox_post(&to->mb, &m->m) != 0)
      cay__free(m); /* that shard has stopped */
  }
}

void
cay__worker_on_binding(cay__worker_t *w, const mail_binding_t *m)
{
  const char *contact = m->text + m->aor_len + 1;
  cay__binding_change_t c = { .aor = m->text,
                              .contact = contact,
                              .q = m->q,
                              .expires_ms = m->expires_ms,
                              .flow = m->by_flow ? &m->flow : NULL,
                              .path = contact + strlen(contact) + 1,
                              .keepalive_s = m->keepalive_s };

  cay__registrar_learn(w->ss.reg, &c);
}

/* What a failed flow ends on this shard: over a connection, its
 * bindings over it (those of its own AORs; a silent UDP flow's AOR
 * shard has removed its binding already) and, either way, its
 * transactions over it. */
static void
flow_gone(cay__worker_t *w, const cay__peer_t *flow)
{
  if (w->exiting)
    return;
  if (flow->proto == CAY__UDP) {
    cay__txn_udp_flow_failed(&w->ep, &flow->addr);
    return;
  }
  (void)cay__registrar_flow_failed(w->ss.reg, flow->conn);
  cay__txn_flow_failed(&w->ep, flow->conn);
}

/* Flow @p flow failed on this shard: here, and on every other shard by
 * MAIL_FLOW_CLOSED, since the AOR whose binding took it may be any
 * shard's, and so may a call over it. */
static void
flow_failed(cay__worker_t *w, const cay__peer_t *flow)
{
  /* Once this shard exits, shard 0 may free the others after our FINAL. */
  if (w->exiting)
    return;
  flow_gone(w, flow);
  for (unsigned i = 0; i < w->srv->nshards; i++) {
    cay__worker_t *to = w->srv->workers[i];

    if (i != w->index && to != NULL
        && cay__worker_post_bytes(to, MAIL_FLOW_CLOSED, flow, NULL, 0, 0, 0)
               == -ENOMEM)
      /* That shard's binding stays until a call over it fails or it
       * expires; its calls over the flow wait for their timeouts. */
      CAY_WARN(SHARD_NO(w), "no memory to tell shard %u that a flow failed", i);
  }
}

void
cay__worker_flow_closed(cay__tcp_t *tcp, cay_id_t conn, const cay__addr_t *peer,
                        void *arg)
{
  cay__peer_t p
      = { .addr = *peer, .proto = (uint8_t)cay__tcp_proto(tcp), .conn = conn };

  flow_failed(arg, &p);
}

void
cay__worker_on_flow_closed(cay__worker_t *w, const mail_bytes_t *m)
{
  flow_gone(w, &m->peer);
}

void
cay__worker_udp_flow_failed(void *arg, const cay__addr_t *flow)
{
  cay__peer_t p = { .addr = *flow, .proto = CAY__UDP, .flow = 1 };

  flow_failed(arg, &p);
}

void
cay__worker_share_ban(void *arg, const cay__addr_t *src, uint64_t ban_ms)
{
  cay__worker_share_source(arg, MAIL_BAN, src, ban_ms);
}

void
cay__worker_on_ban(cay__worker_t *w, const mail_bytes_t *m)
{
  uint64_t ban_ms;

  if (w->exiting || m->len != sizeof ban_ms)
    return;
  memcpy(&ban_ms, m->data, sizeof ban_ms);
  cay__registrar_ban(w->ss.reg, &m->peer.addr, ban_ms);
}

void
cay__worker_keepalive(cay__worker_t *w, const cay__addr_t *src)
{
  if (w->exiting)
    return;
  (void)cay__registrar_keepalive(w->ss.reg, src, 0);
}

void
cay__worker_share_keepalive(void *arg, const char *aor, const cay__addr_t *src)
{
  cay__worker_t *w = arg;
  cay__peer_t p = { .addr = *src, .proto = CAY__UDP };
  unsigned owner = cay__aor_shard(aor, strlen(aor), w->srv->nshards);
  cay__worker_t *to = w->srv->workers[owner];

  if (w->exiting || owner == w->index || to == NULL)
    return;
  /* Lost (no memory, a full mailbox): the next keep-alive counts. */
  if (cay__worker_post_bytes(to, MAIL_KEEPALIVE, &p, NULL, 0, 0, 0) != 0)
    CAY_DEBUG(SHARD_NO(w), "a keep-alive for AOR %s not passed to shard %u",
              aor, owner);
}

void
cay__worker_on_keepalive(cay__worker_t *w, const mail_bytes_t *m)
{
  if (!w->exiting)
    (void)cay__registrar_keepalive(w->ss.reg, &m->peer.addr, 1);
}
