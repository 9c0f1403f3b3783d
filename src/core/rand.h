/*
 * The shard's random generator (DESIGN.md rule 6): ChaCha20 keystream
 * (libsodium) under a 32-byte key from getrandom(), so that a shard's tags,
 * branches and Call-IDs are strong (RFC 3261 section 19.3) and, given the
 * seed, replayable.
 */
#ifndef CAY_CORE_RAND_H
#define CAY_CORE_RAND_H

#include <stddef.h>
#include <stdint.h>

typedef struct cay__rand {
  uint8_t key[32];
  uint64_t nonce; /* block counter for the next refill */
  uint8_t buf[512];
  size_t pos; /* next unused byte in buf; sizeof buf = empty */
} cay__rand_t;

/** Seed from getrandom(). @return 0 or -errno. */
int cay__rand_init(cay__rand_t *r);
/** Seed deterministically (tests, replay). */
void cay__rand_seed(cay__rand_t *r, const uint8_t seed[32]);
void cay__rand_bytes(cay__rand_t *r, void *out, size_t n);
uint32_t cay__rand_u32(cay__rand_t *r);
uint64_t cay__rand_u64(cay__rand_t *r);
/**
 * Write @p nchars characters of [0-9a-z] then a NUL to @p out (which holds
 * nchars + 1 bytes). 10 characters carry more than 51 random bits.
 */
void cay__rand_token(cay__rand_t *r, char *out, size_t nchars);

#endif
