/*
 * cay_server_reload(): a new configuration for a running server, taken by
 * every shard on its own thread without dropping a call.
 *
 *   reload (shard 0) -> check -> compile one route table per shard ->
 *   RELOAD mail to 1..N-1 (each with its table and the values) -> shard
 *   0 takes its own at once -> each shard swaps on its thread
 *
 * Nothing is posted until every table has compiled, the TLS files have
 * loaded into a new context and every mail is allocated, so a reload is
 * taken by all shards or by none. New TLS connections take the new
 * context; live ones keep their sessions. A call routed
 * before the reload keeps its route: a bridge holds the table it was
 * routed by (cay__routes_hold()) and the old table goes with the last
 * such call.
 */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "b2bua/route.h"
#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "server/cdr_file.h"
#include "server/server_int.h"
#include "server/tls_conf.h"

void
cay__worker_set_origins(cay__worker_t *w, cay__tcp_t *tcp,
                        const cay_config_t *cfg)
{
  const char *list[CAY_CONFIG_MAX_ORIGINS];
  unsigned n = cfg->n_ws_origins;

  if (!cay__proto_ws(cay__tcp_proto(tcp)))
    return;
  for (unsigned i = 0; i < n; i++)
    list[i] = cfg->ws_origins[i];
  if (cay__tcp_set_origins(tcp, list, n) != 0)
    CAY_WARN((int)w->index, "websocket.origins: out of memory, the list "
                            "before is kept");
}

/* A record of a call of worker @p arg's shard: to cdr.file and to the
 * embedder (cay_server_on_cdr()). */
static void
worker_cdr(void *arg, const cay_cdr_t *cdr)
{
  cay__worker_t *w = arg;

  if (w->cdr)
    cay__cdr_file_append(w->cdr, cdr->json, cdr->json_len);
  if (w->srv->on_cdr)
    w->srv->on_cdr(cdr, w->srv->cdr_arg);
}

int
cay__worker_cdr_open(cay__worker_t *w, const char *path)
{
  int err;

  if (w->cdr != NULL && path[0]) {
    (void)cay__cdr_file_reopen(w->cdr, path); /* a failure keeps the old */
    return 0;
  }
  if (w->cdr != NULL) { /* cdr.file removed: no more records */
    CAY_INFO((int)w->index, "cdr: no more records");
    cay__cdr_file_close(w->cdr, NULL, NULL);
    w->cdr = NULL;
  } else if (path[0]) {
    if ((err = cay__cdr_file_open(&w->shard, path, &w->cdr)) != 0)
      return err;
  }
  cay__worker_cdr_sink(w);
  return 0;
}

void
cay__worker_cdr_sink(cay__worker_t *w)
{
  w->ss.cdr_sink = w->cdr || w->srv->on_cdr ? worker_cdr : NULL;
  w->ss.cdr_arg = w;
}

void
cay__worker_reload(cay__worker_t *w, struct cay__routes *routes,
                   cay__tls_ctx_t *tls, const cay_config_t *cfg)
{
  if (w->exiting || !w->layers_up) {
    cay__routes_free(routes);
    cay__tls_ctx_unref(tls);
    return;
  }
  for (unsigned i = 0; i < w->n_udp; i++)
    cay__udp_set_backlog_percent(w->udp[i], cfg->udp_overload_percent,
                                 (int)w->index);
  for (unsigned i = 0; i < w->n_tcp; i++) {
    cay__tcp_set_backlog_bytes(w->tcp[i], 1024ull * cfg->tcp_overload_kib);
    if (tls != NULL && cay__proto_secure(cay__tcp_proto(w->tcp[i])))
      (void)cay__tcp_set_tls(w->tcp[i], tls);
    cay__worker_set_origins(w, w->tcp[i], cfg);
  }
  cay__tls_ctx_unref(tls);
  cay__sessions_reload(&w->ss, routes, cfg);
  (void)cay__worker_cdr_open(w, cfg->cdr_file); /* failures are logged */
  CAY_DEBUG((int)w->index, "reload taken: %u routes", cfg->n_routes);
}

/* Values a running server keeps until it is restarted: sockets, threads,
 * buffers and resolvers are made from them at start. */
#define KEPT(field, name)                                                      \
  {                                                                            \
    name, offsetof(cay_config_t, field)                                        \
  }
static const struct {
  const char *name;
  size_t off;
} kept_numbers[] = {
  KEPT(t1_ms, "timers.t1_ms"),
  KEPT(t2_ms, "timers.t2_ms"),
  KEPT(t4_ms, "timers.t4_ms"),
  KEPT(shards, "shards"),
  KEPT(udp_steering, "udp_steering"),
  KEPT(max_message_bytes, "limits.max_message_bytes"),
  KEPT(max_headers, "limits.max_headers"),
  KEPT(tcp_max_connections, "limits.tcp_max_connections"),
  KEPT(tcp_idle_timeout_s, "limits.tcp_idle_timeout_s"),
  KEPT(tcp_connect_timeout_ms, "limits.tcp_connect_timeout_ms"),
  KEPT(mailbox_messages, "limits.mailbox_messages"),
  KEPT(udp_max_request_bytes, "limits.udp_max_request_bytes"),
  KEPT(dns_timeout_ms, "dns.timeout_ms"),
  KEPT(dns_cache_entries, "dns.cache_entries"),
  KEPT(dns_cache_max_ttl_s, "dns.cache_max_ttl_s"),
  KEPT(dns_failed_target_s, "dns.failed_target_s"),
  KEPT(reg_store_db, "registrar.store.db"),
};

static unsigned
number_at(const cay_config_t *c, size_t off)
{
  unsigned v;

  memcpy(&v, (const char *)c + off, sizeof v);
  return v;
}

static int
same_listen(const cay_config_t *a, const cay_config_t *b)
{
  if (a->n_listen != b->n_listen)
    return 0;
  for (unsigned i = 0; i < a->n_listen; i++)
    if (strcmp(a->listen[i].proto, b->listen[i].proto) != 0
        || strcmp(a->listen[i].host, b->listen[i].host) != 0
        || a->listen[i].port != b->listen[i].port)
      return 0;
  return 1;
}

static int
same_names(const char (*a)[CAY_CONFIG_NAME_LEN], unsigned na,
           const char (*b)[CAY_CONFIG_NAME_LEN], unsigned nb)
{
  if (na != nb)
    return 0;
  for (unsigned i = 0; i < na; i++)
    if (strcmp(a[i], b[i]) != 0)
      return 0;
  return 1;
}

/* Log each value of @p next that differs from the running @p cur but
 * only takes effect at a restart, and put the running value back into
 * @p next: what is left of @p next is what the shards take, all of it.
 * (A value added to cay_config_t is thus taken by a reload unless it is
 * named here.) @return how many differed. */
static unsigned
keep_running(const cay_config_t *cur, cay_config_t *next)
{
  static const char tail[] = "takes effect at a restart; the running value "
                             "is kept";
  unsigned n = 0;

  for (size_t i = 0; i < sizeof kept_numbers / sizeof kept_numbers[0]; i++) {
    unsigned was = number_at(cur, kept_numbers[i].off);
    unsigned now = number_at(next, kept_numbers[i].off);
    if (was != now) {
      CAY_WARN(0, "reload: %s changed (%u -> %u): %s", kept_numbers[i].name,
               was, now, tail);
      memcpy((char *)next + kept_numbers[i].off, &was, sizeof was);
      n++;
    }
  }
  if (!same_listen(cur, next)) {
    CAY_WARN(0, "reload: listen changed: %s", tail);
    n++;
  }
  memcpy(next->listen, cur->listen, sizeof next->listen);
  next->n_listen = cur->n_listen;
  if (!same_names(cur->codecs, cur->n_codecs, next->codecs, next->n_codecs)) {
    CAY_WARN(0, "reload: answer.codecs changed: %s", tail);
    n++;
  }
  memcpy(next->codecs, cur->codecs, sizeof next->codecs);
  next->n_codecs = cur->n_codecs;
  if (strcmp(cur->reg_store_redis, next->reg_store_redis) != 0
      || strcmp(cur->reg_store_prefix, next->reg_store_prefix) != 0
      || strcmp(cur->reg_store_password, next->reg_store_password) != 0) {
    CAY_WARN(0, "reload: registrar.store changed: %s", tail);
    n++;
  }
  memcpy(next->reg_store_redis, cur->reg_store_redis,
         sizeof next->reg_store_redis);
  memcpy(next->reg_store_prefix, cur->reg_store_prefix,
         sizeof next->reg_store_prefix);
  memcpy(next->reg_store_password, cur->reg_store_password,
         sizeof next->reg_store_password);
  if (strcmp(cur->metrics_listen, next->metrics_listen) != 0) {
    CAY_WARN(0, "reload: metrics.listen changed: %s", tail);
    n++;
  }
  memcpy(next->metrics_listen, cur->metrics_listen,
         sizeof next->metrics_listen);
  if (strcmp(cur->media_ip, next->media_ip) != 0) {
    CAY_WARN(0, "reload: answer.media_ip changed (%s -> %s): %s", cur->media_ip,
             next->media_ip, tail);
    n++;
  }
  memcpy(next->media_ip, cur->media_ip, sizeof next->media_ip);
  if (!same_names(cur->dns_servers, cur->n_dns_servers, next->dns_servers,
                  next->n_dns_servers)) {
    CAY_WARN(0, "reload: dns.servers changed: %s", tail);
    n++;
  }
  memcpy(next->dns_servers, cur->dns_servers, sizeof next->dns_servers);
  next->n_dns_servers = cur->n_dns_servers;
  return n;
}

/* The tls: values of @p next, which shard 0 reads again from the
 * server's copy @p cur (on_tls_recheck(), worker_setup.c). Nothing else of
 * @p cur is written: the other shards read it without a lock. */
static void
keep_tls_files(cay_config_t *cur, const cay_config_t *next)
{
  memcpy(cur->tls_certificate, next->tls_certificate,
         sizeof cur->tls_certificate);
  memcpy(cur->tls_private_key, next->tls_private_key,
         sizeof cur->tls_private_key);
  memcpy(cur->tls_ca_file, next->tls_ca_file, sizeof cur->tls_ca_file);
  memcpy(cur->tls_crl_file, next->tls_crl_file, sizeof cur->tls_crl_file);
  cur->tls_verify_server = next->tls_verify_server;
  cur->tls_verify_client = next->tls_verify_client;
  cur->tls_crl_check = next->tls_crl_check;
}

/* A TLS context from @p cfg's tls: section, when the server runs TLS
 * transports: the files are read again (a certificate renewed in place
 * is taken too). *@p out NULL: nothing to do. */
static int
new_tls(cay_server_t *srv, const cay_config_t *cfg, cay__tls_ctx_t **out,
        char *err, size_t errlen)
{
  cay__tls_conf_t conf;

  *out = NULL;
  (void)cay__config_tls_conf(cfg, &conf);
  if (srv->tls == NULL)
    return 0;
  if (cfg->tls_certificate[0] == '\0') {
    cay__errmsg(err, errlen,
                "tls: the running tls listen address needs "
                "tls.certificate and tls.private_key");
    return CAY_ECONFIG;
  }
  return cay__tls_ctx_new(out, &conf, err, errlen);
}

static void
free_prepared(mail_reload_t **mails, cay__routes_t **tables, unsigned n)
{
  for (unsigned i = 0; i < n; i++) {
    cay__routes_free(tables[i]);
    cay__free(mails[i]);
  }
}

/* Compile a table per shard and allocate the mail of shards 1..N-1.
 * @return 0, or the first error with everything freed. */
static int
prepare(cay_server_t *srv, const cay_config_t *cfg, mail_reload_t **mails,
        cay__routes_t **tables, char *err, size_t errlen)
{
  int rc;

  for (unsigned i = 0; i < srv->nshards; i++) {
    if (cfg->n_routes
        && (rc = cay__routes_new(cfg, &tables[i], err, errlen)) != 0) {
      free_prepared(mails, tables, i);
      return rc;
    }
    if (i > 0 && (mails[i] = cay__malloc(sizeof *mails[i])) == NULL) {
      cay__routes_free(tables[i]);
      free_prepared(mails, tables, i);
      cay__errmsg(err, errlen, "out of memory");
      return -ENOMEM;
    }
  }
  return 0;
}

int
cay_server_reload(cay_server_t *srv, const cay_config_t *cfg, char *err,
                  size_t errlen)
{
  mail_reload_t *mails[CAY_MAX_SHARDS] = { 0 };
  cay__routes_t *tables[CAY_MAX_SHARDS] = { 0 };
  cay_config_t *taken; /* cfg with the running values it cannot change */
  cay__tls_ctx_t *tls;
  unsigned kept;
  int rc;

  if (!srv->started || srv->closing) {
    cay__errmsg(err, errlen, "the server is %s",
                srv->closing ? "closing" : "not started");
    return CAY_ESTATE;
  }
  if ((rc = cay_config_check(cfg, err, errlen)) != 0)
    return rc;
  if ((taken = cay__malloc(sizeof *taken)) == NULL) {
    cay__errmsg(err, errlen, "out of memory");
    return -ENOMEM;
  }
  if ((rc = new_tls(srv, cfg, &tls, err, errlen)) != 0
      || (rc = prepare(srv, cfg, mails, tables, err, errlen)) != 0) {
    cay__tls_ctx_unref(tls);
    cay__free(taken);
    return rc;
  }
  *taken = *cfg;
  kept = keep_running(&srv->cfg, taken);
  for (unsigned i = 1; i < srv->nshards; i++) {
    mails[i]->m.kind = MAIL_RELOAD;
    mails[i]->routes = tables[i];
    mails[i]->tls = tls ? cay__tls_ctx_ref(tls) : NULL;
    mails[i]->cfg = *taken;
    /* Control mail has no bound, and no mailbox closes before the
     * server is closing: a failure here is a bug, and the shard keeps
     * what it had. */
    if ((rc = cay__mailbox_post(&srv->workers[i]->mb, &mails[i]->m)) != 0) {
      CAY_ERROR(0, "reload: shard %u did not take it: %s", i, cay_strerror(rc));
      cay__routes_free(tables[i]);
      cay__tls_ctx_unref(mails[i]->tls);
      cay__free(mails[i]);
    }
  }
  cay__worker_reload(srv->workers[0], tables[0],
                     tls ? cay__tls_ctx_ref(tls) : NULL, taken);
  if (tls != NULL) {
    /* The server's reference: the context of the next reload's compare
     * and of the final free. */
    cay__tls_ctx_unref(srv->tls);
    srv->tls = tls;
    cay__server_log_tls(tls, cfg, 0);
    CAY_INFO(0, "reload: tls: %s read again; new connections use it",
             cfg->tls_certificate);
  }
  cay__log_set_level(cfg->log_level);
  keep_tls_files(&srv->cfg, taken);
  cay__free(taken);
  CAY_INFO(0,
           "reload: %u route%s taken by %u shard%s for new calls, log "
           "level %s; %u value%s kept until a restart",
           cfg->n_routes, cfg->n_routes == 1 ? "" : "s", srv->nshards,
           srv->nshards == 1 ? "" : "s", cay__log_level_name(cfg->log_level),
           kept, kept == 1 ? "" : "s");
  return 0;
}
