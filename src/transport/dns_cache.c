/* The resolver's cache (dns_cache.h): a chained hash table of entries on
 * an LRU list, and the TTL of a DNS message. */
#include "transport/dns_cache.h"

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <strings.h>

#include "core/alloc.h"
#include "core/hash.h"

#define NAME_MAX_BYTES 255

typedef struct entry {
  cay__hnode_t node;
  struct entry *prev, *next; /* LRU: the head was used last */
  uint64_t expires_ms;
  int type;
  int status;
  size_t len;
  char name[NAME_MAX_BYTES + 1]; /* lower case */
  unsigned char data[];
} entry_t;

struct cay__dns_cache {
  cay__htab_t table;
  entry_t *head, *tail;
  unsigned count, max_entries;
  unsigned max_ttl_s;
};

int
cay__dns_cache_create(cay__dns_cache_t **out, unsigned max_entries,
                      unsigned max_ttl_s)
{
  cay__dns_cache_t *c;

  *out = NULL;
  if (max_entries == 0 || max_ttl_s == 0)
    return -EINVAL;
  c = cay__calloc(1, sizeof *c);
  if (c == NULL)
    return -ENOMEM;
  if (cay__htab_init(&c->table, max_entries < 1024 ? max_entries : 1024) != 0) {
    cay__free(c);
    return -ENOMEM;
  }
  c->max_entries = max_entries;
  c->max_ttl_s = max_ttl_s;
  *out = c;
  return 0;
}

static void
lru_unlink(cay__dns_cache_t *c, entry_t *e)
{
  if (e->prev)
    e->prev->next = e->next;
  else
    c->head = e->next;
  if (e->next)
    e->next->prev = e->prev;
  else
    c->tail = e->prev;
  e->prev = e->next = NULL;
}

static void
lru_push(cay__dns_cache_t *c, entry_t *e)
{
  e->prev = NULL;
  e->next = c->head;
  if (c->head)
    c->head->prev = e;
  else
    c->tail = e;
  c->head = e;
}

static void
drop(cay__dns_cache_t *c, entry_t *e)
{
  lru_unlink(c, e);
  cay__htab_remove(&c->table, &e->node);
  c->count--;
  cay__free(e);
}

void
cay__dns_cache_free(cay__dns_cache_t *c)
{
  if (c == NULL)
    return;
  while (c->head)
    drop(c, c->head);
  cay__htab_fini(&c->table);
  cay__free(c);
}

/* The key's hash, and @p name in lower case in @p low. @return its length,
 * or 0 when it cannot be a key. */
static size_t
key(int type, const char *name, char low[NAME_MAX_BYTES + 1], uint64_t *h)
{
  size_t n = strnlen(name, NAME_MAX_BYTES + 1);

  if (n == 0 || n > NAME_MAX_BYTES)
    return 0;
  for (size_t i = 0; i < n; i++)
    low[i] = (char)tolower((unsigned char)name[i]);
  low[n] = '\0';
  *h = cay__hash_mix(cay__hash(low, n), (uint64_t)(unsigned)type);
  return n;
}

static entry_t *
find(const cay__dns_cache_t *c, int type, const char *low, uint64_t h)
{
  for (cay__hnode_t *n = cay__htab_first(&c->table, h); n;
       n = cay__htab_next(n)) {
    entry_t *e = (entry_t *)n;
    if (e->type == type && strcmp(e->name, low) == 0)
      return e;
  }
  return NULL;
}

int
cay__dns_cache_put(cay__dns_cache_t *c, int type, const char *name, int status,
                   const void *data, size_t len, uint32_t ttl_s,
                   uint64_t now_ms)
{
  char low[NAME_MAX_BYTES + 1];
  uint64_t h;
  entry_t *e;

  if (key(type, name, low, &h) == 0 || ttl_s == 0
      || len > CAY__DNS_CACHE_MAX_DATA)
    return 0;
  if ((e = find(c, type, low, h)) != NULL)
    drop(c, e);
  e = cay__malloc(sizeof *e + len);
  if (e == NULL)
    return -ENOMEM;
  if (c->count >= c->max_entries)
    drop(c, c->tail);
  memset(e, 0, sizeof *e);
  strcpy(e->name, low);
  e->type = type;
  e->status = status;
  e->len = len;
  if (len)
    memcpy(e->data, data, len);
  if (ttl_s > c->max_ttl_s)
    ttl_s = c->max_ttl_s;
  e->expires_ms = now_ms + (uint64_t)ttl_s * 1000;
  cay__htab_insert(&c->table, &e->node, h);
  lru_push(c, e);
  c->count++;
  return 1;
}

int
cay__dns_cache_get(cay__dns_cache_t *c, int type, const char *name,
                   uint64_t now_ms, int *status, void *data, size_t *len)
{
  char low[NAME_MAX_BYTES + 1];
  uint64_t h;
  entry_t *e;

  if (key(type, name, low, &h) == 0 || (e = find(c, type, low, h)) == NULL)
    return 0;
  if (now_ms >= e->expires_ms) {
    drop(c, e);
    return 0;
  }
  lru_unlink(c, e);
  lru_push(c, e);
  if (data) {
    *status = e->status;
    memcpy(data, e->data, e->len);
    *len = e->len;
  }
  return 1;
}

int
cay__dns_cache_remove(cay__dns_cache_t *c, int type, const char *name)
{
  char low[NAME_MAX_BYTES + 1];
  uint64_t h;
  entry_t *e;

  if (key(type, name, low, &h) == 0 || (e = find(c, type, low, h)) == NULL)
    return 0;
  drop(c, e);
  return 1;
}

unsigned
cay__dns_cache_count(const cay__dns_cache_t *c)
{
  return c->count;
}

/* -- the TTL of a message ---------------------------------------------------
 */

static unsigned
get16(const unsigned char *p)
{
  return (unsigned)p[0] << 8 | p[1];
}

static uint32_t
get32(const unsigned char *p)
{
  return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8
         | p[3];
}

/* RFC 1035 section 4.1.4: a name is labels ending in a zero octet or in a
 * pointer. @return the offset past the name at @p off, or 0 if malformed. */
static size_t
skip_name(const unsigned char *m, size_t len, size_t off)
{
  for (int labels = 0; labels < 128 && off < len; labels++) {
    unsigned b = m[off];
    if (b == 0)
      return off + 1;
    if ((b & 0xC0) == 0xC0)
      return off + 2 <= len ? off + 2 : 0;
    if (b & 0xC0)
      return 0; /* 0x40 and 0x80: no such label type (RFC 6891 6.1) */
    off += 1 + b;
  }
  return 0;
}

/* The resource record at @p *off: its type, TTL (RFC 2181 section 8),
 * RDATA; @p *off moves past it. @return 0, or -1 if malformed. */
static int
read_rr(const unsigned char *m, size_t len, size_t *off, unsigned *type,
        uint32_t *ttl, const unsigned char **rdata, size_t *rdlen)
{
  size_t o = skip_name(m, len, *off);

  if (o == 0 || o + 10 > len)
    return -1;
  *type = get16(m + o);
  *ttl = get32(m + o + 4);
  if (*ttl & 0x80000000u)
    *ttl = 0;
  *rdlen = get16(m + o + 8);
  if (o + 10 + *rdlen > len)
    return -1;
  *rdata = m + o + 10;
  *off = o + 10 + *rdlen;
  return 0;
}

int
cay__dns_msg_ttl(const unsigned char *m, size_t len, uint32_t *ttl_s)
{
  size_t off = 12, rdlen;
  unsigned qd, an, ns, rcode, type;
  const unsigned char *rdata;
  uint32_t ttl, best = UINT32_MAX;

  if (len < 12 || (m[2] & 0x02)) /* TC: only part of the answer */
    return -1;
  rcode = m[3] & 0x0F;
  qd = get16(m + 4);
  an = get16(m + 6);
  ns = get16(m + 8);
  if (rcode != 0 && rcode != 3)
    return -1;
  for (unsigned i = 0; i < qd; i++) {
    off = skip_name(m, len, off);
    if (off == 0 || off + 4 > len)
      return -1;
    off += 4;
  }
  if (an > 0 && rcode == 0) {
    for (unsigned i = 0; i < an; i++) {
      if (read_rr(m, len, &off, &type, &ttl, &rdata, &rdlen) != 0)
        return -1;
      if (ttl < best)
        best = ttl;
    }
    *ttl_s = best;
    return 0;
  }
  for (unsigned i = 0; i < an; i++) /* NXDOMAIN with a CNAME chain */
    if (read_rr(m, len, &off, &type, &ttl, &rdata, &rdlen) != 0)
      return -1;
  for (unsigned i = 0; i < ns; i++) {
    size_t o;
    if (read_rr(m, len, &off, &type, &ttl, &rdata, &rdlen) != 0)
      return -1;
    if (type != 6 /* SOA */)
      continue;
    /* MNAME, RNAME, then SERIAL REFRESH RETRY EXPIRE MINIMUM */
    o = skip_name(rdata, rdlen, 0); /* a pointer is stepped over */
    o = o ? skip_name(rdata, rdlen, o) : 0;
    if (o == 0 || o + 20 > rdlen)
      return -1;
    {
      uint32_t minimum = get32(rdata + o + 16);
      if (minimum & 0x80000000u)
        minimum = 0;
      *ttl_s = ttl < minimum ? ttl : minimum;
      return 0;
    }
  }
  return -1;
}
