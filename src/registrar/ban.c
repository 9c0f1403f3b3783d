/*
 * Sources refused for a while after wrong credentials (ban.h): a
 * set-associative table of WAYS entries per set, a set chosen by a keyed
 * hash of the IP address (cay__hash_keyed()). A new address takes a free entry
 * of its set, else the least recently seen one that is not banned, else the
 * banned one whose ban ends first.
 */
#include "registrar/ban.h"

#include <string.h>

#include "core/alloc.h"

#define SETS 1024
#define WAYS 4

typedef struct entry {
  uint8_t ip[16];          /* IPv4 as ::ffff:a.b.c.d */
  uint64_t window_ms;      /* when its window opened; 0: a free entry */
  uint64_t last_ms;        /* its last refusal */
  uint64_t banned_till_ms; /* 0: not banned */
  unsigned failures;       /* in the window */
} entry_t;

struct cay__ban {
  uint8_t key[CAY__HASH_KEYBYTES];
  entry_t e[SETS][WAYS];
};

cay__ban_t *
cay__ban_new(const uint8_t key[CAY__HASH_KEYBYTES])
{
  cay__ban_t *b = cay__calloc(1, sizeof *b);

  if (b)
    memcpy(b->key, key, sizeof b->key);
  return b;
}

void
cay__ban_free(cay__ban_t *b)
{
  cay__free(b);
}

/* @p a's IP address as 16 bytes (IPv4 mapped into IPv6). */
static void
ip_of(const cay__addr_t *a, uint8_t ip[16])
{
  if (a->u.sa.sa_family == AF_INET6) {
    memcpy(ip, &a->u.sin6.sin6_addr, 16);
    return;
  }
  memset(ip, 0, 10);
  ip[10] = ip[11] = 0xff;
  memcpy(ip + 12, &a->u.sin.sin_addr, 4);
}

/* The set of @p ip. */
static entry_t *
set_of(const cay__ban_t *b, const uint8_t ip[16])
{
  return (entry_t *)b->e[cay__hash_keyed(b->key, ip, 16) % SETS];
}

static entry_t *
find(const cay__ban_t *b, const uint8_t ip[16])
{
  entry_t *set = set_of(b, ip);

  for (int w = 0; w < WAYS; w++)
    if (set[w].window_ms && memcmp(set[w].ip, ip, 16) == 0)
      return &set[w];
  return NULL;
}

uint64_t
cay__ban_left(const cay__ban_t *b, const cay__addr_t *src, uint64_t now_ms)
{
  uint8_t ip[16];
  const entry_t *e;

  ip_of(src, ip);
  e = find(b, ip);
  return e && e->banned_till_ms > now_ms ? e->banned_till_ms - now_ms : 0;
}

/* Whether entry @p e is to go before @p v: one not banned before a
 * banned one; of two not banned, the one seen last longer ago; of two
 * banned, the one whose ban ends first. */
static int
goes_first(const entry_t *e, const entry_t *v, uint64_t now_ms)
{
  int eb = e->banned_till_ms > now_ms, vb = v->banned_till_ms > now_ms;

  if (eb != vb)
    return !eb;
  return eb ? e->banned_till_ms < v->banned_till_ms : e->last_ms < v->last_ms;
}

/* The entry a new address takes in @p set at @p now_ms: a free one, or
 * the one to go first. */
static entry_t *
victim(entry_t *set, uint64_t now_ms)
{
  entry_t *v = &set[0];

  for (int w = 0; w < WAYS; w++) {
    if (set[w].window_ms == 0)
      return &set[w];
    if (goes_first(&set[w], v, now_ms))
      v = &set[w];
  }
  return v;
}

/* The entry of @p src (its IP address in @p ip), a new one when it has
 * none (taking the place of victim()). */
static entry_t *
entry_of(cay__ban_t *b, const cay__addr_t *src, uint8_t ip[16], uint64_t now_ms)
{
  entry_t *e;

  ip_of(src, ip);
  if ((e = find(b, ip)) == NULL) {
    e = victim(set_of(b, ip), now_ms);
    memset(e, 0, sizeof *e);
    memcpy(e->ip, ip, 16);
  }
  return e;
}

void
cay__ban_set(cay__ban_t *b, const cay__addr_t *src, uint64_t now_ms,
             uint64_t ban_ms)
{
  uint8_t ip[16];
  entry_t *e = entry_of(b, src, ip, now_ms);

  if (e->window_ms == 0) { /* new: an empty window */
    e->window_ms = now_ms ? now_ms : 1;
    e->failures = 0;
  }
  e->last_ms = now_ms;
  if (e->banned_till_ms < now_ms + ban_ms)
    e->banned_till_ms = now_ms + ban_ms;
}

int
cay__ban_failure(cay__ban_t *b, const cay__addr_t *src, uint64_t now_ms,
                 unsigned failures, uint64_t window_ms, uint64_t ban_ms)
{
  uint8_t ip[16];
  entry_t *e = entry_of(b, src, ip, now_ms);

  if (e->window_ms == 0 || now_ms >= e->window_ms + window_ms) {
    e->window_ms = now_ms ? now_ms : 1;
    e->failures = 0;
  }
  e->last_ms = now_ms;
  if (e->banned_till_ms > now_ms || ++e->failures < failures)
    return 0;
  e->banned_till_ms = now_ms + ban_ms;
  e->failures = 0;
  return 1;
}
