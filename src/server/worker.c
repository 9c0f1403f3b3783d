/*
 * One shard of the server at work (DESIGN.md sections 1 and 3): what its
 * sockets read, the mailbox dispatch, and this shard's part of the drain.
 * Setting it up and freeing it: worker_setup.c; where a message read here
 * goes: worker_route.c; sending: worker_send.c.
 */
#include <errno.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "server/cdr_file.h"
#include "server/metrics.h"
#include "server/server_int.h"
#include "transport/dns.h"
#include "transport/stun.h"

#define SHARD_NO(w) ((int)(w)->index)

static void start_drain(cay__worker_t *w);
static void exit_worker(cay__worker_t *w);

/* A message read here for shard @p to (MAIL_RECV: bounded by
 * limits.mailbox_messages; @p handed: by an alias or for a Replaces) or
 * bytes for its connection (MAIL_TCP_WRITE: responses, as many as the
 * requests it took). */
int
cay__worker_post_bytes(cay__worker_t *to, int kind, const cay__peer_t *peer,
                       const char *data, size_t len, int from_backlog,
                       int handed)
{
  mail_bytes_t *m = cay__malloc(sizeof *m + len);
  int err;

  if (m == NULL)
    return -ENOMEM;
  m->m.kind = kind;
  m->peer = *peer;
  m->backlogged = kind == MAIL_RECV && from_backlog;
  m->handed = handed;
  m->len = len;
  if (len)
    memcpy(m->data, data, len);
  err = cay__mailbox_post_within(
      &to->mb, &m->m, kind == MAIL_RECV ? to->srv->cfg.mailbox_messages : 0);
  if (err)
    cay__free(m);
  return err;
}

/* What the kernel dropped at this shard's UDP sockets, for the counters. */
static void
count_udp_drops(cay__worker_t *w)
{
  uint64_t sum = 0;
  unsigned d;

  for (unsigned i = 0; i < w->n_udp; i++)
    if (cay__udp_meminfo(w->udp[i], NULL, NULL, &d) == 0)
      sum += d;
  w->shard.stats.udp_drops = sum;
}

/* -- receiving ------------------------------------------------------------ */

void
cay__worker_on_datagram(cay__udp_t *u, const char *data, size_t len,
                        const cay__addr_t *from, void *arg)
{
  cay__peer_t src = { .addr = *from, .proto = CAY__UDP, .conn = 0 };
  cay__worker_t *w = arg;
  char answer[CAY__STUN_ANSWER_MAX];
  int n;

  /* RFC 5626 section 8: a keep-alive of a UA on a UDP flow, answered by
   * whichever shard read it (it has no Call-ID, and no state). Its flow
   * is alive even if the answer could not be sent (section 4.4.1). */
  if (cay__stun_maybe(data, len)) {
    n = cay__stun_answer(data, len, from, answer);
    if (n > 0)
      cay__worker_keepalive(w, from);
    if (n > 0 && cay__udp_send(u, from, answer, (size_t)n) == 0)
      w->shard.stats.keepalives++;
    else
      w->shard.stats.dropped++;
    return;
  }
  cay__worker_route(w, data, len, &src, cay__udp_backlogged(u));
}

/* RFC 3261 section 18.3: a message on a stream without Content-Length is
 * answered 400 (when it can be) and the connection closes. */
static void
reject_unframed(cay__worker_t *w, const char *data, size_t len,
                const cay__peer_t *src)
{
  msg_t *msg = NULL, *resp;

  w->shard.stats.msgs_in++;
  w->shard.stats.parse_errors++;
  cay__msg_parse(data, len, &msg);
  if (msg && cay__msg_answerable(sip_object(msg))
      && (resp = cay__msg_response(
              msg, 400, "Bad Request - Missing Content-Length", NULL))
             != NULL
      && cay__endpoint_respond_stateless(&w->ep, msg, src, resp) == 0)
    w->shard.stats.bad_requests++;
  else
    w->shard.stats.dropped++;
  if (msg)
    msg_destroy(msg);
}

/* A connection this shard opened to @p peer failed. Its own transactions
 * waiting on that address end (or go over UDP, 18.1.1) now, and so do
 * the other shards': their requests may have been written here for them
 * (MAIL_TCP_WRITE) after the connection they named had closed. */
static void
tcp_failed(cay__worker_t *w, const cay__peer_t *peer)
{
  cay__txn_transport_error(&w->ep, peer);
  for (unsigned k = 0; k < w->srv->nshards; k++)
    if (k != w->index)
      (void)cay__worker_post_bytes(w->srv->workers[k], MAIL_TCP_FAILED, peer,
                                   NULL, 0, 0, 0);
}

void
cay__worker_on_tcp_message(cay__tcp_t *tcp, cay_id_t conn, int status,
                           const char *data, size_t len,
                           const cay__addr_t *from, void *arg)
{
  cay__peer_t src
      = { .addr = *from, .proto = (uint8_t)cay__tcp_proto(tcp), .conn = conn };
  cay__worker_t *w = arg;

  if (status == CAY_EPARSE)
    reject_unframed(w, data, len, &src);
  else if (status == CAY_ECONNECT)
    tcp_failed(w, &src);
  else {
    /* A binding may take this connection (RFC 5626 section 5.3): its
     * close is news for the registrar (cay__worker_flow_closed()). */
    if (len > 9 && memcmp(data, "REGISTER ", 9) == 0)
      (void)cay__tcp_mark_flow(tcp, conn);
    cay__worker_route(w, data, len, &src, cay__tcp_backlogged(tcp));
  }
}

/* -- what the resolvers learn -------------------------------------------- */

static void
learn_target(cay__worker_t *w, const mail_target_t *m)
{
  char where[64] = "";

  if (w->exiting || w->dns == NULL
      || !cay__dns_target_learn(w->dns, &m->addr, m->for_s))
    return;
  (void)cay__addr_format(&m->addr, where, sizeof where);
  CAY_DEBUG(SHARD_NO(w), "shard %u says %s %s", m->from, where,
            m->for_s ? "did not answer: calls try it last" : "answers again");
}

/* -- mailbox ------------------------------------------------------------- */
void
cay__worker_dispatch(cay__mail_t *m, void *arg)
{
  cay__worker_t *w = arg;
  mail_bytes_t *b = (mail_bytes_t *)m;
  mail_ctl_t *c = (mail_ctl_t *)m;

  switch (m->kind) {
  case MAIL_RECV:
    if (w->exiting) {
      /* Read by another shard after this one stopped: lost like a
       * datagram that arrives after shutdown. */
      w->shard.stats.msgs_in++;
      w->shard.stats.dropped++;
    } else {
      cay__worker_deliver(w, b->data, b->len, &b->peer, b->backlogged,
                          b->handed);
    }
    break;
  case MAIL_TCP_WRITE:
    /* A connection that closed meanwhile is replaced like one of our own
     * (a BYE of the other shard's call still reaches the peer, and a
     * refused connection is news for that shard: tcp_failed()). A flow
     * is not replaced: its failure is news for that shard at once. */
    if (cay__worker_send_stream(w, &b->peer, b->data, b->len) != 0) {
      CAY_DEBUG(SHARD_NO(w), "write for a closed connection dropped");
      if (b->peer.flow && !w->exiting)
        tcp_failed(w, &b->peer);
    }
    break;
  case MAIL_TCP_FAILED:
    if (!w->exiting)
      cay__txn_transport_error(&w->ep, &b->peer);
    break;
  case MAIL_FLOW_CLOSED:
    cay__worker_on_flow_closed(w, b);
    break;
  case MAIL_BAN:
    cay__worker_on_ban(w, b);
    break;
  case MAIL_BLOCK:
    cay__worker_on_block(w, b);
    break;
  case MAIL_KEEPALIVE:
    cay__worker_on_keepalive(w, b);
    break;
  case MAIL_DRAIN:
    start_drain(w);
    break;
  case MAIL_DRAINED:
    cay__server_on_drained(w->srv, c->from);
    break;
  case MAIL_EXIT:
    exit_worker(w);
    break;
  case MAIL_FINAL:
    cay__server_on_final(w->srv, c->from, &c->stats);
    break;
  case MAIL_STATS_ASK:
    /* Our own counters, read here on our thread (no shard reads
     * another's memory). Once we have stopped, our FINAL (already on its
     * way to shard 0, which keeps its mailbox until every FINAL is in)
     * answers instead. */
    if (!w->exiting) {
      count_udp_drops(w);
      cay__worker_post_ctl(w->srv->workers[0], MAIL_STATS, w->index, c->seq,
                           &w->shard.stats);
    }
    break;
  case MAIL_STATS:
    cay__server_on_stats(w->srv, c->from, c->seq, &c->stats);
    break;
  case MAIL_TARGET:
    learn_target(w, (const mail_target_t *)m);
    break;
  case MAIL_RELOAD:
    cay__worker_reload(w, ((mail_reload_t *)m)->routes,
                       ((mail_reload_t *)m)->tls, &((mail_reload_t *)m)->cfg);
    break;
  case MAIL_ALIAS:
    if (!w->exiting)
      cay__worker_on_alias(w, (const mail_alias_t *)m);
    break;
  case MAIL_BINDING:
    if (!w->exiting && w->layers_up)
      cay__worker_on_binding(w, (const mail_binding_t *)m);
    break;
  case MAIL_STORE:
  case MAIL_STORED:
    if (w->layers_up)
      cay__worker_on_store(w, (const mail_store_t *)m);
    break;
  }
  cay__free(m);
  cay__shard_flush(&w->shard);
}

int
cay__worker_post_ctl(cay__worker_t *to, int kind, unsigned from, uint64_t seq,
                     const cay_stats_t *stats)
{
  mail_ctl_t *c = cay__calloc(1, sizeof *c);
  int err;

  if (c == NULL) {
    CAY_ERROR((int)from, "no memory for a control message to shard %u",
              to->index);
    return -ENOMEM;
  }
  c->m.kind = kind;
  c->from = from;
  c->seq = seq;
  if (stats)
    c->stats = *stats;
  err = cay__mailbox_post(&to->mb, &c->m);
  if (err) {
    /* A closed mailbox is expected for a gather's question to a shard
     * that has just stopped (its FINAL answers instead). */
    if (kind == MAIL_STATS_ASK)
      CAY_DEBUG((int)from,
                "shard %u has stopped: its final counters "
                "answer the gather",
                to->index);
    else
      CAY_ERROR((int)from, "shard %u refused a control message", to->index);
    cay__free(c);
  }
  return err;
}

/* -- drain and exit ------------------------------------------------------- */

static void
drained(cay__worker_t *w)
{
  if (w->drained)
    return;
  w->drained = 1;
  uv_timer_stop(&w->grace);
  CAY_DEBUG(SHARD_NO(w), "drained");
  cay__worker_post_ctl(w->srv->workers[0], MAIL_DRAINED, w->index, 0, NULL);
}

static void
on_grace(uv_timer_t *h)
{
  drained(h->data);
}

static void
on_idle(void *arg)
{
  cay__worker_t *w = arg;

  /* Called from inside an event: report on the next loop iteration. */
  uv_timer_start(&w->grace, on_grace, 0, 0);
}

static void
start_drain(cay__worker_t *w)
{
  if (w->draining)
    return;
  w->draining = 1;
  cay__shard_timer_stop(&w->shard, &w->tls_recheck);
  CAY_INFO(SHARD_NO(w), "draining: %u sessions live",
           cay__sessions_live(&w->ss));
  uv_timer_start(&w->grace, on_grace, w->srv->grace_ms, 0);
  cay__sessions_drain(&w->ss, on_idle, w);
}

static void
on_handle_closed(void *arg)
{
  cay__worker_t *w = arg;

  if (--w->open_handles == 0)
    cay__server_worker_closed(w->srv, w);
}

static void
on_uv_closed(uv_handle_t *h)
{
  on_handle_closed(h->data);
}

void
cay__worker_close_sockets(cay__worker_t *w)
{
  for (unsigned i = 0; i < w->n_udp; i++) {
    w->open_handles++;
    cay__udp_close(w->udp[i], on_handle_closed, w);
  }
  for (unsigned i = 0; i < w->n_tcp; i++) {
    w->open_handles++;
    cay__tcp_close(w->tcp[i], on_handle_closed, w);
  }
  w->n_udp = w->n_tcp = 0;
}

/* Stop reading, report the counters to shard 0, end what is left and
 * close every handle. Shard 0 keeps its mailbox until every report is in
 * (server.c closes it). */
static void
exit_worker(cay__worker_t *w)
{
  cay_stats_t st;

  if (w->exiting)
    return;
  w->exiting = 1;
  /* Held until everything below is asked to close. The mailbox counts from
   * here on: shards 1..N-1 close it below; shard 0 closes it when every
   * report is in (cay__server_on_final(), maybe from inside this call). */
  w->open_handles = 1;
  if (w->mb_open)
    w->open_handles++;
  for (unsigned i = 0; i < w->n_udp; i++)
    cay__udp_stop(w->udp[i]);
  for (unsigned i = 0; i < w->n_tcp; i++)
    cay__tcp_stop(w->tcp[i]);
  /* The summary reports the state at the end of the drain: dialogs still
   * live and transactions still without a final response were cut. */
  count_udp_drops(w);
  st = w->shard.stats;
  if (st.dialogs_live || st.txns_live)
    CAY_WARN(SHARD_NO(w),
             "drain ended with %llu dialogs and %llu "
             "transactions live",
             (unsigned long long)st.dialogs_live,
             (unsigned long long)st.txns_live);
  w->ss.on_foreign = NULL; /* ending here is no news for the others */
  cay__sessions_fini(&w->ss);
  /* The records of the calls cut just now are made: counted too. */
  st.cdrs = w->shard.stats.cdrs;
  st.cdrs_lost = w->shard.stats.cdrs_lost;
  if (w->index == 0)
    cay__server_on_final(w->srv, 0, &st);
  else
    cay__worker_post_ctl(w->srv->workers[0], MAIL_FINAL, w->index, 0, &st);
  cay__endpoint_fini(&w->ep);
  cay__aliases_fini(&w->aliases);
  w->layers_up = 0;
  if (w->cdr) { /* after the sessions: the records of calls cut are in */
    w->open_handles++;
    cay__cdr_file_close(w->cdr, on_handle_closed, w);
    w->cdr = NULL;
  }
  if (w->store) { /* after the registrar: its writes are all queued */
    w->open_handles++;
    cay__reg_store_close(w->store, on_handle_closed, w);
    w->store = NULL;
  }
  if (w->dns) { /* after the sessions: no answer is delivered any more */
    w->open_handles++;
    cay__dns_close(w->dns, on_handle_closed, w);
    w->dns = NULL;
  }
  if (w->index == 0 && w->srv->metrics) { /* served through the drain */
    w->open_handles++;
    cay__metrics_close(w->srv->metrics, on_handle_closed, w);
    w->srv->metrics = NULL;
  }
  cay__worker_close_sockets(w);
  if (w->grace_open) {
    w->open_handles++;
    uv_close((uv_handle_t *)&w->grace, on_uv_closed);
    w->grace_open = 0;
  }
  w->open_handles += cay__shard_fini(&w->shard, on_uv_closed, w);
  w->shard_up = 0;
  if (w->index != 0 && w->mb_open) {
    w->mb_open = 0;
    cay__mailbox_close(&w->mb, on_handle_closed, w);
  }
  on_handle_closed(w);
}
