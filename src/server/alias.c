/*
 * Call-ID aliases: a hash table of Call-ID -> owner shard, with a list of
 * every entry so that expired ones are swept at most once per linger_ms.
 */
#include "server/alias.h"

#include <errno.h>
#include <string.h>

#include "core/alloc.h"

struct cay__alias {
  cay__hnode_t hnode;
  cay__alias_t *prev, *next; /* a->all */
  unsigned shard;
  uint64_t expires; /* shard clock, ms; 0 = held */
  size_t len;
  char cid[];
};

#define ALIAS_OF(n)                                                            \
  ((cay__alias_t *)((char *)(n)-offsetof(cay__alias_t, hnode)))

int
cay__aliases_init(cay__aliases_t *a, uint64_t linger_ms)
{
  memset(a, 0, sizeof *a);
  a->linger_ms = linger_ms;
  return cay__htab_init(&a->tab, 16);
}

static void
drop(cay__aliases_t *a, cay__alias_t *e)
{
  cay__htab_remove(&a->tab, &e->hnode);
  if (e->prev)
    e->prev->next = e->next;
  else
    a->all = e->next;
  if (e->next)
    e->next->prev = e->prev;
  cay__free(e);
}

void
cay__aliases_fini(cay__aliases_t *a)
{
  while (a->all)
    drop(a, a->all);
  cay__htab_fini(&a->tab);
}

size_t
cay__aliases_count(const cay__aliases_t *a)
{
  return a->tab.count;
}

/* Remove the expired entries, at most once per linger_ms: the table stays
 * small without a timer of its own. */
static void
sweep(cay__aliases_t *a, uint64_t now)
{
  cay__alias_t *e, *next;

  if (now < a->next_sweep)
    return;
  a->next_sweep = now + a->linger_ms;
  for (e = a->all; e; e = next) {
    next = e->next;
    if (e->expires && e->expires <= now)
      drop(a, e);
  }
}

static cay__alias_t *
find(const cay__aliases_t *a, const char *cid, size_t len)
{
  for (cay__hnode_t *n = cay__htab_first(&a->tab, cay__hash(cid, len)); n;
       n = cay__htab_next(n)) {
    cay__alias_t *e = ALIAS_OF(n);
    if (e->len == len && memcmp(e->cid, cid, len) == 0)
      return e;
  }
  return NULL;
}

int
cay__aliases_lookup(cay__aliases_t *a, const char *cid, size_t len,
                    uint64_t now)
{
  cay__alias_t *e;

  if (a->tab.count == 0 || (e = find(a, cid, len)) == NULL)
    return -1;
  if (e->expires && e->expires <= now) {
    drop(a, e);
    return -1;
  }
  if (e->expires)
    e->expires = now + a->linger_ms;
  return (int)e->shard;
}

int
cay__aliases_set(cay__aliases_t *a, const char *cid, size_t len, unsigned shard,
                 int held, uint64_t now)
{
  cay__alias_t *e;

  sweep(a, now);
  e = find(a, cid, len);
  if (e == NULL) {
    if ((e = cay__malloc(sizeof *e + len)) == NULL)
      return -ENOMEM;
    e->len = len;
    memcpy(e->cid, cid, len);
    e->prev = NULL;
    e->next = a->all;
    if (a->all)
      a->all->prev = e;
    a->all = e;
    cay__htab_insert(&a->tab, &e->hnode, cay__hash(cid, len));
  } else if (e->expires == 0 && !held) {
    return 0;
  }
  e->shard = shard;
  e->expires = held ? 0 : now + a->linger_ms;
  return 0;
}

void
cay__aliases_release(cay__aliases_t *a, const char *cid, size_t len,
                     unsigned shard, uint64_t now)
{
  cay__alias_t *e = find(a, cid, len);

  if (e && e->shard == shard && e->expires == 0)
    e->expires = now + a->linger_ms;
  sweep(a, now);
}
