/*
 * registrar.store: the location service's bindings kept in Redis, so that
 * a restart finds them (server_int.h). hiredis speaks to Redis; the
 * records are registrar/persist.c's.
 *
 *   cay_server_create() -> cay__reg_store_load(): one blocking
 *     connection; SCAN prefix* and MGET -> each AOR's record to its
 *     owner shard's registrar (cay__registrar_restore()), before any
 *     shard runs; then each shard opens its own connection:
 *   a change to an AOR the shard owns -> SET prefix+AOR record PX ttl
 *     (DEL when it has no binding left), on the shard's loop; a change
 *     to the MESSAGEs kept for it (b2bua/pager.h) -> the same with key
 *     prefix+"msgs:"+AOR
 *   a host name (not an IP) -> looked up with c-ares on the shard's loop
 *     (dns.servers, A and AAAA), its addresses tried in order, each for
 *     at most CONNECT_TIMEOUT_MS; looked up again at each retry
 *   the connection lost -> logged once; changes meanwhile are noted ->
 *     retried every second -> when back, those AORs removed meanwhile are
 *     deleted and every AOR of the shard is written anew
 *   the load at start failed (Redis not up yet) -> once a shard's own
 *     connection is made, after writing its AORs, it loads late: SCAN
 *     prefix* and MGET, on its loop, restoring its own AORs that have no
 *     binding in memory (one that has is newer, and written already)
 *   the shard exits -> pending writes are flushed (at most 2 s), closed;
 *     the keys stay for the next start
 *
 * Keys expire with their last binding (PX), so Redis drops what a
 * stopped Cay can no longer remove.
 */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b2bua/pager.h"
#include "cay/errno.h"
#include "core/alloc.h"
#include "core/log.h"
#include "server/reg_store_int.h"

#define RETRY_MS           1000
#define CLOSE_DEADLINE_MS  2000
#define CONNECT_TIMEOUT_MS 2000
/* AORs removed while Redis was away, remembered at most (a bound on
 * memory; past it, a removal may come back at a restart). */
#define GONE_MAX 100000
/* The shard's counters (store_up, store_writes, store_failures). */
#define STATS(st) ((st)->w->shard.stats)

/* hiredis's events on a libuv loop: its socket's poll handle. */
struct glue {
  uv_poll_t poll;
  int events;
  redisAsyncContext *ac; /* NULL once hiredis let it go */
  struct cay__reg_store *st;
};

static void connect_now(struct cay__reg_store *st);
static void close_timer(struct cay__reg_store *st);

uint64_t
cay__reg_store_wall_ms(void)
{
  struct timespec ts;

  clock_gettime(CLOCK_REALTIME, &ts);
  return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

/* registrar.store.redis as hiredis takes it: a Unix socket's path, or a
 * host (IPv6 without brackets) and port. @return 1 for a path. */
int
cay__reg_store_target(const cay_config_t *cfg, char *host, size_t size,
                      int *port)
{
  const char *r = cfg->reg_store_redis, *colon = strrchr(r, ':');
  size_t len;

  if (r[0] == '/')
    return 1;
  /* cay_config_check() saw host:port. */
  len = (size_t)(colon - r);
  if (r[0] == '[') {
    r++;
    len -= 2;
  }
  snprintf(host, size, "%.*s", (int)len, r);
  *port = atoi(colon + 1);
  return 0;
}

/* -- hiredis on the shard's loop ----------------------------------------- */

static void
handle_closed(struct cay__reg_store *st)
{
  if (--st->handles)
    return;
  while (st->gone) {
    gone_t *g = st->gone;
    st->gone = g->next;
    cay__free(g);
  }
  if (st->closed_cb)
    st->closed_cb(st->closed_arg);
  cay__free(st);
}

static void
on_glue_closed(uv_handle_t *h)
{
  glue_t *g = h->data;
  struct cay__reg_store *st = g->st;

  cay__free(g);
  handle_closed(st);
}

static void
on_poll(uv_poll_t *h, int status, int events)
{
  glue_t *g = h->data;

  /* An error on the socket: hiredis's read or write finds it. */
  if (status < 0)
    events = g->events;
  if (g->ac && (events & UV_READABLE))
    redisAsyncHandleRead(g->ac);
  if (g->ac && (events & UV_WRITABLE))
    redisAsyncHandleWrite(g->ac);
}

static void
set_events(glue_t *g, int events)
{
  g->events = events;
  if (events)
    uv_poll_start(&g->poll, events, on_poll);
  else
    uv_poll_stop(&g->poll);
}

static void
add_read(void *p)
{
  glue_t *g = p;
  set_events(g, g->events | UV_READABLE);
}

static void
del_read(void *p)
{
  glue_t *g = p;
  set_events(g, g->events & ~UV_READABLE);
}

static void
add_write(void *p)
{
  glue_t *g = p;
  set_events(g, g->events | UV_WRITABLE);
}

static void
del_write(void *p)
{
  glue_t *g = p;
  set_events(g, g->events & ~UV_WRITABLE);
}

/* hiredis lets the context go (a disconnect, a failed connect, a free). */
static void
cleanup(void *p)
{
  glue_t *g = p;

  g->ac = NULL;
  if (g->st->glue == g)
    g->st->glue = NULL;
  uv_poll_stop(&g->poll);
  uv_close((uv_handle_t *)&g->poll, on_glue_closed);
}

/* -- writing ------------------------------------------------------------- */

static void
on_reply(redisAsyncContext *c, void *reply, void *arg)
{
  struct cay__reg_store *st = arg;
  const redisReply *r = reply;

  (void)c;
  if (r == NULL) /* the connection went first: written again when back */
    return;
  if (r->type != REDIS_REPLY_ERROR) {
    st->failing = 0;
    return;
  }
  STATS(st).store_failures++;
  st->dirty = 1; /* written again after the next reconnect */
  if (!st->failing)
    CAY_WARN(SHARD_NO(st->w), "registrar store: redis %s: %s",
             st->w->srv->cfg.reg_store_redis, r->str);
  st->failing = 1;
}

/* Remember that @p aor went while Redis was away. */
static void
note_gone(struct cay__reg_store *st, const char *aor)
{
  size_t len = strlen(aor);
  gone_t *g;

  if (st->n_gone == GONE_MAX
      || (g = cay__malloc(sizeof *g + len + 1)) == NULL) {
    CAY_WARN(SHARD_NO(st->w),
             "registrar store: AOR %s removed while redis is away, and too "
             "many such to remember: its old bindings may come back at a "
             "restart, until they expire",
             aor);
    return;
  }
  memcpy(g->aor, aor, len + 1);
  g->next = st->gone;
  st->gone = g;
  st->n_gone++;
}

/* The record of key prefix + @p name (an AOR, or CAY__REG_STORE_MSGS and
 * an AOR) is now @p rec (NULL: none; @p err: not known, no memory):
 * SET with TTL @p ttl, DEL, or noted for when Redis is back. Frees
 * @p rec. */
static void
write_key(struct cay__reg_store *st, const char *name, int err, char *rec,
          size_t len, uint64_t ttl)
{
  const cay_config_t *cfg = &st->w->srv->cfg;
  char key[CAY_CONFIG_NAME_LEN + sizeof CAY__REG_STORE_MSGS + CAY__AOR_MAX];
  int klen = snprintf(key, sizeof key, "%s%s", cfg->reg_store_prefix, name);

  if (st->batch_list)
    cay__reg_store_late_changed(st, name);
  if (err != 0) {
    CAY_WARN(SHARD_NO(st->w),
             "registrar store: no memory to write %s: written when the "
             "connection to redis is next made",
             name);
    st->dirty = 1;
    return;
  }
  if (!st->connected) {
    st->dirty = 1;
    if (rec == NULL)
      note_gone(st, name);
  } else if (rec) {
    redisAsyncCommand(st->ac, on_reply, st, "SET %b %b PX %llu", key,
                      (size_t)klen, rec, len, (unsigned long long)ttl);
    STATS(st).store_writes++;
  } else {
    redisAsyncCommand(st->ac, on_reply, st, "DEL %b", key, (size_t)klen);
    STATS(st).store_writes++;
  }
  cay__free(rec);
}

/* cay__registrar_store_fn, and each AOR of write_all(). */
static void
write_aor(void *arg, const char *aor)
{
  struct cay__reg_store *st = arg;
  char *rec = NULL;
  uint64_t ttl = 0;
  size_t len = 0;
  int err = cay__registrar_record(st->w->ss.reg, aor, cay__reg_store_wall_ms(),
                                  &rec, &len, &ttl);

  write_key(st, aor, err, rec, len, ttl);
}

/* cay__sessions_t.store_msgs: the MESSAGEs kept for @p aor (b2bua/pager.h),
 * under key prefix + CAY__REG_STORE_MSGS + AOR; and each such AOR of
 * write_all(). */
static void
write_msgs(void *arg, const char *aor)
{
  struct cay__reg_store *st = arg;
  char name[sizeof CAY__REG_STORE_MSGS + CAY__AOR_MAX], *rec = NULL;
  uint64_t ttl = 0;
  size_t len = 0;
  int err = cay__pager_store_record(&st->w->ss, aor, cay__reg_store_wall_ms(),
                                    &rec, &len, &ttl);

  snprintf(name, sizeof name, "%s%s", CAY__REG_STORE_MSGS, aor);
  write_key(st, name, err, rec, len, ttl);
}

/* Back after changes went unwritten: the AORs removed meanwhile are
 * deleted, then every AOR is written. */
static void
write_all(struct cay__reg_store *st)
{
  const cay_config_t *cfg = &st->w->srv->cfg;

  while (st->gone) {
    gone_t *g = st->gone;
    st->gone = g->next;
    redisAsyncCommand(st->ac, on_reply, st, "DEL %s%s", cfg->reg_store_prefix,
                      g->aor);
    STATS(st).store_writes++;
    cay__free(g);
  }
  st->n_gone = 0;
  st->dirty = 0;
  cay__registrar_each_aor(st->w->ss.reg, write_aor, st);
  cay__pager_store_each_aor(&st->w->ss, write_msgs, st);
}

/* -- connecting ---------------------------------------------------------- */

static void
on_retry(uv_timer_t *t)
{
  connect_now(t->data);
}

/* The connection failed or was lost: logged once until it is back. The
 * retry looks the host name up again. */
static void
lost(struct cay__reg_store *st, const char *why)
{
  st->ac = NULL;
  st->connected = 0;
  STATS(st).store_up = 0;
  st->n_addrs = st->next_addr = 0;
  if (st->closing)
    return;
  if (!st->lost)
    CAY_WARN(SHARD_NO(st->w),
             "registrar store: redis %s: connection lost (%s): changes are "
             "kept in memory and written when it is back; retrying every "
             "%d ms",
             st->w->srv->cfg.reg_store_redis, why, RETRY_MS);
  st->lost = 1;
  st->dirty = 1;
  uv_timer_start(&st->timer, on_retry, RETRY_MS, 0);
}

void
cay__reg_store_addr_error(const cay__addr_t *a, const char *why, char *buf,
                          size_t size)
{
  char addr[64];

  if (cay__addr_format(a, addr, sizeof addr) != 0)
    snprintf(addr, sizeof addr, "?");
  snprintf(buf, size, "%s: %s", addr, why);
}

/* The address just tried did not take the connection (@p why): the host
 * name's next address now, or, after its last, lost(). */
static void
address_failed(struct cay__reg_store *st, const char *why)
{
  char text[160];

  st->ac = NULL;
  if (st->closing)
    return;
  STATS(st).store_failures++;
  if (st->next_addr == 0) { /* an IP or a Unix socket */
    lost(st, why);
    return;
  }
  cay__reg_store_addr_error(&st->addrs[st->next_addr - 1], why, text,
                            sizeof text);
  if (st->next_addr == st->n_addrs) {
    lost(st, text);
    return;
  }
  if (!st->lost)
    CAY_WARN(SHARD_NO(st->w),
             "registrar store: redis %s: %s: trying its next address",
             st->w->srv->cfg.reg_store_redis, text);
  uv_timer_start(&st->timer, on_retry, 0, 0); /* out of hiredis's call */
}

static void
on_connect_timeout(uv_timer_t *t)
{
  struct cay__reg_store *st = t->data;
  char why[64];

  if (st->ac == NULL || st->connected)
    return;
  st->ac->data = NULL; /* no on_disconnect() for it */
  redisAsyncFree(st->ac);
  snprintf(why, sizeof why, "no connection within %d ms", CONNECT_TIMEOUT_MS);
  address_failed(st, why);
}

static void
on_connect(const redisAsyncContext *c, int status)
{
  struct cay__reg_store *st = c->data;
  const cay_config_t *cfg;

  if (st == NULL) /* freed by on_connect_timeout() */
    return;
  cfg = &st->w->srv->cfg;
  uv_timer_stop(&st->timer); /* the connect's deadline */
  if (status != REDIS_OK) {  /* hiredis frees the context */
    address_failed(st, c->errstr);
    return;
  }
  st->connected = 1;
  STATS(st).store_up = 1;
  if (cfg->reg_store_password[0])
    redisAsyncCommand(st->ac, on_reply, st, "AUTH %s", cfg->reg_store_password);
  if (cfg->reg_store_db)
    redisAsyncCommand(st->ac, on_reply, st, "SELECT %u", cfg->reg_store_db);
  st->lost = 0;
  if (st->dirty) { /* lost() sets it too */
    CAY_INFO(SHARD_NO(st->w),
             "registrar store: redis %s: connected; writing this shard's %u "
             "AORs",
             cfg->reg_store_redis, cay__registrar_aors(st->w->ss.reg));
    write_all(st);
  }
  if (st->need_load) /* after the writes: their keys are skipped */
    cay__reg_store_late_load(st);
}

static void
on_disconnect(const redisAsyncContext *c, int status)
{
  struct cay__reg_store *st = c->data;

  (void)status;
  if (st == NULL) /* freed by on_connect_timeout() */
    return;
  if (status != REDIS_OK) /* not our own redisAsyncDisconnect() */
    STATS(st).store_failures++;
  lost(st, c->errstr[0] ? c->errstr : "closed by the server");
  if (st->closing) /* the pending writes are done */
    close_timer(st);
}

/* Start connecting with @p ac (hiredis's, NULL for no memory): its
 * socket polled on the shard's loop, at most CONNECT_TIMEOUT_MS. */
static void
connect_with(struct cay__reg_store *st, redisAsyncContext *ac)
{
  glue_t *g = NULL;

  if (ac == NULL || ac->err || (g = cay__calloc(1, sizeof *g)) == NULL
      || uv_poll_init(st->w->loop, &g->poll, ac->c.fd) != 0) {
    const char *why = ac == NULL ? "no memory" : ac->err ? ac->errstr : "";
    char text[128];
    snprintf(text, sizeof text, "%s", why[0] ? why : "cannot poll its socket");
    cay__free(g);
    if (ac)
      redisAsyncFree(ac);
    address_failed(st, text);
    return;
  }
  g->poll.data = g;
  g->ac = ac;
  g->st = st;
  st->handles++;
  st->glue = g;
  st->ac = ac;
  ac->data = st;
  ac->ev.data = g;
  ac->ev.addRead = add_read;
  ac->ev.delRead = del_read;
  ac->ev.addWrite = add_write;
  ac->ev.delWrite = del_write;
  ac->ev.cleanup = cleanup;
  redisAsyncSetDisconnectCallback(ac, on_disconnect);
  /* Last: it asks for the write event that says the connect is done. */
  redisAsyncSetConnectCallback(ac, on_connect);
  uv_timer_start(&st->timer, on_connect_timeout, CONNECT_TIMEOUT_MS, 0);
}

/* The host name's addresses (cay__dns_locate()'s answer). */
static void
on_resolved(void *arg, uint64_t id, int err, const cay__dns_target_t *targets,
            size_t n)
{
  struct cay__reg_store *st = arg;

  (void)id;
  if (err) {
    STATS(st).store_failures++;
    lost(st, cay__reg_store_lookup_error(err));
    return;
  }
  for (size_t i = 0; i < n; i++)
    st->addrs[i] = targets[i].addr;
  st->n_addrs = (unsigned)n;
  st->next_addr = 0;
  connect_now(st);
}

/* Connect to registrar.store.redis: its Unix socket or IP, or the host
 * name's next address (looked up first when none is left). */
static void
connect_now(struct cay__reg_store *st)
{
  const cay_config_t *cfg = &st->w->srv->cfg;
  char host[CAY_CONFIG_TEXT_LEN];
  int port = 0, err;

  if (cay__reg_store_target(cfg, host, sizeof host, &port)) {
    connect_with(st, redisAsyncConnectUnix(cfg->reg_store_redis));
    return;
  }
  if (st->dns == NULL) {
    connect_with(st, redisAsyncConnect(host, port));
    return;
  }
  if (st->next_addr < st->n_addrs) {
    const cay__addr_t *a = &st->addrs[st->next_addr++];
    (void)cay__addr_ip(a, host, sizeof host);
    connect_with(st, redisAsyncConnect(host, (int)cay__addr_port(a)));
    return;
  }
  err = cay__dns_locate(st->dns,
                        &(cay__dns_query_t){ .host = host,
                                             .port = (unsigned)port,
                                             .proto = CAY__TCP },
                        on_resolved, st, 0);
  if (err) {
    STATS(st).store_failures++;
    lost(st, cay__reg_store_lookup_error(err));
  }
}

int
cay__reg_store_dns(const cay_config_t *cfg, uv_loop_t *loop, cay__dns_t **out,
                   int shard)
{
  cay__dns_opts_t o = { .timeout_ms = cfg->dns_timeout_ms,
                        .tries = 2,
                        .family = AF_UNSPEC,
                        .cache_entries = 4,
                        .cache_max_ttl_s = cfg->dns_cache_max_ttl_s };
  char csv[CAY__DNS_CSV_LEN], msg[256] = "";
  int err = cay__dns_servers_csv(cfg, csv, sizeof csv);

  o.servers = csv;
  if (err == 0)
    err = cay__dns_create(out, loop, &o, msg, sizeof msg);
  if (err)
    CAY_ERROR(shard, "registrar store: redis %s: cannot look up its host: %s",
              cfg->reg_store_redis, msg[0] ? msg : cay_strerror(err));
  return err;
}

const char *
cay__reg_store_lookup_error(int err)
{
  return err == CAY_ENOTFOUND ? "its host name: no such name, or no address"
         : err == -ETIMEDOUT  ? "its host name: no DNS server answered"
         : err == -EIO        ? "its host name: the DNS server failed"
         : err == -EINVAL     ? "its host name: not a valid name"
                              : cay_strerror(err);
}

/* registrar.store.redis names its host (neither an IP nor a socket). */
static int
host_is_name(const cay_config_t *cfg)
{
  char host[CAY_CONFIG_TEXT_LEN];
  int port;

  return !cay__reg_store_target(cfg, host, sizeof host, &port)
         && !cay__is_ip_literal(host, strlen(host));
}

int
cay__reg_store_open(cay__worker_t *w)
{
  struct cay__reg_store *st;

  if (w->srv->cfg.reg_store_redis[0] == '\0')
    return 0;
  if ((st = cay__calloc(1, sizeof *st)) == NULL)
    return -ENOMEM;
  if (host_is_name(&w->srv->cfg)) {
    int err = cay__reg_store_dns(&w->srv->cfg, w->loop, &st->dns, SHARD_NO(w));
    if (err) {
      cay__free(st);
      return err;
    }
  }
  st->w = w;
  uv_timer_init(w->loop, &st->timer);
  st->timer.data = st;
  st->handles = 1 + (st->dns != NULL);
  st->need_load = w->srv->store_load_failed;
  w->store = st;
  cay__registrar_set_store(w->ss.reg, write_aor, st);
  w->ss.store_msgs = write_msgs;
  w->ss.store_msgs_arg = st;
  connect_now(st);
  return 0;
}

/* -- closing ------------------------------------------------------------- */

static void
on_timer_closed(uv_handle_t *h)
{
  handle_closed(h->data);
}

static void
on_dns_closed(void *arg)
{
  handle_closed(arg);
}

static void
close_timer(struct cay__reg_store *st)
{
  if (st->timer_closed)
    return;
  st->timer_closed = 1;
  uv_timer_stop(&st->timer);
  uv_close((uv_handle_t *)&st->timer, on_timer_closed);
}

static void
on_deadline(uv_timer_t *t)
{
  struct cay__reg_store *st = t->data;

  if (st->ac) {
    CAY_WARN(SHARD_NO(st->w),
             "registrar store: redis %s: writes still unanswered after "
             "%d ms: closed without them",
             st->w->srv->cfg.reg_store_redis, CLOSE_DEADLINE_MS);
    redisAsyncFree(st->ac);
    st->ac = NULL;
  }
  close_timer(st);
}

void
cay__reg_store_close(struct cay__reg_store *st, void (*cb)(void *arg),
                     void *arg)
{
  st->closing = 1;
  st->closed_cb = cb;
  st->closed_arg = arg;
  uv_timer_stop(&st->timer);
  if (st->dns) { /* a lookup out is dropped: on_resolved() is not called */
    cay__dns_close(st->dns, on_dns_closed, st);
    st->dns = NULL;
  }
  if (st->ac && st->connected)
    redisAsyncDisconnect(st->ac); /* after the replies pending */
  else if (st->ac) {
    redisAsyncFree(st->ac); /* still connecting */
    st->ac = NULL;
  }
  if (st->ac)
    uv_timer_start(&st->timer, on_deadline, CLOSE_DEADLINE_MS, 0);
  else
    close_timer(st);
}
