/*
 * cay_server_*: N shards (shard 0 on the caller's loop or Cay's own, the
 * others on threads of their own), and the drain-then-close protocol that
 * shard 0 leads by messages:
 *
 *   close -> DRAIN to all -> each shard ends its sessions (BYE), keeps
 *   reading meanwhile -> DRAINED to shard 0 -> when all drained: EXIT to
 *   all -> each stops reading, sends FINAL (its counters) and closes ->
 *   shard 0, with every FINAL in, closes its mailbox, joins the threads
 *   and calls the close callback.
 *
 * Every shard keeps reading until all are drained: with SO_REUSEPORT a
 * peer's datagrams always reach one socket, so a shard that stopped early
 * would strand the BYE responses of other shards' calls.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "server/metrics.h"
#include "server/server_int.h"
#include "server/tls_conf.h"
#include "transport/steer.h"

/* The first listen address of worker @p w over @p proto (CAY__UDP: UDP,
 * else TCP); 1 if there is one. */
static int
first_listen(const cay__worker_t *w, int proto, cay__addr_t *out)
{
  if (proto == CAY__UDP && w->n_udp) {
    *out = w->udp_addr[0];
    return 1;
  }
  if (proto == CAY__UDP)
    proto = CAY__TCP;
  for (unsigned i = 0; i < w->n_tcp; i++)
    if (cay__tcp_proto(w->tcp[i]) == proto) {
      *out = w->tcp_addr[i];
      return 1;
    }
  return 0;
}

/* The Via sent-by and Contact host Cay names over @p proto (CAY__UDP for
 * UDP and TCP): the first listen address, or, for a wildcard bind, the
 * first non-loopback interface address. "" when there is no such listen
 * address. */
static void
choose_sent_by(const cay__worker_t *w, int proto, char *buf, size_t len)
{
  cay__addr_t a;
  unsigned port;
  uv_interface_address_t *ifs;
  char ip[64];
  int n;

  buf[0] = '\0';
  if (!first_listen(w, proto, &a))
    return;
  port = cay__addr_port(&a);
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
      cay__addr_set(&a, "127.0.0.1", port);
  }
  cay__addr_ip(&a, ip, sizeof ip);
  if (cay__addr_family(&a) == AF_INET6)
    snprintf(buf, len, "[%s]:%u", ip, port);
  else
    snprintf(buf, len, "%s:%u", ip, port);
}

uint64_t cay__tls_recheck_ms = 24ull * 3600 * 1000;

/* @p t (seconds since 1970) as "YYYY-MM-DD HH:MM UTC" into @p date.
 * @return 0, or -1 when it is no date. */
static int
format_date(long long t, char date[32])
{
  time_t tt = (time_t)t;
  struct tm tm;

  if (t == 0 || gmtime_r(&tt, &tm) == NULL)
    return -1;
  strftime(date, 32, "%Y-%m-%d %H:%M UTC", &tm);
  return 0;
}

void
cay__server_log_certificate(const cay__tls_ctx_t *ctx, const char *path,
                            long long now, int only_warnings)
{
  long long end = cay__tls_ctx_not_after(ctx);
  char date[32];

  if (format_date(end, date) != 0)
    return;
  if (end <= now)
    CAY_WARN(-1,
             "tls: certificate %s expired on %s: peers that verify it "
             "refuse Cay's TLS and WSS",
             path, date);
  else if (end - now < CAY__CERT_WARN_DAYS * 86400LL)
    CAY_WARN(-1,
             "tls: certificate %s expires on %s, in %lld days: renew it "
             "and reload (SIGHUP)",
             path, date, (end - now) / 86400);
  else if (!only_warnings)
    CAY_INFO(-1, "tls: certificate %s valid until %s", path, date);
}

void
cay__server_log_tls(const cay__tls_ctx_t *ctx, const cay_config_t *cfg,
                    int only_warnings)
{
  long long now = (long long)time(NULL);

  cay__server_log_certificate(ctx, cfg->tls_certificate, now, only_warnings);
  cay__server_log_crl(ctx, cfg->tls_crl_file, now, only_warnings);
}

void
cay__server_log_crl(const cay__tls_ctx_t *ctx, const char *path, long long now,
                    int only_warnings)
{
  long long next = cay__tls_ctx_crl_next_update(ctx);
  char date[32];

  if (format_date(next, date) != 0)
    return;
  if (next <= now)
    CAY_WARN(-1,
             "tls: a CRL of %s ran out on %s: every peer's certificate "
             "fails verification until a new one is read (fetch it, "
             "reload: SIGHUP)",
             path, date);
  else if (next - now < CAY__CRL_WARN_HOURS * 3600LL)
    CAY_WARN(-1,
             "tls: a CRL of %s runs out on %s, in %lld hours: fetch a new "
             "one and reload (SIGHUP)",
             path, date, (next - now) / 3600);
  else if (!only_warnings)
    CAY_INFO(-1, "tls: the CRLs of %s are current until %s", path, date);
}

/* The TLS context every shard's TLS and WSS transport shares, when a
 * listen address is tls or wss (RFC 3261 section 26.2). */
static int
make_tls(cay_server_t *srv, char *err, size_t errlen)
{
  const cay_config_t *c = &srv->cfg;
  cay__tls_conf_t conf;

  if (!cay__config_tls_conf(c, &conf))
    return 0;
  return cay__tls_ctx_new(&srv->tls, &conf, err, errlen);
}

static unsigned
shard_count(const cay_config_t *cfg)
{
  unsigned n = cfg->shards;

  if (n == 0) {
    /* shards: auto -> one per CPU. */
    uv_cpu_info_t *cpus;
    int count;
    n = uv_cpu_info(&cpus, &count) == 0 ? (unsigned)count : 1;
    if (n && cpus)
      uv_free_cpu_info(cpus, count);
  }
  if (n < 1)
    n = 1;
  if (n > CAY_MAX_SHARDS)
    n = CAY_MAX_SHARDS;
  return n;
}

static void
destroy_partial(cay_server_t *srv)
{
  for (unsigned i = srv->nshards; i-- > 0;)
    if (srv->workers[i])
      cay__worker_abort(srv->workers[i]);
  if (srv->owns_loop)
    uv_loop_close(&srv->own_loop);
  cay__tls_ctx_unref(srv->tls);
  cay__free(srv);
}

/* DESIGN.md section 3, step 2, done by the kernel: with 2 or more shards,
 * each UDP address's SO_REUSEPORT group gets the steering program, and a
 * datagram reaches its owner's socket without a hand-over between shards.
 * Best effort: without it (no CAP_BPF, an old kernel) the shards hand
 * datagrams over by mailbox as before, as with udp_steering: off in the
 * config. The workers bound their sockets in
 * shard order, so a socket's place in its group is its shard. */
static void
steer_udp(cay_server_t *srv)
{
  const cay__worker_t *w0 = srv->workers[0];
  char why[200];
  unsigned attached = 0;
  int prog, fd, err;

  if (srv->nshards < 2 || w0->n_udp == 0)
    return;
  if (!srv->cfg.udp_steering) {
    CAY_INFO(-1, "udp: kernel steering off (udp_steering: off); shards "
                 "hand datagrams to their owner by mailbox");
    return;
  }
  err = cay__steer_load(srv->nshards, &prog, why, sizeof why);
  if (err) {
    CAY_INFO(-1,
             "udp: no kernel steering (%s); shards hand datagrams to "
             "their owner by mailbox",
             why);
    return;
  }
  for (unsigned i = 0; i < w0->n_udp; i++) {
    fd = cay__udp_fd(w0->udp[i]);
    err = fd < 0 ? fd : cay__steer_attach(prog, fd);
    if (err) {
      CAY_INFO(-1,
               "udp: no kernel steering on listen address %u (%s); "
               "its shards hand datagrams over by mailbox",
               i, strerror(-err));
      continue;
    }
    attached++;
  }
  close(prog);
  if (attached)
    CAY_INFO(-1,
             "udp: the kernel steers each datagram to its shard by "
             "Call-ID (%u of %u listen addresses)",
             attached, w0->n_udp);
}

int
cay_server_create(cay_server_t **out, uv_loop_t *loop, const cay_config_t *cfg)
{
  char err_text[256], sent_by[CAY__WSS + 1][80] = { "127.0.0.1:5060" };
  cay_server_t *srv;
  int err = 0;

  err = cay_config_check(cfg, err_text, sizeof err_text);
  if (err) {
    CAY_ERROR(-1, "config: %s", err_text);
    return err;
  }
  srv = cay__calloc(1, sizeof *srv);
  if (srv == NULL)
    return -ENOMEM;
  srv->cfg = *cfg;
  cay__log_set_level(cfg->log_level);
  srv->nshards = shard_count(cfg);
  if ((err = make_tls(srv, err_text, sizeof err_text)) != 0) {
    CAY_ERROR(-1, "config: %s", err_text);
    cay__free(srv);
    return err;
  }
  if (srv->tls != NULL)
    cay__server_log_tls(srv->tls, cfg, 0);
  if (loop == NULL) {
    err = uv_loop_init(&srv->own_loop);
    if (err) {
      cay__tls_ctx_unref(srv->tls);
      cay__free(srv);
      return err;
    }
    loop = &srv->own_loop;
    srv->owns_loop = 1;
  }
  srv->loop = loop;
  for (unsigned i = 0; i < srv->nshards && err == 0; i++) {
    err = cay__worker_create(srv, i, i == 0 ? loop : NULL, &srv->workers[i]);
    if (err == 0)
      err = cay__worker_bind(srv, srv->workers[i]);
  }
  if (err == 0)
    steer_udp(srv);
  /* Every shard names the same address: they share it (SO_REUSEPORT). */
  for (int p = CAY__UDP; p <= CAY__WSS && err == 0; p++)
    if (p != CAY__TCP) /* TCP's is UDP's */
      choose_sent_by(srv->workers[0], p, sent_by[p], sizeof sent_by[0]);
  for (unsigned i = 0; i < srv->nshards && err == 0; i++)
    err = cay__worker_layers_init(srv->workers[i], sent_by);
  /* The bindings a store kept, before any shard runs (and before a shard
   * writes: what it restores is the store's already). */
  if (err == 0)
    cay__reg_store_load(srv);
  for (unsigned i = 0; i < srv->nshards && err == 0; i++)
    err = cay__reg_store_open(srv->workers[i]);
  /* Last: a failure before it leaves no endpoint to close. */
  if (err == 0 && cfg->metrics_listen[0]
      && (err
          = cay__metrics_open(&srv->metrics, srv, loop, cfg->metrics_listen))
             != 0)
    CAY_ERROR(-1, "cannot serve metrics on %s (metrics.listen): %s",
              cfg->metrics_listen, cay_strerror(err));
  if (err) {
    destroy_partial(srv);
    return err;
  }
  CAY_INFO(-1, "%u shard%s", srv->nshards, srv->nshards == 1 ? "" : "s");
  *out = srv;
  return 0;
}

int
cay_server_start(cay_server_t *srv)
{
  int err;

  if (srv->started || srv->closing)
    return CAY_ESTATE;
  /* DESIGN.md section 4: the registry is frozen before any shard runs, so
   * that the shards read it without locks. */
  cay__supps_freeze(&srv->supps);
  for (unsigned i = 0; i < srv->nshards; i++) {
    cay__supps_attach(&srv->supps, &srv->workers[i]->ep);
    /* Set before any shard runs, like the supplements: read without
     * locks from then on. */
    srv->workers[i]->ss.on_incoming = srv->on_incoming;
    srv->workers[i]->ss.incoming_arg = srv->incoming_arg;
    /* cay_server_on_cdr() came after the shards' layers were made: the
     * records go to it also without cdr.file. */
    cay__worker_cdr_sink(srv->workers[i]);
  }
  for (unsigned i = 0; i < srv->nshards; i++) {
    err = cay__worker_start(srv->workers[i]);
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

void
cay_server_close(cay_server_t *srv, uint64_t grace_ms, cay_server_close_cb cb,
                 void *arg)
{
  if (srv->closing)
    return;
  srv->closing = 1;
  srv->close_cb = cb;
  srv->close_arg = arg;
  srv->grace_ms = grace_ms;
  for (unsigned i = 0; i < srv->nshards; i++)
    cay__worker_post_ctl(srv->workers[i], MAIL_DRAIN, 0, 0, NULL);
}

void
cay__server_on_drained(cay_server_t *srv, unsigned from)
{
  (void)from;
  if (++srv->drained < srv->nshards)
    return;
  /* No shard has sessions left (or the grace ran out): stop everyone. */
  for (unsigned i = 0; i < srv->nshards; i++)
    cay__worker_post_ctl(srv->workers[i], MAIL_EXIT, 0, 0, NULL);
}

static void
on_mailbox_closed(void *arg)
{
  cay__worker_t *w0 = arg;

  if (--w0->open_handles == 0)
    cay__server_worker_closed(w0->srv, w0);
}

void
cay__server_on_final(cay_server_t *srv, unsigned from, const cay_stats_t *st)
{
  cay__worker_t *w0 = srv->workers[0];

  srv->shard_stats[from] = *st;
  srv->final_in[from] = 1;
  CAY_DEBUG(0, "final counters of shard %u in (%llu calls)", from,
            (unsigned long long)st->calls_in);
  cay__server_gather_final(srv, from);
  if (++srv->finals < srv->nshards)
    return;
  /* Every shard has reported: shard 0 may close its mailbox (anything
   * still queued is dispatched by the close). exit_worker() counted it. */
  w0->mb_open = 0;
  cay__mailbox_close(&w0->mb, on_mailbox_closed, w0);
}

void
cay__server_worker_closed(cay_server_t *srv, cay__worker_t *w)
{
  cay_stats_t *t = &srv->totals;

  /* Shards 1..N-1: their loop ends by itself now, and the thread with it.
   * Shard 0: everything else is finished too. */
  if (w->index != 0)
    return;
  for (unsigned i = 1; i < srv->nshards; i++) {
    if (srv->workers[i]->has_thread)
      uv_thread_join(&srv->workers[i]->thread);
    cay__worker_free(srv->workers[i]);
    srv->workers[i] = NULL;
  }
  cay__stats_sum(srv->shard_stats, srv->nshards, t);
  srv->finished = 1;
  if (srv->close_cb)
    srv->close_cb(srv, srv->close_arg);
  cay__worker_free(srv->workers[0]);
  srv->workers[0] = NULL;
  /* Every connection, and so every TLS session, has closed. */
  cay__tls_ctx_unref(srv->tls);
  srv->tls = NULL;
  if (!srv->owns_loop)
    cay__free(srv);
  /* With its own loop, cay_server_run() frees the server after the loop
   * has stopped. */
}

int
cay_supp_register(cay_server_t *srv, const cay_supp_t *supp)
{
  if (srv->started)
    return CAY_ESTATE;
  return cay__supps_add(&srv->supps, supp);
}

unsigned
cay_server_shards(const cay_server_t *srv)
{
  return srv->nshards;
}

int
cay_server_listen_addr(const cay_server_t *srv, unsigned index, char *buf,
                       size_t len)
{
  const cay__worker_t *w = srv->workers[0];
  unsigned u = 0, t = 0;
  char text[80];

  if (w == NULL || index >= srv->cfg.n_listen)
    return -EINVAL;
  /* Listen entries were bound in order, UDP and streams (TCP, TLS)
   * counted apart. */
  for (unsigned i = 0; i < index; i++)
    strcmp(srv->cfg.listen[i].proto, "udp") != 0 ? t++ : u++;
  int stream = strcmp(srv->cfg.listen[index].proto, "udp") != 0;
  if (cay__addr_format(stream ? &w->tcp_addr[t] : &w->udp_addr[u], text,
                       sizeof text))
    return -ENOSPC;
  if ((size_t)snprintf(buf, len, "%s:%s", srv->cfg.listen[index].proto, text)
      >= len)
    return -ENOSPC;
  return 0;
}
