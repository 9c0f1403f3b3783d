/*
 * Setting up one shard (DESIGN.md sections 1 and 3): its listen sockets,
 * its mailbox, timers, resolver and the layers above them, its thread;
 * and taking it down when a start fails half way (cay__worker_abort())
 * or after its exit (cay__worker_free()). What it does once running:
 * worker.c.
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
#include "server/server_int.h"
#include "transport/dns.h"

#define SHARD_NO(w) ((int)(w)->index)

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
                            cay__worker_on_tcp_message, w);
      if (err == 0) {
        cay__tcp_local(w->tcp[w->n_tcp], &w->tcp_addr[w->n_tcp]);
        cay__tcp_set_closed_cb(w->tcp[w->n_tcp], cay__worker_flow_closed);
        cay__tcp_set_refuse_cb(w->tcp[w->n_tcp], cay__worker_refuse_conn);
        cay__worker_set_origins(w, w->tcp[w->n_tcp], &srv->cfg);
      }
      if (err == 0)
        w->n_tcp++;
    } else {
      err = cay__udp_create(&w->udp[w->n_udp], w->loop, &addr,
                            cay__worker_on_datagram, w);
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
  err = cay__mailbox_init(&w->mb, loop, cay__worker_dispatch, w, 0);
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
  if (err == 0)
    cay__registrar_set_udp_flow_failed(w->ss.reg, cay__worker_udp_flow_failed,
                                       w);
  if (w->srv->nshards > 1 && err == 0) {
    w->ss.on_foreign = cay__worker_session_foreign;
    w->ss.foreign_arg = w;
    cay__registrar_set_share(w->ss.reg, cay__worker_share_binding, w);
    cay__registrar_set_ban_share(w->ss.reg, cay__worker_share_ban, w);
    cay__registrar_set_keepalive_share(w->ss.reg, cay__worker_share_keepalive,
                                       w);
    w->ss.store_hand = cay__worker_store_hand;
    w->ss.store_arg = w;
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
  cay__worker_close_sockets(w);
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
