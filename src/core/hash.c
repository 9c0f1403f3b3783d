/*
 * FNV-1a hashing and the intrusive chained hash table.
 *
 * Plain FNV-1a has weak low bits: each step multiplies by an odd constant,
 * so the low k bits of the result depend only on the low k bits of the
 * input bytes. The table masks with a power of two and the Call-ID router
 * takes the hash modulo the shard count, so both read exactly those bits.
 * cay__hash therefore runs the FNV-1a state through MurmurHash3's 64-bit
 * finalizer (fmix64), a bijection that spreads every input bit over the
 * whole word without adding collisions.
 */
#include "core/hash.h"

#include <assert.h>
#include <errno.h>
#include <sodium.h>

#include "core/alloc.h"

#define FNV64_OFFSET 0xcbf29ce484222325ULL
#define FNV64_PRIME  0x100000001b3ULL

static uint64_t
fmix64(uint64_t h)
{
  h ^= h >> 33;
  h *= 0xff51afd7ed558ccdULL;
  h ^= h >> 33;
  h *= 0xc4ceb9fe1a85ec53ULL;
  h ^= h >> 33;
  return h;
}

uint64_t
cay__hash(const void *data, size_t len)
{
  const unsigned char *p = data;
  uint64_t h = FNV64_OFFSET;

  for (size_t i = 0; i < len; i++) {
    h ^= p[i];
    h *= FNV64_PRIME;
  }
  return fmix64(h);
}

uint64_t
cay__hash_icase(const void *data, size_t len)
{
  const unsigned char *p = data;
  uint64_t h = FNV64_OFFSET;

  /* Fold ASCII only: SIP tokens that compare case-insensitively (header
   * names, methods, hosts; RFC 3261 section 7.3.1) are ASCII, and folding
   * by locale would make the hash differ between hosts. */
  for (size_t i = 0; i < len; i++) {
    unsigned char c = p[i];
    if (c >= 'A' && c <= 'Z')
      c = (unsigned char)(c - 'A' + 'a');
    h ^= c;
    h *= FNV64_PRIME;
  }
  return fmix64(h);
}

uint64_t
cay__hash_mix(uint64_t a, uint64_t b)
{
  /* The 64-bit form of boost's hash_combine, finalized: order matters, so
   * mix(a, b) != mix(b, a), and mix(x, x) is not 0 as a ^ b would be. */
  a ^= b + 0x9e3779b97f4a7c15ULL + (a << 6) + (a >> 2);
  return fmix64(a);
}

uint64_t
cay__hash_keyed(const uint8_t *key, const void *data, size_t len)
{
  unsigned char out[crypto_shorthash_siphash24_BYTES];
  uint64_t h = 0;

  _Static_assert(CAY__HASH_KEYBYTES == crypto_shorthash_siphash24_KEYBYTES,
                 "SipHash key size");
  crypto_shorthash_siphash24(out, data, len, key);
  for (size_t i = 0; i < sizeof out; i++)
    h |= (uint64_t)out[i] << (8 * i);
  return h;
}

static size_t
bucket_of(size_t nbuckets, uint64_t hash)
{
  return (size_t)(hash & (uint64_t)(nbuckets - 1));
}

int
cay__htab_init(cay__htab_t *t, size_t initial)
{
  size_t n = 1;

  while (n < initial) {
    if (n > SIZE_MAX / 2 / sizeof *t->buckets)
      return -ENOMEM;
    n <<= 1;
  }
  t->buckets = cay__calloc(n, sizeof *t->buckets);
  if (t->buckets == NULL)
    return -ENOMEM;
  t->nbuckets = n;
  t->count = 0;
  return 0;
}

void
cay__htab_fini(cay__htab_t *t)
{
  cay__free(t->buckets);
  t->buckets = NULL;
  t->nbuckets = 0;
  t->count = 0;
}

/* Double the bucket array and relink every node. On failure the table
 * keeps its old buckets: chains get longer, nothing is lost, and the next
 * insert tries again. */
static void
grow_buckets(cay__htab_t *t)
{
  if (t->nbuckets > SIZE_MAX / 2 / sizeof *t->buckets)
    return;
  size_t n = t->nbuckets * 2;
  cay__hnode_t **b = cay__calloc(n, sizeof *b);
  if (b == NULL)
    return;
  for (size_t i = 0; i < t->nbuckets; i++) {
    cay__hnode_t *node = t->buckets[i];
    while (node != NULL) {
      cay__hnode_t *next = node->next;
      size_t j = bucket_of(n, node->hash);
      node->next = b[j];
      b[j] = node;
      node = next;
    }
  }
  cay__free(t->buckets);
  t->buckets = b;
  t->nbuckets = n;
}

void
cay__htab_insert(cay__htab_t *t, cay__hnode_t *n, uint64_t hash)
{
  size_t i = bucket_of(t->nbuckets, hash);

  n->hash = hash;
  n->next = t->buckets[i];
  t->buckets[i] = n;
  t->count++;
  /* Keep the load factor at or below 1 so chains stay short on average. */
  if (t->count > t->nbuckets)
    grow_buckets(t);
}

void
cay__htab_remove(cay__htab_t *t, cay__hnode_t *n)
{
  cay__hnode_t **pp = &t->buckets[bucket_of(t->nbuckets, n->hash)];

  while (*pp != NULL && *pp != n)
    pp = &(*pp)->next;
  assert(*pp == n); /* Removing a node that is not in t is our bug. */
  if (*pp == NULL)
    return;
  *pp = n->next;
  n->next = NULL;
  t->count--;
}

/* Nodes with the same hash always share a bucket, so the rest of a chain
 * holds every later candidate. */
static cay__hnode_t *
find_from(cay__hnode_t *n, uint64_t hash)
{
  while (n != NULL && n->hash != hash)
    n = n->next;
  return n;
}

cay__hnode_t *
cay__htab_first(const cay__htab_t *t, uint64_t hash)
{
  return find_from(t->buckets[bucket_of(t->nbuckets, hash)], hash);
}

cay__hnode_t *
cay__htab_next(const cay__hnode_t *n)
{
  return find_from(n->next, n->hash);
}
