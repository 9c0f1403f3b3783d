/*
 * registrar.store's loads (reg_store.c has the connection and the
 * writes): every binding the store holds bound again on its AOR's shard.
 *
 *   at start, cay__reg_store_load(): one blocking connection (a host
 *     name looked up first as the shards do, with c-ares on a loop of
 *     its own), SCAN prefix* and MGET, each record to its owner shard's
 *     registrar (or, for a key prefix+"msgs:"+AOR, the shard's kept
 *     MESSAGEs, b2bua/pager.h), before any shard runs;
 *   late, when that failed (Redis was not up): each shard, once its own
 *     connection is made, SCANs and MGETs on its loop and restores its
 *     own AORs that have no binding in memory.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "b2bua/pager.h"
#include "core/alloc.h"
#include "core/log.h"
#include "server/reg_store_int.h"

const char *
cay__reg_store_key_aor(const char *prefix, const char *key, size_t len,
                       int *msgs, size_t *alen)
{
  size_t plen = strlen(prefix), mlen = strlen(CAY__REG_STORE_MSGS);
  const char *aor = key + plen;

  if (len <= plen || memchr(aor, '\0', len - plen))
    return NULL;
  *msgs = len - plen > mlen && memcmp(aor, CAY__REG_STORE_MSGS, mlen) == 0;
  if (*msgs)
    aor += mlen;
  *alen = len - (size_t)(aor - key);
  return aor;
}

/* Key @p key's record @p v (a string) for shard @p w's AOR @p aor, its
 * kept MESSAGEs when @p msgs: restored into @p ld. */
static void
restore_key(cay__worker_t *w, load_t *ld, const char *key, const char *aor,
            int msgs, const redisReply *v)
{
  unsigned n = 0;
  int rc = msgs ? cay__pager_store_restore(&w->ss, aor, v->str, v->len,
                                           ld->wall, &n)
                : cay__registrar_restore(w->ss.reg, aor, v->str, v->len,
                                         ld->wall, &ld->n);

  if (rc == 0) {
    ld->msgs += n;
    ld->msg_aors += msgs && n;
    ld->aors += !msgs;
    return;
  }
  ld->bad++;
  CAY_WARN(SHARD_NO(w), "registrar store: key %s: %s; left as it is", key,
           rc == -ENOMEM ? "no memory to restore it"
           : msgs        ? "not a record of kept messages"
                         : "not a record of bindings");
}

/* The restored kept MESSAGEs of @p ld, if any, logged (@p late: by
 * shard @p shard's late load). */
static void
log_msgs(const cay_config_t *cfg, const load_t *ld, int shard, int late)
{
  if (ld->msgs)
    CAY_INFO(shard,
             "registrar store: redis %s: %srestored %u kept messages "
             "for %u AORs",
             cfg->reg_store_redis, late ? "loaded late: " : "", ld->msgs,
             ld->msg_aors);
}

/* -- loading at start ---------------------------------------------------- */

/* AUTH and SELECT on blocking connection @p c. @return NULL or the
 * error's text. */
static const char *
prepare(redisContext *c, const cay_config_t *cfg, char *buf, size_t size)
{
  redisReply *r;

  if (cfg->reg_store_password[0]) {
    r = redisCommand(c, "AUTH %s", cfg->reg_store_password);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
      snprintf(buf, size, "AUTH: %s", r ? r->str : c->errstr);
      freeReplyObject(r);
      return buf;
    }
    freeReplyObject(r);
  }
  if (cfg->reg_store_db) {
    r = redisCommand(c, "SELECT %u", cfg->reg_store_db);
    if (r == NULL || r->type == REDIS_REPLY_ERROR) {
      snprintf(buf, size, "SELECT: %s", r ? r->str : c->errstr);
      freeReplyObject(r);
      return buf;
    }
    freeReplyObject(r);
  }
  return NULL;
}

/* Key @p key (prefix + AOR, or prefix + CAY__REG_STORE_MSGS + AOR),
 * record @p v: to the AOR's owner shard. */
static void
restore_one(cay_server_t *srv, load_t *ld, const redisReply *key,
            const redisReply *v)
{
  int msgs;
  size_t alen;
  const char *aor = cay__reg_store_key_aor(srv->cfg.reg_store_prefix, key->str,
                                           key->len, &msgs, &alen);

  if (v->type != REDIS_REPLY_STRING || aor == NULL) {
    ld->bad += v->type != REDIS_REPLY_NIL; /* NIL: it expired meanwhile */
    return;
  }
  restore_key(srv->workers[cay__aor_shard(aor, alen, srv->nshards)], ld,
              key->str, aor, msgs, v);
}

/* One SCAN step from @p cursor (updated): its keys' records restored.
 * @return NULL or the error's text. */
static const char *
load_step(cay_server_t *srv, redisContext *c, load_t *ld, char cursor[32])
{
  const char *argv[1 + 1000];
  redisReply *r, *keys, *vals;
  const char *fail = NULL;

  r = redisCommand(c, "SCAN %s MATCH %s* COUNT 1000", cursor,
                   srv->cfg.reg_store_prefix);
  if (r == NULL || r->type != REDIS_REPLY_ARRAY || r->elements != 2
      || r->element[0]->type != REDIS_REPLY_STRING
      || r->element[1]->type != REDIS_REPLY_ARRAY
      || r->element[1]->elements > 1000) {
    fail = r && r->type == REDIS_REPLY_ERROR ? r->str : "SCAN failed";
    if (r == NULL)
      fail = c->errstr;
    snprintf(cursor, 32, "0");
    freeReplyObject(r);
    return fail;
  }
  snprintf(cursor, 32, "%s", r->element[0]->str);
  keys = r->element[1];
  if (keys->elements == 0) {
    freeReplyObject(r);
    return NULL;
  }
  argv[0] = "MGET";
  for (size_t i = 0; i < keys->elements; i++)
    argv[i + 1] = keys->element[i]->str;
  vals = redisCommandArgv(c, (int)keys->elements + 1, argv, NULL);
  if (vals == NULL || vals->type != REDIS_REPLY_ARRAY
      || vals->elements != keys->elements)
    fail = vals == NULL ? c->errstr : "MGET failed";
  else
    for (size_t i = 0; i < keys->elements; i++)
      restore_one(srv, ld, keys->element[i], vals->element[i]);
  freeReplyObject(vals);
  freeReplyObject(r);
  return fail;
}

/* What the lookup at start gave. */
typedef struct {
  int done, err;
  cay__addr_t addrs[CAY__DNS_MAX_TARGETS];
  size_t n;
} lookup_t;

static void
on_looked_up(void *arg, uint64_t id, int err, const cay__dns_target_t *t,
             size_t n)
{
  lookup_t *lk = arg;

  (void)id;
  lk->done = 1;
  lk->err = err;
  for (size_t i = 0; i < n && !err; i++)
    lk->addrs[lk->n++] = t[i].addr;
}

/* @p host's addresses into @p lk, on a loop of this call's own: it blocks
 * for at most the resolver's timeouts. @return 0 or an error code. */
static int
look_up_now(const cay_config_t *cfg, const char *host, int port, lookup_t *lk)
{
  uv_loop_t loop;
  cay__dns_t *d = NULL;
  int err = uv_loop_init(&loop);

  if (err)
    return err;
  err = cay__reg_store_dns(cfg, &loop, &d, -1);
  if (err == 0)
    err = cay__dns_locate(d,
                          &(cay__dns_query_t){ .host = host,
                                               .port = (unsigned)port,
                                               .proto = CAY__TCP },
                          on_looked_up, lk, 0);
  while (err == 0 && !lk->done)
    if (uv_run(&loop, UV_RUN_ONCE) == 0 && !lk->done)
      err = -EIO; /* nothing left to wait for: cannot be */
  if (err == 0)
    err = lk->err;
  if (d)
    cay__dns_close(d, NULL, NULL);
  (void)uv_run(&loop, UV_RUN_DEFAULT);
  (void)uv_loop_close(&loop);
  return err;
}

/* The blocking connection of the load at start: its Unix socket, its IP,
 * or each address of its host name in turn. @return the connection, or
 * NULL with the error's text in @p buf (@p size bytes). */
static redisContext *
connect_blocking(const cay_config_t *cfg, char *buf, size_t size)
{
  struct timeval tv = { 2, 0 };
  char host[CAY_CONFIG_TEXT_LEN];
  lookup_t lk = { 0 };
  redisContext *c = NULL;
  int port = 0, err;

  snprintf(buf, size, "no memory"); /* for a NULL from hiredis */
  if (cay__reg_store_target(cfg, host, sizeof host, &port))
    c = redisConnectUnixWithTimeout(cfg->reg_store_redis, tv);
  else if (cay__is_ip_literal(host, strlen(host)))
    c = redisConnectWithTimeout(host, port, tv);
  else if ((err = look_up_now(cfg, host, port, &lk)) != 0)
    snprintf(buf, size, "%s", cay__reg_store_lookup_error(err));
  /* The host name's addresses, until one takes the connection. */
  for (size_t i = 0; i < lk.n; i++) {
    (void)cay__addr_ip(&lk.addrs[i], host, sizeof host);
    c = redisConnectWithTimeout(host, (int)cay__addr_port(&lk.addrs[i]), tv);
    if (c && !c->err)
      return c;
    cay__reg_store_addr_error(&lk.addrs[i], c ? c->errstr : "no memory", buf,
                              size);
    redisFree(c);
    c = NULL;
    if (i + 1 < lk.n)
      CAY_WARN(-1, "registrar store: redis %s: %s: trying its next address",
               cfg->reg_store_redis, buf);
  }
  if (c && !c->err)
    return c;
  if (c)
    snprintf(buf, size, "%s", c->errstr);
  redisFree(c);
  return NULL;
}

void
cay__reg_store_load(cay_server_t *srv)
{
  const cay_config_t *cfg = &srv->cfg;
  char cursor[32] = "0", buf[160];
  const char *fail = NULL;
  load_t ld = { .wall = cay__reg_store_wall_ms() };
  redisContext *c;

  if (cfg->reg_store_redis[0] == '\0')
    return;
  c = connect_blocking(cfg, buf, sizeof buf);
  if (c == NULL)
    fail = buf;
  else if (redisSetTimeout(c, (struct timeval){ 5, 0 }) != REDIS_OK)
    fail = c->errstr;
  else
    fail = prepare(c, cfg, buf, sizeof buf);
  while (fail == NULL) {
    fail = load_step(srv, c, &ld, cursor);
    if (strcmp(cursor, "0") == 0)
      break;
  }
  srv->store_load_failed = fail != NULL;
  if (fail)
    CAY_WARN(-1,
             "registrar store: redis %s: cannot load the bindings (%s): "
             "starting with those loaded so far (%u); each shard loads "
             "the rest when it reaches redis",
             cfg->reg_store_redis, fail, ld.n.restored);
  else
    CAY_INFO(-1,
             "registrar store: redis %s: restored %u bindings of %u AORs "
             "(%u expired while Cay was down, %u over connections that are "
             "gone, %u keys not understood)",
             cfg->reg_store_redis, ld.n.restored, ld.aors, ld.n.expired,
             ld.n.dropped, ld.bad);
  log_msgs(cfg, &ld, -1, 0);
  redisFree(c);
}

/* -- loading late -------------------------------------------------------- */

/* One MGET of a late load: the keys asked for, in order. */
typedef struct batch {
  struct batch *next; /* in st->batch_list */
  struct cay__reg_store *st;
  size_t n;
  char *keys[]; /* NULL: changed meanwhile, not to be restored */
} batch_t;

static void late_scan(struct cay__reg_store *st, const char *cursor);

/* The late load is over when its last SCAN and every MGET answered. */
static void
late_done(struct cay__reg_store *st)
{
  const load_t *ld = &st->late;

  if (st->scanning || st->batch_list || !st->need_load)
    return;
  st->need_load = 0;
  CAY_INFO(SHARD_NO(st->w),
           "registrar store: redis %s: loaded late: restored %u bindings of "
           "%u AORs (%u expired while Cay was down, %u over connections that "
           "are gone, %u keys not understood)",
           st->w->srv->cfg.reg_store_redis, ld->n.restored, ld->aors,
           ld->n.expired, ld->n.dropped, ld->bad);
  log_msgs(&st->w->srv->cfg, ld, SHARD_NO(st->w), 1);
}

/* Key @p key's record @p v, for an AOR of this shard: bound unless the
 * AOR has bindings in memory (newer, and written over the key); kept
 * MESSAGEs unless some are kept for it in memory
 * (cay__pager_store_restore()). */
static void
late_restore(struct cay__reg_store *st, const char *key, const redisReply *v)
{
  int msgs;
  size_t alen;
  const char *aor = cay__reg_store_key_aor(st->w->srv->cfg.reg_store_prefix,
                                           key, strlen(key), &msgs, &alen);
  cay__contact_t c;

  if (v->type != REDIS_REPLY_STRING || aor == NULL) { /* NIL: gone */
    st->late.bad += v->type != REDIS_REPLY_NIL;
    return;
  }
  if (!msgs && cay__registrar_lookup(st->w->ss.reg, aor, &c, 1) > 0)
    return;
  restore_key(st->w, &st->late, key, aor, msgs, v);
}

static void
on_late_values(redisAsyncContext *c, void *reply, void *arg)
{
  batch_t *b = arg;
  struct cay__reg_store *st = b->st;
  const redisReply *r = reply;

  (void)c;
  for (batch_t **pp = &st->batch_list; *pp; pp = &(*pp)->next)
    if (*pp == b) {
      *pp = b->next;
      break;
    }
  if (r && r->type == REDIS_REPLY_ARRAY && r->elements == b->n)
    for (size_t i = 0; i < b->n; i++)
      if (b->keys[i])
        late_restore(st, b->keys[i], r->element[i]);
  for (size_t i = 0; i < b->n; i++)
    cay__free(b->keys[i]);
  cay__free(b);
  if (r) /* NULL: lost; loaded again from the start when back */
    late_done(st);
}

/* This shard's AORs among SCAN's @p keys that have no binding in memory:
 * their records asked for (MGET). */
static void
late_fetch(struct cay__reg_store *st, const redisReply *keys)
{
  cay_server_t *srv = st->w->srv;
  const char *argv[1 + 1000];
  cay__contact_t c;
  batch_t *b = cay__calloc(1, sizeof *b + keys->elements * sizeof(char *));

  if (b == NULL) {
    st->late.bad += (unsigned)keys->elements;
    return;
  }
  b->st = st;
  for (size_t i = 0; i < keys->elements && i < 1000; i++) {
    const redisReply *k = keys->element[i];
    int msgs = 0;
    size_t alen = 0;
    const char *aor
        = k->type != REDIS_REPLY_STRING
              ? NULL
              : cay__reg_store_key_aor(srv->cfg.reg_store_prefix, k->str,
                                       k->len, &msgs, &alen);

    if (aor == NULL || cay__aor_shard(aor, alen, srv->nshards) != st->w->index
        || (!msgs && cay__registrar_lookup(st->w->ss.reg, aor, &c, 1) > 0))
      continue;
    if ((b->keys[b->n] = cay__strdup(k->str)) == NULL) {
      st->late.bad++;
      continue;
    }
    argv[b->n + 1] = b->keys[b->n];
    b->n++;
  }
  if (b->n == 0) {
    cay__free(b);
    return;
  }
  argv[0] = "MGET";
  if (redisAsyncCommandArgv(st->ac, on_late_values, b, (int)b->n + 1, argv,
                            NULL)
      == REDIS_OK) {
    b->next = st->batch_list;
    st->batch_list = b;
    return;
  }
  for (size_t i = 0; i < b->n; i++)
    cay__free(b->keys[i]);
  cay__free(b);
}

static void
on_late_keys(redisAsyncContext *c, void *reply, void *arg)
{
  struct cay__reg_store *st = arg;
  const redisReply *r = reply;

  (void)c;
  st->scanning = 0;
  if (r == NULL) /* lost: loaded again from the start when back */
    return;
  if (r->type != REDIS_REPLY_ARRAY || r->elements != 2
      || r->element[0]->type != REDIS_REPLY_STRING
      || r->element[1]->type != REDIS_REPLY_ARRAY) {
    CAY_WARN(SHARD_NO(st->w),
             "registrar store: redis %s: cannot load the bindings late (%s): "
             "going on with those loaded so far (%u)",
             st->w->srv->cfg.reg_store_redis,
             r->type == REDIS_REPLY_ERROR ? r->str : "SCAN failed",
             st->late.n.restored);
    if (r->type == REDIS_REPLY_ERROR)
      st->w->shard.stats.store_failures++;
    st->need_load = 0;
    return;
  }
  late_fetch(st, r->element[1]);
  if (strcmp(r->element[0]->str, "0") != 0)
    late_scan(st, r->element[0]->str);
  else
    late_done(st);
}

/* The next SCAN step of a late load, from @p cursor. */
static void
late_scan(struct cay__reg_store *st, const char *cursor)
{
  if (strcmp(cursor, "0") == 0) { /* from the start */
    memset(&st->late, 0, sizeof st->late);
    st->late.wall = cay__reg_store_wall_ms();
  }
  if (redisAsyncCommand(st->ac, on_late_keys, st,
                        "SCAN %s MATCH %s* COUNT 1000", cursor,
                        st->w->srv->cfg.reg_store_prefix)
      == REDIS_OK)
    st->scanning = 1;
}

void
cay__reg_store_late_load(struct cay__reg_store *st)
{
  late_scan(st, "0");
}

void
cay__reg_store_late_changed(struct cay__reg_store *st, const char *aor)
{
  size_t plen = strlen(st->w->srv->cfg.reg_store_prefix);

  /* At most one MGET is out at a time (replies come in order: its SCAN
   * step's reply came first), of at most 1000 keys. */
  for (batch_t *b = st->batch_list; b; b = b->next)
    for (size_t i = 0; i < b->n; i++)
      if (b->keys[i] && strcmp(b->keys[i] + plen, aor) == 0) {
        cay__free(b->keys[i]);
        b->keys[i] = NULL;
      }
}
