/*
 * MESSAGEs kept for AORs that are not registered (pager.h: store and
 * forward). Each shard keeps those of its own AORs (cay__aor_shard()):
 * per AOR a box, its MESSAGEs in the order they came; all of the
 * shard's in one list by expiry too (each expires
 * registrar.offline_message_s after it came, a restored one when its
 * record says), so one timer at the first expiry does. A REGISTER for
 * the AOR sends the oldest to its contacts (a relay of pager.c without a
 * sender), and the next once a contact took it. Each change is written
 * to registrar.store through cay__sessions_t.store_msgs, as a record
 * that a restart restores.
 *
 *   MESSAGE, no contact -> shard X: cay__pager_store_offer()
 *       -> the AOR's shard: cay__pager_store_put() -> 0 or -ENOSPC
 *       -> back to X: the sender gets 202 or 480
 *   REGISTER for the AOR -> its shard: cay__pager_store_registered()
 *       -> cay__pager_deliver() -> cay__pager_store_done()
 *
 * Everything here runs on the shard's own thread.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "b2bua/bridge_int.h"
#include "b2bua/pager.h"
#include "core/alloc.h"
#include "core/hash.h"
#include "core/log.h"
#include "registrar/registrar.h"
#include "sip/msg.h"
#include "transport/addr.h"

typedef struct stored {
  struct stored *next;          /* its box's next (newer) one */
  struct stored *older, *newer; /* the shard's, by age */
  struct cay__store_box *box;
  uint64_t expires_ms; /* shard clock */
  cay__addr_t src;     /* where it came from (a route may match on it) */
  char date[32];       /* when it came (RFC 3261 section 20.17) */
  size_t len;
  char bytes[]; /* the MESSAGE as it came */
} stored_t;

typedef struct cay__store_box {
  cay__hnode_t node;
  stored_t *head, *tail;
  unsigned n;
  int sending; /* head is out (pager.c has this box); it is neither
                  expired nor dropped meanwhile, so the box stays */
  char aor[];
} box_t;

typedef struct cay__pager_store {
  cay__htab_t boxes;
  uint8_t key[CAY__HASH_KEYBYTES]; /* AORs are the senders' choice */
  stored_t *oldest, *newest;
  size_t bytes;
  cay__timer_t t_expire;
} store_t;

static void on_expire(cay__timer_t *tm);

static uint64_t
aor_hash(const store_t *st, const char *aor)
{
  return cay__hash_keyed(st->key, aor, strlen(aor));
}

static box_t *
box_of(const store_t *st, const char *aor)
{
  for (cay__hnode_t *n = cay__htab_first(&st->boxes, aor_hash(st, aor)); n;
       n = cay__htab_next(n)) {
    box_t *b = (box_t *)n;
    if (strcmp(b->aor, aor) == 0)
      return b;
  }
  return NULL;
}

static store_t *
store_get(cay__sessions_t *ss)
{
  store_t *st = ss->pager_store;

  if (st)
    return st;
  if ((st = cay__calloc(1, sizeof *st)) == NULL)
    return NULL;
  if (cay__htab_init(&st->boxes, 64) != 0) {
    cay__free(st);
    return NULL;
  }
  cay__rand_bytes(&ss->shard->rand, st->key, sizeof st->key);
  cay__timer_init(&st->t_expire, on_expire, ss);
  ss->pager_store = st;
  return st;
}

/* The expiry timer at the oldest MESSAGE whose box has none out now (a
 * box's wait for its answer), or stopped. */
static void
arm(cay__sessions_t *ss)
{
  store_t *st = ss->pager_store;
  uint64_t now = cay__shard_now(ss->shard);
  const stored_t *s = st->oldest;

  while (s && s->box->sending)
    s = s->newer;
  cay__shard_timer_stop(ss->shard, &st->t_expire);
  if (s)
    (void)cay__shard_timer_start(ss->shard, &st->t_expire,
                                 s->expires_ms > now ? s->expires_ms - now : 0);
}

/* The AOR of @p b changed: registrar.store writes it (the hook). */
static void
changed(cay__sessions_t *ss, const box_t *b)
{
  if (ss->store_msgs)
    ss->store_msgs(ss->store_msgs_arg, b->aor);
}

/* Take @p s out of the store and free it (and its box when empty); the
 * store's hook learns of it (@p fini: not, the shard ends and the record
 * stays). */
static void
drop_one(cay__sessions_t *ss, stored_t *s, int fini)
{
  store_t *st = ss->pager_store;
  box_t *b = s->box;
  stored_t **pp = &b->head, *prev = NULL;

  while (*pp != s) { /* most often the head */
    prev = *pp;
    pp = &(*pp)->next;
  }
  *pp = s->next;
  if (b->tail == s)
    b->tail = prev;
  b->n--;
  if (s->older)
    s->older->newer = s->newer;
  else
    st->oldest = s->newer;
  if (s->newer)
    s->newer->older = s->older;
  else
    st->newest = s->older;
  st->bytes -= s->len;
  cay__free(s);
  if (b->n == 0)
    cay__htab_remove(&st->boxes, &b->node);
  if (!fini)
    changed(ss, b); /* its record goes when b is gone from the table */
  if (b->n == 0)
    cay__free(b);
}

/* Drop @p s, of a box with none out now, because @p why (logged,
 * counted in messages_dropped). @return 1 when its box went with it. */
static int
drop(cay__sessions_t *ss, stored_t *s, const char *why)
{
  box_t *b = s->box;
  int last = b->n == 1;

  CAY_INFO(SHARD_NO(ss), "message for %s (came %s) dropped: %s", b->aor,
           s->date, why);
  ss->shard->stats.messages_dropped++;
  drop_one(ss, s, 0);
  return last;
}

static const char too_old[]
    = "not delivered within registrar.offline_message_s";

/* Drop @p b's expired MESSAGEs, oldest first (none is out). @return 1
 * when the box went with them. */
static int
drop_expired(cay__sessions_t *ss, box_t *b, uint64_t now)
{
  while (!b->sending && b->head->expires_ms <= now)
    if (drop(ss, b->head, too_old))
      return 1;
  return 0;
}

static void
on_expire(cay__timer_t *tm)
{
  cay__sessions_t *ss = tm->data;
  uint64_t now = cay__shard_now(ss->shard);
  stored_t *s = ss->pager_store->oldest;

  /* A box with one out waits for its answer (cay__pager_store_done()).
   * A box's MESSAGEs may expire out of their order (a reload shortened
   * registrar.offline_message_s): the list says which. */
  while (s && s->expires_ms <= now) {
    stored_t *newer = s->newer;
    if (!s->box->sending)
      (void)drop(ss, s, too_old);
    s = newer;
  }
  arm(ss);
}

/* Send @p b's oldest MESSAGE, unless one is out already or the AOR has
 * no contact; one no route sends now is dropped. */
static void
deliver_next(cay__sessions_t *ss, box_t *b)
{
  cay__contact_t c;
  cay__route_req_t req;

  if (b->sending || ss->draining
      || cay__registrar_lookup(ss->reg, b->aor, &c, 1) == 0
      || drop_expired(ss, b, cay__shard_now(ss->shard)))
    return;
  for (;;) {
    stored_t *s = b->head;
    const cay_route_t *route;
    msg_t *msg = NULL;

    if (cay__msg_parse(s->bytes, s->len, &msg) != 0) {
      if (msg)
        msg_destroy(msg);
      return; /* no memory: the next REGISTER tries again */
    }
    cay__route_req_of(&req, sip_object(msg), &s->src);
    route = ss->routes ? cay__routes_match(ss->routes, &req) : NULL;
    if (route && route->action == CAY_ROUTE_FORWARD && route->location) {
      b->sending = 1;
      arm(ss);
      cay__pager_deliver(ss, route, msg, s->date, b);
      return;
    }
    msg_destroy(msg);
    if (drop(ss, s, "no forward route with location takes it now"))
      return;
  }
}

void
cay__pager_store_done(cay__sessions_t *ss, box_t *b, int status)
{
  stored_t *s = b->head;
  int last;

  b->sending = 0;
  if (status >= 300 && (status == 408 || status == 480 || status >= 500)) {
    /* Nobody took it: the AOR's next REGISTER tries again. */
    CAY_INFO(SHARD_NO(ss),
             "message for %s (came %s) not delivered (%d): kept for its "
             "next REGISTER",
             b->aor, s->date, status);
    arm(ss); /* expired meanwhile: at once */
    return;
  }
  last = b->n == 1; /* b goes with s */
  if (status < 300) {
    ss->shard->stats.messages_delivered++;
    CAY_DEBUG(SHARD_NO(ss), "message for %s (came %s) delivered (%d)", b->aor,
              s->date, status);
    drop_one(ss, s, 0);
  } else {
    (void)drop(ss, s, "its recipient refused it");
  }
  arm(ss);
  if (!last)
    deliver_next(ss, b);
}

/* Keep @p msg (@p len bytes, from @p src) for @p aor (a new box when it
 * has none) until shard time @p expires_ms; it came at @p date. Within
 * the shard's bytes (else -ENOSPC). @return 0, -ENOSPC or -ENOMEM. */
static int
append(store_t *st, const char *aor, const char *msg, size_t len,
       const cay__addr_t *src, uint64_t expires_ms, const char *date)
{
  size_t alen = strlen(aor);
  box_t *b = box_of(st, aor);
  stored_t *s;

  if (st->bytes + len > CAY__PAGER_STORE_MAX_BYTES)
    return -ENOSPC;
  if ((s = cay__calloc(1, sizeof *s + len)) == NULL)
    return -ENOMEM;
  if (b == NULL) {
    if ((b = cay__calloc(1, sizeof *b + alen + 1)) == NULL) {
      cay__free(s);
      return -ENOMEM;
    }
    memcpy(b->aor, aor, alen + 1);
    cay__htab_insert(&st->boxes, &b->node, aor_hash(st, aor));
  }
  s->box = b;
  s->src = *src;
  s->len = len;
  memcpy(s->bytes, msg, len);
  s->expires_ms = expires_ms;
  snprintf(s->date, sizeof s->date, "%s", date);
  if (b->tail)
    b->tail->next = s;
  else
    b->head = s;
  b->tail = s;
  b->n++;
  /* By expiry: a restored one may expire before those kept already. */
  s->newer = NULL;
  s->older = st->newest;
  while (s->older && s->older->expires_ms > expires_ms) {
    s->newer = s->older;
    s->older = s->older->older;
  }
  if (s->older)
    s->older->newer = s;
  else
    st->oldest = s;
  if (s->newer)
    s->newer->older = s;
  else
    st->newest = s;
  st->bytes += len;
  return 0;
}

int
cay__pager_store_put(cay__sessions_t *ss, const char *aor, const char *msg,
                     size_t len, const cay__addr_t *src)
{
  size_t alen = strlen(aor);
  store_t *st;
  box_t *b;
  struct tm tm;
  time_t now_s = time(NULL);
  char date[32];
  int err;

  if (ss->cfg.reg_offline_messages == 0 || alen == 0 || alen >= CAY__AOR_MAX)
    return -EINVAL;
  if ((st = store_get(ss)) == NULL)
    return -ENOMEM;
  b = box_of(st, aor);
  if (b && b->n >= ss->cfg.reg_offline_messages)
    return -ENOSPC;
  if (gmtime_r(&now_s, &tm) == NULL
      || strftime(date, sizeof date, "%a, %d %b %Y %H:%M:%S GMT", &tm) == 0)
    snprintf(date, sizeof date, "Thu, 01 Jan 1970 00:00:00 GMT");
  err = append(st, aor, msg, len, src,
               cay__shard_now(ss->shard)
                   + (uint64_t)ss->cfg.reg_offline_message_s * 1000,
               date);
  if (err)
    return err;
  b = box_of(st, aor);
  ss->shard->stats.messages_stored++;
  CAY_INFO(SHARD_NO(ss), "message for %s kept (%u for it now): not registered",
           aor, b->n);
  changed(ss, b);
  arm(ss);
  deliver_next(ss, b); /* registered meanwhile */
  return 0;
}

void
cay__pager_store_registered(cay__sessions_t *ss, const char *aor)
{
  box_t *b;

  if (ss->pager_store == NULL || ss->pager_store->boxes.count == 0)
    return;
  if ((b = box_of(ss->pager_store, aor)) != NULL)
    deliver_next(ss, b);
}

int
cay__pager_store_offer(cay__sessions_t *ss, cay__txn_t *t, cay_id_t pager)
{
  const sip_t *sip = sip_object(cay__txn_request(t));
  char aor[CAY__AOR_MAX];
  const char *bytes;
  size_t len;
  cay__addr_t src;
  unsigned owner;
  int err;

  if (ss->cfg.reg_offline_messages == 0
      || cay__aor_of(sip->sip_request->rq_url, aor) < 0)
    return -EINVAL;
  if (cay__msg_serialize(cay__txn_request(t), &bytes, &len) != 0)
    return -ENOMEM;
  cay__txn_source(t, &src);
  owner = cay__aor_shard(aor, strlen(aor), ss->nshards);
  if (owner == ss->shard->index)
    return cay__pager_store_put(ss, aor, bytes, len, &src);
  if (ss->store_hand == NULL)
    return -EINVAL;
  err = ss->store_hand(ss->store_arg, owner, pager, aor, bytes, len, &src);
  return err ? err : 1;
}

/* -- the records of registrar.store ------------------------------------ *
 * "cay-messages 1\n", then per MESSAGE, oldest first, a line of four
 * fields separated by a tab (when it expires, in ms since 1970; where it
 * came from, "ip:port"; its length in bytes; when it came, the Date
 * value), then the MESSAGE's bytes as they came and "\n". */

#define RECORD_HEAD "cay-messages 1\n"

int
cay__pager_store_record(cay__sessions_t *ss, const char *aor, uint64_t wall_ms,
                        char **out, size_t *len, uint64_t *ttl_ms)
{
  const box_t *b = ss->pager_store ? box_of(ss->pager_store, aor) : NULL;
  uint64_t now = cay__shard_now(ss->shard);
  size_t size = sizeof RECORD_HEAD, off;
  char *rec;

  *out = NULL;
  *len = 0;
  *ttl_ms = 0;
  if (b == NULL)
    return 0;
  for (const stored_t *s = b->head; s; s = s->next)
    size += 160 + s->len;
  if ((rec = cay__malloc(size)) == NULL)
    return -ENOMEM;
  off = (size_t)snprintf(rec, size, "%s", RECORD_HEAD);
  for (const stored_t *s = b->head; s; s = s->next) {
    uint64_t left = s->expires_ms > now ? s->expires_ms - now : 0;
    char where[64];

    if (cay__addr_format(&s->src, where, sizeof where) != 0)
      snprintf(where, sizeof where, "0.0.0.0:1"); /* cannot happen */
    off += (size_t)snprintf(rec + off, size - off, "%" PRIu64 "\t%s\t%zu\t%s\n",
                            wall_ms + left, where, s->len, s->date);
    memcpy(rec + off, s->bytes, s->len);
    off += s->len;
    rec[off++] = '\n';
    if (left > *ttl_ms)
      *ttl_ms = left;
  }
  *ttl_ms = *ttl_ms ? *ttl_ms : 1; /* Redis wants a positive PX */
  *out = rec;
  *len = off;
  return 0;
}

/* One MESSAGE of a record from @p p (before @p end). @return where the
 * next starts, or NULL: not a record's. */
static const char *
parse_entry(const char *p, const char *end, uint64_t *expires, cay__addr_t *src,
            const char **msg, size_t *len, char date[32])
{
  const char *eol = memchr(p, '\n', (size_t)(end - p));
  char line[160], *f[4], *save = NULL, *stop;
  unsigned n = 0;
  size_t avail;

  if (eol == NULL || (size_t)(eol - p) >= sizeof line)
    return NULL;
  memcpy(line, p, (size_t)(eol - p));
  line[eol - p] = '\0';
  for (char *t = strtok_r(line, "\t", &save); t && n < 4;
       t = strtok_r(NULL, "\t", &save))
    f[n++] = t;
  if (n != 4 || strlen(f[3]) >= 32)
    return NULL;
  *expires = strtoull(f[0], &stop, 10);
  if (*stop != '\0' || cay__addr_parse(src, f[1], 0) != 0)
    return NULL;
  avail = (size_t)(end - eol - 1); /* the bytes, then "\n" */
  *len = strtoull(f[2], &stop, 10);
  if (*stop != '\0' || *len == 0 || avail == 0 || *len > avail - 1
      || eol[1 + *len] != '\n')
    return NULL;
  memcpy(date, f[3], strlen(f[3]) + 1);
  *msg = eol + 1;
  return eol + 2 + *len;
}

int
cay__pager_store_restore(cay__sessions_t *ss, const char *aor, const char *rec,
                         size_t len, uint64_t wall_ms, unsigned *restored)
{
  const char *end = rec + len, *p = rec + strlen(RECORD_HEAD), *msg;
  uint64_t now = cay__shard_now(ss->shard), expires;
  cay__addr_t src;
  size_t mlen;
  char date[32];
  store_t *st;
  box_t *b;

  *restored = 0;
  if (len < strlen(RECORD_HEAD) || memcmp(rec, RECORD_HEAD, strlen(RECORD_HEAD))
      || strlen(aor) == 0 || strlen(aor) >= CAY__AOR_MAX)
    return -EINVAL;
  /* The whole record first: a damaged one restores nothing. */
  for (const char *q = p; q < end;)
    if ((q = parse_entry(q, end, &expires, &src, &msg, &mlen, date)) == NULL)
      return -EINVAL;
  if ((st = store_get(ss)) == NULL)
    return -ENOMEM;
  if (box_of(st, aor)) /* kept since the start: newer, written over it */
    return 0;
  while (p < end) {
    p = parse_entry(p, end, &expires, &src, &msg, &mlen, date);
    if (expires <= wall_ms)
      continue; /* expired while Cay was down */
    if (append(st, aor, msg, mlen, &src, now + (expires - wall_ms), date)
        != 0) {
      CAY_WARN(SHARD_NO(ss),
               "kept messages for %s not all restored: the shard keeps %u "
               "bytes at most, or no memory",
               aor, CAY__PAGER_STORE_MAX_BYTES);
      break;
    }
    (*restored)++;
  }
  if ((b = box_of(st, aor)) != NULL) {
    CAY_INFO(SHARD_NO(ss), "%u message(s) kept for %s restored", b->n, aor);
    arm(ss);
  }
  return 0;
}

void
cay__pager_store_each_aor(cay__sessions_t *ss,
                          void (*fn)(void *arg, const char *aor), void *arg)
{
  const cay__htab_t *t;

  if (ss->pager_store == NULL)
    return;
  t = &ss->pager_store->boxes;
  for (size_t i = 0; i < t->nbuckets; i++)
    for (const cay__hnode_t *n = t->buckets[i]; n; n = n->next)
      fn(arg, ((const box_t *)n)->aor);
}

void
cay__pager_store_fini(cay__sessions_t *ss)
{
  store_t *st = ss->pager_store;
  unsigned lost = 0;

  if (st == NULL)
    return;
  cay__shard_timer_stop(ss->shard, &st->t_expire);
  while (st->oldest) {
    lost++;
    drop_one(ss, st->oldest, 1);
  }
  if (lost && ss->store_msgs)
    CAY_INFO(SHARD_NO(ss),
             "%u kept message(s) for AORs not registered stay in "
             "registrar.store for the next start",
             lost);
  else if (lost)
    CAY_WARN(SHARD_NO(ss),
             "%u kept message(s) for AORs not registered are lost: without "
             "registrar.store Cay keeps them in memory only",
             lost);
  cay__htab_fini(&st->boxes);
  cay__free(st);
  ss->pager_store = NULL;
}
