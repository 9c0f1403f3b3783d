/*
 * Hashing and an intrusive chained hash table keyed by a 64-bit hash.
 *
 * The table never compares keys: callers walk the candidates with the same
 * hash and compare their own keys. It grows (doubling) when the count
 * exceeds the bucket count; a failed grow leaves it working, only slower.
 */
#ifndef CAY_CORE_HASH_H
#define CAY_CORE_HASH_H

#include <stddef.h>
#include <stdint.h>

/** 64-bit hash of bytes (FNV-1a based, stable across runs and hosts). */
uint64_t cay__hash(const void *data, size_t len);
/** Same, ASCII case-insensitive. */
uint64_t cay__hash_icase(const void *data, size_t len);
/** Combine two hashes. */
uint64_t cay__hash_mix(uint64_t a, uint64_t b);

#define CAY__HASH_KEYBYTES 16

/**
 * Keyed 64-bit hash of bytes (SipHash-2-4). Without @p key, nobody can
 * make two inputs collide on purpose, so the hash can stand for the bytes
 * where a collision by chance (2^-64 per pair) is harmless enough.
 * @param key  CAY__HASH_KEYBYTES random bytes. Borrowed.
 */
uint64_t cay__hash_keyed(const uint8_t *key, const void *data, size_t len);

/** Owner shard of a Call-ID (DESIGN.md rule 2): hash of the exact bytes. */
static inline unsigned
cay__callid_shard(const char *callid, size_t len, unsigned nshards)
{
  return nshards <= 1 ? 0 : (unsigned)(cay__hash(callid, len) % nshards);
}

typedef struct cay__hnode {
  struct cay__hnode *next;
  uint64_t hash;
} cay__hnode_t;

typedef struct cay__htab {
  cay__hnode_t **buckets;
  size_t nbuckets; /* power of two */
  size_t count;
} cay__htab_t;

/** @return 0 or -ENOMEM. @p initial is rounded up to a power of two. */
int cay__htab_init(cay__htab_t *t, size_t initial);
/** Frees the buckets; the nodes belong to their owners. */
void cay__htab_fini(cay__htab_t *t);
void cay__htab_insert(cay__htab_t *t, cay__hnode_t *n, uint64_t hash);
void cay__htab_remove(cay__htab_t *t, cay__hnode_t *n); /* n must be in t */
/** First node with @p hash, or NULL. */
cay__hnode_t *cay__htab_first(const cay__htab_t *t, uint64_t hash);
/** Next node after @p n with the same hash, or NULL. */
cay__hnode_t *cay__htab_next(const cay__hnode_t *n);

#endif
