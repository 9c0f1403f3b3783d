/*
 * One shard of the server (DESIGN.md sections 1 and 3): its sockets,
 * sending (UDP from the own socket, TCP through the shard that owns the
 * connection), the mailbox dispatch, and this shard's part of the drain.
 * Where a message read here goes: worker_route.c.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "registrar/ban.h"
#include "registrar/registrar.h"
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

/* The first shard's line per listen address; for UDP with the receive
 * buffer the kernel granted, since net.core.rmem_max caps what Cay asks
 * for (4 MiB) and a small buffer drops bursts. */
static void
say_listening(cay__worker_t *w, const char *proto, const char *where)
{
  unsigned rcvbuf;

  if (strcmp(proto, "udp") == 0
      && cay__udp_meminfo(w->udp[w->n_udp - 1], NULL, &rcvbuf, NULL) == 0)
    CAY_INFO(0, "listening on %s:%s (receive buffer %u KiB)", proto, where,
             rcvbuf / 1024);
  else
    CAY_INFO(0, "listening on %s:%s", proto, where);
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

static void
on_datagram(cay__udp_t *u, const char *data, size_t len,
            const cay__addr_t *from, void *arg)
{
  cay__peer_t src = { .addr = *from, .proto = CAY__UDP, .conn = 0 };
  cay__worker_t *w = arg;
  char answer[CAY__STUN_ANSWER_MAX];
  int n;

  /* RFC 5626 section 8: a keep-alive of a UA on a UDP flow, answered by
   * whichever shard read it (it has no Call-ID, and no state). */
  if (cay__stun_maybe(data, len)) {
    n = cay__stun_answer(data, len, from, answer);
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

static void
on_tcp_message(cay__tcp_t *tcp, cay_id_t conn, int status, const char *data,
               size_t len, const cay__addr_t *from, void *arg)
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

/* This shard's resolver learnt that @p addr failed (@p for_s > 0) or
 * answers again (0): the other shards' resolvers learn it too (dns.h),
 * so a dead target costs the server one timer B, not one per shard. */
static void
share_target(void *arg, const cay__addr_t *addr, unsigned for_s)
{
  cay__worker_t *w = arg;

  /* Once this shard exits, shard 0 may free the others after our FINAL. */
  if (w->exiting)
    return;
  for (unsigned i = 0; i < w->srv->nshards; i++) {
    cay__worker_t *to = w->srv->workers[i];
    mail_target_t *m;

    if (i == w->index || to == NULL)
      continue;
    m = cay__malloc(sizeof *m);
    if (m == NULL) {
      /* Only an ordering hint is lost: that shard learns it itself. */
      CAY_WARN(SHARD_NO(w), "no memory to tell shard %u about a target", i);
      return;
    }
    m->m.kind = MAIL_TARGET;
    m->from = w->index;
    m->addr = *addr;
    m->for_s = for_s;
    if (cay__mailbox_post(&to->mb, &m->m) != 0)
      cay__free(m); /* that shard has stopped */
  }
}

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
static void
dispatch(cay__mail_t *m, void *arg)
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

/* Shard 0, each cay__tls_recheck_ms: warn of a certificate or a CRL
 * that ends soon or has ended (the lines of start and reload). */
static void
on_tls_recheck(cay__timer_t *t)
{
  cay__worker_t *w = t->data;
  const cay_server_t *srv = w->srv;

  if (w->draining || srv->tls == NULL)
    return;
  cay__server_log_tls(srv->tls, &srv->cfg, 1);
  if (cay__shard_timer_start(&w->shard, &w->tls_recheck, cay__tls_recheck_ms)
      != 0)
    CAY_WARN(0, "tls: cannot arm the certificate recheck: out of memory");
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

static void
close_sockets(cay__worker_t *w)
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
  close_sockets(w);
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

/* -- setup ---------------------------------------------------------------- */

int
cay__worker_bind(cay_server_t *srv, cay__worker_t *w)
{
  char text[80];
  int err;

  for (unsigned i = 0; i < srv->cfg.n_listen; i++) {
    const cay_listen_t *l = &srv->cfg.listen[i];
    cay__addr_t addr;

    if (cay__addr_set(&addr, l->host, l->port))
      return CAY_ECONFIG;
    if (strcmp(l->proto, "udp") != 0) {
      cay__tcp_opts_t o;
      cay__tcp_opts_init(&o);
      o.max_msg_bytes = srv->cfg.max_message_bytes;
      o.max_headers = srv->cfg.max_headers;
      o.max_conns = srv->cfg.tcp_max_connections;
      o.idle_timeout_ms = srv->cfg.tcp_idle_timeout_s * 1000u;
      o.connect_timeout_ms = srv->cfg.tcp_connect_timeout_ms;
      o.backlog_bytes = 1024u * (size_t)srv->cfg.tcp_overload_kib;
      /* RFC 3261 section 26.2: the same stream transport, in TLS;
       * RFC 7118: WebSocket, over TCP or TLS. */
      o.tls = strcmp(l->proto, "tls") == 0 || strcmp(l->proto, "wss") == 0
                  ? srv->tls
                  : NULL;
      o.ws = strcmp(l->proto, "ws") == 0 || strcmp(l->proto, "wss") == 0;
      err = cay__tcp_create(&w->tcp[w->n_tcp], &w->shard, &addr, &o,
                            on_tcp_message, w);
      if (err == 0) {
        cay__tcp_local(w->tcp[w->n_tcp], &w->tcp_addr[w->n_tcp]);
        cay__tcp_set_closed_cb(w->tcp[w->n_tcp], cay__worker_flow_closed);
        cay__tcp_set_refuse_cb(w->tcp[w->n_tcp], cay__worker_refuse_conn);
        cay__worker_set_origins(w, w->tcp[w->n_tcp], &srv->cfg);
      }
      if (err == 0)
        w->n_tcp++;
    } else {
      err = cay__udp_create(&w->udp[w->n_udp], w->loop, &addr, on_datagram, w);
      if (err == 0) {
        cay__udp_local(w->udp[w->n_udp], &w->udp_addr[w->n_udp]);
        cay__udp_set_backlog_percent(
            w->udp[w->n_udp], w->srv->cfg.udp_overload_percent, SHARD_NO(w));
        w->n_udp++;
      }
    }
    if (err) {
      CAY_ERROR(SHARD_NO(w), "cannot listen on %s:%s:%u: %s", l->proto, l->host,
                l->port, cay_strerror(err));
      return err;
    }
    if (w->index == 0) {
      cay__addr_format(strcmp(l->proto, "udp") != 0
                           ? &w->tcp_addr[w->n_tcp - 1]
                           : &w->udp_addr[w->n_udp - 1],
                       text, sizeof text);
      say_listening(w, l->proto, text);
    }
  }
  return 0;
}

int
cay__worker_create(cay_server_t *srv, unsigned index, uv_loop_t *loop,
                   cay__worker_t **out)
{
  cay__worker_t *w = cay__calloc(1, sizeof *w);
  int err;

  if (w == NULL)
    return -ENOMEM;
  w->srv = srv;
  w->index = index;
  /* 64*T1: a transaction's lifetime (RFC 3261 section 17.1.1.2). */
  err = cay__aliases_init(&w->aliases, 64 * (uint64_t)srv->cfg.t1_ms);
  if (err) {
    cay__free(w);
    return err;
  }
  if (loop == NULL) {
    err = uv_loop_init(&w->own_loop);
    if (err) {
      cay__aliases_fini(&w->aliases);
      cay__free(w);
      return err;
    }
    loop = &w->own_loop;
  }
  w->loop = loop;
  *out = w;
  err = cay__shard_init(&w->shard, loop, index, 0);
  if (err)
    return err;
  w->shard_up = 1;
  err = cay__mailbox_init(&w->mb, loop, dispatch, w, 0);
  if (err)
    return err;
  w->mb_open = 1;
  err = uv_timer_init(loop, &w->grace);
  if (err)
    return err;
  w->grace.data = w;
  w->grace_open = 1;
  cay__timer_init(&w->tls_recheck, on_tls_recheck, w);
  return 0;
}

int
cay__dns_servers_csv(const cay_config_t *c, char *csv, size_t size)
{
  csv[0] = '\0';
  for (unsigned i = 0; i < c->n_dns_servers && i < CAY_CONFIG_MAX_DNS; i++) {
    cay__addr_t a;
    size_t off = strlen(csv);
    /* "IP:PORT" or "[v6]:PORT" as c-ares reads them; checked at load. */
    if (cay__addr_parse(&a, c->dns_servers[i], 53) != 0 || off + 2 >= size)
      return CAY_ECONFIG;
    if (off)
      csv[off++] = ',';
    if (cay__addr_format(&a, csv + off, size - off) != 0)
      return CAY_ECONFIG;
  }
  return 0;
}

/* The shard's RFC 3263 resolver: the configured servers, and the
 * address families it has sockets of. */
static int
dns_create(cay__worker_t *w)
{
  const cay_config_t *c = &w->srv->cfg;
  cay__dns_opts_t o = { .timeout_ms = c->dns_timeout_ms,
                        .tries = 2,
                        .cache_entries = c->dns_cache_entries,
                        .cache_max_ttl_s = c->dns_cache_max_ttl_s,
                        .failed_target_s = c->dns_failed_target_s,
                        .stats = &w->shard.stats,
                        .share = w->srv->nshards > 1 ? share_target : NULL,
                        .share_arg = w };
  char csv[CAY__DNS_CSV_LEN], msg[256];
  int v4 = 0, v6 = 0, err;

  if (cay__dns_servers_csv(c, csv, sizeof csv) != 0)
    return CAY_ECONFIG;
  for (unsigned i = 0; i < w->n_udp + w->n_tcp; i++) {
    const cay__addr_t *a
        = i < w->n_udp ? &w->udp_addr[i] : &w->tcp_addr[i - w->n_udp];
    if (cay__addr_family(a) == AF_INET6)
      v6 = 1;
    else
      v4 = 1;
  }
  o.family = v4 && v6 ? AF_UNSPEC : v6 ? AF_INET6 : AF_INET;
  o.servers = csv;
  err = cay__dns_create(&w->dns, w->loop, &o, msg, sizeof msg);
  if (err)
    CAY_ERROR(SHARD_NO(w), "%s", msg);
  return err;
}

int
cay__worker_layers_init(cay__worker_t *w, const char sent_by[CAY__WSS + 1][80])
{
  cay__tu_t none = { 0 };
  int err;

  err = cay__endpoint_init(&w->ep, &w->shard, &none, cay__worker_send, w,
                           sent_by[CAY__UDP]);
  if (err)
    return err;
  snprintf(w->ep.sent_by_tls, sizeof w->ep.sent_by_tls, "%s",
           sent_by[CAY__TLS]);
  snprintf(w->ep.sent_by_ws, sizeof w->ep.sent_by_ws, "%s", sent_by[CAY__WS]);
  snprintf(w->ep.sent_by_wss, sizeof w->ep.sent_by_wss, "%s",
           sent_by[CAY__WSS]);
  /* RFC 3261 18.1.1 needs a TCP transport to move large requests to (a
   * TLS one is not: the target's URI did not ask for TLS). */
  w->ep.udp_max_request = 0;
  for (unsigned i = 0; i < w->n_tcp; i++)
    if (cay__tcp_proto(w->tcp[i]) == CAY__TCP)
      w->ep.udp_max_request = w->srv->cfg.udp_max_request_bytes;
  err = cay__sessions_init(&w->ss, &w->ep, &w->srv->cfg);
  w->ss.nshards = w->srv->nshards;
  if (w->srv->nshards > 1 && err == 0) {
    w->ss.on_foreign = cay__worker_session_foreign;
    w->ss.foreign_arg = w;
    cay__registrar_set_share(w->ss.reg, cay__worker_share_binding, w);
    cay__registrar_set_ban_share(w->ss.reg, cay__worker_share_ban, w);
  }
  if (err == 0 && (err = dns_create(w)) != 0)
    cay__sessions_fini(&w->ss);
  if (err) {
    cay__endpoint_fini(&w->ep);
    return err;
  }
  w->ss.dns = w->dns;
  w->layers_up = 1;
  return cay__worker_cdr_open(w, w->srv->cfg.cdr_file);
}

static void
thread_main(void *arg)
{
  cay__worker_t *w = arg;

  uv_run(w->loop, UV_RUN_DEFAULT);
}

int
cay__worker_start(cay__worker_t *w)
{
  int err;

  for (unsigned i = 0; i < w->n_udp; i++)
    if ((err = cay__udp_start(w->udp[i])) != 0)
      return err;
  for (unsigned i = 0; i < w->n_tcp; i++)
    if ((err = cay__tcp_start(w->tcp[i])) != 0)
      return err;
  if (w->index == 0) {
    if (w->srv->tls != NULL)
      return cay__shard_timer_start(&w->shard, &w->tls_recheck,
                                    cay__tls_recheck_ms);
    return 0;
  }
  /* Everything was set up on this thread; the new thread owns the loop
   * from here on (thread creation orders the two). */
  err = uv_thread_create(&w->thread, thread_main, w);
  if (err == 0)
    w->has_thread = 1;
  return err;
}

void
cay__worker_abort(cay__worker_t *w)
{
  if (w->layers_up) {
    cay__sessions_fini(&w->ss);
    cay__endpoint_fini(&w->ep);
    w->layers_up = 0;
  }
  if (w->store)
    cay__reg_store_close(w->store, NULL, NULL);
  w->store = NULL;
  if (w->cdr) /* nothing written yet: freed at once */
    cay__cdr_file_close(w->cdr, NULL, NULL);
  w->cdr = NULL;
  if (w->dns)
    cay__dns_close(w->dns, NULL, NULL);
  w->dns = NULL;
  close_sockets(w);
  if (w->grace_open)
    uv_close((uv_handle_t *)&w->grace, NULL);
  w->grace_open = 0;
  if (w->shard_up)
    cay__shard_fini(&w->shard, NULL, NULL);
  w->shard_up = 0;
  if (w->mb_open)
    cay__mailbox_close(&w->mb, NULL, NULL);
  w->mb_open = 0;
  /* Close callbacks run on the next iterations; counting them does not
   * matter any more. NOWAIT: shard 0's loop may be the caller's. */
  w->open_handles = 1u << 30;
  for (int i = 0; i < 4; i++)
    uv_run(w->loop, UV_RUN_NOWAIT);
  cay__worker_free(w);
}

void
cay__worker_free(cay__worker_t *w)
{
  if (w->loop == &w->own_loop)
    uv_loop_close(&w->own_loop);
  cay__aliases_fini(&w->aliases);
  cay__ban_free(w->flood);
  cay__free(w);
}
