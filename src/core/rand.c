/*
 * The shard's random generator: ChaCha20 keystream (libsodium).
 *
 * Each refill fills buf with the keystream of the original ChaCha20
 * (64-bit nonce) under the shard's key, with the nonce set to a counter
 * that goes up by one per refill. A (key, nonce) pair is never reused, and
 * 2^64 refills will not run out. The nonce is encoded little-endian so that
 * one seed gives the same stream on every host (replay, DESIGN.md rule 6).
 *
 * The key stays in memory for the shard's life, so this generator does not
 * protect earlier outputs from someone who can read the shard's memory;
 * tags, branches and Call-IDs are public once sent, so that is no loss.
 */
#include "core/rand.h"

#include <errno.h>
#include <string.h>
#include <sys/random.h>

#include <sodium.h>

#include "core/log.h"

static void
refill(cay__rand_t *r)
{
  unsigned char nonce[crypto_stream_chacha20_NONCEBYTES];
  uint64_t n = r->nonce++;

  for (size_t i = 0; i < sizeof nonce; i++)
    nonce[i] = (unsigned char)(n >> (8 * i));
  crypto_stream_chacha20(r->buf, sizeof r->buf, nonce, r->key);
  r->pos = 0;
}

void
cay__rand_seed(cay__rand_t *r, const uint8_t seed[32])
{
  memcpy(r->key, seed, sizeof r->key);
  r->nonce = 0;
  /* Empty: the first draw refills, so seeding costs no ChaCha20 block. */
  r->pos = sizeof r->buf;
}

int
cay__rand_init(cay__rand_t *r)
{
  uint8_t seed[32];
  size_t got = 0;

  /* sodium_init() is not needed for crypto_stream_chacha20 (libsodium
   * starts with its portable implementation), but it selects the SIMD one.
   * It is idempotent and thread-safe; if it fails, the portable code still
   * gives the same keystream, so a failure is not an error here. */
  if (sodium_init() < 0)
    CAY_DEBUG(-1, "sodium_init failed; using portable ChaCha20");

  /* getrandom() with flags 0 blocks only until the kernel pool is first
   * initialised, which is long past by the time a server starts. Requests
   * of at most 256 bytes are not cut short, but a signal can still
   * interrupt the call before it copies anything. */
  while (got < sizeof seed) {
    ssize_t n = getrandom(seed + got, sizeof seed - got, 0);
    if (n < 0) {
      if (errno == EINTR)
        continue;
      int err = -errno;
      sodium_memzero(seed, sizeof seed);
      return err;
    }
    got += (size_t)n;
  }
  cay__rand_seed(r, seed);
  sodium_memzero(seed, sizeof seed);
  return 0;
}

void
cay__rand_bytes(cay__rand_t *r, void *out, size_t n)
{
  unsigned char *p = out;

  while (n > 0) {
    if (r->pos >= sizeof r->buf)
      refill(r);
    size_t k = sizeof r->buf - r->pos;
    if (k > n)
      k = n;
    memcpy(p, r->buf + r->pos, k);
    r->pos += k;
    p += k;
    n -= k;
  }
}

/* The next @p n (<= 8) keystream bytes as a little-endian number, so that
 * a seed gives the same values on any machine. */
static uint64_t
next_le(cay__rand_t *r, size_t n)
{
  unsigned char b[8];
  uint64_t v = 0;

  cay__rand_bytes(r, b, n);
  for (size_t i = 0; i < n; i++)
    v |= (uint64_t)b[i] << (8 * i);
  return v;
}

uint32_t
cay__rand_u32(cay__rand_t *r)
{
  return (uint32_t)next_le(r, 4);
}

uint64_t
cay__rand_u64(cay__rand_t *r)
{
  return next_le(r, 8);
}

void
cay__rand_token(cay__rand_t *r, char *out, size_t nchars)
{
  static const char alphabet[] = "0123456789abcdefghijklmnopqrstuvwxyz";
  /* 252 = 7 * 36 is the largest multiple of 36 that fits in a byte. Bytes
   * from 252 up are drawn again, so each of the 36 characters comes from
   * exactly 7 byte values and b % 36 has no modulo bias. A character
   * carries log2(36) > 5.16 bits, so 7 of them meet the 32 bits that
   * RFC 3261 section 19.3 asks of a tag. */
  size_t i = 0;

  /* Bytes are drawn a block at a time: one cay__rand_bytes() per byte cost
   * more than the ChaCha20 keystream itself. */
  while (i < nchars) {
    unsigned char b[32];
    size_t want = nchars - i < sizeof b ? nchars - i : sizeof b;

    cay__rand_bytes(r, b, want);
    for (size_t k = 0; k < want; k++) {
      if (b[k] < 252)
        out[i++] = alphabet[b[k] % 36];
    }
  }
  out[nchars] = '\0';
}
