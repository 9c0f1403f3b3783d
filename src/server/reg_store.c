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
 *     (DEL when it has no binding left), on the shard's loop
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

#include "core/alloc.h"
#include "core/log.h"
#include "server/reg_store_int.h"

#define RETRY_MS          1000
#define CLOSE_DEADLINE_MS 2000
/* AORs removed while Redis was away, remembered at most (a bound on
 * memory; past it, a removal may come back at a restart). */
#define GONE_MAX 100000

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

/* cay__registrar_store_fn, and each AOR of write_all(). */
static void
write_aor(void *arg, const char *aor)
{
  struct cay__reg_store *st = arg;
  const cay_config_t *cfg = &st->w->srv->cfg;
  char key[CAY_CONFIG_NAME_LEN + CAY__AOR_MAX], *rec;
  uint64_t ttl;
  size_t len;
  int klen = snprintf(key, sizeof key, "%s%s", cfg->reg_store_prefix, aor);

  if (cay__registrar_record(st->w->ss.reg, aor, cay__reg_store_wall_ms(), &rec,
                            &len, &ttl)
      != 0) {
    CAY_WARN(SHARD_NO(st->w),
             "registrar store: no memory to write AOR %s: written when the "
             "connection to redis is next made",
             aor);
    st->dirty = 1;
    return;
  }
  if (!st->connected) {
    st->dirty = 1;
    if (rec == NULL)
      note_gone(st, aor);
  } else if (rec) {
    redisAsyncCommand(st->ac, on_reply, st, "SET %b %b PX %llu", key,
                      (size_t)klen, rec, len, (unsigned long long)ttl);
  } else {
    redisAsyncCommand(st->ac, on_reply, st, "DEL %b", key, (size_t)klen);
  }
  cay__free(rec);
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
    cay__free(g);
  }
  st->n_gone = 0;
  st->dirty = 0;
  cay__registrar_each_aor(st->w->ss.reg, write_aor, st);
}

/* -- connecting ---------------------------------------------------------- */

static void
on_retry(uv_timer_t *t)
{
  connect_now(t->data);
}

/* The connection failed or was lost: logged once until it is back. */
static void
lost(struct cay__reg_store *st, const char *why)
{
  st->ac = NULL;
  st->connected = 0;
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

static void
on_connect(const redisAsyncContext *c, int status)
{
  struct cay__reg_store *st = c->data;
  const cay_config_t *cfg = &st->w->srv->cfg;

  if (status != REDIS_OK) { /* hiredis frees the context */
    lost(st, c->errstr);
    return;
  }
  st->connected = 1;
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
  lost(st, c->errstr[0] ? c->errstr : "closed by the server");
  if (st->closing) /* the pending writes are done */
    close_timer(st);
}

static redisAsyncContext *
async_connect(const cay_config_t *cfg)
{
  char host[CAY_CONFIG_TEXT_LEN];
  int port = 0;

  return cay__reg_store_target(cfg, host, sizeof host, &port)
             ? redisAsyncConnectUnix(cfg->reg_store_redis)
             : redisAsyncConnect(host, port);
}

static void
connect_now(struct cay__reg_store *st)
{
  redisAsyncContext *ac = async_connect(&st->w->srv->cfg);
  glue_t *g = NULL;

  if (ac == NULL || ac->err || (g = cay__calloc(1, sizeof *g)) == NULL
      || uv_poll_init(st->w->loop, &g->poll, ac->c.fd) != 0) {
    const char *why = ac == NULL ? "no memory" : ac->err ? ac->errstr : "";
    char text[128];
    snprintf(text, sizeof text, "%s", why[0] ? why : "cannot poll its socket");
    cay__free(g);
    if (ac)
      redisAsyncFree(ac);
    lost(st, text);
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
}

int
cay__reg_store_open(cay__worker_t *w)
{
  struct cay__reg_store *st;

  if (w->srv->cfg.reg_store_redis[0] == '\0')
    return 0;
  if ((st = cay__calloc(1, sizeof *st)) == NULL)
    return -ENOMEM;
  st->w = w;
  uv_timer_init(w->loop, &st->timer);
  st->timer.data = st;
  st->handles = 1;
  st->need_load = w->srv->store_load_failed;
  w->store = st;
  cay__registrar_set_store(w->ss.reg, write_aor, st);
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
