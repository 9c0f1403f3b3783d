/*
 * cay_server_*: one shard on one loop, its UDP sockets, endpoint and
 * session layer, and the drain-then-close shutdown.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "cay/errno.h"
#include "cay/server.h"
#include "core/alloc.h"
#include "core/log.h"
#include "dialog/session.h"
#include "shard/shard.h"
#include "sip/txn.h"
#include "transport/udp.h"

struct cay_server {
  uv_loop_t *loop;
  uv_loop_t own_loop;
  int owns_loop;
  cay_config_t cfg;
  cay__shard_t shard;
  cay__endpoint_t ep;
  cay__sessions_t ss;
  cay__udp_t *udp[CAY_CONFIG_MAX_LISTEN];
  cay__addr_t bound[CAY_CONFIG_MAX_LISTEN];
  unsigned n_udp;
  int started, closing, finished;
  uv_timer_t grace;
  unsigned open_handles; /* handles whose close callback is pending */
  cay_stats_t final_stats;
  cay_server_close_cb close_cb;
  void *close_arg;
};

static int
send_udp(void *arg, const cay__addr_t *dst, const char *data, size_t len)
{
  cay_server_t *srv = arg;

  /* Send from the first socket of the destination's family. */
  for (unsigned i = 0; i < srv->n_udp; i++)
    if (cay__addr_family(&srv->bound[i]) == cay__addr_family(dst))
      return cay__udp_send(srv->udp[i], dst, data, len);
  return -EAFNOSUPPORT;
}

static void
on_datagram(cay__udp_t *u, const char *data, size_t len,
            const cay__addr_t *from, void *arg)
{
  cay_server_t *srv = arg;

  (void)u;
  cay__endpoint_recv(&srv->ep, data, len, from);
  cay__shard_flush(&srv->shard);
}

/* The Via sent-by and Contact host Cay names: the first listen address,
 * or, for a wildcard bind, the first non-loopback interface address. */
static void
choose_sent_by(cay_server_t *srv, char *buf, size_t len)
{
  cay__addr_t a = srv->bound[0];
  char ip[64];
  uv_interface_address_t *ifs;
  int n;

  if (a.u.sa.sa_family == AF_INET && a.u.sin.sin_addr.s_addr == 0
      && uv_interface_addresses(&ifs, &n) == 0) {
    for (int i = 0; i < n; i++) {
      if (!ifs[i].is_internal
          && ifs[i].address.address4.sin_family == AF_INET) {
        a.u.sin.sin_addr = ifs[i].address.address4.sin_addr;
        break;
      }
    }
    uv_free_interface_addresses(ifs, n);
    if (a.u.sin.sin_addr.s_addr == 0)
      cay__addr_set(&a, "127.0.0.1", cay__addr_port(&srv->bound[0]));
  }
  cay__addr_ip(&a, ip, sizeof ip);
  if (cay__addr_family(&a) == AF_INET6)
    snprintf(buf, len, "[%s]:%u", ip, cay__addr_port(&a));
  else
    snprintf(buf, len, "%s:%u", ip, cay__addr_port(&a));
}

static int
bind_all(cay_server_t *srv)
{
  int err;

  for (unsigned i = 0; i < srv->cfg.n_listen; i++) {
    const cay_listen_t *l = &srv->cfg.listen[i];
    cay__addr_t addr;
    char text[80];

    err = cay__addr_set(&addr, l->host, l->port);
    if (err)
      return CAY_ECONFIG;
    err = cay__udp_create(&srv->udp[i], srv->loop, &addr, on_datagram, srv);
    if (err) {
      CAY_ERROR(-1, "cannot listen on udp:%s:%u: %s", l->host, l->port,
                cay_strerror(err));
      return err;
    }
    srv->n_udp++;
    cay__udp_local(srv->udp[i], &srv->bound[i]);
    cay__addr_format(&srv->bound[i], text, sizeof text);
    CAY_INFO(0, "listening on udp:%s", text);
  }
  return 0;
}

static void
on_handle_closed(void *arg)
{
  cay_server_t *srv = arg;

  if (--srv->open_handles > 0)
    return;
  if (srv->close_cb)
    srv->close_cb(srv, srv->close_arg);
  if (!srv->owns_loop)
    cay__free(srv);
  /* With its own loop, cay_server_run() frees the server after the loop
   * has stopped. */
}

static void
on_uv_closed(uv_handle_t *h)
{
  on_handle_closed(h->data);
}

static void
close_udp(cay_server_t *srv)
{
  for (unsigned i = 0; i < srv->n_udp; i++) {
    srv->open_handles++;
    cay__udp_close(srv->udp[i], on_handle_closed, srv);
  }
  srv->n_udp = 0;
}

int
cay_server_create(cay_server_t **out, uv_loop_t *loop, const cay_config_t *cfg)
{
  char err_text[256], sent_by[80];
  cay_server_t *srv;
  int err;

  err = cay_config_check(cfg, err_text, sizeof err_text);
  if (err) {
    CAY_ERROR(-1, "config: %s", err_text);
    return err;
  }
  srv = cay__calloc(1, sizeof *srv);
  if (srv == NULL)
    return -ENOMEM;
  srv->cfg = *cfg;
  if (loop == NULL) {
    err = uv_loop_init(&srv->own_loop);
    if (err) {
      cay__free(srv);
      return err;
    }
    loop = &srv->own_loop;
    srv->owns_loop = 1;
  }
  srv->loop = loop;
  err = cay__shard_init(&srv->shard, loop, 0, 0);
  if (err)
    goto fail_shard;
  err = bind_all(srv);
  if (err)
    goto fail_bind;
  choose_sent_by(srv, sent_by, sizeof sent_by);
  cay__tu_t none = { 0 };
  err = cay__endpoint_init(&srv->ep, &srv->shard, &none, send_udp, srv,
                           sent_by);
  if (err)
    goto fail_bind;
  err = cay__sessions_init(&srv->ss, &srv->ep, cfg);
  if (err)
    goto fail_sessions;
  uv_timer_init(loop, &srv->grace);
  srv->grace.data = srv;
  *out = srv;
  return 0;

fail_sessions:
  cay__endpoint_fini(&srv->ep);
fail_bind:
  /* Sockets and the shard timer close asynchronously: run the loop until
   * they are gone so that nothing refers to freed memory. */
  srv->open_handles = 1;
  close_udp(srv);
  srv->open_handles += cay__shard_fini(&srv->shard, on_uv_closed, srv);
  uv_run(loop, UV_RUN_NOWAIT);
  uv_run(loop, UV_RUN_NOWAIT);
fail_shard:
  if (srv->owns_loop)
    uv_loop_close(&srv->own_loop);
  cay__free(srv);
  return err;
}

int
cay_server_start(cay_server_t *srv)
{
  int err;

  if (srv->started || srv->closing)
    return CAY_ESTATE;
  for (unsigned i = 0; i < srv->n_udp; i++) {
    err = cay__udp_start(srv->udp[i]);
    if (err)
      return err;
  }
  srv->started = 1;
  return 0;
}

int
cay_server_run(cay_server_t *srv)
{
  if (!srv->owns_loop)
    return CAY_ESTATE;
  uv_run(&srv->own_loop, UV_RUN_DEFAULT);
  uv_loop_close(&srv->own_loop);
  cay__free(srv);
  return 0;
}

/* End of the drain: everything left is cut, every handle closed. */
static void
finish(cay_server_t *srv)
{
  if (srv->finished)
    return;
  srv->finished = 1;
  uv_timer_stop(&srv->grace);
  for (unsigned i = 0; i < srv->n_udp; i++)
    cay__udp_stop(srv->udp[i]);
  /* The summary reports the state at the end of the drain: dialogs still
   * live and transactions still without a final response were cut. */
  srv->final_stats = srv->shard.stats;
  if (srv->final_stats.dialogs_live || srv->final_stats.txns_live)
    CAY_WARN(0, "drain ended with %llu dialogs and %llu transactions live",
             (unsigned long long)srv->final_stats.dialogs_live,
             (unsigned long long)srv->final_stats.txns_live);
  cay__sessions_fini(&srv->ss);
  cay__endpoint_fini(&srv->ep);
  srv->open_handles = 1; /* the grace timer */
  srv->open_handles += cay__shard_fini(&srv->shard, on_uv_closed, srv);
  close_udp(srv);
  uv_close((uv_handle_t *)&srv->grace, on_uv_closed);
}

static void
on_grace(uv_timer_t *h)
{
  finish(h->data);
}

static void
on_idle(void *arg)
{
  cay_server_t *srv = arg;

  /* Called from deep inside an event (the last session ended): finish on
   * the next loop iteration, not up this call stack. */
  uv_timer_start(&srv->grace, on_grace, 0, 0);
}

void
cay_server_close(cay_server_t *srv, uint64_t grace_ms, cay_server_close_cb cb,
                 void *arg)
{
  if (srv->closing)
    return;
  srv->closing = 1;
  srv->close_cb = cb;
  srv->close_arg = arg;
  CAY_INFO(0, "draining: %u sessions live", cay__sessions_live(&srv->ss));
  uv_timer_start(&srv->grace, on_grace, grace_ms, 0);
  cay__sessions_drain(&srv->ss, on_idle, srv);
  cay__shard_flush(&srv->shard);
}

void
cay_server_stats(const cay_server_t *srv, cay_stats_t *out)
{
  *out = srv->finished ? srv->final_stats : srv->shard.stats;
}

void
cay_stats_print(const cay_stats_t *st, FILE *f)
{
  fprintf(
      f,
      "msgs_in=%llu msgs_out=%llu retransmits=%llu parse_errors=%llu "
      "bad_requests=%llu dropped=%llu calls_in=%llu calls_answered=%llu "
      "calls_rejected=%llu byes_sent=%llu dialogs_live=%llu "
      "txns_live=%llu send_errors=%llu\n",
      (unsigned long long)st->msgs_in, (unsigned long long)st->msgs_out,
      (unsigned long long)st->retransmits, (unsigned long long)st->parse_errors,
      (unsigned long long)st->bad_requests, (unsigned long long)st->dropped,
      (unsigned long long)st->calls_in, (unsigned long long)st->calls_answered,
      (unsigned long long)st->calls_rejected, (unsigned long long)st->byes_sent,
      (unsigned long long)st->dialogs_live, (unsigned long long)st->txns_live,
      (unsigned long long)st->send_errors);
}

int
cay_server_listen_addr(const cay_server_t *srv, unsigned index, char *buf,
                       size_t len)
{
  char text[80];

  if (index >= srv->n_udp)
    return -EINVAL;
  if (cay__addr_format(&srv->bound[index], text, sizeof text))
    return -ENOSPC;
  if ((size_t)snprintf(buf, len, "udp:%s", text) >= len)
    return -ENOSPC;
  return 0;
}
